package io.tapline.replay.run;

import io.tapline.avro.RunBounds;
import io.tapline.avro.RunEvent;
import io.tapline.avro.RunSummary;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

/**
 * The run's lifecycle on the runs topic. The first worker of a run records the end offsets of the cases topic as
 * the run's bounds; workers that join later read and use them. Two workers starting together may both write
 * bounds: each then re-reads the topic and adopts the earliest bounds record (lowest timestamp, then partition,
 * then offset), so all workers agree.
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

    /** The run's start event with its bounds: the recorded one when the run exists, else one recorded now. */
    public RunEvent establishBounds(String runId, String candidate) {
        Optional<RunEvent> existing = earliestBounds(runId);
        if (existing.isPresent()) {
            log.info("run {} exists: using its recorded bounds {}", runId, existing.get().getBounds().getEndOffsets());
            if (!existing.get().getCandidate().equals(candidate)) {
                log.warn("run {} was started against {}, this worker replays against {}: results of one run should"
                        + " come from one candidate", runId, existing.get().getCandidate(), candidate);
            }
            return existing.get();
        }
        RunBounds proposed = currentBounds();
        RunEvent event = RunEvent.newBuilder().setRunId(runId).setCandidate(candidate).setAt(clock.instant())
                .setBounds(proposed).setSummary(null).build();
        write(RunTopics.boundsKey(runId), event);
        RunEvent agreed = earliestBounds(runId).orElseThrow(() -> new IllegalStateException(
                "bounds of run " + runId + " written to " + topics.runs() + " but not read back"));
        log.info("run {} started: bounds {}", runId, agreed.getBounds().getEndOffsets());
        return agreed;
    }

    /** End offsets (last stable offsets) of every cases partition now. */
    RunBounds currentBounds() {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.consumer(null, "tapline-replay-bounds"))) {
            List<TopicPartition> partitions = TopicReader.partitions(c, topics.cases(), timeout);
            Map<TopicPartition, Long> end = c.endOffsets(partitions, timeout);
            Map<String, Long> bounds = new HashMap<>();
            end.forEach((tp, off) -> bounds.put(Integer.toString(tp.partition()), off));
            return RunBounds.newBuilder().setCasesTopic(topics.cases()).setEndOffsets(bounds).setExpectedCases(-1).build();
        }
    }

    Optional<RunEvent> earliestBounds(String runId) {
        byte[] key = RunTopics.boundsKey(runId).getBytes(StandardCharsets.UTF_8);
        record Found(long ts, int partition, long offset, RunEvent event) { }
        List<Found> found = new java.util.ArrayList<>();
        TopicReader.readAll(kafka.consumer(null, "tapline-replay-runs-reader"), topics.runs(), timeout, r -> {
            if (r.key() != null && java.util.Arrays.equals(r.key(), key) && r.value() != null) {
                try {
                    RunEvent e = codec.readRunEvent(r.topic(), r.value());
                    if (e.getBounds() != null) {
                        found.add(new Found(r.timestamp(), r.partition(), r.offset(), e));
                    }
                } catch (SerializationException ex) {
                    log.warn("skipping undecodable run event at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), ex.getMessage());
                }
            }
        });
        return found.stream()
                .min(Comparator.comparingLong(Found::ts).thenComparingInt(Found::partition).thenComparingLong(Found::offset))
                .map(Found::event);
    }

    /** The run's summary, if a worker has written one. */
    public Optional<RunEvent> summary(String runId) {
        byte[] key = RunTopics.summaryKey(runId).getBytes(StandardCharsets.UTF_8);
        RunEvent[] latest = new RunEvent[1];
        TopicReader.readAll(kafka.consumer(null, "tapline-replay-runs-reader"), topics.runs(), timeout, r -> {
            if (r.key() != null && java.util.Arrays.equals(r.key(), key) && r.value() != null) {
                try {
                    RunEvent e = codec.readRunEvent(r.topic(), r.value());
                    if (e.getSummary() != null) {
                        latest[0] = e;
                    }
                } catch (SerializationException ex) {
                    log.warn("skipping undecodable run event at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), ex.getMessage());
                }
            }
        });
        return Optional.ofNullable(latest[0]);
    }

    public void writeSummary(String runId, String candidate, RunSummary summary) {
        write(RunTopics.summaryKey(runId), RunEvent.newBuilder().setRunId(runId).setCandidate(candidate)
                .setAt(clock.instant()).setBounds(null).setSummary(summary).build());
    }

    private void write(String key, RunEvent event) {
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(kafka.producer(null, "tapline-replay-runs-writer"))) {
            p.send(new ProducerRecord<>(topics.runs(), key.getBytes(StandardCharsets.UTF_8),
                    codec.write(topics.runs(), event))).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted writing " + key + " to " + topics.runs(), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not write " + key + " to " + topics.runs() + ": " + e.getCause(), e.getCause());
        }
    }
}
