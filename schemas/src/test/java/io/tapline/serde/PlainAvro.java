package io.tapline.serde;

import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * For tests that read back what a component published to a {@code MockProducer}: a record as plain Avro binary, no
 * registry and no wire-format header, so a {@code SpecificDatumReader} of its class reads it.
 */
public final class PlainAvro {

    public static final Serializer<SpecificRecord> SERIALIZER = (topic, data) -> {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            new SpecificDatumWriter<SpecificRecord>(data.getSchema()).write(data, enc);
            enc.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    };

    private PlainAvro() {
    }
}
