package io.tapline.dedup;

import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.LogOptions;
import io.tapline.config.RegistryOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.dedup.noise.NoiseRule;
import io.tapline.dedup.signature.ValueFields;
import io.tapline.dedup.state.BoundedRocksDbMemory;
import io.tapline.signature.RouteTemplates;
import io.tapline.topics.TaplineTopics;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.streams.StreamsConfig;

/** Every option of {@code tapline dedup}: keys, defaults and descriptions (shown by {@code --help}). */
public final class DedupOptions {

    public static final String BOOTSTRAP = "kafka.bootstrap.servers";
    public static final String REGISTRY_URL = RegistryOptions.URL;
    public static final String APPLICATION_ID = "dedup.application.id";
    public static final String INPUT_TOPIC = "topic.interactions";
    public static final String CASES_TOPIC = "topic.cases";
    public static final String NOISE_TOPIC = "topic.noise";
    public static final String DLQ_TOPIC = "topic.dlq";
    public static final String TOPIC_CHECK_INTERVAL = "dedup.topic.check.interval";
    public static final String READY_MAX_BROKER_SILENCE = "dedup.ready.max.broker.silence";
    public static final String SAMPLES = "dedup.samples";
    public static final String SAMPLE_TTL = "dedup.sample.ttl";
    public static final String RETENTION = "dedup.retention";
    public static final String PUBLISH_INTERVAL = "dedup.publish.interval";
    public static final String MAX_SIGNATURES = "dedup.max.signatures.per.task";
    public static final String PUBLISH_MAX_CASES = "dedup.publish.max.cases";
    public static final String PUBLISH_MAX_NOISE_PROFILES = "dedup.publish.max.noise.profiles";
    public static final String ROUTE_TEMPLATES = "dedup.route.templates";
    public static final String VALUE_FIELDS = "dedup.value.fields";
    public static final String MAX_CLOCK_SKEW = "dedup.max.clock.skew";
    public static final String HIT_FORMAT = "dedup.hit.format";
    public static final String NOISE_RELATIVE = "noise.relative.threshold";
    public static final String NOISE_ABSOLUTE = "noise.absolute.threshold";
    public static final String NOISE_MIN_PAIRS = "noise.min.pairs";
    public static final String NOISE_MAX_PAIRS = "noise.max.pairs.per.signature";
    public static final String NOISE_MAX_FIELDS = "noise.max.fields.per.route";
    /**
     * Most field paths a route's noise may track: its profile, each path up to 4096 characters, must fit the noise
     * topic's {@code max.message.bytes} (16 MiB), and its counters the noise store's changelog.
     */
    public static final int MAX_NOISE_FIELDS = 2048;
    public static final String NOISE_WINDOW_PAIRS = "noise.window.pairs";
    public static final String THREADS = "streams.threads";
    public static final String PARTITIONS = "streams.partitions";
    public static final String STATE_DIR = "streams.state.dir";
    public static final String REPLICATION = "streams.replication.factor";
    public static final String ROCKSDB_MAX_BYTES = "streams.rocksdb.max.bytes";
    public static final String STREAMS_PREFIX = "kafka.streams.";
    public static final String MANAGEMENT_HOST = "management.host";
    public static final String MANAGEMENT_PORT = "management.port";

    public static final int DEFAULT_MANAGEMENT_PORT = 9402;
    static final long MIN_ROCKSDB_BYTES = 16L << 20;

    public static final ConfigSpec SPEC = LogOptions.declare(RegistryOptions.declare(ConfigSpec.builder("tapline dedup",
                    "Kafka Streams job: captured interactions -> unique, traffic-weighted cases + learned noisy fields"))
            .option(BOOTSTRAP, "127.0.0.1:9092", "Kafka bootstrap servers: host:port[,host:port...] (a name is resolved by the client, not at start).")
            .option(APPLICATION_ID, "tapline-dedup", "Kafka Streams application id (group id, internal topic prefix)")
            .option(INPUT_TOPIC, TaplineTopics.INTERACTIONS, "Input topic of captured interactions. This and the three "
                    + "topics below must exist: the job refuses to start (exit 2) naming a missing one. A compacted one "
                    + "is warned of (it keeps one interaction per route). None of the three below may name it (exit 2)")
            .option(CASES_TOPIC, TaplineTopics.CASES, "Output compacted topic of cases (key = case id). Its "
                    + "cleanup.policy must hold compact: the job refuses to start (exit 2) on one that deletes cases by "
                    + "age alone, and warns of compact,delete with a retention, of a max.message.bytes below 16 MiB and "
                    + "of a min.compaction.lag.ms below 2 h (a replay run could miss cases)")
            .option(NOISE_TOPIC, TaplineTopics.NOISE,
                    "Output compacted topic of noise profiles (key = service + route); its cleanup.policy is checked "
                    + "as the cases topic's; a topic of its own, not the cases topic (exit 2)")
            .option(DLQ_TOPIC, TaplineTopics.DLQ, "Dead-letter topic for undecodable input, a topic of its own "
                    + "(not the interactions, cases or noise topic: exit 2). It must not be "
                    + "compacted: the job refuses to start (exit 2) on a cleanup.policy holding compact; a "
                    + "max.message.bytes below 17 MiB is warned of")
            .option(TOPIC_CHECK_INTERVAL, "5m", "How often the running job reads these four topics' settings again "
                    + "and judges them as at start: one that would refuse the start is logged at ERROR and set to 1 in "
                    + "tapline_dedup_topic_settings_refused, a warning logged at WARN, each once per change, and the "
                    + "job goes on; 0 = never, else at least 1s")
            .option(READY_MAX_BROKER_SILENCE, BrokerSilence.DEFAULT_MAX.toSeconds() + "s", "/ready answers 503 while "
                    + "no broker has answered the job's Kafka clients for longer than this "
                    + "(tapline_dedup_broker_silence_seconds), though Kafka Streams stays RUNNING; /healthy is not "
                    + "affected. 0 = never, else at least 10s (a connected job hears from a broker every few seconds)")
            .option(SAMPLES, Integer.toString(DedupConfig.DEFAULT_SAMPLES), "Samples (cases) kept per signature, 1..100")
            .option(SAMPLE_TTL, "24h", "Samples older than this are replaced by fresh ones")
            .option(RETENTION, "7d", "Signatures not seen for this long, and the noise of routes with no "
                    + "identical-request pair nor new sample for this long (and for two sample TTLs), are retired with "
                    + "tombstones")
            .option(PUBLISH_INTERVAL, "30s", "Cadence of hit-count / last-seen and noise profile publication")
            .option(PUBLISH_MAX_CASES, Integer.toString(DedupConfig.DEFAULT_PUBLISH_MAX_CASES), "Most cases (updates "
                    + "and tombstones) one task writes per publication, so that one transaction stays small; signatures "
                    + "not reached are published at the next ones, in turn")
            .option(PUBLISH_MAX_NOISE_PROFILES, Integer.toString(DedupConfig.DEFAULT_PUBLISH_MAX_NOISE_PROFILES),
                    "Most routes' noise (profiles and tombstones) one task writes per publication, so that one "
                    + "transaction stays small; routes not reached are published or retired at the next ones, in turn")
            .option(MAX_SIGNATURES, Integer.toString(DedupConfig.DEFAULT_MAX_SIGNATURES_PER_TASK),
                    "Most signatures one task holds; new ones beyond are counted and dropped")
            .multi(ROUTE_TEMPLATES, "Route templates tried before the id rules, e.g. /owners/{owner}/pets (repeatable)")
            .multi(VALUE_FIELDS, "Value fields splitting signatures, ROUTE=$.path with dotted member names only ($.a.b), e.g. 'POST /payments=$.type' (repeatable)")
            .option(MAX_CLOCK_SKEW, "1m", "How far an interaction's startedAt (the sidecar's clock) may be ahead of its "
                    + "record's Kafka timestamp and of this job's clock; beyond it the earlier of those two is taken as event time")
            .choice(HIT_FORMAT, "compact", "Format of the by-signature repartition records: compact (a hit carries its "
                    + "interaction only when it may become a sample or a noise pair) or case (every hit carries it, as the "
                    + "previous version wrote them: set it for the first bounce of a rolling upgrade, then remove it)",
                    "compact", "case")
            .option(NOISE_RELATIVE, Double.toString(NoiseRule.DEFAULT_RELATIVE),
                    "A field is noise when it differs in at least this share of the identical-request pairs it is in")
            .option(NOISE_ABSOLUTE, Double.toString(NoiseRule.DEFAULT_ABSOLUTE),
                    "... and in at least this share of all identical-request pairs of the route")
            .option(NOISE_MIN_PAIRS, Long.toString(NoiseRule.DEFAULT_MIN_PAIRS),
                    "... and was compared in at least this many pairs")
            .option(NOISE_MAX_PAIRS, Integer.toString(DedupConfig.DEFAULT_NOISE_MAX_PAIRS),
                    "Identical-request comparisons per signature per sample TTL")
            .option(NOISE_MAX_FIELDS, Integer.toString(DedupConfig.DEFAULT_NOISE_MAX_FIELDS),
                    "Field paths tracked per route (response, and the requests the app sends its dependencies), 0.."
                            + MAX_NOISE_FIELDS)
            .option(NOISE_WINDOW_PAIRS, Long.toString(DedupConfig.DEFAULT_NOISE_WINDOW_PAIRS),
                    "A route's noise counters are halved when its pairs reach twice this, so noise follows the recent "
                            + "pairs (a field that starts or stops changing with a release); 0 = never, else at least "
                            + NOISE_MIN_PAIRS + " and 2")
            .option(THREADS, "1", "Stream threads")
            .option(PARTITIONS, "0", "Partitions of the internal repartition topics (and so of the dedup and noise "
                    + "tasks and the changelogs); 0 = as many as they have, or on a first start as " + INPUT_TOPIC
                    + " has, so adding partitions to " + INPUT_TOPIC + " does not stop the job")
            .option(STATE_DIR, System.getProperty("java.io.tmpdir") + "/tapline-dedup", "Local state directory")
            .option(REPLICATION, "-1", "Replication factor of internal topics; -1 = broker default")
            .option(ROCKSDB_MAX_BYTES, Long.toString(BoundedRocksDbMemory.DEFAULT_MAX_BYTES),
                    "Off-heap memory of all RocksDB state stores together (block cache, index and filter blocks, "
                            + "memtables), in bytes, at least 16 MiB; keep the container's limit above heap + this")
            .prefix(STREAMS_PREFIX, "Any Kafka Streams setting, passed through, e.g. --kafka.streams.commit.interval.ms=200")
            .option(MANAGEMENT_HOST, "0.0.0.0", "Management interface (/healthy, /ready, /metrics)")
            .option(MANAGEMENT_PORT, Integer.toString(DEFAULT_MANAGEMENT_PORT), "Management port, 0 = ephemeral"))
            .build();

    private DedupOptions() {
    }

    /** Parses flags, environment and {@code --config FILE}; a {@code ConfigException} names a bad flag. */
    public static TaplineConfig load(String[] args, Map<String, String> env) {
        return TaplineConfig.load(SPEC, args, env);
    }

    /**
     * The topology settings, checked: a value that would break the job (a zero retention tombstones every case on
     * each publish, a zero TTL makes every hit a sample) or a rule that does not parse is refused with its flag's name.
     */
    public static DedupConfig topology(TaplineConfig c) {
        if (!c.positional().isEmpty()) {
            throw new ConfigException("unexpected argument " + c.positional().get(0) + " (options start with --)");
        }
        int port = c.getInt(MANAGEMENT_PORT);
        if (port < 0 || port > 65535) {
            throw new ConfigException(c.named(MANAGEMENT_PORT) + ": must be a port 0-65535 (0 = ephemeral), got "
                    + c.get(MANAGEMENT_PORT));
        }
        int samples = c.getInt(SAMPLES);
        if (samples < 1 || samples > DedupConfig.MAX_SAMPLES) {
            throw new ConfigException(c.named(SAMPLES) + ": must be 1.." + DedupConfig.MAX_SAMPLES + ", got "
                    + c.get(SAMPLES));
        }
        if (c.getDuration(PUBLISH_INTERVAL).isNegative() || c.getDuration(PUBLISH_INTERVAL).isZero()) {
            throw new ConfigException(c.named(PUBLISH_INTERVAL) + ": must be longer than 0, got " + c.get(PUBLISH_INTERVAL));
        }
        if (c.getDuration(MAX_CLOCK_SKEW).isNegative()) {
            throw new ConfigException(c.named(MAX_CLOCK_SKEW) + ": must not be negative, got " + c.get(MAX_CLOCK_SKEW));
        }
        for (String key : new String[] {NOISE_RELATIVE, NOISE_ABSOLUTE}) {
            double share = c.getDouble(key);
            if (!(share >= 0 && share <= 1)) { // also refuses NaN
                throw new ConfigException(c.named(key) + ": must be a share in [0, 1], got " + c.get(key));
            }
        }
        if (c.getLong(NOISE_MIN_PAIRS) < 1) {
            throw new ConfigException(c.named(NOISE_MIN_PAIRS) + ": must be at least 1, got " + c.get(NOISE_MIN_PAIRS));
        }
        for (String key : new String[] {SAMPLE_TTL, RETENTION}) {
            if (c.getDuration(key).isNegative() || c.getDuration(key).isZero()) {
                throw new ConfigException(c.named(key) + ": must be longer than 0, got " + c.get(key));
            }
        }
        atLeast(c, MAX_SIGNATURES, 1);
        atLeast(c, PUBLISH_MAX_CASES, 1);
        atLeast(c, PUBLISH_MAX_NOISE_PROFILES, 1);
        atLeast(c, PARTITIONS, 0);
        atLeast(c, NOISE_MAX_PAIRS, 0);
        atLeast(c, NOISE_MAX_FIELDS, 0);
        if (c.getInt(NOISE_MAX_FIELDS) > MAX_NOISE_FIELDS) {
            throw new ConfigException(c.named(NOISE_MAX_FIELDS) + ": must be at most " + MAX_NOISE_FIELDS
                    + " (a route's noise profile must fit one record of the noise topic), got " + c.get(NOISE_MAX_FIELDS));
        }
        long window = c.getLong(NOISE_WINDOW_PAIRS);
        if (window != 0 && window < Math.max(2, c.getLong(NOISE_MIN_PAIRS))) {
            throw new ConfigException(c.named(NOISE_WINDOW_PAIRS) + ": must be 0 (never halve) or at "
                    + "least " + ConfigSpec.flag(NOISE_MIN_PAIRS) + " (" + c.get(NOISE_MIN_PAIRS) + ") and 2, got "
                    + c.get(NOISE_WINDOW_PAIRS));
        }
        try {
            RouteTemplates.withTemplates(c.getList(ROUTE_TEMPLATES));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(c.named(ROUTE_TEMPLATES) + ": " + e.getMessage());
        }
        try {
            ValueFields.parse(c.getList(VALUE_FIELDS));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(c.named(VALUE_FIELDS) + ": " + e.getMessage());
        }
        return new DedupConfig(c.getTopic(INPUT_TOPIC), c.getTopic(CASES_TOPIC), c.getTopic(NOISE_TOPIC), c.getTopic(DLQ_TOPIC),
                c.getInt(SAMPLES), c.getDuration(SAMPLE_TTL), c.getDuration(RETENTION), c.getDuration(PUBLISH_INTERVAL),
                c.getInt(MAX_SIGNATURES),
                new NoiseRule(c.getDouble(NOISE_RELATIVE), c.getDouble(NOISE_ABSOLUTE), c.getLong(NOISE_MIN_PAIRS)),
                c.getInt(NOISE_MAX_PAIRS), c.getInt(NOISE_MAX_FIELDS), c.getLong(NOISE_WINDOW_PAIRS),
                c.getList(ROUTE_TEMPLATES), c.getList(VALUE_FIELDS), c.getDuration(MAX_CLOCK_SKEW),
                DedupConfig.HitFormat.valueOf(c.get(HIT_FORMAT).toUpperCase(java.util.Locale.ROOT)), c.getInt(PARTITIONS),
                c.getInt(PUBLISH_MAX_CASES), c.getInt(PUBLISH_MAX_NOISE_PROFILES));
    }

    /** The cadence of the running job's topic re-check ({@link TopicWatch}): zero for none, else at least 1 s. */
    public static Duration topicCheckInterval(TaplineConfig c) {
        Duration every = c.getDuration(TOPIC_CHECK_INTERVAL);
        if (every.isNegative() || !every.isZero() && every.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new ConfigException(c.named(TOPIC_CHECK_INTERVAL) + ": must be 0 (never) or at least 1s, got "
                    + c.get(TOPIC_CHECK_INTERVAL));
        }
        return every;
    }

    /**
     * How long the brokers may not answer before {@code /ready} answers 503 ({@link BrokerSilence}): zero for never,
     * else at least 10 s, well above the 3 s a connected job waits at most for an answer.
     */
    public static Duration readyMaxBrokerSilence(TaplineConfig c) {
        Duration max = c.getDuration(READY_MAX_BROKER_SILENCE);
        if (max.isNegative() || !max.isZero() && max.compareTo(Duration.ofSeconds(10)) < 0) {
            throw new ConfigException(c.named(READY_MAX_BROKER_SILENCE) + ": must be 0 (never) or at least 10s, got "
                    + c.get(READY_MAX_BROKER_SILENCE));
        }
        return max;
    }

    /**
     * The registry client's settings; a truststore that cannot be loaded (missing, unreadable, a wrong password) is
     * refused naming its flag, as the client loads it when it is made.
     */
    public static Map<String, Object> registry(TaplineConfig c) {
        return registry(c, RegistryOptions.clientConfigs(c));
    }

    /**
     * {@code configs}, checked as {@link #registry(TaplineConfig)} checks them: a refused setting is named by the
     * option that set it ({@link RegistryOptions#refusal}), or by its key when no option sets it.
     */
    static Map<String, Object> registry(TaplineConfig c, Map<String, Object> configs) {
        return RegistryOptions.checked(c, configs);
    }

    /** @throws ConfigException naming the flag when the value is below {@code min} */
    private static void atLeast(TaplineConfig c, String key, int min) {
        if (c.getInt(key) < min) {
            throw new ConfigException(c.named(key) + ": must be at least " + min + ", got " + c.get(key));
        }
    }

    /**
     * Checks the {@code kafka.streams.*} settings as Kafka Streams and its clients would when the job starts (after the
     * output schemas are registered): a name without a client prefix goes to Streams and to each of its clients, one
     * with a prefix ({@code producer.}, {@code main.consumer.}, ...) to that client alone.
     */
    private static void checkStreamsSettings(TaplineConfig c) {
        c.checkClientSettings(STREAMS_PREFIX, StreamsConfig.configDef(), ProducerConfig.configDef(),
                ConsumerConfig.configDef(), AdminClientConfig.configDef());
        c.checkClientSettings(STREAMS_PREFIX + StreamsConfig.PRODUCER_PREFIX, ProducerConfig.configDef());
        for (String consumer : new String[] {StreamsConfig.CONSUMER_PREFIX, StreamsConfig.MAIN_CONSUMER_PREFIX,
                StreamsConfig.RESTORE_CONSUMER_PREFIX, StreamsConfig.GLOBAL_CONSUMER_PREFIX}) {
            c.checkClientSettings(STREAMS_PREFIX + consumer, ConsumerConfig.configDef());
        }
        c.checkClientSettings(STREAMS_PREFIX + StreamsConfig.ADMIN_CLIENT_PREFIX, AdminClientConfig.configDef());
    }

    /** Kafka's longest topic name ({@code Topic.MAX_NAME_LENGTH}, private there). */
    private static final int MAX_TOPIC_NAME = 249;
    /**
     * The names Kafka Streams gives the job's internal topics after the application id and a dash: its changelogs
     * and repartition topics ({@code DedupTopology}).
     */
    static final List<String> INTERNAL_TOPIC_SUFFIXES = List.of(
            DedupTopology.SIGNATURES_STORE + "-changelog", DedupTopology.SAMPLES_STORE + "-changelog",
            DedupTopology.BASELINES_STORE + "-changelog", DedupTopology.NOISE_STORE + "-changelog",
            "by-signature-repartition", "by-route-repartition");

    /**
     * The application id begins the group id and every internal topic name: an empty one fails the KafkaStreams
     * constructor, and one a topic name cannot begin with (a blank, a '/', too long) fails every stream thread at its
     * first rebalance, until the restart budget shuts the job down.
     */
    private static void checkApplicationId(TaplineConfig c) {
        String id = c.get(APPLICATION_ID) == null ? "" : c.get(APPLICATION_ID);
        if (id.isEmpty()) {
            throw new ConfigException(c.named(APPLICATION_ID) + ": must not be empty");
        }
        String longest = INTERNAL_TOPIC_SUFFIXES.stream().max(Comparator.comparingInt(String::length)).orElseThrow();
        int most = MAX_TOPIC_NAME - 1 - longest.length();
        if (id.length() > most) {
            throw new ConfigException(c.named(APPLICATION_ID) + ": must be at most " + most + " characters, got "
                    + id.length() + " (it begins the job's internal topic names, the longest <id>-" + longest
                    + ", and a topic name has at most " + MAX_TOPIC_NAME + ")");
        }
        for (String suffix : INTERNAL_TOPIC_SUFFIXES) {
            try {
                Topic.validate(id + "-" + suffix);
            } catch (InvalidTopicException e) {
                throw new ConfigException(c.named(APPLICATION_ID) + ": '" + id + "' cannot begin the job's internal topic "
                        + "names (" + id + "-" + suffix + "): " + e.getMessage(), e);
            }
        }
    }

    /** @throws ConfigException naming the flag when the thread count or replication factor is not a valid number */
    public static Properties streams(TaplineConfig c) {
        atLeast(c, THREADS, 1);
        if (c.getInt(REPLICATION) == 0 || c.getInt(REPLICATION) < -1) {
            throw new ConfigException(c.named(REPLICATION) + ": must be -1 (the broker's default) or at least 1, got "
                    + c.get(REPLICATION));
        }
        if (c.getLong(ROCKSDB_MAX_BYTES) < MIN_ROCKSDB_BYTES) {
            throw new ConfigException(c.named(ROCKSDB_MAX_BYTES) + ": must be at least "
                    + MIN_ROCKSDB_BYTES + " (16 MiB), got " + c.get(ROCKSDB_MAX_BYTES));
        }
        checkApplicationId(c);
        String bootstrap = c.getBootstrapServers(BOOTSTRAP);
        checkStreamsSettings(c);
        Properties props = DedupTopology.streamsConfig(c.get(APPLICATION_ID), bootstrap, c.getInt(REPLICATION),
                c.getInt(THREADS), c.get(STATE_DIR), c.subset(STREAMS_PREFIX));
        props.put(BoundedRocksDbMemory.MAX_BYTES, c.getLong(ROCKSDB_MAX_BYTES));
        return props;
    }
}
