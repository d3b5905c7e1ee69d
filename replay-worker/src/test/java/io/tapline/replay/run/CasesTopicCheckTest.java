package io.tapline.replay.run;

import io.tapline.topics.TaplineTopics;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CasesTopicCheckTest {

    private static final String BOOTSTRAP = "kafka:9092";
    private static final String TOPIC = "tapline.cases";

    /** Settings as a broker describes them: the broker's defaults, then {@code overrides}. */
    private static Map<String, String> described(Map<String, String> overrides) {
        Map<String, String> s = new HashMap<>(Map.of("cleanup.policy", "delete", "retention.ms", "604800000",
                "retention.bytes", "-1", "min.compaction.lag.ms", "0", "segment.ms", "604800000"));
        s.putAll(overrides);
        return s;
    }

    @Test
    void theProjectsCasesTopicGivesNoWarning() {
        CasesTopicCheck.Verdict v = CasesTopicCheck.judge(BOOTSTRAP, TOPIC,
                described(TaplineTopics.CASES_SPEC.configs()), Duration.ZERO);
        assertNull(v.warning());
        assertEquals(7_200_000L, v.lagMs());
    }

    @Test
    void aCompactedTopicWithTheBrokersDefaultLagIsWarnedOfWithTheValueWhyAndTheFix() {
        CasesTopicCheck.Verdict v = CasesTopicCheck.judge(BOOTSTRAP, TOPIC,
                described(Map.of("cleanup.policy", "compact")), Duration.ZERO);
        assertEquals("cases topic tapline.cases has min.compaction.lag.ms=0, shorter than a run may last (7200000 (2 h),"
                + " the project's cases topic's): cases the run has not read yet can be removed in favour of versions"
                + " written since it started, and the run misses them without a word (fix: kafka-configs.sh"
                + " --bootstrap-server kafka:9092 --alter --entity-type topics --entity-name tapline.cases --add-config"
                + " min.compaction.lag.ms=7200000)", v.warning());
        assertEquals(0L, v.lagMs());
    }

    @Test
    void aLagBelowTwoHoursIsWarnedOfAndTwoHoursOrMoreIsNot() {
        Map<String, String> hour = described(Map.of("cleanup.policy", "compact,delete", "retention.ms", "-1",
                "min.compaction.lag.ms", "3600000"));
        String warning = CasesTopicCheck.judge(BOOTSTRAP, TOPIC, hour, Duration.ZERO).warning();
        assertTrue(warning.startsWith("cases topic tapline.cases has min.compaction.lag.ms=3600000 (1 h), shorter"),
                warning);
        assertNull(CasesTopicCheck.judge(BOOTSTRAP, TOPIC, described(Map.of("cleanup.policy", "compact",
                "min.compaction.lag.ms", "7200000")), Duration.ofMinutes(30)).warning());
        assertNull(CasesTopicCheck.judge(BOOTSTRAP, TOPIC, described(Map.of("cleanup.policy", "compact",
                "min.compaction.lag.ms", "86400000")), Duration.ZERO).warning());
    }

    @Test
    void aRunThatStartedLongerAgoThanTheLagIsWarnedThatCasesMayAlreadyBeGone() {
        Map<String, String> project = described(TaplineTopics.CASES_SPEC.configs());
        String warning = CasesTopicCheck.judge(BOOTSTRAP, TOPIC, project, Duration.ofHours(3)).warning();
        assertEquals("cases topic tapline.cases has min.compaction.lag.ms=7200000 (2 h), and this run started 10800 s"
                + " ago: cases it has not read yet may already have been removed in favour of versions written since it"
                + " started, and the run misses them without a word (a new --run replays the cases as they are now)",
                warning);
        assertNull(CasesTopicCheck.judge(BOOTSTRAP, TOPIC, project, Duration.ofMinutes(119)).warning());
    }

    @Test
    void aTopicThatIsNotCompactedIsWarnedThatCasesOlderThanItsRetentionAreGone() {
        CasesTopicCheck.Verdict v = CasesTopicCheck.judge(BOOTSTRAP, TOPIC, described(Map.of()), Duration.ZERO);
        assertEquals("cases topic tapline.cases has cleanup.policy=delete, not compact: cases older than"
                + " retention.ms=604800000 (7 d) are deleted, current or not, and this run replays what is left (fix:"
                + " kafka-configs.sh --bootstrap-server kafka:9092 --alter --entity-type topics --entity-name"
                + " tapline.cases --add-config cleanup.policy=compact)", v.warning());
        assertNull(v.lagMs(), "not compacted: no lag to compare the run's length with");
        // nothing deleted by age or size: every version stays, and the run's scan keeps the latest of each case
        assertNull(CasesTopicCheck.judge(BOOTSTRAP, TOPIC, described(Map.of("retention.ms", "-1")), Duration.ZERO)
                .warning());
    }

    @Test
    void settingsThatCannotBeReadGiveNoWarning() {
        assertNull(CasesTopicCheck.judge(BOOTSTRAP, TOPIC, Map.of("cleanup.policy", "compact"), Duration.ZERO)
                .warning());
        assertNull(CasesTopicCheck.judge(BOOTSTRAP, TOPIC, described(Map.of("cleanup.policy", "compact",
                "min.compaction.lag.ms", "soon")), Duration.ZERO).warning());
    }

    @Test
    void theEndOfARunSaysCasesMayHaveBeenMissedOnlyWhenItLastedAsLongAsTheLag() {
        assertNull(CasesTopicCheck.mayHaveMissed(TOPIC, 7_200_000L, 3_600_000L));
        assertNull(CasesTopicCheck.mayHaveMissed(TOPIC, null, 86_400_000L), "lag not known");
        String note = CasesTopicCheck.mayHaveMissed(TOPIC, 7_200_000L, 7_260_000L);
        assertEquals("note: the run lasted 7260 s, not less than min.compaction.lag.ms=7200000 (2 h) of cases topic"
                + " tapline.cases: cases may have been removed by the log cleaner before they were read and are then"
                + " missing from this run, uncounted", note);
        assertFalse(CasesTopicCheck.mayHaveMissed(TOPIC, 0L, 40L).isEmpty(), "a lag of 0 protects no run");
    }

    @Test
    void theAdminClientGetsTheConsumersConnectionSettingsButNotItsConsumerOnlyOnes() {
        KafkaSettings kafka = new KafkaSettings(BOOTSTRAP, Map.of(), Map.of("security.protocol", "SSL",
                "ssl.truststore.location", "/etc/kafka/truststore.jks", "max.poll.records", "10"), Map.of());
        Map<String, Object> admin = kafka.admin("tapline-replay-topic-check");
        assertEquals(BOOTSTRAP, admin.get("bootstrap.servers"));
        assertEquals("SSL", admin.get("security.protocol"));
        assertEquals("/etc/kafka/truststore.jks", admin.get("ssl.truststore.location"));
        assertFalse(admin.containsKey("max.poll.records"));
    }
}
