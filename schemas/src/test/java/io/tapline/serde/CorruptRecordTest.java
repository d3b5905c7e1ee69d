package io.tapline.serde;

import io.tapline.avro.Header;
import io.tapline.avro.Interaction;
import io.tapline.avro.ReleasedSchemas;
import io.tapline.avro.RunBounds;
import io.tapline.avro.RunEvent;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.RegistryStub;
import io.tapline.registry.SchemaRegistryException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Records of a few bytes that declare a collection, string or bytes value far larger than themselves, or that name a
 * writer schema whose decoding nothing bounds: each must be a {@link SerializationException} (which the dedup stream
 * dead-letters and the replay worker counts and skips), never an {@link OutOfMemoryError}, a
 * {@link StackOverflowError} or a decode that does not end.
 */
class CorruptRecordTest {

    private static final String TOPIC = "tapline.interactions";
    /** Under Avro's own limit of 2147483639 items, so only the bytes left can refuse it. */
    private static final long HUGE = Integer.MAX_VALUE - 10;

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
    void anArrayCountTheRecordCannotHoldIsRefusedNamingTopicSchemaAndCount() {
        int id = registry.put(TOPIC + "-value", Interaction.getClassSchema().toString());
        Datum plain = interactionUpToHeaders(id).l(HUGE);
        assertRefused(Interaction.class, id, plain.bytes(), "an array block of " + HUGE + " items", "request.headers");
        // the block-size form: a negative count, then the block's size in bytes
        Datum sized = interactionUpToHeaders(id).l(-HUGE).l(3);
        assertRefused(Interaction.class, id, sized.bytes(), "an array block of " + HUGE + " items", "request.headers");
        // a later block of a count the bytes left cannot hold either
        Datum later = interactionUpToHeaders(id).l(1).s("name").s("value").l(HUGE);
        assertRefused(Interaction.class, id, later.bytes(), "an array block of " + HUGE + " items", "request.headers");
        // in a field only the writer's schema has, which the reader skips: named as such, not as the next field
        int extra = registry.put(TOPIC + "-value", withFirstField(
                "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"default\":[]}"));
        assertRefused(Interaction.class, extra, new Datum(extra).l(HUGE).bytes(),
                "a skipped array block of " + HUGE + " items", null);
    }

    @Test
    void aMapCountTheRecordCannotHoldIsRefused() {
        int id = registry.put("tapline.runs-value", RunEvent.getClassSchema().toString());
        // RunEvent: runId, candidate, at, bounds (union branch 1): casesTopic, endOffsets with one entry
        Datum map = new Datum(id).s("run").s("candidate").l(1).l(1).s("tapline.cases").l(HUGE).s("0").l(5);
        assertRefused(RunEvent.class, id, map.bytes(), "a map block of " + HUGE + " items", "bounds.endOffsets");
    }

    @Test
    void aStringOrBytesLengthPastTheEndIsRefused() {
        int id = registry.put(TOPIC + "-value", Interaction.getClassSchema().toString());
        assertRefused(Interaction.class, id, new Datum(id).l(HUGE).bytes(), "a string of " + HUGE + " bytes", "id");
        // headers empty, then the body
        assertRefused(Interaction.class, id, interactionUpToHeaders(id).l(0).l(HUGE).bytes(),
                "a bytes value of " + HUGE + " bytes", "request.body");
    }

    @Test
    void aWriterSchemaWithAnArrayOfItemsThatTakeNoBytesIsRefused() {
        // a field the reader does not have, skipped item by item: 2^63 nulls in 10 bytes never finish
        String writer = withFirstField(
                "{\"name\":\"nulls\",\"type\":{\"type\":\"array\",\"items\":\"null\"},\"default\":[]}");
        int id = registry.put(TOPIC + "-value", writer);
        byte[] record = new Datum(id).l(Long.MAX_VALUE).l(0).bytes();
        SerializationException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(SerializationException.class, () -> deserializer(Interaction.class).deserialize(TOPIC, record)));
        assertTrue(e.getMessage().contains("schema id " + id) && e.getMessage().contains("items that take no bytes"),
                e.getMessage());
        assertTrue(SchemaRegistryException.recordAtFault(e), e.getMessage());
    }

    @Test
    void aRecursiveWriterSchemaIsRefusedRatherThanOverflowingTheStack() {
        String writer = withFirstField("{\"name\":\"chain\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Link\","
                + "\"fields\":[{\"name\":\"next\",\"type\":[\"null\",\"Link\"]}]}],\"default\":null}");
        int id = registry.put(TOPIC + "-value", writer);
        Datum deep = new Datum(id);
        for (int i = 0; i < 200_000; i++) {
            deep.l(1); // union branch Link, nested once more
        }
        byte[] record = deep.l(0).bytes();
        SerializationException e = assertThrows(SerializationException.class,
                () -> deserializer(Interaction.class).deserialize(TOPIC, record));
        assertTrue(e.getMessage().contains("schema id " + id)
                && e.getMessage().contains("recursive (io.tapline.avro.Link contains itself)"), e.getMessage());
    }

    @Test
    void aRefusedWriterSchemaIsWalkedOnceForAllItsRecords() {
        // refused, the schema was walked again for every record of its id: a topic of them cost a walk each
        int nulls = registry.put(TOPIC + "-value", withFirstField(
                "{\"name\":\"nulls\",\"type\":{\"type\":\"array\",\"items\":\"null\"},\"default\":[]}"));
        int chain = registry.put(TOPIC + "-value", withFirstField("{\"name\":\"chain\",\"type\":[\"null\",{\"type\":\"record\","
                + "\"name\":\"Link\",\"fields\":[{\"name\":\"next\",\"type\":[\"null\",\"Link\"]}]}],\"default\":null}"));
        TaplineAvroDeserializer<Interaction> deserializer = deserializer(Interaction.class);
        for (int i = 0; i < 3; i++) {
            byte[] empty = new Datum(nulls).l(0).bytes();
            SerializationException e = assertThrows(SerializationException.class, () -> deserializer.deserialize(TOPIC, empty));
            assertEquals("cannot decode record on topic " + TOPIC + " with schema id " + nulls + ": the writer schema has an "
                    + "array of items that take no bytes (\"null\"), which no Tapline contract has", e.getMessage());
            assertTrue(SchemaRegistryException.recordAtFault(e), e.getMessage());
            byte[] link = new Datum(chain).l(1).l(0).bytes();
            e = assertThrows(SerializationException.class, () -> deserializer.deserialize("other", link));
            assertEquals("cannot decode record on topic other with schema id " + chain + ": the writer schema is recursive "
                    + "(io.tapline.avro.Link contains itself), which no Tapline contract is", e.getMessage());
        }
        assertEquals(2, deserializer.writerSchemaWalks(), "one walk per writer schema");
    }

    @Test
    void everyContractsCollectionItemsTakeABytePlusRecordsWithCollectionsStillDecode() {
        ReleasedSchemas.CURRENT.values().forEach(schema ->
                assertDoesNotThrow(() -> BoundedDecoder.checkWriterSchema(schema), schema.getFullName()));
        Map<String, Object> config = Map.of(RegistryConfig.URL, registry.url());
        var interactions = AvroSerdes.serde(Interaction.class, config, false);
        Interaction original = Interaction.newBuilder(AvroSerdeTest.interaction())
                .setRequest(io.tapline.avro.HttpRequest.newBuilder(AvroSerdeTest.interaction().getRequest())
                        .setHeaders(List.of(new Header("a", ""), new Header("b", "2"))).build())
                .build();
        assertEquals(original, interactions.deserializer().deserialize(TOPIC,
                interactions.serializer().serialize(TOPIC, original)));
        var runs = AvroSerdes.serde(RunEvent.class, config, false);
        RunEvent event = RunEvent.newBuilder().setRunId("r").setAt(Instant.ofEpochMilli(1))
                .setBounds(RunBounds.newBuilder().setCasesTopic("tapline.cases")
                        .setEndOffsets(Map.of("0", 5L, "1", 0L)).setResultsStartOffsets(Map.of("0", 0L)).build())
                .build();
        assertEquals(event, runs.deserializer().deserialize("tapline.runs", runs.serializer().serialize("tapline.runs", event)));
    }

    private <T extends SpecificRecord> TaplineAvroDeserializer<T> deserializer(Class<T> type) {
        TaplineAvroDeserializer<T> deserializer = new TaplineAvroDeserializer<>();
        deserializer.configure(Map.of(RegistryConfig.URL, registry.url()), false);
        return deserializer;
    }

    /** Refused naming the topic, the schema id, what was declared and, when the reader has it, the field. */
    private <T extends SpecificRecord> void assertRefused(Class<T> type, int id, byte[] record, String declared,
                                                          String field) {
        SerializationException e = assertThrows(SerializationException.class,
                () -> deserializer(type).deserialize(TOPIC, record));
        assertTrue(e.getMessage().contains("record on topic " + TOPIC + " with schema id " + id + " declares "
                + declared), e.getMessage());
        assertTrue(field == null ? !e.getMessage().contains("(field ")
                : e.getMessage().contains(" bytes left (field " + field + "):"), e.getMessage());
        assertTrue(SchemaRegistryException.recordAtFault(e), e.getMessage());
    }

    /** The Interaction schema with one more field first, which the generated reader does not have. */
    private static String withFirstField(String field) {
        Schema current = Interaction.getClassSchema();
        String json = current.toString();
        int fields = json.indexOf("\"fields\":[") + "\"fields\":[".length();
        return json.substring(0, fields) + field + "," + json.substring(fields);
    }

    /** An Interaction's fields up to its request's headers, which come next. */
    private static Datum interactionUpToHeaders(int id) {
        return new Datum(id).s("i-1").s("trace").s("shop").s("pod-1").l(1).l(2)
                .s("GET").s("http").s("shop:8080").s("/").l(0); // rawQuery: the null branch
    }

    /** A framed record written value by value, so that it can say what no schema-driven writer would. */
    private static final class Datum {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);

        Datum(int id) {
            out.write(WireFormat.MAGIC_BYTE);
            out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
        }

        Datum s(String value) {
            try {
                encoder.writeString(value);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Datum l(long value) {
            try {
                encoder.writeLong(value);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
