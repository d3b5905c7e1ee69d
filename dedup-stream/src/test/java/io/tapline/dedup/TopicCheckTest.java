package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.config.TaplineConfig;
import io.tapline.topics.TaplineTopics;
import io.tapline.topics.TopicSpec;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The start-up topic check's decisions and wording; DedupStreamIT runs it against a real broker. */
class TopicCheckTest {

    private static final String HINT = " (create it with ./tapline stack up or the deploy manifests)";

    @Test
    void shouldNameTheOptionOfAMissingTopic() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        assertEquals("option --topic-cases: topic tapline.cases does not exist" + HINT,
                TopicCheck.refusal(config, List.of("tapline.cases")));
        assertEquals("option --topic-interactions: topic tapline.interactions does not exist" + HINT,
                TopicCheck.refusal(config, List.of("tapline.interactions")));
    }

    @Test
    void shouldNameEveryMissingTopicInOneLine() {
        TaplineConfig config = DedupOptions.load(new String[] {"--topic-dlq", "my.dlq"}, Map.of());
        String refusal = TopicCheck.refusal(config, List.of("tapline.cases", "tapline.noise", "my.dlq"));
        assertEquals("option --topic-cases: topic tapline.cases does not exist; option --topic-noise: topic "
                + "tapline.noise does not exist; option --topic-dlq: topic my.dlq does not exist (create them with "
                + "./tapline stack up or the deploy manifests)", refusal);
        assertTrue(refusal.lines().count() == 1, refusal);
    }

    @Test
    void shouldNameTheVariableThatSetTheTopicAndEveryOptionNamingIt() {
        TaplineConfig config = DedupOptions.load(new String[] {"--topic-noise", "shared.out"},
                Map.of("TAPLINE_TOPIC_CASES", "shared.out"));
        assertEquals("option --topic-cases (set by TAPLINE_TOPIC_CASES), --topic-noise: topic shared.out does not exist"
                + HINT, TopicCheck.refusal(config, List.of("shared.out")));
    }

    /**
     * Only a definite "unknown topic" refuses: a refused describe says nothing of whether the topic exists (a broker
     * answers it alike for both), and brokers that do not answer are Kafka Streams' to wait for.
     */
    @Test
    void shouldRefuseOnlyTopicsABrokerSaidDoNotExist() {
        Map<String, Throwable> failures = new LinkedHashMap<>();
        failures.put("in", new TopicAuthorizationException(Set.of("in")));
        failures.put("cases", new UnknownTopicOrPartitionException("This server does not host this topic-partition."));
        failures.put("noise", new TimeoutException("Timed out waiting for a node assignment."));
        failures.put("dlq", new UnknownTopicOrPartitionException("This server does not host this topic-partition."));
        assertEquals(List.of("cases", "dlq"), TopicCheck.missing(failures, "127.0.0.1:9092"));

        Map<String, Throwable> unauthorized = Map.of("in", new TopicAuthorizationException(Set.of("in")));
        assertEquals(List.of(), TopicCheck.missing(unauthorized, "127.0.0.1:9092"));
        Map<String, Throwable> unanswered = Map.of("in", new TimeoutException("Timed out waiting for a node assignment."));
        assertEquals(List.of(), TopicCheck.missing(unanswered, "127.0.0.1:9092"));
        assertEquals(List.of(), TopicCheck.missing(Map.of(), "127.0.0.1:9092"));
    }

    /**
     * No broker at the address: the describe of the topics and of their settings, asked together, end within their
     * one timeout with a timeout per topic, which refuses nothing.
     */
    @Test
    @Timeout(60)
    void shouldGiveUpWithinTheTimeoutWhenNoBrokerAnswers() throws Exception {
        Set<String> topics = new LinkedHashSet<>(List.of("tapline.interactions", "tapline.cases"));
        long started = System.nanoTime();
        TopicCheck.Answers answers;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1"))) {
            answers = TopicCheck.ask(admin, topics, Set.of("tapline.cases"), Duration.ofSeconds(1));
        }
        // both calls share the deadline: one timeout and its grace, not one each
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(10).toNanos(), "took too long");
        assertEquals(topics, answers.failures().keySet());
        answers.failures().values().forEach(f -> assertInstanceOf(TimeoutException.class, f));
        assertEquals(Set.of("tapline.cases"), answers.settingsFailures().keySet());
        assertInstanceOf(TimeoutException.class, answers.settingsFailures().get("tapline.cases"));
        assertEquals(Map.of(), answers.partitions());
        assertEquals(List.of(), TopicCheck.missing(answers.failures(), "127.0.0.1:1"));
    }

    // Settings. Each map is a topic's settings as a broker describes them: every setting, the broker's default where
    // the topic has none (retention.ms 7 d, retention.bytes -1, max.message.bytes 1048588).

    private static final String FIX = "kafka-configs.sh --bootstrap-server 127.0.0.1:9092 --alter --entity-type topics"
            + " --entity-name ";

    static Map<String, String> described(Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>(Map.of("cleanup.policy", "delete", "retention.ms", "604800000",
                "retention.bytes", "-1", "max.message.bytes", "1048588", "min.compaction.lag.ms", "0"));
        settings.putAll(overrides);
        return settings;
    }

    private static Map<String, String> fitting(TopicSpec spec) {
        return described(spec.configs());
    }

    static Map<String, Map<String, String>> codeTopics() {
        Map<String, Map<String, String>> settings = new HashMap<>();
        for (TopicSpec spec : List.of(TaplineTopics.INTERACTIONS_SPEC, TaplineTopics.CASES_SPEC, TaplineTopics.NOISE_SPEC,
                TaplineTopics.DLQ_SPEC)) {
            settings.put(spec.name(), fitting(spec));
        }
        return settings;
    }

    /**
     * The topics this project creates (stack, demo, deploy manifests, create-topics.sh: TaplineTopics, which
     * DeployManifestsTest holds the manifests and the script to) pass without a word, the interactions topic included.
     */
    @Test
    void shouldPassTheTopicsTheProjectCreates() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        assertEquals(new TopicCheck.Verdict(List.of(), List.of()), TopicCheck.judge(config, codeTopics()));
    }

    /**
     * A cases topic made with the broker's defaults deletes every case older than its retention, current or not:
     * refused, naming the option, the topic, the setting and its value, and the command that fixes it.
     */
    @Test
    void shouldRefuseACasesTopicThatIsNotCompacted() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        Map<String, Map<String, String>> settings = codeTopics();
        settings.put("tapline.cases", described(Map.of("max.message.bytes", "16777216")));
        TopicCheck.Verdict verdict = TopicCheck.judge(config, settings);
        assertEquals(List.of("option --topic-cases: topic tapline.cases has cleanup.policy=delete, not compact: cases "
                + "older than retention.ms=604800000 (7 d) are deleted, current or not (fix: " + FIX + "tapline.cases "
                + "--add-config cleanup.policy=compact)"), verdict.refusals());
        assertEquals(List.of(), verdict.warnings());
    }

    @Test
    void shouldRefuseANoiseTopicThatIsNotCompactedNamingTheVariableThatSetIt() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of("TAPLINE_TOPIC_NOISE", "my.noise"));
        Map<String, Map<String, String>> settings = codeTopics();
        settings.put("my.noise", described(Map.of("retention.ms", "-1", "retention.bytes", "1073741824",
                "max.message.bytes", "16777216")));
        assertEquals(List.of("option --topic-noise (set by TAPLINE_TOPIC_NOISE): topic my.noise has cleanup.policy="
                + "delete, not compact: noise profiles older than retention.bytes=1073741824 per partition are deleted, "
                + "current or not (fix: " + FIX + "my.noise --add-config cleanup.policy=compact)"),
                TopicCheck.judge(config, settings).refusals());
    }

    /** Neither compacted nor deleted (an empty policy, or delete with no retention): still not the topic relied on. */
    @Test
    void shouldRefuseACasesTopicThatKeepsEveryVersion() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        Map<String, Map<String, String>> settings = codeTopics();
        settings.put("tapline.cases", described(Map.of("cleanup.policy", "", "max.message.bytes", "16777216")));
        assertEquals(List.of("option --topic-cases: topic tapline.cases has cleanup.policy=\"\", not compact: no "
                + "superseded version of cases is ever removed (fix: " + FIX + "tapline.cases --add-config "
                + "cleanup.policy=compact)"), TopicCheck.judge(config, settings).refusals());
        settings.put("tapline.cases", described(Map.of("retention.ms", "-1", "max.message.bytes", "16777216")));
        assertEquals(List.of("option --topic-cases: topic tapline.cases has cleanup.policy=delete, not compact: no "
                + "superseded version of cases is ever removed (fix: " + FIX + "tapline.cases --add-config "
                + "cleanup.policy=compact)"), TopicCheck.judge(config, settings).refusals());
    }

    /** Both output topics wrong: both in the one refusal's parts, in the order of the options. */
    @Test
    void shouldRefuseEveryTopicThatIsNotCompacted() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        Map<String, Map<String, String>> settings = codeTopics();
        settings.put("tapline.cases", described(Map.of("max.message.bytes", "16777216")));
        settings.put("tapline.noise", described(Map.of("max.message.bytes", "16777216")));
        List<String> refusals = TopicCheck.judge(config, settings).refusals();
        assertEquals(2, refusals.size(), refusals.toString());
        assertTrue(refusals.get(0).startsWith("option --topic-cases: topic tapline.cases has cleanup.policy=delete"));
        assertTrue(refusals.get(1).startsWith("option --topic-noise: topic tapline.noise has cleanup.policy=delete"));
    }

    /**
     * Compacted and deleted by age: a deliberate bound some installations set, so a warning naming the retention, not
     * a refusal; without any retention nothing is deleted and nothing is said.
     */
    @Test
    void shouldWarnOfACompactedTopicAlsoDeletedByAge() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        Map<String, Map<String, String>> settings = codeTopics();
        settings.put("tapline.cases", described(Map.of("cleanup.policy", "compact,delete", "retention.ms", "1209600000",
                "max.message.bytes", "16777216", "min.compaction.lag.ms", "7200000")));
        TopicCheck.Verdict verdict = TopicCheck.judge(config, settings);
        assertEquals(List.of(), verdict.refusals());
        assertEquals(List.of("option --topic-cases: topic tapline.cases has cleanup.policy=compact,delete: cases not "
                + "written again within retention.ms=1209600000 (14 d) are deleted, current or not (to keep them: " + FIX
                + "tapline.cases --add-config cleanup.policy=compact); going on"), verdict.warnings());

        settings.put("tapline.cases", described(Map.of("cleanup.policy", "delete, compact", "retention.ms", "-1",
                "max.message.bytes", "16777216", "min.compaction.lag.ms", "7200000")));
        assertEquals(new TopicCheck.Verdict(List.of(), List.of()), TopicCheck.judge(config, settings));
    }

    /** A topic that takes smaller records than the job may write: a warning with the size to set, not a refusal. */
    @Test
    void shouldWarnOfATopicTakingSmallerRecordsThanTheJobWrites() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        Map<String, Map<String, String>> settings = codeTopics();
        settings.put("tapline.cases", described(Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "7200000")));
        settings.put("tapline.dlq", described(Map.of("max.message.bytes", "16777216")));
        TopicCheck.Verdict verdict = TopicCheck.judge(config, settings);
        assertEquals(List.of(), verdict.refusals());
        assertEquals(List.of("option --topic-cases: topic tapline.cases has max.message.bytes=1048588, below the 16777216 "
                        + "bytes the job may write to it: a larger record of cases stops the job (fix: " + FIX
                        + "tapline.cases --add-config max.message.bytes=16777216); going on",
                "option --topic-dlq: topic tapline.dlq has max.message.bytes=16777216, below the 17825792 bytes the job "
                        + "may write to it: a larger record of dead letters stops the job (fix: " + FIX + "tapline.dlq "
                        + "--add-config max.message.bytes=17825792); going on"), verdict.warnings());
    }

    /**
     * Options naming one topic for things the job cannot keep on one topic are refused from the names alone: no broker
     * is asked (none answers at this address), and the refusal comes at once, not after the check's wait for one.
     */
    private static String refusedWithoutABroker(TaplineConfig config) throws InterruptedException {
        long started = System.nanoTime();
        TopicCheck.Result result = TopicCheck.check(config, DedupOptions.streams(config), null);
        long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
        assertTrue(seconds < 5, "refused after " + seconds + " s, waiting for a broker: " + result.refusal());
        assertEquals(Map.of(), result.partitions());
        return result.refusal();
    }

    private static TaplineConfig noBroker(String... args) {
        return noBroker(Map.of(), args);
    }

    private static TaplineConfig noBroker(Map<String, String> env, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("--kafka-bootstrap-servers", "127.0.0.1:1"));
        all.addAll(List.of(args));
        return DedupOptions.load(all.toArray(String[]::new), env);
    }

    /**
     * Dead letters and cases on one topic: the one needs it compacted, the other not, so whatever its policy it is
     * refused, naming both options and the way out. It is a contradiction of the options alone: refused before any
     * broker is asked (before, after the check's 15 s wait when no broker answered), and the topic's settings are not
     * judged.
     */
    @Test
    @Timeout(60)
    void shouldRefuseATopicNamedForCasesAndForDeadLetters() throws Exception {
        assertEquals("option --topic-cases, --topic-dlq: topic tapline.cases holds cases and dead letters: cases need it "
                + "compacted, dead letters need it not compacted (fix: give --topic-dlq a topic of its own)",
                refusedWithoutABroker(noBroker("--topic-dlq", "tapline.cases")));
    }

    /**
     * The interactions topic named for dead letters too: an undecodable record would be dead-lettered into the topic
     * it is read from and read again, without end, and every dead letter read as input. Refused from the names alone;
     * before, it was not refused at all.
     */
    @Test
    @Timeout(60)
    void shouldRefuseAnInteractionsTopicNamedForDeadLetters() throws Exception {
        assertEquals("option --topic-interactions, --topic-dlq: topic tapline.interactions holds interactions and dead "
                + "letters: the job would read the dead letters it writes as interactions, and an undecodable record, "
                + "dead-lettered into the topic it is read from, would be read again, without end (fix: give "
                + "--topic-dlq a topic of its own)",
                refusedWithoutABroker(noBroker("--topic-dlq", "tapline.interactions")));
        assertEquals("option --topic-interactions, --topic-dlq (set by TAPLINE_TOPIC_DLQ): topic in holds interactions "
                + "and dead letters: the job would read the dead letters it writes as interactions, and an undecodable "
                + "record, dead-lettered into the topic it is read from, would be read again, without end (fix: give "
                + "--topic-dlq a topic of its own)",
                refusedWithoutABroker(noBroker(Map.of("TAPLINE_TOPIC_DLQ", " in\n"), "--topic-interactions", "in")));
    }

    /** The interactions topic named for cases or noise profiles too: the job would read its own output as input. */
    @Test
    @Timeout(60)
    void shouldRefuseAnInteractionsTopicNamedForAnOutput() throws Exception {
        assertEquals("option --topic-interactions, --topic-cases: topic tapline.interactions holds interactions and "
                + "cases: the job would read the cases it writes as interactions (fix: give --topic-cases a topic of "
                + "its own)", refusedWithoutABroker(noBroker("--topic-cases", "tapline.interactions")));
        assertEquals("option --topic-interactions, --topic-noise: topic shared holds interactions and noise profiles: "
                + "the job would read the noise profiles it writes as interactions (fix: give --topic-noise a topic of "
                + "its own)", refusedWithoutABroker(noBroker("--topic-interactions", "shared", "--topic-noise", "shared")));
    }

    /** Every topic shared in one line, each once with all the options naming it and every reason. */
    @Test
    @Timeout(60)
    void shouldRefuseEverySharedTopicInOneLine() throws Exception {
        assertEquals("option --topic-interactions, --topic-cases: topic a holds interactions and cases: the job would "
                + "read the cases it writes as interactions (fix: give --topic-cases a topic of its own); option "
                + "--topic-noise, --topic-dlq: topic b holds noise profiles and dead letters: noise profiles need it "
                + "compacted, dead letters need it not compacted (fix: give --topic-dlq a topic of its own)",
                refusedWithoutABroker(noBroker("--topic-interactions", "a", "--topic-cases", "a", "--topic-noise", "b",
                        "--topic-dlq", "b")));
        assertEquals("option --topic-interactions, --topic-cases, --topic-noise, --topic-dlq: topic all holds "
                + "interactions, cases, noise profiles and dead letters: the job would read the cases, noise profiles "
                + "and dead letters it writes as interactions, and an undecodable record, dead-lettered into the topic "
                + "it is read from, would be read again, without end, and cases and noise profiles need it compacted, "
                + "dead letters need it not compacted, and the Avro schemas of cases and noise profiles would share the "
                + "topic's one registry subject, all-value, whose compatibility check (BACKWARD by default) refuses the "
                + "one registered second, and the replay worker would read noise profiles as cases (fix: give "
                + "--topic-cases, --topic-noise and --topic-dlq topics of their own)", refusedWithoutABroker(noBroker("--topic-interactions", "all", "--topic-cases", "all",
                        "--topic-noise", "all", "--topic-dlq", "all")));
        assertEquals(null, TopicCheck.shared(noBroker()));
    }

    /**
     * Cases and noise profiles on one topic: both need it compacted, but the job registers both schemas under the
     * topic's one subject at its start (the second refused by the registry's compatibility check), and the replay
     * worker would read the noise profiles as cases. It was let through to the registry's refusal.
     */
    @Test
    @Timeout(60)
    void shouldRefuseOneTopicNamedForCasesAndNoiseProfiles() throws Exception {
        assertEquals("option --topic-cases, --topic-noise: topic tapline.cases holds cases and noise profiles: the Avro "
                + "schemas of cases and noise profiles would share the topic's one registry subject, tapline.cases-value,"
                + " whose compatibility check (BACKWARD by default) refuses the one registered second, and the replay "
                + "worker would read noise profiles as cases (fix: give --topic-noise a topic of its own)",
                refusedWithoutABroker(noBroker("--topic-noise", "tapline.cases")));
    }

    /**
     * A compacted dead-letter topic refuses the dead letter of an input record without a key, which stops the job
     * (DedupStreamIT measures it), and keeps one dead letter per key: refused, naming the policy and the fix, also
     * when it deletes by age as well.
     */
    @Test
    void shouldRefuseACompactedDeadLetterTopic() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        Map<String, Map<String, String>> settings = codeTopics();
        settings.put("tapline.dlq", described(Map.of("cleanup.policy", "compact", "max.message.bytes", "17825792")));
        String reason = ": a compacted topic refuses a dead letter without a key (that of an input record without one), "
                + "which stops the job, and keeps only the last dead letter of each key (fix: " + FIX + "tapline.dlq "
                + "--add-config cleanup.policy=delete)";
        assertEquals(new TopicCheck.Verdict(List.of("option --topic-dlq: topic tapline.dlq has cleanup.policy=compact"
                + reason), List.of()), TopicCheck.judge(config, settings));
        settings.put("tapline.dlq", described(Map.of("cleanup.policy", "compact,delete", "max.message.bytes", "17825792")));
        assertEquals(List.of("option --topic-dlq: topic tapline.dlq has cleanup.policy=compact,delete" + reason),
                TopicCheck.judge(config, settings).refusals());
        // deleted by age only, with or without a retention: what dead letters need
        settings.put("tapline.dlq", described(Map.of("retention.ms", "-1", "max.message.bytes", "17825792")));
        assertEquals(new TopicCheck.Verdict(List.of(), List.of()), TopicCheck.judge(config, settings));
    }

    /**
     * A compacted interactions topic keeps one interaction per route (the sidecar's key): what the job has not read
     * yet when the cleaner comes is lost. The sidecar's topic, and harmless while the job keeps up: a warning naming
     * the compaction lag and the fix, not a refusal. Its max.message.bytes is the sidecar's concern, not checked.
     */
    @Test
    void shouldWarnOfACompactedInteractionsTopic() {
        TaplineConfig config = DedupOptions.load(new String[] {"--topic-interactions", "in"}, Map.of());
        Map<String, Map<String, String>> settings = codeTopics();
        settings.put("in", described(Map.of("cleanup.policy", "compact,delete", "min.compaction.lag.ms", "3600000")));
        assertEquals(new TopicCheck.Verdict(List.of(), List.of("option --topic-interactions: topic in has cleanup.policy="
                + "compact,delete: the sidecar keys interactions by service and route, so compaction keeps only the "
                + "latest interaction of each route, and those the job has not read when the log cleaner reaches them "
                + "(the job stopped or behind by more than min.compaction.lag.ms=3600000 (1 h)) are lost (fix: " + FIX
                + "in --add-config cleanup.policy=delete); going on")), TopicCheck.judge(config, settings));
        settings.put("in", described(Map.of()));
        assertEquals(new TopicCheck.Verdict(List.of(), List.of()), TopicCheck.judge(config, settings));
    }

    /**
     * A replay run reads cases below the end offsets it started at while the job writes newer versions above them:
     * with no compaction lag the cleaner may remove the version a run still has to read. The project's topic keeps
     * versions 2 h (longer than a replay Job may run); a shorter lag is warned of, naming the lag to set. Tombstones'
     * delete.retention.ms is not judged: a tombstone outlives the versions it retires.
     */
    @Test
    void shouldWarnOfACasesTopicCompactingVersionsAReplayRunMayStillRead() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        Map<String, Map<String, String>> settings = codeTopics();
        Map<String, String> cases = new HashMap<>(fitting(TaplineTopics.CASES_SPEC));
        cases.put("min.compaction.lag.ms", "0");
        cases.put("delete.retention.ms", "0");
        settings.put("tapline.cases", cases);
        assertEquals(new TopicCheck.Verdict(List.of(), List.of("option --topic-cases: topic tapline.cases has "
                + "min.compaction.lag.ms=0, below the 7200000 (2 h) of the project's cases topic, longer than a replay "
                + "run lasts: a run reads cases below the end offsets it started at while the job writes newer versions "
                + "above them, and misses each case whose version below them the log cleaner removes meanwhile (fix: "
                + FIX + "tapline.cases --add-config min.compaction.lag.ms=7200000); going on")),
                TopicCheck.judge(config, settings));
        cases.put("min.compaction.lag.ms", "86400000");
        assertEquals(new TopicCheck.Verdict(List.of(), List.of()), TopicCheck.judge(config, settings));
        // the noise topic is read whole, in seconds, at a run's start, not below bounds for as long as a run: no lag
        settings.put("tapline.noise", described(Map.of("cleanup.policy", "compact", "max.message.bytes", "16777216")));
        assertEquals(new TopicCheck.Verdict(List.of(), List.of()), TopicCheck.judge(config, settings));
    }

    /** A topic whose settings could not be read (missing, not authorized, no answer) is not judged. */
    @Test
    void shouldJudgeOnlyTheTopicsWhoseSettingsWereRead() {
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        assertEquals(new TopicCheck.Verdict(List.of(), List.of()), TopicCheck.judge(config, Map.of()));
    }

    /**
     * The settings {@link TopicCheck#refusable} names are those a refusal can be about, so that the watch shows every
     * series it may set to 1 at 0 beforehand: each policy on each topic (also with the other settings all too small).
     */
    @Test
    void shouldRefuseOnlyOnTheSettingsItNamesRefusable() {
        TaplineConfig config = DedupOptions.load(new String[] {"--topic-dlq", "my.dlq"}, Map.of());
        Set<String> topics = TopicCheck.topics(config);
        Set<String> refused = new HashSet<>();
        for (String policy : List.of("delete", "compact", "compact,delete", "")) {
            Map<String, Map<String, String>> settings = new HashMap<>();
            topics.forEach(t -> settings.put(t, described(Map.of("cleanup.policy", policy, "max.message.bytes", "1",
                    "min.compaction.lag.ms", "0"))));
            for (TopicCheck.Finding f : TopicCheck.findings(config, settings)) {
                if (f.refuses()) {
                    assertTrue(TopicCheck.refusable(config, f.topic()).contains(f.setting()), f.line());
                    refused.add(f.topic() + " " + f.setting());
                }
            }
        }
        assertEquals(Set.of("tapline.cases cleanup.policy", "tapline.noise cleanup.policy", "my.dlq cleanup.policy"),
                refused);
        assertEquals(List.of(), TopicCheck.refusable(config, "tapline.interactions"));
        assertEquals(List.of(), TopicCheck.refusable(config, "tapline.dlq"), "not the job's topic");
    }
}
