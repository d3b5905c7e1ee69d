package io.tapline.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;

/**
 * JSON read strictly, one reading for the replay worker's comparison and dedup's signatures and noise learning, so
 * that what one reads as JSON the others do: content after the first value (a body written twice), a key repeated in
 * one object (the second value silently winning), nesting deeper than {@link #MAX_NESTING_DEPTH} and a number whose
 * scale no decimal holds ({@code 1e-2147483648}, valid JSON) make a body not JSON, compared (and signed, and learned)
 * as text. Read leniently, such a body had the shape, the value fields and the noise paths of its first value (a
 * repeated key: of its last value), which the replay worker never looks at. {@link #factory} for a reader's own
 * mapper, {@link #parser} as a token stream, {@link #readDoubles} and {@link #readExact} as trees.
 */
public final class StrictJson {

    /**
     * Arrays and objects nested deeper than this make a body not JSON, so that it is compared as text (Jackson's own
     * limit, 1,000, is well beyond what the comparison can take): JsonUnit's recursion, with the path lookup of a
     * difference, overflowed a thread's stack of 1 MiB from about 400 levels (arrays, order ignored; 600 in order,
     * once compiled), and the case was an ERROR. Twice the margin; no API nests that deep.
     */
    public static final int MAX_NESTING_DEPTH = 200;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** Decimals exactly, not as the nearest double: the replay worker compares numbers by their decimal value. */
    private static final ObjectMapper EXACT = JsonMapper.builder(FACTORY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .build();

    /** Floats as doubles: value fields write a number as its double ({@code 1.50} is {@code 1.5}). */
    private static final ObjectMapper DOUBLES = JsonMapper.builder(FACTORY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private StrictJson() {
    }

    /**
     * The factory of every strict reader: a repeated key and nesting deeper than {@link #MAX_NESTING_DEPTH} refused as
     * they are read. A mapper built on it must also enable {@code FAIL_ON_TRAILING_TOKENS}, and one reading floats as
     * doubles must tell a number no decimal holds apart ({@link #requireDecimal}).
     */
    public static JsonFactory factory() {
        return FACTORY;
    }

    /**
     * The value of a body, its decimals exact.
     *
     * @return the value, a missing node for whitespace only, or null when the body is not JSON so read
     */
    public static JsonNode readExact(byte[] body) {
        try {
            return EXACT.readTree(body);
        } catch (IOException | NumberFormatException e) {
            return null; // Jackson throws a NumberFormatException, not a parse error, for a number no decimal holds
        }
    }

    /**
     * The value of a body, its floats read as doubles. A number no decimal holds is read as the nearest double here:
     * {@link #requireDecimal} tells it apart where that matters.
     *
     * @return the value, a missing node for whitespace only, or null when the body is not JSON so read
     */
    public static JsonNode readDoubles(byte[] body) {
        try {
            return DOUBLES.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * A token stream over a body that refuses a repeated key and nesting deeper than {@link #MAX_NESTING_DEPTH} as it
     * reads them. The reader checks the rest: {@link #requireDecimal} at each float, {@link #requireEnd} after the
     * value.
     */
    public static JsonParser parser(byte[] body) throws IOException {
        return FACTORY.createParser(body);
    }

    /**
     * Refuses a float token (the parser's current one) whose exponent puts its scale beyond what a decimal holds.
     * Only a float with an exponent can be one, so no other number is parsed.
     */
    public static void requireDecimal(JsonParser p) throws IOException {
        char[] text = p.getTextCharacters();
        int end = p.getTextOffset() + p.getTextLength();
        for (int i = p.getTextOffset(); i < end; i++) {
            if (text[i] == 'e' || text[i] == 'E') {
                try {
                    p.getDecimalValue();
                } catch (NumberFormatException e) {
                    throw new JsonParseException(p, "number beyond a decimal's scale", e);
                }
                return;
            }
        }
    }

    /** Refuses content after the value the parser has read to its last token (whitespace aside). */
    public static void requireEnd(JsonParser p) throws IOException {
        JsonToken next = p.nextToken();
        if (next != null) {
            throw new JsonParseException(p, "content after the value: " + next);
        }
    }
}
