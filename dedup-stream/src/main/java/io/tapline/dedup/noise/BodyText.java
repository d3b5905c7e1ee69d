package io.tapline.dedup.noise;

import io.tapline.dedup.signature.Bodies;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A body the replay worker compares whole, as the field {@code body}, reduced to what its comparison looks at (its
 * {@code BodyComparator} and {@code Bodies.kindOf}): text is read in the charset its content type names (UTF-8 when
 * none) and normalised (line endings unified, trailing whitespace of each line and of the whole removed), so the same
 * text with other line endings, or in another charset, is one value; text not valid in its charset, and any body of
 * another kind, by its bytes. Compared as bytes here, two answers that differed only in a trailing line break made
 * {@code body} differ, which the replay worker never reports, and could teach it as noise for the route.
 */
final class BodyText {

    /** Starts the value of a body compared by its bytes: never equal to a text's value. */
    private static final String BYTES = "\u0000bytes:";

    private BodyText() {
    }

    /**
     * The value of the field {@code body} for a decoded body that is neither JSON nor a form to the replay worker.
     *
     * @param notJson true for a body of a JSON type that is not JSON read strictly: the replay worker compares it as
     *                UTF-8 text
     */
    static String value(String contentType, byte[] body, boolean notJson) {
        boolean text = notJson || comparedAsText(Bodies.mediaType(contentType), body);
        String decoded = text ? decode(body, notJson ? StandardCharsets.UTF_8 : charset(contentType)) : null;
        return decoded == null ? BYTES + new String(body, StandardCharsets.ISO_8859_1) : normalise(decoded);
    }

    /**
     * Text by its media type ({@code text/*}, XML, JavaScript); without one, valid UTF-8 holding no control character
     * but line breaks and tabs.
     */
    private static boolean comparedAsText(String media, byte[] body) {
        if (media != null) {
            return media.startsWith("text/") || media.endsWith("+xml") || media.equals("application/xml")
                    || media.equals("application/javascript");
        }
        for (byte b : body) {
            if (b >= 0 && b < 0x20 && b != '\n' && b != '\r' && b != '\t') {
                return false;
            }
        }
        return decode(body, StandardCharsets.UTF_8) != null;
    }

    /** The charset a content type names, UTF-8 when it names none; null when it names one this JVM does not know. */
    private static Charset charset(String contentType) {
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
                        return null; // an illegal or unsupported charset name
                    }
                }
            }
        }
        return StandardCharsets.UTF_8;
    }

    /** The body as text in {@code charset}, or null when it is not valid text in it (or the charset is unknown). */
    private static String decode(byte[] body, Charset charset) {
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
    private static String normalise(String text) {
        String s = text.replace("\r\n", "\n").replace('\r', '\n');
        StringBuilder out = new StringBuilder(s.length());
        for (String line : s.split("\n", -1)) {
            out.append(line.stripTrailing()).append('\n');
        }
        return out.toString().stripTrailing();
    }
}
