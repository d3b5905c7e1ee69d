package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.logging.TaplineLogging;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/**
 * {@link BrokerSilence} over the response counts Kafka's clients report, on a clock the test moves. What a real
 * client's counts do while its broker answers with no records, and while it is away, {@code BrokerSilenceIT} shows.
 */
class BrokerSilenceTest {

    private static final String CONSUMER = "app-StreamThread-1-consumer";
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final Map<MetricName, Metric> metrics = new LinkedHashMap<>();
    private final AtomicReference<Map<MetricName, Metric>> started = new AtomicReference<>();
    private final BrokerSilence silence = new BrokerSilence(started::get, clock::get, Duration.ofSeconds(60));

    @Test
    void shouldStayAtZeroForAnIdleJobWhoseBrokersAnswerWithNothing() {
        started.set(metrics);
        // no record comes in: the consumer's fetches and heartbeats are still answered, every read sees more
        for (int i = 1; i <= 20; i++) {
            responses("consumer-metrics", CONSUMER, 7 * i);
            responses("producer-metrics", "app-StreamThread-1-producer", 2); // an idle producer asks nothing
            advance(30);
            assertEquals(0, silence.seconds(), "read " + i);
            assertFalse(silence.tooLong());
        }
    }

    @Test
    void shouldGrowWhileNoClientsCountRisesAndFallBackAtTheFirstAnswer() {
        started.set(metrics);
        responses("consumer-metrics", CONSUMER, 100);
        assertEquals(0, silence.seconds());
        advance(45);
        assertEquals(45, silence.seconds(), "no answer since the last read");
        assertFalse(silence.tooLong());
        advance(16);
        assertEquals(61, silence.seconds());
        assertTrue(silence.tooLong(), "past 60 s: /ready answers 503");
        responses("admin-client-metrics", "app-admin", 1); // any client's answer counts
        assertEquals(0, silence.seconds());
        assertFalse(silence.tooLong());
    }

    @Test
    void shouldNotTakeARequestSentOrAPerNodeCountForAnAnswer() {
        started.set(metrics);
        responses("consumer-metrics", CONSUMER, 10);
        silence.seconds();
        advance(90);
        // requests keep being sent to a broker that does not answer; the per-node copy of a count is left out
        metrics.put(new MetricName("request-total", "consumer-metrics", "", Map.of("client-id", CONSUMER)), StreamsGaugesTest.metric(500));
        metrics.put(new MetricName("response-total", "consumer-node-metrics", "",
                Map.of("client-id", CONSUMER, "node-id", "node-1")), StreamsGaugesTest.metric(11));
        metrics.put(new MetricName("last-poll-seconds-ago", "consumer-metrics", "", Map.of("client-id", CONSUMER)),
                StreamsGaugesTest.metric(0));
        assertEquals(90, silence.seconds());
        assertTrue(silence.tooLong());
    }

    @Test
    void shouldCountFromTheStartWhileNoBrokerHasAnsweredYet() {
        responses("consumer-metrics", CONSUMER, 0);
        advance(120);
        assertEquals(0, silence.seconds(), "Kafka Streams not started: nothing is asked yet");
        started.set(metrics);
        assertEquals(0, silence.seconds(), "counted from the first read after the start");
        advance(70);
        assertEquals(70, silence.seconds());
        assertTrue(silence.tooLong());
    }

    @Test
    void shouldTakeAReplacedThreadsNewClientForAnAnswerOnlyOnceItCountsOne() {
        started.set(metrics);
        responses("consumer-metrics", CONSUMER, 500);
        silence.seconds();
        advance(20);
        // the stream thread is replaced by one with the same index: its new consumer counts from 0
        responses("consumer-metrics", CONSUMER, 0);
        assertEquals(20, silence.seconds(), "a new client with no answer is no answer");
        advance(20);
        responses("consumer-metrics", CONSUMER, 3);
        assertEquals(0, silence.seconds(), "below the old client's 500, but answers of the new one");
        advance(20);
        metrics.clear(); // every client gone (the job closing)
        assertEquals(20, silence.seconds());
        advance(5);
        responses("consumer-metrics", "app-StreamThread-2-consumer", 1);
        assertEquals(0, silence.seconds(), "a client not seen before, made since the last read, has an answer");
    }

    @Test
    void shouldNeverBeTooLongWithTheBoundAtZero() {
        BrokerSilence never = new BrokerSilence(started::get, clock::get, Duration.ZERO);
        started.set(metrics);
        never.seconds();
        advance(3600);
        assertEquals(3600, never.seconds(), "the gauge still says it");
        assertFalse(never.tooLong());
    }

    @Test
    void shouldSayTheSilenceInTenthsOfASecondSoThatItReadsAboveTheLimitItPassed() {
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        try {
            started.set(metrics);
            responses("consumer-metrics", CONSUMER, 100);
            silence.seconds();
            clock.addAndGet(60_960_000_000L);
            assertTrue(silence.tooLong());
            // whole seconds cut down, this read "for 60 s (more than dedup.ready.max.broker.silence, 60 s)"
            assertTrue(TaplineLogging.flush(Duration.ofSeconds(10)), "lines are written by the log's writer thread");
            String log = logged.toString(StandardCharsets.UTF_8);
            assertTrue(log.contains("no broker has answered this job's Kafka clients for 60.9 s (more than "
                    + "dedup.ready.max.broker.silence, 60.0 s)"), log);
            responses("consumer-metrics", CONSUMER, 101);
            assertFalse(silence.tooLong());
            assertTrue(TaplineLogging.flush(Duration.ofSeconds(10)));
            assertTrue(logged.toString(StandardCharsets.UTF_8).contains("the brokers answer again"));
        } finally {
            TaplineLogging.flush(Duration.ofSeconds(10));
            TaplineLogging.output(System.err);
        }
    }

    @Test
    void shouldCutTenthsDown() {
        assertEquals("0.0", BrokerSilence.tenths(99_999_999L));
        assertEquals("60.9", BrokerSilence.tenths(60_999_999_999L));
        assertEquals("61.0", BrokerSilence.tenths(61_000_000_000L));
        assertEquals("125.3", BrokerSilence.tenths(125_300_000_000L));
    }

    private void advance(long seconds) {
        clock.addAndGet(seconds * 1_000_000_000L);
    }

    private void responses(String group, String client, double count) {
        metrics.put(new MetricName("response-total", group, "", Map.of("client-id", client)), StreamsGaugesTest.metric(count));
    }
}
