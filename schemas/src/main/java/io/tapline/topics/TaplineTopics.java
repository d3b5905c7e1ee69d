package io.tapline.topics;

import java.util.List;
import java.util.Map;

/** The topics of a Tapline installation and the settings they are created with. */
public final class TaplineTopics {

    public static final String INTERACTIONS = "tapline.interactions";
    public static final String CASES = "tapline.cases";
    public static final String NOISE = "tapline.noise";
    public static final String RESULTS = "tapline.results";
    public static final String RUNS = "tapline.runs";
    public static final String DLQ = "tapline.dlq";
    public static final String UNATTRIBUTED = "tapline.unattributed";

    private static final long HOUR_MS = 60L * 60 * 1000;
    private static final long DAY_MS = 24 * HOUR_MS;

    /** Largest interaction record (the sidecar's {@code max.request.size} and the interactions topic's limit). */
    public static final int INTERACTION_MAX_BYTES = 8 * 1024 * 1024;
    /**
     * Largest record derived from one interaction: a case (the interaction plus its signature), a dead letter (the
     * raw record plus error headers), dedup-stream's internal records. Twice the interaction limit, so whatever the
     * interactions topic accepted can be carried on.
     */
    public static final int DERIVED_MAX_BYTES = 2 * INTERACTION_MAX_BYTES;
    /**
     * Largest dead letter: a record of {@link #DERIVED_MAX_BYTES} plus its error headers (a few KiB) and what lz4 may
     * add to incompressible bytes (1/255 of them), with room to spare. The dead-letter topic's limit, and the
     * {@code max.request.size} of every producer that writes dead letters.
     */
    public static final int DLQ_MAX_BYTES = DERIVED_MAX_BYTES + 1024 * 1024;

    /** Raw captures. Keyed by route (method + normalised path) so one route's traffic lands on one partition. */
    public static final TopicSpec INTERACTIONS_SPEC = new TopicSpec(INTERACTIONS, 6, Map.of(
            // Raw captures are only input to dedup; a week lets a stopped dedup job catch up.
            "cleanup.policy", "delete",
            "retention.ms", Long.toString(7 * DAY_MS),
            // Interactions carry bodies up to the capture cap; compress on the broker side too.
            "compression.type", "producer",
            "max.message.bytes", Integer.toString(INTERACTION_MAX_BYTES)),
            "Captured interactions (Avro Interaction), key = service + route, time retention");

    /** Unique cases; compaction keeps the latest sample per case id, tombstones retire a case. */
    public static final TopicSpec CASES_SPEC = new TopicSpec(CASES, 6, Map.of(
            "cleanup.policy", "compact",
            // Tombstones must outlive a replay run that is reading the topic.
            "delete.retention.ms", Long.toString(DAY_MS),
            "min.cleanable.dirty.ratio", "0.1",
            "segment.ms", Long.toString(DAY_MS),
            // A replay run reads a case's version below its bounds while dedup writes newer ones above them: the
            // older one must not be compacted away before the run ends. Longer than a replay Job may run
            // (activeDeadlineSeconds 3600 in deploy/k8s; DeployManifestsTest checks).
            "min.compaction.lag.ms", Long.toString(2 * HOUR_MS),
            "max.message.bytes", Integer.toString(DERIVED_MAX_BYTES)),
            "Unique test cases (Avro Case), compacted, key = case id (signature id + sample slot)");

    public static final TopicSpec NOISE_SPEC = new TopicSpec(NOISE, 1, Map.of(
            "cleanup.policy", "compact",
            "min.cleanable.dirty.ratio", "0.1",
            // A route's profile: up to 2048 noisy fields (noise.max.fields.per.route), each path up to 4096
            // characters, over the broker's default of 1 MiB; a record refused would fail the dedup task at every retry.
            "max.message.bytes", Integer.toString(DERIVED_MAX_BYTES)),
            "Learned noisy response fields (Avro NoiseProfile), compacted, key = service + METHOD + route template");

    public static final TopicSpec RESULTS_SPEC = new TopicSpec(RESULTS, 6, Map.of(
            "cleanup.policy", "delete",
            // CI looks at a run right away; dashboards look back a month.
            "retention.ms", Long.toString(30 * DAY_MS)),
            "Replay results (Avro ReplayResult), key = run id + '/' + case id");

    public static final TopicSpec RUNS_SPEC = new TopicSpec(RUNS, 1, Map.of(
            "cleanup.policy", "compact"),
            "Run lifecycle (Avro RunEvent): bounds at start, summary at the end; key = run id + '/bounds/' + proposal id, or '/summary'");

    public static final TopicSpec DLQ_SPEC = new TopicSpec(DLQ, 1, Map.of(
            "cleanup.policy", "delete",
            "retention.ms", Long.toString(14 * DAY_MS),
            // A dead letter is the raw record it sets aside (an interaction or a case of the largest size) plus headers.
            "max.message.bytes", Integer.toString(DLQ_MAX_BYTES)),
            "Records that could not be processed, raw bytes plus error headers (source topic, partition, offset, reason)");

    /** Outbound calls no interaction could claim; for diagnosing missing trace propagation, not replayed. */
    public static final TopicSpec UNATTRIBUTED_SPEC = new TopicSpec(UNATTRIBUTED, 1, Map.of(
            "cleanup.policy", "delete",
            // Diagnostic data: a few days show whether an app propagates trace context.
            "retention.ms", Long.toString(3 * DAY_MS)),
            "Outbound calls that could not be attributed to one interaction (Avro UnattributedCall), key = service + destination");

    private TaplineTopics() {
    }

    /**
     * Key of a {@code tapline.noise} record: the service, a space and the route ({@code METHOD /template}), e.g.
     * {@code petclinic GET /owners/{id}}: two services' {@code GET /health} learn and apply their own noise. Profiles
     * written before noise was learned per service are keyed by the route alone (and carry an empty service).
     */
    public static String noiseKey(String service, String route) {
        return service + " " + route;
    }

    /** Every topic in creation order. */
    public static List<TopicSpec> all() {
        return List.of(INTERACTIONS_SPEC, CASES_SPEC, NOISE_SPEC, RESULTS_SPEC, RUNS_SPEC, DLQ_SPEC, UNATTRIBUTED_SPEC);
    }
}
