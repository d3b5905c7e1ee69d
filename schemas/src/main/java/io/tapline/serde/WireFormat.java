package io.tapline.serde;

import org.apache.kafka.common.errors.SerializationException;

import java.nio.ByteBuffer;

/**
 * The Confluent wire format: one magic byte (0), the schema's global id as a 4-byte big-endian integer,
 * then the Avro binary encoding of the datum.
 */
public final class WireFormat {

    public static final byte MAGIC_BYTE = 0;
    public static final int HEADER_SIZE = 5;

    private WireFormat() {
    }

    /** Reads the schema id from a framed record, rejecting anything that is not in the wire format. */
    public static int schemaId(String topic, byte[] framed) {
        if (framed.length < HEADER_SIZE) {
            throw new SerializationException("record on topic " + topic + " is " + framed.length
                    + " bytes, shorter than the 5-byte Confluent wire-format header");
        }
        if (framed[0] != MAGIC_BYTE) {
            throw new SerializationException("record on topic " + topic + " starts with byte "
                    + String.format("0x%02x", framed[0] & 0xFF) + ", not the Confluent wire-format magic byte 0x00");
        }
        return ByteBuffer.wrap(framed, 1, 4).getInt();
    }

    static void writeHeader(ByteBuffer target, int schemaId) {
        target.put(MAGIC_BYTE).putInt(schemaId);
    }
}
