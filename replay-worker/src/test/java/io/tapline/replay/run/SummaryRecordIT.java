package io.tapline.replay.run;

import io.tapline.avro.RunEvent;
import io.tapline.avro.RunSummary;
import io.tapline.registry.RegistryConfig;
import io.tapline.stack.junit.TaplineStackExtension;
import io.tapline.stack.junit.TestStack;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The run's summary recorded on a real broker and registry by processes that each take themselves for its writer:
 * the check for a summary and the write are fenced by the run's summary transactional id, so one record is written.
 */
@ExtendWith(TaplineStackExtension.class)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SummaryRecordIT {

    private RunTopics topics;
    private KafkaSettings kafka;
    private AvroCodec codec;

    @BeforeEach
    void setUp(TestStack stack) {
        topics = new RunTopics(stack.createTopic("cases", 1, Map.of("cleanup.policy", "compact")),
                stack.createTopic("noise", 1, Map.of("cleanup.policy", "compact")),
                stack.createTopic("results", 1, Map.of()),
                stack.createTopic("runs", 1, Map.of("cleanup.policy", "compact")),
                stack.createTopic("dlq", 1, Map.of()));
        kafka = new KafkaSettings(stack.bootstrapServers(), Map.of(RegistryConfig.URL, stack.registryUrl()), Map.of(), Map.of());
        codec = new AvroCodec(kafka.registry());
    }

    /**
     * Two owners of the run's first partition (one after a rebalance at completion) both check the runs topic and
     * find no summary; the one that takes the run's summary transactional id last fences the other's write. Before,
     * both wrote theirs.
     */
    @Test
    void twoProcessesRecordingTheSummaryAtOnceLeaveOneRecord(TestStack stack) {
        String runId = stack.uniqueName("run");
        RunCoordinator first = coordinator();
        RunCoordinator second = coordinator();
        RunEvent summary = summary(runId);

        List<Optional<RunEvent>> secondRecorded = new ArrayList<>();
        // the second checks, finds none and writes between the first's check (none found) and its write
        Optional<RunEvent> firstRecorded = first.recordSummary(summary, () -> secondRecorded.add(second.recordSummary(summary)));

        assertEquals(Optional.empty(), firstRecorded, "the first's write is fenced");
        assertEquals(List.of(Optional.of(summary)), secondRecorded);
        assertEquals(List.of(summary), summaries(runId));
        // one more, later: it finds the summary and writes none
        assertEquals(Optional.of(summary), first.recordSummary(summary));
        assertEquals(List.of(summary), summaries(runId));
    }

    /**
     * Another run's summary transaction, open on the runs topic below this run's recorded summary, holds the last
     * stable offset under it: a check that read only that far would find no summary and write a second. The check
     * waits for that transaction to end instead.
     */
    @Test
    void aSummaryBehindAnotherRunsOpenTransactionIsFoundOnceThatEnds(TestStack stack) throws Exception {
        String runId = stack.uniqueName("run");
        RunEvent summary = summary(runId);
        try (KafkaProducer<byte[], byte[]> other = new KafkaProducer<>(kafka.producer(
                RunTopics.summaryTransactionalId(stack.uniqueName("run")), "it-other-run"))) {
            other.initTransactions();
            other.beginTransaction();
            other.send(new ProducerRecord<>(topics.runs(), "other/summary".getBytes(StandardCharsets.UTF_8),
                    new byte[] {0})).get();
            try (KafkaProducer<byte[], byte[]> plain = new KafkaProducer<>(kafka.producer(null, "it-writer"))) {
                plain.send(new ProducerRecord<>(topics.runs(), RunTopics.summaryKey(runId).getBytes(StandardCharsets.UTF_8),
                        codec.write(topics.runs(), summary))).get();
            }

            CompletableFuture<Optional<RunEvent>> recorded = CompletableFuture.supplyAsync(() -> coordinator().recordSummary(summary));
            Thread.sleep(2_000);
            assertFalse(recorded.isDone(), "the check waits for the open transaction");
            other.abortTransaction();
            assertEquals(Optional.of(summary), recorded.get(30, TimeUnit.SECONDS));
        }
        assertEquals(List.of(summary), summaries(runId));
    }

    private RunCoordinator coordinator() {
        return new RunCoordinator(kafka, codec, topics, Clock.systemUTC(), Duration.ofSeconds(30));
    }

    private static RunEvent summary(String runId) {
        return RunEvent.newBuilder().setRunId(runId).setCandidate("http://a").setAt(Instant.now()).setBounds(null)
                .setSummary(RunSummary.newBuilder().setTotal(3).setPassed(3).setFailed(0).setErrored(0).setSkipped(0)
                        .setDurationMillis(1_000).build())
                .build();
    }

    /** Every summary record of the run on the runs topic, committed ones only, in the order written. */
    private List<RunEvent> summaries(String runId) {
        byte[] key = RunTopics.summaryKey(runId).getBytes(StandardCharsets.UTF_8);
        List<RunEvent> found = new ArrayList<>();
        TopicReader.readAll(kafka.consumer(null, "it-reader"), topics.runs(), Duration.ofSeconds(30), r -> {
            if (Arrays.equals(key, r.key())) {
                found.add(codec.readRunEvent(r.topic(), r.value()));
            }
        });
        return found;
    }
}
