package io.tapline.http;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A request target (path and query) as the bytes a client sent. Netty's HTTP decoder reads a request line one
 * character per byte (ISO-8859-1), and its encoder writes the request target as UTF-8, so a target holding bytes
 * above 0x7F (a raw {@code /café} in UTF-8, which RFC 3986 says to percent-encode but some clients send as is) came
 * out of a proxy as other bytes: each byte written as a two-byte UTF-8 sequence. {@link #fromWire} gives the text
 * that the encoder writes back as the bytes read, and that a recording keeps as what the client meant.
 */
public final class RequestTarget {

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private RequestTarget() {
    }

    /**
     * The request target {@code asRead} (one character per byte, as Netty's decoder reads it) as text whose UTF-8 is
     * those bytes. ASCII, the common case, is returned as it is. Bytes that are not valid UTF-8 cannot be written back
     * by a UTF-8 encoder: each byte of such a sequence is percent-encoded ({@code %FF}), which RFC 3986 reads as the
     * same byte (valid sequences around it are kept, so the path and the query converted apart give what the whole
     * target gives). Text holding a character above U+00FF did not come from the decoder and is returned as it is.
     */
    public static String fromWire(String asRead) {
        int i = 0;
        int n = asRead.length();
        while (i < n && asRead.charAt(i) < 0x80) {
            i++;
        }
        if (i == n) {
            return asRead;
        }
        byte[] bytes = new byte[n];
        for (int j = 0; j < n; j++) {
            char c = asRead.charAt(j);
            if (c > 0xFF) {
                return asRead;
            }
            bytes[j] = (byte) c;
        }
        // valid UTF-8 decoded, each byte of an invalid sequence percent-encoded, so that a target's parts (path, query)
        // read on their own come out as the whole does
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer decoded = CharBuffer.allocate(n);
        StringBuilder out = new StringBuilder(n + 8);
        while (true) {
            CoderResult r = utf8.decode(in, decoded, true);
            out.append(decoded.flip());
            decoded.clear();
            if (!r.isError()) {
                return out.toString();
            }
            for (int k = 0; k < r.length(); k++) {
                int b = in.get() & 0xFF;
                out.append('%').append(HEX[b >> 4]).append(HEX[b & 0xF]);
            }
        }
    }
}
