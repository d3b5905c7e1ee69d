package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.registry.SchemaRegistryException;
import io.tapline.topics.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler.ProcessingHandlerResponse;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.TaskMigratedException;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

class RecordFailureHandlerTest {

    private static final byte[] KEY = "k".getBytes(StandardCharsets.UTF_8);
    private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

    private final DedupMetrics metrics = DedupMetrics.detached();
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
            new ByteArraySerializer());
    private final ProcessingDeadLetters deadLetters = new ProcessingDeadLetters("tapline.dlq", metrics, () -> producer);
    private final RecordFailureHandler handler = handler(deadLetters);

    private static RecordFailureHandler handler(ProcessingDeadLetters deadLetters) {
        RecordFailureHandler handler = new RecordFailureHandler();
        handler.configure(Map.of(RecordFailureHandler.DEAD_LETTERS_CONFIG, deadLetters));
        return handler;
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
    void shouldWriteTheRecordWithItsHeadersCountAndWarnThroughTheSharedWarning() {
        Headers own = new RecordHeaders().add("traceparent", "00-abc".getBytes(StandardCharsets.UTF_8));
        ProcessingHandlerResponse response = handler.handle(context("tapline.interactions", 3, 42L, own, KEY, VALUE),
                new Record<>("key", "value", 7L), new NumberFormatException("For input string: \"1e-2147483648\""));

        assertEquals(ProcessingHandlerResponse.CONTINUE, response);
        List<ProducerRecord<byte[], byte[]>> dead = producer.history();
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
        assertEquals("processing failed in learn-noise: java.lang.NumberFormatException: For input string: "
                + "\"1e-2147483648\"", DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR));
        assertEquals(1, metrics.processingDeadLetters.value());
        assertEquals(0, metrics.deadLetters.value());
        assertEquals(0, metrics.deadLetterWarning.occurred(), "warned already, through the decode step's warning");
    }

    @Test
    void shouldSayWhenKafkaStreamsNoLongerHeldTheRecordsBytes() {
        assertEquals(ProcessingHandlerResponse.CONTINUE, handler.handle(
                context("dedup-test-by-signature-repartition", 0, 5L, new RecordHeaders(), null, null),
                new Record<>("sig", "hit", 7L), new IllegalStateException("bug")));
        ProducerRecord<byte[], byte[]> dead = producer.history().get(0);
        assertNull(dead.value());
        assertTrue(DeadLetters.header(dead.headers(), DeadLetters.ERROR).startsWith("(record bytes not kept"),
                DeadLetters.header(dead.headers(), DeadLetters.ERROR));
    }

    @Test
    void shouldFailForKafkaAndStateFailuresAndPunctuationsWritingNothing() {
        for (Exception e : List.of(new StreamsException("x"), new ProcessorStateException("disk full"),
                new KafkaException("x"), new SchemaRegistryException("unavailable", 503, -1, null))) {
            assertEquals(ProcessingHandlerResponse.FAIL, handler.handle(context("t", 0, 1L, new RecordHeaders(), KEY,
                    VALUE), new Record<>("k", "v", 1L), e), e.toString());
        }
        // a punctuation: no record to set aside
        assertEquals(ProcessingHandlerResponse.FAIL, handler.handle(context(null, -1, -1L, new RecordHeaders(), null,
                null), null, new IllegalStateException("bug in publish")));
        assertTrue(producer.history().isEmpty());
        assertEquals(0, metrics.deadLetters());
    }

    @Test
    void shouldFailWhenTheDeadLetterCannotBeWritten() {
        producer.sendException = new KafkaException("broker unreachable");
        assertEquals(ProcessingHandlerResponse.FAIL, handler.handle(context("t", 0, 1L, new RecordHeaders(), KEY, VALUE),
                new Record<>("k", "v", 1L), new IllegalStateException("bug")));
        deadLetters.close();
        producer.sendException = null;
        assertEquals(ProcessingHandlerResponse.FAIL, handler.handle(context("t", 0, 2L, new RecordHeaders(), KEY, VALUE),
                new Record<>("k", "v", 1L), new IllegalStateException("bug")), "closing");
        assertEquals(0, metrics.deadLetters());
    }

    /**
     * A producer in a fatal error state (a real one after an authorization or authentication failure as it got its
     * producer id) refuses every later send as this one does: the next dead letter is written by a new one, and the
     * failed one is closed.
     */
    @Test
    void shouldWriteTheNextDeadLetterWithANewProducerAfterOneFailedForGood() {
        List<MockProducer<byte[], byte[]>> made = new java.util.ArrayList<>();
        ProcessingDeadLetters renewing = new ProcessingDeadLetters("tapline.dlq", metrics, () -> {
            MockProducer<byte[], byte[]> p = new MockProducer<>(true, null, new ByteArraySerializer(),
                    new ByteArraySerializer());
            if (made.isEmpty()) {
                p.sendException = new KafkaException("Cannot perform send because at least one previous transactional "
                        + "or idempotent request has failed with errors.",
                        new org.apache.kafka.common.errors.ClusterAuthorizationException("not authorized"));
            }
            made.add(p);
            return p;
        });
        RecordFailureHandler renewingHandler = handler(renewing);
        assertEquals(ProcessingHandlerResponse.FAIL, renewingHandler.handle(context("t", 0, 1L, new RecordHeaders(), KEY,
                VALUE), new Record<>("k", "v", 1L), new IllegalStateException("bug")));
        assertEquals(ProcessingHandlerResponse.CONTINUE, renewingHandler.handle(context("t", 0, 2L, new RecordHeaders(),
                KEY, VALUE), new Record<>("k", "v", 1L), new IllegalStateException("bug")));
        assertEquals(2, made.size(), "a new producer for the second dead letter");
        assertTrue(made.get(0).closed(), "the failed producer is closed");
        assertEquals(1, made.get(1).history().size());
        assertEquals(1, metrics.processingDeadLetters.value());
        renewing.close();
        assertTrue(made.get(1).closed());
    }

    /**
     * The dead letters' own producer connects as Kafka Streams' producer does (brokers, security and producer.*
     * settings), takes the dead-letter topic's record size, and waits less than the transaction timeout.
     */
    @Test
    void deadLetterProducerTakesTheStreamsProducerSettings() {
        java.util.Properties streams = DedupTopology.streamsConfig("dedup-test", "127.0.0.1:1", 1, 1,
                System.getProperty("java.io.tmpdir"), Map.of("producer.security.protocol", "SSL", "ssl.keystore.type", "PKCS12"));
        Map<String, Object> config = ProcessingDeadLetters.producerConfig(streams);
        assertEquals("127.0.0.1:1", config.get("bootstrap.servers"));
        assertEquals("SSL", config.get("security.protocol"));
        assertEquals("PKCS12", config.get("ssl.keystore.type"));
        assertEquals(io.tapline.topics.TaplineTopics.DLQ_MAX_BYTES, config.get("max.request.size"));
        assertEquals("lz4", config.get("compression.type"));
        assertEquals("all", config.get("acks"));
        assertFalse(config.containsKey("transactional.id"));
        assertTrue(((Number) config.get("delivery.timeout.ms")).longValue() < 10_000);
        config.put("security.protocol", "PLAINTEXT");
        // the settings are ones a producer accepts
        new org.apache.kafka.clients.producer.KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())
                .close(java.time.Duration.ZERO);
    }

    /**
     * A dead letter holds the stream thread for at most the send's wait for the topic's metadata (max.block.ms, at the
     * first dead letter or after the topic's leader moved) and then the delivery timeout, which starts only once the
     * send returned: together they stay under the exactly-once transaction timeout Kafka Streams gives its producers,
     * or a slow dead letter would let the task's transaction expire.
     */
    @Test
    void theLongestDeadLetterWriteIsWithinTheTransactionTimeout() {
        java.util.Properties streams = DedupTopology.streamsConfig("dedup-test", "127.0.0.1:1", 1, 1,
                System.getProperty("java.io.tmpdir"), Map.of());
        Map<String, Object> config = ProcessingDeadLetters.producerConfig(streams);
        long transactionTimeout = millis(new org.apache.kafka.streams.StreamsConfig(streams).getProducerConfigs("dedup-test")
                .get("transaction.timeout.ms"));
        long longest = millis(config.get("max.block.ms")) + millis(config.get("delivery.timeout.ms"));
        assertTrue(longest < transactionTimeout, "max.block.ms + delivery.timeout.ms = " + longest
                + " ms, the transaction timeout " + transactionTimeout + " ms");
    }

    private static long millis(Object setting) {
        return Long.parseLong(String.valueOf(setting));
    }

    private static ErrorHandlerContext context(String topic, int partition, long offset, Headers headers, byte[] key,
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
