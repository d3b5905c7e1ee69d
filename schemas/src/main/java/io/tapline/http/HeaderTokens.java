package io.tapline.http;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/** The tokens of comma-separated header values ({@code Connection}, {@code TE}), as the sidecar and the mock read them. */
public final class HeaderTokens {

    private HeaderTokens() {
    }

    /** Every token of {@code values}, trimmed and lower-cased, empty ones left out; a set the caller may change. */
    public static Set<String> lowerCase(Iterable<String> values) {
        Set<String> out = new HashSet<>();
        for (String v : values) {
            for (String token : v.split(",")) {
                String t = token.trim().toLowerCase(Locale.ROOT);
                if (!t.isEmpty()) {
                    out.add(t);
                }
            }
        }
        return out;
    }
}
