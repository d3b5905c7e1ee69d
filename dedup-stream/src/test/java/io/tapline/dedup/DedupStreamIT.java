package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tapline.avro.Case;
import io.tapline.avro.Interaction;
import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;
import io.tapline.dedup.signature.Signer;
import io.tapline.dedup.testing.Interactions;
import io.tapline.dedup.testing.PoisonedInteractions;
import io.tapline.config.TaplineConfig;
import io.tapline.ops.ExpositionCheck;
import io.tapline.ops.Metrics;
import io.tapline.registry.RegistryConfig;
import io.tapline.serde.TaplineAvroDeserializer;
import io.tapline.serde.TaplineAvroSerializer;
import io.tapline.signature.RouteTemplates;
import io.tapline.stack.junit.TaplineStackExtension;
import io.tapline.stack.junit.TestStack;
import io.tapline.topics.DeadLetters;
import io.tapline.topics.TaplineTopics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The whole dedup job on a real KRaft broker and a real Apicurio registry. */
@ExtendWith(TaplineStackExtension.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class DedupStreamIT {

    private static final Instant T0 = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).minus(Duration.ofHours(1));
    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    Path stateDir;

    private record Topics(String input, String cases, String noise, String dlq) {
    }

    private static Topics topics(TestStack stack) {
        // Input keeps its records whatever their timestamps: the test controls event time.
        String interactionMax = Integer.toString(TaplineTopics.INTERACTION_MAX_BYTES);
        String derivedMax = Integer.toString(TaplineTopics.DERIVED_MAX_BYTES);
        return new Topics(stack.createTopic("interactions", 3, Map.of("retention.ms", "-1", "max.message.bytes", interactionMax)),
                stack.createTopic("cases", 3, Map.of("cleanup.policy", "compact", "max.message.bytes", derivedMax)),
                stack.createTopic("noise", 1, Map.of("cleanup.policy", "compact", "max.message.bytes", derivedMax)),
                stack.createTopic("dlq", 1, Map.of("max.message.bytes", Integer.toString(TaplineTopics.DLQ_MAX_BYTES))));
    }

    @Test
    void shouldTurnInteractionsIntoCasesNoiseAndDeadLetters(TestStack stack) throws Exception {
        Topics t = topics(stack);
        DedupConfig config = DedupConfig.defaults().withTopics(t.input(), t.cases(), t.noise(), t.dlq())
                .withSampling(3, Duration.ofHours(24), Duration.ofDays(7), Duration.ofSeconds(1));
        Map<String, Object> registry = Map.of(RegistryConfig.URL, stack.registryUrl());
        Properties props = DedupTopology.streamsConfig(stack.uniqueName("dedup"), stack.bootstrapServers(), 1, 1,
                stateDir.toString(), Map.of());
        DedupMetrics metrics = DedupMetrics.detached();
        DedupSerdes registered = DedupSerdes.registered(registry, config);
        Map<String, Long> expected = new HashMap<>();
        try (KafkaStreams streams = new KafkaStreams(DedupTopology.build(config, registered, metrics),
                props);
             KafkaProducer<String, Interaction> producer = interactionProducer(stack)) {
            streams.start();
            byte[] garbage = "definitely not avro".getBytes(StandardCharsets.UTF_8);
            // Records the interactions topic accepts but far above the broker's 1 MiB default (random bytes: lz4
            // cannot shrink them) must pass the internal topics, the cases topic and the dead-letter topic too.
            Random random = new Random(7);
            byte[] bigGarbage = new byte[3 * 1024 * 1024];
            random.nextBytes(bigGarbage);
            bigGarbage[0] = 0x7f;
            try (KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                    ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TaplineTopics.INTERACTION_MAX_BYTES),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                raw.send(new ProducerRecord<>(t.input(), 0, "bad".getBytes(StandardCharsets.UTF_8), garbage)).get();
                raw.send(new ProducerRecord<>(t.input(), 0, "big".getBytes(StandardCharsets.UTF_8), bigGarbage)).get();
            }
            byte[] blob = new byte[3 * 1024 * 1024];
            random.nextBytes(blob);
            Interaction big = Interactions.get("/blobs/1").at(T0).body("application/octet-stream", blob).build();
            expected.merge(Signer.defaults().sign(big).id(), 1L, Long::sum);
            producer.send(record(t.input(), big)).get();
            for (int i = 0; i < 60; i++) {
                Interaction interaction = i % 3 == 0
                        ? Interactions.get("/owners/7").at(T0.plusSeconds(i))
                                .json("{\"id\":7,\"name\":\"George\",\"at\":\"" + T0.plusSeconds(i) + "\"}").build()
                        : Interactions.get("/vets/" + i).at(T0.plusSeconds(i)).json("[{\"id\":" + i + "}]").build();
                expected.merge(Signer.defaults().sign(interaction).id(), 1L, Long::sum);
                producer.send(record(t.input(), interaction)).get();
            }
            Map<String, Case> latest = awaitCases(stack, t.cases(), c -> hitsMatch(c, expected, 3));
            assertEquals(3, expected.size());
            assertEquals(7, latest.size(), "3 samples for each of the 2 signatures, 1 for the blob's");
            assertTrue(latest.values().stream().anyMatch(c -> c.getSample().getResponse().getBody().remaining() == blob.length),
                    "the 3 MiB interaction's case carries its whole body");

            List<ConsumerRecord<byte[], byte[]>> dead = readAll(stack, t.dlq(), new ByteArrayDeserializer(),
                    new ByteArrayDeserializer(), 2);
            assertEquals(2, dead.size());
            assertArrayEquals(garbage, dead.get(0).value());
            assertArrayEquals(bigGarbage, dead.get(1).value());
            assertEquals(t.input(), DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_TOPIC));
            assertEquals("0", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_PARTITION));
            assertEquals("0", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_OFFSET));

            List<ConsumerRecord<String, NoiseProfile>> profiles = readAll(stack, t.noise(), new StringDeserializer(),
                    deserializer(stack, NoiseProfile.class), 1);
            NoiseProfile last = profiles.get(profiles.size() - 1).value();
            assertEquals("GET /owners/{id}", last.getRoute());
            assertEquals("petclinic", last.getService());
            assertEquals("petclinic GET /owners/{id}", profiles.get(profiles.size() - 1).key());
            assertTrue(last.getFields().stream().map(NoisyField::getPath).anyMatch("$.at"::equals), last.toString());
            assertTrue(last.getFields().stream().map(NoisyField::getPath).noneMatch("$.name"::equals), last.toString());
            assertEquals(61, metrics.interactions());
            assertEquals(2, metrics.deadLetters());
        }
    }

    /**
     * Kafka Streams' state and the input lag, as {@code /metrics} reads them from a real client: CREATED before the
     * start; while the job works through a backlog its consumer fetches one record at a time (a one-byte fetch limit
     * still returns a partition's first batch, and each record was sent as a batch of its own), so the lag is seen
     * above 0 and at most the backlog; once every interaction is counted, RUNNING and a lag of 0; NOT_RUNNING after
     * the close.
     */
    @Test
    void shouldExportTheStreamsStateAndTheInputLagItsConsumersFetchAt(TestStack stack) throws Exception {
        Topics t = topics(stack);
        DedupConfig config = DedupConfig.defaults().withTopics(t.input(), t.cases(), t.noise(), t.dlq())
                .withSampling(3, Duration.ofHours(24), Duration.ofDays(7), Duration.ofSeconds(1));
        Map<String, Object> registry = Map.of(RegistryConfig.URL, stack.registryUrl());
        Properties props = DedupTopology.streamsConfig(stack.uniqueName("dedup-lag"), stack.bootstrapServers(), 1, 1,
                stateDir.toString(), Map.of(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), 1));
        DedupSerdes registered = DedupSerdes.registered(registry, config);
        int backlog = 1000;
        Map<String, Long> expected = new HashMap<>();
        try (KafkaProducer<String, Interaction> producer = interactionProducer(stack)) {
            for (int i = 0; i < backlog; i++) {
                Interaction interaction = Interactions.get("/owners/7").at(T0.plusMillis(i))
                        .json("{\"id\":7,\"n\":" + i + "}").build();
                expected.merge(Signer.defaults().sign(interaction).id(), 1L, Long::sum);
                producer.send(record(t.input(), interaction)).get(); // one batch per record
            }
        }
        Metrics gauges = new Metrics();
        AtomicReference<KafkaStreams> running = new AtomicReference<>();
        StreamsGauges.register(gauges, t.input(), running::get, BrokerSilence.DEFAULT_MAX);
        assertStreamsGauges(gauges, KafkaStreams.State.CREATED, 0);
        try (KafkaStreams streams = new KafkaStreams(DedupTopology.build(config, registered,
                DedupMetrics.detached()), props)) {
            running.set(streams);
            streams.start();
            double highest = 0;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (highest == 0 && System.nanoTime() < deadline) {
                highest = Math.max(highest, ExpositionCheck.check(gauges.scrape()).value(StreamsGauges.INPUT_LAG));
                Thread.sleep(5);
            }
            assertTrue(highest > 0 && highest <= backlog, "lag seen while the backlog is fetched: " + highest);
            awaitCases(stack, t.cases(), c -> hitsMatch(c, expected, 3));
            while (ExpositionCheck.check(gauges.scrape()).value(StreamsGauges.INPUT_LAG) != 0
                    || streams.state() != KafkaStreams.State.RUNNING) {
                assertTrue(System.nanoTime() < deadline, "lag 0 and RUNNING once every interaction is counted:\n"
                        + gauges.scrape());
                Thread.sleep(50);
            }
            assertStreamsGauges(gauges, KafkaStreams.State.RUNNING, 0);
            streams.close(Duration.ofSeconds(30));
            assertStreamsGauges(gauges, KafkaStreams.State.NOT_RUNNING, 0);
        }
    }

    private static void assertStreamsGauges(Metrics gauges, KafkaStreams.State current, double lag) {
        ExpositionCheck scrape = ExpositionCheck.check(gauges.scrape());
        for (KafkaStreams.State state : KafkaStreams.State.values()) {
            assertEquals(state == current ? 1 : 0, scrape.value(StreamsGauges.STATE, "state", state.name()),
                    state + " while " + current);
        }
        assertEquals(lag, scrape.value(StreamsGauges.INPUT_LAG));
    }

    /**
     * A record on which a processing step fails (a bug, or input the code does not expect) is set aside by Kafka Streams
     * itself, in the task's exactly-once transaction (KIP-1034): a read-committed consumer finds one dead letter holding
     * the record's bytes and why, and the records around it become cases.
     */
    @Test
    void shouldDeadLetterARecordAStepFailsOnInTheTaskTransactionAndGoOn(TestStack stack) throws Exception {
        Topics t = topics(stack);
        DedupConfig config = DedupConfig.defaults().withTopics(t.input(), t.cases(), t.noise(), t.dlq())
                .withSampling(3, Duration.ofHours(24), Duration.ofDays(7), Duration.ofSeconds(1));
        Map<String, Object> registry = Map.of(RegistryConfig.URL, stack.registryUrl());
        Properties props = DedupTopology.streamsConfig(stack.uniqueName("dedup"), stack.bootstrapServers(), 1, 1,
                stateDir.toString(), Map.of());
        DedupMetrics metrics = DedupMetrics.detached();
        DedupTopology.deadLetterRecordFailures(props, config, metrics);
        DedupSerdes real = DedupSerdes.registered(registry, config);
        DedupSerdes serdes = new DedupSerdes(PoisonedInteractions.failingWith(real.interaction(),
                () -> new IllegalStateException("unexpected input")), real.cases(), real.noise());
        Interaction before = Interactions.get("/owners/1").at(T0).build();
        Interaction poison = Interactions.get("/owners/2").at(T0.plusSeconds(1)).service(PoisonedInteractions.SERVICE)
                .build();
        Interaction after = Interactions.get("/vets").at(T0.plusSeconds(2)).build();
        Map<String, Long> expected = new HashMap<>();
        expected.put(Signer.defaults().sign(before).id(), 1L);
        expected.put(Signer.defaults().sign(after).id(), 1L);
        try (KafkaStreams streams = new KafkaStreams(DedupTopology.build(config, serdes, metrics), props);
             KafkaProducer<String, Interaction> producer = interactionProducer(stack)) {
            streams.start();
            for (Interaction interaction : List.of(before, poison, after)) {
                producer.send(record(t.input(), interaction)).get();
            }
            Map<String, Case> latest = awaitCases(stack, t.cases(), c -> hitsMatch(c, expected, 3));
            assertEquals(2, latest.size(), "the records before and after the failing one are cases: " + latest.keySet());

            List<ConsumerRecord<byte[], byte[]>> dead = readAll(stack, t.dlq(), new ByteArrayDeserializer(),
                    new ByteArrayDeserializer(), 1);
            assertEquals(1, dead.size());
            String error = DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR);
            assertTrue(error.startsWith("processing failed in decode-and-sign: java.lang.IllegalStateException: "
                    + "unexpected input"), error);
            assertEquals(t.input(), DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_TOPIC));
            Interaction kept = deserializer(stack, Interaction.class).deserialize(t.input(), dead.get(0).value());
            assertEquals(poison.getId(), kept.getId(), "the dead letter holds the record's own bytes");
            assertEquals(record(t.input(), poison).key(), new String(dead.get(0).key(), StandardCharsets.UTF_8),
                    "and its key");
            assertEquals(1, metrics.processingDeadLetters.value());
            assertEquals(KafkaStreams.State.RUNNING, streams.state(), "the stream thread goes on");
        }
    }

    /**
     * Partitions added to the interactions topic: with {@code streams.partitions} set, the job starts again on the
     * grown input, keeps its stores (the hit counts go on from where they were) and reads the new partitions too.
     * Without it Kafka Streams refuses the repartition topics it had sized as the input ("has invalid partitions")
     * and processes nothing.
     */
    @Test
    void shouldGoOnWhenPartitionsAreAddedToTheInput(TestStack stack) throws Exception {
        Topics t = topics(stack);
        DedupConfig config = DedupConfig.defaults().withTopics(t.input(), t.cases(), t.noise(), t.dlq())
                .withSampling(3, Duration.ofHours(24), Duration.ofDays(7), Duration.ofSeconds(1));
        Map<String, Object> registry = Map.of(RegistryConfig.URL, stack.registryUrl());
        Properties props = DedupTopology.streamsConfig(stack.uniqueName("dedup-grow"), stack.bootstrapServers(), 1, 1,
                stateDir.toString(), Map.of());
        // streams.partitions left at 0, as DedupMain starts: pinned at the input's 3 partitions on the first start
        assertEquals(3, pinned(stack, config, props).internalPartitions());
        DedupSerdes registered = DedupSerdes.registered(registry, config);
        Map<String, Long> expected = new HashMap<>();
        try (KafkaProducer<String, Interaction> producer = interactionProducer(stack)) {
            try (KafkaStreams streams = new KafkaStreams(DedupTopology.build(pinned(stack, config, props),
                    registered, DedupMetrics.detached()), props)) {
                streams.start();
                for (int i = 0; i < 30; i++) {
                    Interaction interaction = Interactions.get("/owners/" + (i % 3 == 0 ? "7" : "x" + i % 2))
                            .at(T0.plusSeconds(i)).json("{\"id\":" + i + "}").build();
                    expected.merge(Signer.defaults().sign(interaction).id(), 1L, Long::sum);
                    producer.send(record(t.input(), interaction)).get();
                }
                awaitCases(stack, t.cases(), c -> hitsMatch(c, expected, 3));
            }
            stack.admin().createPartitions(Map.of(t.input(), org.apache.kafka.clients.admin.NewPartitions.increaseTo(6)))
                    .all().get();
            // and on the next start at the 3 its repartition topic has, not the input's 6 (Kafka Streams' default)
            DedupConfig restarted = pinned(stack, config, props);
            assertEquals(3, restarted.internalPartitions());
            try (KafkaStreams streams = new KafkaStreams(
                    DedupTopology.build(restarted, DedupSerdes.registry(registry), DedupMetrics.detached()), props)) {
                streams.start();
                for (int i = 0; i < 30; i++) {
                    Interaction interaction = Interactions.get("/owners/" + (i % 3 == 0 ? "7" : "x" + i % 2))
                            .at(T0.plusSeconds(100 + i)).json("{\"id\":" + i + "}").build();
                    expected.merge(Signer.defaults().sign(interaction).id(), 1L, Long::sum);
                    ProducerRecord<String, Interaction> r = record(t.input(), interaction);
                    producer.send(new ProducerRecord<>(r.topic(), 3 + i % 3, r.timestamp(), r.key(), r.value())).get();
                }
                awaitCases(stack, t.cases(), c -> hitsMatch(c, expected, 3));
                assertEquals(KafkaStreams.State.RUNNING, streams.state());
            }
        }
    }

    /**
     * Runs the job as {@code java DedupMain} in a child JVM and kills it with SIGKILL at a random moment while input
     * flows, several times, then lets the last one finish. Exactly-once means: every signature has its cases, no
     * case slot ever carried two different samples, and the final hit counts equal the interactions produced.
     */
    @Test
    void shouldLoseAndDuplicateNoCaseAcrossHardStops(TestStack stack) throws Exception {
        Topics t = topics(stack);
        String appId = stack.uniqueName("dedup-restart");
        Map<String, Long> expected = new ConcurrentHashMap<>();
        AtomicBoolean producing = new AtomicBoolean(true);
        AtomicLong produced = new AtomicLong();
        int total = 8000;
        Thread producerThread = new Thread(() -> produce(stack, t.input(), total, expected, produced, producing),
                "it-producer");
        producerThread.start();
        Random random = new Random();
        List<Path> logs = new ArrayList<>();
        try {
            for (int run = 0; run < 4; run++) {
                Path log = stateDir.resolve("run-" + run + ".log");
                logs.add(log);
                // Run 2 starts on an empty state directory: the stores are rebuilt from their changelogs.
                long casesBefore = endOffsetSum(stack, t.cases());
                long started = System.nanoTime();
                Process child = startChild(stack, t, appId, log, stateDir.resolve(run >= 2 ? "state-b" : "state-a"));
                // Kill only once this run is writing cases (mid-transaction, not during JVM start-up), at a random
                // moment after that.
                awaitProgress(stack, t.cases(), casesBefore, child);
                Thread.sleep(random.nextInt(3000));
                child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                System.out.printf("run %d: killed %d ms after start, %d case records written so far, %d of %d"
                        + " interactions produced%n", run, (System.nanoTime() - started) / 1_000_000,
                        endOffsetSum(stack, t.cases()), produced.get(), total);
            }
            producerThread.join(TimeUnit.MINUTES.toMillis(2));
            assertEquals(total, produced.get(), "the producer finished");
            Path log = stateDir.resolve("run-final.log");
            logs.add(log);
            Process last = startChild(stack, t, appId, log, stateDir.resolve("state-b"));
            try {
                assertExactlyOnce(stack, t, expected);
                assertManagementPort(log);
                // SIGTERM, as Kubernetes stops a pod: the instance leaves the group on its way out, so its
                // partitions move at once instead of after the session timeout (45 s).
                last.destroy();
                assertTrue(last.waitFor(60, TimeUnit.SECONDS), "stopped within the pod's grace period");
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                        stack.bootstrapServers()))) {
                    ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(appId)).describedGroups()
                            .get(appId).get(30, TimeUnit.SECONDS);
                    assertEquals(List.of(), group.members(), "the stopped instance left the group");
                }
            } finally {
                last.destroy();
                last.waitFor(30, TimeUnit.SECONDS);
            }
        } catch (AssertionError | Exception e) {
            for (Path log : logs) {
                if (Files.exists(log)) {
                    System.out.println("==== " + log + "\n" + tail(log));
                }
            }
            throw e;
        } finally {
            producing.set(false);
            producerThread.join(10_000);
        }
    }

    /**
     * The broker goes away for a while (an outage, a restart without replicas) in the middle of the job's work, with
     * input still being produced: the job rides it out without a restart of its own and, once the broker is back,
     * every interaction is counted exactly once and no case slot carries two samples.
     */
    @Test
    void shouldRideOutABrokerOutageWithExactCounts(TestStack stack) throws Exception {
        Topics t = topics(stack);
        String appId = stack.uniqueName("dedup-outage");
        Map<String, Long> expected = new ConcurrentHashMap<>();
        AtomicBoolean producing = new AtomicBoolean(true);
        AtomicLong produced = new AtomicLong();
        int total = 3000;
        Path log = stateDir.resolve("outage.log");
        Process child = null;
        Thread producerThread = new Thread(() -> produce(stack, t.input(), total, expected, produced, producing),
                "it-producer");
        producerThread.start();
        try {
            child = startChild(stack, t, appId, log, stateDir.resolve("state-outage"));
            awaitProgress(stack, t.cases(), endOffsetSum(stack, t.cases()), child);
            stack.stopBroker();
            long stopped = System.nanoTime();
            try {
                Thread.sleep(10_000); // and the restart's own seconds
                assertTrue(child.isAlive(), "the job exited while the broker was away");
            } finally {
                stack.startBroker();
            }
            System.out.printf("broker away %d ms; %d of %d interactions produced before it stopped or since%n",
                    (System.nanoTime() - stopped) / 1_000_000, produced.get(), total);
            producerThread.join(TimeUnit.MINUTES.toMillis(3));
            assertEquals(total, produced.get(), "the producer finished");
            assertExactlyOnce(stack, t, expected);
            assertTrue(child.isAlive(), "the job is still running");
            String output = Files.readString(log);
            assertFalse(output.contains("replacing it"), "a stream thread failed and was replaced:\n" + tail(log));
        } catch (AssertionError | Exception e) {
            if (Files.exists(log)) {
                System.out.println("==== " + log + "\n" + tail(log));
            }
            throw e;
        } finally {
            producing.set(false);
            producerThread.join(10_000);
            if (child != null) {
                child.destroy();
                child.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Topics the job reads or writes that the broker does not have: {@code DedupMain} refuses at start, exit 2, with
     * one line naming each option and its topic. Before, a missing output topic left the job waiting in REBALANCING
     * until its sends failed, and a missing input topic gave Kafka Streams' own burst of errors.
     */
    @Test
    void shouldRefuseToStartNamingTheOptionsOfTopicsThatDoNotExist(TestStack stack) throws Exception {
        String input = stack.createTopic("interactions", 1, Map.of());
        String noise = stack.createTopic("noise", 1, Map.of("cleanup.policy", "compact"));
        String cases = stack.createTopic("cases", 1, Map.of("cleanup.policy", "compact"));
        String missingCases = stack.uniqueName("never-created-cases");
        String missingDlq = stack.uniqueName("never-created-dlq");
        String missingInput = stack.uniqueName("never-created-interactions");
        String dlq = stack.createTopic("dlq", 1, Map.of());
        // two output topics missing: both in one line, in the order of the options
        assertRefused(stack, new Topics(input, missingCases, noise, missingDlq), "refused-outputs",
                "tapline dedup: option --topic-cases: topic " + missingCases + " does not exist; option --topic-dlq: "
                        + "topic " + missingDlq + " does not exist (create them with ./tapline stack up or the deploy "
                        + "manifests)");
        // the input topic missing
        assertRefused(stack, new Topics(missingInput, cases, noise, dlq), "refused-input",
                "tapline dedup: option --topic-interactions: topic " + missingInput + " does not exist (create it with "
                        + "./tapline stack up or the deploy manifests)");
    }

    /**
     * A cases topic made with the broker's defaults ({@code cleanup.policy=delete}) would delete every case older than
     * its retention: {@code DedupMain} refuses at start, exit 2, one line naming the option, the topic, the setting
     * and the command that fixes it. A noise topic that is compacted and also deleted by time is only warned of.
     * Before, the job started and ran on such topics.
     */
    @Test
    void shouldRefuseToStartWhenTheCasesTopicIsNotCompacted(TestStack stack) throws Exception {
        String derivedMax = Integer.toString(TaplineTopics.DERIVED_MAX_BYTES);
        String input = stack.createTopic("interactions", 1, Map.of());
        String cases = stack.createTopic("cases-deleted", 1,
                Map.of("cleanup.policy", "delete", "retention.ms", "86400000", "max.message.bytes", derivedMax));
        String noise = stack.createTopic("noise-compact-delete", 1,
                Map.of("cleanup.policy", "compact,delete", "retention.ms", "604800000", "max.message.bytes", derivedMax));
        String dlq = stack.createTopic("dlq", 1, Map.of("max.message.bytes", Integer.toString(TaplineTopics.DLQ_MAX_BYTES)));
        String log = assertRefused(stack, new Topics(input, cases, noise, dlq), "refused-cases-policy",
                "tapline dedup: option --topic-cases: topic " + cases + " has cleanup.policy=delete, not compact: "
                        + "cases older than retention.ms=86400000 (1 d) are deleted, current or not (fix: kafka-configs.sh "
                        + "--bootstrap-server " + stack.bootstrapServers() + " --alter --entity-type topics --entity-name "
                        + cases + " --add-config cleanup.policy=compact)");
        assertTrue(log.lines().anyMatch(l -> l.contains("option --topic-noise: topic " + noise + " has cleanup.policy="
                + "compact,delete: noise profiles not written again within retention.ms=604800000 (7 d) are deleted")),
                "no warning of the noise topic's deletion in:\n" + log);
    }

    /**
     * A compacted dead-letter topic: the broker refuses a record without a key on it ("Compacted topic cannot accept
     * message without key"), and the dead letter of an input record without a key has none. Kafka Streams' production
     * exception handler fails the stream thread on that send and every replacement fails on the same record (measured
     * with this job started on such a topic: replaced five times within 30 s, then exit 1; the record is not
     * committed, so the next start meets it again); the keyed dead letters are compacted to one per key (per route, as
     * the sidecar keys interactions). {@code DedupMain} refuses at start, exit 2, one line naming the option, the
     * topic, the policy and the command that fixes it; a compacted interactions topic is only warned of. Before, the
     * job started on such topics.
     */
    @Test
    void shouldRefuseToStartWhenTheDeadLetterTopicIsCompacted(TestStack stack) throws Exception {
        String derivedMax = Integer.toString(TaplineTopics.DERIVED_MAX_BYTES);
        String input = stack.createTopic("interactions-compacted", 1, Map.of("cleanup.policy", "compact",
                "max.message.bytes", Integer.toString(TaplineTopics.INTERACTION_MAX_BYTES)));
        String cases = stack.createTopic("cases", 1, Map.of("cleanup.policy", "compact", "max.message.bytes", derivedMax,
                "min.compaction.lag.ms", TaplineTopics.CASES_SPEC.configs().get("min.compaction.lag.ms")));
        String noise = stack.createTopic("noise", 1, Map.of("cleanup.policy", "compact", "max.message.bytes", derivedMax));
        String dlq = stack.createTopic("dlq-compacted", 1, Map.of("cleanup.policy", "compact",
                "max.message.bytes", Integer.toString(TaplineTopics.DLQ_MAX_BYTES)));
        String log = assertRefused(stack, new Topics(input, cases, noise, dlq), "refused-dlq-policy",
                "tapline dedup: option --topic-dlq: topic " + dlq + " has cleanup.policy=compact: a compacted topic "
                        + "refuses a dead letter without a key (that of an input record without one), which stops the "
                        + "job, and keeps only the last dead letter of each key (fix: kafka-configs.sh --bootstrap-server "
                        + stack.bootstrapServers() + " --alter --entity-type topics --entity-name " + dlq
                        + " --add-config cleanup.policy=delete)");
        assertTrue(log.lines().anyMatch(l -> l.contains("option --topic-interactions: topic " + input + " has "
                + "cleanup.policy=compact: the sidecar keys interactions by service and route")),
                "no warning of the compacted interactions topic in:\n" + log);
    }

    /** {@code config} pinned as {@code DedupMain} pins it, from the start-up topic check's answer. */
    private static DedupConfig pinned(TestStack stack, DedupConfig config, Properties props) throws InterruptedException {
        TaplineConfig options = DedupOptions.load(new String[] {"--kafka.bootstrap.servers=" + stack.bootstrapServers(),
                "--topic.interactions=" + config.inputTopic(), "--topic.cases=" + config.casesTopic(),
                "--topic.noise=" + config.noiseTopic(), "--topic.dlq=" + config.dlqTopic()}, Map.of());
        String repartition = InternalPartitions.repartitionTopic(config, props);
        TopicCheck.Result check = TopicCheck.check(options, props, repartition);
        assertEquals(null, check.refusal());
        return InternalPartitions.pin(config, repartition, check);
    }

    private String assertRefused(TestStack stack, Topics t, String name, String line) throws Exception {
        Path log = stateDir.resolve(name + ".log");
        Process child = startChild(stack, t, stack.uniqueName("dedup-" + name), log, stateDir.resolve("state-" + name));
        boolean exited = child.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        String output = Files.readString(log);
        assertTrue(exited, "still running 60 s after its start:\n" + tail(log));
        assertEquals(2, child.exitValue(), output);
        assertTrue(output.lines().anyMatch(line::equals), "no line '" + line + "' in:\n" + output);
        assertFalse(output.contains("Exception") || output.contains("\tat "), output);
        assertFalse(output.contains("streams state"), "Kafka Streams was started:\n" + output);
        return output;
    }

    /**
     * Exactly-once, as the cases show it: every signature has min(hits, 3) cases with hits equal to the interactions
     * produced for it (nothing lost or counted twice), and no case id ever carried two different samples (nothing
     * filled twice).
     */
    private void assertExactlyOnce(TestStack stack, Topics t, Map<String, Long> expected) throws InterruptedException {
        Map<String, Case> latest = awaitCases(stack, t.cases(), c -> hitsMatch(c, expected, 3));
        long slots = expected.values().stream().mapToLong(n -> Math.min(n, 3)).sum();
        assertEquals(slots, latest.size(), "every signature has min(hits, 3) cases, none extra");
        Map<String, Set<String>> samplesPerCase = new HashMap<>();
        for (ConsumerRecord<String, Case> r : readAll(stack, t.cases(), new StringDeserializer(),
                deserializer(stack, Case.class), latest.size())) {
            samplesPerCase.computeIfAbsent(r.key(), k -> new HashSet<>()).add(r.value().getSample().getId());
        }
        samplesPerCase.forEach((caseId, ids) ->
                assertEquals(1, ids.size(), "case " + caseId + " was filled twice: " + ids));
    }

    private void produce(TestStack stack, String topic, int total, Map<String, Long> expected, AtomicLong produced,
                         AtomicBoolean producing) {
        Random random = new Random(42);
        try (KafkaProducer<String, Interaction> producer = interactionProducer(stack)) {
            for (int i = 0; i < total && producing.get(); i++) {
                int route = random.nextInt(40);
                int status = random.nextInt(10) == 0 ? 404 : 200;
                Interaction interaction = Interactions.get("/r" + route + "/items/" + random.nextInt(1000))
                        .status(status).at(T0.plusMillis(i))
                        .json(status == 404 ? "{\"error\":\"not found\"}" : "{\"id\":" + i + ",\"route\":" + route + "}")
                        .build();
                expected.merge(Signer.defaults().sign(interaction).id(), 1L, Long::sum);
                producer.send(record(topic, interaction), (metadata, error) -> {
                    if (error == null) {
                        produced.incrementAndGet();
                    }
                });
                if (i % 100 == 99) {
                    producer.flush();
                    Thread.sleep(600); // keep input flowing across all the kills
                }
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Process startChild(TestStack stack, Topics t, String appId, Path log, Path state) throws IOException {
        // The JVM's temporary files in the test's directory: RocksDB unpacks its library there, and a killed child's
        // copy (15 MB) would stay in the machine's /tmp.
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + Files.createDirectories(state.resolveSibling(state.getFileName() + "-tmp")),
                "-Dorg.slf4j.simpleLogger.log.io.tapline=info", "-cp", System.getProperty("java.class.path"), DedupMain.class.getName(),
                "--kafka.bootstrap.servers=" + stack.bootstrapServers(),
                "--schema.registry.url=" + stack.registryUrl(),
                "--dedup.application.id=" + appId,
                "--topic.interactions=" + t.input(), "--topic.cases=" + t.cases(),
                "--topic.noise=" + t.noise(), "--topic.dlq=" + t.dlq(),
                "--dedup.publish.interval=1s",
                "--streams.replication.factor=1",
                "--streams.state.dir=" + state,
                "--management.host=127.0.0.1", "--management.port=0",
                // A killed member must leave the group fast so the restarted one gets its partitions.
                "--kafka.streams.session.timeout.ms=6000", "--kafka.streams.heartbeat.interval.ms=1000");
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static long endOffsetSum(TestStack stack, String topic) throws Exception {
        var partitions = stack.admin().describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
        Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> request = new HashMap<>();
        partitions.forEach(p -> request.put(new TopicPartition(topic, p.partition()),
                org.apache.kafka.clients.admin.OffsetSpec.latest()));
        return stack.admin().listOffsets(request).all().get().values().stream()
                .mapToLong(org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo::offset).sum();
    }

    private static void awaitProgress(TestStack stack, String topic, long before, Process child) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!child.isAlive()) {
                fail("the dedup child exited by itself with " + child.exitValue());
            }
            if (endOffsetSum(stack, topic) > before) {
                return;
            }
            Thread.sleep(100);
        }
        fail("the dedup child wrote no case within " + WAIT);
    }

    private void assertManagementPort(Path log) throws Exception {
        Pattern port = Pattern.compile("management port (\\d+)");
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = port.matcher(Files.readString(log));
            if (m.find()) {
                String base = "http://127.0.0.1:" + m.group(1);
                assertEquals(200, get(http, base + "/healthy").statusCode());
                // Ready means Streams is RUNNING; it is legitimately 503 during a rebalance, so wait for it.
                while (get(http, base + "/ready").statusCode() != 200) {
                    if (System.nanoTime() > deadline) {
                        fail("/ready never answered 200");
                    }
                    Thread.sleep(200);
                }
                HttpResponse<String> metrics = get(http, base + "/metrics");
                assertTrue(metrics.body().contains("tapline_dedup_unique_signatures"), metrics.body());
                assertTrue(metrics.body().contains("tapline_dedup_interactions_total"), metrics.body());
                // DedupMain's gauges read its KafkaStreams: RUNNING, as /ready said
                assertTrue(metrics.body().contains("tapline_dedup_stream_state{state=\"RUNNING\"} 1\n"), metrics.body());
                assertTrue(metrics.body().contains("\ntapline_dedup_input_lag_records "), metrics.body());
                return;
            }
            Thread.sleep(200);
        }
        fail("the child never logged its management port");
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static boolean hitsMatch(Map<String, Case> latest, Map<String, Long> expected, int samples) {
        Map<String, Integer> casesPerSignature = new HashMap<>();
        for (Case c : latest.values()) {
            Long want = expected.get(c.getSignatureId());
            if (want == null || c.getHits() != want) {
                return false;
            }
            casesPerSignature.merge(c.getSignatureId(), 1, Integer::sum);
        }
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            if (casesPerSignature.getOrDefault(e.getKey(), 0) != Math.min(e.getValue(), samples)) {
                return false;
            }
        }
        return true;
    }

    private Map<String, Case> awaitCases(TestStack stack, String topic, Predicate<Map<String, Case>> done)
            throws InterruptedException {
        Map<String, Case> latest = new HashMap<>();
        try (KafkaConsumer<String, Case> consumer = consumer(stack, new StringDeserializer(),
                deserializer(stack, Case.class))) {
            List<TopicPartition> partitions = partitions(consumer, topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, Case> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.value() == null) {
                        latest.remove(r.key());
                    } else {
                        latest.put(r.key(), r.value());
                    }
                }
                if (done.test(latest)) {
                    return latest;
                }
            }
        }
        fail("cases never matched the expected hit counts; last seen: " + latest.size() + " cases");
        return latest;
    }

    private <K, V> List<ConsumerRecord<K, V>> readAll(TestStack stack, String topic,
                                                      org.apache.kafka.common.serialization.Deserializer<K> keys,
                                                      org.apache.kafka.common.serialization.Deserializer<V> values,
                                                      int atLeast) {
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        try (KafkaConsumer<K, V> consumer = consumer(stack, keys, values)) {
            List<TopicPartition> partitions = partitions(consumer, topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(out::add);
                boolean atEnd = partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
                if (atEnd && out.size() >= atLeast) {
                    return out;
                }
            }
        }
        fail("topic " + topic + " had " + out.size() + " records, expected at least " + atLeast);
        return out;
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        return consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    private static <K, V> KafkaConsumer<K, V> consumer(TestStack stack,
                                                       org.apache.kafka.common.serialization.Deserializer<K> keys,
                                                       org.apache.kafka.common.serialization.Deserializer<V> values) {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                // Only committed transactions: what a replay worker would see.
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), keys, values);
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> TaplineAvroDeserializer<T> deserializer(
            TestStack stack, Class<T> type) {
        TaplineAvroDeserializer<T> d = new TaplineAvroDeserializer<>(
                new io.tapline.registry.SchemaRegistryClient(RegistryConfig.of(stack.registryUrl())), type);
        return d;
    }

    private static KafkaProducer<String, Interaction> interactionProducer(TestStack stack) {
        TaplineAvroSerializer<Interaction> serializer = new TaplineAvroSerializer<>(
                new io.tapline.registry.SchemaRegistryClient(RegistryConfig.of(stack.registryUrl())), false);
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                // Like the sidecar: small batches go out quickly, records up to the interactions topic's limit.
                ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TaplineTopics.INTERACTION_MAX_BYTES),
                new StringSerializer(), serializer);
    }

    private static ProducerRecord<String, Interaction> record(String topic, Interaction interaction) {
        String key = interaction.getService() + " "
                + RouteTemplates.routeKey(interaction.getRequest().getMethod(), interaction.getRequest().getPath());
        return new ProducerRecord<>(topic, null, interaction.getStartedAt().toEpochMilli(), key, interaction);
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
