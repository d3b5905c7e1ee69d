package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.registry.SchemaRegistryException;
import io.tapline.topics.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Response;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Result;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.SerializationExceptionOrigin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SerializationFailureHandlerTest {

    private static final byte[] KEY = "k".getBytes(StandardCharsets.UTF_8);
    private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

    private final DedupMetrics metrics = DedupMetrics.detached();
    private final SerializationFailureHandler handler = new SerializationFailureHandler();

    @BeforeEach
    void configure() {
        handler.configure(Map.of(RecordDeadLetters.CONFIG, RecordDeadLetters.of(DedupConfig.defaults(), metrics)));
    }

    @Test
    void onlyAnEncodingFailureIsTheRecords() {
        assertTrue(SerializationFailureHandler.recordAtFault(new SerializationException("cannot encode",
                new NullPointerException("null of string in field id"))));
        assertTrue(SerializationFailureHandler.recordAtFault(new IllegalArgumentException("unexpected value")));

        // a serializer's schema is its class's: every registry failure fails every record alike, even "not found"
        assertFalse(SerializationFailureHandler.recordAtFault(new SerializationException("cannot serialize",
                new SchemaRegistryException("unreachable", -1, -1, null))));
        assertFalse(SerializationFailureHandler.recordAtFault(new SerializationException("cannot serialize",
                new SchemaRegistryException("subject not found", 404, 40401, null))));
        assertFalse(SerializationFailureHandler.recordAtFault(new SerializationException("cannot serialize",
                new SchemaRegistryException("unauthorized", 401, -1, null))));
        assertFalse(SerializationFailureHandler.recordAtFault(new SerializationException("x", new TimeoutException("t"))));
        assertFalse(SerializationFailureHandler.recordAtFault(new SerializationException("x", new OutOfMemoryError())));
        assertFalse(SerializationFailureHandler.recordAtFault(new Exception("checked")));
    }

    @Test
    void shouldResumeWithTheSourceRecordsDeadLetter() {
        Response response = handler.handleSerializationError(RecordFailureHandlerTest.context("tapline.interactions", 2,
                        9L, new RecordHeaders().add("traceparent", "00-abc".getBytes(StandardCharsets.UTF_8)), KEY, VALUE),
                new ProducerRecord<>("tapline.cases", "case-0", "a case"),
                new SerializationException("cannot encode io.tapline.avro.Case", new NullPointerException("null")),
                SerializationExceptionOrigin.VALUE);

        assertEquals(Result.RESUME, response.result());
        List<ProducerRecord<byte[], byte[]>> dead = response.deadLetterQueueRecords();
        assertEquals(1, dead.size());
        assertEquals("tapline.dlq", dead.get(0).topic());
        assertArrayEquals(KEY, dead.get(0).key());
        assertArrayEquals(VALUE, dead.get(0).value());
        assertEquals("00-abc", DeadLetters.header(dead.get(0).headers(), "traceparent"));
        assertEquals("9", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_OFFSET));
        // the test context names its node learn-noise
        assertEquals("serializing the value for tapline.cases failed in learn-noise: "
                + "org.apache.kafka.common.errors.SerializationException: cannot encode io.tapline.avro.Case <- caused by "
                + "java.lang.NullPointerException: null", DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR));
        assertEquals(1, metrics.processingDeadLetters.value());
    }

    @Test
    void shouldFailForRegistryFailuresAndPublicationsWritingNothing() {
        Response outage = handler.handleSerializationError(RecordFailureHandlerTest.context("t", 0, 1L,
                        new RecordHeaders(), KEY, VALUE), new ProducerRecord<>("tapline.cases", "k", "v"),
                new SerializationException("cannot serialize", new SchemaRegistryException("unreachable", -1, -1, null)),
                SerializationExceptionOrigin.VALUE);
        // a publication (a punctuation): no record to set aside
        Response publication = handler.handleSerializationError(RecordFailureHandlerTest.context(null, -1, -1L,
                        new RecordHeaders(), null, null), new ProducerRecord<>("tapline.cases", "k", "v"),
                new SerializationException("cannot encode", new NullPointerException()), SerializationExceptionOrigin.VALUE);
        for (Response response : List.of(outage, publication)) {
            assertEquals(Result.FAIL, response.result());
            assertTrue(response.deadLetterQueueRecords().isEmpty());
        }
        assertEquals(0, metrics.deadLetters());
    }

    @Test
    void shouldLeaveSendErrorsToTheDefaultHandler() {
        ProducerRecord<byte[], byte[]> sent = new ProducerRecord<>("tapline.cases", KEY, VALUE);
        assertEquals(Result.RETRY, handler.handleError(RecordFailureHandlerTest.context("t", 0, 1L, new RecordHeaders(),
                KEY, VALUE), sent, new TimeoutException("slow broker")).result());
        assertEquals(Result.FAIL, handler.handleError(RecordFailureHandlerTest.context("t", 0, 1L, new RecordHeaders(),
                KEY, VALUE), sent, new org.apache.kafka.common.errors.RecordTooLargeException("too large")).result());
        assertEquals(0, metrics.deadLetters());
    }

    @Test
    void handlersSetThroughKafkaStreamsSettingsAreKept() {
        DedupConfig config = DedupConfig.defaults();
        Properties props = DedupTopology.streamsConfig("dedup-test", "127.0.0.1:1", 1, 1, "/tmp/unused", Map.of(
                StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class,
                "default.production.exception.handler", "com.example.Handler"));
        DedupTopology.deadLetterRecordFailures(props, config, metrics);
        assertEquals(LogAndContinueProcessingExceptionHandler.class,
                props.get(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG));
        assertFalse(props.containsKey(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG),
                "the deprecated setting would be ignored beside the new one");

        Properties defaults = DedupTopology.streamsConfig("dedup-test", "127.0.0.1:1", 1, 1, "/tmp/unused", Map.of());
        DedupTopology.deadLetterRecordFailures(defaults, config, metrics);
        assertEquals(RecordFailureHandler.class, defaults.get(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG));
        assertEquals(SerializationFailureHandler.class,
                defaults.get(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG));
    }
}
