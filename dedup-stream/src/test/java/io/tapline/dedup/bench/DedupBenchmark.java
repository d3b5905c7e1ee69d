package io.tapline.dedup.bench;

import io.tapline.avro.Case;
import io.tapline.avro.Interaction;
import io.tapline.dedup.DedupConfig;
import io.tapline.dedup.DedupMetrics;
import io.tapline.dedup.DedupSerdes;
import io.tapline.dedup.DedupTopology;
import io.tapline.dedup.state.AvroBinarySerde;
import io.tapline.dedup.state.SignatureState;
import io.tapline.dedup.state.SignatureStateSerde;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryClient;
import io.tapline.serde.Subjects;
import io.tapline.stack.KafkaBroker;
import io.tapline.stack.Ports;
import io.tapline.stack.SchemaRegistry;
import io.tapline.stack.StackDistribution;
import io.tapline.testing.BenchArgs;
import io.tapline.topics.TaplineTopics;
import io.tapline.topics.TopicSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Loads realistic interactions into a real broker and measures interactions/s through the dedup topology and
 * through a pass-through topology (decode with the same registry serde, re-encode, write) on the same broker, input
 * and Streams settings (exactly-once v2), in the same run.
 *
 * <pre>
 * dedup-stream/bench/run.sh [--interactions 1000000] [--routes 200] [--threads 2] [--bootstrap H:P --registry URL]
 * </pre>
 * Without --bootstrap it starts its own KRaft broker and Apicurio registry (deploy module) on free loopback ports.
 */
public final class DedupBenchmark {

    private DedupBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = BenchArgs.parse(args, 0);
        int interactions = Integer.parseInt(opts.getOrDefault("interactions", "1000000"));
        int routes = Integer.parseInt(opts.getOrDefault("routes", "200"));
        int threads = Integer.parseInt(opts.getOrDefault("threads", "2"));
        double zipf = Double.parseDouble(opts.getOrDefault("zipf", "1.0"));
        Path work = Files.createTempDirectory("tapline-dedup-bench-");
        KafkaBroker broker = null;
        SchemaRegistry registry = null;
        String bootstrap = opts.get("bootstrap");
        String registryUrl = opts.get("registry");
        try {
            if (bootstrap == null) {
                StackDistribution distribution = StackDistribution.fromBuild();
                broker = new KafkaBroker(distribution, Ports.freePort(), Ports.freePort(), work.resolve("kafka"));
                broker.start(false, KafkaBroker.DEFAULT_READY_TIMEOUT);
                registry = new SchemaRegistry(distribution, Ports.freePort(), work.resolve("registry"));
                registry.start(false, SchemaRegistry.DEFAULT_READY_TIMEOUT);
                bootstrap = broker.bootstrapServers();
                registryUrl = registry.url();
            }
            run(bootstrap, registryUrl, interactions, routes, threads, zipf, work);
        } finally {
            if (registry != null) {
                registry.stop();
            }
            if (broker != null) {
                broker.stop();
            }
            deleteRecursively(work);
        }
    }

    private static void run(String bootstrap, String registryUrl, int n, int routes, int threads, double zipf,
                            Path work) throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String input = "bench-interactions-" + suffix;
        int partitions = TaplineTopics.INTERACTIONS_SPEC.partitions();
        Map<String, Object> registryConfig = Map.of(RegistryConfig.URL, registryUrl);
        DedupSerdes serdes = DedupSerdes.registry(registryConfig);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            List<NewTopic> topics = new ArrayList<>();
            topics.add(new NewTopic(input, partitions, (short) 1).configs(Map.of("retention.ms", "-1")));
            for (TopicSpec spec : List.of(TaplineTopics.CASES_SPEC, TaplineTopics.NOISE_SPEC, TaplineTopics.DLQ_SPEC)) {
                topics.add(new NewTopic(spec.name() + "-" + suffix, spec.partitions(), (short) 1).configs(spec.configs()));
            }
            topics.add(new NewTopic("bench-passthrough-" + suffix, partitions, (short) 1));
            admin.createTopics(topics).all().get();

            System.out.printf("generating and loading %,d interactions over %d routes (Zipf s=%.2f)...%n", n, routes,
                    zipf);
            WorkloadGenerator generator = new WorkloadGenerator(routes, zipf, new Random(7));
            long loadStart = System.nanoTime();
            long bytes = load(bootstrap, input, n, generator, serdes);
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            System.out.printf("loaded %,d interactions, %,d MiB of values in %.1f s (%,.0f/s); %d distinct signatures"
                    + " expected%n", n, bytes >> 20, loadSeconds, n / loadSeconds, generator.expectedSignatures());

            DedupConfig config = DedupConfig.defaults().withTopics(input, TaplineTopics.CASES + "-" + suffix,
                    TaplineTopics.NOISE + "-" + suffix, TaplineTopics.DLQ + "-" + suffix);
            DedupSerdes.registered(registryConfig, config);
            new SchemaRegistryClient(RegistryConfig.fromMap(registryConfig))
                    .register(Subjects.subject("bench-passthrough-" + suffix, false), Interaction.getClassSchema());
            Properties base = DedupTopology.streamsConfig("x", bootstrap, 1, threads, work.resolve("state").toString(),
                    Map.of());
            // The exception handlers as DedupMain sets them (they act only on a failing record), for both topologies.
            DedupMetrics metrics = DedupMetrics.detached();
            DedupTopology.deadLetterRecordFailures(base, config, metrics);

            // Baseline: same input, same serde, same exactly-once settings; decode, re-encode, write every record.
            StreamsBuilder pass = new StreamsBuilder();
            Serde<Interaction> interactionSerde = serdes.interaction();
            pass.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                    .mapValues(v -> interactionSerde.deserializer().deserialize(input, v))
                    .to("bench-passthrough-" + suffix, Produced.with(Serdes.ByteArray(), interactionSerde));
            Topology passTopology = pass.build();
            Result passBefore = measure("pass-through (before dedup)", passTopology,
                    withAppId(base, "bench-pass-a-" + suffix), admin, input, n, null);

            Result dedup = measure("dedup", DedupTopology.build(config, serdes, metrics),
                    withAppId(base, "bench-dedup-" + suffix), admin, input, n, work.resolve("state"));
            // Measured again after dedup so that neither side alone pays for a cold page cache or JIT warm-up.
            Result passAfter = measure("pass-through (after dedup)", passTopology,
                    withAppId(base, "bench-pass-b-" + suffix), admin, input, n, null);
            double passRate = (passBefore.rate() + passAfter.rate()) / 2;

            System.out.println();
            System.out.println("=== results ===");
            System.out.printf("interactions             %,d (%,d MiB of Avro values, avg %,d B)%n", n, bytes >> 20,
                    bytes / n);
            System.out.printf("pass-through             %,.0f interactions/s (mean of %,.0f before and %,.0f after dedup)%n",
                    passRate, passBefore.rate(), passAfter.rate());
            System.out.printf("dedup                    %,.0f interactions/s (%.1f s)%n", dedup.rate(), dedup.seconds());
            System.out.printf("ratio dedup/pass-through %.2f (target >= 0.5)%n", dedup.rate() / passRate);
            System.out.printf("unique signatures        %,d (generator: %,d)%n", dedup.signatures(),
                    generator.expectedSignatures());
            System.out.printf("whole hits               %,d of %,d interactions crossed the repartition with their"
                    + " interaction; the rest as 17-byte hits%n", metrics.wholeHits(), metrics.interactions());
            System.out.printf("dedup ratio              %,.0f interactions per signature; %,d cases kept (%.4f%% of input)%n",
                    (double) n / dedup.signatures(), dedup.cases(), 100.0 * dedup.cases() / n);
            System.out.printf("state per signature      %,d B serialized (signature state %,d B + samples %,d B)%n",
                    (dedup.stateBytes() + dedup.sampleBytes()) / Math.max(1, dedup.signatures()),
                    dedup.stateBytes() / Math.max(1, dedup.signatures()),
                    dedup.sampleBytes() / Math.max(1, dedup.signatures()));
            System.out.printf("state dir on disk        %,d B per signature (RocksDB files; memtables not yet flushed"
                    + " are not counted)%n",
                    dedup.diskBytes() / Math.max(1, dedup.signatures()));
        }
    }

    private record Result(double seconds, double rate, long signatures, long cases, long stateBytes, long sampleBytes,
                          long diskBytes) {
    }

    private static Result measure(String name, Topology topology, Properties props, Admin admin, String input, long n,
                                  Path stateDir) throws Exception {
        String group = props.getProperty("application.id");
        Map<TopicPartition, Long> end = endOffsets(admin, input);
        long total = end.values().stream().mapToLong(Long::longValue).sum();
        try (KafkaStreams streams = new KafkaStreams(topology, props)) {
            long start = System.nanoTime();
            streams.start();
            long firstProgress = 0;
            long firstOffset = 0;
            while (true) {
                Thread.sleep(250);
                if (!streams.state().isRunningOrRebalancing()) {
                    throw new IllegalStateException(name + " stopped: " + streams.state());
                }
                long committed = committed(admin, group, end.keySet());
                if (firstProgress == 0 && committed > 0) {
                    firstProgress = System.nanoTime();
                    firstOffset = committed;
                }
                if (committed >= total) {
                    break;
                }
                if (System.nanoTime() - start > Duration.ofMinutes(30).toNanos()) {
                    throw new IllegalStateException(name + " did not finish in 30 minutes");
                }
            }
            long done = System.nanoTime();
            double seconds = (done - firstProgress) / 1e9;
            double rate = (total - firstOffset) / seconds;
            System.out.printf("%s: %,d records in %.1f s after first commit (%.1f s incl. start-up) = %,.0f/s%n", name,
                    total, seconds, (done - start) / 1e9, rate);
            if (stateDir == null) {
                return new Result(seconds, rate, 0, 0, 0, 0, 0);
            }
            Thread.sleep(2000);
            ReadOnlyKeyValueStore<String, SignatureState> signatures = streams.store(StoreQueryParameters.fromNameAndType(
                    DedupTopology.SIGNATURES_STORE, QueryableStoreTypes.<String, SignatureState>keyValueStore()));
            ReadOnlyKeyValueStore<String, Case> samples = streams.store(StoreQueryParameters.fromNameAndType(
                    DedupTopology.SAMPLES_STORE, QueryableStoreTypes.<String, Case>keyValueStore()));
            long count = 0;
            long stateBytes = 0;
            try (KeyValueIterator<String, SignatureState> all = signatures.all()) {
                SignatureStateSerde serde = new SignatureStateSerde();
                while (all.hasNext()) {
                    KeyValue<String, SignatureState> kv = all.next();
                    count++;
                    stateBytes += kv.key.length() + serde.serializer().serialize("", kv.value).length;
                }
            }
            long cases = 0;
            long sampleBytes = 0;
            try (KeyValueIterator<String, Case> all = samples.all()) {
                AvroBinarySerde<Case> serde = new AvroBinarySerde<>(Case.getEncoder(), Case.getDecoder());
                while (all.hasNext()) {
                    KeyValue<String, Case> kv = all.next();
                    cases++;
                    sampleBytes += kv.key.length() + serde.serializer().serialize("", kv.value).length;
                }
            }
            long disk = directorySize(stateDir.resolve(group));
            return new Result(seconds, rate, count, cases, stateBytes, sampleBytes, disk);
        }
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic)
            throws ExecutionException, InterruptedException {
        Set<Integer> ps = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
                .map(p -> p.partition()).collect(Collectors.toSet());
        Map<TopicPartition, OffsetSpec> request = ps.stream()
                .collect(Collectors.toMap(p -> new TopicPartition(topic, p), p -> OffsetSpec.latest()));
        return admin.listOffsets(request).all().get().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }

    private static long committed(Admin admin, String group, Set<TopicPartition> partitions)
            throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get();
        return partitions.stream().map(offsets::get).filter(o -> o != null).mapToLong(OffsetAndMetadata::offset).sum();
    }

    private static long load(String bootstrap, String topic, int n, WorkloadGenerator generator, DedupSerdes serdes)
            throws InterruptedException {
        List<byte[]> pool = generator.pool(serdes.interaction().serializer(), topic);
        long bytes = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                // Bulk load: bigger batches and lz4 keep the loader from dominating the machine.
                ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < n; i++) {
                int index = generator.next();
                byte[] value = pool.get(index);
                bytes += value.length;
                producer.send(new ProducerRecord<>(topic, generator.key(index), value));
            }
            producer.flush();
        }
        return bytes;
    }

    private static Properties withAppId(Properties base, String appId) {
        Properties p = new Properties();
        p.putAll(base);
        p.put("application.id", appId);
        return p;
    }

    private static long directorySize(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }
}
