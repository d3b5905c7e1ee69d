package io.tapline.redaction;

/**
 * The form of the tokens that replace redacted values in captured traffic: {@code tapline:hmac:} and 16 hex digits of
 * {@code HMAC-SHA256(key, value)}. The capture sidecar writes them; the replay worker recognises them, since a
 * recorded token cannot be compared with the plain value a candidate produces.
 */
public final class RedactionTokens {

    public static final String PREFIX = "tapline:hmac:";

    private RedactionTokens() {
    }

    /** True when {@code text} holds a redaction token (a whole value, or one replaced inside a longer text). */
    public static boolean in(String text) {
        return text != null && text.contains(PREFIX);
    }
}
