package io.tapline.serde;

import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryClient;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Deserializes Confluent-wire-format Avro into generated specific classes. The writer's schema is fetched from the
 * registry by the id in the record, then resolved against the reader's (generated) schema, so records written with
 * an older or newer compatible schema decode. The reader class is the one named by {@code type} when given,
 * otherwise the generated class with the writer schema's full name. Thread-safe.
 */
public class TaplineAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {

    /** Most schema ids whose refusal is remembered. */
    static final int MAX_REFUSED_WRITERS = 1024;

    private SchemaRegistryClient registry;
    private Class<T> type;
    private final Map<Integer, SpecificDatumReader<T>> readers = new ConcurrentHashMap<>();
    /**
     * Why the writer schema of an id was refused ({@link BoundedDecoder#checkWriterSchema}), so that each record of it
     * is refused without walking the schema again: an id always names the same schema. At most
     * {@value #MAX_REFUSED_WRITERS} ids; past them a refused schema is walked for each of its records.
     */
    private final Map<Integer, String> refusedWriters = new ConcurrentHashMap<>();
    /** How many writer schemas {@link BoundedDecoder#checkWriterSchema} walked. */
    private final LongAdder writerSchemaWalks = new LongAdder();

    /** For Kafka's reflective construction; {@link #configure} must follow. */
    public TaplineAvroDeserializer() {
    }

    public TaplineAvroDeserializer(SchemaRegistryClient registry, Class<T> type) {
        this.registry = registry;
        this.type = type;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        if (registry != null && !configs.containsKey(RegistryConfig.URL)) {
            return; // built with a client already; Kafka Streams may still call configure on wrapped serdes
        }
        this.registry = new SchemaRegistryClient(RegistryConfig.fromMap(configs));
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (registry == null) {
            throw new IllegalStateException("TaplineAvroDeserializer used before configure()");
        }
        int id = WireFormat.schemaId(topic, data);
        // An id read before is taken without computeIfAbsent: that locks the id's bucket of the map when the id is not
        // its first entry, and another id of the bucket being fetched from a registry that does not answer would hold
        // it for that call's whole length (every stream thread reading a known id of that bucket stalled with it)
        SpecificDatumReader<T> reader = readers.get(id);
        try {
            if (reader == null) {
                String refused = refusedWriters.get(id);
                if (refused != null) {
                    throw new IllegalArgumentException(refused);
                }
                reader = readers.computeIfAbsent(id, this::readerFor);
            }
        } catch (SerializationException e) {
            throw e;
        } catch (RuntimeException e) {
            // A SchemaRegistryException (its schemaProblem() tells callers whether the record is at fault),
            // or a writer schema that cannot be resolved against the reader's.
            throw new SerializationException("cannot decode record on topic " + topic + " with schema id " + id
                    + ": " + e.getMessage(), e);
        }
        int length = data.length - WireFormat.HEADER_SIZE;
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, WireFormat.HEADER_SIZE, length, null);
        T value;
        int left;
        try {
            value = reader.read(null, new BoundedDecoder(decoder, length));
            left = decoder.isEnd() ? 0 : decoder.inputStream().available();
        } catch (BoundedDecoder.LimitExceeded e) {
            String field = BoundedDecoder.refusedField(reader.getSchema(), reader.getExpected(), data,
                    WireFormat.HEADER_SIZE, length);
            throw new SerializationException("record on topic " + topic + " with schema id " + id + " declares "
                    + e.getMessage() + (field == null ? "" : " (field " + field + ")")
                    + ": it is corrupt, refused before allocating for it", e);
        } catch (IOException | RuntimeException e) {
            // Corrupt bytes surface as many exception types (AvroRuntimeException, ClassCastException,
            // IndexOutOfBounds, UnsupportedOperationException for an absurd string length...): all are the record's.
            throw new SerializationException("cannot decode record on topic " + topic + " with schema id " + id
                    + " into " + reader.getExpected().getFullName() + ": " + e, e);
        }
        if (left > 0) {
            // Bytes no field took: the datum was not written with this schema (a producer that framed it with another
            // id), and what did decode would be read as fields it never was.
            throw new SerializationException("record on topic " + topic + " has " + left + " bytes after its datum of "
                    + "schema id " + id + ": it was not written with that schema");
        }
        return value;
    }

    private SpecificDatumReader<T> readerFor(int id) {
        Schema writer = registry.schemaById(id);
        writerSchemaWalks.increment();
        try {
            BoundedDecoder.checkWriterSchema(writer);
        } catch (IllegalArgumentException e) {
            if (refusedWriters.size() < MAX_REFUSED_WRITERS) {
                refusedWriters.put(id, e.getMessage());
            }
            throw e;
        }
        Schema reader = readerSchema(writer);
        SpecificDatumReader<T> datumReader = new SpecificDatumReader<>(writer, reader);
        return datumReader;
    }

    /** How many writer schemas were walked to check that a decode of theirs is bounded. */
    long writerSchemaWalks() {
        return writerSchemaWalks.sum();
    }

    private Schema readerSchema(Schema writer) {
        if (type != null) {
            return SpecificData.get().getSchema(type);
        }
        Class<?> generated = SpecificData.get().getClass(writer);
        if (generated == null) {
            throw new SerializationException("no generated class for writer schema " + writer.getFullName()
                    + "; is this a Tapline topic?");
        }
        return SpecificData.get().getSchema(generated);
    }
}
