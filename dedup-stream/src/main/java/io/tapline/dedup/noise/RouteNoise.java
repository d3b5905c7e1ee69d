package io.tapline.dedup.noise;

import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Noise counters of one route of one service: pairs compared, and per path the pairs it was present in, differed
 * in, and differed in with array order ignored (as the replay worker compares with
 * {@code --compare-array-order ignore}: a list whose elements only came in another order did not). Bounded to {@code maxFields} paths per route (new paths past the bound are not tracked; existing ones keep
 * counting).
 *
 * <p>The counters follow recent traffic: when the route's pairs reach twice the window, every counter is halved
 * ({@link #add}), so each pair weighs half as much per window of pairs that follows, and a path no longer seen drops
 * out once its count halves to 0, freeing its place. A field that starts or stops changing with a release is judged
 * on the pairs since, not outvoted by the route's whole history. The event time of the last pair or sample
 * ({@link #lastPairAt}) lets the route's counters be retired with the route.
 *
 * <p>Counters stored before noise was learned per service (format 1) are <em>legacy</em>: keyed by the route alone,
 * merging every service's pairs. They get no new pairs and are only kept until their profile is retired
 * ({@link #retireAt()}).
 */
public final class RouteNoise {

    private static final byte FORMAT_LEGACY = 1;
    /**
     * Format 2; this version appends the last pair's time after the fields, then per field (in their order) the pairs
     * it differed in with array order ignored, which the previous versions' readers ignore, so either version reads
     * what the other wrote (a rolling upgrade, a rollback). Counters stored without the latter take the field's
     * differing pairs for it (noise in every order, as it was applied).
     */
    private static final byte FORMAT = 2;

    private final String service;
    private final String route;
    private final long retireAt;
    private long pairs;
    private long lastPairAt;
    private boolean dirty;
    private final TreeMap<String, long[]> fields;

    private RouteNoise(String service, String route, long retireAt, long pairs, long lastPairAt, boolean dirty,
                       TreeMap<String, long[]> fields) {
        this.service = service;
        this.route = route;
        this.retireAt = retireAt;
        this.pairs = pairs;
        this.lastPairAt = lastPairAt;
        this.dirty = dirty;
        this.fields = fields;
    }

    /** No pairs yet for {@code route} ({@code METHOD /template}) of {@code service}. */
    public static RouteNoise empty(String service, String route) {
        return new RouteNoise(service, route, 0, 0, 0, false, new TreeMap<>());
    }

    /** A legacy entry whose profile is to be retired (tombstoned) at {@code at}, wall-clock milliseconds. */
    public static RouteNoise retiring(long at) {
        return new RouteNoise(null, null, at, 0, 0, false, new TreeMap<>());
    }

    /** Counters from before noise was learned per service (keyed by the route alone). */
    public boolean legacy() {
        return service == null;
    }

    /** For a legacy entry: when its profile is retired; 0 while not scheduled yet. */
    public long retireAt() {
        return retireAt;
    }

    /**
     * Counts one pair, observed at event time {@code at}. When the route's pairs reach twice {@code windowPairs} (0:
     * never), every counter is halved first (rounded down) and the paths whose presence count reaches 0 are dropped.
     * An observation that is no pair (a sample of the route was taken) only moves {@link #lastPairAt} on.
     */
    public void add(NoiseObservation observation, int maxFields, long windowPairs, long at) {
        if (!observation.pair()) {
            lastPairAt = Math.max(lastPairAt, at); // the route is alive: a sample was taken, nothing compared
            return;
        }
        if (windowPairs > 0 && pairs + 1 >= 2 * windowPairs) {
            halve();
        }
        pairs++;
        lastPairAt = Math.max(lastPairAt, at);
        dirty = true;
        for (String path : observation.compared()) {
            long[] counts = fields.get(path);
            if (counts == null) {
                if (fields.size() >= maxFields) {
                    continue;
                }
                counts = new long[3];
                fields.put(path, counts);
            }
            counts[0]++;
        }
        for (String path : observation.differing()) {
            long[] counts = fields.get(path);
            if (counts != null) {
                counts[1]++;
            }
        }
        for (String path : observation.differingWhateverTheOrder()) {
            long[] counts = fields.get(path);
            if (counts != null) {
                counts[2]++;
            }
        }
    }

    private void halve() {
        pairs /= 2;
        fields.values().removeIf(counts -> {
            counts[0] /= 2;
            counts[1] /= 2;
            counts[2] /= 2;
            return counts[0] == 0;
        });
    }

    public long pairs() {
        return pairs;
    }

    /**
     * Event time of the newest pair counted or sample taken of the route; 0 for counters stored before it was kept
     * (unknown).
     */
    public long lastPairAt() {
        return lastPairAt;
    }

    /** For counters stored before the last pair's time was kept: take {@code at} as that time. */
    public void assumeLastPairAt(long at) {
        if (lastPairAt == 0) {
            lastPairAt = at;
        }
    }

    public boolean dirty() {
        return dirty;
    }

    public void published() {
        dirty = false;
    }

    public int trackedFields() {
        return fields.size();
    }

    /**
     * The profile under the rule: only fields judged noisy, sorted by path, each saying whether it is noisy with array
     * order ignored too (by the same rule, on the pairs it differed in so compared).
     */
    public NoiseProfile profile(NoiseRule rule, Instant now) {
        if (legacy()) {
            throw new IllegalStateException("legacy route noise has no service to publish a profile for");
        }
        List<NoisyField> noisy = new ArrayList<>();
        for (Map.Entry<String, long[]> e : fields.entrySet()) {
            long compared = e.getValue()[0];
            long differing = e.getValue()[1];
            long differingInAnyOrder = e.getValue()[2];
            if (rule.isNoisy(differing, compared, pairs)) {
                noisy.add(NoisyField.newBuilder().setPath(e.getKey()).setDifferingPairs(differing)
                        .setComparedPairs(compared).setAnyOrderDifferingPairs(differingInAnyOrder)
                        .setNoisyInAnyOrder(rule.isNoisy(differingInAnyOrder, compared, pairs)).build());
            }
        }
        return NoiseProfile.newBuilder().setService(service).setRoute(route).setFields(noisy).setComparedPairs(pairs)
                .setUpdatedAt(now).build();
    }

    public static Serde<RouteNoise> serde() {
        return Serdes.serdeFrom((topic, r) -> r == null ? null : encode(r), (topic, b) -> b == null ? null : decode(b));
    }

    static byte[] encode(RouteNoise r) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 48 * r.fields.size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeBoolean(r.legacy());
            if (r.legacy()) {
                out.writeLong(r.retireAt);
            } else {
                out.writeUTF(r.service);
                out.writeUTF(r.route);
            }
            out.writeLong(r.pairs);
            out.writeBoolean(r.dirty);
            out.writeInt(r.fields.size());
            for (Map.Entry<String, long[]> e : r.fields.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue()[0]);
                out.writeLong(e.getValue()[1]);
            }
            out.writeLong(r.lastPairAt); // after the fields: see FORMAT
            for (long[] counts : r.fields.values()) {
                out.writeLong(counts[2]); // last: see FORMAT
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static RouteNoise decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte format = in.readByte();
            String service = null;
            String route = null;
            long retireAt = 0;
            if (format == FORMAT) {
                if (in.readBoolean()) {
                    retireAt = in.readLong();
                } else {
                    service = in.readUTF();
                    route = in.readUTF();
                }
            } else if (format != FORMAT_LEGACY) {
                throw new SerializationException("route noise format " + format + " is neither 1 nor 2");
            }
            long pairs = in.readLong();
            boolean dirty = in.readBoolean();
            int n = in.readInt();
            TreeMap<String, long[]> fields = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                String path = in.readUTF();
                long compared = in.readLong();
                long differing = in.readLong();
                fields.put(path, new long[] {compared, differing, differing});
            }
            // Written by the previous version: no last pair's time. Its paths of a map per id ($.bySku.1017.qty) are
            // observed no more ($.bySku.{id}.qty) and go as the halving brings their counts to 0; they are not told
            // apart here, since a key this version keeps as it is may look alike once in a path ($.hosts.10.0.0.1).
            long lastPairAt = in.available() >= Long.BYTES ? in.readLong() : 0;
            // Written before the pairs differing with array order ignored were counted: each field keeps its
            // differing pairs there, as noise in every order.
            if (in.available() >= (long) n * Long.BYTES) {
                for (long[] counts : fields.values()) {
                    counts[2] = in.readLong();
                }
            }
            return new RouteNoise(service, route, retireAt, pairs, lastPairAt, dirty, fields);
        } catch (IOException e) {
            throw new SerializationException("corrupt route noise", e);
        }
    }
}
