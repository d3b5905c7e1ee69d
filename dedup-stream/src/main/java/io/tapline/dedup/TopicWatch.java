package io.tapline.dedup;

import io.tapline.config.TaplineConfig;
import io.tapline.ops.Metrics;
import io.tapline.topics.DeadLetters;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start-up check of the topics' settings ({@link TopicCheck#findings}), asked again while the job runs, every
 * {@code dedup.topic.check.interval}: a setting changed under the running job (the cases topic altered to
 * {@code cleanup.policy=delete}, which deletes current cases by age) was never noticed before. The job does not stop
 * for it (it loses nothing by going on, and stopping would stop dedup too): a setting that would refuse the start is
 * logged at ERROR and set to 1 in {@value #REFUSED}{@code {topic,setting}}, a warning is logged at WARN, each once
 * when it appears or changes (its line, with the value, differs); a setting fixed is logged at INFO and its gauge set
 * back to 0. A topic deleted under the job is logged at ERROR once and set to 1 in the gauge with {@code
 * setting="exists"}, and its return at INFO. Settings that could not be read otherwise (no broker answer, not
 * authorized) are a debug line, and the last verdict on them is kept.
 *
 * <p>Every series the watch can set to 1 (each topic's {@code exists}, and each setting {@link TopicCheck#refusable}
 * names) is there at 0 from the first check that read the topic's settings: the start-up check's, whose answer the
 * watch starts from (a refusal there stopped the start), else the first re-check that has an answer for the topic. A 0
 * then says "checked and fine", and a missing series "not checked" (never answered, or the watch off: {@link #start}
 * registers nothing for interval 0). Each topic's last check with an answer is stamped in {@value #CHECKED}{@code
 * {topic}}, so that a verdict kept while the brokers do not answer shows its age.
 *
 * <p>Runs on a daemon thread of its own, never a stream thread; each describe is bounded by {@link TopicCheck#TIMEOUT}
 * and {@link #close} does not wait for one in flight.
 */
final class TopicWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TopicWatch.class);
    static final String REFUSED = "tapline_dedup_topic_settings_refused";
    private static final String REFUSED_HELP = "1 while a setting of one of the job's topics, read again while the job "
            + "runs (dedup.topic.check.interval), is one the job refuses to start on (a cases or noise topic without "
            + "compact, a compacted dead-letter topic), or setting=\"exists\" for a topic deleted under the job; 0 while "
            + "it is checked and fine; NaN for the other settings of a deleted topic. A topic's series are there from the first check that read its settings (the "
            + "start-up check's, else a re-check's), and none at all while the re-check is off (interval 0)";
    static final String CHECKED = "tapline_dedup_topic_settings_checked_timestamp_seconds";
    private static final String CHECKED_HELP = "Unix time of the last check with an answer for the topic (its settings "
            + "read, or the topic found deleted): the start-up check's, then one every dedup.topic.check.interval; it "
            + "stands still while the brokers do not answer or do not let the job read the topic's settings, and the "
            + "topic's tapline_dedup_topic_settings_refused series then keep their last value";

    /** Each topic's settings as a broker describes them, or why not ({@link TopicCheck.Answers}' last two). */
    @FunctionalInterface
    interface Describe {
        TopicCheck.Answers settings(Set<String> topics) throws InterruptedException;
    }

    private record Key(String topic, String setting) {
    }

    /** The gauge's {@code setting} label for a topic that does not exist (deleted under the running job). */
    static final String EXISTS = "exists";

    private final TaplineConfig config;
    private final Set<String> topics;
    private final Describe describe;
    private final Metrics registry;
    /** The findings of the last describe of each topic: what is logged already. */
    private final Map<Key, TopicCheck.Finding> current = new ConcurrentHashMap<>();
    /** The topics found deleted by the last describe: what is logged already. */
    private final Set<String> missing = ConcurrentHashMap.newKeySet();
    /** When each topic was last checked with an answer, in Unix seconds; a topic never checked has none. */
    private final Map<String, Long> checkedAt = new ConcurrentHashMap<>();
    /** The topics whose settings were read at least once: their refusable settings have series. */
    private final Set<String> read = ConcurrentHashMap.newKeySet();
    private final Runnable onClose;

    /** {@code atStart}: the start-up check's result, whose warnings are logged already. */
    TopicWatch(TaplineConfig config, Describe describe, Metrics registry, TopicCheck.Result atStart,
               Runnable onClose) {
        this.config = config;
        this.topics = TopicCheck.topics(config);
        this.describe = describe;
        this.registry = registry;
        this.onClose = onClose;
        atStart.warnings().forEach(f -> current.put(new Key(f.topic(), f.setting()), f));
        // the start-up check judged these as a re-check does, and went on: each is checked and fine
        atStart.settingsRead().stream().filter(topics::contains).forEach(t -> checked(t, true, atStart.readAt()));
    }

    /**
     * Re-checks every {@code every} on a daemon thread, with an admin client of the settings the start-up check's was
     * made of; null when {@code every} is zero, with no series registered (none would be checked again).
     */
    static TopicWatch start(TaplineConfig config, Properties streamsConfig, Metrics registry,
                            TopicCheck.Result atStart, Duration every) {
        if (every.isZero()) {
            return null;
        }
        Admin admin = Admin.create(new StreamsConfig(streamsConfig).getAdminConfigs("tapline-dedup-topic-watch"));
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tapline-dedup-topic-watch");
            t.setDaemon(true);
            return t;
        });
        TopicWatch watch = new TopicWatch(config, topics -> TopicCheck.ask(admin, Set.of(), topics, TopicCheck.TIMEOUT),
                registry, atStart, () -> {
                    thread.shutdownNow();
                    admin.close(Duration.ZERO); // a describe in flight fails at once: nothing to wait for
                });
        thread.scheduleWithFixedDelay(watch::checkOnce, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return watch;
    }

    private void checkOnce() {
        try {
            check();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closed
        } catch (RuntimeException e) {
            // a later check may work: the job's clients, not this thread, are what matters
            LOG.warn("cannot re-check the topics' settings: {}; trying again at the next check", DeadLetters.describe(e));
        }
    }

    /** One re-check: describes the topics' settings, judges them and logs what changed since the last one. */
    void check() throws InterruptedException {
        TopicCheck.Answers answers = describe.settings(topics);
        Instant answered = Instant.now();
        Map<String, Throwable> unread = new LinkedHashMap<>(answers.settingsFailures());
        for (String topic : topics) {
            boolean gone = unread.get(topic) instanceof UnknownTopicOrPartitionException;
            if (gone) {
                unread.remove(topic);
                if (missing.add(topic)) {
                    LOG.error("{}topic {} does not exist any more (deleted while the job runs): the job's clients fail"
                            + " on it until it is created again; going on", config.optionsNamingTopic(topic,
                            TopicCheck.OPTIONS), topic);
                }
                checked(topic, false, answered);
            } else if (answers.settings().containsKey(topic) && missing.remove(topic)) {
                LOG.info("topic {} exists again", topic);
            }
        }
        if (!unread.isEmpty()) {
            Throwable first = unread.values().iterator().next();
            LOG.debug("cannot re-read the settings of topics {}: {}; keeping their last verdict", unread.keySet(),
                    DeadLetters.describe(first));
        }
        Set<Key> found = new HashSet<>();
        for (TopicCheck.Finding f : TopicCheck.findings(config, answers.settings())) {
            Key key = new Key(f.topic(), f.setting());
            found.add(key);
            TopicCheck.Finding before = current.put(key, f);
            if (before != null && before.line().equals(f.line())) {
                continue;
            }
            if (f.refuses()) {
                registry.gauge(REFUSED, REFUSED_HELP, () -> refused(key), "topic", key.topic(), "setting", key.setting());
                LOG.error("{} (changed while the job runs: the job would refuse to start on it; going on)", f.line());
            } else {
                LOG.warn("{} (changed while the job runs)", f.line());
            }
        }
        for (Key key : List.copyOf(current.keySet())) {
            Map<String, String> values = answers.settings().get(key.topic());
            if (values != null && !found.contains(key)) {
                current.remove(key);
                LOG.info("topic {} now has {}={}: fixed, as the job needs it", key.topic(), key.setting(),
                        values.get(key.setting()));
            }
        }
        // after the verdicts above, so that a series appears with its value, never at 0 before a refusal is set
        topics.stream().filter(answers.settings()::containsKey).forEach(t -> checked(t, true, answered));
    }

    /**
     * Stamps a check of {@code topic} with an answer, and at the first one shows its series: whether it exists, and,
     * once its settings were read, each setting it can be refused on ({@link TopicCheck#refusable}), each then at the
     * value the verdicts give. Registering a series again replaces its supplier by an equal one.
     */
    private void checked(String topic, boolean settingsRead, Instant at) {
        if (checkedAt.put(topic, at.getEpochSecond()) == null) {
            registry.gauge(CHECKED, CHECKED_HELP, () -> checkedAt.getOrDefault(topic, 0L), "topic", topic);
            registry.gauge(REFUSED, REFUSED_HELP, () -> missing.contains(topic) ? 1 : 0, "topic", topic, "setting",
                    EXISTS);
        }
        if (settingsRead && read.add(topic)) {
            for (String setting : TopicCheck.refusable(config, topic)) {
                Key key = new Key(topic, setting);
                registry.gauge(REFUSED, REFUSED_HELP, () -> refused(key), "topic", topic, "setting", setting);
            }
        }
    }

    /**
     * 1 while {@code key}'s setting is refused, 0 while checked and fine; NaN while its topic does not exist, whose
     * settings are then not known (its {@code exists} series says 1): its last verdict, kept, read as current.
     */
    private double refused(Key key) {
        if (missing.contains(key.topic())) {
            return Double.NaN;
        }
        TopicCheck.Finding f = current.get(key);
        return f != null && f.refuses() ? 1 : 0;
    }

    @Override
    public void close() {
        onClose.run();
    }
}
