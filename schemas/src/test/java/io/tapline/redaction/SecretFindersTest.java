package io.tapline.redaction;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SecretFindersTest {

    @Test
    void shouldRunTheCredentialRuleOnEveryValueItCouldMatch() {
        // the pre-check may only skip values the rule cannot match: random values built from scheme names, case
        // variants, blanks and other characters, plus typical header values that it skips
        Pattern rule = Pattern.compile("(?i)^\\s*(bearer|basic|digest|token|negotiate|apikey)\\s+\\S.*");
        String[] parts = {"Bearer", "bearer", "BASIC", "Digest", "token", "Negotiate", "ApiKey", "apikey", " ", "\t", "\n",
                "\f", "\u000B", "x", "abc123", "=", "Sat,", "nginx/1.22", "", "K"};
        java.util.Random random = new java.util.Random(7);
        int matched = 0;
        for (int i = 0; i < 100_000; i++) {
            StringBuilder b = new StringBuilder();
            for (int n = 1 + random.nextInt(5); n > 0; n--) {
                b.append(parts[random.nextInt(parts.length)]);
            }
            String value = b.toString();
            if (rule.matcher(value).matches()) {
                matched++;
                assertTrue(SecretFinders.mayBeCredential(value), value);
            }
        }
        assertTrue(matched > 1000, "the sample exercises the rule: " + matched);
        for (String skipped : List.of("Sat, 21 Nov 2026 07:48:00 GMT", "max-age=0, no-cache", "nginx/1.22.1", "", "  ")) {
            assertFalse(SecretFinders.mayBeCredential(skipped), skipped);
        }
    }

    @Test
    void shouldFindInEncodedTextTheAddressesTheDecodedTextHolds() {
        // random text of plain characters and escapes: the encoded addresses found, decoded, are the addresses the
        // plain scan finds in the whole text decoded (an address never starts or ends inside an escape, and the
        // pre-check lets every such text through)
        String[] parts = {"a", "Z", "9", ".", "-", "_", "+", " ", "@", "%40", "%2e", "%2E", "%20", "&#64;", "&#x40;", "&#X2E;",
                "&commat;", "&period;", "&#46;", "&amp;", "&#", "%4", "%", "&", ";", "com", "io", "jane", "%C3%A9", "%zz", "%E2%80%94",
                "%C3", "%A9", "&#233;", "&#x1F600;", "jane%40example.com", "x&#64;y.io", "a&commat;b&period;cc", ".%C3%A9%C3%A9",
                // malformed UTF-8 (overlong dots, a surrogate, past U+10FFFF) and references to no character
                "%E0%80%AE", "%F0%80%80%AE", "%ED%A0%80", "%F4%90%80%80", "&#9999999;", "&#x110000;", "&#xD800;",
                // escapes written twice, references without their ';'
                "%25", "%2540", "%252e", "%252E", "%25C3%25A9", "%25C3", "%2525", "25", "40", "&#64", "&#x40", "&#0064", "&#46",
                "&#x2e", "&#6", "e", "x"};
        java.util.Random random = new java.util.Random(5);
        int found = 0;
        for (int i = 0; i < 50_000; i++) {
            StringBuilder b = new StringBuilder();
            for (int n = 1 + random.nextInt(14); n > 0; n--) {
                b.append(parts[random.nextInt(parts.length)]);
            }
            String s = b.toString();
            String decoded = SecretFinders.decodeEscapes(s);
            List<String> expected = new ArrayList<>();
            for (int[] hit = SecretFinders.email(decoded, 0); hit != null; hit = SecretFinders.email(decoded, hit[1])) {
                expected.add(decoded.substring(hit[0], hit[1]));
            }
            List<String> actual = new ArrayList<>();
            if (SecretFinders.mayHoldEncodedEmail(s) || s.indexOf('@') >= 0) {
                for (int[] hit : SecretFinders.encodedEmails(s)) {
                    actual.add(SecretFinders.decodeEscapes(s.substring(hit[0], hit[1])));
                }
            }
            assertEquals(expected, actual, s);
            found += expected.size();
        }
        assertTrue(found > 5000, "the sample exercises the rule: " + found);
    }
}
