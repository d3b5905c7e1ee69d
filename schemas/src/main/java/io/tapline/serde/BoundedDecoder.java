package io.tapline.serde;

import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.ResolvingDecoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.util.Utf8;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Reads one datum held whole in memory, refusing a collection count or a string or bytes length that cannot fit in
 * the bytes left before anything is allocated for it. Avro sizes an array or map from the count the record declares
 * (an array block of two billion items is a 2-byte count and an 8 GiB {@code Object[]}) and allocates a string or
 * bytes value before reading it, so a record of a few bytes could otherwise end in an {@link OutOfMemoryError}.
 * <p>
 * The count check relies on every collection item taking at least one byte; {@link #checkWriterSchema} refuses a
 * writer schema where that does not hold (an item of {@code null}, of an empty fixed, or of a record of such fields)
 * and a recursive one, whose nesting the reader follows on the Java stack as deep as the record goes. With both, the
 * work of a decode is bounded by the record's length. Each check is one comparison per collection block or
 * string: no pass over the data of its own.
 */
final class BoundedDecoder extends Decoder {

    /** A count or length the bytes left cannot hold: the record is corrupt or hostile. */
    static final class LimitExceeded extends AvroRuntimeException {
        /** Declared by a value being skipped (of a field only the writer's schema has), not one being read. */
        final boolean skipped;

        LimitExceeded(String message, boolean skipped) {
            super(message);
            this.skipped = skipped;
        }
    }

    private final BinaryDecoder in;
    private final int length;
    private final Utf8 scratch = new Utf8();

    /** Reads {@code in}, a decoder over a byte array holding {@code length} bytes of datum. */
    BoundedDecoder(BinaryDecoder in, int length) {
        this.in = in;
        this.length = length;
    }

    /**
     * Refuses a writer schema whose decoding the count check cannot bound: a recursive one, or one with an array
     * whose items can take no bytes. No Tapline contract has either.
     */
    static void checkWriterSchema(Schema writer) {
        minBytes(writer, new HashSet<>(), new HashMap<>());
    }

    /**
     * The fewest bytes a value of {@code schema} takes, checking its arrays and that no record contains itself.
     * {@code known} holds the records already walked, so a record named many times is walked once.
     */
    private static int minBytes(Schema schema, Set<String> enclosing, Map<String, Integer> known) {
        switch (schema.getType()) {
            case NULL:
                return 0;
            case FIXED:
                return schema.getFixedSize();
            case FLOAT:
                return 4;
            case DOUBLE:
                return 8;
            case RECORD: {
                Integer walked = known.get(schema.getFullName());
                if (walked != null) {
                    return walked;
                }
                if (!enclosing.add(schema.getFullName())) {
                    throw new IllegalArgumentException("the writer schema is recursive (" + schema.getFullName()
                            + " contains itself), which no Tapline contract is");
                }
                int bytes = 0;
                for (Schema.Field field : schema.getFields()) {
                    bytes += minBytes(field.schema(), enclosing, known);
                }
                enclosing.remove(schema.getFullName());
                known.put(schema.getFullName(), bytes);
                return bytes;
            }
            case ARRAY:
                if (minBytes(schema.getElementType(), enclosing, known) == 0) {
                    throw new IllegalArgumentException("the writer schema has an array of items that take no bytes ("
                            + schema.getElementType() + "), which no Tapline contract has");
                }
                return 1;
            case MAP:
                minBytes(schema.getValueType(), enclosing, known);
                return 1;
            case UNION:
                for (Schema branch : schema.getTypes()) {
                    minBytes(branch, enclosing, known);
                }
                return 1;
            default: // boolean, int, long, enum, string, bytes
                return 1;
        }
    }

    /**
     * The reader's field a datum refused by this decoder declared too much in, as a dotted path such as
     * {@code request.headers}; null when that was a field only the writer's schema has (skipped, not read). Found by
     * decoding the datum again, so only once it was refused: Avro's resolving reader has a per-field hook, the fast
     * reader used for every record has none.
     */
    static String refusedField(Schema writer, Schema reader, byte[] data, int offset, int length) {
        SpecificData model = SpecificData.getForSchema(reader);
        SpecificData resolving = new SpecificData(model.getClassLoader());
        model.getConversions().forEach(resolving::addLogicalTypeConversion);
        resolving.setFastReaderEnabled(false);
        Deque<String> path = new ArrayDeque<>();
        SpecificDatumReader<Object> tracing = new SpecificDatumReader<>(writer, reader, resolving) {
            @Override
            protected void readField(Object record, Schema.Field field, Object old, ResolvingDecoder in, Object state)
                    throws IOException {
                try {
                    super.readField(record, field, old, in, state);
                } catch (LimitExceeded e) {
                    path.addFirst(field.name());
                    throw e;
                }
            }
        };
        try {
            tracing.read(null, new BoundedDecoder(DecoderFactory.get().binaryDecoder(data, offset, length, null),
                    length));
        } catch (LimitExceeded e) {
            // a skip happens as the next field the reader has is read: that field's name would mislead
            return e.skipped || path.isEmpty() ? null : String.join(".", path);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /** The count of a collection block, refused when more items than bytes are left (each item takes one or more). */
    private long items(long count, String what, boolean skipped) throws IOException {
        int left = in.inputStream().available();
        if (count > left) {
            throw new LimitExceeded(what + " block of " + count + " items at byte "
                    + (length - left) + " of the datum, with only " + left + " bytes left", skipped);
        }
        return count;
    }

    /** Reads a string or bytes length, refused when negative or longer than the bytes left. */
    private int size(String what) throws IOException {
        long size = in.readLong();
        int left = in.inputStream().available();
        if (size < 0 || size > left) {
            throw new LimitExceeded(what + " of " + size + " bytes at byte " + (length - left)
                    + " of the datum, with only " + left + " bytes left", false);
        }
        return (int) size;
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        int size = size("a string");
        Utf8 result = old != null ? old : new Utf8();
        result.setByteLength(size);
        in.readFixed(result.getBytes(), 0, size);
        return result;
    }

    @Override
    public String readString() throws IOException {
        return readString(scratch).toString();
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        int size = size("a bytes value");
        ByteBuffer result;
        if (old != null && size <= old.capacity()) {
            result = old;
            result.clear();
        } else {
            result = ByteBuffer.allocate(size);
        }
        in.readFixed(result.array(), result.position(), size);
        result.limit(size);
        return result;
    }

    @Override
    public long readArrayStart() throws IOException {
        return items(in.readArrayStart(), "an array", false);
    }

    @Override
    public long arrayNext() throws IOException {
        return items(in.arrayNext(), "an array", false);
    }

    @Override
    public long skipArray() throws IOException {
        return items(in.skipArray(), "a skipped array", true);
    }

    @Override
    public long readMapStart() throws IOException {
        return items(in.readMapStart(), "a map", false);
    }

    @Override
    public long mapNext() throws IOException {
        return items(in.mapNext(), "a map", false);
    }

    @Override
    public long skipMap() throws IOException {
        return items(in.skipMap(), "a skipped map", true);
    }

    @Override
    public void readNull() throws IOException {
        in.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        return in.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return in.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return in.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return in.readDouble();
    }

    @Override
    public void skipString() throws IOException {
        in.skipString(); // allocates nothing; a length past the end is an EOFException
    }

    @Override
    public void skipBytes() throws IOException {
        in.skipBytes();
    }

    @Override
    public void readFixed(byte[] bytes, int start, int len) throws IOException {
        in.readFixed(bytes, start, len);
    }

    @Override
    public void skipFixed(int len) throws IOException {
        in.skipFixed(len);
    }

    @Override
    public int readEnum() throws IOException {
        return in.readEnum();
    }

    @Override
    public int readIndex() throws IOException {
        return in.readIndex();
    }
}
