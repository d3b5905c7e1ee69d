package io.tapline.signature;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Parsing of {@code application/x-www-form-urlencoded} text: form bodies and URL queries. */
public final class FormFields {

    private FormFields() {
    }

    /**
     * The fields of an {@code application/x-www-form-urlencoded} text (a body or a URL's query), decoded, in order of
     * first appearance, each with its values in order. A malformed escape is kept as written.
     */
    public static Map<String, List<String>> parse(String s) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (s == null || s.isEmpty()) {
            return out;
        }
        for (String pair : s.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = formDecode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : formDecode(pair.substring(eq + 1));
            out.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return out;
    }

    private static String formDecode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }
}
