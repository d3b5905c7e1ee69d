package io.tapline.dedup;

import io.tapline.config.TaplineConfig;
import io.tapline.topics.DeadLetters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start-up check that the topics the job reads and writes exist ({@code topic.interactions}, {@code topic.cases},
 * {@code topic.noise}, {@code topic.dlq}). Without it a missing output topic left the job waiting in REBALANCING (or
 * even RUNNING, writing nothing) until its first sends failed, and a missing input topic gave Kafka Streams' own burst
 * of errors; now the job refuses at start with one line naming each option and its topic, exit 2, as for a bad flag.
 * The wording is the replay worker's ({@code MissingTopicException}): only the sentence is shared, the replay worker
 * learns of a missing topic from its consumer, this job from an admin client, so no code moves to {@code schemas}.
 *
 * <p>Only a broker's definite "unknown topic" refuses. The brokers not answering within {@link #TIMEOUT} is logged in
 * one line and the job goes on: Kafka Streams waits for the brokers by itself, and a pod that starts before its
 * brokers must not crash-loop (the repartition topics' pinning, {@link InternalPartitions}, goes on the same way). A
 * refused describe ({@code TopicAuthorizationException}) is a warning, not a refusal: a broker answers it alike for a
 * topic that exists and one that does not (it does not tell a principal without DESCRIBE which topics exist), so it
 * says nothing of the topic; the job's own clients then fail or work as the ACLs say. The job's internal topics
 * (changelogs, repartition topics) are not checked: Kafka Streams creates them.
 */
final class TopicCheck {

    private static final Logger LOG = LoggerFactory.getLogger(TopicCheck.class);
    /**
     * How long the brokers have to answer. A reachable broker answers a metadata request in milliseconds; this leaves
     * room for one that is starting or electing a controller without keeping a pod that starts before its brokers long
     * from Kafka Streams, which then waits for them itself.
     */
    static final Duration TIMEOUT = Duration.ofSeconds(15);
    /** The options naming the topics the job reads and writes, in the order a refusal names them. */
    static final List<String> OPTIONS = List.of(DedupOptions.INPUT_TOPIC, DedupOptions.CASES_TOPIC,
            DedupOptions.NOISE_TOPIC, DedupOptions.DLQ_TOPIC);

    private TopicCheck() {
    }

    /**
     * Describes the job's topics with an admin client made of the settings Kafka Streams' own admin client gets
     * (bootstrap servers, {@code security.protocol}, {@code ssl.*}, {@code sasl.*}, {@code admin.*} overrides).
     *
     * @return the refusal, without the command's prefix, when a broker said topics do not exist; null to go on
     * @throws RuntimeException when the admin client cannot be made (no broker host resolves): Kafka Streams' own
     *                          clients could not be made either
     */
    static String check(TaplineConfig config, Properties streamsConfig) throws InterruptedException {
        Map<String, Object> admin = new StreamsConfig(streamsConfig).getAdminConfigs("tapline-dedup-topic-check");
        Set<String> topics = new LinkedHashSet<>();
        OPTIONS.forEach(key -> topics.add(config.getTopic(key)));
        List<String> missing;
        try (Admin client = Admin.create(admin)) {
            missing = missing(describe(client, topics, TIMEOUT), config.get(DedupOptions.BOOTSTRAP));
        }
        return missing.isEmpty() ? null : refusal(config, missing);
    }

    /** Each topic's failure to be described, in the order given; a topic described is absent. */
    static Map<String, Throwable> describe(Admin admin, Set<String> topics, Duration timeout) throws InterruptedException {
        Map<String, KafkaFuture<TopicDescription>> futures = admin.describeTopics(topics,
                new DescribeTopicsOptions().timeoutMs((int) timeout.toMillis())).topicNameValues();
        // The call times out by itself; the deadline here only bounds the wait should it not.
        long deadline = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(5);
        Map<String, Throwable> failures = new LinkedHashMap<>();
        for (String topic : topics) {
            try {
                futures.get(topic).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                failures.put(topic, e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                failures.put(topic, new TimeoutException("no answer within " + timeout.toSeconds() + " s"));
            }
        }
        return failures;
    }

    /**
     * The topics a broker said do not exist, in the order given; the other failures are logged (one line each kind)
     * and do not refuse.
     */
    static List<String> missing(Map<String, Throwable> failures, String bootstrap) {
        List<String> missing = new ArrayList<>();
        List<String> unauthorized = new ArrayList<>();
        Map<String, Throwable> unanswered = new LinkedHashMap<>();
        failures.forEach((topic, failure) -> {
            if (failure instanceof UnknownTopicOrPartitionException) {
                missing.add(topic);
            } else if (failure instanceof TopicAuthorizationException) {
                unauthorized.add(topic);
            } else {
                unanswered.put(topic, failure);
            }
        });
        if (!unauthorized.isEmpty()) {
            // Not a refusal: the broker answers so alike for a topic that exists and one that does not, and ACLs
            // applied alongside the job may still come; the stream threads' clients meet the same refusal otherwise.
            LOG.warn("not authorized to describe topic{} {}: cannot tell whether {}; going on (the job's clients "
                    + "need READ on the input topic and WRITE on the others)", unauthorized.size() == 1 ? "" : "s",
                    String.join(", ", unauthorized), unauthorized.size() == 1 ? "it exists" : "they exist");
        }
        if (!unanswered.isEmpty() && missing.isEmpty()) {
            Throwable first = unanswered.values().iterator().next();
            String topics = String.join(", ", unanswered.keySet());
            if (first instanceof TimeoutException) {
                LOG.warn("cannot check that the topics {} exist: no broker of {} answered within {} s; going on, Kafka "
                        + "Streams waits for the brokers itself", topics, bootstrap, TIMEOUT.toSeconds());
            } else {
                LOG.warn("cannot check that the topics {} exist: {}; going on, left to Kafka Streams' own clients",
                        topics, DeadLetters.describe(first));
            }
        }
        return missing;
    }

    /**
     * One line: for each missing topic, the options that name it (with the variable or file that set them) and the
     * topic, e.g. {@code option --topic-cases: topic tapline.cases does not exist (create it with ./tapline stack up
     * or the deploy manifests)}; several are joined with {@code "; "} before the one hint.
     */
    static String refusal(TaplineConfig config, List<String> missing) {
        List<String> parts = new ArrayList<>();
        for (String topic : missing) {
            parts.add(config.optionsNamingTopic(topic, OPTIONS) + "topic " + topic + " does not exist");
        }
        return String.join("; ", parts) + " (create " + (missing.size() == 1 ? "it" : "them")
                + " with ./tapline stack up or the deploy manifests)";
    }
}
