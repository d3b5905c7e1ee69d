package io.tapline.dedup;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides, before the {@code by-signature} repartition, which hits must carry their whole interaction. The dedup step
 * needs an interaction only to sample it (a free or expired slot: at most {@code samples} per signature per sample
 * TTL) or to compare it with an earlier response of the identical request (noise: at most {@code noisePairs} per
 * signature per TTL); every other hit only counts. So each decode task sends, per signature and per half sample TTL
 * of event time, its first {@code samples} interactions whole, plus up to {@code noisePairs} whose request repeats
 * one it sent whole in the last four windows (a sample is replaced about once per TTL under steady traffic, so every
 * request a slot still holds is among them); the rest as counted hits.
 *
 * <p>Half the TTL, so that a slot that expires is refilled within half a TTL of traffic, whichever task's hit filled
 * it. The gate is a per-task, in-memory hint, never state the results depend on for correctness: a signature it
 * forgot (least recently seen beyond {@link #MAX_SIGNATURES}, or a restarted task) starts over with whole
 * interactions, which costs repartition bytes and nothing else. Not thread-safe: one per processor.
 */
final class SampleGate {

    /** Signatures remembered per decode task; about 200 bytes each with the default 3 samples. */
    static final int MAX_SIGNATURES = 20_000;

    /** Windows of whole hits whose requests are remembered for noise pairs. */
    private static final int REMEMBERED_WINDOWS = 4;

    private final int samples;
    private final int noisePairs;
    private final long windowMillis;
    private final int remembered;
    private final Map<String, Entry> entries;

    SampleGate(int samples, int noisePairs, long sampleTtlMillis, int maxSignatures) {
        this.samples = samples;
        this.noisePairs = noisePairs;
        this.windowMillis = Math.max(1, sampleTtlMillis / 2);
        this.remembered = Math.max(1, samples * REMEMBERED_WINDOWS);
        this.entries = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > maxSignatures;
            }
        };
    }

    /** Whether the hit of {@code signatureId} at {@code at} with this request fingerprint must carry its interaction. */
    boolean whole(String signatureId, long at, long requestFingerprint) {
        Entry e = entries.get(signatureId);
        if (e == null) {
            e = new Entry(at, remembered);
            entries.put(signatureId, e);
        } else if (at - e.windowStart > windowMillis) {
            e.windowStart = at;
            e.whole = 0;
            e.repeats = 0;
        }
        if (e.whole < samples) {
            e.whole++;
            e.remember(requestFingerprint);
            return true;
        }
        if (e.repeats < noisePairs && e.sent(requestFingerprint)) {
            e.repeats++;
            return true;
        }
        return false;
    }

    int size() {
        return entries.size();
    }

    private static final class Entry {
        long windowStart;
        int whole;
        int repeats;
        final long[] fingerprints;
        int next;
        int filled;

        Entry(long windowStart, int remembered) {
            this.windowStart = windowStart;
            this.fingerprints = new long[remembered];
        }

        void remember(long fingerprint) {
            fingerprints[next] = fingerprint;
            next = (next + 1) % fingerprints.length;
            filled = Math.min(filled + 1, fingerprints.length);
        }

        boolean sent(long fingerprint) {
            for (int i = 0; i < filled; i++) {
                if (fingerprints[i] == fingerprint) {
                    return true;
                }
            }
            return false;
        }
    }
}
