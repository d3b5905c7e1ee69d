package io.tapline.dedup.noise;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * A response, with the requests sent to dependencies, reduced to what noise learning compares: per field
 * ({@code header:<name>}, a JSON path, {@code body}, or a dependency request field {@code call:...}) the first 64 bits
 * of the SHA-256 of its values. Stored as the baseline of a request (the latest response compared for it), so it costs
 * the field paths plus 8 bytes per field, not the body.
 *
 * <p>Format 1, stored before dependency requests were learned, holds no {@code call:} fields;
 * {@link #callsCompared()} tells the two apart.
 */
public final class ResponseFields {

    private static final byte FORMAT_WITHOUT_CALLS = 1;
    private static final byte FORMAT = 2;

    private final SortedMap<String, Long> digests;
    private final boolean callsCompared;

    /** Copies {@code digests}. */
    public ResponseFields(SortedMap<String, Long> digests, boolean callsCompared) {
        this.digests = Collections.unmodifiableSortedMap(new TreeMap<>(digests));
        this.callsCompared = callsCompared;
    }

    /** See {@link #wrap}; why this is a class rather than a record: a record's constructors all run the copying one. */
    private ResponseFields(TreeMap<String, Long> fresh, boolean callsCompared) {
        this.digests = Collections.unmodifiableSortedMap(fresh);
        this.callsCompared = callsCompared;
    }

    /** Fields over {@code fresh} itself, not a copy: for a map built for them that nothing else holds or changes. */
    static ResponseFields wrap(TreeMap<String, Long> fresh, boolean callsCompared) {
        return new ResponseFields(fresh, callsCompared);
    }

    /** False for fields stored before dependency requests were learned: they hold no {@code call:} field. */
    public boolean callsCompared() {
        return callsCompared;
    }

    /** Per field path, the first 64 bits of the SHA-256 of its values; unmodifiable, sorted by path. */
    public SortedMap<String, Long> digests() {
        return digests;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResponseFields other && digests.equals(other.digests)
                && callsCompared == other.callsCompared;
    }

    @Override
    public int hashCode() {
        return 31 * digests.hashCode() + Boolean.hashCode(callsCompared);
    }

    @Override
    public String toString() {
        return "ResponseFields[digests=" + digests + ", callsCompared=" + callsCompared + "]";
    }

    /** Serde for the baseline store and its changelog. */
    public static Serde<ResponseFields> serde() {
        return Serdes.serdeFrom((topic, f) -> f == null ? null : encode(f), (topic, b) -> b == null ? null : decode(b));
    }

    static byte[] encode(ResponseFields f) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + 40 * f.digests.size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeInt(f.digests.size());
            for (Map.Entry<String, Long> e : f.digests.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen on a byte array
        }
        return bytes.toByteArray();
    }

    static ResponseFields decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte format = in.readByte();
            if (format != FORMAT && format != FORMAT_WITHOUT_CALLS) {
                throw new SerializationException("response fields format " + format + " is neither 1 nor 2");
            }
            int n = in.readInt();
            TreeMap<String, Long> digests = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                digests.put(in.readUTF(), in.readLong());
            }
            return wrap(digests, format == FORMAT);
        } catch (IOException e) {
            throw new SerializationException("corrupt response fields", e);
        }
    }
}
