package io.tapline.signature;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * How a body compared as text is read: in the charset its content type names, strictly, and normalised. The replay
 * worker compares text bodies so, and dedup-stream learns the noise of a whole body so; one reading keeps the two
 * from calling different bodies equal.
 */
public final class TextBodies {

    private TextBodies() {
    }

    /** Whether a media type (lower case, no parameters) is one whose bodies are compared as text. */
    public static boolean isTextMedia(String media) {
        return media.startsWith("text/") || media.endsWith("+xml") || media.equals("application/xml")
                || media.equals("application/javascript");
    }

    /** Whether a body without a content type reads as text: valid UTF-8 holding no control character but line breaks and tabs. */
    public static boolean isUtf8Text(byte[] body) {
        for (byte b : body) {
            if (b >= 0 && b < 0x20 && b != '\n' && b != '\r' && b != '\t') {
                return false;
            }
        }
        return text(body, StandardCharsets.UTF_8) != null;
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
    public static String normalise(String text) {
        String s = text.replace("\r\n", "\n").replace('\r', '\n');
        StringBuilder out = new StringBuilder(s.length());
        for (String line : s.split("\n", -1)) {
            out.append(line.stripTrailing()).append('\n');
        }
        return out.toString().stripTrailing();
    }
}
