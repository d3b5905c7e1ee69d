package io.tapline.dedup;

import io.tapline.avro.Case;
import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.dedup.noise.ResponseDiff;
import io.tapline.dedup.noise.ResponseFields;
import io.tapline.dedup.state.SignatureState;
import io.tapline.topics.TaplineTopics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Function;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps up to N samples per signature and the signature's traffic counters; runs on the task that owns the
 * signature (input is partitioned by signature id).
 *
 * <ul>
 *   <li>A sample goes into a free slot, or replaces the oldest one once that is older than the sample TTL; the
 *       case is written at once (at most N per signature per TTL). Only hits that carry their interaction can
 *       become samples or noise pairs; {@link SampleGate} sends enough of them, the other hits only count.</li>
 *   <li>Hit counts and last-seen are only marked dirty per record; a wall-clock punctuator publishes dirty
 *       signatures' cases every publish interval, so output is bounded by the cadence, not the input rate.</li>
 *   <li>The same punctuator retires signatures not seen for the retention with one tombstone per case. "Not seen"
 *       is measured in event time, the clock {@code lastSeen} is read on: against the newest event time the task
 *       has seen, not against wall-clock or Kafka stream time. A stopped producer retires nothing, and neither does
 *       old traffic produced again today (its record timestamps are new, its event times old).</li>
 *   <li>A record whose request is identical to a stored sample's is compared with the latest response of that
 *       request (its baseline) and the outcome sent to noise learning, within a per-signature budget.</li>
 * </ul>
 */
final class DedupProcessor implements Processor<String, Hit, String, Emitted> {

    /**
     * Longest service plus route whose noise is learned. The noise repartition records and counters write each in at
     * most 64 KiB of modified UTF-8 (up to 3 bytes a character); a longer one (a request line of a megabyte kept as a
     * word) failed the task on its record at every retry. Such a route learns no noise; its cases are kept.
     */
    static final int MAX_NOISE_ROUTE_CHARS = 4096;

    private final DedupConfig config;
    private final DedupMetrics metrics;
    private final OutputEncoder<Case> cases;
    private ProcessorContext<String, Emitted> context;
    private KeyValueStore<String, SignatureState> signatures;
    private KeyValueStore<String, Case> samples;
    private KeyValueStore<String, ResponseFields> baselines;
    private Cancellable punctuator;
    private long held;
    /**
     * The newest event time of the task's hits (the sidecars' clocks, clamped as {@link DecodeProcessor} does): the
     * "now" retirement measures {@code lastSeen} against. Restored on start as the newest {@code lastSeen} held.
     */
    private long eventTime = Long.MIN_VALUE;
    /** The first signature the last publication did not reach, where the next goes on; null: from the first. */
    private String resumeAt;

    DedupProcessor(DedupConfig config, DedupMetrics metrics, OutputEncoder<Case> cases) {
        this.config = config;
        this.metrics = metrics;
        this.cases = cases;
    }

    static String caseId(String signatureId, int slot) {
        return signatureId + "-" + slot;
    }

    /**
     * Where a request's baseline is kept. Each version whose fields read a response otherwise keeps its baselines under
     * a key of its own, so that none compares a response with a baseline that reads the same answer otherwise (every
     * such field would differ once, during a rolling upgrade or after a rollback); without a baseline of its own, a
     * version compares with the request's stored sample. This version reads bodies as the replay worker does (JSON
     * strictly, values by their JSON type, numbers by their decimal value); the previous one ({@code /g}) leniently,
     * strings and numbers alike, numbers as doubles; the one before it (no suffix) named a map's members by id, where
     * both later ones name them by the placeholder of their kind ({@code $.bySku.{id}.qty}).
     */
    static String baselineKey(String signatureId, long requestFingerprint) {
        return unversionedBaselineKey(signatureId, requestFingerprint) + "/n";
    }

    /** The earlier versions' keys of a baseline: deleted with this version's, so that none is left behind. */
    static List<String> previousBaselineKeys(String signatureId, long requestFingerprint) {
        String key = unversionedBaselineKey(signatureId, requestFingerprint);
        return List.of(key, key + "/g");
    }

    private static String unversionedBaselineKey(String signatureId, long requestFingerprint) {
        return signatureId + "/" + Long.toHexString(requestFingerprint);
    }

    private void deleteBaselines(String signatureId, long requestFingerprint) {
        baselines.delete(baselineKey(signatureId, requestFingerprint));
        previousBaselineKeys(signatureId, requestFingerprint).forEach(baselines::delete);
    }

    @Override
    public void init(ProcessorContext<String, Emitted> context) {
        this.context = context;
        this.signatures = context.getStateStore(DedupTopology.SIGNATURES_STORE);
        this.samples = context.getStateStore(DedupTopology.SAMPLES_STORE);
        this.baselines = context.getStateStore(DedupTopology.BASELINES_STORE);
        // From the stores only: a task initialised again after an aborted transaction (the same processor, its stores
        // back at the last commit) must not measure retirement against event times of hits that were rolled back.
        eventTime = Long.MIN_VALUE;
        resumeAt = null;
        try (KeyValueIterator<String, SignatureState> all = signatures.all()) {
            while (all.hasNext()) {
                eventTime = Math.max(eventTime, all.next().value.lastSeen());
                held++;
            }
        }
        metrics.signatures.addAndGet(held);
        punctuator = context.schedule(config.publishInterval(), PunctuationType.WALL_CLOCK_TIME, this::publish);
    }

    @Override
    public void process(Record<String, Hit> record) {
        String id = record.key();
        Hit hit = record.value();
        long at = hit.at();
        eventTime = Math.max(eventTime, at);
        SignatureState state = signatures.get(id);
        boolean first = state == null;
        if (first) {
            if (held >= config.maxSignaturesPerTask()) {
                metrics.signaturesRejected.inc();
                return;
            }
            state = SignatureState.first(at);
        }
        state.hit(at);
        dropExtraSlots(id, state, record.timestamp());
        if (hit.whole()) {
            sample(id, hit.draft(), state, hit.requestFingerprint(), at, record.timestamp());
        }
        signatures.put(id, state);
        if (first) { // counted once stored: a record whose case cannot be encoded stores no signature
            held++;
            metrics.signatures.incrementAndGet();
        }
    }

    /**
     * Learns noise from the interaction and makes it a sample if a slot is free or expired.
     *
     * @throws UnencodableOutputException when the sample is one the cases topic's serializer cannot encode, before
     *                                    the record changed anything: the record is dead-lettered
     *                                    ({@link RecordFailureHandler}), its case stored nowhere. Stored, every later
     *                                    publication of the signature's hit counts failed on it, failing the stream
     *                                    thread (a punctuation, no record to set aside) after every restart.
     */
    private void sample(String id, Case draft, SignatureState state, long fingerprint, long at, long timestamp) {
        int slot = state.slotFor(at, config.samplesPerSignature(), config.sampleTtl().toMillis());
        Case sample = null;
        byte[] encoded = null;
        if (slot >= 0) {
            sample = Case.newBuilder(draft)
                    .setCaseId(caseId(id, slot))
                    .setSampleSlot(slot)
                    .setHits(state.hits())
                    .setFirstSeen(Instant.ofEpochMilli(state.firstSeen()))
                    .setLastSeen(Instant.ofEpochMilli(state.lastSeen()))
                    .build();
            // Encoded here rather than in the sink, once: the bytes are what the cases topic gets.
            encoded = cases.encode(sample.getCaseId(), sample);
        }
        learnNoise(id, draft, state, fingerprint, at);
        if (slot < 0) {
            return;
        }
        OptionalLong unsampled = state.sample(slot, at, fingerprint);
        if (unsampled.isPresent()) {
            deleteBaselines(id, unsampled.getAsLong()); // no sample of that request left to pair with
        }
        samples.put(sample.getCaseId(), sample);
        emitCase(sample.getCaseId(), encoded, timestamp);
        // The route is alive (at most N samples per signature per TTL): its noise is kept, even without pairs.
        forwardNoise(draft, route -> NoiseObservation.routeSeen(draft.getService(), route), at);
    }

    /**
     * Sends {@code observation} of the draft's service and route to noise learning, timestamped with its event time
     * (noise retires by it, as signatures do).
     */
    private void forwardNoise(Case draft, Function<String, NoiseObservation> observation, long at) {
        String route = draft.getParts().getMethod() + " " + draft.getParts().getRouteTemplate();
        if (route.length() + draft.getService().length() > MAX_NOISE_ROUTE_CHARS) {
            return; // no noise record can name it
        }
        context.forward(new Record<String, Emitted>(TaplineTopics.noiseKey(draft.getService(), route),
                new Emitted.NoiseOut(observation.apply(route)), at));
    }

    /**
     * Compares the new response with the latest response of the same request, then makes the new one that request's
     * baseline: consecutive responses are compared, so one permanent change (a price that changed once) makes one
     * differing pair, not one per later request. The first pair of a request compares with its latest stored sample.
     * One pair per record: comparing with every slot holding that request would count one change several times over.
     */
    private void learnNoise(String id, Case draft, SignatureState state, long fingerprint, long at) {
        if (draft.getSample().getRequest().getTruncated()) {
            // Only a prefix of the body was captured, or none (an encoding the capture cannot undo): requests that
            // look alike here may have asked different things, and their answers' differences are no noise.
            return;
        }
        SignatureState.Slot latest = null;
        for (SignatureState.Slot slot : state.slots()) {
            if (slot.requestFingerprint() == fingerprint && (latest == null || slot.sampledAt() > latest.sampledAt())) {
                latest = slot;
            }
        }
        if (latest == null || !state.takeNoiseBudget(at, config.noiseMaxPairs(), config.sampleTtl().toMillis())) {
            return;
        }
        String baselineKey = baselineKey(id, fingerprint);
        ResponseFields baseline = baselines.get(baselineKey);
        if (baseline == null) {
            Case stored = samples.get(caseId(id, latest.slot()));
            if (stored == null) {
                return;
            }
            baseline = ResponseDiff.fields(stored.getSample().getResponse(), stored.getSample().getOutboundCalls());
        }
        ResponseFields latestResponse = ResponseDiff.fields(draft.getSample().getResponse(),
                draft.getSample().getOutboundCalls());
        baselines.put(baselineKey, latestResponse);
        ResponseDiff.Outcome outcome = ResponseDiff.compare(baseline, latestResponse);
        forwardNoise(draft, route -> new NoiseObservation(draft.getService(), route, outcome.compared(),
                outcome.differing(), true, outcome.differingInAnyOrder(), outcome.numericSpreads()), at);
    }

    /**
     * Publishes dirty signatures' counters and retires stale signatures, measured against the newest event time, but
     * never one further ahead of this job's clock ({@code now}) than the allowed skew: the decode step bounds event
     * time so, and stores written before it did can hold a {@code lastSeen} a year ahead (a sidecar's clock), which
     * made every other signature a year old at every publish.
     * <p>One publication writes about {@code dedup.publish.max.cases} cases at most (it stops at the first signature
     * after that many): all it writes is in one transaction, which the broker aborts past its timeout, and a task
     * closed that way under exactly-once restores its stores from the changelogs, only to find even more to publish.
     * The next publication goes on from the signature this one stopped at, to the last and round to the first, so that
     * signatures dirty at every publication cannot keep the others waiting.
     */
    void publish(long now) {
        long retention = config.retention().toMillis();
        long newest = Math.min(eventTime, now + config.maxClockSkew().toMillis());
        List<KeyValue<String, SignatureState>> updated = new ArrayList<>();
        List<String> retired = new ArrayList<>();
        resumeAt = StoreWalk.from(signatures, resumeAt, config.publishMaxCases(), // cases, updates and tombstones
                entry -> publish(entry, newest, retention, now, updated, retired));
        if (resumeAt != null) {
            metrics.publicationsCut.inc();
        }
        for (KeyValue<String, SignatureState> entry : updated) {
            signatures.put(entry.key, entry.value);
        }
        for (String id : retired) {
            signatures.delete(id);
        }
        held -= retired.size();
        metrics.signatures.addAndGet(-retired.size());
    }

    /**
     * One signature's part of {@link #publish(long)}: retired, or its counters published when dirty.
     *
     * @return the cases written, updates and tombstones
     */
    private int publish(KeyValue<String, SignatureState> entry, long newest, long retention, long now,
                        List<KeyValue<String, SignatureState>> updated, List<String> retired) {
        SignatureState state = entry.value;
        if (newest - state.lastSeen() > retention) {
            retired.add(entry.key);
            for (SignatureState.Slot slot : state.slots()) {
                retireCase(entry.key, slot, true, now);
            }
            return state.slots().size();
        }
        int written = dropExtraSlots(entry.key, state, now);
        if (state.dirty()) {
            // The stored sample keeps the counters of when it was taken; the signature state holds the
            // current ones, so they are set on the copy written out and the store is not rewritten.
            for (SignatureState.Slot slot : state.slots()) {
                Case sample = samples.get(caseId(entry.key, slot.slot()));
                if (sample == null) {
                    continue;
                }
                sample.setHits(state.hits());
                sample.setFirstSeen(Instant.ofEpochMilli(state.firstSeen()));
                sample.setLastSeen(Instant.ofEpochMilli(state.lastSeen()));
                byte[] encoded;
                try {
                    encoded = cases.encode(sample.getCaseId(), sample);
                } catch (UnencodableOutputException e) {
                    // Stored by a version that did not encode a case before storing it, or refused by the serializer
                    // since: kept, it would fail every publication. Its case is retired, its slot freed for a new one.
                    state.dropSlot(slot.slot());
                    retireCase(entry.key, slot, !state.holdsRequest(slot.requestFingerprint()), now);
                    cases.removed(sample.getCaseId(), e);
                    written++;
                    continue;
                }
                emitCase(sample.getCaseId(), encoded, now);
                written++;
            }
            state.published();
            updated.add(entry);
        } else if (written > 0) {
            updated.add(entry);
        }
        return written;
    }

    /**
     * Retires the cases of slots beyond {@code dedup.samples}, which a signature keeps when the job restarts with
     * fewer samples per signature: a tombstone per case, and its stored sample and (when no other slot holds its
     * request) its noise baseline deleted.
     *
     * @return how many slots were dropped (a tombstone each)
     */
    private int dropExtraSlots(String id, SignatureState state, long timestamp) {
        List<SignatureState.Slot> dropped = state.dropSlotsFrom(config.samplesPerSignature());
        for (SignatureState.Slot slot : dropped) {
            retireCase(id, slot, !state.holdsRequest(slot.requestFingerprint()), timestamp);
        }
        return dropped.size();
    }

    /** Deletes a slot's stored sample (and, when asked, its request's noise baseline) and tombstones its case. */
    private void retireCase(String signatureId, SignatureState.Slot slot, boolean dropBaseline, long timestamp) {
        String caseId = caseId(signatureId, slot.slot());
        samples.delete(caseId);
        if (dropBaseline) {
            deleteBaselines(signatureId, slot.requestFingerprint());
        }
        context.forward(new Record<String, Emitted>(caseId, new Emitted.CaseOut(null), timestamp));
        metrics.tombstones.inc();
    }

    private void emitCase(String caseId, byte[] value, long timestamp) {
        context.forward(new Record<String, Emitted>(caseId, new Emitted.CaseOut(value), timestamp));
        metrics.casesEmitted.inc();
    }

    @Override
    public void close() {
        if (punctuator != null) {
            punctuator.cancel();
        }
        metrics.signatures.addAndGet(-held);
        held = 0;
    }
}
