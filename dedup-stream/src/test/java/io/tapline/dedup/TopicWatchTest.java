package io.tapline.dedup;

import static io.tapline.dedup.TopicCheckTest.codeTopics;
import static io.tapline.dedup.TopicCheckTest.described;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.config.TaplineConfig;
import io.tapline.logging.TaplineLogging;
import io.tapline.ops.ExpositionCheck;
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
    private static final String CHECKED = "tapline_dedup_topic_settings_checked_timestamp_seconds";
    private static final List<String> TOPICS = List.of("tapline.interactions", "tapline.cases", "tapline.noise",
            "tapline.dlq");

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

    /** Every series of the refusal gauge, each as its line: labels and value. */
    private List<String> refusedSeries() {
        return registry.scrape().lines().filter(l -> l.startsWith(TopicWatch.REFUSED + "{")).sorted().toList();
    }

    private static String refused(String topic, String setting) {
        return TopicWatch.REFUSED + "{setting=\"" + setting + "\",topic=\"" + topic + "\"}";
    }

    private static String checked(String topic) {
        return CHECKED + "{topic=\"" + topic + "\"}";
    }

    /** The refusal gauge's series of the project's own topics, each at {@code value}: what the watch can refuse. */
    private static List<String> everyRefusable(String value) {
        return java.util.stream.Stream.of(refused("tapline.cases", "cleanup.policy"), refused("tapline.cases", "exists"),
                refused("tapline.dlq", "cleanup.policy"), refused("tapline.dlq", "exists"),
                refused("tapline.interactions", "exists"), refused("tapline.noise", "cleanup.policy"),
                refused("tapline.noise", "exists")).map(l -> l + " " + value).sorted().toList();
    }

    @Test
    void shouldLogACasesTopicNoLongerCompactedOnceAtErrorAndSetTheGaugeUntilItIsFixed() throws Exception {
        TopicWatch watch = watch(List.of());
        watch.check();
        assertEquals(List.of(), lines(), "settings as at start: nothing to say");
        assertEquals("0", gauge(CASES_REFUSED), "checked and fine");

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
        assertEquals(everyRefusable("0"), refusedSeries(), "a warning sets no gauge");
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
        assertNull(gauge(refused("tapline.cases", "cleanup.policy")), "its settings not read: not checked");
        assertTrue(gauge(checked("tapline.cases")) != null, "found deleted: checked");
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
        assertEquals(everyRefusable("0"), refusedSeries());
    }

    /**
     * The settings of a topic deleted under the job are not known while it is gone: their series read NaN, not the last
     * verdict (a 0 that read as "checked and fine"), until the topic exists again and is read.
     */
    @Test
    void shouldShowTheSettingsOfADeletedTopicAsNotKnownUntilItExistsAgain() throws Exception {
        TopicWatch watch = watch(List.of(), Set.of("tapline.cases", "tapline.noise", "tapline.dlq"), Instant.now());
        assertEquals("0", gauge(CASES_REFUSED));
        settings = new java.util.HashMap<>(codeTopics());
        settings.remove("tapline.cases");
        failures = Map.of("tapline.cases", new org.apache.kafka.common.errors.UnknownTopicOrPartitionException(
                "This server does not host this topic-partition."));
        watch.check();
        lines();
        assertEquals("1", gauge(refused("tapline.cases", "exists")));
        assertEquals("NaN", gauge(CASES_REFUSED));
        assertEquals("0", gauge(refused("tapline.noise", "cleanup.policy")), "the other topics as they are");
        ExpositionCheck.check(registry.scrape()); // NaN as the text format writes it

        settings = codeTopics();
        failures = Map.of();
        watch.check();
        lines();
        assertEquals("0", gauge(CASES_REFUSED));
        assertEquals("0", gauge(refused("tapline.cases", "exists")));
    }

    /**
     * Every setting the watch can refuse on (each topic's existence, the cleanup policy of the cases, noise and
     * dead-letter topics) has its series at 0 from the first check that reads the topic's settings, so that a 0 says
     * "checked and fine" and a missing series "never checked"; each topic's check is stamped. Before, a series appeared
     * at its first refusal only.
     */
    @Test
    void shouldShowEverySettingItCanRefuseAtZeroFromTheFirstCheckThatReadsIt() throws Exception {
        TopicWatch watch = watch(List.of());
        assertEquals(List.of(), refusedSeries(), "nothing checked yet");
        assertFalse(registry.scrape().contains(CHECKED));

        long before = Instant.now().getEpochSecond();
        watch.check();
        long after = Instant.now().getEpochSecond();
        assertEquals(List.of(), lines());
        assertEquals(everyRefusable("0"), refusedSeries());
        ExpositionCheck exposition = ExpositionCheck.check(registry.scrape()); // as a strict scraper reads it
        assertEquals("gauge", exposition.type(CHECKED));
        for (String topic : TOPICS) {
            double stamp = exposition.value(CHECKED, "topic", topic);
            assertTrue(before <= stamp && stamp <= after, topic + " checked at " + stamp);
        }
    }

    /**
     * The start-up check read and judged the settings already (a refusal there stops the start): the series of the
     * topics it read are at 0 from the start, stamped with its time; a topic it could not read has none until a
     * re-check reads it.
     */
    @Test
    void shouldStartFromTheTopicsTheStartUpCheckRead() throws Exception {
        Instant start = Instant.parse("2030-01-02T03:04:05Z");
        TopicWatch watch = watch(List.of(), Set.of("tapline.cases", "tapline.noise", "tapline.dlq"), start);
        assertEquals("0", gauge(CASES_REFUSED));
        assertEquals("0", gauge(refused("tapline.cases", "exists")));
        assertEquals(Long.toString(start.getEpochSecond()), gauge(checked("tapline.dlq")));
        assertNull(gauge(refused("tapline.interactions", "exists")), "not read at start");
        assertNull(gauge(checked("tapline.interactions")));

        settings.put("tapline.cases", described(Map.of("max.message.bytes", "16777216",
                "min.compaction.lag.ms", "7200000")));
        long before = Instant.now().getEpochSecond();
        watch.check();
        long after = Instant.now().getEpochSecond();
        assertEquals(1, lines().size());
        assertEquals("1", gauge(CASES_REFUSED), "the transitions as before");
        assertEquals("0", gauge(refused("tapline.interactions", "exists")));
        long stamp = Long.parseLong(gauge(checked("tapline.interactions")));
        assertTrue(before <= stamp && stamp <= after, "checked at " + stamp);
    }

    /** A check without an answer for a topic stamps nothing and adds no series: the last verdict and its time stand. */
    @Test
    void shouldNotStampATopicWhoseSettingsWereNotRead() throws Exception {
        Instant start = Instant.parse("2020-01-02T03:04:05Z");
        TopicWatch watch = watch(List.of(), Set.of("tapline.cases"), start);
        settings = Map.of();
        failures = Map.of("tapline.interactions", new TimeoutException("no answer within 15 s"),
                "tapline.cases", new TimeoutException("no answer within 15 s"),
                "tapline.noise", new org.apache.kafka.common.errors.TopicAuthorizationException("not authorized"),
                "tapline.dlq", new TimeoutException("no answer within 15 s"));
        watch.check();
        assertEquals(Long.toString(start.getEpochSecond()), gauge(checked("tapline.cases")));
        assertEquals(List.of(refused("tapline.cases", "cleanup.policy") + " 0", refused("tapline.cases", "exists")
                + " 0"), refusedSeries());
        assertNull(gauge(checked("tapline.noise")));

        settings = codeTopics();
        failures = Map.of();
        long before = Instant.now().getEpochSecond();
        watch.check();
        assertTrue(Long.parseLong(gauge(checked("tapline.cases"))) >= before);
        assertEquals(everyRefusable("0"), refusedSeries());
    }

    /** Its thread is a daemon of its own, and closing does not wait for a describe the brokers do not answer. */
    @Test
    void shouldNotHoldUpShutdownWithADescribeInFlight() throws Exception {
        assertNull(TopicWatch.start(config, new Properties(), registry, atStart(List.of(), Set.copyOf(TOPICS),
                Instant.now()), Duration.ZERO), "0 = never");
        assertFalse(registry.scrape().contains(TopicWatch.REFUSED) || registry.scrape().contains(CHECKED),
                "no series says a check is made while none is");
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
