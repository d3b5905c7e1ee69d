package io.tapline.dedup;

import io.tapline.avro.NoiseProfile;
import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.dedup.noise.RouteNoise;
import io.tapline.topics.TaplineTopics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Aggregates identical-request comparisons per service and route (input partitioned by that key,
 * {@link TaplineTopics#noiseKey}) and publishes each changed route's {@link NoiseProfile} on the publish cadence.
 *
 * <p>A route with neither a pair nor a new sample (the dedup step reports each sample it takes, at most N per
 * signature per TTL, as "route seen") for the retention, and for at least two sample TTLs, is retired on the same
 * cadence, counters and profile (a tombstone), as its signatures are: a path segment the route templates took for a
 * word ({@code /users/jdoe}) makes a route per value, whose counters would otherwise stay for good, while the noise of
 * a route still served is kept even when its identical requests stopped. Like signatures', "older" is measured in event time (a record's
 * timestamp is its interaction's event time), against the newest this task has seen, so a stopped capture retires
 * nothing.
 *
 * <p>Counters stored before noise was learned per service (keyed by the route alone, merging all services) are not
 * published again. Their profiles stay in the noise topic, where the replay worker falls back on them for a service
 * that has no profile of its own for the route, for {@link #LEGACY_GRACE_TTLS} sample TTLs after this version first
 * runs — time for every signature's noise budget to renew and the services to learn their own — and are then retired
 * with a tombstone, together with their counters.
 *
 * <p>A publication reads only the routes changed since the last one (their keys kept in memory, in the store's order),
 * unless a route may have something else to write: one due for retirement by a lower bound of the routes' last pairs,
 * a legacy route to schedule or retire, counters without a last pair's time, or changed routes past the bound kept
 * ({@link #MAX_DIRTY_KEYS}). It then reads the whole store, as every publication did, and a full pass that is not cut
 * by the budget sets the bounds and the changed routes again: so does the first publication after {@link #init}, which
 * keeps nothing from before (a task initialised again after an aborted transaction has its store back at the last
 * commit).
 */
final class NoiseProcessor implements Processor<String, NoiseObservation, String, byte[]> {

    static final int LEGACY_GRACE_TTLS = 2;
    /**
     * Most keys of changed routes kept in memory, and at most {@link #DIRTY_KEYS_PER_BUDGET} publications' budget:
     * past it a publication reads the whole store, as before (it writes no more than its budget anyway).
     */
    private static final int MAX_DIRTY_KEYS = 100_000;
    private static final int DIRTY_KEYS_PER_BUDGET = 10;
    /** The store's order of keys (their UTF-8 bytes'), which is their code points'. */
    private static final Comparator<String> STORE_ORDER = NoiseProcessor::compareCodePoints;

    private final DedupConfig config;
    private final DedupMetrics metrics;
    private final OutputEncoder<NoiseProfile> profiles;
    private final Map<String, Integer> noisyByRoute = new HashMap<>();
    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, RouteNoise> store;
    private Cancellable punctuator;
    /** Event time of the newest pair counted by this task; restored on start from the stored counters. */
    private long eventTime;
    /** The first route the last publication did not reach, where the next goes on; null: from the first. */
    private String resumeAt;
    /**
     * Keys of the routes whose counters changed since their last profile (possibly more: each is read before it is
     * published); null when not known (since {@link #init}, past {@link #dirtyKeysBound()}, or after a publication
     * cut by the budget while reading the whole store), when the next publication reads the whole store.
     */
    private NavigableSet<String> dirtyKeys;
    /** What the routes that did not change may have to write, bounded from below; see {@link Bounds}. */
    private Bounds bounds;

    NoiseProcessor(DedupConfig config, DedupMetrics metrics, OutputEncoder<NoiseProfile> profiles) {
        this.config = config;
        this.metrics = metrics;
        this.profiles = profiles;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.store = context.getStateStore(DedupTopology.NOISE_STORE);
        // From the store only: a task initialised again after an aborted transaction (the same processor, its store
        // back at the last commit) must not retire routes against event times of observations that were rolled back.
        // For the same reason the changed routes and the bounds are not known: the first publication reads the whole
        // store, as every publication did, and sets them.
        eventTime = 0;
        resumeAt = null;
        dirtyKeys = null;
        bounds = new Bounds();
        try (KeyValueIterator<String, RouteNoise> all = store.all()) {
            while (all.hasNext()) {
                eventTime = Math.max(eventTime, all.next().value.lastPairAt());
            }
        }
        punctuator = context.schedule(config.publishInterval(), PunctuationType.WALL_CLOCK_TIME, this::publish);
    }

    @Override
    public void process(Record<String, NoiseObservation> record) {
        NoiseObservation observation = record.value();
        if (!observation.pair()) {
            // a sample of the route was taken: it is alive (its record's key names the service and route)
            eventTime = Math.max(eventTime, record.timestamp());
            RouteNoise noise = store.get(record.key());
            if (noise != null && !noise.legacy()) {
                noise.add(observation, config.noiseMaxFields(), config.noiseWindowPairs(), record.timestamp());
                store.put(record.key(), noise);
                noteStored(record.key(), noise);
            }
            return;
        }
        if (observation.service() == null) {
            return; // written before noise was learned per service: no service to count it for
        }
        RouteNoise noise = store.get(record.key());
        if (noise == null || noise.legacy()) {
            noise = RouteNoise.empty(observation.service(), observation.route());
        }
        noise.add(observation, config.noiseMaxFields(), config.noiseWindowPairs(), record.timestamp());
        eventTime = Math.max(eventTime, record.timestamp());
        store.put(record.key(), noise);
        noteStored(record.key(), noise);
    }

    /** Keeps track of the counters {@code key} now has in the store: changed, and what they may have to write. */
    private void noteStored(String key, RouteNoise noise) {
        bounds.note(noise);
        if (noise.dirty() && dirtyKeys != null) {
            dirtyKeys.add(key);
            if (dirtyKeys.size() > dirtyKeysBound()) {
                dirtyKeys = null; // the next publication reads the whole store
            }
        }
    }

    private int dirtyKeysBound() {
        return (int) Math.min(MAX_DIRTY_KEYS, (long) DIRTY_KEYS_PER_BUDGET * config.publishMaxNoiseProfiles());
    }

    /**
     * Publishes the profiles of changed routes and retires stale ones. One publication writes the noise of about
     * {@code dedup.publish.max.noise.profiles} routes at most (a profile, a tombstone, or counters rewritten alone; it
     * stops at the first route after that many): all it writes is in one transaction, which the broker aborts past its
     * timeout, and a deploy that changes thousands of routes, or the first publication after a long outage, retiring
     * them all, put every one in it. The next publication goes on from the route this one stopped at, to the last and
     * round to the first, so that routes paired at every publication cannot keep the others waiting.
     */
    void publish(long now) {
        // A route still served takes a sample at least every 1.5 sample TTLs (SampleGate's half-TTL windows): with a
        // TTL longer than the retention, "route seen" alone would not keep its noise.
        long retention = Math.max(config.retention().toMillis(), 2 * config.sampleTtl().toMillis());
        // Never further ahead of this job's clock than the allowed skew, as the decode step bounds event time: counters
        // stored before it did can hold a last pair a year ahead, which made every other route a year old.
        long newest = Math.min(eventTime, now + config.maxClockSkew().toMillis());
        List<KeyValue<String, RouteNoise>> updated = new ArrayList<>();
        List<String> retired = new ArrayList<>();
        if (dirtyKeys != null && !bounds.due(newest, retention, now)) {
            publishChanged(newest, retention, now, updated, retired);
        } else {
            publishAll(newest, retention, now, updated, retired);
        }
        for (KeyValue<String, RouteNoise> entry : updated) {
            store.put(entry.key, entry.value);
        }
        retired.forEach(store::delete);
    }

    /** Reads every route, from where the last publication stopped, round to the first. */
    private void publishAll(long newest, long retention, long now, List<KeyValue<String, RouteNoise>> updated,
                            List<String> retired) {
        Bounds seen = new Bounds();
        // routes whose profile, tombstone or counters this publication writes
        resumeAt = StoreWalk.from(store, resumeAt, config.publishMaxNoiseProfiles(),
                entry -> publish(entry, newest, retention, now, updated, retired, seen) ? 1 : 0);
        if (resumeAt == null) {
            // every route read, every changed one published: what they may have to write next is known again
            bounds = seen;
            dirtyKeys = new TreeSet<>(STORE_ORDER);
        } else {
            metrics.noisePublicationsCut.inc();
            dirtyKeys = null; // the routes not reached are read again by the next publication
        }
    }

    /**
     * Reads only the routes changed since the last publication, in the store's order from where the last stopped,
     * round to the first, as {@link #publishAll} would reach them: no other route has anything to write. Stopped by
     * the budget, it goes on next time from the route after the last it wrote, as {@link #publishAll} would.
     */
    private void publishChanged(long newest, long retention, long now, List<KeyValue<String, RouteNoise>> updated,
                                List<String> retired) {
        int written = 0;
        String from = resumeAt;
        resumeAt = null;
        List<NavigableSet<String>> passes = from == null ? List.of(dirtyKeys)
                : List.of(dirtyKeys.tailSet(from, true), dirtyKeys.headSet(from, false));
        for (NavigableSet<String> pass : passes) {
            for (Iterator<String> keys = pass.iterator(); keys.hasNext(); ) {
                String key = keys.next();
                keys.remove();
                RouteNoise noise = store.get(key);
                if (noise != null && publish(KeyValue.pair(key, noise), newest, retention, now, updated, retired,
                        bounds) && ++written >= config.publishMaxNoiseProfiles()) {
                    resumeAt = storedAfter(key, from);
                    if (resumeAt != null) {
                        metrics.noisePublicationsCut.inc();
                    }
                    return; // the changed routes not reached stay in dirtyKeys
                }
            }
        }
    }

    /**
     * The route after {@code key} in a read of the store from {@code from} round to the first: where {@link #publishAll}
     * goes on after writing {@code key}'s noise last; null when none is left before {@code from}. Reads keys only.
     */
    private String storedAfter(String key, String from) {
        boolean round = from != null && compareCodePoints(key, from) < 0; // already gone round to the first
        String next = firstKey(store.range(key + '\0', null)); // key + U+0000: the least key after it, in UTF-8 too
        if (next == null && from != null && !round) {
            next = firstKey(store.all());
            round = true;
        }
        return next != null && (!round || compareCodePoints(next, from) < 0) ? next : null;
    }

    private static String firstKey(KeyValueIterator<String, RouteNoise> iterator) {
        try (iterator) {
            return iterator.hasNext() ? iterator.peekNextKey() : null;
        }
    }

    /**
     * One route's part of {@link #publish(long)}: retired, its profile published when changed, or its counters
     * rewritten alone (a legacy route's retirement scheduled, a last pair's time assumed).
     *
     * @param kept notes the counters the route keeps, unless retired
     * @return whether it wrote anything
     */
    private boolean publish(KeyValue<String, RouteNoise> entry, long newest, long retention, long now,
                            List<KeyValue<String, RouteNoise>> updated, List<String> retired, Bounds kept) {
        if (entry.value.legacy()) {
            if (entry.value.retireAt() == 0) {
                long grace = LEGACY_GRACE_TTLS * config.sampleTtl().toMillis();
                RouteNoise retiring = RouteNoise.retiring(now + grace);
                updated.add(KeyValue.pair(entry.key, retiring));
                kept.note(retiring);
                return true;
            } else if (now >= entry.value.retireAt()) {
                context.forward(new Record<String, byte[]>(entry.key, null, now));
                retired.add(entry.key);
                return true;
            }
            kept.note(entry.value);
            return false;
        }
        boolean changed = false;
        if (entry.value.lastPairAt() == 0 && newest > 0) {
            entry.value.assumeLastPairAt(newest); // counted before the last pair's time was kept
            changed = true;
        } else if (newest - entry.value.lastPairAt() > retention) {
            retire(entry.key, now, retired);
            metrics.noiseProfilesRetired.inc();
            return true;
        }
        if (!entry.value.dirty()) {
            if (changed) {
                updated.add(entry);
            }
            kept.note(entry.value);
            return changed;
        }
        NoiseProfile profile = entry.value.profile(config.noiseRule(), Instant.ofEpochMilli(now));
        byte[] encoded;
        try {
            encoded = profiles.encode(entry.key, profile);
        } catch (UnencodableOutputException e) {
            // Kept, the counters would make the same profile, failing every publication (a punctuation, no
            // record to set aside) after every restart: they are removed, the route's last profile retired.
            retire(entry.key, now, retired);
            profiles.removed(entry.key, e);
            return true;
        }
        context.forward(new Record<>(entry.key, encoded, now));
        metrics.noiseProfiles.inc();
        Integer before = noisyByRoute.put(entry.key, profile.getFields().size());
        metrics.noisyFields.addAndGet(profile.getFields().size() - (before == null ? 0 : before));
        entry.value.published();
        updated.add(entry);
        kept.note(entry.value);
        return true;
    }

    /** Tombstones the profile of {@code key} and adds its counters to those {@code retired}. */
    private void retire(String key, long now, List<String> retired) {
        context.forward(new Record<String, byte[]>(key, null, now));
        retired.add(key);
        Integer before = noisyByRoute.remove(key);
        metrics.noisyFields.addAndGet(before == null ? 0 : -before);
    }

    /**
     * Lower bounds of what routes that did not change may have to write: the earliest last pair (retirement), the
     * earliest scheduled retirement of a legacy route, and whether a legacy route is still to be scheduled or a route
     * has no last pair's time. Noted for every route the store holds: in {@link #init}, as counters are stored, and
     * again by every publication that reads every route.
     */
    private static final class Bounds {

        long earliestPair = Long.MAX_VALUE;
        long earliestLegacyRetirement = Long.MAX_VALUE;
        boolean legacyUnscheduled;
        boolean pairTimeUnknown;

        void note(RouteNoise noise) {
            if (noise.legacy()) {
                if (noise.retireAt() == 0) {
                    legacyUnscheduled = true;
                } else {
                    earliestLegacyRetirement = Math.min(earliestLegacyRetirement, noise.retireAt());
                }
            } else if (noise.lastPairAt() == 0) {
                pairTimeUnknown = true;
            } else {
                earliestPair = Math.min(earliestPair, noise.lastPairAt());
            }
        }

        /** Whether a route may have something to write though it did not change, as {@link #publish} decides. */
        boolean due(long newest, long retention, long now) {
            return legacyUnscheduled || now >= earliestLegacyRetirement || pairTimeUnknown && newest > 0
                    || earliestPair != Long.MAX_VALUE && newest - earliestPair > retention;
        }
    }

    /** Compares by code points, the order of the keys' UTF-8 bytes in the store (not UTF-16's of {@code compareTo}). */
    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int x = a.codePointAt(i);
            int y = b.codePointAt(j);
            if (x != y) {
                return Integer.compare(x, y);
            }
            i += Character.charCount(x);
            j += Character.charCount(y);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }

    @Override
    public void close() {
        if (punctuator != null) {
            punctuator.cancel();
        }
        int total = noisyByRoute.values().stream().mapToInt(Integer::intValue).sum();
        metrics.noisyFields.addAndGet(-total);
        noisyByRoute.clear();
    }
}
