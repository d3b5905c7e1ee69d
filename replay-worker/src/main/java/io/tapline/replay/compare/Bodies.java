package io.tapline.replay.compare;

import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.signature.FormFields;
import io.tapline.signature.TextBodies;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/**
 * Body helpers: content decoding (bounded), media-type classification, form fields and hashing; text is read as
 * {@link TextBodies} reads it.
 */
public final class Bodies {

    /** Decoded bodies above this size are not decoded (protects the worker from compression bombs). */
    public static final int MAX_DECODED_BYTES = 32 * 1024 * 1024;

    /** How a body is compared. */
    public enum Kind { JSON, FORM, TEXT, BINARY }

    private Bodies() {
    }

    /** The bytes of a recorded body, leaving the buffer's position as it was. */
    public static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** How much of a body truncated at capture was kept: {@code 65536 of 1048576 bytes kept}. */
    public static String truncation(HttpResponse recorded) {
        return truncation(recorded.getBody().remaining(), recorded.getOriginalSize());
    }

    /** How much of a request body truncated at capture was kept. */
    public static String truncation(HttpRequest recorded) {
        return truncation(recorded.getBody().remaining(), recorded.getOriginalSize());
    }

    private static String truncation(int kept, long size) {
        return kept + " of " + (size < 0 ? "an unknown number of" : Long.toString(size)) + " bytes kept";
    }

    /**
     * The fields of an {@code application/x-www-form-urlencoded} body, decoded, in order of first appearance, each
     * with its values in order. A malformed escape is kept as written.
     */
    public static Map<String, List<String>> formFields(byte[] body) {
        return formFields(new String(body, StandardCharsets.UTF_8).strip());
    }

    /** The same for a text in that form, such as a URL's query. */
    public static Map<String, List<String>> formFields(String s) {
        return FormFields.parse(s);
    }

    /**
     * Whether a recorded message's {@code Content-Encoding} header is sent with its body. The capture sidecar
     * stores gzip and deflate bodies decoded (the record's {@code contentEncoding} is then absent) and keeps the
     * header as the peer sent it: with a decoded body that header would be false, and the receiver would fail to
     * decode the bytes. A body still encoded ({@code contentEncoding} set, as another writer may record it) goes
     * with its header.
     */
    public static boolean sendsContentEncodingHeader(String recordedContentEncoding) {
        return recordedContentEncoding != null && !recordedContentEncoding.isBlank()
                && !recordedContentEncoding.trim().equalsIgnoreCase("identity");
    }

    /**
     * Decodes gzip or deflate content; identity and absent encodings return the bytes unchanged.
     *
     * @throws IOException for a corrupt stream, an unsupported encoding (e.g. br) or a body over the cap
     */
    public static byte[] decode(byte[] body, String contentEncoding) throws IOException {
        if (contentEncoding == null || contentEncoding.isBlank() || body.length == 0) {
            return body;
        }
        String enc = contentEncoding.trim().toLowerCase(Locale.ROOT);
        switch (enc) {
            case "identity":
                return body;
            case "gzip":
            case "x-gzip":
                try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(body))) {
                    return readCapped(in);
                }
            case "deflate":
                try (InputStream in = new InflaterInputStream(new java.io.ByteArrayInputStream(body))) {
                    return readCapped(in);
                }
            default:
                throw new IOException("content encoding '" + contentEncoding + "' is not decoded (gzip, deflate are)");
        }
    }

    private static byte[] readCapped(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            if (out.size() + n > MAX_DECODED_BYTES) {
                throw new IOException("decoded body exceeds " + MAX_DECODED_BYTES + " bytes");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** Classifies by media type; a missing type falls back to sniffing JSON, then UTF-8 text. */
    public static Kind kindOf(String contentType, byte[] body) {
        if (contentType != null && !contentType.isBlank()) {
            String media = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
            if (media.equals("application/json") || media.endsWith("+json") || media.equals("text/json")) {
                return Kind.JSON;
            }
            if (media.equals("application/x-www-form-urlencoded")) {
                return Kind.FORM;
            }
            if (TextBodies.isTextMedia(media)) {
                return Kind.TEXT;
            }
            return Kind.BINARY;
        }
        String s = new String(body, StandardCharsets.UTF_8).trim();
        if (s.startsWith("{") || s.startsWith("[")) {
            return Kind.JSON;
        }
        return TextBodies.isUtf8Text(body) ? Kind.TEXT : Kind.BINARY;
    }

    public static String sha256(byte[] body) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
