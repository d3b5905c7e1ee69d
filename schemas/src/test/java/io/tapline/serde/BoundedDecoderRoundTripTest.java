package io.tapline.serde;

import io.tapline.registry.RegistryConfig;
import io.tapline.registry.RegistryStub;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every record type of the contracts, with generated valid content (empty and large collections, empty and long
 * strings and bytes, each union branch), decodes through the bounded reader to what was written: in one block per
 * collection, in many blocks that carry their size in bytes (the negative count form), beside a field only the writer
 * has (skipped), and without a defaulted field the writer lacks (its default taken).
 */
class BoundedDecoderRoundTripTest {

    private static final List<String> RECORDS = List.of("Header", "HttpRequest", "HttpResponse", "OutboundCall",
            "Redaction", "Sampling", "Interaction", "SignatureParts", "Case", "NoisyField", "NoiseProfile", "Difference",
            "MockCall", "MockUsage", "ReplayResult", "RunBounds", "RunSummary", "RunEvent", "UnattributedCall");
    /** A field only the writer has, of every kind the reader must skip. */
    private static final String EXTRA = "{\"name\":\"extra\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\","
            + "\"items\":[\"null\",\"string\",\"bytes\",{\"type\":\"record\",\"name\":\"ExtraItem\",\"fields\":["
            + "{\"name\":\"n\",\"type\":\"long\"},{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"string\"}}]}]}}}";

    private RegistryStub registry;

    @BeforeEach
    void start() throws IOException {
        registry = new RegistryStub();
    }

    @AfterEach
    void stop() {
        registry.close();
    }

    @Test
    void everyRecordTypeRoundTripsWithGeneratedContent() throws Exception {
        Random random = new Random(42);
        for (String name : RECORDS) {
            @SuppressWarnings("unchecked")
            Class<SpecificRecord> type = (Class<SpecificRecord>) Class.forName("io.tapline.avro." + name);
            Schema schema = (Schema) type.getField("SCHEMA$").get(null);
            String subject = name + "-value";
            int id = registry.put(subject, schema.toString());
            Schema extended = extended(schema);
            int extendedId = registry.put(subject, extended.toString());
            Schema.Field defaulted = lastDefaulted(schema);
            Schema reduced = defaulted == null ? null : without(schema, defaulted.name());
            int reducedId = reduced == null ? -1 : registry.put(subject, reduced.toString());
            var deserializer = AvroSerdes.serde(type, Map.of(RegistryConfig.URL, registry.url()), false).deserializer();
            for (int i = 0; i < 60; i++) {
                int size = i % 3 == 0 ? 0 : i % 10 == 1 ? 300 : 1 + random.nextInt(5);
                GenericRecord datum = (GenericRecord) generate(schema, random, size, 0);
                String at = name + " #" + i;
                for (boolean sized : new boolean[] {false, true}) {
                    byte[] plain = encode(schema, datum, sized);
                    assertEquals(reference(schema, schema, plain), deserializer.deserialize(subject, framed(id, plain)),
                            at + (sized ? " in sized blocks" : ""));
                    GenericRecord wider = new GenericData.Record(extended);
                    wider.put("extra", generate(extended.getField("extra").schema(), random, size, 0));
                    for (Schema.Field f : schema.getFields()) {
                        wider.put(f.name(), datum.get(f.name()));
                    }
                    byte[] skipped = encode(extended, wider, sized);
                    assertEquals(reference(extended, schema, skipped), deserializer.deserialize(subject,
                            framed(extendedId, skipped)), at + " with a skipped field");
                    if (reduced != null) {
                        GenericRecord narrower = new GenericData.Record(reduced);
                        for (Schema.Field f : reduced.getFields()) {
                            narrower.put(f.name(), datum.get(f.name()));
                        }
                        byte[] defaulting = encode(reduced, narrower, sized);
                        assertEquals(reference(reduced, schema, defaulting), deserializer.deserialize(subject,
                                framed(reducedId, defaulting)), at + " without " + defaulted.name());
                    }
                }
            }
        }
    }

    /** What Avro's own reader, which bounds nothing, reads from {@code datum}. */
    private static Object reference(Schema writer, Schema reader, byte[] datum) throws IOException {
        return new SpecificDatumReader<>(writer, reader).read(null, DecoderFactory.get().binaryDecoder(datum, null));
    }

    private static Object generate(Schema schema, Random random, int size, int depth) {
        switch (schema.getType()) {
            case RECORD: {
                GenericRecord r = new GenericData.Record(schema);
                for (Schema.Field f : schema.getFields()) {
                    r.put(f.name(), generate(f.schema(), random, size, depth + 1));
                }
                return r;
            }
            case ARRAY: {
                int n = depth > 3 ? Math.min(size, 2) : size;
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    items.add(generate(schema.getElementType(), random, random.nextInt(4), depth + 1));
                }
                return new GenericData.Array<>(schema, items);
            }
            case MAP: {
                int n = depth > 3 ? Math.min(size, 2) : size;
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < n; i++) {
                    map.put(i % 7 == 0 ? "" + (char) ('a' + i % 26) + i : "k" + i,
                            generate(schema.getValueType(), random, random.nextInt(4), depth + 1));
                }
                return map;
            }
            case UNION:
                return generate(schema.getTypes().get(random.nextInt(schema.getTypes().size())), random, size, depth);
            case ENUM:
                return new GenericData.EnumSymbol(schema, schema.getEnumSymbols().get(random.nextInt(schema.getEnumSymbols().size())));
            case STRING:
                return text(random, size);
            case BYTES: {
                byte[] b = new byte[size == 300 ? 70_000 : size * random.nextInt(20)];
                random.nextBytes(b);
                return ByteBuffer.wrap(b);
            }
            case INT:
                return random.nextBoolean() ? random.nextInt() : random.nextInt(3) - 1;
            case LONG:
                return random.nextBoolean() ? random.nextLong() : (long) random.nextInt(3) - 1;
            case FLOAT:
                return random.nextFloat();
            case DOUBLE:
                return random.nextDouble();
            case BOOLEAN:
                return random.nextBoolean();
            case NULL:
                return null;
            default:
                throw new IllegalArgumentException(schema.toString());
        }
    }

    private static String text(Random random, int size) {
        int n = size == 0 ? 0 : size == 300 ? 20_000 : random.nextInt(12);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int kind = random.nextInt(10);
            s.append(kind == 0 ? "é" : kind == 1 ? "\uD83D\uDE00" : String.valueOf((char) ('a' + random.nextInt(26))));
        }
        return s.toString();
    }

    private static Schema extended(Schema schema) {
        StringBuilder json = new StringBuilder(schema.toString());
        int fields = json.indexOf("\"fields\":[") + "\"fields\":[".length();
        json.insert(fields, EXTRA + ",");
        return new Schema.Parser().parse(json.toString());
    }

    private static Schema.Field lastDefaulted(Schema schema) {
        Schema.Field last = null;
        for (Schema.Field f : schema.getFields()) {
            if (f.hasDefaultValue()) {
                last = f;
            }
        }
        return last;
    }

    private static Schema without(Schema schema, String field) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : schema.getFields()) {
            if (!f.name().equals(field)) {
                fields.add(new Schema.Field(f, f.schema()));
            }
        }
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }

    private static byte[] encode(Schema schema, GenericRecord datum, boolean sizedBlocks) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Encoder encoder = sizedBlocks ? new EncoderFactory().configureBlockSize(64).blockingBinaryEncoder(out, null)
                    : EncoderFactory.get().directBinaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(schema).write(datum, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] framed(int id, byte[] datum) {
        return ByteBuffer.allocate(5 + datum.length).put((byte) 0).putInt(id).put(datum).array();
    }
}
