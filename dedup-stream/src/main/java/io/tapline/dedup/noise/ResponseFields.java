package io.tapline.dedup.noise;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 *
 * <p>Each field also has a digest of its values as the replay worker compares them with array order ignored
 * ({@link #anyOrderDigests()}), appended after the fields in format 2, so that the previous version, which stops
 * reading after them, reads what this one wrote; fields stored before have none ({@code null}).
 *
 * <p>The fields of a JSON body whose values are all numbers, a few per field and per response, also keep their values
 * ({@link #numbers()}), so that a pair's numeric variation can be measured; appended after the digests in any order,
 * which the previous versions do not read. Fields stored before have none.
 */
public final class ResponseFields {

    private static final byte FORMAT_WITHOUT_CALLS = 1;
    private static final byte FORMAT = 2;

    private final SortedMap<String, Long> digests;
    private final SortedMap<String, Long> anyOrderDigests;
    private final SortedMap<String, List<String>> numbers;
    private final boolean callsCompared;

    /** Copies {@code digests}; no digests in any array order (as fields stored before they were kept). */
    public ResponseFields(SortedMap<String, Long> digests, boolean callsCompared) {
        this.digests = Collections.unmodifiableSortedMap(new TreeMap<>(digests));
        this.anyOrderDigests = null;
        this.numbers = Collections.emptySortedMap();
        this.callsCompared = callsCompared;
    }

    /** See {@link #wrap}; why this is a class rather than a record: a record's constructors all run the copying one. */
    private ResponseFields(TreeMap<String, Long> fresh, TreeMap<String, Long> freshAnyOrder,
                           TreeMap<String, List<String>> freshNumbers, boolean callsCompared) {
        this.digests = Collections.unmodifiableSortedMap(fresh);
        this.anyOrderDigests = freshAnyOrder == null ? null : Collections.unmodifiableSortedMap(freshAnyOrder);
        this.numbers = Collections.unmodifiableSortedMap(freshNumbers);
        this.callsCompared = callsCompared;
    }

    /**
     * Fields over {@code fresh}, {@code freshAnyOrder} and {@code freshNumbers} themselves, not copies: for maps (and
     * lists) built for them that nothing else holds or changes. {@code freshAnyOrder} holds the same paths as
     * {@code fresh}, or is null (not known); {@code freshNumbers} some of those paths, and only with
     * {@code freshAnyOrder}.
     */
    static ResponseFields wrap(TreeMap<String, Long> fresh, TreeMap<String, Long> freshAnyOrder,
                               TreeMap<String, List<String>> freshNumbers, boolean callsCompared) {
        return new ResponseFields(fresh, freshAnyOrder, freshAnyOrder == null ? new TreeMap<>() : freshNumbers,
                callsCompared);
    }

    /** False for fields stored before dependency requests were learned: they hold no {@code call:} field. */
    public boolean callsCompared() {
        return callsCompared;
    }

    /** Per field path, the first 64 bits of the SHA-256 of its values; unmodifiable, sorted by path. */
    public SortedMap<String, Long> digests() {
        return digests;
    }

    /**
     * Per field path (the paths of {@link #digests()}), the digest of its values as they compare with array order
     * ignored: without their positions among array elements, sorted ({@code ResponseDiff}). Null for fields stored
     * before these were kept.
     */
    public SortedMap<String, Long> anyOrderDigests() {
        return anyOrderDigests;
    }

    /**
     * Per field of a JSON body whose values are all numbers (within the bounds {@code ResponseDiff} keeps), those
     * values in order, each after its position among array elements and the members of maps by id, as
     * {@code Shapes.flatten} writes them ({@code 0,1,10.5}); unmodifiable. Empty for fields stored before these were
     * kept.
     */
    public SortedMap<String, List<String>> numbers() {
        return numbers;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResponseFields other && digests.equals(other.digests)
                && Objects.equals(anyOrderDigests, other.anyOrderDigests) && numbers.equals(other.numbers)
                && callsCompared == other.callsCompared;
    }

    @Override
    public int hashCode() {
        return Objects.hash(digests, anyOrderDigests, numbers, callsCompared);
    }

    @Override
    public String toString() {
        return "ResponseFields[digests=" + digests + ", anyOrderDigests=" + anyOrderDigests + ", numbers=" + numbers
                + ", callsCompared=" + callsCompared + "]";
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
            if (f.anyOrderDigests != null) { // after the fields: see the class comment
                for (String path : f.digests.keySet()) {
                    out.writeLong(f.anyOrderDigests.get(path));
                }
                // last: the fields with numbers, each by its place among the fields, then its values
                out.writeInt(f.numbers.size());
                int index = 0;
                for (String path : f.digests.keySet()) {
                    List<String> values = f.numbers.get(path);
                    if (values != null) {
                        out.writeInt(index);
                        out.writeShort(values.size());
                        for (String v : values) {
                            out.writeUTF(v);
                        }
                    }
                    index++;
                }
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
            TreeMap<String, Long> anyOrder = null;
            TreeMap<String, List<String>> numbers = new TreeMap<>();
            if (format == FORMAT && in.available() >= (long) n * Long.BYTES) {
                anyOrder = new TreeMap<>();
                for (String path : digests.keySet()) {
                    anyOrder.put(path, in.readLong());
                }
                if (in.available() > 0) { // stored before numbers were kept: none
                    readNumbers(in, new ArrayList<>(digests.keySet()), numbers);
                }
            }
            return wrap(digests, anyOrder, numbers, format == FORMAT);
        } catch (IOException e) {
            throw new SerializationException("corrupt response fields", e);
        }
    }

    private static void readNumbers(DataInputStream in, List<String> paths, TreeMap<String, List<String>> out)
            throws IOException {
        int fields = in.readInt();
        for (int i = 0; i < fields; i++) {
            int index = in.readInt();
            if (index < 0 || index >= paths.size()) {
                throw new SerializationException("response fields: numbers of field " + index + " of " + paths.size());
            }
            int count = in.readUnsignedShort();
            List<String> values = new ArrayList<>(Math.min(count, 64));
            for (int v = 0; v < count; v++) {
                values.add(in.readUTF());
            }
            out.put(paths.get(index), Collections.unmodifiableList(values));
        }
    }
}
