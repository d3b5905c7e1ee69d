package io.tapline.dedup;

import io.tapline.config.TaplineConfig;
import io.tapline.serde.Subjects;
import io.tapline.topics.DeadLetters;
import io.tapline.topics.SharedTopics;
import io.tapline.topics.TaplineTopics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.tapline.topics.SharedTopics.and;
import static io.tapline.topics.TopicSettings.alterCommand;
import static io.tapline.topics.TopicSettings.cleanupPolicies;
import static io.tapline.topics.TopicSettings.deletion;
import static io.tapline.topics.TopicSettings.human;
import static io.tapline.topics.TopicSettings.number;

/**
 * The start-up check of the topics the job reads and writes ({@code topic.interactions}, {@code topic.cases},
 * {@code topic.noise}, {@code topic.dlq}): that they exist, and that the settings the job relies on hold. Without it a
 * missing output topic left the job waiting in REBALANCING (or even RUNNING, writing nothing) until its first sends
 * failed, a missing input topic gave Kafka Streams' own burst of errors, and a cases topic made with the broker's
 * defaults ({@code cleanup.policy=delete}) silently lost every case older than its retention. Now the job refuses at
 * start with one line naming each option and its topic, exit 2, as for a bad flag. The wording of a missing topic is
 * the replay worker's ({@code MissingTopicException}): only the sentence is shared, the replay worker learns of a
 * missing topic from its consumer, this job from an admin client, so no code moves to {@code schemas}. While the job
 * runs, {@link TopicWatch} reads the settings again and judges them with the same {@link #findings}.
 *
 * <p>One admin client asks two things at once under one deadline ({@link #TIMEOUT}): a describe of the topics (with
 * the {@code by-signature} repartition topic when its partitions are to be pinned, so that {@link InternalPartitions}
 * needs no call and no wait of its own) and a describe of the topics' settings. What the settings decide
 * ({@link #judge}):
 * <ul>
 * <li>{@code cleanup.policy} of the cases and noise topics without {@code compact}: refuses. Such a topic deletes a
 * case or a noise profile by age, current or not, and keeps every superseded version: the "compacted topic of unique
 * cases that stays fresh" it is read as is not there, and nothing fails to say so;</li>
 * <li>{@code compact,delete} with a finite {@code retention.ms} or {@code retention.bytes}: warns. Compaction keeps
 * the topic small, but a case not written again within the retention (a signature without new hits) is deleted. A
 * deliberate choice some installations make to bound the topic, so it does not refuse;</li>
 * <li>{@code min.compaction.lag.ms} of the cases topic below the project's ({@code TaplineTopics}, 2 h): warns. A
 * replay run reads cases below the end offsets it started at while this job writes newer versions above them; the log
 * cleaner may then remove a version below them in favour of one above, and the run misses that case without a word.
 * The lag keeps every version for longer than a run lasts. Not a refusal: this job is not harmed, and a run shorter than
 * the topic's lag is not either;</li>
 * <li>{@code cleanup.policy} of the dead-letter topic with {@code compact}: refuses. The dead letter of an input record
 * without a key has none, and a compacted topic refuses a record without a key ({@code InvalidRecordException}): Kafka
 * Streams' production exception handler fails the stream thread on that send, each replacement fails on the same
 * record until the restart budget ends the job (exit 1), and every restart meets it again. The others are keyed
 * (the interaction's key, service and route; the repartition record's), and compaction keeps the last of each key
 * only;</li>
 * <li>{@code cleanup.policy} of the interactions topic with {@code compact}: warns. The sidecar keys an interaction by
 * service and route, so compaction keeps one interaction per route: the job, reading as they come, loses none while
 * it keeps up (the log cleaner leaves the active segment and records younger than {@code min.compaction.lag.ms}
 * alone), but a backlog (the job stopped or behind) shrinks to the latest interaction of each route. The topic is
 * the sidecar's and other producers', so this job only warns;</li>
 * <li>{@code max.message.bytes} of the cases, noise or dead-letter topic below what the job may write to it
 * ({@code TaplineTopics}): warns. A record larger than the topic takes stops the job (its stream threads fail on it
 * until the restart budget is spent), but with the sidecar's default capture size no case comes near the broker's
 * 1 MiB default, and a cluster may cap its topics' size by policy.</li>
 * </ul>
 * Options that name one topic for what the job cannot keep on one topic are refused from the names alone, before any
 * broker is asked ({@link #shared}): the interactions topic named for cases, noise profiles or dead letters too (the
 * job would read what it writes as its input; an undecodable record, dead-lettered into the topic it is read from,
 * would be read again without end), and a topic named for dead letters and for cases or noise profiles (the one needs
 * it compacted, the other not), and one topic named for cases and noise profiles (two schemas under one registry
 * subject; the replay worker would read the noise profiles as cases).
 *
 * <p>Partition counts are not checked: the job joins no topic with another (its only source is the interactions topic;
 * cases, noise and dead letters are sinks keyed on their own), so nothing needs co-partitioning, and Kafka Streams
 * writes to whatever partitions a sink topic has. The input's count matters only to the repartition topics, which
 * {@link InternalPartitions} pins from this check's answer.
 *
 * <p>Only a broker's definite answer refuses. The brokers not answering within {@link #TIMEOUT} is logged in one line
 * and the job goes on: Kafka Streams waits for the brokers by itself, and a pod that starts before its brokers must
 * not crash-loop. A refused describe ({@code TopicAuthorizationException}) is a warning, not a refusal: a broker
 * answers it alike for a topic that exists and one that does not (it does not tell a principal without DESCRIBE which
 * topics exist), so it says nothing of the topic; the job's own clients then fail or work as the ACLs say. Settings
 * the principal may not read (no DESCRIBE_CONFIGS) are not checked, with a warning. The job's internal topics
 * (changelogs, repartition topics) are not checked: Kafka Streams creates them.
 */
final class TopicCheck {

    private static final Logger LOG = LoggerFactory.getLogger(TopicCheck.class);
    /**
     * How long the brokers have to answer, the two describes together. A reachable broker answers in milliseconds;
     * this leaves room for one that is starting or electing a controller without keeping a pod that starts before its
     * brokers long from Kafka Streams, which then waits for them itself.
     */
    static final Duration TIMEOUT = Duration.ofSeconds(15);
    /** Past {@link #TIMEOUT}: the calls time out by themselves, this only bounds the wait should they not. */
    private static final Duration GRACE = Duration.ofSeconds(5);
    /** The options naming the topics the job reads and writes, in the order a refusal names them. */
    static final List<String> OPTIONS = List.of(DedupOptions.INPUT_TOPIC, DedupOptions.CASES_TOPIC,
            DedupOptions.NOISE_TOPIC, DedupOptions.DLQ_TOPIC);

    static final String CLEANUP_POLICY = TopicConfig.CLEANUP_POLICY_CONFIG;
    static final String MAX_MESSAGE_BYTES = TopicConfig.MAX_MESSAGE_BYTES_CONFIG;

    static final String MIN_COMPACTION_LAG_MS = TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG;

    /** What a topic's {@code cleanup.policy} must be for what the job does with it. */
    private enum Cleanup {
        /** Compacted: a topic of current values by key (cases, noise profiles). Refused without {@code compact}. */
        COMPACT,
        /** Not compacted: every record kept until its retention (dead letters). Refused with {@code compact}. */
        NO_COMPACT,
        /** Read by the job, written by the sidecar (interactions): warned of with {@code compact}. */
        READ
    }

    /**
     * What the job does with a topic: what its records are called in a message, what its {@code cleanup.policy} must
     * be, the largest record the job may write to it (0: the job writes none), and the shortest
     * {@code min.compaction.lag.ms} it needs (0: any).
     */
    private record Role(String option, String records, Cleanup cleanup, int maxBytes, long minCompactionLagMs) {
    }

    private static final List<Role> ROLES = List.of(
            new Role(DedupOptions.INPUT_TOPIC, "interactions", Cleanup.READ, 0, 0),
            new Role(DedupOptions.CASES_TOPIC, "cases", Cleanup.COMPACT, TaplineTopics.DERIVED_MAX_BYTES,
                    Long.parseLong(TaplineTopics.CASES_SPEC.configs().get(MIN_COMPACTION_LAG_MS))),
            new Role(DedupOptions.NOISE_TOPIC, "noise profiles", Cleanup.COMPACT, TaplineTopics.DERIVED_MAX_BYTES, 0),
            new Role(DedupOptions.DLQ_TOPIC, "dead letters", Cleanup.NO_COMPACT, TaplineTopics.DLQ_MAX_BYTES, 0));

    /**
     * What the check found.
     *
     * @param refusal    the refusal, without the command's prefix; null to go on
     * @param partitions the partitions of each topic described (the job's and the repartition topic)
     * @param unknown    the topics a broker said do not exist
     * @param failures   why a topic was neither described nor said not to exist (no answer, not authorized)
     * @param warnings     the settings warned of (logged), which {@link TopicWatch} starts from
     * @param settingsRead the topics whose settings were read and judged (not those without an answer, not authorized
     *                     or missing), which {@link TopicWatch} starts from too
     * @param readAt       when the settings were read; null when no broker was asked
     */
    record Result(String refusal, Map<String, Integer> partitions, Set<String> unknown, Map<String, Throwable> failures,
                  List<Finding> warnings, Set<String> settingsRead, Instant readAt) {
    }

    /** What the brokers answered, before it is judged. */
    record Answers(Map<String, Integer> partitions, Map<String, Throwable> failures,
                   Map<String, Map<String, String>> settings, Map<String, Throwable> settingsFailures) {
    }

    /** The refusals and warnings the settings of the output topics give, each one line. */
    record Verdict(List<String> refusals, List<String> warnings) {
    }

    /**
     * One refusal or warning of {@link #judge}: the topic and the setting it is about (at most one per topic and
     * setting), whether it refuses the start, and its line.
     */
    record Finding(String topic, String setting, boolean refuses, String line) {
    }

    private TopicCheck() {
    }

    /**
     * Refuses the topics' names ({@link #shared}) without asking a broker; then describes the job's topics, and
     * {@code repartition} when not null, and the output topics' settings, with one
     * admin client made of the settings Kafka Streams' own admin client gets (bootstrap servers,
     * {@code security.protocol}, {@code ssl.*}, {@code sasl.*}, {@code admin.*} overrides).
     *
     * @throws RuntimeException when the admin client cannot be made (no broker host resolves): Kafka Streams' own
     *                          clients could not be made either
     */
    static Result check(TaplineConfig config, Properties streamsConfig, String repartition) throws InterruptedException {
        String shared = shared(config);
        if (shared != null) {
            return new Result(shared, Map.of(), Set.of(), Map.of(), List.of(), Set.of(), null);
        }
        Map<String, Object> admin = new StreamsConfig(streamsConfig).getAdminConfigs("tapline-dedup-topic-check");
        Set<String> topics = topics(config);
        Set<String> described = new LinkedHashSet<>(topics);
        if (repartition != null) {
            described.add(repartition);
        }
        Answers answers;
        try (Admin client = Admin.create(admin)) {
            answers = ask(client, described, topics, TIMEOUT);
        }
        Instant readAt = Instant.now();
        String bootstrap = config.get(DedupOptions.BOOTSTRAP);
        Map<String, Throwable> ours = new LinkedHashMap<>(answers.failures());
        ours.keySet().retainAll(topics);
        List<String> missing = missing(ours, bootstrap);
        Set<String> unknown = new LinkedHashSet<>();
        answers.failures().forEach((topic, failure) -> {
            if (failure instanceof UnknownTopicOrPartitionException) {
                unknown.add(topic);
            }
        });
        Map<String, Throwable> failures = new LinkedHashMap<>(answers.failures());
        failures.keySet().removeAll(unknown);
        unread(answers.settingsFailures(), ours.isEmpty());
        List<Finding> findings = findings(config, answers.settings());
        List<Finding> warnings = findings.stream().filter(f -> !f.refuses()).toList();
        warnings.forEach(f -> LOG.warn(f.line()));
        List<String> parts = new ArrayList<>();
        if (!missing.isEmpty()) {
            parts.add(refusal(config, missing));
        }
        findings.stream().filter(Finding::refuses).forEach(f -> parts.add(f.line()));
        return new Result(parts.isEmpty() ? null : String.join("; ", parts), answers.partitions(), unknown, failures,
                warnings, Set.copyOf(answers.settings().keySet()), readAt);
    }

    /** The job's topics, in the order of {@link #OPTIONS}, each once. */
    static Set<String> topics(TaplineConfig config) {
        Set<String> topics = new LinkedHashSet<>();
        OPTIONS.forEach(key -> topics.add(config.getTopic(key)));
        return topics;
    }

    /**
     * The refusal of options that name one topic for things the job cannot keep on one topic, or null: a pure
     * comparison of the names, so that such a configuration is refused at once, whether or not a broker answers. One
     * part per shared topic, joined with {@code "; "}, each naming every option that names the topic, what it would
     * hold, why that cannot be, and the options to give a topic of their own:
     * <ul>
     * <li>the interactions topic and an output topic (cases, noise profiles, dead letters): the job would read what it
     * writes as its input; with dead letters, an undecodable record, dead-lettered into the topic it is read from,
     * would be read again, without end. The outputs are to move;</li>
     * <li>the dead-letter topic and the cases or noise topic: the one needs it compacted, the other not;</li>
     * <li>the cases topic and the noise topic: the two Avro schemas would share the topic's one registry subject,
     * whose compatibility check refuses the one registered second (the job registers both at its start), and the
     * replay worker, reading the cases topic, would find noise profiles among the cases.</li>
     * </ul>
     * The outputs are to move when the input is shared, else every role after the first (cases, noise, dead letters).
     * The topics shared and the words of each part are {@link SharedTopics}', as the replay worker's refusal has them.
     */
    static String shared(TaplineConfig config) {
        List<String> refusals = new ArrayList<>();
        SharedTopics.byTopic(config, OPTIONS).forEach((topic, options) -> {
            List<Role> roles = ROLES.stream().filter(r -> options.contains(r.option())).toList();
            List<Role> outputs = roles.stream().filter(r -> r.cleanup() != Cleanup.READ).toList();
            List<Role> compacted = roles.stream().filter(r -> r.cleanup() == Cleanup.COMPACT).toList();
            List<Role> notCompacted = roles.stream().filter(r -> r.cleanup() == Cleanup.NO_COMPACT).toList();
            boolean input = outputs.size() < roles.size();
            List<String> reasons = new ArrayList<>();
            if (input) {
                reasons.add("the job would read the " + and(outputs.stream().map(Role::records).toList())
                        + " it writes as interactions" + (notCompacted.isEmpty() ? "" : ", and an undecodable record, "
                        + "dead-lettered into the topic it is read from, would be read again, without end"));
            }
            if (!compacted.isEmpty() && !notCompacted.isEmpty()) {
                reasons.add(and(compacted.stream().map(Role::records).toList()) + " need it compacted, dead letters "
                        + "need it not compacted");
            }
            if (compacted.size() > 1) {
                reasons.add("the Avro schemas of " + and(compacted.stream().map(Role::records).toList()) + " would share"
                        + " the topic's one registry subject, " + Subjects.subject(topic, false) + ", whose "
                        + "compatibility check (BACKWARD by default) refuses the one registered second, and the replay "
                        + "worker would read noise profiles as cases");
            }
            if (!reasons.isEmpty()) {
                refusals.add(SharedTopics.refusal(config, OPTIONS, topic, roles.stream().map(Role::records).toList(),
                        reasons, (input ? outputs : roles.subList(1, roles.size())).stream().map(Role::option).toList()));
            }
        });
        return refusals.isEmpty() ? null : String.join("; ", refusals);
    }

    /**
     * Describes {@code topics} and the settings of {@code configured}, both asked at once and waited for with one
     * deadline: each topic described, or why not; each configured topic's settings, or why not. A topic a broker did
     * not answer for within the deadline has a {@code TimeoutException}.
     */
    static Answers ask(Admin admin, Set<String> topics, Set<String> configured, Duration timeout)
            throws InterruptedException {
        int timeoutMs = (int) timeout.toMillis();
        Map<String, KafkaFuture<TopicDescription>> descriptions = admin.describeTopics(topics,
                new DescribeTopicsOptions().timeoutMs(timeoutMs)).topicNameValues();
        Map<ConfigResource, KafkaFuture<Config>> configs = admin.describeConfigs(configured.stream()
                .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList(),
                new DescribeConfigsOptions().timeoutMs(timeoutMs)).values();
        long deadline = System.nanoTime() + timeout.toNanos() + GRACE.toNanos();
        Map<String, Integer> partitions = new LinkedHashMap<>();
        Map<String, Throwable> failures = new LinkedHashMap<>();
        for (String topic : topics) {
            try {
                partitions.put(topic, await(descriptions.get(topic), deadline, timeout).partitions().size());
            } catch (ExecutionException e) {
                failures.put(topic, e.getCause());
            }
        }
        Map<String, Map<String, String>> settings = new LinkedHashMap<>();
        Map<String, Throwable> settingsFailures = new LinkedHashMap<>();
        for (String topic : configured) {
            try {
                Map<String, String> values = new HashMap<>();
                for (ConfigEntry entry : await(configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic)),
                        deadline, timeout).entries()) {
                    if (entry.value() != null) {
                        values.put(entry.name(), entry.value());
                    }
                }
                settings.put(topic, values);
            } catch (ExecutionException e) {
                settingsFailures.put(topic, e.getCause());
            }
        }
        return new Answers(partitions, failures, settings, settingsFailures);
    }

    private static <T> T await(KafkaFuture<T> future, long deadline, Duration timeout)
            throws ExecutionException, InterruptedException {
        try {
            return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new ExecutionException(new TimeoutException("no answer within " + timeout.toSeconds() + " s"));
        }
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
     * Logs, in one line, the output topics whose settings could not be read, but for a topic that does not exist (the
     * refusal names it) and, unless every topic was {@code described}, for brokers that did not answer (the line of
     * the topics' describe says so already).
     */
    private static void unread(Map<String, Throwable> failures, boolean described) {
        Map<String, Throwable> unread = new LinkedHashMap<>();
        failures.forEach((topic, failure) -> {
            boolean unanswered = failure instanceof TimeoutException;
            if (!(failure instanceof UnknownTopicOrPartitionException) && (described || !unanswered)) {
                unread.put(topic, failure);
            }
        });
        if (!unread.isEmpty()) {
            Throwable first = unread.values().iterator().next();
            String why = first instanceof TopicAuthorizationException || first instanceof ClusterAuthorizationException
                    ? "not authorized (DESCRIBE_CONFIGS)" : DeadLetters.describe(first);
            LOG.warn("cannot read the settings of topic{} {}: {}; their {}, {} and {} are not checked, going on",
                    unread.size() == 1 ? "" : "s", String.join(", ", unread.keySet()), why, CLEANUP_POLICY,
                    MIN_COMPACTION_LAG_MS, MAX_MESSAGE_BYTES);
        }
    }

    /**
     * What the settings of the job's topics give ({@code settings}: each topic's effective settings, as the broker
     * describes them; a topic without an entry is not judged): one refusal or warning per topic and setting, each
     * naming the options that name the topic, the setting and its value, and the command that changes it. The names
     * are those {@link #shared} lets through: each names a topic of its own.
     */
    static Verdict judge(TaplineConfig config, Map<String, Map<String, String>> settings) {
        List<Finding> findings = findings(config, settings);
        return new Verdict(findings.stream().filter(Finding::refuses).map(Finding::line).toList(),
                findings.stream().filter(f -> !f.refuses()).map(Finding::line).toList());
    }

    /**
     * The settings of {@code topic} that {@link #findings} can refuse on: {@code cleanup.policy} of the cases, noise and
     * dead-letter topics; none of the interactions topic, nor of a topic that is not the job's. The watch shows each at
     * 0 once it has read it ({@link TopicWatch}).
     */
    static List<String> refusable(TaplineConfig config, String topic) {
        for (Role role : ROLES) { // each names a topic of its own (shared)
            if (config.getTopic(role.option()).equals(topic)) {
                return role.cleanup() == Cleanup.READ ? List.of() : List.of(CLEANUP_POLICY);
            }
        }
        return List.of();
    }

    /** {@link #judge}'s refusals and warnings, each with its topic and setting, in the order judged. */
    static List<Finding> findings(TaplineConfig config, Map<String, Map<String, String>> settings) {
        List<Finding> findings = new ArrayList<>();
        String bootstrap = config.get(DedupOptions.BOOTSTRAP);
        for (Role role : ROLES) { // each names a topic of its own (shared)
            String topic = config.getTopic(role.option());
            String records = role.records();
            String named = config.optionsNamingTopic(topic, OPTIONS) + "topic " + topic;
            Map<String, String> values = settings.get(topic);
            if (values == null) {
                continue;
            }
            String policy = values.getOrDefault(CLEANUP_POLICY, ""); // as the broker wrote it, for the messages
            List<String> policies = cleanupPolicies(values);
            boolean compacted = policies.contains(TopicConfig.CLEANUP_POLICY_COMPACT);
            if (role.cleanup() == Cleanup.COMPACT) {
                // without "delete" in the policy (an empty one) retention deletes nothing
                String deletion = policies.contains(TopicConfig.CLEANUP_POLICY_DELETE) ? deletion(values) : null;
                if (!compacted) {
                    findings.add(new Finding(topic, CLEANUP_POLICY, true, named + " has " + CLEANUP_POLICY + "="
                            + shown(policy) + ", not compact: "
                            + (deletion != null ? records + " older than " + deletion + " are deleted, current or not"
                                    : "no superseded version of " + records + " is ever removed")
                            + " (fix: " + alterCommand(bootstrap, topic, CLEANUP_POLICY + "=compact") + ")"));
                } else if (deletion != null) {
                    findings.add(new Finding(topic, CLEANUP_POLICY, false, named + " has " + CLEANUP_POLICY + "="
                            + policy + ": " + records + " not written again within " + deletion + " are deleted, "
                            + "current or not (to keep them: "
                            + alterCommand(bootstrap, topic, CLEANUP_POLICY + "=compact") + "); going on"));
                }
                long neededLag = role.minCompactionLagMs();
                Long lag = number(values.get(MIN_COMPACTION_LAG_MS));
                if (compacted && lag != null && lag < neededLag) {
                    findings.add(new Finding(topic, MIN_COMPACTION_LAG_MS, false, named + " has "
                            + MIN_COMPACTION_LAG_MS + "=" + lag + human(lag) + ", below the "
                            + neededLag + human(neededLag) + " of the project's cases topic, longer than a replay run "
                            + "lasts: a run reads cases below the end offsets it started at while the job writes newer "
                            + "versions above them, and misses each case whose version below them the log cleaner "
                            + "removes meanwhile (fix: "
                            + alterCommand(bootstrap, topic, MIN_COMPACTION_LAG_MS + "=" + neededLag) + "); going on"));
                }
            } else if (role.cleanup() == Cleanup.NO_COMPACT && compacted) {
                findings.add(new Finding(topic, CLEANUP_POLICY, true, named + " has " + CLEANUP_POLICY + "=" + policy
                        + ": a compacted topic refuses a dead "
                        + "letter without a key (that of an input record without one), which stops the job, and keeps "
                        + "only the last dead letter of each key (fix: "
                        + alterCommand(bootstrap, topic, CLEANUP_POLICY + "=delete") + ")"));
            } else if (role.cleanup() == Cleanup.READ && compacted) {
                Long lag = number(values.get(MIN_COMPACTION_LAG_MS));
                findings.add(new Finding(topic, CLEANUP_POLICY, false, named + " has " + CLEANUP_POLICY + "=" + policy
                        + ": the sidecar keys interactions by "
                        + "service and route, so compaction keeps only the latest interaction of each route, and those "
                        + "the job has not read when the log cleaner reaches them (the job stopped or behind"
                        + (lag == null ? "" : " by more than " + MIN_COMPACTION_LAG_MS + "=" + lag + human(lag))
                        + ") are lost (fix: " + alterCommand(bootstrap, topic, CLEANUP_POLICY + "=delete") + "); going on"));
            }
            int needed = role.maxBytes();
            Long maxBytes = number(values.get(MAX_MESSAGE_BYTES));
            if (needed > 0 && maxBytes != null && maxBytes < needed) {
                findings.add(new Finding(topic, MAX_MESSAGE_BYTES, false, named + " has " + MAX_MESSAGE_BYTES + "="
                        + maxBytes + ", below the " + needed + " bytes "
                        + "the job may write to it: a larger record of " + records + " stops the job (fix: "
                        + alterCommand(bootstrap, topic, MAX_MESSAGE_BYTES + "=" + needed) + "); going on"));
            }
        }
        return findings;
    }



    private static String shown(String value) {
        return value.isEmpty() ? "\"\"" : value;
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
