package io.tapline.dedup;

import io.tapline.avro.Case;

/**
 * One interaction's hit on its signature, as it crosses the {@code by-signature} repartition: its event time and
 * request fingerprint, and the whole interaction (as a draft {@link Case}) only when the dedup step may need it, as a
 * sample or as the second response of an identical request ({@link SampleGate}). Most hits of a busy signature travel
 * without it, which keeps the repartition topic small.
 *
 * @param at                 event time, epoch milliseconds
 * @param requestFingerprint {@code ResponseDiff.requestFingerprint} of the interaction's request
 * @param draft              the draft case (slot -1, hits 1), or null for a hit that only counts
 */
record Hit(long at, long requestFingerprint, Case draft) {

    static Hit counted(long at, long requestFingerprint) {
        return new Hit(at, requestFingerprint, null);
    }

    boolean whole() {
        return draft != null;
    }
}
