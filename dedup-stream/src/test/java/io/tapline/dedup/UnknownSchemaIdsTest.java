package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.avro.Case;
import io.tapline.dedup.testing.FakeRegistry;
import io.tapline.dedup.testing.Interactions;
import io.tapline.registry.RegistryConfig;
import io.tapline.topics.DeadLetters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records naming a schema id the registry does not know cost one registry call per id and interval, not one per
 * record: a flood of another producer's records on the interactions topic used to cost the registry a lookup each.
 * The registry's calls are counted by the in-process fake; time is the driver's wall clock.
 */
class UnknownSchemaIdsTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Instant WALL_CLOCK = T0.plus(Duration.ofDays(1));
    private static final String TOPIC = "tapline.interactions";

    @TempDir
    Path stateDir;

    private FakeRegistry registry;
    private DedupSerdes serdes;
    private DedupMetrics metrics;
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<String, Case> cases;
    private TestOutputTopic<byte[], byte[]> dlq;

    @BeforeEach
    void setUp() throws IOException {
        registry = new FakeRegistry();
        // one attempt per call, so that a transport error costs one request
        serdes = DedupSerdes.registry(Map.of(RegistryConfig.URL, registry.url(), RegistryConfig.MAX_RETRIES, "0"));
        DedupConfig config = DedupConfig.defaults();
        metrics = DedupMetrics.detached();
        Properties props = DedupTopology.streamsConfig("dedup-test", "dummy:9092", 1, 1, stateDir.toString(), Map.of());
        driver = new TopologyTestDriver(DedupTopology.build(config, serdes, metrics), props, WALL_CLOCK);
        input = driver.createInputTopic(config.inputTopic(), new ByteArraySerializer(), new ByteArraySerializer());
        cases = driver.createOutputTopic(config.casesTopic(), new StringDeserializer(), serdes.cases().deserializer());
        dlq = driver.createOutputTopic(config.dlqTopic(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
        registry.close();
    }

    private static byte[] framed(int schemaId) {
        return new byte[] {0, (byte) (schemaId >>> 24), (byte) (schemaId >>> 16), (byte) (schemaId >>> 8),
                (byte) schemaId, 2, 'x'};
    }

    private void pipe(byte[] value) {
        input.pipeInput("k".getBytes(StandardCharsets.UTF_8), value, T0);
    }

    private static String error(TestRecord<byte[], byte[]> dead) {
        return DeadLetters.header(dead.headers(), DeadLetters.ERROR);
    }

    @Test
    void manyRecordsOfOneUnknownSchemaIdCostOneRegistryCall() {
        for (int i = 0; i < 50; i++) {
            pipe(framed(32639));
        }

        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertEquals(50, dead.size(), "every record of the unknown id is dead-lettered");
        assertEquals(1, registry.timesAsked(32639), "one registry call for 50 records of one unknown id");
        String asked = error(dead.get(0));
        assertTrue(asked.contains("schema id 32639") && asked.contains("40403"), asked);
        for (TestRecord<byte[], byte[]> later : dead.subList(1, dead.size())) {
            assertTrue(error(later).startsWith(asked), "the same reason as the record that asked: " + error(later));
            assertTrue(error(later).contains("remembered"), error(later));
        }
        assertEquals(50, metrics.deadLetters());
    }

    /** A registry node that had not caught up with a new schema is asked again after the interval, and then decodes. */
    @Test
    void anUnknownSchemaIdIsAskedAgainAfterTheInterval() {
        DedupSerdes writer = DedupSerdes.registry(Map.of(RegistryConfig.URL, registry.url()));
        byte[] value = writer.interaction().serializer().serialize(TOPIC,
                Interactions.get("/owners/1").at(T0).json("{\"id\":1}").build());
        int id = java.nio.ByteBuffer.wrap(value, 1, 4).getInt();
        registry.lagBehind(true);

        pipe(value);
        driver.advanceWallClockTime(Duration.ofMillis(4_999));
        pipe(value);
        assertEquals(2, dlq.readRecordsToList().size());
        assertEquals(1, registry.timesAsked(id), "within the interval the answer is remembered");

        registry.lagBehind(false);
        driver.advanceWallClockTime(Duration.ofMillis(1));
        pipe(value);
        assertEquals(2, registry.timesAsked(id), "after the interval the registry is asked again");
        assertTrue(dlq.isEmpty(), "the node has caught up: the record decodes");
        assertEquals(1, cases.readRecordsToList().size());
    }

    /** No answer says nothing about the id: the task fails, and the record's id is asked again when it is retried. */
    @Test
    void aTransportErrorIsNotRemembered() {
        registry.answerNothing(true);
        assertThrows(StreamsException.class, () -> pipe(framed(77)));
        int unanswered = registry.timesAsked(77); // the HTTP client may itself try a dropped GET twice
        assertTrue(unanswered >= 1);
        assertTrue(dlq.isEmpty());

        registry.answerNothing(false);
        pipe(framed(77));
        assertEquals(unanswered + 1, registry.timesAsked(77), "a transport error is not taken for 'not found'");
        pipe(framed(77));
        pipe(framed(77));
        assertEquals(unanswered + 1, registry.timesAsked(77), "the registry's 'not found' that followed is remembered");
        assertEquals(3, dlq.readRecordsToList().size());
    }

    /** A 404 from something that is not the registry says nothing about the id either. */
    @Test
    void aNotFoundFromSomethingElseThanTheRegistryIsNotRemembered() {
        registry.answerAsAProxy(true);
        assertThrows(StreamsException.class, () -> pipe(framed(78)));
        assertEquals(1, registry.timesAsked(78));
        assertTrue(dlq.isEmpty());

        registry.answerAsAProxy(false);
        pipe(framed(78));
        assertEquals(2, registry.timesAsked(78), "a proxy's 404 is not taken for the registry's 'not found'");
        pipe(framed(78));
        assertEquals(2, registry.timesAsked(78), "the registry's 'not found' that followed is remembered");
        assertEquals(2, dlq.readRecordsToList().size());
    }

    /**
     * Only the registry's "not found" is remembered here: a record set aside for its own bytes does not set aside the
     * good records of its schema.
     */
    @Test
    void aFailureThatIsNotTheRegistrysNotFoundIsNotRemembered() {
        DedupSerdes writer = DedupSerdes.registry(Map.of(RegistryConfig.URL, registry.url()));
        byte[] good = writer.interaction().serializer().serialize(TOPIC,
                Interactions.get("/owners/1").at(T0).json("{\"id\":1}").build());
        int id = java.nio.ByteBuffer.wrap(good, 1, 4).getInt();
        pipe(java.util.Arrays.copyOf(good, 6)); // its header and one byte of the record: not a record of that schema
        pipe(good);
        assertEquals(1, dlq.readRecordsToList().size(), "the damaged record only");
        assertEquals(1, cases.readRecordsToList().size(), "the good record of schema id " + id + " decodes");
    }

    /**
     * An id always names the same schema, so the registry's answer that it is not Avro is kept (by the registry
     * client, with the schemas): a flood of records of such ids costs one lookup per id, after the interval too.
     */
    @Test
    void manyRecordsOfASchemaIdThatIsNotAvroCostOneRegistryCall() {
        int protobuf = registry.put("syntax = \"proto3\"; message M {}", "PROTOBUF");
        int json = registry.put("{\"type\": \"object\"}", "JSON");
        for (int i = 0; i < 25; i++) {
            pipe(framed(protobuf));
            pipe(framed(json));
        }
        driver.advanceWallClockTime(UnknownSchemaIds.REMEMBER_FOR);
        pipe(framed(protobuf));
        pipe(framed(json));

        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertEquals(52, dead.size(), "every record of those ids is dead-lettered");
        assertEquals(1, registry.timesAsked(protobuf), "one registry call for 26 records of a PROTOBUF id");
        assertEquals(1, registry.timesAsked(json), "one registry call for 26 records of a JSON id");
        String protobufReason = error(dead.get(0));
        String jsonReason = error(dead.get(1));
        assertTrue(protobufReason.contains("schema id " + protobuf) && protobufReason.contains("PROTOBUF, not AVRO"),
                protobufReason);
        assertTrue(jsonReason.contains("schema id " + json) && jsonReason.contains("JSON, not AVRO"), jsonReason);
        for (int i = 2; i < dead.size(); i++) {
            assertEquals(i % 2 == 0 ? protobufReason : jsonReason, error(dead.get(i)), "the first record's reason");
        }
        assertEquals(52, metrics.deadLetters());
    }

    /** A flood of ever-new unknown ids holds at most the bound: the oldest remembered id is forgotten first. */
    @Test
    void theRememberedIdsAreBounded() {
        int bound = UnknownSchemaIds.MAX_IDS;
        for (int id = 1_000; id < 1_000 + bound + 1; id++) {
            pipe(framed(id));
        }
        pipe(framed(1_000 + bound)); // the newest is remembered
        pipe(framed(1_000)); // the oldest was forgotten to make room for it
        assertEquals(1, registry.timesAsked(1_000 + bound));
        assertEquals(2, registry.timesAsked(1_000));
        assertEquals(bound + 3, dlq.readRecordsToList().size());
    }

    /** When full, the id remembered longest ago is forgotten, whatever order the map keeps its ids in. */
    @Test
    void whenFullTheOldestAnswerIsForgottenFirst() {
        UnknownSchemaIds ids = new UnknownSchemaIds(Duration.ofSeconds(5), 3);
        ids.remember(30, "no schema 30", 0);
        ids.remember(10, "no schema 10", 1);
        ids.remember(20, "no schema 20", 2);
        ids.remember(40, "no schema 40", 3);
        assertNull(ids.reason(30, 4), "the oldest answer made room");
        for (int id : new int[] {10, 20, 40}) {
            assertTrue(ids.reason(id, 4).startsWith("no schema " + id), "id " + id);
        }
    }

    /** A clock set back makes every answer one from the future: taken as expired, the registry is asked again. */
    @Test
    void anAnswerFromTheFutureIsAskedAgain() {
        UnknownSchemaIds ids = new UnknownSchemaIds(Duration.ofSeconds(5), 10);
        ids.remember(7, "no schema 7", 10_000);
        assertTrue(ids.reason(7, 14_999).startsWith("no schema 7"));
        assertNull(ids.reason(7, 15_000), "expired after the interval");
        ids.remember(7, "no schema 7", 10_000);
        assertNull(ids.reason(7, 9_999), "the clock went back");
    }
}
