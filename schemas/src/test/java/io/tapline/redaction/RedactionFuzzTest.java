package io.tapline.redaction;

import io.tapline.avro.Header;
import io.tapline.avro.Redaction;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Generated bodies, queries, paths and headers (fixed seed: a failure names its case and reproduces) with secrets
 * planted where the default rules cover them: values of fields named like credentials, Luhn-valid card numbers,
 * emails, Authorization headers; names and values written plain, percent-encoded or with JSON escapes. The redacted
 * text never holds a planted secret as a reader would see it (raw, percent-decoded, JSON-unescaped); text holding
 * nothing to redact keeps its bytes; runs of the shapes the rules scan take time linear in their length.
 */
class RedactionFuzzTest {

    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final Redactor REDACTOR = new Redactor(KEY, Redactor.Rules.defaults());
    private static final String[] SENSITIVE = {"password", "token", "api_key", "secret", "Password", "access_token", "client_secret", "API-KEY"};
    private static final String[] WORDS = {"hello", "world", "id", "42", "2024-01-01", "café", "naïve", "中文", "a b", "x.y", "😀", "ok",
        "12.50", "Ann", "note", "#1", "50%", "a&b", "<i>", "\"q\"", "x\\y", "tab\there", "line\nbreak", "ü"};

    /** A generated text and the secrets planted in it. */
    private record Planted(String text, List<String> secrets) {
    }

    @Test
    void plantedSecretsNeverSurviveRedactionInAnyEncoding() {
        Random r = new Random(20261123);
        for (int i = 0; i < 2000; i++) {
            String[] shown = new String[1];
            String[] output = new String[1];
            Planted p = switch (i % 7) {
                case 0 -> body(r, json(r, new ArrayList<>(), 0), pick(r, "application/json", "text/plain", null), output);
                case 1 -> body(r, form(r), "application/x-www-form-urlencoded", output);
                case 2 -> body(r, text(r), pick(r, "text/plain", "application/octet-stream", null), output);
                case 3 -> body(r, xml(r), pick(r, "application/xml", "text/xml; charset=utf-8"), output);
                case 4 -> body(r, multipart(r), "multipart/form-data; boundary=" + BOUNDARY, output);
                case 5 -> {
                    Planted q = form(r);
                    output[0] = REDACTOR.query("request", q.text(), new ArrayList<>());
                    yield q;
                }
                default -> {
                    Planted h = header(r);
                    output[0] = REDACTOR.headers("request", List.of(new Header("Accept", "*/*"),
                            new Header(pick(r, "Authorization", "AUTHORIZATION", "Proxy-Authorization", "X-Api-Key"), h.text())),
                            new ArrayList<>()).toString();
                    yield h;
                }
            };
            shown[0] = p.text();
            for (String view : views(output[0])) {
                for (String secret : p.secrets()) {
                    assertFalse(view.contains(secret), () -> "case " + shown[0] + ": " + secret + " in " + output[0]);
                }
            }
        }
    }

    @Test
    void textWithNothingToRedactKeepsItsBytes() {
        Random r = new Random(7);
        for (int i = 0; i < 2000; i++) {
            String type = pick(r, "application/json", "text/plain", "application/x-www-form-urlencoded", "application/xml", null);
            String plain = switch (i % 4) {
                case 0 -> "{\"" + escaped(r, word(r)) + "\":[\"" + escaped(r, word(r)) + "\"," + r.nextInt(1000) + "],\"n\":\"" + escaped(r, word(r));
                case 1 -> URLEncoder.encode(word(r), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(word(r), StandardCharsets.UTF_8) + "&b=";
                case 2 -> "<a x=\"1\"><b>" + word(r).replace("<", "").replace("&", "") + "</b><![CDATA[" + word(r) + "]]></a>";
                default -> word(r) + " " + word(r) + ": " + word(r);
            };
            byte[] body = plain.getBytes(StandardCharsets.UTF_8);
            List<Redaction> notes = new ArrayList<>();
            byte[] redacted = REDACTOR.body("response", body, type, notes);
            assertEquals(List.of(), notes, plain);
            assertArrayEquals(body, redacted, plain);
        }
    }

    /**
     * Generated XML documents, sensitive elements nested at any depth among others, their tags holding quoted attribute
     * values with {@code >} and {@code />} (secrets in those of elements inside a sensitive one), their text mixed with
     * CDATA sections, comments and empty elements, cut by the capture cap at every length: no part of a planted secret that the cut kept survives, and redacting the redacted
     * text again changes nothing (the same instance).
     */
    @Test
    void xmlCutAnywhereKeepsNoPartOfASecretAndIsRedactedOnce() {
        Random r = new Random(5);
        XmlRedaction xml = new XmlRedaction(REDACTOR);
        for (int i = 0; i < 200; i++) {
            List<String> secrets = new ArrayList<>();
            String doc = "<?xml version=\"1.0\"?><root xmlns:ns=\"u\">" + element(r, 0, false, secrets) + element(r, 0, false, secrets) + "</root>";
            for (int cut = doc.length(); cut > 0; cut--) {
                String s = doc.substring(0, cut);
                String redacted = xml.xml("response", s, new ArrayList<>());
                assertSame(redacted, xml.xml("response", redacted, new ArrayList<>()), s);
                for (String secret : secrets) {
                    for (int k = 3; k <= secret.length() && s.contains(secret.substring(0, k)); k++) {
                        String kept = secret.substring(0, k);
                        assertFalse(redacted.contains(kept), () -> kept + " of " + s + " in " + redacted);
                    }
                }
            }
        }
    }

    /** 128 KiB runs of the shapes each rule scans for: well under a second each (a quadratic scan takes minutes). */
    @Test
    void longRunsOfWhatTheRulesScanForAreRedactedInLinearTime() {
        String[] units = {"<a><![CDATA[x", "x]]></b><a><![CDATA[", "<password x='", "\"a\":\"\\u0040", "\"token\" : {[", "jane@x.", "a@",
            "%40%25", "&#64", "4111 1111 ", "4111.1111\t", "token=token=", "?a=1#b;c=", "--XyZ\r\n", "\r\n\r\n--XyZ", "\\\\\"", "[{\"a\":",
            "<password a='>'/>", "<v a=\"/>", "x</password>", "<token a=\"x>\" b='",
            // the forms secrets have whatever names them: runs a word start is found in again and again
            "eyJ-", "eyJaaaaaaaa.", "eyJ.", "glpat-", "xoxb-", "github_pat_", "ghp_a", "sk_live_", "Bearer ", "bearer a/",
            "basic dXNl", "-----BEGIN PRIVATE KEY-----", "-----BEGIN PRIVATE KEY----------END", "a.a+", "x://a:b", "x://", "AKIAA"};
        String[] types = {"application/json", "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=XyZ"};
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            for (String unit : units) {
                byte[] body = unit.repeat(128 * 1024 / unit.length()).getBytes(StandardCharsets.UTF_8);
                for (String type : types) {
                    long start = System.nanoTime();
                    REDACTOR.cutBody("response", body, type, new ArrayList<>()); // cut at its last word, then as a body
                    long ms = (System.nanoTime() - start) / 1_000_000;
                    assertTrue(ms < 1000, () -> unit + " as " + type + ": " + ms + " ms");
                }
                String s = new String(body, StandardCharsets.ISO_8859_1);
                long start = System.nanoTime();
                REDACTOR.query("request", s, new ArrayList<>());
                REDACTOR.path("request", s, new ArrayList<>());
                REDACTOR.header("request", "X-Note", s, new ArrayList<>());
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertTrue(ms < 1000, () -> unit + " in a query, a path and a header: " + ms + " ms");
            }
        });
    }

    // ---------------------------------------------------------------- generators

    private static final String BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW";

    private static Planted body(Random r, Planted p, String type, String[] output) {
        byte[] redacted = REDACTOR.body("response", p.text().getBytes(StandardCharsets.UTF_8), type, new ArrayList<>());
        output[0] = new String(redacted, StandardCharsets.UTF_8);
        return p;
    }

    private static Planted json(Random r, List<String> secrets, int depth) {
        StringBuilder sb = new StringBuilder();
        if (depth > 3 || r.nextInt(4) == 0) {
            switch (r.nextInt(5)) {
                case 0 -> sb.append('"').append(escaped(r, word(r) + " " + printed(r, card(r, secrets)) + " " + word(r))).append('"');
                case 1 -> sb.append('"').append(escaped(r, word(r) + " <" + email(r, secrets) + "> ")).append('"');
                case 2 -> sb.append(card(r, secrets)); // a card number written as a JSON number
                case 3 -> sb.append(pick(r, "1e999", "-0.0", "12.50", "123456789012345678901234567890"));
                default -> sb.append('"').append(escaped(r, word(r))).append('"');
            }
        } else if (r.nextBoolean()) {
            sb.append('[');
            for (int i = 0, n = r.nextInt(4); i < n; i++) {
                sb.append(i > 0 ? "," : "").append(json(r, secrets, depth + 1).text());
            }
            sb.append(']');
        } else {
            sb.append('{');
            for (int i = 0, n = r.nextInt(4); i < n; i++) {
                sb.append(i > 0 ? "," : "").append('"');
                if (r.nextInt(3) == 0) {
                    String s = secret(r, secrets);
                    sb.append(escaped(r, pick(r, SENSITIVE))).append("\":")
                            .append(pick(r, "\"" + escaped(r, s) + "\"", "{\"v\":\"" + s + "\"}", "[\"" + s + "\"]"));
                } else {
                    sb.append(escaped(r, word(r) + i)).append("\":").append(json(r, secrets, depth + 1).text());
                }
            }
            sb.append('}');
        }
        return new Planted(sb.toString(), secrets);
    }

    private static Planted form(Random r) {
        List<String> secrets = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        for (int i = 0, n = 1 + r.nextInt(5); i < n; i++) {
            sb.append(i > 0 ? "&" : "");
            switch (r.nextInt(5)) {
                case 0 -> sb.append(percent(r, pick(r, SENSITIVE))).append('=').append(percent(r, secret(r, secrets)));
                case 1 -> sb.append("note=").append(URLEncoder.encode(word(r) + " " + printed(r, card(r, secrets)), StandardCharsets.UTF_8));
                case 2 -> sb.append("to=").append(percent(r, email(r, secrets)));
                case 3 -> sb.append("next=").append(URLEncoder.encode("https://x.example/cb?token=" + secret(r, secrets), StandardCharsets.UTF_8));
                default -> sb.append(percent(r, word(r))).append('=').append(percent(r, word(r)));
            }
        }
        return new Planted(sb.toString(), secrets);
    }

    private static Planted text(Random r) {
        List<String> secrets = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        for (int i = 0, n = 1 + r.nextInt(6); i < n; i++) {
            sb.append(i > 0 ? pick(r, " ", "\n", ", ") : "");
            switch (r.nextInt(4)) {
                case 0 -> {
                    String name = pick(r, SENSITIVE);
                    String s = secret(r, secrets);
                    sb.append(pick(r, name + "=" + s, name + ": " + s, name + "=\"" + s + "\"", "'" + name + "': '" + s + "'"));
                }
                case 1 -> sb.append(printed(r, card(r, secrets)));
                case 2 -> sb.append(email(r, secrets));
                default -> sb.append(word(r));
            }
        }
        return new Planted(sb.toString(), secrets);
    }

    private static Planted xml(Random r) {
        List<String> secrets = new ArrayList<>();
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\"?><root>");
        for (int i = 0, n = 1 + r.nextInt(5); i < n; i++) {
            switch (r.nextInt(5)) {
                case 0 -> {
                    String name = pick(r, "password", "wsse:Password", "apiKey", "client_secret");
                    String s = secret(r, secrets);
                    sb.append('<').append(name).append(pick(r, "", " Type=\"t\"")).append('>')
                            .append(pick(r, s, "<![CDATA[" + s + "]]>")).append("</").append(name).append('>');
                }
                case 1 -> {
                    String quote = pick(r, "\"", "'");
                    sb.append("<user id=\"1\" ").append(pick(r, "token", "ns:api_key")).append(pick(r, "=", " = ")).append(quote)
                            .append(secret(r, secrets)).append(quote).append("/>");
                }
                case 2 -> sb.append("<pan>").append(printed(r, card(r, secrets))).append("</pan>");
                case 3 -> sb.append("<to>").append(email(r, secrets)).append("</to>");
                default -> sb.append("<n>").append(word(r).replace("<", "").replace("&", "")).append("</n>");
            }
        }
        return new Planted(sb.append("</root>").toString(), secrets);
    }

    /** An XML element, sensitive or not; every text in a sensitive one (at any depth) a planted secret. */
    private static String element(Random r, int depth, boolean inSensitive, List<String> secrets) {
        boolean sensitive = r.nextInt(3) == 0;
        String name = sensitive ? pick(r, "password", "wsse:Password", "PASSWORD", "ns1:apiKey", "UsernameToken", "x:client_secret")
                : pick(r, "a", "ns:b", "Item", "v");
        String attributes = pick(r, "", " id=\"1\"", " a=\"x>y\"", " b='q/>r'", " c=\"\" d='>'", " e=\"1\"\t", " f=\"it's\"");
        if (inSensitive && !sensitive && r.nextBoolean()) { // an attribute value inside a sensitive element is a value too
            String quote = pick(r, "\"", "'");
            attributes += pick(r, " value=", " ns:v = ") + quote + secret(r, secrets) + quote;
        }
        if (r.nextInt(6) == 0) { // an empty element, the text after it its parent's
            return "<" + name + attributes + "/>" + (inSensitive ? secretText(r, secrets) : "t");
        }
        StringBuilder sb = new StringBuilder().append('<').append(name).append(attributes).append('>');
        boolean secret = inSensitive || sensitive;
        for (int i = 0, n = depth > 3 ? 1 : 1 + r.nextInt(3); i < n; i++) {
            switch (r.nextInt(depth > 3 ? 2 : 5)) {
                case 0 -> sb.append(secret ? secretText(r, secrets) : pick(r, "hello", "x y", "&amp;", " "));
                case 1 -> sb.append(pick(r, "<!-- c -->", "<?pi x?>", "\n  ", "<![CDATA[" + (secret ? secret(r, secrets) : "c") + "]]>"));
                default -> sb.append(element(r, depth + 1, secret, secrets));
            }
        }
        return sb.append("</").append(name).append('>').toString();
    }

    private static String secretText(Random r, List<String> secrets) {
        String s = secret(r, secrets);
        return pick(r, s, "<![CDATA[" + s + "]]>", s + "<!-- c -->", "<![CDATA[a]]>" + s, " " + s + " ", s + "&amp;x");
    }

    private static Planted multipart(Random r) {
        List<String> secrets = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        String nl = pick(r, "\r\n", "\n");
        for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
            sb.append("--").append(BOUNDARY).append(nl);
            Planted part = switch (r.nextInt(4)) {
                case 0 -> {
                    sb.append("Content-Disposition: form-data; name=\"").append(pick(r, SENSITIVE)).append('"').append(nl).append(nl);
                    yield new Planted(secret(r, secrets), List.of());
                }
                case 1 -> {
                    sb.append("Content-Disposition: form-data; name=\"doc\"").append(nl).append("Content-Type: application/json").append(nl).append(nl);
                    yield json(r, new ArrayList<>(), 0);
                }
                case 2 -> {
                    sb.append("Content-Type: application/x-www-form-urlencoded").append(nl).append(nl);
                    yield form(r);
                }
                default -> {
                    sb.append("Content-Disposition: form-data; name=\"note\"").append(nl).append(nl);
                    yield text(r);
                }
            };
            secrets.addAll(part.secrets());
            sb.append(part.text()).append(nl);
        }
        return new Planted(sb.append("--").append(BOUNDARY).append("--").append(nl).toString(), secrets);
    }

    private static Planted header(Random r) {
        List<String> secrets = new ArrayList<>();
        String s = secret(r, secrets);
        return new Planted(pick(r, "Bearer " + s, "Basic " + s, s, "Token token=" + s), secrets);
    }

    // ---------------------------------------------------------------- values and encodings

    /** A credential-like value: never a token, a card or a word of the filler. */
    private static String secret(Random r, List<String> secrets) {
        StringBuilder sb = new StringBuilder("QZ");
        for (int i = 0; i < 10; i++) {
            sb.append(r.nextInt(3) == 0 ? (char) ('2' + r.nextInt(8)) : (char) ('G' + r.nextInt(20)));
        }
        secrets.add(sb.toString());
        return sb.toString();
    }

    /** A Luhn-valid card number of 13 to 19 digits. */
    private static String card(Random r, List<String> secrets) {
        int length = r.nextBoolean() ? 16 : 13 + r.nextInt(7);
        StringBuilder sb = new StringBuilder().append(2 + r.nextInt(5));
        while (sb.length() < length - 1) {
            sb.append(r.nextInt(10));
        }
        for (int check = 0; ; check++) {
            String card = sb.toString() + check;
            if (SecretFinders.luhn(card)) {
                secrets.add(card);
                return card;
            }
        }
    }

    private static String printed(Random r, String card) {
        if (card.length() != 16) {
            return card;
        }
        String sep = pick(r, "", " ", "-", ".");
        return String.join(sep, card.substring(0, 4), card.substring(4, 8), card.substring(8, 12), card.substring(12));
    }

    private static String email(Random r, List<String> secrets) {
        String email = "u" + Integer.toString(r.nextInt(1 << 30), 36) + pick(r, "", "é", ".x") + "@ex" + (char) ('a' + r.nextInt(26)) + "mple.com";
        secrets.add(email);
        return email;
    }

    private static String word(Random r) {
        return pick(r, WORDS);
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... options) {
        return options[r.nextInt(options.length)];
    }

    /** As JSON string content, some characters written as escapes. */
    private static String escaped(Random r, String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == '"' || c == '\\' || r.nextInt(8) == 0) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Percent-encoded, some unreserved characters too. */
    private static String percent(Random r, String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xFF);
            boolean unreserved = c < 0x80 && (Character.isLetterOrDigit(c) || "-_.".indexOf(c) >= 0);
            sb.append(unreserved && r.nextInt(6) > 0 ? String.valueOf(c) : String.format("%%%02X", b & 0xFF));
        }
        return sb.toString();
    }

    /** The redacted text as readers of its encodings see it. */
    private static List<String> views(String s) {
        String json = jsonUnescaped(s);
        return List.of(s, percentDecoded(s), percentDecoded(percentDecoded(s)), json, percentDecoded(json),
                jsonUnescaped(jsonUnescaped(s)));
    }

    private static String percentDecoded(String s) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length() && Character.digit(s.charAt(i + 1), 16) >= 0 && Character.digit(s.charAt(i + 2), 16) >= 0) {
                b.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                b.writeBytes(String.valueOf(c == '+' ? ' ' : c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private static String jsonUnescaped(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                sb.append(c);
            } else if (s.charAt(i + 1) == 'u' && i + 5 < s.length() && s.substring(i + 2, i + 6).chars().allMatch(h -> Character.digit(h, 16) >= 0)) {
                sb.append((char) Integer.parseInt(s.substring(i + 2, i + 6), 16));
                i += 5;
            } else {
                char e = s.charAt(++i);
                sb.append(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e);
            }
        }
        return sb.toString();
    }
}
