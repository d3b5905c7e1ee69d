package io.tapline.dedup.noise;

import io.tapline.dedup.signature.Bodies;
import io.tapline.signature.TextBodies;
import java.nio.charset.StandardCharsets;

/**
 * A body the replay worker compares whole, as the field {@code body}, reduced to what its comparison looks at (its
 * {@code BodyComparator} and {@code Bodies.kindOf}): text is read in the charset its content type names (UTF-8 when
 * none) and normalised (line endings unified, trailing whitespace of each line and of the whole removed), so the same
 * text with other line endings, or in another charset, is one value; text not valid in its charset, and any body of
 * another kind, by its bytes ({@link TextBodies}, the replay worker's reading). Compared as bytes here, two answers that differed only in a trailing line break made
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
        String media = Bodies.mediaType(contentType);
        boolean text = notJson || (media != null ? TextBodies.isTextMedia(media) : TextBodies.isUtf8Text(body));
        String decoded = text
                ? TextBodies.text(body, notJson ? StandardCharsets.UTF_8 : TextBodies.charsetOf(contentType)) : null;
        return decoded == null ? BYTES + new String(body, StandardCharsets.ISO_8859_1) : TextBodies.normalise(decoded);
    }
}
