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
 * Per-route noise counters: pairs compared, and per path the pairs it was present in and differed in. Bounded to
 * {@code maxFields} paths per route (new paths past the bound are not tracked; existing ones keep counting).
 */
public final class RouteNoise {

    private long pairs;
    private boolean dirty;
    private final TreeMap<String, long[]> fields;

    private RouteNoise(long pairs, boolean dirty, TreeMap<String, long[]> fields) {
        this.pairs = pairs;
        this.dirty = dirty;
        this.fields = fields;
    }

    public static RouteNoise empty() {
        return new RouteNoise(0, false, new TreeMap<>());
    }

    public void add(NoiseObservation observation, int maxFields) {
        pairs++;
        dirty = true;
        for (String path : observation.compared()) {
            long[] counts = fields.get(path);
            if (counts == null) {
                if (fields.size() >= maxFields) {
                    continue;
                }
                counts = new long[2];
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
    }

    public long pairs() {
        return pairs;
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

    /** The profile under the rule: only fields judged noisy, sorted by path. */
    public NoiseProfile profile(String route, NoiseRule rule, Instant now) {
        List<NoisyField> noisy = new ArrayList<>();
        for (Map.Entry<String, long[]> e : fields.entrySet()) {
            long compared = e.getValue()[0];
            long differing = e.getValue()[1];
            if (rule.isNoisy(differing, compared, pairs)) {
                noisy.add(new NoisyField(e.getKey(), differing, compared));
            }
        }
        return NoiseProfile.newBuilder().setRoute(route).setFields(noisy).setComparedPairs(pairs).setUpdatedAt(now)
                .build();
    }

    public static Serde<RouteNoise> serde() {
        return Serdes.serdeFrom((topic, r) -> r == null ? null : encode(r), (topic, b) -> b == null ? null : decode(b));
    }

    static byte[] encode(RouteNoise r) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 48 * r.fields.size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(1);
            out.writeLong(r.pairs);
            out.writeBoolean(r.dirty);
            out.writeInt(r.fields.size());
            for (Map.Entry<String, long[]> e : r.fields.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue()[0]);
                out.writeLong(e.getValue()[1]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static RouteNoise decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (in.readByte() != 1) {
                throw new SerializationException("route noise format is not 1");
            }
            long pairs = in.readLong();
            boolean dirty = in.readBoolean();
            int n = in.readInt();
            TreeMap<String, long[]> fields = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                fields.put(in.readUTF(), new long[] {in.readLong(), in.readLong()});
            }
            return new RouteNoise(pairs, dirty, fields);
        } catch (IOException e) {
            throw new SerializationException("corrupt route noise", e);
        }
    }
}
