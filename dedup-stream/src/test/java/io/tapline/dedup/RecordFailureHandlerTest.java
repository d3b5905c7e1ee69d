package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.registry.SchemaRegistryException;
import io.tapline.topics.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler.Response;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler.Result;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.TaskMigratedException;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RecordFailureHandlerTest {

    private static final byte[] KEY = "k".getBytes(StandardCharsets.UTF_8);
    private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

    private final DedupMetrics metrics = DedupMetrics.detached();
    private final RecordFailureHandler handler = new RecordFailureHandler();

    @BeforeEach
    void configure() {
        handler.configure(Map.of(RecordDeadLetters.CONFIG, RecordDeadLetters.of(DedupConfig.defaults(), metrics)));
    }

    @Test
    void onlyTheRecordsOwnFailuresAreItsFault() {
        assertTrue(RecordFailureHandler.recordAtFault(new NumberFormatException("1e-2147483648")));
        assertTrue(RecordFailureHandler.recordAtFault(new IllegalStateException("wrapped",
                new ArithmeticException("overflow"))));
        assertTrue(RecordFailureHandler.recordAtFault(new SchemaRegistryException("schema 7 not found", 404, 40403, null)));

        assertFalse(RecordFailureHandler.recordAtFault(new StreamsException("sink failed")));
        assertFalse(RecordFailureHandler.recordAtFault(new ProcessorStateException("No space left on device")));
        assertFalse(RecordFailureHandler.recordAtFault(new TaskMigratedException("fenced")));
        assertFalse(RecordFailureHandler.recordAtFault(new SerializationException("cannot serialize")));
        assertFalse(RecordFailureHandler.recordAtFault(new IllegalStateException("store write",
                new ProcessorStateException("No space left on device"))));
        assertFalse(RecordFailureHandler.recordAtFault(new RuntimeException("wrapped", new OutOfMemoryError())));
        assertFalse(RecordFailureHandler.recordAtFault(new SchemaRegistryException("unavailable", 503, -1, null)));
        assertFalse(RecordFailureHandler.recordAtFault(new IllegalStateException("while decoding",
                new SchemaRegistryException("unauthorized", 401, -1, null))));
        assertFalse(RecordFailureHandler.recordAtFault(new Exception("checked")));
    }

    @Test
    void shouldResumeWithTheDeadLetterCountAndWarnThroughTheSharedWarning() {
        Headers own = new RecordHeaders().add("traceparent", "00-abc".getBytes(StandardCharsets.UTF_8));
        Response response = handler.handleError(context("tapline.interactions", 3, 42L, own, KEY, VALUE),
                new Record<>("key", "value", 7L), new NumberFormatException("For input string: \"1e-2147483648\""));

        assertEquals(Result.RESUME, response.result());
        List<ProducerRecord<byte[], byte[]>> dead = response.deadLetterQueueRecords();
        assertEquals(1, dead.size());
        assertEquals("tapline.dlq", dead.get(0).topic());
        assertArrayEquals(KEY, dead.get(0).key());
        assertArrayEquals(VALUE, dead.get(0).value());
        assertEquals(1_000L, dead.get(0).timestamp());
        assertEquals("00-abc", DeadLetters.header(dead.get(0).headers(), "traceparent"));
        assertEquals("tapline.interactions", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_TOPIC));
        assertEquals("3", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_PARTITION));
        assertEquals("42", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals("dedup-stream", DeadLetters.header(dead.get(0).headers(), DeadLetters.COMPONENT));
        assertEquals("source", DeadLetters.header(dead.get(0).headers(), RecordDeadLetters.BYTES));
        assertEquals("processing failed in learn-noise: java.lang.NumberFormatException: For input string: "
                + "\"1e-2147483648\"", DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR));
        assertEquals(1, metrics.processingDeadLetters.value());
        assertEquals(0, metrics.deadLetters.value());
        assertEquals(0, metrics.deadLetterWarning.occurred(), "warned already, through the decode step's warning");
    }

    @Test
    void shouldSayWhenKafkaStreamsNoLongerHeldTheRecordsBytesAndTheStepsInputCannotBeEncoded() {
        Response response = handler.handleError(
                context("dedup-test-by-route-repartition", 0, 5L, new RecordHeaders(), null, null),
                new Record<>("sig", "not a noise observation", 7L), new IllegalStateException("bug"));
        assertEquals(Result.RESUME, response.result());
        ProducerRecord<byte[], byte[]> dead = response.deadLetterQueueRecords().get(0);
        assertNull(dead.key());
        assertNull(dead.value());
        assertEquals("none", DeadLetters.header(dead.headers(), RecordDeadLetters.BYTES));
        assertTrue(DeadLetters.header(dead.headers(), DeadLetters.ERROR).startsWith("(record bytes not kept"),
                DeadLetters.header(dead.headers(), DeadLetters.ERROR));
    }

    @Test
    void shouldEncodeTheStepsInputAgainWhenKafkaStreamsNoLongerHeldTheRecordsBytes() {
        NoiseObservation observation = new NoiseObservation("petclinic", "GET /vets", List.of("$.at"), List.of("$.at"));
        Response response = handler.handleError(
                context("dedup-test-by-route-repartition", 0, 5L, new RecordHeaders(), null, null),
                new Record<>("petclinic GET /vets", observation, 7L), new IllegalStateException("bug"));
        ProducerRecord<byte[], byte[]> dead = response.deadLetterQueueRecords().get(0);
        assertArrayEquals("petclinic GET /vets".getBytes(StandardCharsets.UTF_8), dead.key());
        assertEquals(observation, NoiseObservation.serde().deserializer().deserialize("t", dead.value()));
        assertEquals("step-input", DeadLetters.header(dead.headers(), RecordDeadLetters.BYTES));
        assertEquals(RecordDeadLetters.BYTES_REENCODED + "processing failed in learn-noise: "
                + "java.lang.IllegalStateException: bug", DeadLetters.header(dead.headers(), DeadLetters.ERROR));
    }

    @Test
    void shouldFailForKafkaAndStateFailuresAndPunctuationsWritingNothing() {
        for (Exception e : List.of(new StreamsException("x"), new ProcessorStateException("disk full"),
                new KafkaException("x"), new SchemaRegistryException("unavailable", 503, -1, null))) {
            assertFailsWritingNothing(handler.handleError(context("t", 0, 1L, new RecordHeaders(), KEY, VALUE),
                    new Record<>("k", "v", 1L), e));
        }
        // a punctuation: no record to set aside
        assertFailsWritingNothing(handler.handleError(context(null, -1, -1L, new RecordHeaders(), null, null), null,
                new IllegalStateException("bug in publish")));
        assertEquals(0, metrics.deadLetters());
    }

    private static void assertFailsWritingNothing(Response response) {
        assertEquals(Result.FAIL, response.result());
        assertTrue(response.deadLetterQueueRecords().isEmpty());
    }

    static ErrorHandlerContext context(String topic, int partition, long offset, Headers headers, byte[] key,
                                       byte[] value) {
        return new ErrorHandlerContext() {
            @Override
            public String topic() {
                return topic;
            }

            @Override
            public int partition() {
                return partition;
            }

            @Override
            public long offset() {
                return offset;
            }

            @Override
            public Headers headers() {
                return headers;
            }

            @Override
            public String processorNodeId() {
                return "learn-noise";
            }

            @Override
            public TaskId taskId() {
                return new TaskId(1, partition);
            }

            @Override
            public long timestamp() {
                return 1_000L;
            }

            @Override
            public byte[] sourceRawKey() {
                return key;
            }

            @Override
            public byte[] sourceRawValue() {
                return value;
            }
        };
    }
}
