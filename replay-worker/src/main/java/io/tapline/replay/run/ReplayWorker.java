package io.tapline.replay.run;

import io.tapline.avro.Case;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunBounds;
import io.tapline.logging.PeriodicWarning;
import io.tapline.replay.mock.MockRegistry;
import io.tapline.topics.DeadLetters;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * One member of a run's consumer group. Owns one consumer and one transactional producer on one thread.
 * Each poll's cases (only those below the run's bounds) are replayed, then their results, any dead letters and
 * the consumed offsets are committed in one transaction: a worker killed mid-batch leaves an aborted transaction
 * and uncommitted offsets, and the member that takes over its partitions replays those cases again, so each case
 * has exactly one committed result. The worker stays in the group after its own partitions are done (so it can
 * take over from a member that dies) until the group's committed offsets reach the bounds on every partition.
 */
public final class ReplayWorker implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(ReplayWorker.class);
    /**
     * Undecodable cases are warned of at once, then at most every 10 s with their count: a topic of another format
     * would otherwise log a line per record (each is dead-lettered and gets a SKIPPED result all the same).
     */
    private final PeriodicWarning undecodableWarning = new PeriodicWarning(java.time.Duration.ofSeconds(10));
    private static final int MAX_CONSECUTIVE_TX_FAILURES = 3;
    /** Attempts at committing one transaction that times out (each waits up to the producer's max.block.ms). */
    private static final int COMMIT_ATTEMPTS = 3;
    private static final Duration POLL = Duration.ofMillis(200);
    /**
     * How often a worker whose own partitions are done checks the group's offsets (the run may be complete). The
     * run cannot be complete while this worker's own partitions are not, so it does not check then.
     */
    private static final Duration IDLE_COMPLETION_CHECK = Duration.ofMillis(200);
    /** Bound on one read of the group's offsets; kept short so the worker goes back to polling (and rebalancing). */
    private static final Duration OFFSETS_CHECK = Duration.ofSeconds(5);
    /**
     * Bound on closing the producer when the worker stops: well within the 30 s a process is given to stop its workers
     * after SIGTERM.
     */
    static final Duration PRODUCER_CLOSE = Duration.ofSeconds(5);
    /** Bound on the group consumer's close (leaving the group) when the worker stops: with the producer's, within the 30 s. */
    static final Duration CONSUMER_CLOSE = Duration.ofSeconds(5);
    /** Bound on scanning newly assigned partitions for the latest case versions (runs inside poll: below max.poll.interval.ms). */
    private static final Duration SCAN_TIMEOUT = Duration.ofMinutes(2);

    /** How the worker ended. */
    public enum Outcome { RUN_COMPLETE, STOPPED, FAILED }

    private final String runId;
    private final String workerId;
    private final RunTopics topics;
    private final RunBounds bounds;
    private final KafkaSettings kafka;
    private final AvroCodec codec;
    private final CaseReplayer replayer;
    private final MockRegistry registry;
    private final Vertx vertx;
    private Context context;
    private final ConcurrencyGate gate;
    private final RateLimiter rate;
    private final Progress progress;
    private final ResultListener listener;
    private final BatchBudget budget;
    private final int batchSize;
    /** {@code --propagation auto}: cases in flight while calls without trace context came are replayed again, alone. */
    private final boolean redoAmbiguous;
    /** The producer's {@code transaction.timeout.ms} and {@code --kafka-timeout}: the parts of {@link #offsetsWait}. */
    private final Duration transactionTimeout;
    private final Duration kafkaTimeout;
    /**
     * How long the group's committed offsets may go unread before the worker stops ({@link #offsetsWait(Duration,
     * Duration)}): those of newly assigned partitions, and those the completion check reads.
     */
    private final Duration offsetsWait;

    private volatile boolean closed;
    private volatile Outcome outcome;
    private volatile boolean assigned;
    /** Whether this worker owned the run's first partition when it saw the run complete (see {@link #heldFirstPartition}). */
    private volatile boolean heldFirstPartition;
    /** Set when the loop ends: partitions revoked by leaving the group keep their progress totals. */
    private boolean leaving;
    /** Volatile: {@link #close()} reads it from another thread to wake the consumer up. */
    private volatile Consumer<byte[], byte[]> consumer;
    private Producer<byte[], byte[]> producerRef;
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    /** Per assigned partition: which offsets between its committed offset and the bound are the latest of their key. */
    private final Map<TopicPartition, LatestVersions> latest = new HashMap<>();
    /** The batch polled last, replaying; committed after the next poll (on the worker thread only). */
    private Batch pending;
    /** Set when the producer was fenced or refused: nothing more may be committed. */
    private boolean fatal;
    /**
     * Set by the rebalance listener (on the worker thread, inside poll) when the committed offsets of the partitions
     * assigned to the worker could not be read within {@link #offsetsWait}: why the worker stops, said once poll
     * returns.
     */
    private String assignmentGivenUp;
    /**
     * What the rebalance listener's commit of the pending batch threw (a fenced producer, a commit that timed out). The
     * consumer wraps it ("User rebalance callback throws an error") and poll throws that: the worker stops on this.
     */
    private RuntimeException listenerFailure;
    /**
     * While the completion check's reads of the group's committed offsets go unanswered (they time out): when
     * ({@link System#nanoTime}) the first of them since the last one answered began. Reset by an answer, and when the
     * worker has cases of its own again (it committed, or was given partitions: the broker answered).
     */
    private boolean groupOffsetsUnanswered;
    private long groupOffsetsUnansweredSince;
    /** The batches replaying now: {@link #close()} stops them (no more of their cases start). */
    private final Set<BatchPump<Case, Tagged>> replayingNow = ConcurrentHashMap.newKeySet();

    /** Called for every committed result (metrics, progress). */
    public interface ResultListener {
        void committed(ReplayResult result);
    }

    public ReplayWorker(String runId, String workerId, RunTopics topics, RunBounds bounds, KafkaSettings kafka,
                        AvroCodec codec, CaseReplayer replayer, MockRegistry registry, Vertx vertx,
                        ConcurrencyGate gate, RateLimiter rate, Progress progress, ResultListener listener,
                        BatchBudget budget, int batchSize, Duration kafkaTimeout) {
        this.runId = runId;
        this.workerId = workerId;
        this.topics = topics;
        this.bounds = bounds;
        this.kafka = kafka;
        this.codec = codec;
        this.replayer = replayer;
        this.registry = registry;
        this.vertx = vertx;
        this.gate = gate;
        this.rate = rate;
        this.progress = progress;
        this.listener = listener;
        this.budget = budget;
        this.batchSize = batchSize;
        this.redoAmbiguous = budget.propagation() == Propagation.Mode.AUTO;
        this.transactionTimeout = kafka.transactionTimeout();
        this.kafkaTimeout = kafkaTimeout;
        this.offsetsWait = offsetsWait(transactionTimeout, kafkaTimeout);
    }

    /**
     * How long a worker tries to read the group's committed offsets before it stops: the replay producer's
     * {@code transaction.timeout.ms} plus {@code --kafka-timeout}; the same for the offsets of partitions assigned to
     * it and for the completion check's read of every partition's. A member that died while committing leaves its
     * partitions' offsets in an open transaction, unreadable (read_committed) until the broker aborts it, at the latest
     * {@code transaction.timeout.ms} after it began, which was before the partitions came to this worker, or before the
     * first completion check's read it held back ended (the members of a run are started with the same options); the
     * broker finds such a transaction at its next check (every 10 s by default), then writes the abort, and the offsets
     * are read: {@code --kafka-timeout}, the time the worker gives any read of Kafka (60 s by default), covers those
     * (and the one read, up to 5 s, during which the transaction may have begun). With the defaults 90 s: at
     * assignment, together with the scan that follows (up to 2 min), it stays within max.poll.interval.ms (at least
     * 5 min unless set lower), so the group keeps the worker while it waits. Longer than that, the offsets are not held
     * back by a dead member's transaction: the broker does not answer.
     */
    static Duration offsetsWait(Duration transactionTimeout, Duration kafkaTimeout) {
        return transactionTimeout.plus(kafkaTimeout);
    }

    public Outcome outcome() {
        return outcome;
    }

    /** True once the worker has joined the group and got its first assignment. */
    public boolean ready() {
        return assigned;
    }

    /**
     * True when the worker ended with {@link Outcome#RUN_COMPLETE} owning the run's first partition (the lowest
     * partition number of its bounds, 0): the group gives every partition to exactly one member, so of the workers that
     * see the run complete, the one that owns it then is the one that writes the run's summary.
     */
    public boolean heldFirstPartition() {
        return heldFirstPartition;
    }

    /** The run's first partition of the cases topic: the lowest partition number of its bounds. */
    static TopicPartition firstPartition(String casesTopic, RunBounds bounds) {
        int first = bounds.getEndOffsets().keySet().stream().mapToInt(Integer::parseInt).min().orElse(0);
        return new TopicPartition(casesTopic, first);
    }

    /**
     * Asks the worker to stop: no more cases start, those in flight are waited for, their results are committed with
     * the offsets of exactly what was replayed, and the worker leaves the group.
     */
    public void close() {
        closed = true;
        replayingNow.forEach(BatchPump::stop);
        Consumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    private long bound(TopicPartition tp) {
        Long b = bounds.getEndOffsets().get(Integer.toString(tp.partition()));
        return b == null ? 0 : b;
    }

    @Override
    public void run() {
        Map<String, Object> consumerProps = kafka.consumer(RunTopics.groupId(runId), "tapline-replay-" + workerId);
        // One poll is one batch and one transaction: fewer, larger transactions cost the broker far less per case.
        consumerProps.putIfAbsent("max.poll.records", batchSize);
        // The worker polls again once a batch is replayed: allow a whole batch whose every case times out, one at a
        // time if propagation may fall back, at the process's rate, before the group considers it stuck (a dead
        // worker is still found by session.timeout.ms).
        consumerProps.putIfAbsent("max.poll.interval.ms", budget.maxPollIntervalMs(batchSize));
        // One transactional id per worker instance; zombies are fenced by the group generation (KIP-447), or by member
        // epoch and member id with group.protocol=consumer (KIP-848).
        String txId = "tapline-replay-" + runId + "-" + workerId;
        run(() -> new KafkaConsumer<>(consumerProps),
                () -> new KafkaProducer<>(kafka.producer(txId, "tapline-replay-" + workerId)));
    }

    /**
     * Runs the worker with the group consumer and the transactional producer the suppliers make (the consumer first),
     * and closes them when it ends.
     */
    void run(Supplier<Consumer<byte[], byte[]>> consumers, Supplier<Producer<byte[], byte[]>> producers) {
        // Called on this worker's own thread, so each worker gets an event-loop context of its own.
        context = vertx.getOrCreateContext();
        try {
            Consumer<byte[], byte[]> c = consumers.get();
            try {
                Producer<byte[], byte[]> producer = producers.get();
                try {
                    consumer = c;
                    producerRef = producer;
                    producer.initTransactions();
                    c.subscribe(List.of(topics.cases()), new Rebalance());
                    try {
                        outcome = loop(c, producer);
                    } catch (KafkaException e) {
                        throw listenerFailure != null && e.getCause() == listenerFailure ? listenerFailure : e;
                    }
                } finally {
                    closeProducer(producer); // before the consumer leaves the group
                }
            } finally {
                closeConsumer(c); // bounded: not the 30 s of close()
            }
        } catch (WakeupException e) {
            outcome = Outcome.STOPPED;
        } catch (ProducerFencedException | InvalidProducerEpochException | OutOfOrderSequenceException
                 | AuthorizationException | UnsupportedVersionException e) {
            log.error("worker {} of run {} stops: {}", workerId, runId, e.toString());
            outcome = Outcome.FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = Outcome.STOPPED;
        } catch (KafkaException e) {
            log.error("worker {} of run {} failed: {}", workerId, runId, e.toString());
            outcome = Outcome.FAILED;
        } catch (RuntimeException e) {
            log.error("worker {} of run {} failed", workerId, runId, e);
            outcome = Outcome.FAILED;
        }
    }

    /**
     * Closes the group consumer, waiting up to {@link #CONSUMER_CLOSE} for it to leave the group. Its {@code close()}
     * waits up to 30 s for the requests it still has at the group coordinator, a JoinGroup or SyncGroup of a rebalance
     * under way included, which would take the whole of the 30 s the process gives its workers after SIGTERM. Nothing
     * is committed by the consumer (the batches' offsets are committed in their transactions, before this), so a close
     * given up loses no case: a member that did not leave is removed at its session timeout, and whoever then owns its
     * partitions starts at the committed offsets. A close that fails is logged, not thrown, as the producer's is.
     */
    static void closeConsumer(Consumer<?, ?> consumer) {
        try {
            consumer.close(CloseOptions.timeout(CONSUMER_CLOSE));
        } catch (RuntimeException e) {
            // in a finally: a failure here must not take the place of what ended the loop (its outcome is the run's)
            log.warn("closing the cases consumer failed: {}", e.toString());
        }
    }

    /**
     * Closes the producer, waiting up to {@link #PRODUCER_CLOSE} for what it still sends. Its {@code close()} has no
     * bound: it first ends the transaction still open (a commit that timed out, after which the worker stops, or an
     * abort), retrying for as long as the broker is out of reach, and the worker's thread, and so the process, did not
     * end meanwhile. What is left at the bound is dropped: the broker aborts the transaction at its timeout (or the
     * next producer with the worker's transactional id does), and the run resumes from the committed offsets. A close
     * that fails is logged, not thrown, so that it does not replace the exception that ended the worker's loop.
     */
    static void closeProducer(Producer<?, ?> producer) {
        try {
            producer.close(PRODUCER_CLOSE);
        } catch (RuntimeException e) {
            // in a finally: a failure here must not take the place of what ended the loop (its outcome is the run's)
            log.warn("closing the results producer failed: {}", e.toString());
        }
    }

    /**
     * One poll's cases, replaying on the event loop, with what its transaction will commit: the dead letters and
     * tombstones found while decoding, and the offsets consumed up to that poll (capped at the bounds).
     */
    private final class Batch {
        final List<ConsumerRecord<byte[], byte[]>> records;
        final Map<TopicPartition, OffsetAndMetadata> offsets;
        final List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        final List<Case> cases;
        final Set<String> retired;
        /** Case id to why its latest version could not be decoded. */
        final Map<String, String> undecodable = new LinkedHashMap<>();
        /** The record each case, retired case and undecodable case of the batch was taken from (the last of its id). */
        final Map<String, ConsumerRecord<byte[], byte[]>> source = new HashMap<>();
        /** The record each dead letter of {@link #out} was made of. */
        final Map<ProducerRecord<byte[], byte[]>, ConsumerRecord<byte[], byte[]>> deadLetterSource = new IdentityHashMap<>();
        /** Null until started. */
        BatchPump<Case, Tagged> replaying;
        /**
         * Set by {@link #keepFirst}: per partition, the offset of the first case not replayed, from which the partition
         * is read again once the rest of the batch is committed. Empty while the batch keeps all its cases.
         */
        Map<TopicPartition, Long> readAgainFrom = Map.of();
        /** Set by {@link #keepFirst}: how many cases the batch had before it was cut. */
        int polledCases;

        Batch(List<ConsumerRecord<byte[], byte[]>> records, Map<TopicPartition, OffsetAndMetadata> offsets) {
            this.records = records;
            this.offsets = offsets;
            Map<String, Case> byId = new LinkedHashMap<>();
            Set<String> gone = new LinkedHashSet<>();
            decode(records, byId, gone, undecodable, out, source, deadLetterSource);
            this.cases = new ArrayList<>(byId.values());
            this.retired = gone;
        }

        void start() {
            replaying = ReplayWorker.this.start(cases);
        }

        /** The partition a case (or an undecodable one) of the batch was read from (progress per partition). */
        TopicPartition partitionOf(String caseId) {
            return partition(source.get(caseId));
        }

        /**
         * Keeps the first {@code replayed} cases of the batch (those that ended before a stop or its safety net gave it
         * up) and what lies before the first of the others in each partition: the offsets committed become those of the
         * first record of a case not replayed, per partition ({@link #readAgainFrom}), and retired cases and dead
         * letters at or after it are left to whoever reads it again.
         */
        void keepFirst(int replayed) {
            polledCases = cases.size();
            Map<TopicPartition, Long> cut = new HashMap<>();
            for (Case k : cases.subList(replayed, cases.size())) {
                ConsumerRecord<byte[], byte[]> r = source.get(k.getCaseId());
                cut.merge(partition(r), r.offset(), Math::min);
            }
            cases.subList(replayed, cases.size()).clear();
            Predicate<ConsumerRecord<byte[], byte[]>> beyond = r -> {
                Long at = cut.get(partition(r));
                return at != null && r.offset() >= at;
            };
            retired.removeIf(id -> beyond.test(source.get(id)));
            undecodable.keySet().removeIf(id -> beyond.test(source.get(id)));
            out.removeIf(dead -> beyond.test(deadLetterSource.get(dead)));
            cut.forEach((tp, offset) -> offsets.put(tp, new OffsetAndMetadata(offset)));
            readAgainFrom = cut;
        }
    }

    private static TopicPartition partition(ConsumerRecord<?, ?> r) {
        return new TopicPartition(r.topic(), r.partition());
    }

    private Outcome loop(Consumer<byte[], byte[]> c, Producer<byte[], byte[]> producer) throws InterruptedException {
        int txFailures = 0;
        long nextCompletionCheck = 0;
        // Batch N+1 is polled and decoded while batch N replays, and replays while batch N's transaction commits,
        // so the candidate is not idle during commits. It starts only once every case of batch N (including cases
        // replayed again after a propagation fallback) is done: a case id can be in both batches (an updated
        // sample not yet compacted away), and one case is never in flight twice. A rebalance commits the pending
        // batch first (Rebalance.onPartitionsRevoked).
        Throwable ended = null;
        try {
            while (!closed) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    // Don't wait for more cases while a batch is pending: commit it as soon as it is replayed.
                    records = c.poll(pending == null ? POLL : Duration.ZERO);
                } catch (WakeupException e) {
                    if (closed) {
                        return Outcome.STOPPED;
                    }
                    throw e;
                }
                if (assignmentGivenUp != null) {
                    // Said here, not thrown by the listener: the consumer would log that as a listener's failure, with
                    // its stack trace, and wrap it. Nothing of the partitions it was given was replayed or committed,
                    // and the records this poll returned (of any partition) are dropped uncommitted, so whoever reads
                    // those partitions next reads them; a batch still pending, of partitions kept, is committed as the
                    // loop ends.
                    log.error(assignmentGivenUp);
                    return Outcome.FAILED;
                }
                // Only the latest version of each case id below the bounds is replayed (or, a tombstone, retires the
                // case); older versions are skipped undecoded, and their offsets are committed with the batch all the same.
                List<ConsumerRecord<byte[], byte[]>> inBounds = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() < bound(tp) && isLatest(tp, r.offset())) {
                        inBounds.add(r);
                    }
                }
                Map<TopicPartition, OffsetAndMetadata> offsets = offsetsToCommit(c);
                Batch next = inBounds.isEmpty() && offsets.isEmpty() ? null : new Batch(inBounds, offsets);
                Batch committing = pending;
                pending = null;
                if (committing == null) {
                    if (next != null && !closed) {
                        next.start();
                    }
                    pending = next;
                } else {
                    switch (commit(producer, c, committing, next)) {
                        case DONE -> {
                            pending = next;
                            txFailures = 0;
                        }
                        // next was dropped, and is read again: a batch given up before any of its cases ended counts
                        // as a failure, as it did when such a batch was aborted
                        case CUT -> txFailures = committing.cases.isEmpty() ? txFailures + 1 : 0;
                        case ABORTED -> txFailures++;
                    }
                    if (txFailures >= MAX_CONSECUTIVE_TX_FAILURES) {
                        log.error("worker {}: {} consecutive batches aborted, or given up with none of their cases "
                                + "replayed, stopping", workerId, txFailures);
                        return Outcome.FAILED;
                    }
                }
                pauseFinished(c);
                long now = System.nanoTime();
                // Check at once when this worker's partitions became done (the run may be complete now), then every
                // IDLE_COMPLETION_CHECK while it waits for the other members.
                boolean idle = pending == null && allFinished(c);
                if (!idle) {
                    groupOffsetsUnanswered = false;
                } else if (now >= nextCompletionCheck || committing != null) {
                    nextCompletionCheck = now + IDLE_COMPLETION_CHECK.toNanos();
                    switch (runComplete(c)) {
                        case COMPLETE -> {
                            heldFirstPartition = c.assignment().contains(firstPartition(topics.cases(), bounds));
                            return Outcome.RUN_COMPLETE;
                        }
                        // said by runComplete; nothing is pending (idle): everything replayed here is committed
                        case NO_ANSWER -> {
                            return Outcome.FAILED;
                        }
                        case NOT_YET -> { }
                    }
                }
            }
            return Outcome.STOPPED;
        } catch (RuntimeException | InterruptedException e) {
            ended = e;
            throw e;
        } finally {
            leaving = true;
            // Stopping (close() or an error): commit what was replayed, as close() promises.
            Batch last = pending;
            pending = null;
            if (last != null && !fatal) {
                commitAsItEnds(producer, c, last, ended);
            }
        }
    }

    /**
     * Commits the batch still pending as the loop ends. When the loop ended on a failure ({@code ended}), a failure of
     * this commit (a coordinator that does not answer it either) is said and added to it, not thrown in its place: what
     * ended the loop is the worker's reason to stop.
     */
    private void commitAsItEnds(Producer<byte[], byte[]> producer, Consumer<byte[], byte[]> c, Batch last,
                                Throwable ended) throws InterruptedException {
        try {
            commit(producer, c, last, null);
        } catch (RuntimeException e) {
            if (ended == null) {
                throw e;
            }
            log.error("worker {} of run {}: committing the batch replayed before it stopped failed too (a rerun "
                    + "replays its cases): {}", workerId, runId, e.toString());
            ended.addSuppressed(e);
        }
    }

    /** What {@link #commit} did with a batch. */
    private enum Committed {
        /**
         * Its results, dead letters, tombstones and offsets are committed, and the batch polled after it started (or,
         * never started as the worker stopped, it is left uncommitted).
         */
        DONE,
        /**
         * Given up (its safety net, a stop): what it replayed is committed, up to its first case not replayed per
         * partition, and the consumer reads the rest again from there; the batch polled after it, not started, is
         * dropped and read again too.
         */
        CUT,
        /** Its transaction failed and was aborted: it is read again, and the batch polled after it is dropped. */
        ABORTED
    }

    /**
     * Waits for the batch's cases, starts {@code next} (the batch polled after it, if any), then commits the batch's
     * results, dead letters, tombstones and offsets in one transaction. A batch given up (its safety net, a stop)
     * commits the cases that ended, cut per partition at its first case not replayed ({@link #finish}); {@code next}
     * is not started, and once the transaction is committed the consumer is sought back to that case in every partition
     * it still owns, and to {@code next}'s first records, so they are read again. On a retriable failure aborts, drops
     * {@code next}'s results, rewinds the consumer to the first offsets of both. A batch that was never started
     * (polled as the worker stopped) is left uncommitted.
     */
    private Committed commit(Producer<byte[], byte[]> producer, Consumer<byte[], byte[]> c, Batch batch,
                             Batch next) throws InterruptedException {
        try {
            return commitOrAbort(producer, c, batch, next);
        } catch (RuntimeException e) {
            // The worker stops on it: a transaction neither committed nor aborted (a coordinator that does not answer
            // within max.block.ms: a broker frozen or cut off), a fenced producer. next started replaying as this
            // transaction began: none of its cases starts any more, and those in flight are waited for, so the worker
            // does not end with cases still being sent to the candidate, nor leave their batch to close(), which the
            // process's shutdown calls after Vert.x is closed. Nothing of next is committed; a rerun replays it.
            stopQuietly(next, e);
            throw e;
        }
    }

    private Committed commitOrAbort(Producer<byte[], byte[]> producer, Consumer<byte[], byte[]> c, Batch batch,
                                    Batch next) throws InterruptedException {
        if (batch.replaying == null) {
            // Polled and not started because the worker is stopping. Nothing of it is committed: its offsets go past
            // the cases the batch before it may have left unreplayed in the same partitions (finish), and committing
            // them after that batch's made the run skip those cases. Whoever reads its partitions next replays it.
            log.info("worker {} of run {}: stopping: the {} cases of a batch polled and not started are left to the "
                    + "next worker", workerId, runId, batch.cases.size());
            return Committed.DONE;
        }
        List<ReplayResult> results;
        boolean cut;
        try {
            results = finish(batch);
            cut = !batch.readAgainFrom.isEmpty();
            if (next != null && !closed && !cut) {
                next.start(); // replays while this transaction commits
            }
            producer.beginTransaction();
            for (ProducerRecord<byte[], byte[]> r : batch.out) {
                producer.send(r);
            }
            producer.sendOffsetsToTransaction(batch.offsets, c.groupMetadata());
            commitTransaction(producer);
        } catch (ProducerFencedException | InvalidProducerEpochException | OutOfOrderSequenceException
                 | AuthorizationException | UnsupportedVersionException e) {
            fatal = true;
            throw e;
        } catch (KafkaException | ExecutionException e) {
            log.warn("worker {}: batch transaction failed, replaying it again: {}", workerId, e.toString());
            abortQuietly(producer);
            List<ConsumerRecord<byte[], byte[]>> again = new ArrayList<>(batch.records);
            if (next != null) {
                awaitQuietly(next);
                again.addAll(next.records);
            }
            rewind(c, again);
            return Committed.ABORTED;
        }
        batch.offsets.forEach((tp, om) -> committed.merge(tp, om.offset(), Math::max));
        for (ReplayResult r : results) {
            progress.record(r.getVerdict(), batch.partitionOf(r.getCaseId()));
            listener.committed(r);
        }
        if (!cut) {
            return Committed.DONE;
        }
        if (closed) {
            log.info("worker {} of run {}: stopping: {} of the batch's {} cases were replayed and are committed, "
                    + "the rest is left to the next worker", workerId, runId, batch.cases.size(), batch.polledCases);
        } else {
            log.info("worker {} of run {}: {} of the batch's {} cases were replayed and are committed, the rest "
                    + "is read again", workerId, runId, batch.cases.size(), batch.polledCases);
        }
        // Before any poll (a rebalance runs in one): the cases after the cut are read again from it, and next, whose
        // records follow them, from its own first records.
        Map<TopicPartition, Long> from = new HashMap<>(batch.readAgainFrom);
        if (next != null) {
            next.records.forEach(r -> from.merge(partition(r), r.offset(), Math::min));
            log.info("worker {} of run {}: the {} cases of the batch polled after it are read again", workerId, runId,
                    next.cases.size());
        }
        seek(c, from);
        return Committed.CUT;
    }

    /**
     * Commits the open transaction. A commit that times out may still complete on the broker and leaves the producer
     * unable to abort or begin another transaction, so it is retried, as the producer's contract prescribes; when it
     * keeps timing out the worker stops (its transaction is then completed or aborted by the broker, and the run
     * resumes from the committed offsets).
     */
    private void commitTransaction(Producer<byte[], byte[]> producer) {
        for (int attempt = 1; ; attempt++) {
            try {
                producer.commitTransaction();
                return;
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                if (attempt >= COMMIT_ATTEMPTS) {
                    fatal = true;
                    // Not a KafkaException: the transaction cannot be aborted and replayed, the worker must stop.
                    throw new IllegalStateException("commit of worker " + workerId + "'s transaction timed out "
                            + attempt + " times", e);
                }
                log.warn("worker {}: commit timed out (attempt {} of {}), retrying: {}", workerId, attempt,
                        COMMIT_ATTEMPTS, e.getMessage());
            }
        }
    }

    /**
     * Decodes a poll's records: the last record of a case id wins; tombstones retire; undecodable ones go to the DLQ.
     * A registry that is down or refuses access is no case's fault: {@link AvroCodec} throws a KafkaException then,
     * which stops the worker (the pending batch is committed, a rerun resumes) rather than dead-letter good cases.
     */
    private void decode(List<ConsumerRecord<byte[], byte[]>> records, Map<String, Case> cases, Set<String> retired,
                        Map<String, String> undecodable, List<ProducerRecord<byte[], byte[]>> out,
                        Map<String, ConsumerRecord<byte[], byte[]>> source,
                        Map<ProducerRecord<byte[], byte[]>, ConsumerRecord<byte[], byte[]>> deadLetterSource) {
        for (ConsumerRecord<byte[], byte[]> r : records) {
            String key = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
            if (r.value() == null) {
                if (key != null) {
                    // Tombstone: the case was retired. A result an earlier batch produced for it is retired too.
                    cases.remove(key);
                    undecodable.remove(key);
                    retired.add(key);
                    source.put(key, r);
                }
                continue;
            }
            try {
                Case k = codec.readCase(r.topic(), r.value());
                retired.remove(k.getCaseId());
                undecodable.remove(k.getCaseId());
                cases.remove(k.getCaseId());
                cases.put(k.getCaseId(), k);
                source.put(k.getCaseId(), r);
            } catch (SerializationException e) {
                long due = undecodableWarning.occurred();
                if (due > 0) {
                    log.warn("{} undecodable case{} sent to {} since the last such warning (at most one every 10 s); "
                                    + "the last at {}-{}@{}: {}", due, due == 1 ? "" : "s", topics.dlq(), r.topic(),
                            r.partition(), r.offset(), e.getMessage());
                }
                ProducerRecord<byte[], byte[]> dead = DeadLetters.record(topics.dlq(), r, e, "replay-worker");
                out.add(dead);
                deadLetterSource.put(dead, r);
                if (key != null) {
                    // Counted, not silently dropped: the case gets a SKIPPED result naming the reason.
                    cases.remove(key);
                    retired.remove(key);
                    undecodable.put(key, "undecodable case, sent to " + topics.dlq() + ": " + e.getMessage());
                    source.put(key, r);
                }
            }
        }
    }

    /**
     * Waits for the batch's cases, replays the ambiguous ones again one at a time, and encodes the results. When the
     * worker is stopping ({@link #close()}), or the batch (or its second replays) was given up at its safety net, the
     * batch keeps the cases that were replayed, up to the first that was not (or that was ambiguous and not replayed
     * again, alone): no case starts after the stop or the safety net, the second replays included, and the offsets
     * committed are those of exactly what was replayed ({@link Batch#keepFirst}).
     */
    private List<ReplayResult> finish(Batch batch) throws InterruptedException, ExecutionException {
        List<ReplayResult> results = new ArrayList<>();
        List<Tagged> tagged = new ArrayList<>(replayed(batch.replaying, batch.cases.size()));
        List<Integer> ambiguous = new ArrayList<>();
        for (int i = 0; i < tagged.size(); i++) {
            if (redoAmbiguous && tagged.get(i).ambiguous()) {
                ambiguous.add(i);
            }
        }
        if (!ambiguous.isEmpty() && !closed) {
            // Calls without trace context arrived while these cases were in flight; the gate now allows one case
            // at a time, so their second replay is unambiguous. A stop ends it as it ends the batch's (close()).
            log.info("worker {}: replaying {} cases again, one at a time", workerId, ambiguous.size());
            List<Tagged> again = replayed(start(ambiguous.stream().map(batch.cases::get).toList()), ambiguous.size());
            for (int j = 0; j < again.size(); j++) {
                tagged.set(ambiguous.get(j), new Tagged(again.get(j).result(), false));
            }
        }
        int kept = 0;
        while (kept < tagged.size() && !(redoAmbiguous && tagged.get(kept).ambiguous())) {
            kept++;
        }
        if (kept < batch.cases.size()) {
            // Said once the transaction is committed (commitOrAbort): a commit that fails says so instead.
            batch.keepFirst(kept);
            tagged = tagged.subList(0, kept);
        }
        collect(tagged, results, batch.out);
        for (String caseId : batch.retired) {
            batch.out.add(new ProducerRecord<>(topics.results(),
                    RunTopics.resultKey(runId, caseId).getBytes(StandardCharsets.UTF_8), null));
        }
        batch.undecodable.forEach((caseId, reason) -> {
            ReplayResult r = replayer.undecodable(caseId, reason);
            results.add(r);
            batch.out.add(new ProducerRecord<>(topics.results(),
                    RunTopics.resultKey(runId, caseId).getBytes(StandardCharsets.UTF_8), codec.write(topics.results(), r)));
        });
        return results;
    }

    /**
     * The outcomes of the {@code cases} cases {@code replaying} replays: all of them, or, when {@link #close()} stopped
     * it or its safety net gave it up ({@link #await}) before every case had ended, those of the cases that ended, up
     * to the first that did not.
     */
    private List<Tagged> replayed(BatchPump<Case, Tagged> replaying, int cases)
            throws InterruptedException, ExecutionException {
        try {
            return await(replaying, cases);
        } catch (ExecutionException | TimeoutException e) {
            // Given up (its safety net, a failed case), or stopped by close() after the pump looked: it is settled, none
            // of its started cases in flight, so this is complete. Before, a batch given up without a stop was aborted
            // and read again whole, and its cases that had ended were replayed a second time.
            List<Tagged> ended = replaying.ended().toCompletionStage().toCompletableFuture().get();
            if (!closed) {
                log.warn("worker {} of run {}: {} of {} cases given up ({}); the {} that ended first are kept", workerId,
                        runId, cases - ended.size(), cases, e instanceof TimeoutException
                                ? "not done within the safety net of " + budget.awaitMillis(cases) + " ms"
                                : "a case failed: " + e.getCause(), ended.size());
            }
            return ended;
        } finally {
            replayingNow.remove(replaying);
        }
    }

    private record Tagged(ReplayResult result, boolean ambiguous) {
    }

    /**
     * Starts replaying the cases on this worker's event-loop context; its outcomes complete in order. Until they are
     * awaited ({@link #replayed}, {@link #awaitQuietly}) {@link #close()} stops it.
     */
    private BatchPump<Case, Tagged> start(List<Case> cases) {
        BatchPump<Case, Tagged> replaying = BatchPump.start(context, gate, rate, cases, k -> {
            long before = registry.unattributableCalls();
            return replayer.replay(k).map(r -> new Tagged(r, registry.unattributableCalls() != before));
        });
        replayingNow.add(replaying);
        if (closed) {
            replaying.stop(); // close() came while it was being started
        }
        return replaying;
    }

    /**
     * Its timeout is a safety net only: each case is bounded by the request timeout, so a batch completes first. A
     * batch that does not is given up: no more of its cases start, and those in flight are waited for (up to another
     * request timeout and margin, {@link BatchBudget#drainMillis()}). When every case had started and all ended by
     * then, their results are returned and committed as any batch's are (the same transaction with the offsets, fenced
     * by the group generation if the group moved on meanwhile). Otherwise, whether the worker is stopping
     * ({@link #close()}, before or during that wait) or not, the outcomes of the cases that ended are committed the
     * same way, up to the first case not replayed per partition, and the others are read again once none is in flight,
     * so that no case is in flight twice (the second copy's trace id would be taken, and an ERROR committed for it).
     * When some are still in flight then, the worker stops (a rerun resumes from the committed offsets).
     */
    private List<Tagged> await(BatchPump<Case, Tagged> replaying, int cases)
            throws InterruptedException, ExecutionException, TimeoutException {
        try {
            return replaying.await(budget.awaitMillis(cases), budget.drainMillis());
        } catch (IllegalStateException e) {
            fatal = true;
            throw new IllegalStateException("worker " + workerId + " of run " + runId + " stops: " + e.getMessage()
                    + "; replaying them again while they run would commit wrong results (a rerun resumes from the"
                    + " committed offsets)", e);
        }
    }

    /**
     * Stops {@code batch} (if it was started) as {@link #close()} stops a batch and waits for its cases in flight, as
     * the worker ends on {@code cause}; a case still in flight after that wait is added to {@code cause}, not thrown.
     */
    private void stopQuietly(Batch batch, RuntimeException cause) throws InterruptedException {
        if (batch == null || batch.replaying == null) {
            return;
        }
        batch.replaying.stop();
        try {
            awaitQuietly(batch);
        } catch (IllegalStateException stillInFlight) {
            cause.addSuppressed(stillInFlight);
        }
    }

    private void awaitQuietly(Batch batch) throws InterruptedException {
        if (batch.replaying == null) {
            return; // never started
        }
        try {
            await(batch.replaying, batch.cases.size());
        } catch (ExecutionException | TimeoutException e) {
            log.debug("dropped batch ended with {}", e.toString());
        } finally {
            replayingNow.remove(batch.replaying);
        }
    }

    /** Adds the results (encoded, to {@code out}). */
    private void collect(List<Tagged> tagged, List<ReplayResult> results, List<ProducerRecord<byte[], byte[]>> out) {
        for (Tagged t : tagged) {
            ReplayResult r = t.result();
            results.add(r);
            out.add(new ProducerRecord<>(topics.results(),
                    RunTopics.resultKey(runId, r.getCaseId()).getBytes(StandardCharsets.UTF_8),
                    codec.write(topics.results(), r)));
        }
    }

    /**
     * For every assigned partition: the offset up to which it is consumed, capped at the run's bound, where that is
     * beyond what is committed or about to be committed by the pending batch.
     */
    private Map<TopicPartition, OffsetAndMetadata> offsetsToCommit(Consumer<byte[], byte[]> c) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : c.assignment()) {
            long target = Math.min(c.position(tp), bound(tp));
            Long done = committed.get(tp);
            OffsetAndMetadata claimed = pending == null ? null : pending.offsets.get(tp);
            if (claimed != null && (done == null || claimed.offset() > done)) {
                done = claimed.offset(); // the pending batch commits up to there
            }
            if (done == null || target > done) {
                offsets.put(tp, new OffsetAndMetadata(target));
            }
        }
        return offsets;
    }

    private boolean isLatest(TopicPartition tp, long offset) {
        LatestVersions v = latest.get(tp);
        return v == null || v.isLatest(offset);
    }

    /**
     * Scans the newly assigned partitions from the group's committed offset (or the beginning) up to the run's bound
     * and keeps the latest offset of every key. A member taking over a partition rescans from the committed offset,
     * so it replays exactly the latest versions nobody committed yet. If the scan fails, every version is replayed
     * (correct, as before: the last result per case wins; only slower).
     */
    private void scanLatest(Collection<TopicPartition> partitions) {
        Map<TopicPartition, Long> from = new HashMap<>();
        Map<TopicPartition, Long> to = new HashMap<>();
        List<TopicPartition> fromStart = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            to.put(tp, bound(tp));
            Long c = committed.get(tp);
            if (c == null) {
                fromStart.add(tp);
            } else {
                from.put(tp, c);
            }
        }
        if (!fromStart.isEmpty()) {
            from.putAll(consumer.beginningOffsets(fromStart));
        }
        Map<String, Object> props = kafka.consumer(null, "tapline-replay-scan-" + workerId);
        // Values must be fetched (no key-only fetch) but are never decoded: fetch big chunks.
        props.putIfAbsent("max.partition.fetch.bytes", 16 * 1024 * 1024);
        props.putIfAbsent("max.poll.records", 10_000);
        long started = System.nanoTime();
        try {
            Map<TopicPartition, LatestVersions> found = LatestVersions.scan(props, from, to, SCAN_TIMEOUT, () -> closed);
            latest.putAll(found);
            long live = 0;
            long records = 0;
            for (Map.Entry<TopicPartition, LatestVersions> e : found.entrySet()) {
                progress.scanned(e.getKey(), e.getValue().liveKeys());
                live += e.getValue().liveKeys();
                records += e.getValue().to() - e.getValue().from();
            }
            log.info("worker {} of run {}: {} cases to replay in {} (latest versions of up to {} offsets, scanned in {} ms)",
                    workerId, runId, live, partitions, records, (System.nanoTime() - started) / 1_000_000);
        } catch (WakeupException e) {
            // close() came during the scan: nothing of these partitions is replayed or committed; the poll that
            // assigned them ends with the wakeup close() left on the group consumer, and the worker stops.
            log.info("worker {} of run {}: stopping: the scan of {} is given up", workerId, runId, partitions);
            partitions.forEach(latest::remove);
        } catch (KafkaException e) {
            log.warn("worker {}: scanning {} for the latest case versions failed, replaying every version: {}",
                    workerId, partitions, e.toString());
            partitions.forEach(latest::remove);
        }
    }

    private void pauseFinished(Consumer<byte[], byte[]> c) {
        Set<TopicPartition> finished = new HashSet<>();
        for (TopicPartition tp : c.assignment()) {
            if (c.position(tp) >= bound(tp) && !c.paused().contains(tp)) {
                finished.add(tp);
            }
        }
        if (!finished.isEmpty()) {
            c.pause(finished);
        }
    }

    /** True when every partition assigned to this worker is consumed up to its bound. */
    private boolean allFinished(Consumer<byte[], byte[]> c) {
        for (TopicPartition tp : c.assignment()) {
            if (c.position(tp) < bound(tp)) {
                return false;
            }
        }
        return true;
    }

    /** What a completion check found ({@link #runComplete}). */
    private enum Completion {
        /** The group's committed offsets reached the bounds on every partition of the run. */
        COMPLETE,
        /** Not yet: other members are still replaying, or the offsets could not be read, for less than the limit. */
        NOT_YET,
        /** The offsets went unread for {@link #offsetsWait}: the worker stops (said in an ERROR line). */
        NO_ANSWER
    }

    /**
     * Whether the group's committed offsets reached the bounds on every partition of the run. While they are read and
     * have not, other members are still replaying: {@link Completion#NOT_YET}, for as long as the run lasts. While they
     * cannot be read, also NOT_YET, to be asked again: a member that died while committing leaves offsets of an open
     * transaction, which a read_committed consumer cannot read until the broker aborts it (transaction.timeout.ms), and
     * a broker that does not answer times the read out the same way. Once no read has been answered for
     * {@link #offsetsWait} (longer than such a transaction lasts), {@link Completion#NO_ANSWER}: the broker does not
     * answer, and the worker, with all it replayed committed, stops rather than ask for ever ({@code poll} does not
     * throw while the broker is gone).
     */
    private Completion runComplete(Consumer<byte[], byte[]> c) {
        Set<TopicPartition> all = new HashSet<>();
        for (String p : bounds.getEndOffsets().keySet()) {
            all.add(new TopicPartition(topics.cases(), Integer.parseInt(p)));
        }
        long started = System.nanoTime();
        long since = groupOffsetsUnanswered ? groupOffsetsUnansweredSince : started;
        long left = offsetsWait.toNanos() - (started - since);
        Map<TopicPartition, OffsetAndMetadata> groupOffsets;
        try {
            groupOffsets = c.committed(all, offsetsRead(left));
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            groupOffsetsUnanswered = true;
            groupOffsetsUnansweredSince = since;
            long unanswered = System.nanoTime() - since;
            if (unanswered >= offsetsWait.toNanos()) {
                log.error("worker {} of run {} stops: the group's committed offsets, read to see whether the run is "
                        + "complete, could not be read in {} of trying, longer than a dead member's open transaction "
                        + "can hold them back (the producer's transaction.timeout.ms, {}, plus --kafka-timeout, {}): "
                        + "the broker did not answer; everything this worker replayed is committed, and a rerun "
                        + "resumes from the committed offsets: {}", workerId, runId, seconds(unanswered),
                        seconds(transactionTimeout), seconds(kafkaTimeout), e.getMessage());
                return Completion.NO_ANSWER;
            }
            // The same timeout whether a member's open transaction holds the offsets back or the broker did not
            // answer at all: which of the two cannot be told from here.
            log.info("worker {} of run {}: the group's committed offsets could not be read (a member's transaction "
                    + "may still be open, or the broker did not answer), checking again ({} of at most {}): {}",
                    workerId, runId, seconds(unanswered), seconds(offsetsWait), e.getMessage());
            return Completion.NOT_YET;
        }
        groupOffsetsUnanswered = false;
        for (TopicPartition tp : all) {
            long b = bound(tp);
            if (b == 0) {
                continue;
            }
            OffsetAndMetadata om = groupOffsets.get(tp);
            if (om == null || om.offset() < b) {
                return Completion.NOT_YET;
            }
        }
        return Completion.COMPLETE;
    }

    private void rewind(Consumer<byte[], byte[]> c, List<ConsumerRecord<byte[], byte[]>> records) {
        Map<TopicPartition, Long> first = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
        }
        seek(c, first);
    }

    /** Reads each partition this member still owns again from its offset (resumed, if paused at its bound). */
    private static void seek(Consumer<byte[], byte[]> c, Map<TopicPartition, Long> offsets) {
        offsets.forEach((tp, off) -> {
            if (c.assignment().contains(tp)) {
                c.seek(tp, off);
                c.resume(List.of(tp));
            }
        });
    }

    private void abortQuietly(Producer<byte[], byte[]> producer) {
        try {
            producer.abortTransaction();
        } catch (IllegalStateException e) {
            log.debug("no transaction to abort: {}", e.getMessage());
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // A batch may be replaying (polled before this poll): commit it while this member still owns its
            // partitions (same generation), so the next owner starts after it. If that fails, it is aborted and its
            // records are replayed by whoever owns them next.
            Batch last = pending;
            pending = null;
            if (last != null && !partitions.isEmpty()) {
                try {
                    commit(producerRef, consumer, last, null);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new WakeupException();
                } catch (RuntimeException e) {
                    listenerFailure = e; // the worker's reason to stop, not the consumer's wrapper of it (run)
                    throw e;
                }
            } else {
                pending = last;
            }
            forget(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // Another member owns them already: this member's generation cannot commit, so the batch is dropped
            // (its cases are replayed by the new owner from the group's committed offsets).
            Batch last = pending;
            pending = null;
            if (last != null) {
                try {
                    awaitQuietly(last);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new WakeupException();
                }
                rewind(consumer, last.records); // partitions this member keeps are read again
                log.warn("worker {}: lost partitions {}, dropped a batch of {} cases", workerId, partitions, last.cases.size());
            }
            forget(partitions);
        }

        private void forget(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                committed.remove(tp);
                latest.remove(tp);
                if (!leaving) {
                    progress.released(tp); // another member replays the rest
                }
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            assigned = true;
            if (partitions.isEmpty()) {
                return;
            }
            // A member that died while committing holds offsets of these partitions in an open transaction until the
            // broker aborts it (transaction.timeout.ms): wait for that, up to offsetsWait. The consumer's own
            // position lookup would wait the same way, and the latest versions are scanned from the offsets once they
            // are known. Each read is bounded as the completion check's is, and a stop (close()) wakes it up.
            long started = System.nanoTime();
            while (!closed) {
                long left = offsetsWait.toNanos() - (System.nanoTime() - started);
                try {
                    consumer.committed(new HashSet<>(partitions), offsetsRead(left)).forEach((tp, om) -> {
                        if (om != null) {
                            committed.put(tp, om.offset());
                        }
                    });
                    break;
                } catch (org.apache.kafka.common.errors.TimeoutException e) {
                    long waited = System.nanoTime() - started;
                    if (waited >= offsetsWait.toNanos()) {
                        assignmentGivenUp = givenUp(partitions, waited, e);
                        return; // poll returns, and the worker stops (loop)
                    }
                    log.warn("worker {} of run {}: the committed offsets of {} could not be read (a member's "
                            + "transaction may still be open, or the broker did not answer), trying again ({} of at "
                            + "most {}): {}", workerId, runId, partitions, seconds(waited), seconds(offsetsWait),
                            e.getMessage());
                }
            }
            scanLatest(partitions);
            log.info("worker {} of run {} now owns {}", workerId, runId, partitions);
        }

        private String givenUp(Collection<TopicPartition> partitions, long waitedNanos, RuntimeException e) {
            return "worker " + workerId + " of run " + runId + " stops: the committed offsets of " + partitions
                    + ", assigned to it, could not be read in " + seconds(waitedNanos) + " of trying, the longest a"
                    + " dead member's open transaction can hold them back (the producer's transaction.timeout.ms, "
                    + seconds(transactionTimeout) + ", plus --kafka-timeout, " + seconds(kafkaTimeout) + "): the"
                    + " broker did not answer, or a transaction stayed open longer; "
                    + "nothing of these partitions was replayed, and a rerun resumes from the committed offsets: "
                    + e.getMessage();
        }
    }

    /** The bound of one read of committed offsets: {@link #OFFSETS_CHECK}, or the {@code leftNanos} of the wait if less. */
    private static Duration offsetsRead(long leftNanos) {
        return Duration.ofNanos(Math.max(0, Math.min(leftNanos, OFFSETS_CHECK.toNanos())));
    }

    private static String seconds(Duration d) {
        return seconds(d.toNanos());
    }

    /** {@code nanos} as seconds, to a tenth: {@code 90.0 s}. */
    private static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
    }
}
