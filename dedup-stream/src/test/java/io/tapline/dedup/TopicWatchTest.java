package io.tapline.dedup;

import static io.tapline.dedup.TopicCheckTest.codeTopics;
import static io.tapline.dedup.TopicCheckTest.described;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.config.TaplineConfig;
import io.tapline.logging.TaplineLogging;
import io.tapline.ops.Metrics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.event.Level;

/**
 * The running job's re-check of its topics' settings, over a describe that answers what the test sets: each change is
 * logged once, a refusal set in the gauge until fixed, and an unanswered describe keeps the last verdict.
 */
@Timeout(30)
class TopicWatchTest {

    private static final String CASES_REFUSED = "tapline_dedup_topic_settings_refused{setting=\"cleanup.policy\","
            + "topic=\"tapline.cases\"}";

    private final TaplineConfig config = DedupOptions.load(new String[0], Map.of());
    private final Metrics registry = new Metrics();
    /** What the next describe answers: each topic's settings. */
    private Map<String, Map<String, String>> settings = codeTopics();
    private Map<String, Throwable> failures = Map.of();
    private ByteArrayOutputStream logged;

    @BeforeEach
    void captureLog() {
        logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.DEBUG);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreLog() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        TaplineLogging.output(System.err);
    }

    private TopicWatch watch(List<TopicCheck.Finding> warnedAtStart) {
        return watch(warnedAtStart, Set.of(), null);
    }

    /** A watch started after a start-up check that warned of {@code warnedAtStart} and read {@code read} at {@code at}. */
    private TopicWatch watch(List<TopicCheck.Finding> warnedAtStart, Set<String> read, Instant at) {
        return new TopicWatch(config, topics -> new TopicCheck.Answers(Map.of(), Map.of(), settings, failures),
                registry, atStart(warnedAtStart, read, at), () -> { });
    }

    private static TopicCheck.Result atStart(List<TopicCheck.Finding> warnings, Set<String> read, Instant at) {
        return new TopicCheck.Result(null, Map.of(), Set.of(), Map.of(), warnings, read, at);
    }

    /** The watch's lines logged since the last call. */
    private List<String> lines() {
        TaplineLogging.flush(Duration.ofSeconds(10));
        List<String> lines = logged.toString(StandardCharsets.UTF_8).lines()
                .filter(l -> l.contains(TopicWatch.class.getName())).toList();
        logged.reset();
        return lines;
    }

    private String gauge(String series) {
        return registry.scrape().lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> l.substring(series.length() + 1)).orElse(null);
    }

    @Test
    void shouldLogACasesTopicNoLongerCompactedOnceAtErrorAndSetTheGaugeUntilItIsFixed() throws Exception {
        TopicWatch watch = watch(List.of());
        watch.check();
        assertEquals(List.of(), lines(), "settings as at start: nothing to say");
        assertNull(gauge(CASES_REFUSED));

        // kafka-configs.sh --alter --add-config cleanup.policy=delete on the running job's cases topic
        settings.put("tapline.cases", described(Map.of("max.message.bytes", "16777216",
                "min.compaction.lag.ms", "7200000")));
        watch.check();
        List<String> lines = lines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains(" ERROR "), lines.get(0));
        assertTrue(lines.get(0).contains("option --topic-cases: topic tapline.cases has cleanup.policy=delete, not "
                + "compact: cases older than retention.ms=604800000 (7 d) are deleted, current or not (fix: "), lines.get(0));
        assertTrue(lines.get(0).endsWith("(changed while the job runs: the job would refuse to start on it; going on)"),
                lines.get(0));
        assertEquals("1", gauge(CASES_REFUSED));

        watch.check();
        assertEquals(List.of(), lines(), "the same refusal is not logged again");
        assertEquals("1", gauge(CASES_REFUSED));

        settings = codeTopics();
        watch.check();
        lines = lines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains(" INFO ") && lines.get(0).endsWith("topic tapline.cases now has "
                + "cleanup.policy=compact: fixed, as the job needs it"), lines.get(0));
        assertEquals("0", gauge(CASES_REFUSED));
        watch.check();
        assertEquals(List.of(), lines());
    }

    /**
     * A warning (a retention added to the compacted cases topic) is logged once at WARN, again when its value changes,
     * and not at all when it was warned of at start already; no gauge.
     */
    @Test
    void shouldLogAWarningOncePerChangeAndNotOneLoggedAtStart() throws Exception {
        settings.put("tapline.dlq", described(Map.of("max.message.bytes", "1048588")));
        List<TopicCheck.Finding> atStart = TopicCheck.findings(config, settings);
        assertEquals(1, atStart.size(), atStart.toString());
        TopicWatch watch = watch(atStart);
        watch.check();
        assertEquals(List.of(), lines(), "warned of at start already");

        settings.put("tapline.cases", described(Map.of("cleanup.policy", "compact,delete", "retention.ms", "1209600000",
                "max.message.bytes", "16777216", "min.compaction.lag.ms", "7200000")));
        watch.check();
        List<String> lines = lines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains(" WARN ") && lines.get(0).contains("topic tapline.cases has "
                + "cleanup.policy=compact,delete: cases not written again within retention.ms=1209600000 (14 d)"),
                lines.get(0));
        watch.check();
        assertEquals(List.of(), lines());

        settings.put("tapline.cases", described(Map.of("cleanup.policy", "compact,delete", "retention.ms", "259200000",
                "max.message.bytes", "16777216", "min.compaction.lag.ms", "7200000")));
        watch.check();
        lines = lines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains(" WARN ") && lines.get(0).contains("retention.ms=259200000 (3 d)"), lines.get(0));
        assertFalse(registry.scrape().contains(TopicWatch.REFUSED), "a warning sets no gauge");
    }

    /** No answer for a topic: a debug line, and what was logged of it stands (no "fixed", the gauge kept). */
    @Test
    void shouldKeepTheLastVerdictWhenTheBrokersDoNotAnswer() throws Exception {
        TopicWatch watch = watch(List.of());
        settings.put("tapline.dlq", described(Map.of("cleanup.policy", "compact", "max.message.bytes", "17825792")));
        watch.check();
        assertEquals(1, lines().size());
        String dlqRefused = "tapline_dedup_topic_settings_refused{setting=\"cleanup.policy\",topic=\"tapline.dlq\"}";
        assertEquals("1", gauge(dlqRefused));

        settings = Map.of();
        failures = Map.of("tapline.interactions", new TimeoutException("no answer within 15 s"),
                "tapline.cases", new TimeoutException("no answer within 15 s"),
                "tapline.noise", new TimeoutException("no answer within 15 s"),
                "tapline.dlq", new TimeoutException("no answer within 15 s"));
        watch.check();
        List<String> lines = lines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains(" DEBUG ") && lines.get(0).contains("no answer within 15 s; keeping their last "
                + "verdict"), lines.get(0));
        assertEquals("1", gauge(dlqRefused));

        settings = codeTopics();
        failures = Map.of();
        watch.check();
        lines = lines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).endsWith("topic tapline.dlq now has cleanup.policy=delete: fixed, as the job needs it"),
                lines.get(0));
        assertEquals("0", gauge(dlqRefused));
    }

    /**
     * A topic deleted under the running job is the most drastic change the watch can see: once at ERROR with the
     * gauge set (setting="exists"), and its return at INFO. It was a debug line like a broker that does not answer.
     */
    @Test
    void shouldLogATopicDeletedUnderTheJobOnceAtErrorAndItsReturn() throws Exception {
        TopicWatch watch = watch(List.of());
        settings = new java.util.HashMap<>(codeTopics());
        settings.remove("tapline.cases");
        failures = Map.of("tapline.cases", new org.apache.kafka.common.errors.UnknownTopicOrPartitionException(
                "This server does not host this topic-partition."));
        watch.check();
        List<String> lines = lines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains(" ERROR ") && lines.get(0).contains("option --topic-cases: topic tapline.cases "
                + "does not exist any more (deleted while the job runs)"), lines.get(0));
        String gone = "tapline_dedup_topic_settings_refused{setting=\"exists\",topic=\"tapline.cases\"}";
        assertEquals("1", gauge(gone));
        watch.check();
        assertEquals(List.of(), lines(), "once per change");

        settings = codeTopics();
        failures = Map.of();
        watch.check();
        lines = lines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains(" INFO ") && lines.get(0).endsWith("topic tapline.cases exists again"),
                lines.get(0));
        assertEquals("0", gauge(gone));
    }

    /** Its thread is a daemon of its own, and closing does not wait for a describe the brokers do not answer. */
    @Test
    void shouldNotHoldUpShutdownWithADescribeInFlight() throws Exception {
        assertNull(TopicWatch.start(config, new Properties(), registry, atStart(List.of(), Set.of(), null),
                Duration.ZERO), "0 = never");
        Properties streams = DedupOptions.streams(DedupOptions.load(new String[] {"--kafka-bootstrap-servers",
                "127.0.0.1:1"}, Map.of()));
        TopicWatch watch = TopicWatch.start(config, streams, registry, atStart(List.of(), Set.of(), null),
                Duration.ofSeconds(1));
        Thread thread = null;
        for (long end = System.nanoTime() + Duration.ofSeconds(5).toNanos(); thread == null && System.nanoTime() < end; ) {
            thread = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("tapline-dedup-topic-watch")).findFirst().orElse(null);
            Thread.sleep(50);
        }
        assertTrue(thread != null && thread.isDaemon(), "a daemon thread of its own");
        Thread.sleep(500); // its first describe, which no broker answers, under way
        long started = System.nanoTime();
        watch.close();
        thread.join(Duration.ofSeconds(5).toMillis());
        assertFalse(thread.isAlive(), "still describing after close");
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(5).toNanos());
    }
}
