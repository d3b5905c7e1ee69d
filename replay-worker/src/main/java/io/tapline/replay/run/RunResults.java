package io.tapline.replay.run;

import io.tapline.avro.MockUsage;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunSummary;
import io.tapline.logging.PeriodicWarning;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The results of one run: one per case, read with read_committed from the results topic and de-duplicated by key
 * (the latest record of a key wins), so aborted transactions of a killed worker never count.
 * <p>
 * A run can have hundreds of thousands of cases, so each result is kept as the reports show it and no more
 * ({@link Kept}): without its mock usage and worker, which no report shows, and with the route, candidate and run id
 * shared by every result that has the same one. A passed case then takes ~300 bytes instead of ~1,100.
 */
public final class RunResults {

    private static final Logger log = LoggerFactory.getLogger(RunResults.class);

    /** By case id: every key of the run starts with the same {@code RUN/}, which is left out. */
    private final Map<String, ReplayResult> byCase;
    private final Map<Integer, Long> from;
    private final Map<Integer, Long> to;

    /** Results of one run, kept as {@link #load} keeps them; a later result of a case replaces an earlier one. */
    public RunResults(Collection<ReplayResult> results) {
        this(kept(results), Map.of(), Map.of());
    }

    private RunResults(Map<String, ReplayResult> byCase, Map<Integer, Long> from, Map<Integer, Long> to) {
        this.byCase = byCase;
        this.from = Map.copyOf(from);
        this.to = Map.copyOf(to);
    }

    private static Map<String, ReplayResult> kept(Collection<ReplayResult> results) {
        Kept kept = new Kept();
        Map<String, ReplayResult> m = new LinkedHashMap<>();
        for (ReplayResult r : results) {
            m.put(r.getCaseId(), kept.of(ReplayResult.newBuilder(r).build()));
        }
        return m;
    }

    /**
     * Reads the run's results between {@code from} and {@code to} (per partition number; empty maps mean the
     * beginning and the end offsets now), once the transactions open on the results topic have ended. Results of all
     * runs are spread over the topic's partitions by key hash, so the range, recorded when the run started, is what
     * keeps a month of other runs' results from being read.
     */
    public static RunResults load(KafkaSettings kafka, AvroCodec codec, String resultsTopic, String runId,
                                  Map<Integer, Long> from, Map<Integer, Long> to, Duration timeout) {
        String prefix = runId + "/";
        // A worker killed inside a transaction leaves it open until the broker aborts it (transaction.timeout.ms);
        // until then read_committed readers stop below it and would miss later committed results.
        if (to.isEmpty()) {
            TopicReader.awaitStable(kafka.consumer(null, "tapline-report-" + runId), resultsTopic, timeout);
        }
        Map<String, ReplayResult> out = new LinkedHashMap<>();
        // Per partition: one past the run's last record (result or tombstone) read.
        Map<Integer, Long> runEnd = new HashMap<>();
        Kept kept = new Kept();
        // a results topic another producer wrote in another format would otherwise log a line per record
        PeriodicWarning undecodable = new PeriodicWarning(java.time.Duration.ofSeconds(10));
        Map<Integer, Long> stopped = TopicReader.readRange(kafka.consumer(null, "tapline-report-" + runId), resultsTopic,
                from, to, timeout, r -> {
            if (r.key() == null) {
                return;
            }
            String key = new String(r.key(), StandardCharsets.UTF_8);
            if (!key.startsWith(prefix)) {
                return;
            }
            String caseId = key.substring(prefix.length());
            runEnd.merge(r.partition(), r.offset() + 1, Math::max);
            if (r.value() == null) {
                out.remove(caseId); // the case was retired during the run
                return;
            }
            try {
                ReplayResult result = kept.of(codec.readResult(r.topic(), r.value()));
                if (caseId.equals(result.getCaseId())) {
                    result.setCaseId(caseId); // one copy of the id, not one in the key and one in the result
                }
                out.put(caseId, result);
            } catch (SerializationException e) {
                long due = undecodable.occurred();
                if (due > 0) {
                    log.warn("skipped {} undecodable result{} since the last such warning (at most one every 10 s); the last, {} "
                            + "at {}-{}@{}: {}", due, due == 1 ? "" : "s", key, r.topic(), r.partition(), r.offset(), e.getMessage());
                }
            }
        });
        return new RunResults(out, from, endOfRun(from, stopped, runEnd));
    }

    /**
     * Where the run's records end in each partition read: one past its last record there, or, in a partition holding
     * none of them, where the read started (the beginning, 0, when no start was given); never beyond where the read
     * stopped. Not where the read stopped: that depends on when it ran (other runs' results keep coming), and every
     * worker that reads a completed run's results must record the same range in its summary.
     */
    static Map<Integer, Long> endOfRun(Map<Integer, Long> from, Map<Integer, Long> stopped, Map<Integer, Long> runEnd) {
        Map<Integer, Long> end = new TreeMap<>();
        stopped.forEach((partition, stop) -> {
            Long last = runEnd.get(partition);
            long at = last != null ? last : from.getOrDefault(partition, 0L);
            end.put(partition, Math.min(at, stop));
        });
        return end;
    }

    /** One result per case, as kept (see the class comment), in the order their cases were first read. */
    public List<ReplayResult> results() {
        return List.copyOf(byCase.values());
    }

    public int size() {
        return byCase.size();
    }

    /**
     * Counts per verdict (per case) and the failed share of production traffic (per signature). A case's
     * {@code trafficWeight} is the hit count of its whole signature, and dedup keeps several samples (cases) per
     * signature, so summing it over cases would count a signature's traffic once per sample. The traffic of a
     * signature therefore counts once: the largest {@code trafficWeight} among its cases' results (its cases may have
     * been written at different times, with growing hit counts); the signature's traffic failed when any of its
     * cases failed. Results without a signature id (written before it existed) count as their own signature.
     */
    public RunSummary summary(long durationMillis) {
        long passed = 0, failed = 0, errored = 0, skipped = 0;
        Map<String, SignatureWeight> signatures = new HashMap<>();
        for (ReplayResult r : byCase.values()) {
            SignatureWeight sig = signatures.computeIfAbsent(signatureOf(r), k -> new SignatureWeight());
            sig.weight = Math.max(sig.weight, r.getTrafficWeight());
            switch (r.getVerdict()) {
                case PASS -> passed++;
                case FAIL -> {
                    failed++;
                    sig.failed = true;
                }
                case ERROR -> errored++;
                case SKIPPED -> skipped++;
            }
        }
        long weight = 0, failedWeight = 0;
        for (SignatureWeight sig : signatures.values()) {
            weight += sig.weight;
            if (sig.failed) {
                failedWeight += sig.weight;
            }
        }
        return RunSummary.newBuilder()
                .setTotal(byCase.size())
                .setPassed(passed)
                .setFailed(failed)
                .setErrored(errored)
                .setSkipped(skipped)
                .setTrafficWeight(weight)
                .setFailedTrafficWeight(failedWeight)
                .setFailedTrafficShare(weight == 0 ? 0.0 : (double) failedWeight / weight)
                .setDurationMillis(durationMillis)
                .setResultsStartOffsets(byPartitionName(from))
                .setResultsEndOffsets(byPartitionName(to))
                .build();
    }

    /** Offsets by partition number as an Avro map keys them: the number as a string. */
    public static Map<String, Long> byPartitionName(Map<Integer, Long> offsets) {
        Map<String, Long> out = new TreeMap<>();
        offsets.forEach((partition, offset) -> out.put(Integer.toString(partition), offset));
        return out;
    }

    /** Offsets by partition number from an Avro map of them. */
    public static Map<Integer, Long> byPartitionNumber(Map<String, Long> offsets) {
        Map<Integer, Long> out = new TreeMap<>();
        offsets.forEach((partition, offset) -> out.put(Integer.parseInt(partition), offset));
        return out;
    }

    /** The signature a result's traffic belongs to; a result without one stands for itself. */
    static String signatureOf(ReplayResult r) {
        String sig = r.getSignatureId();
        return sig == null || sig.isEmpty() ? "case:" + r.getCaseId() : "sig:" + sig;
    }

    private static final class SignatureWeight {
        long weight;
        boolean failed;
    }

    /**
     * A result as the reports show it: case, signature, route, candidate, verdict, differences and their count,
     * notes, error, weight, latencies, completion time. Its mock usage becomes an empty one and its worker an empty
     * string (no report shows either: the mock usage of two calls is ~500 bytes a case); the route, candidate and run
     * id, which a decoder reads into a string of their own for every result, are shared with the results before it;
     * an empty list of differences or notes becomes the one empty list. Changes the result it is given.
     */
    static final class Kept {

        private static final MockUsage NO_MOCKS = MockUsage.newBuilder().setCalls(List.of()).build();

        /** A run has a handful of routes and candidates, one run id: each kept once. */
        private final Map<String, String> shared = new HashMap<>();

        ReplayResult of(ReplayResult r) {
            r.setMocks(NO_MOCKS);
            r.setWorker("");
            r.setRunId(shared(r.getRunId()));
            r.setRoute(shared(r.getRoute()));
            r.setCandidate(shared(r.getCandidate()));
            if (r.getDifferences().isEmpty()) {
                r.setDifferences(List.of());
            }
            if (r.getNotes().isEmpty()) {
                r.setNotes(List.of());
            }
            return r;
        }

        private String shared(String s) {
            if (s == null) {
                return null;
            }
            String known = shared.putIfAbsent(s, s);
            return known == null ? s : known;
        }
    }
}
