package io.tapline.dedup;

import io.tapline.avro.Case;
import io.tapline.avro.NoiseProfile;
import io.tapline.logging.PeriodicWarning;
import io.tapline.ops.Metrics;
import io.tapline.topics.DeadLetters;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Encodes the values of an output topic (cases, noise profiles) with that topic's serializer in the step that writes
 * them; the topic's sink then writes the bytes as they are. Encoded in the sink, a value the serializer refused failed
 * the stream thread when a publication (a punctuation, no record to set aside) wrote it, at every publication after
 * every restart, until the restart budget shut the job down. Here the step sees the failure: a record's own case is
 * encoded before anything of it is stored, and fails the record (a dead letter, {@link RecordFailureHandler}); a
 * stored value a publication cannot encode is removed, with a tombstone, counted and warned of ({@link #removed}).
 *
 * <p>Each value is serialized once, as before: in the step instead of in the sink.
 */
final class OutputEncoder<T> {

    private static final Logger LOG = LoggerFactory.getLogger(OutputEncoder.class);

    private final Serializer<T> serializer;
    private final String topic;
    private final String kind;
    private final Metrics.Counter removed;
    private final PeriodicWarning warning;

    /**
     * @param kind    what the values are, in the warning ({@code case}, {@code noise profile})
     * @param removed counts the stored values removed because a publication could not encode them
     */
    OutputEncoder(Serializer<T> serializer, String topic, String kind, Metrics.Counter removed,
                  PeriodicWarning warning) {
        this.serializer = serializer;
        this.topic = topic;
        this.kind = kind;
        this.removed = removed;
        this.warning = warning;
    }

    static OutputEncoder<Case> cases(Serializer<Case> serializer, DedupConfig config, DedupMetrics metrics) {
        return new OutputEncoder<>(serializer, config.casesTopic(), "case", metrics.unencodableCases,
                metrics.unencodableWarning);
    }

    static OutputEncoder<NoiseProfile> noiseProfiles(Serializer<NoiseProfile> serializer, DedupConfig config,
                                                     DedupMetrics metrics) {
        return new OutputEncoder<>(serializer, config.noiseTopic(), "noise profile", metrics.unencodableNoiseProfiles,
                metrics.unencodableWarning);
    }

    /**
     * The value of {@code key} as the topic's serializer writes it.
     *
     * @throws UnencodableOutputException when the serializer fails for this value alone
     * @throws RuntimeException           the serializer's failure as it is when it is not the value's (the registry
     *                                    unreachable or refusing access): that fails every value alike
     */
    byte[] encode(String key, T value) {
        try {
            return serializer.serialize(topic, value);
        } catch (RuntimeException e) {
            if (!SerializationFailureHandler.recordAtFault(e)) {
                throw e;
            }
            throw new UnencodableOutputException(kind + " " + key + " cannot be encoded for " + topic, e);
        }
    }

    /**
     * Counts a stored value that a publication could not encode and that the step removed with a tombstone, and warns
     * of it: at the first, then at most once per interval with the count since the last warning.
     */
    void removed(String key, UnencodableOutputException failure) {
        removed.inc();
        long due = warning.occurred();
        if (due > 0) {
            String reason = DeadLetters.describe(failure.getCause());
            LOG.atWarn().addKeyValue("removed", due).addKeyValue("topic", topic).addKeyValue("key", key)
                    .addKeyValue("reason", reason)
                    .log("{} stored output value{} could not be encoded for publication and {} removed with a tombstone "
                            + "since the last such warning (at most one every {} s; "
                            + "tapline_dedup_unencodable_removed_total counts them all); the last, {} {} for {}: {}",
                            due, due == 1 ? "" : "s", due == 1 ? "was" : "were",
                            DecodeProcessor.DEAD_LETTER_WARNING_INTERVAL.toSeconds(), kind, key, topic, reason);
        }
    }
}
