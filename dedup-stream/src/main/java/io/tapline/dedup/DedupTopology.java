package io.tapline.dedup;

import io.tapline.avro.Case;
import io.tapline.avro.NoiseProfile;
import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.dedup.noise.ResponseFields;
import io.tapline.dedup.noise.RouteNoise;
import io.tapline.dedup.signature.Signer;
import io.tapline.dedup.signature.ValueFields;
import io.tapline.dedup.state.BoundedRocksDbMemory;
import io.tapline.dedup.state.CaseSchemas;
import io.tapline.dedup.state.SignatureStateSerde;
import io.tapline.signature.RouteTemplates;
import io.tapline.topics.TaplineTopics;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * The dedup topology:
 * <pre>
 * interactions (bytes) ─ decode-and-sign ─┬─ dead ─────────────────────────────► dlq
 *                                         └─ signed ─ hits repartitioned by signature id (the interaction only when
 *                                                     the dedup step may need it: {@link SampleGate})
 *                                    ─ dedup [signatures, samples, baselines] ─┬─ cases (key case id) ─► cases
 *                                                                              └─ noise observations
 *                                         ─ repartition by service + route ─ learn-noise [noise] ─► noise
 * </pre>
 * Internal topics and stores use Avro single-object encoding or compact binary, never the registry.
 */
public final class DedupTopology {

    public static final String SIGNATURES_STORE = "dedup-signatures";
    public static final String SAMPLES_STORE = "dedup-samples";
    public static final String NOISE_STORE = "dedup-noise";
    /** Per signature and identical request, the latest response compared for noise (its baseline). */
    public static final String BASELINES_STORE = "dedup-baselines";
    /** The steps' names: the processor node ids Kafka Streams gives the exception handlers. */
    static final String DECODE_STEP = "decode-and-sign";
    static final String DEDUP_STEP = "dedup";
    static final String NOISE_STEP = "learn-noise";

    private DedupTopology() {
    }

    public static Topology build(DedupConfig config, DedupSerdes serdes, DedupMetrics metrics) {
        Serde<Case> internalCase = CaseSchemas.serde();
        // Cases and noise profiles are encoded by the steps that write them, with the public topics' serializers, and
        // written as those bytes: a value the serializer refuses is known there, where a record can be set aside.
        OutputEncoder<Case> cases = OutputEncoder.cases(serdes.cases().serializer(), config, metrics);
        OutputEncoder<NoiseProfile> noiseProfiles = OutputEncoder.noiseProfiles(serdes.noise().serializer(), config,
                metrics);
        Signer signer = new Signer(RouteTemplates.withTemplates(config.routeTemplates()),
                ValueFields.parse(config.valueFields()));

        StreamsBuilder builder = new StreamsBuilder();
        // The small, often-rewritten stores are cached: a busy signature's counters change with every hit, and the
        // cache folds those writes into one RocksDB put and one changelog record per key and commit.
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SIGNATURES_STORE),
                Serdes.String(), new SignatureStateSerde()).withCachingEnabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SAMPLES_STORE),
                Serdes.String(), internalCase));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BASELINES_STORE),
                Serdes.String(), ResponseFields.serde()).withCachingEnabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(NOISE_STORE),
                Serdes.String(), RouteNoise.serde()).withCachingEnabled());

        // one for every task of this instance (as the dead-letter warning in metrics): an unknown schema id costs one
        // registry call per interval, whichever task meets it
        UnknownSchemaIds unknownSchemaIds = new UnknownSchemaIds();
        Map<String, KStream<String, Routed>> decoded = builder
                .stream(config.inputTopic(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("interactions"))
                .process(() -> new DecodeProcessor(serdes.interaction().deserializer(), signer, config, metrics,
                                metrics.deadLetterWarning, unknownSchemaIds), Named.as(DECODE_STEP))
                .split(Named.as("decoded-"))
                .branch((key, value) -> value instanceof Routed.Dead, Branched.as("dead"))
                .defaultBranch(Branched.as("signed"));

        decoded.get("decoded-dead")
                .map((key, value) -> KeyValue.pair(((Routed.Dead) value).key(), ((Routed.Dead) value).value()),
                        Named.as("dead-letter-bytes"))
                .to(config.dlqTopic(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("dead-letters"));

        Map<String, KStream<String, Emitted>> emitted = decoded.get("decoded-signed")
                .mapValues(value -> ((Routed.Signed) value).hit(), Named.as("signature-hit"))
                .repartition(pinned(Repartitioned.with(Serdes.String(), new HitSerde(config.hitFormat())).withName("by-signature"),
                        config))
                .process(() -> new DedupProcessor(config, metrics, cases), Named.as(DEDUP_STEP), SIGNATURES_STORE, SAMPLES_STORE,
                        BASELINES_STORE)
                .split(Named.as("dedup-"))
                .branch((key, value) -> value instanceof Emitted.CaseOut, Branched.as("cases"))
                .defaultBranch(Branched.as("noise"));

        emitted.get("dedup-cases")
                .mapValues(value -> ((Emitted.CaseOut) value).value(), Named.as("case-value"))
                .to(config.casesTopic(), Produced.with(Serdes.String(), Serdes.ByteArray()).withName("cases"));

        emitted.get("dedup-noise")
                .mapValues(value -> ((Emitted.NoiseOut) value).observation(), Named.as("noise-observation"))
                .repartition(pinned(Repartitioned.with(Serdes.String(), NoiseObservation.serde()).withName("by-route"), config))
                .process(() -> new NoiseProcessor(config, metrics, noiseProfiles), Named.as(NOISE_STEP), NOISE_STORE)
                .to(config.noiseTopic(), Produced.with(Serdes.String(), Serdes.ByteArray()).withName("noise"));

        return builder.build();
    }

    /**
     * The repartition with {@code streams.partitions} partitions when set. Kafka Streams otherwise sizes a repartition
     * topic as its sub-topology's input, here {@code tapline.interactions}, when it first creates it, and afterwards
     * refuses to run ("Existing internal topic ... has invalid partitions") once that input has more partitions: adding
     * partitions to the interactions topic stopped the job, and the only way back was a reset, losing every store.
     * Pinned, the signature and route tasks (and their changelogs) stay as they are and only the decode step, which
     * holds no state, takes the new input partitions.
     */
    private static <V> Repartitioned<String, V> pinned(Repartitioned<String, V> repartitioned, DedupConfig config) {
        return config.internalPartitions() > 0 ? repartitioned.withNumberOfPartitions(config.internalPartitions())
                : repartitioned;
    }

    /**
     * Sets {@code props} up so that a record on which a processing step fails with an exception of Tapline's own code
     * ({@link RecordFailureHandler}), or whose output a sink cannot serialize ({@link SerializationFailureHandler}), is
     * written to the dead-letter topic, in the task's transaction, and counted in {@code metrics}, and the stream goes
     * on; unless {@code processing.exception.handler}, or {@code production.exception.handler} (or its deprecated
     * {@code default.production.exception.handler}), is set already (a {@code kafka.streams.*} setting).
     */
    @SuppressWarnings("deprecation")
    public static void deadLetterRecordFailures(Properties props, DedupConfig config, DedupMetrics metrics) {
        props.putIfAbsent(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, RecordFailureHandler.class);
        if (!props.containsKey(StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG)) {
            props.putIfAbsent(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, SerializationFailureHandler.class);
        }
        props.put(RecordDeadLetters.CONFIG, RecordDeadLetters.of(config, metrics));
    }

    /**
     * Kafka Streams settings.
     *
     * @param applicationId     consumer group and internal topic prefix
     * @param bootstrapServers  brokers
     * @param replicationFactor internal topics' replication factor; -1 takes the broker default (1 on a single
     *                          test broker, 3 in production)
     * @param threads           stream threads
     * @param stateDir          local state directory
     * @param overrides         {@code kafka.streams.*} pass-through settings, applied last
     */
    public static Properties streamsConfig(String applicationId, String bootstrapServers, int replicationFactor,
                                           int threads, String stateDir, Map<String, ?> overrides) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        // A case must be emitted exactly once per state change, and a dead letter exactly once per bad record.
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        // Changelog and repartition topics follow the cluster: 1 on a single-broker stack, 3 in production.
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, replicationFactor);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        // Cases carry whole interactions (bodies up to the capture cap), so whatever the interactions topic accepted
        // must fit every topic written from it: cases, the dead-letter topic and the internal repartition and
        // changelog topics, which Kafka Streams would otherwise create with the broker's default limit (1 MiB).
        // The producer takes the largest of them, a dead letter (the record plus its error headers); the topics'
        // own limits still bound what lands on each.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), TaplineTopics.DLQ_MAX_BYTES);
        props.put(StreamsConfig.topicPrefix(TopicConfig.MAX_MESSAGE_BYTES_CONFIG), Integer.toString(TaplineTopics.DERIVED_MAX_BYTES));
        // Bodies are JSON and compress well; lz4 costs little CPU on the 2-core pods this runs on.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
        // Read input in larger batches: per-record work is small, per-fetch overhead dominates otherwise.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 2000);
        // All RocksDB stores of the process share one bounded off-heap budget (BoundedRocksDbMemory.MAX_BYTES).
        props.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDbMemory.class);
        // The topology has no global store; the setting's future default. Here, not with the handlers, as every
        // reading of these settings (the repartition topics' pinning reads them first) warns without it.
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        // The stream thread's partition assignor reads the Streams settings again from the main consumer's, which
        // carry only this prefix's: without it that reading warned of the setting at every start.
        props.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG), true);
        overrides.forEach(props::put);
        return props;
    }
}
