package io.tapline.sidecar.impl;

import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Confluent wire format (magic 0, 4-byte schema id, Avro binary) with the schema id resolved once.
 * The first record of each topic goes through the registry-backed serializer (which registers the schema); its
 * id is read back from the bytes and reused, so the steady state costs only the Avro encoding. (The shared
 * registry client keys its id cache by the schema's JSON text, which it re-renders for every record: measured
 * as the publisher thread's largest cost.) Used by the single publisher thread only.
 */
final class CachedIdSerializer<T extends SpecificRecord> implements Serializer<T> {

    private final Serializer<T> registering;
    private final Schema schema;
    private final SpecificDatumWriter<T> writer;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
    private BinaryEncoder encoder;
    private String topic;
    private int id = -1;

    CachedIdSerializer(Serializer<T> registering, Schema schema) {
        this.registering = registering;
        this.schema = schema;
        this.writer = new SpecificDatumWriter<>(schema);
    }

    @Override
    public byte[] serialize(String topic, T data) {
        if (data == null) {
            return null;
        }
        if (id < 0 || !topic.equals(this.topic) || data.getSchema() != schema) {
            byte[] bytes = registering.serialize(topic, data);
            if (data.getSchema() == schema && bytes != null && bytes.length >= 5 && bytes[0] == 0) {
                this.id = ((bytes[1] & 0xff) << 24) | ((bytes[2] & 0xff) << 16) | ((bytes[3] & 0xff) << 8) | (bytes[4] & 0xff);
                this.topic = topic;
            }
            return bytes;
        }
        out.reset();
        out.write(0);
        out.write(id >>> 24);
        out.write(id >>> 16);
        out.write(id >>> 8);
        out.write(id);
        try {
            encoder = EncoderFactory.get().binaryEncoder(out, encoder);
            writer.write(data, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot encode " + schema.getFullName() + " for topic " + topic + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    @Override
    public void close() {
        registering.close();
    }
}
