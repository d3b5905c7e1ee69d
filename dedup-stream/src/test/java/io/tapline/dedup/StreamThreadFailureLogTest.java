package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.logging.TaplineLogging;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.internals.TaskExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * One stream thread failure, logged as Kafka Streams 4.3.1 logs it around the job's handler: the task's line
 * ({@code TaskExecutor}: "Failed to process stream task ... due to the following error:" with the exception), the
 * handler's, then the client's ({@code KafkaStreams}: "Replacing thread in the streams uncaught exception handler" with
 * the exception the thread ended on, a {@code StreamsException} wrapping the task's). Each wrote the whole trace: a
 * registry outage's failure was some 150 lines, the same trace over and over.
 */
class StreamThreadFailureLogTest {

    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();

    @BeforeEach
    void capture() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        TaplineLogging.flush(Duration.ofSeconds(10));
        TaplineLogging.output(System.err);
    }

    @Test
    void aStreamThreadFailureWritesOneLineWithItsCausesAndItsStackTraceOnce() {
        RuntimeException root = new SerializationException("Error registering Avro schema for tapline.noise-value",
                new IOException("Connection refused"));
        StreamsException ended = new StreamsException(root, new TaskId(0, 0));
        StreamsUncaughtExceptionHandler handler =
                DedupMain.threadFailures(new RestartBudget(5, Duration.ofMinutes(5), System::nanoTime));

        LoggerFactory.getLogger(TaskExecutor.class)
                .error("Failed to process stream task 0_0 due to the following error:", root);
        StreamThreadExceptionResponse response = handler.handle(ended);
        LoggerFactory.getLogger(KafkaStreams.class)
                .error("Replacing thread in the streams uncaught exception handler", ended);

        assertEquals(StreamThreadExceptionResponse.REPLACE_THREAD, response);
        assertTrue(TaplineLogging.flush(Duration.ofSeconds(10)));
        String all = logged.toString(StandardCharsets.UTF_8);
        assertEquals(1, count(all, "\tat " + root.getStackTrace()[0]), "the trace written once:\n" + all);
        assertEquals(1, count(all, "Caused by: java.io.IOException: Connection refused"), all);
        List<String> tapline = all.lines().filter(l -> l.contains(" ERROR io.tapline.dedup.DedupMain - ")).toList();
        assertEquals(1, tapline.size(), all);
        assertTrue(tapline.get(0).endsWith("stream thread failed; replacing it (exactly-once: it resumes from the last "
                + "commit): org.apache.kafka.streams.errors.StreamsException: " + ended.getMessage()
                + " <- caused by org.apache.kafka.common.errors.SerializationException: Error registering Avro schema "
                + "for tapline.noise-value <- caused by java.io.IOException: Connection refused"), tapline.get(0));
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + part.length())) {
            n++;
        }
        return n;
    }
}
