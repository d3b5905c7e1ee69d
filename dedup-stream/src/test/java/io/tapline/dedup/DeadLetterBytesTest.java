package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.topics.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the dead letters of {@link RecordFailureHandler} and {@link SerializationFailureHandler} carry, in Kafka
 * Streams itself (the handlers set up as {@link DedupTopology#deadLetterRecordFailures} sets them up), on small
 * topologies whose steps carry the dedup topology's step names.
 *
 * <p>Kafka Streams 4.3.1 keeps the task's input record's bytes in the record context ({@code
 * ProcessorRecordContext.sourceRawKey/sourceRawValue}) and drops them ({@code freeRawRecord}) when a sink has sent a
 * record under that same context ({@code RecordCollectorImpl.send}). {@code ProcessorContextImpl.forward} gives a
 * forwarded record a context of its own unless it is the very record (its headers object) of the current context, and
 * a {@code Record} built by a step copies its headers, so a step that forwards new records (as the dedup topology's
 * steps do) keeps its record's bytes; one that forwards its own input record to a sink, or a sink after a sibling sink
 * of the same forward, does not.
 */
class DeadLetterBytesTest {

    private static final String DLQ = "tapline.dlq";
    private static final String ECHO = "echo";

    @TempDir
    Path stateDir;

    private final DedupMetrics metrics = DedupMetrics.detached();

    @Test
    void aDedupStepFailingAfterItSentItsOwnInputRecordDeadLettersTheInputReencoded() {
        HitSerde hits = new HitSerde(DedupConfig.HitFormat.COMPACT);
        byte[] key = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
        byte[] value = hits.serializer().serialize("t", Hit.counted(1_000L, 42L));

        TestRecord<byte[], byte[]> dead = deadLetterOfStepSendingItsInput(DedupTopology.DEDUP_STEP, Serdes.String(),
                hits, key, value);

        assertArrayEquals(key, dead.key(), "the signature id, as the repartition record's key");
        assertArrayEquals(value, dead.value(), "the hit, as the repartition record's value");
        assertEquals(RecordDeadLetters.STEP_INPUT, DeadLetters.header(dead.headers(), RecordDeadLetters.BYTES));
        String error = DeadLetters.header(dead.headers(), DeadLetters.ERROR);
        assertTrue(error.startsWith(RecordDeadLetters.BYTES_REENCODED + "processing failed in dedup: "
                + "java.lang.IllegalStateException: bug after output"), error);
        assertEquals("by-signature", DeadLetters.header(dead.headers(), DeadLetters.SOURCE_TOPIC));
    }

    @Test
    void aNoiseStepFailingAfterItSentItsOwnInputRecordDeadLettersTheInputReencoded() {
        Serde<NoiseObservation> observations = NoiseObservation.serde();
        byte[] key = "petclinic GET /owners/{id}".getBytes(StandardCharsets.UTF_8);
        byte[] value = observations.serializer().serialize("t", new NoiseObservation("petclinic", "GET /owners/{id}",
                List.of("$.id", "$.at"), List.of("$.at")));

        TestRecord<byte[], byte[]> dead = deadLetterOfStepSendingItsInput(DedupTopology.NOISE_STEP, Serdes.String(),
                observations, key, value);

        assertArrayEquals(key, dead.key());
        assertArrayEquals(value, dead.value());
        assertEquals(RecordDeadLetters.STEP_INPUT, DeadLetters.header(dead.headers(), RecordDeadLetters.BYTES));
    }

    @Test
    void theDecodeStepsInputIsTheSourceRecordItself() {
        byte[] key = "key".getBytes(StandardCharsets.UTF_8);
        byte[] value = {0, 0, 0, 0, 7, 2, 'x'};

        TestRecord<byte[], byte[]> dead = deadLetterOfStepSendingItsInput(DedupTopology.DECODE_STEP,
                Serdes.ByteArray(), Serdes.ByteArray(), key, value);

        assertArrayEquals(key, dead.key());
        assertArrayEquals(value, dead.value());
        assertEquals(RecordDeadLetters.SOURCE, DeadLetters.header(dead.headers(), RecordDeadLetters.BYTES));
        assertTrue(DeadLetters.header(dead.headers(), DeadLetters.ERROR).startsWith("processing failed in "
                + "decode-and-sign: "), "the source record's bytes: nothing to say");
    }

    /**
     * The dedup topology's shape: a step sends records of its own (a case, noise observations) through a step that
     * maps them, then fails. Kafka Streams keeps the record's bytes, and the dead letter says they are the source
     * record's.
     */
    @Test
    void aStepFailingAfterItSentRecordsOfItsOwnKeepsTheSourceRecordsBytes() {
        Topology topology = new Topology();
        topology.addSource("by-signature-source", Serdes.String().deserializer(), hitSerde().deserializer(),
                "by-signature");
        topology.addProcessor(DedupTopology.DEDUP_STEP, () -> new FailingAfterOutput<String, Hit>(false),
                "by-signature-source");
        topology.addProcessor("case-value", MapValue::new, DedupTopology.DEDUP_STEP);
        topology.addSink(ECHO, ECHO, Serdes.String().serializer(), hitSerde().serializer(), "case-value");
        byte[] key = "sig".getBytes(StandardCharsets.UTF_8);
        byte[] value = hitSerde().serializer().serialize("t", Hit.counted(5L, 6L));

        TestRecord<byte[], byte[]> dead = run(topology, "by-signature", key, value);

        assertArrayEquals(key, dead.key());
        assertArrayEquals(value, dead.value());
        assertEquals(RecordDeadLetters.SOURCE, DeadLetters.header(dead.headers(), RecordDeadLetters.BYTES));
    }

    /**
     * A sink failing to serialize after a sibling sink of the same forward sent its record: Kafka Streams no longer has
     * the bytes, and the production exception handler is not given the step's input to encode again. The dedup
     * topology has no such shape (every sink is the only child of a map step); the dead letter says what it lacks.
     */
    @Test
    void aSerializationFailureAfterASiblingSinkSaysTheBytesWereNotKept() {
        Serializer<byte[]> refusing = (topic, data) -> {
            throw new SerializationException("cannot encode");
        };
        Topology topology = new Topology();
        topology.addSource("interactions", new ByteArrayDeserializer(), new ByteArrayDeserializer(), "in");
        topology.addProcessor(DedupTopology.DECODE_STEP, () -> new FailingAfterOutput<byte[], byte[]>(false) {
            @Override
            void fail() {
            }
        }, "interactions");
        topology.addSink(ECHO, ECHO, new ByteArraySerializer(), new ByteArraySerializer(), DedupTopology.DECODE_STEP);
        topology.addSink("refusing", "refused", new ByteArraySerializer(), refusing, DedupTopology.DECODE_STEP);

        TestRecord<byte[], byte[]> dead = run(topology, "in", "k".getBytes(StandardCharsets.UTF_8),
                "v".getBytes(StandardCharsets.UTF_8));

        assertNull(dead.key());
        assertNull(dead.value());
        assertEquals(RecordDeadLetters.NONE, DeadLetters.header(dead.headers(), RecordDeadLetters.BYTES));
        String error = DeadLetters.header(dead.headers(), DeadLetters.ERROR);
        assertTrue(error.startsWith(RecordDeadLetters.BYTES_NOT_KEPT + "serializing the value for refused failed in "
                + "refusing: "), error);
    }

    private static HitSerde hitSerde() {
        return new HitSerde(DedupConfig.HitFormat.COMPACT);
    }

    /**
     * The dead letter of a step named {@code step} that reads {@code key} and {@code value} with the serdes, sends its
     * own input record to a sink (where Kafka Streams drops the record's bytes) and then fails.
     */
    private <K, V> TestRecord<byte[], byte[]> deadLetterOfStepSendingItsInput(String step, Serde<K> keySerde,
                                                                             Serde<V> valueSerde, byte[] key,
                                                                             byte[] value) {
        String topic = step.equals(DedupTopology.DEDUP_STEP) ? "by-signature" : step + "-in";
        Topology topology = new Topology();
        topology.addSource("source", keySerde.deserializer(), valueSerde.deserializer(), topic);
        topology.addProcessor(step, () -> new FailingAfterOutput<K, V>(true), "source");
        topology.addSink(ECHO, ECHO, keySerde.serializer(), valueSerde.serializer(), step);
        return run(topology, topic, key, value);
    }

    private TestRecord<byte[], byte[]> run(Topology topology, String topic, byte[] key, byte[] value) {
        Properties props = DedupTopology.streamsConfig("dead-letter-bytes", "dummy:9092", 1, 1, stateDir.toString(),
                Map.of());
        DedupTopology.deadLetterRecordFailures(props, DedupConfig.defaults(), metrics);
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, props)) {
            driver.createInputTopic(topic, new ByteArraySerializer(), new ByteArraySerializer()).pipeInput(key, value);
            Deserializer<byte[]> bytes = new ByteArrayDeserializer();
            assertEquals(1, driver.createOutputTopic(ECHO, bytes, bytes).readRecordsToList().size(),
                    "the step sent its output before it failed");
            List<TestRecord<byte[], byte[]>> dead = driver.createOutputTopic(DLQ, bytes, bytes).readRecordsToList();
            assertEquals(1, dead.size());
            assertEquals(1, metrics.processingDeadLetters.value());
            return dead.get(0);
        }
    }

    /** Sends its input record on (itself, or a record of its own), then fails as a bug would. */
    private static class FailingAfterOutput<K, V> implements Processor<K, V, K, V> {

        private final boolean sameRecord;
        private ProcessorContext<K, V> context;

        FailingAfterOutput(boolean sameRecord) {
            this.sameRecord = sameRecord;
        }

        @Override
        public void init(ProcessorContext<K, V> context) {
            this.context = context;
        }

        @Override
        public void process(Record<K, V> record) {
            context.forward(sameRecord ? record : new Record<>(record.key(), record.value(), record.timestamp()));
            fail();
        }

        void fail() {
            throw new IllegalStateException("bug after output");
        }
    }

    /** A map step, as Kafka Streams' {@code mapValues} forwards: a record of its own. */
    private static final class MapValue implements Processor<String, Hit, String, Hit> {

        private ProcessorContext<String, Hit> context;

        @Override
        public void init(ProcessorContext<String, Hit> context) {
            this.context = context;
        }

        @Override
        public void process(Record<String, Hit> record) {
            context.forward(record.withValue(record.value()));
        }
    }
}
