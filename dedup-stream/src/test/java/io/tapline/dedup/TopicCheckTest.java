package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.config.TaplineConfig;
import java.time.Duration;
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

    /** No broker at the address: the describe ends within its timeout with a timeout per topic, which refuses nothing. */
    @Test
    @Timeout(60)
    void shouldGiveUpWithinTheTimeoutWhenNoBrokerAnswers() throws Exception {
        Set<String> topics = new LinkedHashSet<>(List.of("tapline.interactions", "tapline.cases"));
        long started = System.nanoTime();
        Map<String, Throwable> failures;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1"))) {
            failures = TopicCheck.describe(admin, topics, Duration.ofSeconds(1));
        }
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(20).toNanos(), "took too long");
        assertEquals(topics, failures.keySet());
        failures.values().forEach(f -> assertInstanceOf(TimeoutException.class, f));
        assertEquals(List.of(), TopicCheck.missing(failures, "127.0.0.1:1"));
    }
}
