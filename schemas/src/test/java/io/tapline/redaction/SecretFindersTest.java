package io.tapline.redaction;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Pattern;

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
}
