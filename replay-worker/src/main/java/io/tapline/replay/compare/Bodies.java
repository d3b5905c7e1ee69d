package io.tapline.replay.compare;

import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.signature.FormFields;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/** Body helpers: content decoding (bounded), media-type classification, form fields, text normalisation and hashing. */
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
            if (media.startsWith("text/") || media.endsWith("+xml") || media.equals("application/xml")
                    || media.equals("application/javascript")) {
                return Kind.TEXT;
            }
            return Kind.BINARY;
        }
        String s = new String(body, StandardCharsets.UTF_8).trim();
        if (s.startsWith("{") || s.startsWith("[")) {
            return Kind.JSON;
        }
        return isUtf8Text(body) ? Kind.TEXT : Kind.BINARY;
    }

    private static boolean isUtf8Text(byte[] body) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(body));
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
        for (byte b : body) {
            if (b >= 0 && b < 0x20 && b != '\n' && b != '\r' && b != '\t') {
                return false;
            }
        }
        return true;
    }

    /**
     * The charset a content type names ({@code text/plain; charset=ISO-8859-1}), UTF-8 when it names none; null when
     * it names one this JVM does not know.
     */
    public static Charset charsetOf(String contentType) {
        if (contentType != null) {
            for (String param : contentType.split(";")) {
                int eq = param.indexOf('=');
                if (eq > 0 && param.substring(0, eq).trim().equalsIgnoreCase("charset")) {
                    String name = param.substring(eq + 1).trim();
                    if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
                        name = name.substring(1, name.length() - 1);
                    }
                    try {
                        return Charset.forName(name);
                    } catch (IllegalArgumentException e) {
                        return null; // illegal or unsupported charset name
                    }
                }
            }
        }
        return StandardCharsets.UTF_8;
    }

    /**
     * The body as text in its charset, or null when it is not valid text in it (or the charset is unknown): two bodies
     * that differ only in bytes a lenient decoding would replace alike must not read as equal text.
     */
    public static String text(byte[] body, Charset charset) {
        if (charset == null) {
            return null;
        }
        try {
            return charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Line endings unified, trailing whitespace of each line and of the whole text removed (leading kept). */
    public static String normaliseText(String text) {
        String s = text.replace("\r\n", "\n").replace('\r', '\n');
        StringBuilder out = new StringBuilder(s.length());
        for (String line : s.split("\n", -1)) {
            out.append(line.stripTrailing()).append('\n');
        }
        return out.toString().stripTrailing();
    }

    public static String sha256(byte[] body) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
