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
 * {@code --compare-array-order ignore}: a list whose elements only came in another order did not); and how far its
 * numbers varied, as the replay worker's {@code --compare-numeric-tolerance} measures it: the pairs it differed in
 * otherwise than by numbers at the same positions, and the largest numeric spread ({@link ResponseDiff#spread}) of
 * the pairs since the last halving and of the window before that had one. Bounded to {@code maxFields} paths per
 * route (new paths past the bound are not tracked; existing ones keep counting).
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
     * it differed in with array order ignored, then per field its pairs not differing by numbers only and its two
     * spreads, which the previous versions' readers ignore, so either version reads what the other wrote (a rolling
     * upgrade, a rollback). Counters stored without the pairs in any order take the field's differing pairs for it
     * (noise in every order, as it was applied); without the spreads, every differing pair as not numeric (noise
     * whatever the tolerance), until the halving drops them.
     */
    private static final byte FORMAT = 2;

    private final String service;
    private final String route;
    private final long retireAt;
    private long pairs;
    private long lastPairAt;
    private boolean dirty;
    private final TreeMap<String, Counts> fields;

    /** The counters of one path. */
    private static final class Counts {

        long compared;
        long differing;
        long differingInAnyOrder;
        /** Of {@code differing}, the pairs whose variation was not numbers' at the same positions, or not known. */
        long notNumeric;
        /** The largest numeric spread since the route's last halving; 0 for none. */
        double spread;
        /** That of the latest window before with one; 0 for none, and once {@code differing} halves to 0. */
        double spreadBefore;

        Counts(long compared, long differing, long differingInAnyOrder, long notNumeric) {
            this.compared = compared;
            this.differing = differing;
            this.differingInAnyOrder = differingInAnyOrder;
            this.notNumeric = notNumeric;
        }

        /** The published spread: null when a difference counted was not numeric (or none is known). */
        Double numericSpread() {
            double largest = Math.max(spread, spreadBefore);
            return notNumeric > 0 || !(largest > 0) ? null : largest;
        }
    }

    private RouteNoise(String service, String route, long retireAt, long pairs, long lastPairAt, boolean dirty,
                       TreeMap<String, Counts> fields) {
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
            Counts counts = fields.get(path);
            if (counts == null) {
                if (fields.size() >= maxFields) {
                    continue;
                }
                counts = new Counts(0, 0, 0, 0);
                fields.put(path, counts);
            }
            counts.compared++;
        }
        for (String path : observation.differing()) {
            Counts counts = fields.get(path);
            if (counts != null) {
                counts.differing++;
                Double spread = observation.numericSpreads().get(path);
                if (spread == null) {
                    counts.notNumeric++;
                } else {
                    counts.spread = Math.max(counts.spread, spread);
                }
            }
        }
        for (String path : observation.differingWhateverTheOrder()) {
            Counts counts = fields.get(path);
            if (counts != null) {
                counts.differingInAnyOrder++;
            }
        }
    }

    /**
     * Halves the counters; a window's spread becomes the one before (the window of pairs after the last halving
     * starts without one), and both go when the differing pairs halve to 0.
     */
    private void halve() {
        pairs /= 2;
        fields.values().removeIf(counts -> {
            counts.compared /= 2;
            counts.differing /= 2;
            counts.differingInAnyOrder /= 2;
            counts.notNumeric /= 2;
            if (counts.spread > 0) {
                counts.spreadBefore = counts.spread;
                counts.spread = 0;
            }
            if (counts.differing == 0) {
                counts.spreadBefore = 0;
            }
            return counts.compared == 0;
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
     * order ignored too (by the same rule, on the pairs it differed in so compared) and, when every difference counted
     * was numbers' at the same positions, how far they varied ({@code numericSpread}).
     */
    public NoiseProfile profile(NoiseRule rule, Instant now) {
        if (legacy()) {
            throw new IllegalStateException("legacy route noise has no service to publish a profile for");
        }
        List<NoisyField> noisy = new ArrayList<>();
        for (Map.Entry<String, Counts> e : fields.entrySet()) {
            Counts counts = e.getValue();
            if (rule.isNoisy(counts.differing, counts.compared, pairs)) {
                noisy.add(NoisyField.newBuilder().setPath(e.getKey()).setDifferingPairs(counts.differing)
                        .setComparedPairs(counts.compared).setAnyOrderDifferingPairs(counts.differingInAnyOrder)
                        .setNoisyInAnyOrder(rule.isNoisy(counts.differingInAnyOrder, counts.compared, pairs))
                        .setNumericSpread(counts.numericSpread()).build());
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
            for (Map.Entry<String, Counts> e : r.fields.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue().compared);
                out.writeLong(e.getValue().differing);
            }
            out.writeLong(r.lastPairAt); // after the fields: see FORMAT
            for (Counts counts : r.fields.values()) {
                out.writeLong(counts.differingInAnyOrder); // after the last pair's time: see FORMAT
            }
            for (Counts counts : r.fields.values()) {
                out.writeLong(counts.notNumeric); // last: see FORMAT
                out.writeDouble(counts.spread);
                out.writeDouble(counts.spreadBefore);
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
            TreeMap<String, Counts> fields = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                String path = in.readUTF();
                long compared = in.readLong();
                long differing = in.readLong();
                fields.put(path, new Counts(compared, differing, differing, differing));
            }
            // Written by the previous version: no last pair's time. Its paths of a map per id ($.bySku.1017.qty) are
            // observed no more ($.bySku.{id}.qty) and go as the halving brings their counts to 0; they are not told
            // apart here, since a key this version keeps as it is may look alike once in a path ($.hosts.10.0.0.1).
            long lastPairAt = in.available() >= Long.BYTES ? in.readLong() : 0;
            // Written before the pairs differing with array order ignored were counted: each field keeps its
            // differing pairs there, as noise in every order.
            if (in.available() >= (long) n * Long.BYTES) {
                for (Counts counts : fields.values()) {
                    counts.differingInAnyOrder = in.readLong();
                }
            }
            // Written before numeric spreads were kept: every differing pair counts as not numeric.
            if (in.available() >= (long) n * (Long.BYTES + 2 * Double.BYTES)) {
                for (Counts counts : fields.values()) {
                    counts.notNumeric = in.readLong();
                    counts.spread = in.readDouble();
                    counts.spreadBefore = in.readDouble();
                }
            }
            return new RouteNoise(service, route, retireAt, pairs, lastPairAt, dirty, fields);
        } catch (IOException e) {
            throw new SerializationException("corrupt route noise", e);
        }
    }
}
