package io.tapline.replay.run;

import io.tapline.topics.TaplineTopics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthorizationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.tapline.topics.TopicSettings.alterCommand;
import static io.tapline.topics.TopicSettings.cleanupPolicies;
import static io.tapline.topics.TopicSettings.deletion;
import static io.tapline.topics.TopicSettings.human;
import static io.tapline.topics.TopicSettings.number;

/**
 * What the cases topic's settings mean for a run, checked once per worker process at the run's start (never per
 * case). A run reads the cases below the end offsets recorded at its start while dedup-stream keeps writing newer
 * versions above them; the log cleaner may remove a version below them in favour of one above, once that newer one
 * is older than the topic's {@code min.compaction.lag.ms} (and its segment has rolled), and the run then misses the
 * case without a word. The project's cases topic keeps every version for 2 h ({@link TaplineTopics#CASES_SPEC}),
 * longer than a replay Job may run; a topic made by hand has the broker's default, 0.
 *
 * <p>{@link #judge} (pure) decides; {@link #check} asks the broker with one admin client, bounded by the given
 * timeout, and leaves a broker that does not answer or a principal without DESCRIBE_CONFIGS to one info line: the
 * check is advice, the run goes on either way.
 */
public final class CasesTopicCheck {

    private static final Logger log = LoggerFactory.getLogger(CasesTopicCheck.class);

    static final String CLEANUP_POLICY = TopicConfig.CLEANUP_POLICY_CONFIG;
    static final String MIN_COMPACTION_LAG_MS = TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG;

    /**
     * How long a run may last, as the threshold of the lag: the project's cases topic's {@code min.compaction.lag.ms}
     * (2 h), chosen above a replay Job's deadline ({@code activeDeadlineSeconds} 3600 in deploy/k8s). A run cannot
     * know its own length in advance; what it does know, how long ago it started (a worker joining or resuming it),
     * raises the threshold when longer ({@link #judge}), and its actual length is compared at its end
     * ({@link #mayHaveMissed}).
     */
    public static final Duration RUN_MAY_LAST = Duration.ofMillis(
            Long.parseLong(TaplineTopics.CASES_SPEC.configs().get(MIN_COMPACTION_LAG_MS)));
    /** Past the timeout: the call times out by itself, this only bounds the wait should it not. */
    private static final Duration GRACE = Duration.ofSeconds(5);

    /**
     * What the check found.
     *
     * @param warning the one-line warning to show, null for none
     * @param lagMs   the topic's {@code min.compaction.lag.ms} when it is compacted, for {@link #mayHaveMissed}; null
     *                when not compacted or not known
     */
    public record Verdict(String warning, Long lagMs) {

        static final Verdict UNKNOWN = new Verdict(null, null);
    }

    private CasesTopicCheck() {
    }

    /**
     * Describes {@code topic}'s settings (one call, bounded by {@code timeout}) and judges them with {@link #judge}.
     * Not authorized, no answer within the timeout, or any other failure of the describe: one info line, and
     * {@link Verdict#UNKNOWN}.
     */
    public static Verdict check(KafkaSettings kafka, String topic, Duration timeout, Duration runAge) {
        Map<String, String> settings = describe(kafka, topic, timeout);
        return settings == null ? Verdict.UNKNOWN : judge(kafka.bootstrapServers(), topic, settings, runAge);
    }

    private static Map<String, String> describe(KafkaSettings kafka, String topic, Duration timeout) {
        Admin admin;
        try {
            admin = Admin.create(kafka.admin("tapline-replay-topic-check"));
        } catch (KafkaException e) {
            log.info("cannot check the settings of cases topic {}: {}; going on", topic, e.getMessage());
            return null;
        }
        try {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(List.of(resource),
                            new DescribeConfigsOptions().timeoutMs((int) Math.min(Integer.MAX_VALUE, timeout.toMillis())))
                    .values().get(resource).get(timeout.plus(GRACE).toMillis(), TimeUnit.MILLISECONDS);
            Map<String, String> values = new HashMap<>();
            for (ConfigEntry entry : config.entries()) {
                if (entry.value() != null) {
                    values.put(entry.name(), entry.value());
                }
            }
            return values;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            String why = cause instanceof AuthorizationException ? "not authorized (DESCRIBE_CONFIGS)"
                    : cause instanceof org.apache.kafka.common.errors.TimeoutException
                    ? "no answer within " + timeout.toSeconds() + " s (--kafka-timeout)" : String.valueOf(cause);
            log.info("cannot check {} and {} of cases topic {}: {}; going on", CLEANUP_POLICY, MIN_COMPACTION_LAG_MS,
                    topic, why);
            return null;
        } catch (java.util.concurrent.TimeoutException e) {
            log.info("cannot check {} and {} of cases topic {}: no answer within {} s (--kafka-timeout); going on",
                    CLEANUP_POLICY, MIN_COMPACTION_LAG_MS, topic, timeout.toSeconds());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            // nothing is left to wait for: the answer came or is given up
            admin.close(Duration.ZERO);
        }
    }

    /**
     * What the cases topic's effective settings ({@code settings}, as the broker describes them) mean for a run that
     * started {@code runAge} ago (zero for one starting now):
     * <ul>
     * <li>{@code cleanup.policy} without {@code compact}, with a finite {@code retention.ms} or
     * {@code retention.bytes}: cases older than the retention are gone, current or not; the run replays what is
     * left;</li>
     * <li>{@code compact} with {@code min.compaction.lag.ms} below {@link #RUN_MAY_LAST}: cases the run has not read
     * yet can be removed in favour of versions written since it started, and it misses them without a word;</li>
     * <li>{@code compact} with {@code min.compaction.lag.ms} not above {@code runAge} (a worker joining or resuming a
     * run that started longer ago than that): such cases may already be gone; a new run reads the topic as it is.</li>
     * </ul>
     * Anything else (the project's topic) gives no warning.
     */
    public static Verdict judge(String bootstrap, String topic, Map<String, String> settings, Duration runAge) {
        String policy = settings.getOrDefault(CLEANUP_POLICY, ""); // as the broker wrote it, for the messages
        List<String> policies = cleanupPolicies(settings);
        if (!policies.contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
            String deletion = policies.contains(TopicConfig.CLEANUP_POLICY_DELETE) ? deletion(settings) : null;
            if (deletion == null) {
                return Verdict.UNKNOWN; // nothing is ever removed: every version stays, the scan keeps the latest
            }
            return new Verdict("cases topic " + topic + " has " + CLEANUP_POLICY + "=" + policy + ", not compact: cases "
                    + "older than " + deletion + " are deleted, current or not, and this run replays what is left (fix: "
                    + alterCommand(bootstrap, topic, CLEANUP_POLICY + "=compact") + ")", null);
        }
        Long lag = number(settings.get(MIN_COMPACTION_LAG_MS));
        if (lag == null) {
            return Verdict.UNKNOWN;
        }
        long age = Math.max(0, runAge.toMillis());
        String warning = null;
        if (lag < RUN_MAY_LAST.toMillis()) {
            warning = "cases topic " + topic + " has " + MIN_COMPACTION_LAG_MS + "=" + lag + human(lag) + ", shorter"
                    + " than a run may last (" + RUN_MAY_LAST.toMillis() + human(RUN_MAY_LAST.toMillis())
                    + ", the project's cases topic's): cases the run has not read yet can be removed in favour of"
                    + " versions written since it started, and the run misses them without a word (fix: "
                    + alterCommand(bootstrap, topic, MIN_COMPACTION_LAG_MS + "=" + RUN_MAY_LAST.toMillis()) + ")";
        } else if (lag <= age) {
            warning = "cases topic " + topic + " has " + MIN_COMPACTION_LAG_MS + "=" + lag + human(lag) + ", and this"
                    + " run started " + age / 1000 + " s ago: cases it has not read yet may already have been removed"
                    + " in favour of versions written since it started, and the run misses them without a word (a new"
                    + " --run replays the cases as they are now)";
        }
        return new Verdict(warning, lag);
    }

    /**
     * The end-of-run note of a run that lasted {@code lastedMs}: null when the cases topic's lag ({@code lagMs},
     * {@link Verdict#lagMs}) was longer, or is not known; else a line saying cases may have been missed.
     */
    public static String mayHaveMissed(String topic, Long lagMs, long lastedMs) {
        if (lagMs == null || lastedMs < lagMs) {
            return null;
        }
        return "note: the run lasted " + lastedMs / 1000 + " s, not less than " + MIN_COMPACTION_LAG_MS + "=" + lagMs
                + human(lagMs) + " of cases topic " + topic + ": cases may have been removed by the log cleaner before"
                + " they were read and are then missing from this run, uncounted";
    }



}
