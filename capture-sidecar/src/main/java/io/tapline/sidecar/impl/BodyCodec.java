package io.tapline.sidecar.impl;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;

/** Decodes captured gzip/deflate bodies (bounded), so redaction and comparison see the real content. */
public final class BodyCodec {

    /** A decoded body: at most {@code cap} bytes, {@code truncated} when more was there or the input was cut. */
    public record Decoded(byte[] body, boolean truncated) {
    }

    private BodyCodec() {
    }

    /** True for encodings this codec decodes; identity and absent count as decodable. */
    public static boolean decodable(String encoding) {
        if (encoding == null) {
            return true;
        }
        String e = encoding.trim().toLowerCase(Locale.ROOT);
        return e.isEmpty() || e.equals("identity") || e.equals("gzip") || e.equals("x-gzip") || e.equals("deflate");
    }

    public static boolean identity(String encoding) {
        return encoding == null || encoding.isBlank() || encoding.trim().equalsIgnoreCase("identity");
    }

    /**
     * Decodes up to {@code cap} bytes. A body cut short by the capture cap decodes as far as it goes and is marked
     * truncated, as is one that decodes to more than {@code cap} bytes (one of exactly {@code cap} is not). Returns
     * null when the bytes are not valid for the encoding.
     */
    public static Decoded decode(byte[] encoded, String encoding, int cap, boolean inputTruncated) {
        String e = encoding.trim().toLowerCase(Locale.ROOT);
        try (InputStream in = e.equals("deflate") ? deflateStream(encoded) : new GZIPInputStream(new ByteArrayInputStream(encoded))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(cap, encoded.length * 4 + 64));
            byte[] buf = new byte[8192];
            while (out.size() < cap) {
                int n;
                try {
                    n = in.read(buf, 0, Math.min(buf.length, cap - out.size()));
                } catch (EOFException eof) {
                    return new Decoded(out.toByteArray(), true); // the capture cut the compressed stream
                }
                if (n < 0) {
                    return new Decoded(out.toByteArray(), inputTruncated);
                }
                out.write(buf, 0, n);
            }
            // the cap is reached: the body is cut only if the stream holds more (a body of exactly the cap is whole)
            int more;
            try {
                more = in.read();
            } catch (IOException beyond) {
                more = 0; // the capture cut the compressed stream past the cap, or it is damaged there: cut at the cap
            }
            return new Decoded(out.toByteArray(), more >= 0 || inputTruncated);
        } catch (ZipException ex) {
            return null;
        } catch (IOException ex) {
            return inputTruncated ? new Decoded(new byte[0], true) : null;
        }
    }

    /** HTTP "deflate" is zlib-wrapped (RFC 9110 §8.4.1.2), though some servers send raw deflate; accept both. */
    private static InputStream deflateStream(byte[] encoded) {
        boolean zlib = encoded.length >= 2 && (encoded[0] & 0x0f) == 8 && (((encoded[0] & 0xff) << 8) | (encoded[1] & 0xff)) % 31 == 0;
        Inflater inflater = new Inflater(!zlib);
        // InflaterInputStream does not end an Inflater it was given: end it on close, not when the GC gets to it.
        return new InflaterInputStream(new ByteArrayInputStream(encoded), inflater) {
            @Override
            public void close() throws IOException {
                try {
                    super.close();
                } finally {
                    inflater.end();
                }
            }
        };
    }
}
