package io.tapline.redaction;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The byte scan that lets a body skip the parse ({@link SecretFinders#nothingToRedact}) may only pass a body the full
 * path leaves as it is: checked over generated bodies made of the pieces the rules react to.
 */
class FastPathPropertyTest {

    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final String[] PIECES = {
        "{", "}", "[", "]", "\"", ":", ",", " ", "\n", "\t", "=", "?", "&", "#", ";", "/", "https://", "http://",
        "HTTPS://", "x.com", "token", "my token", "sig", "password", "signature", "api_key", "a", "b1", "123",
        "4111", "%", "%41", "+", ".", "-", "_", "next", "url", "abc", "'", "\r", "1.5", "e5", "<", ">", "*",
        // encoded addresses and grouped card digits
        "jane", "%40", "%4", "0", "&#64;", "&#x40;", "&#", "64;", "&commat;", "&amp;", "example.com", "x.io", "  ", "4111.", "1111",
        // escapes written twice or without their ';', card groups joined by tabs or mixed separators
        "%25", "%2540", "&#64", "&#x40", "40", "4111\t", ". ", " -", "1111\t",
        // the forms of secrets found whatever names them, whole and in part
        "eyJhbGciOiJIUzI1NiJ9", "eyJ", "e30", "Bearer", "bearer ", "Basic ", "basic", "dXNlcjpwYXNz", "a1b2c3d4e5",
        "AKIAIOSFODNN7EXAMPLE", "AKIA", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "xoxb-", "sk_live_", "4eC39HqLyjWDarjtT1zdp7dc",
        "-----BEGIN PRIVATE KEY-----", "-----BEGIN ", "PRIVATE KEY-----", "-----END", "MIIEvQ",
        // lists of headers or parameters as {name, value} objects, with names that are and are not a secret's
        "\"name\":", "\"Key\" : ", "\"HEADER\":", "\"value\":", "\"Value\" :", "name", "value", "\"Cookie\"", "\"X-Session\"",
        "\"authorization\"", "\"X-Amz-Signature\"", "\"password reset\"", "\"Accept\"", "\"author\"", "\"v\""
    };

    @Test
    void aBodyTheScanPassesIsLeftAsItIsByTheFullPath() {
        Redactor fast = new Redactor(KEY, Redactor.Rules.defaults());
        // a text rule that never matches: the same redaction, without the scan
        Redactor full = new Redactor(KEY, new Redactor.Rules(Redactor.DEFAULT_HEADERS,
                Pattern.compile(Redactor.DEFAULT_SENSITIVE_NAME), Set.of(), List.of(),
                List.of(new Redactor.TextRule("never", Pattern.compile("(?!)"))), true, true));
        Random random = new Random(42);
        List<String> failures = new ArrayList<>();
        for (int n = 0; n < 300_000 && failures.size() < 5; n++) {
            StringBuilder sb = new StringBuilder();
            boolean urlString = random.nextBoolean(); // a URL in a JSON string, which the URL rules read
            if (urlString) {
                sb.append("{\"u\":\"https://x.com/");
            }
            int pieces = 1 + random.nextInt(14);
            for (int i = 0; i < pieces; i++) {
                String piece = PIECES[random.nextInt(PIECES.length)];
                if (!urlString || !piece.equals("\"")) {
                    sb.append(piece);
                }
            }
            if (urlString) {
                sb.append("\"}");
            }
            byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
            if (!fast.nothingToRedact(body)) {
                continue;
            }
            for (String type : List.of("application/json", "text/plain")) {
                byte[] r = full.body("p", body, type, new ArrayList<>());
                if (!new String(r, StandardCharsets.UTF_8).equals(sb.toString())) {
                    failures.add(type + ": " + sb + "  ->  " + new String(r, StandardCharsets.UTF_8));
                }
            }
        }
        assertEquals(List.of(), failures);
    }
}
