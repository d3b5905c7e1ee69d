package io.tapline.replay.run;

import io.tapline.avro.RunBounds;
import io.tapline.avro.RunEvent;
import io.tapline.avro.ReplayResult;
import io.tapline.config.ConfigException;
import io.tapline.http.HttpUrl;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

/**
 * The run's lifecycle on the runs topic. The first worker of a run records the end offsets of the cases topic as
 * the run's bounds, and those of the results topic as where its results start; workers that join later read and
 * use them. Two workers starting together may both write
 * bounds: each then re-reads the topic and adopts the first bounds record written (the lowest offset), so all
 * workers agree. Every proposal has a key of its own ({@code RUN/bounds/<uuid>}), so compaction never removes the
 * adopted one, and all proposals of a run go to one partition (the one its {@code RUN/bounds} key hashes to), so
 * their offsets order them. Record timestamps are not used: they come from the writers' clocks.
 */
public final class RunCoordinator {

    private static final Logger log = LoggerFactory.getLogger(RunCoordinator.class);

    private final KafkaSettings kafka;
    private final AvroCodec codec;
    private final RunTopics topics;
    private final Clock clock;
    private final Duration timeout;

    public RunCoordinator(KafkaSettings kafka, AvroCodec codec, RunTopics topics, Clock clock, Duration timeout) {
        this.kafka = kafka;
        this.codec = codec;
        this.topics = topics;
        this.clock = clock;
        this.timeout = timeout;
    }

    /**
     * The run's start event with its bounds: the recorded one when the run exists, else one recorded now.
     *
     * A worker may join a running run with another URL for the candidate (another replica of it); it is warned.
     *
     * @throws ConfigException when the run's bounds are offsets of another cases topic than this worker's, or when the
     *                         run is complete and was started against another candidate: nothing is left to
     *                         replay, and its results, all from that one, would be reported as this one's (a CI job
     *                         that reuses a run id, say) without a single request sent to it
     */
    public RunEvent establishBounds(String runId, String candidate) {
        Optional<RunEvent> existing = earliestBounds(runId);
        if (existing.isPresent()) {
            log.info("run {} exists: using its recorded bounds {}", runId, existing.get().getBounds().getEndOffsets());
            return join(runId, existing.get(), candidate, topics.cases(), () -> summary(runId).isPresent());
        }
        RunBounds proposed = currentBounds();
        RunEvent event = RunEvent.newBuilder().setRunId(runId).setCandidate(candidate).setAt(clock.instant())
                .setBounds(proposed).setSummary(null).build();
        write(RunTopics.boundsKey(runId) + "/" + UUID.randomUUID(), boundsPartition(runId), event);
        RunEvent agreed = earliestBounds(runId).orElseThrow(() -> new IllegalStateException(
                "bounds of run " + runId + " written to " + topics.runs() + " but not read back"));
        log.info("run {} started: bounds {}", runId, agreed.getBounds().getEndOffsets());
        // A worker racing this one may have written the adopted bounds, with its own cases topic and candidate.
        return join(runId, agreed, candidate, topics.cases(), () -> false);
    }

    /**
     * Checks that a worker may replay {@code run} (its adopted bounds record) with this candidate and cases topic.
     *
     * @throws ConfigException when the worker reads another cases topic than the run's: the bounds are offsets of
     *                         that topic, and applied by partition number to another one they would put that topic's
     *                         cases into the run (and the run's completion would be judged on the wrong offsets); or
     *                         when the run is complete and was started against another candidate
     */
    static RunEvent join(String runId, RunEvent run, String candidate, String casesTopic, BooleanSupplier complete) {
        String recordedTopic = run.getBounds().getCasesTopic();
        if (!recordedTopic.equals(casesTopic)) {
            throw new ConfigException("option --topic-cases: run " + runId + " replays the cases of " + recordedTopic
                    + ", not of " + casesTopic + " (its bounds are offsets of " + recordedTopic + "); give the same"
                    + " --topic-cases, or a new --run id for these cases");
        }
        String started = run.getCandidate();
        if (!sameCandidate(started, candidate)) {
            if (complete.getAsBoolean()) {
                throw new ConfigException("option --target: run " + runId + " is complete, and its results are "
                        + started + "'s, not " + candidate + "'s; give this candidate a new --run id");
            }
            log.warn("run {} was started against {}, this worker replays against {}: results of one run should"
                    + " come from one candidate (replicas of it)", runId, started, candidate);
        }
        return run;
    }

    /** Whether two target URLs name the same candidate: scheme, host (any case), port and base path. */
    static boolean sameCandidate(String a, String b) {
        try {
            HttpUrl x = HttpUrl.parse(a);
            HttpUrl y = HttpUrl.parse(b);
            return x.scheme().equals(y.scheme()) && x.host().equalsIgnoreCase(y.host()) && x.port() == y.port()
                    && x.basePath().equals(y.basePath());
        } catch (IllegalArgumentException e) {
            return a.equals(b);
        }
    }

    /**
     * End offsets (last stable offsets) of every cases partition now, and of every results partition: taken before
     * the bounds record is written, so every result of the run will lie at or above them.
     */
    RunBounds currentBounds() {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.consumer(null, "tapline-replay-bounds"))) {
            return RunBounds.newBuilder()
                    .setCasesTopic(topics.cases())
                    .setEndOffsets(endOffsets(c, topics.cases()))
                    .setExpectedCases(-1)
                    .setResultsStartOffsets(endOffsets(c, topics.results()))
                    .build();
        }
    }

    private Map<String, Long> endOffsets(KafkaConsumer<byte[], byte[]> c, String topic) {
        Map<String, Long> out = new HashMap<>();
        c.endOffsets(TopicReader.partitions(c, topic, timeout), timeout)
                .forEach((tp, off) -> out.put(Integer.toString(tp.partition()), off));
        return out;
    }

    Optional<RunEvent> earliestBounds(String runId) {
        return boundsRecords(runId).stream()
                .min(Comparator.comparingInt(BoundsRecord::partition).thenComparingLong(BoundsRecord::offset))
                .map(BoundsRecord::event);
    }

    /**
     * Where the run's results start in the results topic, per partition number: the lowest start recorded by any of
     * the run's bounds records (two workers starting together each record one, and the one that is not adopted may
     * have been written first). An empty map, meaning the beginning of the topic, for a run started before start
     * offsets were recorded; empty when the run has no bounds record (it never started).
     */
    public Optional<Map<Integer, Long>> resultsStart(String runId) {
        List<BoundsRecord> records = boundsRecords(runId);
        if (records.isEmpty()) {
            return Optional.empty();
        }
        Map<Integer, Long> start = new HashMap<>();
        for (BoundsRecord found : records) {
            Map<String, Long> recorded = found.event().getBounds().getResultsStartOffsets();
            if (recorded.isEmpty()) {
                return Optional.of(Map.of());
            }
            RunResults.byPartitionNumber(recorded).forEach((partition, offset) -> start.merge(partition, offset, Math::min));
        }
        return Optional.of(start);
    }

    private record BoundsRecord(int partition, long offset, RunEvent event) { }

    /** The run's bounds proposals: key {@code RUN/bounds/<uuid>}, or {@code RUN/bounds} as older versions wrote. */
    private List<BoundsRecord> boundsRecords(String runId) {
        String key = RunTopics.boundsKey(runId);
        List<BoundsRecord> found = new ArrayList<>();
        TopicReader.readAll(kafka.consumer(null, "tapline-replay-runs-reader"), topics.runs(), timeout, r -> {
            String k = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
            if (k != null && (k.equals(key) || k.startsWith(key + "/")) && r.value() != null) {
                try {
                    RunEvent e = codec.readRunEvent(r.topic(), r.value());
                    if (e.getBounds() != null) {
                        found.add(new BoundsRecord(r.partition(), r.offset(), e));
                    }
                } catch (SerializationException ex) {
                    log.warn("skipping undecodable run event at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), ex.getMessage());
                }
            }
        });
        return found;
    }

    /** The run's summary, if a worker has written one. */
    public Optional<RunEvent> summary(String runId) {
        byte[] key = RunTopics.summaryKey(runId).getBytes(StandardCharsets.UTF_8);
        RunEvent[] latest = new RunEvent[1];
        TopicReader.readAll(kafka.consumer(null, "tapline-replay-runs-reader"), topics.runs(), timeout, r -> {
            RunEvent e = summaryIn(r, key);
            if (e != null) {
                latest[0] = e;
            }
        });
        return Optional.ofNullable(latest[0]);
    }

    /**
     * Waits up to {@code wait} for the run's summary to be written by another worker: reads the runs topic from its
     * beginning and goes on reading what is written to it. Returns the first summary of the run found; empty when
     * none came within {@code wait}, or as soon as {@code stop} says so.
     */
    public Optional<RunEvent> awaitSummary(String runId, Duration wait, BooleanSupplier stop) {
        byte[] key = RunTopics.summaryKey(runId).getBytes(StandardCharsets.UTF_8);
        long deadline = System.nanoTime() + wait.toNanos();
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.consumer(null, "tapline-replay-runs-summary"));
        try {
            List<TopicPartition> partitions = TopicReader.partitions(c, topics.runs(), timeout);
            c.assign(partitions);
            c.seekToBeginning(partitions);
            while (!stop.getAsBoolean() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    RunEvent e = summaryIn(r, key);
                    if (e != null) {
                        return Optional.of(e);
                    }
                }
            }
            return Optional.empty();
        } finally {
            TopicReader.closeNow(c);
        }
    }

    /** The summary a runs-topic record holds when it is one under {@code key}; null otherwise. */
    private RunEvent summaryIn(ConsumerRecord<byte[], byte[]> r, byte[] key) {
        if (r.key() == null || !Arrays.equals(r.key(), key) || r.value() == null) {
            return null;
        }
        try {
            RunEvent e = codec.readRunEvent(r.topic(), r.value());
            return e.getSummary() != null ? e : null;
        } catch (SerializationException ex) {
            log.warn("skipping undecodable run event at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), ex.getMessage());
            return null;
        }
    }

    /**
     * The run's summary event as every worker that sees the run complete computes it, whichever writes it and
     * whenever: the candidate its start recorded, and a duration and time from its start to its last result (the
     * latest {@code completedAt} of its results; its start when it has none), not to a worker's clock. Two summaries
     * written by two workers (a race, {@code ReplayCommand}) are therefore the same record.
     */
    public static RunEvent summaryEvent(RunEvent start, RunResults results) {
        Instant began = start.getAt();
        Instant last = results.results().stream().map(ReplayResult::getCompletedAt).max(Comparator.naturalOrder())
                .orElse(began);
        long durationMillis = Math.max(0, Duration.between(began, last).toMillis());
        return RunEvent.newBuilder().setRunId(start.getRunId()).setCandidate(start.getCandidate())
                .setAt(began.plusMillis(durationMillis)).setBounds(null).setSummary(results.summary(durationMillis))
                .build();
    }

    /**
     * Records the run's summary event ({@link #summaryEvent}) under {@code RUN/summary} unless one is recorded already,
     * as a fenced check-then-write: the check and the write run under the run's own transactional id
     * ({@link RunTopics#summaryTransactionalId}). Taking the id over ({@code initTransactions}) ends any earlier
     * writer's transaction (committed if it was committing, aborted otherwise) and fences that writer, so of two
     * processes that both check and find no summary, the one that took the id first cannot commit: one summary
     * record per run, whatever the processes took themselves for.
     *
     * @return the summary recorded: the one found, or {@code summary} when this call wrote it; empty when another
     *         process took the id over while this one was writing (fenced: that one finds a summary or writes it)
     */
    public Optional<RunEvent> recordSummary(RunEvent summary) {
        return recordSummary(summary, () -> { });
    }

    /** {@link #recordSummary(RunEvent)}, {@code checked} run between the check and the write (a test's race). */
    Optional<RunEvent> recordSummary(RunEvent summary, Runnable checked) {
        String runId = summary.getRunId();
        String key = RunTopics.summaryKey(runId);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(kafka.producer(RunTopics.summaryTransactionalId(runId),
                "tapline-replay-runs-summary-writer"))) {
            try {
                p.initTransactions();
                // Another run's summary transaction, open below this run's summary, would hide it from the check.
                TopicReader.awaitStable(kafka.consumer(null, "tapline-replay-runs-stable"), topics.runs(), timeout);
                Optional<RunEvent> found = summary(runId);
                if (found.isPresent()) {
                    return found;
                }
                checked.run();
                p.beginTransaction();
                p.send(new ProducerRecord<>(topics.runs(), key.getBytes(StandardCharsets.UTF_8),
                        codec.write(topics.runs(), summary))).get();
                p.commitTransaction();
                return Optional.of(summary);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted writing " + key + " to " + topics.runs(), e);
        } catch (KafkaException e) {
            if (fenced(e)) {
                log.info("run {}: another process took over the write of the summary: {}", runId, e.toString());
                return Optional.empty();
            }
            throw new IllegalStateException("could not write " + key + " to " + topics.runs() + ": " + e, e);
        }
    }

    /**
     * Whether a producer's failure is its fencing by a newer producer with its transactional id: thrown as it is, or
     * as the cause of the error state a later call reports.
     */
    static boolean fenced(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
                return true;
            }
        }
        return false;
    }

    /** The partition every bounds proposal of the run goes to: the one its {@code RUN/bounds} key hashes to. */
    private Integer boundsPartition(String runId) {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.consumer(null, "tapline-replay-runs-partitions"))) {
            int partitions = TopicReader.partitions(c, topics.runs(), timeout).size();
            return Utils.toPositive(Utils.murmur2(RunTopics.boundsKey(runId).getBytes(StandardCharsets.UTF_8))) % partitions;
        }
    }

    private void write(String key, Integer partition, RunEvent event) {
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(kafka.producer(null, "tapline-replay-runs-writer"))) {
            p.send(new ProducerRecord<>(topics.runs(), partition, key.getBytes(StandardCharsets.UTF_8),
                    codec.write(topics.runs(), event))).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted writing " + key + " to " + topics.runs(), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not write " + key + " to " + topics.runs() + ": " + e.getCause(), e.getCause());
        }
    }
}
