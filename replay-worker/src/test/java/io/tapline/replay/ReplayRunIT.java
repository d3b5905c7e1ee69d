package io.tapline.replay;

import io.tapline.avro.Case;
import io.tapline.avro.Difference;
import io.tapline.avro.MockUsage;
import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunBounds;
import io.tapline.avro.RunEvent;
import io.tapline.avro.RunSummary;
import io.tapline.avro.Verdict;
import io.tapline.config.ConfigException;
import io.tapline.config.TaplineConfig;
import io.tapline.redaction.RedactionKey;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryClient;
import io.tapline.replay.run.AvroCodec;
import io.tapline.replay.run.KafkaSettings;
import io.tapline.replay.run.RunCoordinator;
import io.tapline.replay.run.RunTopics;
import io.tapline.replay.run.TopicReader;
import io.tapline.serde.TaplineAvroDeserializer;
import io.tapline.serde.TaplineAvroSerializer;
import io.tapline.stack.Ports;
import io.tapline.stack.junit.TaplineStackExtension;
import io.tapline.stack.junit.TestStack;
import io.tapline.topics.DeadLetters;
import io.tapline.topics.TaplineTopics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two workers of one run, on a real broker and registry, against a small candidate with a planted regression
 * (item 13's price), a noisy field ({@code generatedAt}, learned noise) and an outbound dependency (inventory).
 * One worker runs in a child JVM and is killed (SIGKILL) mid-run; the other takes over its partitions, with a third
 * that joins after the kill, and the two that see the run complete write one summary between them.
 */
@ExtendWith(TaplineStackExtension.class)
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class ReplayRunIT {

    private static final int CASES = 30;
    /** Written after the 30 live cases, then tombstoned. */
    private static final int RETIRED = 31;
    /** Cases 1..VERSIONED get older versions (low hits) before their latest one: compaction has not run yet. */
    private static final int VERSIONED = 12;
    private static final int OLDER_VERSIONS = 3;
    /** Retired, then written again: the latest version is a case again. */
    private static final int REVIVED = 20;
    private static final String ROUTE = "GET /items/{id}";
    /** The capture sidecar's redaction key, as replay is given it. */
    private static final String REDACTION_KEY_TEXT = "it-redaction-key-0123456789";
    private static final RedactionKey REDACTION_KEY = RedactionKey.of(REDACTION_KEY_TEXT);

    private Vertx vertx;
    private final AtomicInteger realInventoryHits = new AtomicInteger();
    private HttpServer realInventory;
    private String cases;
    private String noise;
    private String results;
    private String runs;
    private String dlq;

    @BeforeEach
    void setUp(TestStack stack) {
        vertx = Vertx.vertx();
        realInventory = vertx.createHttpServer().requestHandler(r -> {
            realInventoryHits.incrementAndGet();
            r.response().end("{\"stock\":999}");
        }).listen(0, "127.0.0.1").await();
        cases = stack.createTopic("cases", 3, Map.of("cleanup.policy", "compact"));
        noise = stack.createTopic("noise", 1, Map.of("cleanup.policy", "compact"));
        results = stack.createTopic("results", 3, Map.of());
        runs = stack.createTopic("runs", 1, Map.of("cleanup.policy", "compact"));
        dlq = stack.createTopic("dlq", 1, Map.of());
    }

    @AfterEach
    void tearDown() {
        vertx.close().await();
    }

    private void writeCasesAndNoise(TestStack stack) throws Exception {
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.of(stack.registryUrl()));
        TaplineAvroSerializer<Case> caseWriter = new TaplineAvroSerializer<>(registry, false);
        TaplineAvroSerializer<NoiseProfile> noiseWriter = new TaplineAvroSerializer<>(registry, false);
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props)) {
            // dedup-stream re-publishes each case with growing hit counts: several versions of a key below the bounds.
            // Only the latest (hits 100, or 500 for item 13) may be replayed; an older one winning would change the
            // traffic share asserted below, and replaying each would show in the candidates' request counts.
            for (int v = 1; v <= OLDER_VERSIONS; v++) {
                for (int id = 1; id <= VERSIONED; id++) {
                    Case old = Fixtures.shopCase(id, id % 5 + 1, v);
                    p.send(new ProducerRecord<>(cases, old.getCaseId().getBytes(StandardCharsets.UTF_8), caseWriter.serialize(cases, old)));
                }
            }
            Case revived = Fixtures.shopCase(REVIVED, REVIVED % 5 + 1, 1);
            p.send(new ProducerRecord<>(cases, revived.getCaseId().getBytes(StandardCharsets.UTF_8), caseWriter.serialize(cases, revived)));
            p.send(new ProducerRecord<>(cases, revived.getCaseId().getBytes(StandardCharsets.UTF_8), null));
            for (int id = 1; id <= CASES; id++) {
                Case c = Fixtures.shopCase(id, id % 5 + 1, id == 13 ? 500 : 100);
                p.send(new ProducerRecord<>(cases, c.getCaseId().getBytes(StandardCharsets.UTF_8), caseWriter.serialize(cases, c)));
            }
            p.send(new ProducerRecord<>(cases, 0, "poison".getBytes(StandardCharsets.UTF_8), new byte[]{0, 0, 0, 0, 42, 1, 2}));
            p.send(new ProducerRecord<>(cases, "never-written".getBytes(StandardCharsets.UTF_8), null));
            // A case retired by dedup-stream after it was written: its result (if any) must be retired too.
            Case retired = Fixtures.shopCase(RETIRED, 1, 100);
            p.send(new ProducerRecord<>(cases, retired.getCaseId().getBytes(StandardCharsets.UTF_8), caseWriter.serialize(cases, retired)));
            p.send(new ProducerRecord<>(cases, retired.getCaseId().getBytes(StandardCharsets.UTF_8), null));
            NoiseProfile profile = NoiseProfile.newBuilder().setRoute(ROUTE).setComparedPairs(50).setUpdatedAt(Instant.now())
                    .setFields(List.of(new NoisyField("$.generatedAt", 50L, 50L, true, null, null))).build();
            p.send(new ProducerRecord<>(noise, ROUTE.getBytes(StandardCharsets.UTF_8), noiseWriter.serialize(noise, profile))).get();
        }
    }

    private List<String> args(TestStack stack, String runId, String workerId, ShopCandidate candidate, int mockPort) {
        return new ArrayList<>(List.of("replay", "--run", runId, "--target", candidate.url(), "--worker-id", workerId,
                "--kafka-bootstrap-servers", stack.bootstrapServers(), "--schema-registry-url", stack.registryUrl(),
                "--topic-cases", cases, "--topic-noise", noise, "--topic-results", results, "--topic-runs", runs,
                "--topic-dlq", dlq, "--mock-port", Integer.toString(mockPort),
                "--mock-route", "inventory=http://127.0.0.1:" + realInventory.actualPort(),
                "--batch-size", "2", "--concurrency", "1", "--progress-interval", "1s", "--management-port", "-1",
                "--redaction-key", REDACTION_KEY_TEXT,
                // A dead member is noticed in seconds, not the default 45 s.
                "--kafka.consumer.session.timeout.ms=6000", "--kafka.consumer.heartbeat.interval.ms=1000",
                // An open transaction of a dead member is aborted soon.
                "--kafka.producer.transaction.timeout.ms=10000"));
    }

    @Test
    void twoWorkersOneKilledStillGiveExactlyOneResultPerCaseWithTheRegressionFoundAndNoiseIgnored(TestStack stack,
            @TempDir Path reports) throws Exception {
        writeCasesAndNoise(stack);
        String runId = stack.uniqueName("run");
        int mockA = Ports.freePort();
        int mockB = Ports.freePort();
        ShopCandidate candidateA = ShopCandidate.start(vertx, "http://127.0.0.1:" + mockA + "/inventory", true, 50, true);
        ShopCandidate candidateB = ShopCandidate.start(vertx, "http://127.0.0.1:" + mockB + "/inventory", true, 250, true);
        int mockC = Ports.freePort();
        ShopCandidate candidateC = ShopCandidate.start(vertx, "http://127.0.0.1:" + mockC + "/inventory", true, 50, true);
        Worker w3 = null;

        // Worker 2 in a child JVM: starts the run, then is killed mid-run.
        List<String> childArgs = args(stack, runId, "w2", candidateB, mockB);
        // The shaded jar as shipped (built by the package phase before Failsafe runs); the class path from an IDE.
        Path jar = Path.of("target", "replay-worker.jar");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = Files.exists(jar)
                ? new ArrayList<>(List.of(java, "-jar", jar.toString()))
                : new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), ReplayMain.class.getName()));
        command.addAll(childArgs);
        File childLog = new File("target/replay-it-child-" + runId + ".log");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(childLog).start();
        try {
            await(() -> candidateB.requests() >= 1 || !child.isAlive(), Duration.ofSeconds(90), "child worker replaying");
            assertTrue(child.isAlive(), () -> "child worker exited early: " + read(childLog));

            // Worker 1 in this JVM joins the run and the group.
            ByteArrayOutputStream w1Out = new ByteArrayOutputStream();
            TaplineConfig config = TaplineConfig.load(ReplayOptions.replaySpec(),
                    args(stack, runId, "w1", candidateA, mockA).subList(1, childArgs.size()).toArray(String[]::new), Map.of());
            ReplayCommand w1 = new ReplayCommand(config, new PrintStream(w1Out, true, StandardCharsets.UTF_8));
            int[] w1Exit = {-1};
            Thread w1Thread = new Thread(() -> {
                try {
                    w1Exit[0] = w1.run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "it-worker-1");
            w1Thread.start();
            await(() -> candidateA.requests() >= 1, Duration.ofSeconds(60), "worker 1 replaying after the rebalance");
            int bAtKill = candidateB.requests();
            assertTrue(bAtKill < CASES, "the child must be killed mid-run");
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            // Worker 3 joins after the kill (a replacement pod): it and worker 1 both see the run complete.
            w3 = startWorker(args(stack, runId, "w3", candidateC, mockC), "it-worker-3");

            w1Thread.join(Duration.ofMinutes(3).toMillis());
            assertFalse(w1Thread.isAlive(), () -> "worker 1 did not finish the run: " + w1Out);
            String w1Log = w1Out.toString(StandardCharsets.UTF_8);
            assertEquals(ReplayCommand.EXIT_GATE, w1Exit[0], () -> "the regression must fail the gate: " + w1Log);
            Worker third = w3;
            third.thread().join(Duration.ofMinutes(2).toMillis());
            assertFalse(third.thread().isAlive(), () -> "worker 3 did not finish the run: " + third.log());
            assertEquals(ReplayCommand.EXIT_GATE, third.exit()[0], () -> "each worker applies the gate: " + third.log());
            for (String log : List.of(w1Log, third.log())) {
                assertTrue(log.contains("run " + runId + ": FAILED the gate"), () -> "each worker prints the verdict: " + log);
            }

            // Exactly one committed result per case, from both workers.
            Map<String, List<ReplayResult>> byKey = committedResults(stack, runId);
            assertEquals(CASES, byKey.size(), () -> "result keys: " + byKey.keySet());
            byKey.forEach((key, list) -> assertEquals(1, list.size(), () -> key + " has " + list.size() + " committed results"));
            Set<String> workers = new HashSet<>();
            byKey.values().forEach(l -> workers.add(l.get(0).getWorker()));
            assertTrue(workers.containsAll(Set.of("w1", "w2")) && Set.of("w1", "w2", "w3").containsAll(workers),
                    () -> "the killed worker and worker 1 committed results, worker 3 perhaps some: " + workers);

            for (List<ReplayResult> list : byKey.values()) {
                ReplayResult r = list.get(0);
                // the latest version was replayed, not an older one (hits 1..OLDER_VERSIONS)
                assertEquals(r.getCaseId().equals("item-13") ? 500 : 100, r.getTrafficWeight(), r::getCaseId);
                // the dependency was served from the mock for every case
                assertEquals(1, r.getMocks().getMatched(), () -> r.getCaseId() + " mocks " + r.getMocks());
                // the noise was not reported
                assertTrue(r.getIgnoredDifferences() >= 1, r::getCaseId);
                for (Difference d : r.getDifferences()) {
                    assertFalse(d.getPath().contains("generatedAt"), () -> "noise reported: " + d);
                }
                if (r.getCaseId().equals("item-13")) {
                    assertEquals(Verdict.FAIL, r.getVerdict());
                    Map<String, String> actual = new TreeMap<>();
                    r.getDifferences().forEach(d -> actual.put(d.getPath(), d.getActual()));
                    assertEquals(Map.of("$.price", "226", "$.buyer", "\"" + REDACTION_KEY.token(ShopCandidate.BUYER) + "\""), actual,
                            "the price, and the customer's email the candidate added, published as the sidecar's token");
                } else {
                    assertEquals(Verdict.PASS, r.getVerdict(), () -> r.getCaseId() + " " + r.getDifferences());
                }
            }
            assertEquals(0, realInventoryHits.get(), "the real dependency must never be called");
            // Each case's latest version only: at most the child's open batches (2 of --batch-size 2) are replayed twice.
            for (int id = 1; id <= CASES; id++) {
                int n = candidateA.requests("/items/" + id) + candidateB.requests("/items/" + id)
                        + candidateC.requests("/items/" + id);
                assertTrue(n >= 1 && n <= 2, "item-" + id + " replayed " + n + " times");
            }
            assertEquals(0, candidateA.requests("/items/" + RETIRED) + candidateB.requests("/items/" + RETIRED)
                    + candidateC.requests("/items/" + RETIRED), "a case whose latest version is a tombstone is not replayed");
            int total = candidateA.requests() + candidateB.requests() + candidateC.requests();
            assertTrue(total <= CASES + 4, "replays: " + total + " for " + CASES + " cases");

            // The undecodable case went to the dead-letter topic with its origin.
            List<ConsumerRecord<byte[], byte[]>> dead = readAll(stack, dlq);
            assertEquals(1, dead.size());
            assertEquals(cases, DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_TOPIC));

            // The summary is on the runs topic once: two workers saw the run complete, the owner of the first
            // partition wrote it. A rebalance at completion can leave both taking themselves for that owner; the
            // write is fenced (SummaryRecordIT), so one record still.
            List<RunEvent> summaries = summariesOf(stack, runId);
            assertEquals(1, summaries.size(), () -> "summary records of the run: " + summaries);
            RunEvent summary = summaryOf(stack, runId);
            assertNotNull(summary, "run summary written");
            // The 30 cases and the undecodable one, counted as skipped rather than silently missing.
            assertEquals(CASES + 1, summary.getSummary().getTotal());
            assertEquals(1, summary.getSummary().getSkipped());
            assertEquals(1, summary.getSummary().getFailed());
            assertEquals(500.0 / (29 * 100 + 500), summary.getSummary().getFailedTrafficShare(), 1e-9);

            Path junit = reports.resolve("junit.xml");
            assertEquals(ReplayCommand.EXIT_GATE, report(stack, runId, "--format", "junit", "--out", junit.toString()).exit());
            String xml = Files.readString(junit);
            assertEquals(CASES + 1, xml.split("<testcase ", -1).length - 1);
            assertTrue(xml.contains("<skipped message=\"undecodable case, sent to " + dlq), xml);
            assertTrue(xml.contains("CHANGED $.price: 113 -&gt; 226") || xml.contains("CHANGED $.price: 113 -> 226"), xml);
            assertFalse(xml.contains(ShopCandidate.BUYER), xml);
            // nowhere in the results topic's bytes either
            for (ConsumerRecord<byte[], byte[]> rec : readAll(stack, results)) {
                assertFalse(new String(rec.value() == null ? new byte[0] : rec.value(), StandardCharsets.ISO_8859_1)
                        .contains(ShopCandidate.BUYER), "a plain email in the results topic");
            }
        } finally {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
            if (w3 != null && w3.thread().isAlive()) {
                w3.command().stop(Duration.ofSeconds(10));
            }
        }
    }

    /**
     * A member that dies between sending its offsets to a transaction and committing it leaves offsets no
     * read_committed consumer can read until the broker aborts the transaction. A worker whose own partitions are done
     * keeps checking whether the run is complete meanwhile; it must wait that out (longer than one offsets read
     * may block), take over the dead member's partitions once the transaction is aborted, and finish the run.
     */
    @Test
    void aMemberKilledWhileCommittingDelaysTheRunButDoesNotFailIt(TestStack stack) throws Exception {
        writeCasesAndNoise(stack);
        String runId = stack.uniqueName("run");
        String group = RunTopics.groupId(runId);
        int mock = Ports.freePort();
        ShopCandidate candidate = ShopCandidate.start(vertx, "http://127.0.0.1:" + mock + "/inventory", false, 0, true);
        KafkaSettings kafka = new KafkaSettings(stack.bootstrapServers(),
                Map.of(), Map.of("session.timeout.ms", 6000, "heartbeat.interval.ms", 1000), Map.of());

        // The member that will die: joins first, takes its share when the worker joins, then opens a transaction
        // holding offsets of its partitions and is gone without committing or aborting it.
        Map<String, Object> producerProps = new HashMap<>(kafka.producer("it-dying-member-" + runId, "it-dying"));
        producerProps.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 25_000);
        KafkaProducer<byte[], byte[]> dyingProducer = new KafkaProducer<>(producerProps);
        dyingProducer.initTransactions();
        AtomicBoolean workerJoined = new AtomicBoolean();
        AtomicBoolean die = new AtomicBoolean();
        AtomicReference<Set<TopicPartition>> held =
                new AtomicReference<>();
        AtomicReference<Throwable> dyingError = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger dyingAssigned = new java.util.concurrent.atomic.AtomicInteger();
        Thread dying = new Thread(() -> {
            try (KafkaConsumer<byte[], byte[]> c =
                         new KafkaConsumer<>(kafka.consumer(group, "it-dying"))) {
                c.subscribe(List.of(cases));
                while (!die.get()) {
                    c.poll(Duration.ofMillis(100));
                    c.pause(c.assignment()); // never replays anything
                    dyingAssigned.set(c.assignment().size());
                    if (workerJoined.get() && held.get() == null && !c.assignment().isEmpty()) {
                        Map<TopicPartition, OffsetAndMetadata> offsets =
                                new HashMap<>();
                        c.assignment().forEach(tp -> offsets.put(tp, new OffsetAndMetadata(0)));
                        dyingProducer.beginTransaction();
                        dyingProducer.sendOffsetsToTransaction(offsets, c.groupMetadata());
                        dyingProducer.flush();
                        held.set(offsets.keySet());
                    }
                }
                // Leaves the group; the transaction stays open until the broker aborts it.
            } catch (Throwable t) {
                dyingError.set(t);
            }
        }, "it-dying-member");
        dying.start();
        await(() -> dyingAssigned.get() == 3 || dyingError.get() != null, Duration.ofSeconds(60), "the dying member joined");

        List<String> a = args(stack, runId, "w1", candidate, mock);
        // Shorter than the open transaction lasts: taking over the dead member's partitions waits over several reads.
        a.add("--kafka.consumer.default.api.timeout.ms=5000");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] exit = {-1};
        Thread worker = replayThread(a, out, exit);
        try {
            worker.start();
            await(() -> candidate.requests() >= 1, Duration.ofSeconds(60), "the worker replaying its share");
            workerJoined.set(true);
            await(() -> held.get() != null || dyingError.get() != null, Duration.ofSeconds(30), "the dying member's open transaction");
            assertEquals(null, dyingError.get());
            assertTrue(held.get().size() < 3, "the worker owns a share: " + held.get());

            // The setup is real: the group's offsets of those partitions are unreadable while the transaction is open.
            try (KafkaConsumer<byte[], byte[]> probe =
                         new KafkaConsumer<>(kafka.consumer(group, "it-probe"))) {
                assertThrows(TimeoutException.class,
                        () -> probe.committed(held.get(), Duration.ofSeconds(2)));
            }
            // The worker finishes its share and checks for completion, unable to read the offsets, for longer than
            // one read may block (5 s) and than the old single 10 s read that failed the run.
            Pattern ownDone = Pattern.compile("(\\d+)/(\\d+) cases replayed");
            await(() -> {
                Matcher m = ownDone.matcher(out.toString(StandardCharsets.UTF_8));
                String last = null;
                String total = null;
                while (m.find()) {
                    last = m.group(1);
                    total = m.group(2);
                }
                return last != null && last.equals(total) && !last.equals("0");
            }, Duration.ofSeconds(60), "the worker done with its own share");
            Thread.sleep(12_000);
            assertTrue(worker.isAlive(), () -> "the worker must wait for the open transaction: " + out);

            die.set(true);
            dying.join(Duration.ofSeconds(30).toMillis());
            worker.join(Duration.ofMinutes(3).toMillis());
            assertFalse(worker.isAlive(), () -> "the worker did not finish the run: " + out);
            String log = out.toString(StandardCharsets.UTF_8);
            assertEquals(ReplayCommand.EXIT_OK, exit[0], log);
            Map<String, List<ReplayResult>> byKey = committedResults(stack, runId);
            assertEquals(CASES, byKey.size(), () -> "result keys: " + byKey.keySet());
            byKey.forEach((key, list) -> assertEquals(1, list.size(), () -> key + " has " + list.size() + " committed results"));
            for (int id = 1; id <= CASES; id++) {
                assertEquals(1, candidate.requests("/items/" + id), "item-" + id + " replays");
            }
        } finally {
            die.set(true);
            worker.join(Duration.ofSeconds(1).toMillis());
            dyingProducer.close(Duration.ZERO);
        }
    }

    /**
     * The broker goes away mid-run (a restart without replicas, an outage): the worker cannot commit its batch. It must
     * end within the producer's bounds with the run's "did not complete" code, not hang; run again once the broker is
     * back, the same run completes from the committed offsets with exactly one result per case.
     */
    @Test
    void aRunCutShortByTheBrokerGoingAwayEndsIncompleteAndAGoAfterItsReturnCompletesIt(TestStack stack) throws Exception {
        writeCasesAndNoise(stack);
        String runId = stack.uniqueName("run");
        int mock = Ports.freePort();
        ShopCandidate candidate = ShopCandidate.start(vertx, "http://127.0.0.1:" + mock + "/inventory", true, 200, true);
        List<String> a = args(stack, runId, "w1", candidate, mock);
        // Every wait on the broker short: the test measures the worker's own bounds, not the clients' defaults.
        a.addAll(List.of("--kafka.producer.max.block.ms=3000", "--kafka.consumer.default.api.timeout.ms=3000",
                "--kafka-timeout", "10s"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] exit = {-1};
        Thread worker = replayThread(a, out, exit);
        long ended;
        long stopped;
        try {
            worker.start();
            await(() -> candidate.requests() >= 6, Duration.ofSeconds(60), "the worker replaying");
            stack.stopBroker();
            stopped = System.nanoTime();
            worker.join(Duration.ofMinutes(3).toMillis());
            ended = System.nanoTime();
            assertFalse(worker.isAlive(), () -> "the worker did not end with the broker gone: " + out);
        } finally {
            stack.startBroker();
            worker.join(Duration.ofSeconds(1).toMillis());
        }
        String log = out.toString(StandardCharsets.UTF_8);
        assertEquals(ReplayCommand.EXIT_INCOMPLETE, exit[0], log);
        int before = candidate.requests();
        assertTrue(before < CASES, () -> "the run was cut short: " + before + " replays\n" + log);
        System.out.printf("worker ended %.1f s after the broker stopped; %d of %d cases replayed%n",
                (ended - stopped) / 1e9, before, CASES);

        Ran again = replay(args(stack, runId, "w1", candidate, mock));
        assertEquals(ReplayCommand.EXIT_GATE, again.exit(), again.log()); // the planted regression
        Map<String, List<ReplayResult>> byKey = committedResults(stack, runId);
        assertEquals(CASES, byKey.size(), () -> "result keys: " + byKey.keySet() + "\n" + again.log());
        byKey.forEach((key, list) -> assertEquals(1, list.size(), () -> key + " has " + list.size() + " committed results"));
        assertNotNull(summaryOf(stack, runId), "run summary written");
        assertEquals(0, realInventoryHits.get(), "the real dependency must never be called");
    }

    @Test
    void candidateWithoutTracePropagationFallsBackToOneCaseAtATimeAndSaysSo(TestStack stack) throws Exception {
        writeCasesAndNoise(stack);
        String runId = stack.uniqueName("run");
        int mock = Ports.freePort();
        ShopCandidate noPropagation = ShopCandidate.start(vertx, "http://127.0.0.1:" + mock + "/inventory", false, 20, false);
        List<String> a = args(stack, runId, "solo", noPropagation, mock);
        a.set(a.indexOf("--concurrency") + 1, "4");
        a.set(a.indexOf("--batch-size") + 1, "8");
        Ran replay = replay(a);
        String log = replay.log();
        assertEquals(ReplayCommand.EXIT_OK, replay.exit(), log);
        assertTrue(log.contains("does not propagate trace context"), log);
        // Distinct cases, not offsets: the 30 cases and the undecodable "poison" key (a live key, dead-lettered and
        // counted as skipped).
        assertTrue(log.contains("run " + runId + ": 31/31 cases replayed by this process"), log);
        assertTrue(log.contains("skipped: 1"), log);
        Map<String, List<ReplayResult>> byKey = committedResults(stack, runId);
        assertEquals(CASES, byKey.size());
        for (List<ReplayResult> list : byKey.values()) {
            assertEquals(1, list.size());
            ReplayResult r = list.get(0);
            assertEquals(Verdict.PASS, r.getVerdict(), () -> r.getCaseId() + " " + r.getDifferences());
            assertEquals(1, r.getMocks().getMatched(), () -> r.getCaseId() + " " + r.getMocks());
        }
        assertEquals(0, realInventoryHits.get());
    }

    /**
     * The cases topic of {@link #setUp} is compacted with the broker's default {@code min.compaction.lag.ms} (0): the
     * log cleaner may remove a version below the run's bounds in favour of one dedup-stream writes above them while
     * the run reads. The run says so once at its start, with the fix, and again at its end (it lasted longer than 0).
     */
    @Test
    void aCasesTopicWithoutACompactionLagIsWarnedOfAtTheRunsStartAndEnd(TestStack stack) throws Exception {
        writeCasesAndNoise(stack);
        String runId = stack.uniqueName("run");
        int mock = Ports.freePort();
        ShopCandidate candidate = ShopCandidate.start(vertx, "http://127.0.0.1:" + mock + "/inventory", true, 0, true);
        Ran replay = replay(args(stack, runId, "solo", candidate, mock));
        String log = replay.log();
        assertEquals(ReplayCommand.EXIT_GATE, replay.exit(), log); // item 13's planted regression
        String warning = "run " + runId + ": warning: cases topic " + cases + " has min.compaction.lag.ms=0, shorter"
                + " than a run may last";
        assertTrue(log.contains(warning), log);
        assertEquals(log.indexOf(warning), log.lastIndexOf(warning), "warned once: " + log);
        assertTrue(log.contains("--alter --entity-type topics --entity-name " + cases
                + " --add-config min.compaction.lag.ms=7200000)"), log);
        assertTrue(log.indexOf(warning) < log.indexOf("cases replayed by this process"), "before any case: " + log);
        assertTrue(log.contains("run " + runId + ": note: the run lasted "), log);
        assertTrue(log.contains("cases may have been removed by the log cleaner before they were read"), log);
    }

    /**
     * A dead letter is the raw case plus its error headers, and the replay producer compresses it: a case as large as
     * the cases topic takes must still fit the dead-letter topic, or the batch's transaction fails on every attempt
     * and the run can never complete. The topics have the production limits; the value is random (lz4 makes it larger).
     */
    @Test
    void anUndecodableCaseAsLargeAsTheCasesTopicTakesIsDeadLetteredWhole(TestStack stack) throws Exception {
        String bigCases = stack.createTopic("cases-big", 1, TaplineTopics.CASES_SPEC.configs());
        String bigDlq = stack.createTopic("dlq-big", 1, TaplineTopics.DLQ_SPEC.configs());
        byte[] key = "huge".getBytes(StandardCharsets.UTF_8);
        byte[] value = new byte[TaplineTopics.DERIVED_MAX_BYTES - 1024];
        new java.util.Random(7).nextBytes(value);
        value[0] = 9; // not the registry wire format's magic byte: undecodable
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TaplineTopics.DERIVED_MAX_BYTES);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props)) {
            p.send(new ProducerRecord<>(bigCases, key, value)).get();
        }
        String runId = stack.uniqueName("run");
        int mock = Ports.freePort();
        ShopCandidate candidate = ShopCandidate.start(vertx, "http://127.0.0.1:" + mock + "/inventory", false, 0, true);
        List<String> a = args(stack, runId, "solo", candidate, mock);
        a.set(a.indexOf("--topic-cases") + 1, bigCases);
        a.set(a.indexOf("--topic-dlq") + 1, bigDlq);
        AtomicReference<Ran> ran = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                ran.set(replay(a));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "it-big-dead-letter");
        worker.start();
        worker.join(Duration.ofMinutes(2).toMillis());
        if (worker.isAlive()) {
            worker.interrupt();
            throw new AssertionError("the run did not end in 2 minutes");
        }
        assertEquals(ReplayCommand.EXIT_OK, ran.get().exit(), ran.get().log());
        assertTrue(ran.get().log().contains("skipped: 1"), ran.get().log());
        // the project's cases topic settings: nothing to warn of, at the start or the end
        assertFalse(ran.get().log().contains("warning: cases topic"), ran.get().log());
        assertFalse(ran.get().log().contains("may have been removed by the log cleaner"), ran.get().log());
        List<ConsumerRecord<byte[], byte[]>> dead = readAll(stack, bigDlq);
        assertEquals(1, dead.size());
        assertArrayEquals(key, dead.get(0).key());
        assertArrayEquals(value, dead.get(0).value(), "the case's bytes, whole");
        assertEquals(bigCases, DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_TOPIC));
        assertEquals(0, candidate.requests());
    }

    @Test
    void twoRunsAgainstTwoCandidatesProceedAtOnceWithoutSharingCases(TestStack stack) throws Exception {
        writeCasesAndNoise(stack);
        String runGood = stack.uniqueName("run");
        String runBad = stack.uniqueName("run");
        int mockGood = Ports.freePort();
        int mockBad = Ports.freePort();
        ShopCandidate good = ShopCandidate.start(vertx, "http://127.0.0.1:" + mockGood + "/inventory", false, 0, true);
        ShopCandidate bad = ShopCandidate.start(vertx, "http://127.0.0.1:" + mockBad + "/inventory", true, 0, true);
        // not 0 (EXIT_OK): a worker that never returned must not read as a passed run
        int[] exits = {-1, -1};
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            int n = i;
            List<String> a = n == 0 ? args(stack, runGood, "g", good, mockGood) : args(stack, runBad, "b", bad, mockBad);
            TaplineConfig config = TaplineConfig.load(ReplayOptions.replaySpec(), a.subList(1, a.size()).toArray(String[]::new), Map.of());
            Thread t = new Thread(() -> {
                try {
                    exits[n] = new ReplayCommand(config, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join(Duration.ofMinutes(3).toMillis());
            assertFalse(t.isAlive(), "both runs end");
        }
        assertEquals(ReplayCommand.EXIT_OK, exits[0], "the unchanged candidate passes");
        assertEquals(ReplayCommand.EXIT_GATE, exits[1], "the regressed candidate fails");
        assertEquals(CASES, committedResults(stack, runGood).size());
        // One replay per case (its latest version), though 1..VERSIONED have OLDER_VERSIONS more below the bounds.
        for (ShopCandidate c : List.of(good, bad)) {
            for (int id = 1; id <= CASES; id++) {
                assertEquals(1, c.requests("/items/" + id), "item-" + id + " replays");
            }
            assertEquals(CASES, c.requests(), "replays in all");
        }
        Map<String, List<ReplayResult>> badResults = committedResults(stack, runBad);
        assertEquals(CASES, badResults.size());
        assertEquals(1, badResults.values().stream().filter(l -> l.get(0).getVerdict() == Verdict.FAIL).count());
        assertEquals(0, realInventoryHits.get());
    }

    /**
     * A worker asked to stop (SIGTERM: the shutdown hook calls {@code stop}) while a batch is still starting its cases
     * (here at {@code --rate 2}, one batch of every case) starts none of the rest, waits for those in flight and
     * commits their results with the offsets of exactly what was replayed, at once. Before, it waited for the whole
     * batch to replay, sending the candidate every case left in it after the stop (~14 s here; a batch longer than the
     * 30 s the process gives its workers was lost whole). A second worker then replays the rest: one request and one
     * committed result per case, one dead letter.
     */
    /**
     * A topic option naming a topic the broker does not have: the command says which option names it (before, only
     * "topic ... does not exist", leaving the user to find which of five topic options was wrong), and exits 3.
     */
    @Test
    void aMissingTopicIsNamedWithTheOptionThatNamesIt(TestStack stack) throws Exception {
        int mock = Ports.freePort();
        ShopCandidate candidate = ShopCandidate.start(vertx, "http://127.0.0.1:" + mock + "/inventory", true, 0, true);
        List<String> a = args(stack, stack.uniqueName("run"), "w1", candidate, mock);
        String missing = stack.uniqueName("no-such-cases");
        a.set(a.indexOf("--topic-cases") + 1, missing);
        int[] exit = {-1};
        String stderr = ReplayMainTest.stderrOf(() -> exit[0] = ReplayMain.run(a.toArray(String[]::new)));
        assertEquals(ReplayCommand.EXIT_INCOMPLETE, exit[0], stderr);
        assertTrue(stderr.contains("tapline replay: option --topic-cases: topic " + missing + " does not exist"), stderr);
    }

    @Test
    void aStoppedWorkerStartsNoMoreCasesAndCommitsWhatItReplayedAtOnce(TestStack stack) throws Exception {
        stopMidBatchThenReplayTheRest(stack, 100);
    }

    /**
     * As {@link #aStoppedWorkerStartsNoMoreCasesAndCommitsWhatItReplayedAtOnce} with batches of 4 cases: when the stop
     * comes, the batch after the one replaying has been polled and not started. It is not committed: before, its
     * offsets (up to its own first case) were committed after the stopped batch's, past that batch's cases not
     * replayed, which no worker of the run then replayed.
     */
    @Test
    void aStopLeavesTheBatchPolledAfterTheStoppedOneUncommitted(TestStack stack) throws Exception {
        stopMidBatchThenReplayTheRest(stack, 4);
    }

    private void stopMidBatchThenReplayTheRest(TestStack stack, int batchSize) throws Exception {
        writeCasesAndNoise(stack);
        String runId = stack.uniqueName("run");
        int mock = Ports.freePort();
        ShopCandidate candidate = ShopCandidate.start(vertx, "http://127.0.0.1:" + mock + "/inventory", true, 0, true);
        List<String> a = args(stack, runId, "w1", candidate, mock);
        a.set(a.indexOf("--batch-size") + 1, String.valueOf(batchSize));
        a.addAll(List.of("--rate", "2"));
        Worker worker = startWorker(a, "it-stopped-worker");
        await(() -> candidate.requests() >= 3, Duration.ofSeconds(60), "the worker replaying");
        long stopping = System.nanoTime();
        worker.command().stop(Duration.ofSeconds(30));
        long stopMillis = (System.nanoTime() - stopping) / 1_000_000;
        worker.thread().join(Duration.ofSeconds(30).toMillis());
        assertFalse(worker.thread().isAlive(), () -> "the worker did not stop: " + worker.log());
        assertEquals(ReplayCommand.EXIT_INCOMPLETE, worker.exit()[0], worker::log);
        int sent = candidate.requests();
        assertTrue(sent < CASES, "stopped mid-batch: " + sent + " of " + CASES + " replayed");
        assertTrue(stopMillis < 5_000, "the stop waited for the cases not yet started: " + stopMillis + " ms");
        Thread.sleep(1_500); // at --rate 2, three more would have started by now
        assertEquals(sent, candidate.requests(), "a case started after the stop");

        // What was replayed is committed: each item the candidate was sent has its result, no other item has one.
        TaplineAvroDeserializer<ReplayResult> reader = new TaplineAvroDeserializer<>(
                new SchemaRegistryClient(RegistryConfig.of(stack.registryUrl())), ReplayResult.class);
        Set<String> committedItems = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(stack, results)) {
            String key = new String(r.key(), StandardCharsets.UTF_8);
            if (key.startsWith(runId + "/item-") && r.value() != null
                    && reader.deserialize(results, r.value()).getVerdict() != Verdict.SKIPPED) {
                committedItems.add(key.substring(runId.length() + 1));
            }
        }
        Set<String> sentItems = new HashSet<>();
        for (int id = 1; id <= CASES; id++) {
            if (candidate.requests("/items/" + id) > 0) {
                sentItems.add("item-" + id);
            }
        }
        assertEquals(sentItems, committedItems, "the results committed at the stop are those of the cases replayed");

        // A second worker replays the rest: each case once in all, one committed result per case.
        Ran rest = replay(args(stack, runId, "w2", candidate, mock));
        assertEquals(ReplayCommand.EXIT_GATE, rest.exit(), rest::log);
        for (int id = 1; id <= CASES; id++) {
            assertEquals(1, candidate.requests("/items/" + id), "item-" + id + " replays");
        }
        Map<String, List<ReplayResult>> byKey = committedResults(stack, runId);
        assertEquals(CASES, byKey.size(), () -> "result keys: " + byKey.keySet());
        byKey.forEach((key, list) -> assertEquals(1, list.size(), () -> key + " has " + list.size() + " committed results"));
        assertEquals(1, readAll(stack, dlq).size(), "one dead letter for the undecodable case");
    }

    /**
     * A stop that comes while the worker replays again, one at a time, the cases that were in flight when the candidate
     * turned out not to propagate trace context (a propagation fallback) starts none of them any more either: the cases
     * replayed again so far are committed, the batch is cut at the first that was not, and a second worker replays the
     * rest with one committed result per case. Before, the second replays went on after the stop, one after another.
     */
    @Test
    void aStopDuringThePropagationFallbacksSecondReplaysStartsNoMoreOfThem(TestStack stack) throws Exception {
        writeCasesAndNoise(stack);
        String runId = stack.uniqueName("run");
        int mock = Ports.freePort();
        // 300 ms before each dependency call: the batch's first four cases, started together, are all in flight when
        // the first call without trace context comes, and are replayed again once the batch is done, one at a time.
        ShopCandidate candidate = ShopCandidate.start(vertx, "http://127.0.0.1:" + mock + "/inventory", false, 300, false);
        List<String> a = args(stack, runId, "w1", candidate, mock);
        a.set(a.indexOf("--batch-size") + 1, "100");
        a.set(a.indexOf("--concurrency") + 1, "4");
        Worker worker = startWorker(a, "it-stopped-worker");
        await(() -> IntStream.rangeClosed(1, CASES).anyMatch(id -> candidate.requests("/items/" + id) > 1),
                Duration.ofSeconds(90), "a case replayed again after the propagation fallback");
        int sent = candidate.requests(); // the second replay in flight included: the next starts ~300 ms after it
        worker.command().stop(Duration.ofSeconds(30));
        worker.thread().join(Duration.ofSeconds(30).toMillis());
        assertFalse(worker.thread().isAlive(), () -> "the worker did not stop: " + worker.log());
        assertEquals(ReplayCommand.EXIT_INCOMPLETE, worker.exit()[0], worker::log);
        Thread.sleep(1_000);
        assertEquals(sent, candidate.requests(), "a case started after the stop");

        Ran rest = replay(args(stack, runId, "w2", candidate, mock));
        assertEquals(ReplayCommand.EXIT_OK, rest.exit(), rest::log);
        Map<String, List<ReplayResult>> byKey = committedResults(stack, runId);
        assertEquals(CASES, byKey.size(), () -> "result keys: " + byKey.keySet());
        byKey.forEach((key, list) -> {
            assertEquals(1, list.size(), () -> key + " has " + list.size() + " committed results");
            assertEquals(Verdict.PASS, list.get(0).getVerdict(), () -> key + " " + list.get(0).getDifferences());
        });
        assertEquals(1, readAll(stack, dlq).size(), "one dead letter for the undecodable case");
        assertEquals(0, realInventoryHits.get());
    }

    /**
     * The results topic keeps every run's results for a month: a run's summary reads only the results written since
     * the run started (its bounds record where the results topic ended then), and its report reads the range the
     * summary read. A failed result keyed as this run's but written before it started, and one written after its
     * summary, lie outside both ranges: counting either would fail the gate.
     */
    @Test
    void theSummaryAndTheReportReadOnlyTheRunsRangeOfTheResultsTopic(TestStack stack) throws Exception {
        writeCasesAndNoise(stack);
        String runId = stack.uniqueName("run");
        int earlier = 300;
        writeResults(stack, "earlier-run", earlier, Verdict.PASS);
        writeResults(stack, runId, 1, Verdict.FAIL);
        int mock = Ports.freePort();
        ShopCandidate good = ShopCandidate.start(vertx, "http://127.0.0.1:" + mock + "/inventory", false, 0, true);
        List<String> a = args(stack, runId, "solo", good, mock);
        a.set(a.indexOf("--batch-size") + 1, "8");
        Ran replay = replay(a);
        String log = replay.log();
        assertEquals(ReplayCommand.EXIT_OK, replay.exit(), log);

        RunSummary summary = summaryOf(stack, runId).getSummary();
        assertEquals(CASES + 1, summary.getTotal(), log);
        assertEquals(1, summary.getSkipped(), log);
        assertEquals(0, summary.getFailed(), log);
        long start = summary.getResultsStartOffsets().values().stream().mapToLong(Long::longValue).sum();
        long end = summary.getResultsEndOffsets().values().stream().mapToLong(Long::longValue).sum();
        assertEquals(earlier + 1, start, "the run's results start above everything written before it");
        summary.getResultsStartOffsets().forEach((partition, from) -> assertTrue(
                summary.getResultsEndOffsets().get(partition) >= from, () -> "range of partition " + partition + ": " + summary));
        assertTrue(end - start >= CASES, () -> "the run's " + CASES + " results lie in the range read: " + summary);

        writeResults(stack, runId, 1, Verdict.FAIL);
        Reported reported = report(stack, runId);
        String report = reported.out();
        assertEquals(ReplayCommand.EXIT_OK, reported.exit(), report);
        assertTrue(report.contains("cases: " + (CASES + 1) + "  passed: " + CASES + "  failed: 0  errors: 0  skipped: 1"), report);

        // The complete run replayed again against the same candidate (a CI retry): nothing is sent to the candidate,
        // the summary is not rewritten (its duration would run to now), and the run is reported as recorded (the
        // result written after its summary not counted) and gated anew.
        RunEvent recorded = summaryOf(stack, runId);
        int requestsBefore = good.requests();
        Ran rerun = replay(args(stack, runId, "retry", good, mock));
        assertEquals(ReplayCommand.EXIT_OK, rerun.exit(), rerun.log());
        assertTrue(rerun.log().contains("run " + runId + ": already complete"), rerun.log());
        assertTrue(rerun.log().contains("cases: " + (CASES + 1) + "  passed: " + CASES + "  failed: 0  errors: 0  skipped: 1"),
                rerun.log());
        assertEquals(requestsBefore, good.requests(), "no case replayed again");
        assertEquals(recorded, summaryOf(stack, runId), "the summary as it was written");

        // The complete run's id given with another candidate: refused, rather than its results reported as that one's.
        int otherMock = Ports.freePort();
        ShopCandidate other = ShopCandidate.start(vertx, "http://127.0.0.1:" + otherMock + "/inventory", false, 0, true);
        ConfigException reused = assertThrows(ConfigException.class, () -> replay(args(stack, runId, "again", other, otherMock)));
        assertTrue(reused.getMessage().startsWith("option --target: run " + runId + " is complete"), reused.getMessage());

        // A run that never started has no bounds: reported as not found, without reading the results topic.
        Reported unknown = report(stack, "no-such-run");
        assertEquals(ReplayCommand.EXIT_INCOMPLETE, unknown.exit());
        assertEquals("", unknown.out());
        assertTrue(unknown.diagnostics().contains("run no-such-run: not found"), unknown.diagnostics());
    }

    /**
     * Two workers starting a run together both propose bounds; all must adopt the one written first, whatever the
     * writers' clocks say: here the second proposal carries a timestamp an hour older than the first's.
     */
    @Test
    void racingWorkersAdoptTheFirstBoundsWrittenWhateverTheirClocks(TestStack stack) throws Exception {
        writeCasesAndNoise(stack);
        String runId = stack.uniqueName("run");
        KafkaSettings kafka = kafkaWithRegistry(stack);
        AvroCodec codec = new AvroCodec(kafka.registry());
        RunTopics topics = new RunTopics(cases, noise, results, runs, dlq);
        RunEvent first = new RunCoordinator(kafka, codec, topics, Clock.systemUTC(), Duration.ofSeconds(30))
                .establishBounds(runId, "http://a");

        Instant behind = Instant.now().minus(Duration.ofHours(1));
        RunEvent second = RunEvent.newBuilder(first).setCandidate("http://b").setAt(behind)
                .setBounds(RunBounds.newBuilder(first.getBounds()).setEndOffsets(Map.of("0", 1L, "1", 1L, "2", 1L)).build())
                .build();
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(runs, 0, behind.toEpochMilli(),
                    (RunTopics.boundsKey(runId) + "/other-worker").getBytes(StandardCharsets.UTF_8),
                    codec.write(runs, second))).get();
        }

        RunEvent adopted = new RunCoordinator(kafka, codec, topics, Clock.systemUTC(), Duration.ofSeconds(30))
                .establishBounds(runId, "http://a");
        assertEquals(first.getBounds(), adopted.getBounds());
        assertEquals("http://a", adopted.getCandidate());
    }

    /**
     * The run's bounds are offsets of the cases topic it started on. A worker joining it with another --topic-cases
     * (another environment's topic, say) must be refused, not replay that topic's cases into the run up to offsets
     * that are not its own (here they lie beyond its end, so such a worker would never finish).
     */
    @Test
    void aWorkerJoiningARunWithAnotherCasesTopicIsRefused(TestStack stack) throws Exception {
        writeCasesAndNoise(stack);
        String runId = stack.uniqueName("run");
        KafkaSettings kafka = kafkaWithRegistry(stack);
        AvroCodec codec = new AvroCodec(kafka.registry());
        int mock = Ports.freePort();
        ShopCandidate candidate = ShopCandidate.start(vertx, "http://127.0.0.1:" + mock + "/inventory", false, 0, true);
        new RunCoordinator(kafka, codec, new RunTopics(cases, noise, results, runs, dlq), Clock.systemUTC(),
                Duration.ofSeconds(30)).establishBounds(runId, candidate.url());
        String otherCases = stack.createTopic("other-cases", 3, Map.of("cleanup.policy", "compact"));

        List<String> a = args(stack, runId, "w1", candidate, mock);
        a.set(a.indexOf("--topic-cases") + 1, otherCases);
        AtomicReference<Throwable> refused = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                replay(a);
            } catch (Throwable t) {
                refused.set(t);
            }
        }, "it-other-topic-worker");
        worker.setDaemon(true);
        worker.start();
        worker.join(Duration.ofSeconds(60).toMillis());
        assertTrue(refused.get() instanceof ConfigException,
                () -> "the worker must be refused at once (exit 2), not join the run's group over " + otherCases
                        + ": " + refused.get());
        assertTrue(refused.get().getMessage().startsWith("option --topic-cases: run " + runId + " replays the cases of "
                + cases), refused.get().getMessage());
        assertEquals(0, candidate.requests(), "nothing replayed");
    }

    /** What an in-process command returned and printed. */
    private record Ran(int exit, String log) {
    }

    /**
     * A thread (not started) that runs {@code replay} in this JVM with the given command line ({@code args}, "replay"
     * first), its output to {@code out} and its exit code to {@code exit[0]}.
     */
    private static Thread replayThread(List<String> a, ByteArrayOutputStream out, int[] exit) {
        TaplineConfig config = TaplineConfig.load(ReplayOptions.replaySpec(), a.subList(1, a.size()).toArray(String[]::new), Map.of());
        return new Thread(() -> {
            try {
                exit[0] = new ReplayCommand(config, new PrintStream(out, true, StandardCharsets.UTF_8)).run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "it-worker");
    }

    /** A {@code replay} command running in this JVM on a thread of its own: stop it, join the thread, read its exit. */
    private record Worker(ReplayCommand command, Thread thread, ByteArrayOutputStream out, int[] exit) {

        String log() {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    /** Starts {@code replay} with the given command line ({@code args}, "replay" first) on a thread named {@code name}. */
    private static Worker startWorker(List<String> a, String name) {
        TaplineConfig config = TaplineConfig.load(ReplayOptions.replaySpec(), a.subList(1, a.size()).toArray(String[]::new), Map.of());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ReplayCommand command = new ReplayCommand(config, new PrintStream(out, true, StandardCharsets.UTF_8));
        int[] exit = {-1};
        Thread thread = new Thread(() -> {
            try {
                exit[0] = command.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        thread.start();
        return new Worker(command, thread, out, exit);
    }

    /** Runs {@code replay} in this JVM with the given command line ({@code args}, "replay" first). */
    private static Ran replay(List<String> a) throws InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TaplineConfig config = TaplineConfig.load(ReplayOptions.replaySpec(), a.subList(1, a.size()).toArray(String[]::new), Map.of());
        int exit = new ReplayCommand(config, new PrintStream(out, true, StandardCharsets.UTF_8)).run();
        return new Ran(exit, out.toString(StandardCharsets.UTF_8));
    }

    /** What {@code report} returned, printed (the report) and said about it (diagnostics). */
    private record Reported(int exit, String out, String diagnostics) {
    }

    /** Runs {@code report} of a run in this JVM against this test's topics. */
    private Reported report(TestStack stack, String runId, String... extra) {
        List<String> args = new ArrayList<>(List.of("--run", runId, "--kafka-bootstrap-servers", stack.bootstrapServers(),
                "--schema-registry-url", stack.registryUrl(), "--topic-results", results, "--topic-runs", runs));
        args.addAll(List.of(extra));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        TaplineConfig config = TaplineConfig.load(ReplayOptions.reportSpec(), args.toArray(String[]::new), Map.of());
        int exit = new ReportCommand(config, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(diagnostics, true, StandardCharsets.UTF_8)).run();
        return new Reported(exit, out.toString(StandardCharsets.UTF_8), diagnostics.toString(StandardCharsets.UTF_8));
    }

    /** {@code count} results keyed {@code runId/planted-N}, written without a transaction. */
    private void writeResults(TestStack stack, String runId, int count, Verdict verdict) throws Exception {
        TaplineAvroSerializer<ReplayResult> writer = new TaplineAvroSerializer<>(
                new SchemaRegistryClient(RegistryConfig.of(stack.registryUrl())), false);
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props)) {
            for (int i = 0; i < count; i++) {
                String caseId = "planted-" + UUID.randomUUID();
                ReplayResult r = ReplayResult.newBuilder().setRunId(runId).setCaseId(caseId).setSignatureId(caseId)
                        .setRoute(ROUTE).setCandidate("http://elsewhere").setVerdict(verdict)
                        .setDifferences(List.of()).setIgnoredDifferences(0).setMocks(MockUsage.newBuilder().build())
                        .setRecordedLatencyMicros(1).setCandidateLatencyMicros(1).setTrafficWeight(1000)
                        .setWorker("elsewhere").setCompletedAt(Instant.now()).build();
                p.send(new ProducerRecord<>(results, RunTopics.resultKey(runId, caseId).getBytes(StandardCharsets.UTF_8),
                        writer.serialize(results, r)));
            }
            p.flush();
        }
    }

    /**
     * The run's committed result records per key, null for a retired case's tombstone; keys whose last record is
     * a tombstone are dropped after checking they belong to retired cases.
     */
    private Map<String, List<ReplayResult>> committedResults(TestStack stack, String runId) {
        TaplineAvroDeserializer<ReplayResult> reader = new TaplineAvroDeserializer<>(
                new SchemaRegistryClient(RegistryConfig.of(stack.registryUrl())), ReplayResult.class);
        Map<String, List<ReplayResult>> byKey = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(stack, results)) {
            String key = new String(r.key(), StandardCharsets.UTF_8);
            if (key.startsWith(runId + "/")) {
                byKey.computeIfAbsent(key, k -> new ArrayList<>())
                        .add(r.value() == null ? null : reader.deserialize(results, r.value()));
            }
        }
        Set<String> retiredKeys = Set.of(runId + "/item-" + RETIRED, runId + "/never-written");
        for (String key : retiredKeys) {
            List<ReplayResult> list = byKey.remove(key);
            if (list != null) {
                assertEquals(null, list.get(list.size() - 1), () -> key + " must end with a tombstone: " + list);
            }
        }
        byKey.values().forEach(list -> assertFalse(list.contains(null), () -> "unexpected tombstone: " + list));
        // The undecodable case: one SKIPPED result naming the dead-letter topic, kept apart from the 30 replayed.
        List<ReplayResult> poison = byKey.remove(runId + "/poison");
        assertNotNull(poison, "the undecodable case has a result");
        assertEquals(1, poison.size(), poison::toString);
        assertEquals(Verdict.SKIPPED, poison.get(0).getVerdict());
        assertTrue(poison.get(0).getError().startsWith("undecodable case, sent to " + dlq), poison.get(0).getError());
        return byKey;
    }

    private RunEvent summaryOf(TestStack stack, String runId) {
        List<RunEvent> all = summariesOf(stack, runId);
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    /** Every summary record of the run on the runs topic, in the order written (before compaction). */
    private List<RunEvent> summariesOf(TestStack stack, String runId) {
        TaplineAvroDeserializer<RunEvent> reader = new TaplineAvroDeserializer<>(
                new SchemaRegistryClient(RegistryConfig.of(stack.registryUrl())), RunEvent.class);
        List<RunEvent> found = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(stack, runs)) {
            if (new String(r.key(), StandardCharsets.UTF_8).equals(runId + "/summary")) {
                found.add(reader.deserialize(runs, r.value()));
            }
        }
        return found;
    }

    /** Kafka settings with the test registry, for driving a {@link RunCoordinator} directly. */
    private static KafkaSettings kafkaWithRegistry(TestStack stack) {
        return new KafkaSettings(stack.bootstrapServers(), Map.of(RegistryConfig.URL, stack.registryUrl()), Map.of(), Map.of());
    }

    /** Committed records only (read_committed), as CI and dashboards see them. */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(TestStack stack, String topic) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        KafkaSettings kafka = new KafkaSettings(stack.bootstrapServers(),
                Map.of(), Map.of(), Map.of());
        TopicReader.readAll(kafka.consumer(null, "it-reader"), topic, Duration.ofSeconds(60), out::add);
        return out;
    }

    private static void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    private static String read(File f) {
        try {
            return Files.readString(f.toPath());
        } catch (java.io.IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
