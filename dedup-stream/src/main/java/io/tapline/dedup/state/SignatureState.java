package io.tapline.dedup.state;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * What the dedup stream remembers about one signature apart from the sample bodies: traffic counters, whether they
 * changed since the last publish, and per sample slot its capture time and request fingerprint (to find
 * identical-request pairs for noise learning without loading the samples). Encoded: 39 bytes + 17 per slot.
 */
public final class SignatureState {

    /** One occupied sample slot. */
    public record Slot(int slot, long sampledAt, long requestFingerprint) {
    }

    private long hits;
    private long firstSeen;
    private long lastSeen;
    private boolean dirty;
    private long noiseWindowStart;
    private int noisePairs;
    private final List<Slot> slots;

    public SignatureState(long hits, long firstSeen, long lastSeen, boolean dirty, long noiseWindowStart,
                          int noisePairs, List<Slot> slots) {
        this.hits = hits;
        this.firstSeen = firstSeen;
        this.lastSeen = lastSeen;
        this.dirty = dirty;
        this.noiseWindowStart = noiseWindowStart;
        this.noisePairs = noisePairs;
        this.slots = new ArrayList<>(slots);
    }

    /** State of a signature seen for the first time at {@code at}. */
    public static SignatureState first(long at) {
        return new SignatureState(0, at, at, true, at, 0, List.of());
    }

    /** Counts one hit seen at {@code at} (event time; out-of-order hits never move lastSeen back). */
    public void hit(long at) {
        hits++;
        lastSeen = Math.max(lastSeen, at);
        firstSeen = Math.min(firstSeen, at);
        dirty = true;
    }

    public long hits() {
        return hits;
    }

    public long firstSeen() {
        return firstSeen;
    }

    public long lastSeen() {
        return lastSeen;
    }

    public boolean dirty() {
        return dirty;
    }

    public void published() {
        dirty = false;
    }

    public List<Slot> slots() {
        return List.copyOf(slots);
    }

    /**
     * The slot a new sample seen at {@code at} should take: a free slot while fewer than {@code capacity} are used,
     * else the oldest slot once its sample is older than {@code ttlMillis}; -1 when the sample is not needed.
     */
    public int slotFor(long at, int capacity, long ttlMillis) {
        if (slots.size() < capacity) {
            for (int candidate = 0; candidate < capacity; candidate++) {
                final int c = candidate;
                if (slots.stream().noneMatch(s -> s.slot() == c)) {
                    return candidate;
                }
            }
        }
        Slot oldest = null;
        for (Slot s : slots) {
            if (oldest == null || s.sampledAt() < oldest.sampledAt()) {
                oldest = s;
            }
        }
        return oldest != null && at - oldest.sampledAt() > ttlMillis ? oldest.slot() : -1;
    }

    /**
     * Puts (or replaces) the sample in a slot.
     *
     * @return the request fingerprint of the replaced sample when no slot holds a sample of that request any more;
     *         empty when the slot was free or a slot (the new sample's included) still holds that request
     */
    public OptionalLong sample(int slot, long sampledAt, long requestFingerprint) {
        Slot replaced = null;
        for (Slot s : slots) {
            if (s.slot() == slot) {
                replaced = s;
                break;
            }
        }
        slots.removeIf(s -> s.slot() == slot);
        slots.add(new Slot(slot, sampledAt, requestFingerprint));
        slots.sort((a, b) -> Integer.compare(a.slot(), b.slot()));
        dirty = true;
        if (replaced == null) {
            return OptionalLong.empty();
        }
        for (Slot s : slots) {
            if (s.requestFingerprint() == replaced.requestFingerprint()) {
                return OptionalLong.empty();
            }
        }
        return OptionalLong.of(replaced.requestFingerprint());
    }

    /**
     * Drops the slots numbered {@code capacity} or above, which a signature keeps from a run with more samples per
     * signature. Leaves the counters and the dirty flag alone: the remaining cases need no new publish.
     *
     * @return the dropped slots, in slot order; empty when there were none
     */
    public List<Slot> dropSlotsFrom(int capacity) {
        List<Slot> dropped = new ArrayList<>();
        for (Slot s : slots) {
            if (s.slot() >= capacity) {
                dropped.add(s);
            }
        }
        slots.removeAll(dropped);
        return dropped;
    }

    /**
     * Drops one slot (its sample could not be published), freeing it for a new sample. Leaves the counters and the
     * dirty flag alone.
     */
    public void dropSlot(int slot) {
        slots.removeIf(s -> s.slot() == slot);
    }

    /** Whether a remaining slot holds a sample of the request with this fingerprint. */
    public boolean holdsRequest(long requestFingerprint) {
        for (Slot s : slots) {
            if (s.requestFingerprint() == requestFingerprint) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes one unit of the noise-comparison budget: at most {@code maxPairs} comparisons per {@code windowMillis}
     * of event time, so a hot signature with identical requests does not diff every record.
     */
    public boolean takeNoiseBudget(long at, int maxPairs, long windowMillis) {
        if (at - noiseWindowStart > windowMillis) {
            noiseWindowStart = at;
            noisePairs = 0;
        }
        if (noisePairs >= maxPairs) {
            return false;
        }
        noisePairs++;
        return true;
    }

    long noiseWindowStart() {
        return noiseWindowStart;
    }

    int noisePairs() {
        return noisePairs;
    }
}
