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

    /** True when {@code value} is a token and nothing else. */
    public static boolean is(String value) {
        if (value == null || value.length() != PREFIX.length() + 16 || !value.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) {
                return false;
            }
        }
        return true;
    }

    /** True when {@code text} holds a redaction token (a whole value, or one replaced inside a longer text). */
    public static boolean in(String text) {
        return text != null && text.contains(PREFIX);
    }
}
