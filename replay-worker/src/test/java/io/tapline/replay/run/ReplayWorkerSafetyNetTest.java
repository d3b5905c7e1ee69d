package io.tapline.replay.run;

import io.tapline.avro.Case;
import io.tapline.avro.RunBounds;
import io.tapline.http.HttpUrl;
import io.tapline.logging.TaplineLogging;
import io.tapline.redaction.RedactionKey;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.RegistryStub;
import io.tapline.replay.Fixtures;
import io.tapline.replay.compare.CompareOptions;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.compare.ResponseComparator;
import io.tapline.replay.mock.MockMatcher;
import io.tapline.replay.mock.MockRegistry;
import io.tapline.serde.AvroSerdes;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.event.Level;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker over in-memory clients ({@link LogConsumer}, {@link TxProducer}) replaying against a candidate on Vert.x,
 * with a safety net of a few seconds: what a batch given up at it commits, and what is read again; what a worker
 * whose transaction can be neither committed nor aborted leaves behind; and how long a worker waits for the committed
 * offsets of the partitions assigned to it, and for those of the group once its own partitions are done.
 */
@Timeout(60)
class ReplayWorkerSafetyNetTest {

    private static final String RUN = "run-1";
    private static final RunTopics TOPICS = RunTopics.defaults();
    private static final TopicPartition P0 = new TopicPartition(TOPICS.cases(), 0);
    private static final TopicPartition P1 = new TopicPartition(TOPICS.cases(), 1);
    private static final String BODY = "{\"ok\":true}";

    private final Vertx vertx = Vertx.vertx();
    private RegistryStub registry;
    private HttpServer candidate;
    /** Requests the candidate received, by path. */
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    /** How long the candidate holds its first answer to a path; later answers come at once. */
    private final Map<String, Long> firstAnswerDelay = new ConcurrentHashMap<>();

    @BeforeEach
    void setUp() throws IOException {
        registry = new RegistryStub();
        candidate = vertx.createHttpServer().requestHandler(req -> {
            int n = hits.computeIfAbsent(req.path(), p -> new AtomicInteger()).incrementAndGet();
            long delay = n == 1 ? firstAnswerDelay.getOrDefault(req.path(), 0L) : 0;
            if (delay < 0) {
                return; // never answered
            }
            Runnable answer = () -> req.response().putHeader("content-type", "application/json").end(BODY);
            if (delay == 0) {
                answer.run();
            } else {
                vertx.setTimer(delay, t -> answer.run());
            }
        }).listen(0, "127.0.0.1").await();
    }

    @AfterEach
    void tearDown() {
        vertx.close().await();
        registry.close();
    }

    /**
     * One case at a time, a batch of five (a poll's worth), b1 polled after it: a0 answers at once, a1 outlasts the
     * batch's safety net and ends during the wait for it, and a2, a3 (partition 0) and b0 (partition 1) never start.
     * The batch commits a0 and a1 with offset 2 on partition 0 and 0 on partition 1 (none of its cases ended there);
     * b1's batch is not started, and both partitions are read again from those offsets. Before, the batch was
     * aborted and read again whole: a0 and a1 reached the candidate twice.
     */
    @Test
    void aBatchGivenUpAtItsSafetyNetCommitsTheCasesThatEndedAndReadsTheOthersAgain() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(2), 5);
        firstAnswerDelay.put("/a1", 3_600L); // safety net at 2.5 s (5 x 100 ms + 2 s), its wait until 4.6 s
        h.start();
        h.join(40_000);

        assertEquals(ReplayWorker.Outcome.RUN_COMPLETE, h.outcome());
        assertEquals(Map.of("/a0", 1, "/a1", 1, "/a2", 1, "/a3", 1, "/b0", 1, "/b1", 1), hitCounts(),
                "every case reached the candidate once");
        assertEquals(List.of("a0", "a1"), h.producer.transactions.get(0).caseIds());
        assertEquals(Map.of(P0, 2L, P1, 0L), h.producer.transactions.get(0).offsets(),
                "cut at the first case not replayed, per partition");
        assertEquals(List.of("a2", "a3", "b0", "b1"), h.producer.transactions.get(1).caseIds());
        assertEquals(Map.of(P0, 4L, P1, 2L), h.producer.transactions.get(1).offsets());
        assertEquals(2, h.producer.transactions.size());
    }

    /**
     * The batch given up is committed by the rebalance that takes partition 1 away (the worker keeps partition 0):
     * its cases that ended are committed, and partition 0, still this worker's, is read again from its cut; partition
     * 1 is read from its committed offset by the member it goes to (here this worker again, later).
     */
    @Test
    void aBatchGivenUpAndCommittedAtARebalanceReadsItsKeptPartitionAgainFromTheCut() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(2), 10);
        firstAnswerDelay.put("/a1", 3_600L);
        // the poll right after the batch started: the rebalance commits it, waiting for its safety net first
        h.consumer.afterPolls(1, () -> h.consumer.rebalance(List.of(P0)));
        h.start();
        await(() -> h.producer.transactions.stream().anyMatch(t -> t.offsets().getOrDefault(P0, 0L) == 4),
                "partition 0 committed to its bound");
        h.consumer.schedulePollTask(() -> h.consumer.rebalance(List.of(P0, P1)));
        h.join(40_000);

        assertEquals(ReplayWorker.Outcome.RUN_COMPLETE, h.outcome());
        assertEquals(Map.of("/a0", 1, "/a1", 1, "/a2", 1, "/a3", 1, "/b0", 1, "/b1", 1), hitCounts());
        assertEquals(List.of("a0", "a1"), h.producer.transactions.get(0).caseIds());
        assertEquals(Map.of(P0, 2L, P1, 0L), h.producer.transactions.get(0).offsets());
        assertEquals(List.of("a2", "a3"), h.producer.transactions.get(1).caseIds());
        assertEquals(List.of("b0", "b1"), h.producer.transactions.get(2).caseIds());
    }

    /** A case still in flight after the wait for it: the worker stops (exit 3) with nothing of the batch committed. */
    @Test
    void aCaseStillInFlightAfterTheWaitStopsTheWorkerWithNothingCommitted() throws Exception {
        Harness h = new Harness(Duration.ofMillis(500), 10);
        firstAnswerDelay.put("/a1", -1L);
        h.start();
        h.join(40_000);

        assertEquals(ReplayWorker.Outcome.FAILED, h.outcome());
        assertEquals(List.of(), h.producer.transactions);
        assertEquals(Map.of("/a0", 1, "/a1", 1), hitCounts(), "no case started after the safety net");
    }

    /**
     * The coordinator does not answer (a broker frozen or cut off): batch a0, a1's offsets are not taken within
     * max.block.ms, and its abort is not either, so the worker stops. The batch polled after it (a2, a3) was started
     * as the first one's transaction began: it is stopped too, a2, in flight, is waited for, a3 never starts, and
     * nothing of it is left to {@link ReplayWorker#close()} (what the process's shutdown calls, after Vert.x is
     * closed). Before, the worker ended at once with a2 in flight, a3 was sent to the candidate after the worker had
     * failed, and close() at the process's exit threw RejectedExecutionException from its closed event loop.
     */
    @Test
    void aWorkerThatCannotAbortItsTransactionStopsTheBatchReplayingMeanwhileAndLeavesNothingInFlight() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(10), 2);
        h.producer.sendOffsetsFailure = new org.apache.kafka.common.errors.TimeoutException(
                "SendOffsetsToTransaction timed out");
        h.producer.abortFailure = new org.apache.kafka.common.errors.TimeoutException("AbortTransaction timed out");
        // the offsets' send waits as a coordinator that does not answer makes it wait: here until a2 is in flight
        h.producer.sendOffsetsWaitsFor = () -> hits.containsKey("/a2");
        firstAnswerDelay.put("/a2", 1_500L);
        h.start();
        h.join(40_000);

        assertEquals(ReplayWorker.Outcome.FAILED, h.outcome());
        assertEquals(List.of(), h.producer.transactions);
        Thread.sleep(2_000); // past a2's answer: a3 would have started by now
        assertEquals(Map.of("/a0", 1, "/a1", 1, "/a2", 1), hitCounts(), "no case started after the worker failed");
        vertx.close().await();
        h.replay.close(); // as the process's shutdown does, after the run's end closed Vert.x
    }

    /**
     * Stopped (SIGTERM) while a1 is in flight, with a coordinator that does not answer the commit: a0 and a1 ended, but
     * their transaction never commits, so the worker fails and no line says they are committed. Before, the batch
     * logged "2 of the batch's 5 cases were replayed and are committed" before its commit was tried.
     */
    @Test
    void aStopWhoseCommitTimesOutDoesNotSayTheCasesAreCommitted() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(10), 5);
        h.producer.commitFailure = new org.apache.kafka.common.errors.TimeoutException("EndTxn timed out");
        String log = stoppedWhileA1IsInFlight(h);

        assertEquals(ReplayWorker.Outcome.FAILED, h.outcome());
        assertEquals(List.of(), h.producer.transactions);
        assertFalse(log.contains("are committed"), log);
        assertTrue(log.contains("transaction timed out 3 times"), log);
    }

    /**
     * A poll fails (the registry or the broker out of reach) while a batch is replaying, and the commit of that batch,
     * tried as the worker stops, times out too: the worker's failure line names what ended its loop, and another line
     * says the batch's commit failed. Before, the commit's failure, thrown from the loop's cleanup, took the place of
     * the poll's: the log named only the commit, with its stack trace.
     */
    @Test
    void aCommitThatFailsAsTheWorkerStopsOnAFailureDoesNotHideThatFailure() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(10), 2);
        h.producer.commitFailure = new org.apache.kafka.common.errors.TimeoutException("EndTxn timed out");
        firstAnswerDelay.put("/a1", 500L); // the batch a0, a1 is still replaying at the next poll
        h.consumer.afterPolls(1, () -> h.consumer.setPollException(new KafkaException("the registry is unreachable")));
        String log = logged(() -> {
            h.start();
            h.join(40_000);
        });

        assertEquals(ReplayWorker.Outcome.FAILED, h.outcome());
        assertEquals(List.of(), h.producer.transactions);
        assertTrue(log.contains("worker w1 of run run-1 failed: org.apache.kafka.common.KafkaException: the registry is"
                + " unreachable"), log);
        assertTrue(log.contains("committing the batch replayed before it stopped failed too"), log);
        assertTrue(log.contains("transaction timed out 3 times"), log);
    }

    /**
     * A rebalance takes partition 1 away while the batch a0, a1 replays, and the commit of that batch, made in the
     * rebalance listener, is refused: the producer was fenced (another worker took its transactional id). Kafka's
     * consumer wraps what a listener throws ("User rebalance callback throws an error"); the worker's line names the
     * listener's failure and stops as it does on a fenced producer. Before, the line named only the wrapper.
     */
    @Test
    void aCommitRefusedInTheRebalanceListenerIsTheWorkersReasonToStop() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(10), 2);
        h.producer.commitFailure = new ProducerFencedException("There is a newer producer with the same transactionalId");
        firstAnswerDelay.put("/a1", 500L);
        h.consumer.afterPolls(1, () -> h.consumer.rebalanceAsTheClientDoes(List.of(P0)));
        String log = logged(() -> {
            h.start();
            h.join(40_000);
        });

        assertEquals(ReplayWorker.Outcome.FAILED, h.outcome());
        assertEquals(List.of(), h.producer.transactions);
        assertTrue(log.contains("worker w1 of run run-1 stops: org.apache.kafka.common.errors.ProducerFencedException:"
                + " There is a newer producer"), log);
        assertFalse(log.contains("User rebalance callback throws an error"), log);
    }

    /** The same stop with a commit that succeeds: the line comes, after the commit. */
    @Test
    void aStopWhoseCommitSucceedsSaysTheCasesAreCommitted() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(10), 5);
        String log = stoppedWhileA1IsInFlight(h);

        assertEquals(ReplayWorker.Outcome.STOPPED, h.outcome());
        assertEquals(List.of("a0", "a1"), h.producer.transactions.get(0).caseIds());
        assertTrue(log.contains("stopping: 2 of the batch's 5 cases were replayed and are committed"), log);
    }

    /**
     * Every case committed, and the read of the group's offsets times out (a broker that does not answer): the worker
     * says it could not read them, not that a member's transaction is open, which it cannot know.
     */
    @Test
    void aTimedOutReadOfTheGroupsOffsetsIsNotCalledAnOpenTransaction() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(10), 10);
        h.consumer.committedTimeouts.set(1);
        String log = logged(() -> {
            h.start();
            h.join(40_000);
        });

        assertEquals(ReplayWorker.Outcome.RUN_COMPLETE, h.outcome());
        assertFalse(log.contains("transaction is open"), log);
        assertTrue(log.contains("could not be read"), log);
        assertTrue(log.contains("offsets timed out"), log);
    }

    /**
     * The committed offsets of the partitions a rebalance gives the worker cannot be read (a broker that does not
     * answer): the worker waits the producer's transaction.timeout.ms plus --kafka-timeout (here 1 s + 1 s), the
     * longest a dead member's open transaction holds them back, then stops (exit 3) in one line saying so, with
     * nothing of the partitions replayed or committed. Before, it read them again for ever, a warning per read, and
     * neither finished nor exited.
     */
    @Test
    void aWorkerThatCannotReadTheCommittedOffsetsOfItsNewPartitionsStopsOnceTheyCannotBeHeldBackLonger() throws Exception {
        // as --kafka.producer.transaction.timeout.ms=1000 gives it, as text
        Harness h = new Harness(Duration.ofSeconds(10), 10, Map.of("transaction.timeout.ms", "1000"),
                Duration.ofSeconds(1));
        h.consumer.assignedOffsetsReadableAt = Long.MAX_VALUE;
        long[] took = new long[1];
        String log = logged(() -> {
            long started = System.nanoTime();
            h.start();
            try {
                assertTimeoutPreemptively(Duration.ofSeconds(15), () -> h.thread.join(),
                        "the worker neither finished nor stopped");
            } finally {
                took[0] = System.nanoTime() - started;
                h.join(5_000); // closes a worker still waiting
            }
        });

        assertEquals(ReplayWorker.Outcome.FAILED, h.outcome());
        assertTrue(took[0] >= Duration.ofSeconds(2).toNanos(), "waited the whole limit: " + took[0] / 1_000_000 + " ms");
        assertEquals(Map.of(), hitCounts(), "nothing replayed");
        assertEquals(List.of(), h.producer.transactions, "nothing committed");
        String stop = log.lines().filter(l -> l.contains("worker w1 of run run-1 stops: the committed offsets of"))
                .findFirst().orElseThrow(() -> new AssertionError("no line says why the worker stops: " + log));
        assertTrue(stop.contains(P0.toString()) && stop.contains(P1.toString()), stop);
        assertTrue(stop.contains("could not be read in 2."), stop);
        assertTrue(stop.contains("(the producer's transaction.timeout.ms, 1.0 s, plus --kafka-timeout, 1.0 s)"), stop);
        assertTrue(stop.contains("nothing of these partitions was replayed, and a rerun resumes from the committed "
                + "offsets: reading the committed offsets timed out"), stop);
        assertFalse(log.contains("\tat "), "no stack trace: " + log);
    }

    /**
     * A dead member's open transaction holds the committed offsets of the partitions given to the worker back past
     * the producer's transaction.timeout.ms (5 s here), until the broker's check aborts it (0.5 s later): the worker
     * reads them again until then (a read is bounded at 5 s), within its limit (5 s + --kafka-timeout, 1 s), then takes
     * the partitions over and completes the run with every case replayed once.
     */
    @Test
    void aWorkerWaitsOutOffsetsHeldBackByADeadMembersTransaction() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(10), 10, Map.of("transaction.timeout.ms", 5_000),
                Duration.ofSeconds(1));
        h.consumer.assignedOffsetsReadableAt = System.nanoTime() + Duration.ofMillis(5_500).toNanos();
        String log = logged(() -> {
            h.start();
            h.join(40_000);
        });

        assertEquals(ReplayWorker.Outcome.RUN_COMPLETE, h.outcome(), log);
        assertEquals(Map.of("/a0", 1, "/a1", 1, "/a2", 1, "/a3", 1, "/b0", 1, "/b1", 1), hitCounts());
        assertTrue(log.contains("trying again (5.0 s of at most 6.0 s)"), log);
        assertFalse(log.contains("stops"), log);
    }

    /**
     * Every case replayed and committed, then the broker does not answer the completion check's reads of the group's
     * committed offsets: the worker reads them again (a read blocks up to its timeout, as a real consumer's does) for
     * the producer's transaction.timeout.ms plus --kafka-timeout (here 1 s + 1 s), the longest a dead member's open
     * transaction holds them back, then stops (exit 3) in one line saying so. Before, it read them again for ever, a
     * line every 5 s, and neither finished nor exited ({@code poll} does not throw while the broker is gone).
     */
    @Test
    void aWorkerWhoseGroupOffsetsGoUnansweredAfterItsOwnPartitionsAreDoneStopsAfterTheLimit() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(10), 10, Map.of("transaction.timeout.ms", "1000"),
                Duration.ofSeconds(1));
        h.consumer.groupOffsetsSilentUntil = Long.MAX_VALUE;
        String log = logged(() -> {
            h.start();
            try {
                assertTimeoutPreemptively(Duration.ofSeconds(15), () -> h.thread.join(),
                        "the worker neither finished nor stopped");
            } finally {
                h.join(5_000); // closes a worker still waiting
            }
        });

        assertEquals(ReplayWorker.Outcome.FAILED, h.outcome(), log);
        assertEquals(Map.of("/a0", 1, "/a1", 1, "/a2", 1, "/a3", 1, "/b0", 1, "/b1", 1), hitCounts());
        Map<TopicPartition, Long> committed = new HashMap<>();
        h.producer.transactions.forEach(t -> committed.putAll(t.offsets()));
        assertEquals(Map.of(P0, 4L, P1, 2L), committed, "everything replayed is committed");
        assertEquals(0, h.consumer.groupOffsetsAnswered.get());
        long firstRead = h.consumer.firstUnansweredGroupRead;
        assertTrue(h.consumer.lastGroupReadEnded - firstRead >= Duration.ofSeconds(2).toNanos(),
                "no answer for the whole limit");
        String stop = log.lines().filter(l -> l.contains("worker w1 of run run-1 stops: the group's committed offsets"))
                .findFirst().orElseThrow(() -> new AssertionError("no line says why the worker stops: " + log));
        assertTrue(stop.contains("ERROR"), stop);
        assertTrue(stop.contains("could not be read in 2."), stop);
        assertTrue(stop.contains("(the producer's transaction.timeout.ms, 1.0 s, plus --kafka-timeout, 1.0 s)"), stop);
        assertTrue(stop.contains("everything this worker replayed is committed, and a rerun resumes from the committed "
                + "offsets: reading the committed offsets timed out"), stop);
        assertEquals(1, log.lines().filter(l -> l.contains("stops")).count(), log);
        assertFalse(log.contains("\tat "), "no stack trace: " + log);
    }

    /**
     * The worker's own partition (0) is done and the member that owns partition 1 is still replaying it: the worker
     * checks the group's offsets, answered but short of the bounds, for far longer than its limit (5 s + 1 s), through
     * two spells of 5.5 s in which the broker does not answer (a read times out in each, 11 s unanswered in all, but
     * no spell reaches the limit); then that member dies, the group gives partition 1 to the worker, and it replays
     * it and completes the run, every case once.
     */
    @Test
    void aWorkerWhoseGroupIsStillReplayingKeepsWaitingPastTheLimitAndCompletes() throws Exception {
        Harness h = new Harness(Duration.ofSeconds(10), 10, Map.of("transaction.timeout.ms", 5_000),
                Duration.ofSeconds(1), List.of(P0));
        String log = logged(() -> {
            h.start();
            await(() -> h.consumer.groupOffsetsAnswered.get() >= 1, "partition 0 done, the group's offsets read");
            for (int spell = 0; spell < 2; spell++) {
                int answered = h.consumer.groupOffsetsAnswered.get();
                h.consumer.groupOffsetsSilentUntil = System.nanoTime() + Duration.ofMillis(5_500).toNanos();
                await(() -> h.consumer.groupOffsetsAnswered.get() > answered || !h.thread.isAlive(),
                        "an answer after the spell");
                assertTrue(h.thread.isAlive(), "the worker waits for the rest of the group: " + h.outcome());
            }
            assertEquals(null, h.outcome());
            h.consumer.schedulePollTask(() -> h.consumer.rebalance(List.of(P0, P1)));
            h.join(40_000);
        });

        assertEquals(ReplayWorker.Outcome.RUN_COMPLETE, h.outcome(), log);
        assertEquals(Map.of("/a0", 1, "/a1", 1, "/a2", 1, "/a3", 1, "/b0", 1, "/b1", 1), hitCounts());
        assertEquals(2, log.lines().filter(l -> l.contains("checking again (5.") && l.contains(" s of at most 6.0 s)"))
                .count(), log);
        assertFalse(log.contains("stops"), log);
    }

    /** Starts {@code h}, stops it (as SIGTERM does) while a1 is in flight, waits for its end; what the log said. */
    private String stoppedWhileA1IsInFlight(Harness h) throws Exception {
        firstAnswerDelay.put("/a1", 1_000L);
        return logged(() -> {
            h.start();
            await(() -> hits.containsKey("/a1"), "a1 in flight");
            h.replay.close();
            h.join(40_000);
        });
    }

    /** Something a test does, which may throw. */
    private interface Body {
        void run() throws Exception;
    }

    /** What the log said, as text at info, while {@code body} ran; the log goes back to standard error after it. */
    private static String logged(Body body) throws Exception {
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            TaplineLogging.flush(Duration.ofSeconds(10));
            TaplineLogging.output(System.err);
        }
        return logged.toString(StandardCharsets.UTF_8);
    }

    private Map<String, Integer> hitCounts() {
        Map<String, Integer> out = new TreeMap<>();
        hits.forEach((path, n) -> out.put(path, n.get()));
        return out;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting: " + what);
            Thread.sleep(20);
        }
    }

    /**
     * A worker of one thread over partition 0 (a0..a3) and partition 1 (b0, b1), one case in flight at a time, polling
     * up to {@code maxPollRecords} records.
     */
    private final class Harness {
        final LogConsumer consumer;
        final TxProducer producer;
        final Thread thread;
        final ReplayWorker replay;

        Harness(Duration awaitMargin, int maxPollRecords) {
            this(awaitMargin, maxPollRecords, Map.of(), Duration.ofSeconds(60));
        }

        /** With {@code --kafka.producer.*} overrides and a {@code --kafka-timeout}. */
        Harness(Duration awaitMargin, int maxPollRecords, Map<String, Object> producerOverrides, Duration kafkaTimeout) {
            this(awaitMargin, maxPollRecords, producerOverrides, kafkaTimeout, List.of(P0, P1));
        }

        /** The group gives the worker {@code assigned} first; the other partition is another member's. */
        Harness(Duration awaitMargin, int maxPollRecords, Map<String, Object> producerOverrides, Duration kafkaTimeout,
                List<TopicPartition> assigned) {
            consumer = new LogConsumer(maxPollRecords);
            producer = new TxProducer(consumer);
            Map<String, Object> registryConfig = Map.of(RegistryConfig.URL, registry.url());
            Serializer<Case> cases = AvroSerdes.serde(Case.class, registryConfig, false).serializer();
            consumer.append(P0, cases, "a0", "a1", "a2", "a3");
            consumer.append(P1, cases, "b0", "b1");
            consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
            consumer.schedulePollTask(() -> consumer.rebalance(assigned));
            RunBounds bounds = RunBounds.newBuilder().setCasesTopic(TOPICS.cases())
                    .setEndOffsets(Map.of("0", 4L, "1", 2L)).build();
            MockRegistry mocks = new MockRegistry();
            CaseReplayer replayer = new CaseReplayer(RUN, "w1",
                    new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + candidate.actualPort()), 8,
                            Duration.ofSeconds(30)),
                    mocks, new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE),
                    new ResponseComparator(CompareOptions.defaults(), IgnoreRules.none()),
                    ResultRedaction.of(RedactionKey.random()), Clock.systemUTC());
            // No broker: the scan for the latest versions fails at once and every version is replayed (one per case).
            KafkaSettings kafka = new KafkaSettings("", registryConfig, Map.of(), producerOverrides);
            // The budget says 100 ms a case, the candidate's client waits 30 s: the safety net can be reached.
            BatchBudget budget = new BatchBudget(1, 1, Propagation.Mode.REQUIRED, 0, Duration.ofMillis(100), awaitMargin);
            replay = new ReplayWorker(RUN, "w1", TOPICS, bounds, kafka, new AvroCodec(registryConfig), replayer, mocks,
                    vertx, new ConcurrencyGate(() -> 1), new RateLimiter(0), new Progress(), r -> { }, budget, 10,
                    kafkaTimeout);
            thread = new Thread(() -> replay.run(() -> consumer, () -> producer), "replay-worker-test");
        }

        void start() {
            thread.start();
        }

        void join(long millis) throws InterruptedException {
            thread.join(millis);
            if (thread.isAlive()) {
                replay.close();
                thread.join(millis);
            }
        }

        ReplayWorker.Outcome outcome() {
            return replay.outcome();
        }
    }

    /**
     * A group consumer over an in-memory log: each poll returns up to {@code maxPollRecords} records from the assigned,
     * unpaused partitions' positions, partition 0 first, as a broker would after a seek; rebalances come from poll
     * tasks, as MockConsumer's.
     */
    private static final class LogConsumer extends MockConsumer<byte[], byte[]> {
        private final Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> log = new ConcurrentHashMap<>();
        private final AtomicInteger polls = new AtomicInteger();
        private volatile int runAfterPolls = -1;
        private volatile Runnable afterPolls;
        private final int maxPollRecords;
        /**
         * How many reads of committed offsets with a timeout made outside a rebalance (the completion check) time out
         * (a broker that does not answer) before one answers.
         */
        final AtomicInteger committedTimeouts = new AtomicInteger();
        /**
         * When ({@link System#nanoTime}) the committed offsets read during a rebalance (the rebalance listener's) can be
         * read: before, a read waits for it up to its timeout and times out if it does not come, as a read_committed
         * consumer's read does while a transaction holds the offsets (or the broker does not answer). Long.MAX_VALUE:
         * never.
         */
        volatile long assignedOffsetsReadableAt = Long.MIN_VALUE;
        /**
         * Until when ({@link System#nanoTime}) reads of committed offsets with a timeout made outside a rebalance (the
         * completion check's) go unanswered: a read waits up to its timeout and times out if the time has not come, as
         * a real consumer's does while the broker does not answer. Long.MAX_VALUE: never answered.
         */
        volatile long groupOffsetsSilentUntil = Long.MIN_VALUE;
        /** How many of those reads were answered; when the first that was not began; when the last ended. */
        final AtomicInteger groupOffsetsAnswered = new AtomicInteger();
        volatile long firstUnansweredGroupRead;
        volatile long lastGroupReadEnded;
        /** True while poll runs its poll tasks (rebalances): the reads of committed offsets then are the listener's. */
        private volatile boolean rebalancing;

        LogConsumer(int maxPollRecords) {
            super("earliest");
            this.maxPollRecords = maxPollRecords;
        }

        void append(TopicPartition tp, Serializer<Case> cases, String... ids) {
            List<ConsumerRecord<byte[], byte[]>> records = log.computeIfAbsent(tp, k -> new CopyOnWriteArrayList<>());
            for (String id : ids) {
                Case c = Fixtures.caseOf(id, Fixtures.request("GET", "shop:8080", "/" + id, null, null),
                        Fixtures.json(200, BODY), List.of(), 1);
                records.add(new ConsumerRecord<>(tp.topic(), tp.partition(), records.size(),
                        id.getBytes(StandardCharsets.UTF_8), cases.serialize(tp.topic(), c)));
            }
        }

        /**
         * A rebalance to {@code assigned} as Kafka's consumer makes it: what the listener throws (but a wakeup or an
         * interrupt) is wrapped, and poll throws that ({@code ConsumerCoordinator.onJoinPrepare}).
         */
        void rebalanceAsTheClientDoes(List<TopicPartition> assigned) {
            try {
                rebalance(assigned);
            } catch (WakeupException | org.apache.kafka.common.errors.InterruptException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new KafkaException("User rebalance callback throws an error", e);
            }
        }

        /** Runs {@code task} in the poll after the next {@code polls} that returned records. */
        void afterPolls(int polls, Runnable task) {
            runAfterPolls = polls;
            afterPolls = task;
        }

        @Override
        public Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions, Duration timeout) {
            if (rebalancing) {
                awaitReadable(timeout, assignedOffsetsReadableAt);
            } else if (committedTimeouts.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new org.apache.kafka.common.errors.TimeoutException("reading the committed offsets timed out");
            } else {
                long started = System.nanoTime();
                try {
                    awaitReadable(timeout, groupOffsetsSilentUntil);
                } catch (org.apache.kafka.common.errors.TimeoutException e) {
                    if (firstUnansweredGroupRead == 0) {
                        firstUnansweredGroupRead = started;
                    }
                    throw e;
                } finally {
                    lastGroupReadEnded = System.nanoTime();
                }
                groupOffsetsAnswered.incrementAndGet();
            }
            return super.committed(partitions, timeout);
        }

        /** As a read with the consumer's default.api.timeout.ms, here 200 ms. */
        @Override
        public Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions) {
            if (rebalancing) {
                awaitReadable(Duration.ofMillis(200), assignedOffsetsReadableAt);
            }
            return super.committed(partitions);
        }

        /** Waits until {@code readable} ({@link System#nanoTime}), or times out at {@code timeout}. */
        private static void awaitReadable(Duration timeout, long readable) {
            long deadline = System.nanoTime() + timeout.toNanos();
            try {
                while (System.nanoTime() < Math.min(deadline, readable)) {
                    Thread.sleep(5);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new org.apache.kafka.common.errors.InterruptException(e);
            }
            if (System.nanoTime() < readable) {
                throw new org.apache.kafka.common.errors.TimeoutException("reading the committed offsets timed out");
            }
        }

        @Override
        public ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
            if (runAfterPolls == 0) {
                runAfterPolls = -1;
                schedulePollTask(afterPolls);
            }
            rebalancing = true;
            try {
                super.poll(Duration.ZERO); // poll tasks (rebalances), a wakeup, positions of new partitions
            } finally {
                rebalancing = false;
            }
            Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> out = new LinkedHashMap<>();
            Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
            List<TopicPartition> owned = new ArrayList<>(assignment());
            owned.sort(Comparator.comparingInt(TopicPartition::partition));
            int left = maxPollRecords;
            for (TopicPartition tp : owned) {
                if (paused().contains(tp)) {
                    continue;
                }
                int from = (int) position(tp);
                List<ConsumerRecord<byte[], byte[]>> partition = log.getOrDefault(tp, List.of());
                int to = Math.min(partition.size(), from + left);
                if (from < to) {
                    out.put(tp, new ArrayList<>(partition.subList(from, to)));
                    seek(tp, to);
                    next.put(tp, new OffsetAndMetadata(to));
                    left -= to - from;
                }
            }
            if (out.isEmpty()) {
                try {
                    Thread.sleep(Math.min(timeout.toMillis(), 20));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else if (runAfterPolls > 0) {
                runAfterPolls--;
            }
            return new ConsumerRecords<>(out, next);
        }
    }

    /** One committed transaction: the case ids of its results and its offsets. */
    private record Transaction(List<String> caseIds, Map<TopicPartition, Long> offsets) {
    }

    /**
     * A transactional producer that keeps what each committed transaction held and, as the group coordinator would,
     * makes its offsets the consumer's committed ones (the worker reads them to know the run is complete).
     */
    private static final class TxProducer extends MockProducer<byte[], byte[]> {
        private final MockConsumer<byte[], byte[]> consumer;
        final List<Transaction> transactions = new CopyOnWriteArrayList<>();

        /** Thrown by every sendOffsetsToTransaction, abortTransaction, when set: a coordinator that does not answer. */
        volatile RuntimeException sendOffsetsFailure;
        volatile RuntimeException abortFailure;
        /** Thrown by every commitTransaction, when set: a coordinator that does not answer. */
        volatile RuntimeException commitFailure;
        /** What a failing sendOffsetsToTransaction waits for (up to 10 s) before it throws. */
        volatile BooleanSupplier sendOffsetsWaitsFor = () -> true;

        TxProducer(MockConsumer<byte[], byte[]> consumer) {
            super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
            this.consumer = consumer;
        }

        @Override
        public void sendOffsetsToTransaction(Map<TopicPartition, OffsetAndMetadata> offsets,
                                             ConsumerGroupMetadata groupMetadata) {
            if (sendOffsetsFailure != null) {
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (!sendOffsetsWaitsFor.getAsBoolean() && System.nanoTime() < deadline) {
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                throw sendOffsetsFailure;
            }
            super.sendOffsetsToTransaction(offsets, groupMetadata);
        }

        @Override
        public void abortTransaction() {
            if (abortFailure != null) {
                throw abortFailure;
            }
            super.abortTransaction();
        }

        @Override
        public void commitTransaction() {
            if (commitFailure != null) {
                throw commitFailure;
            }
            List<String> ids = new ArrayList<>();
            for (ProducerRecord<byte[], byte[]> r : uncommittedRecords()) {
                if (r.topic().equals(TOPICS.results())) {
                    String key = new String(r.key(), StandardCharsets.UTF_8);
                    ids.add(key.substring(key.indexOf('/') + 1));
                }
            }
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            uncommittedOffsets().values().forEach(offsets::putAll);
            super.commitTransaction();
            Map<TopicPartition, Long> plain = new HashMap<>();
            offsets.forEach((tp, om) -> plain.put(tp, om.offset()));
            transactions.add(new Transaction(ids, plain));
            consumer.commitSync(offsets);
        }
    }
}
