package io.tapline.redaction;

import java.util.regex.Pattern;

/**
 * The form of the tokens that replace redacted values in captured traffic: {@code tapline:hmac:} and 16 hex digits of
 * {@code HMAC-SHA256(key, value)}. The capture sidecar writes them; the replay worker recognises them, since a
 * recorded token cannot be compared with the plain value a candidate produces.
 */
public final class RedactionTokens {

    public static final String PREFIX = "tapline:hmac:";
    /** A token: the prefix and 16 lower-case hex digits. */
    public static final Pattern PATTERN = Pattern.compile(Pattern.quote(PREFIX) + "[0-9a-f]{16}");

    private RedactionTokens() {
    }

    /** True when {@code value} is a token and nothing else (the pattern runs only on values of a token's length and prefix). */
    public static boolean is(String value) {
        return value != null && value.length() == PREFIX.length() + 16 && value.startsWith(PREFIX)
                && PATTERN.matcher(value).matches();
    }

    /** True when {@code text} holds a redaction token (a whole value, or one replaced inside a longer text). */
    public static boolean in(String text) {
        return text != null && text.contains(PREFIX);
    }
}
