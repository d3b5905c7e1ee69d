package io.tapline.serde;

import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryClient;
import io.tapline.registry.SchemaRegistryException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Serializes Avro specific records in the Confluent wire format, registering (or looking up) the record's schema
 * under {@code <topic>-value} or {@code <topic>-key}. Configure it like Confluent's serializer:
 * {@code schema.registry.url}, {@code basic.auth.user.info}, {@code auto.register.schemas}, ...
 *
 * <p>The first record of a topic costs a registry call; after that the id is cached. Thread-safe.
 */
public class TaplineAvroSerializer<T extends SpecificRecord> implements Serializer<T> {

    private SchemaRegistryClient registry;
    private boolean isKey;
    private final Map<Schema, SpecificDatumWriter<T>> writers = new ConcurrentHashMap<>();

    /** For Kafka's reflective construction; {@link #configure} must follow. */
    public TaplineAvroSerializer() {
    }

    public TaplineAvroSerializer(SchemaRegistryClient registry, boolean isKey) {
        this.registry = registry;
        this.isKey = isKey;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        if (registry != null && !configs.containsKey(RegistryConfig.URL)) {
            return; // built with a client already; Kafka Streams may still call configure on wrapped serdes
        }
        this.registry = new SchemaRegistryClient(RegistryConfig.fromMap(configs));
        this.isKey = isKey;
    }

    @Override
    public byte[] serialize(String topic, T data) {
        if (data == null) {
            return null;
        }
        if (registry == null) {
            throw new IllegalStateException("TaplineAvroSerializer used before configure()");
        }
        Schema schema = data.getSchema();
        String subject = Subjects.subject(topic, isKey);
        int id;
        try {
            // cached by the client: the steady state makes no registry call
            id = registry.config().autoRegister() ? registry.register(subject, schema) : registry.lookUp(subject, schema);
        } catch (RuntimeException e) { // a SchemaRegistryException, or anything else the registry call threw
            throw new SerializationException("cannot serialize " + schema.getFullName() + " for topic " + topic
                    + ": " + e.getMessage(), e);
        }
        SpecificDatumWriter<T> writer = writers.computeIfAbsent(schema, SpecificDatumWriter::new);
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.write(WireFormat.MAGIC_BYTE);
        out.write(id >>> 24);
        out.write(id >>> 16);
        out.write(id >>> 8);
        out.write(id);
        try {
            // buffered: the stream gets a few large writes, not one synchronized write per field
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            writer.write(data, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot encode " + schema.getFullName() + " for subject " + subject
                    + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }
}
