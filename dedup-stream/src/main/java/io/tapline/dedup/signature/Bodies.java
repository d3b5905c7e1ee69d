package io.tapline.dedup.signature;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/** Content decoding of captured bodies still in their content encoding (a record's {@code contentEncoding}), capped. */
public final class Bodies {

    /** Decoded bodies larger than this are cut: shapes and diffs never need more. */
    public static final int MAX_DECODED_BYTES = 1 << 20;

    private Bodies() {
    }

    /** Raw bytes of an Avro {@code bytes} field without disturbing the buffer's position. */
    public static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return new byte[0];
        }
        ByteBuffer copy = buffer.duplicate();
        byte[] out = new byte[copy.remaining()];
        copy.get(out);
        return out;
    }

    /**
     * The body with its content encoding removed, or {@code null} when the encoding is one we cannot undo
     * (e.g. {@code br}) or the data is corrupt/truncated.
     */
    public static byte[] decode(byte[] body, String contentEncoding) {
        String encoding = contentEncoding == null ? "identity" : contentEncoding.trim().toLowerCase(Locale.ROOT);
        try {
            return switch (encoding) {
                case "", "identity" -> body;
                case "gzip", "x-gzip" -> readCapped(new GZIPInputStream(new java.io.ByteArrayInputStream(body)));
                case "deflate" -> readCapped(new InflaterInputStream(new java.io.ByteArrayInputStream(body)));
                default -> null;
            };
        } catch (IOException e) {
            return null; // truncated or corrupt compressed body: no shape can be read from it
        }
    }

    /**
     * Whether {@link #decode} stopped at {@link #MAX_DECODED_BYTES}: the capture holds more than the decoded bytes
     * show, as with a body the capture cap truncated. (A body that decodes to exactly the cap is taken as cut too.)
     */
    public static boolean cutByDecoding(byte[] body, byte[] decoded) {
        return decoded != null && decoded != body && decoded.length >= MAX_DECODED_BYTES;
    }

    private static byte[] readCapped(InputStream in) throws IOException {
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            int n;
            while ((n = in.read(chunk)) > 0 && out.size() < MAX_DECODED_BYTES) {
                out.write(chunk, 0, Math.min(n, MAX_DECODED_BYTES - out.size()));
            }
            return out.toByteArray();
        }
    }

    /** Media type without parameters, lower case; null when absent. */
    public static String mediaType(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            return null;
        }
        int semi = contentType.indexOf(';');
        String type = semi < 0 ? contentType : contentType.substring(0, semi);
        return type.trim().toLowerCase(Locale.ROOT);
    }
}
