package io.tapline.redaction;

import com.fasterxml.jackson.databind.JsonNode;
import io.tapline.avro.Header;
import io.tapline.avro.Redaction;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedactorTest {

    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private final Redactor redactor = new Redactor(KEY, Redactor.Rules.defaults());
    private final List<Redaction> out = new ArrayList<>();

    @Test
    void shouldGiveEqualValuesEqualTokensAndDifferentKeysDifferentTokens() {
        String t = redactor.token("s3cret");
        assertTrue(t.matches("tapline:hmac:[0-9a-f]{16}"), t);
        assertEquals(t, redactor.token("s3cret"));
        assertNotEquals(t, redactor.token("s3cret2"));
        Redactor other = new Redactor("another-key-another-key".getBytes(StandardCharsets.UTF_8), Redactor.Rules.defaults());
        assertNotEquals(t, other.token("s3cret"));
    }

    @Test
    void shouldLeaveAValueThatIsAlreadyATokenAsItIs() {
        String t = redactor.token("s3cret");
        assertSame(t, redactor.token(t), "redacting twice changes nothing");
        assertEquals("Bearer " + t, redactor.header("p", "Authorization", "Bearer " + t, out));
        assertEquals("sid=" + t + "; Path=/", redactor.header("p", "Set-Cookie", "sid=" + t + "; Path=/", out));
        assertNotEquals(t + "0", redactor.token(t + "0"), "a longer value is not a token");
        assertFalse(RedactionTokens.is("tapline:hmac:0123456789ABCDEF"), "tokens are lower-case hex");
    }

    @Test
    void shouldRedactAValueOfAJsonDocumentAsItWouldBeRedactedInsideIt() {
        Redactor r = new Redactor(KEY, new Redactor.Rules(Redactor.DEFAULT_HEADERS, Pattern.compile(Redactor.DEFAULT_SENSITIVE_NAME),
                Set.of(), List.of("$.customer.ssn", "$.items[*].cvv"), List.of(), true, true));
        // a field named on the path is sensitive or configured: the whole value becomes a string token
        assertEquals("\"" + t("hunter2") + "\"", r.jsonValue("p", "$.password", "\"hunter2\"", out));
        assertEquals("\"" + t("{\"pin\":1}") + "\"", r.jsonValue("p", "$.credentials", "{\"pin\":1}", out));
        assertEquals("\"" + t("hunter2") + "\"", r.jsonValue("p", "$.secrets[1]", "\"hunter2\"", out), "an element of a sensitive array");
        assertEquals("\"" + t("123-45-6789") + "\"", r.jsonValue("p", "$.customer.ssn", "\"123-45-6789\"", out));
        assertEquals("\"" + t("999") + "\"", r.jsonValue("p", "$.items[3].cvv", "999", out));
        // otherwise the value's own fields and text
        assertEquals("{\"name\":\"Bob\",\"email\":\"" + t("bob@example.com") + "\",\"ssn\":\"" + t("1") + "\"}",
                r.jsonValue("p", "$.customer", "{\"name\":\"Bob\",\"email\":\"bob@example.com\",\"ssn\":\"1\"}", out));
        assertEquals("\"write to " + t("bob@example.com") + "\"", r.jsonValue("p", "$.note", "\"write to bob@example.com\"", out));
        assertEquals("\"" + t("4012888888881881") + "\"", r.jsonValue("p", "$.n", "4012888888881881", out), "a card as a number");
        assertEquals("[{\"cvv\":\"" + t("1") + "\"}]", r.jsonValue("p", "$.items", "[{\"cvv\":\"1\"}]", out));
        String plain = "{\"name\":\"Bob\"}";
        assertSame(plain, r.jsonValue("p", "$.customer", plain, out));
        // a value cut for display does not parse: the rules for JSON-like text
        assertEquals("{\"name\":\"Bob\",\"token\":\"" + t("abc") + "\",\"x\":\"...(900 chars)",
                r.jsonValue("p", "$.customer", "{\"name\":\"Bob\",\"token\":\"abc\",\"x\":\"...(900 chars)", out));
    }

    @Test
    void shouldRedactAnEmailOrACardNumberUsedAsAJsonKey() {
        String body = "{\"byUser\":{\"ann@example.com\":{\"visits\":3,\"password\":\"x\"},\"total\":1},"
                + "\"cards\":{\"4111111111111111\":{\"limit\":5},\"12345\":2},\"note\":\"plain\"}";
        String r = new String(redactor.body("p", body.getBytes(StandardCharsets.UTF_8), "application/json", out),
                StandardCharsets.UTF_8);
        String ann = t("ann@example.com");
        String card = t("4111111111111111");
        assertEquals("{\"byUser\":{\"" + ann + "\":{\"visits\":3,\"password\":\"" + t("x") + "\"},\"total\":1},"
                + "\"cards\":{\"" + card + "\":{\"limit\":5},\"12345\":2},\"note\":\"plain\"}", r,
                "keys redacted in place, members in their order, values below them redacted as usual");
        assertEquals(List.of("$.byUser." + ann + ":email", "$.byUser." + ann + ".password:sensitive-name",
                        "$.cards." + card + ":card-number"),
                out.stream().map(x -> x.getField() + ":" + x.getRule()).toList(), "the notes name the key by its token");
        assertFalse(out.toString().contains("ann@example.com"));
        out.clear();
        String plain = "{\"a\":{\"b@\":1,\"4111111111111112\":2}}"; // not an address, not Luhn-valid
        byte[] bytes = plain.getBytes(StandardCharsets.UTF_8);
        assertSame(bytes, redactor.body("p", bytes, "application/json", out));
        assertEquals(List.of(), out);
    }

    @Test
    void shouldNameASensitiveFieldOfACutBodyWithoutTheEmailItsNameHolds() {
        // a body cut by the capture cap does not parse: its "name": value pairs are scanned, and the note names the field
        // as the text reads after the text rules (the whole name is an address here)
        String cut = "{\"password-ann@example.com\": \"hunter2\", \"pad\": \"aaaa";
        String r = new String(redactor.body("p", cut.getBytes(StandardCharsets.UTF_8), "application/json", out),
                StandardCharsets.UTF_8);
        assertFalse(r.contains("ann@example.com") || r.contains("hunter2"), r);
        assertFalse(out.toString().contains("ann@example.com"), out::toString);
        assertTrue(out.stream().anyMatch(x -> x.getField().equals(t("password-ann@example.com"))), out::toString);
    }

    @Test
    void shouldReadANameInBracketsAsTheOneKeyTheCaptureSaw() {
        // replay writes a key holding a dot in brackets: $.byUser['ann@example.com'], $['a.b'].c
        Redactor r = new Redactor(KEY, new Redactor.Rules(Redactor.DEFAULT_HEADERS, Pattern.compile(Redactor.DEFAULT_SENSITIVE_NAME),
                Set.of("zip"), List.of("$.org.acme.ssn"), List.of(), true, true));
        assertEquals("\"" + t("abc") + "\"", r.jsonValue("p", "$.auth['session.token']", "\"abc\"", out));
        assertEquals("\"" + t("abc") + "\"", r.jsonValue("p", "$.byUser['ann@example.com'].password", "\"abc\"", out));
        assertEquals("\"" + t("1") + "\"", r.jsonValue("p", "$['org.acme'].ssn", "\"1\"", out),
                "a configured path names the key as the capture does, its parts joined by dots");
        assertEquals("\"" + t("1") + "\"", r.jsonValue("p", "$.x['it\\'s'][2].zip", "1", out));
        String visits = "{\"visits\":3}";
        assertSame(visits, r.jsonValue("p", "$.byUser['ann@example.com']", visits, out));
        String notZip = "\"1\"";
        assertSame(notZip, r.jsonValue("p", "$.x['a.zip']", notZip, out),
                "the key a.zip is not the configured field zip, at capture or here");
        assertEquals("{\"org.acme\":{\"ssn\":\"" + t("1") + "\"},\"x\":{\"a.zip\":\"1\"}}",
                new String(r.body("p", "{\"org.acme\":{\"ssn\":\"1\"},\"x\":{\"a.zip\":\"1\"}}".getBytes(StandardCharsets.UTF_8),
                        "application/json", out), StandardCharsets.UTF_8), "the capture, for comparison");
    }

    @Test
    void shouldRedactValuesNamedByShortCredentialWordsInEveryCaseConvention() {
        // pass, pin, otp, cvv, ssn, iban, auth, Authorization, jwt, session as a name's last word, passphrase and
        // one-time or security codes anywhere in it: their values were kept
        List<String> names = List.of("pass", "Pass", "DB_PASS", "db-pass", "dbPass", "passphrase", "keyPassphrase", "pin",
                "cardPin", "card_pin", "PIN", "otp", "totp", "otp_code", "mfaCode", "verification_code", "securityCode", "cvv",
                "cvv2", "cvc", "card.cvc", "ssn", "customerSsn", "iban", "auth", "basicAuth", "x-auth", "Authorization",
                "proxy_authorization", "jwt", "session", "userSession", "sessid", "PHPSESSID", "code_verifier", "SAMLResponse",
                "Ocp-Apim-Subscription-Key", "x-functions-key", "encryption_key", "signingKey", "auth_code");
        for (String name : names) {
            String json = "{\"user\":{\"" + name + "\":\"s3cr3t\"},\"list\":[{\"" + name + "\":\"s3cr3t\"}]}";
            assertEquals("{\"user\":{\"" + name + "\":\"" + t("s3cr3t") + "\"},\"list\":[{\"" + name + "\":\"" + t("s3cr3t") + "\"}]}",
                    new String(redactor.body("p", json.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8), name);
            assertEquals("a=1&" + name + "=" + t("s3cr3t"), redactor.urlEncoded("p", "query", "a=1&" + name + "=s3cr3t", out), name);
            assertEquals(name + "=" + t("s3cr3t") + " ok", new String(redactor.body("p", (name + "=s3cr3t ok").getBytes(StandardCharsets.UTF_8),
                    "text/plain", out), StandardCharsets.UTF_8), name);
            assertEquals("<a><" + name + ">" + t("s3cr3t") + "</" + name + "></a>", new String(redactor.body("p",
                    ("<a><" + name + ">s3cr3t</" + name + "></a>").getBytes(StandardCharsets.UTF_8), "application/xml", out), StandardCharsets.UTF_8), name);
        }
        for (String header : List.of("X-Authorization", "X-Session", "X-Otp", "X-Jwt", "Ocp-Apim-Subscription-Key", "X-Functions-Key")) {
            assertEquals(t("s3cr3t"), redactor.header("p", header, "s3cr3t", out), header);
        }
        // the words inside other words, or not last, name no credential
        for (String name : List.of("compass", "passenger", "bypass", "passed", "pinned", "spin", "pin_location", "OAuth", "oauth",
                "author", "authority", "authorized", "sessions", "session_count", "ssnap", "jwt_issuer", "otpEnabled", "Passport")) {
            byte[] json = ("{\"" + name + "\":\"kept\"}").getBytes(StandardCharsets.UTF_8);
            assertSame(json, redactor.body("p", json, "application/json", out), name);
        }
    }

    @Test
    void shouldRedactSecretsByTheirOwnFormWhateverNamesThem() {
        String jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        String jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji.XFBoMYUZodetZdvTiFvSkQ";
        String pemBody = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
        String pem = "-----BEGIN PRIVATE KEY-----\n" + pemBody + "\n-----END PRIVATE KEY-----";
        String[] secrets = {jwt, jwe, "AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzAB",
            "glpat-xYz123AbC456dEf789gH", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "rk_test_51H8abcdEFGH1234", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "npm_abcdefghijklmnopqrstuvwxyz0123456789"};
        for (String secret : secrets) {
            assertEquals("{\"data\":\"" + t(secret) + "\",\"list\":[\"" + t(secret) + "\"]}", new String(redactor.body("p",
                    ("{\"data\":\"" + secret + "\",\"list\":[\"" + secret + "\"]}").getBytes(StandardCharsets.UTF_8), "application/json", out),
                    StandardCharsets.UTF_8), secret);
            assertEquals("got " + t(secret) + ", ok", new String(redactor.body("p", ("got " + secret + ", ok").getBytes(StandardCharsets.UTF_8),
                    "text/plain", out), StandardCharsets.UTF_8), secret);
            assertEquals(t(secret), redactor.header("p", "X-Debug", secret, out), secret);
            assertEquals("/v/" + t(secret), redactor.path("p", "/v/" + secret, out), secret);
            assertEquals("x=" + t(secret), redactor.query("p", "x=" + secret, out), secret);
        }
        assertEquals(t(jwt), redactor.header("p", "X-Goog-Iap-Jwt-Assertion", jwt, out));
        // a private key's content, its armor lines kept; also cut before its END line; a certificate is public
        assertEquals("{\"pem\":\"-----BEGIN PRIVATE KEY-----" + t("\n" + pemBody + "\n") + "-----END PRIVATE KEY-----\"}",
                new String(redactor.body("p", ("{\"pem\":\"" + pem.replace("\n", "\\n") + "\"}").getBytes(StandardCharsets.UTF_8),
                        "application/json", out), StandardCharsets.UTF_8));
        assertEquals("-----BEGIN RSA PRIVATE KEY-----" + t("\n" + pemBody + "\n"), new String(redactor.cutBody("p",
                ("-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "\n-----EN").getBytes(StandardCharsets.UTF_8), "text/plain", out), StandardCharsets.UTF_8));
        assertEquals("-----BEGIN OPENSSH PRIVATE KEY-----" + t("\nb3BlbnNzaC1rZXktdjE\n") + "-----END OPENSSH PRIVATE KEY-----",
                redactor.text("p", "body", "body", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n-----END OPENSSH PRIVATE KEY-----", out));
        // credentials after an auth scheme in text, the scheme kept; after a header's name too (one word was tokenised)
        assertEquals("{\"h\":\"Bearer " + t("S3cr3tV4lue9") + "\",\"b\":[\"Authorization\",\"Basic " + t("dXNlcjpwYXNz") + "\"]}",
                new String(redactor.body("p", "{\"h\":\"Bearer S3cr3tV4lue9\",\"b\":[\"Authorization\",\"Basic dXNlcjpwYXNz\"]}"
                        .getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
        assertEquals("curl -H 'Authorization: Bearer " + t("abc") + "' -H \"X-Auth: Token " + t("xyz") + "\"", new String(redactor.body("p",
                "curl -H 'Authorization: Bearer abc' -H \"X-Auth: Token xyz\"".getBytes(StandardCharsets.UTF_8), "text/plain", out), StandardCharsets.UTF_8));
        assertEquals("user said bearer " + t("a1b2c3d4e5"), redactor.header("p", "X-Debug", "user said bearer a1b2c3d4e5", out));
        assertEquals("q=Bearer+" + t("a1b2c3d4e5"), redactor.query("p", "q=Bearer+a1b2c3d4e5", out));
        // what only looks like one is kept: a pagination cursor (base64 JSON), a certificate, words after Bearer or
        // Basic, short prefixes, hex digests and UUIDs
        String[] kept = {"eyJwYWdlIjoyLCJzaXplIjoxMH0", "eyJwYWdlIjoyfQ.json", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "bearer bonds and the bearer of news", "basic idea", "Basic information", "AKIA1234", "sk_live_", "ghp_short",
            "9f86d081884c7d659a2feaa0c55ad015", "123e4567-e89b-12d3-a456-426614174000", "xAKIAIOSFODNN7EXAMPLE", "a-eyJhbGciOiJIUzI1NiJ9.e30.x",
            "desk_live_4eC39HqLyjWDarjtT1zdp7dc"};
        for (String k : kept) {
            byte[] body = ("{\"v\":\"" + k.replace("\n", "\\n") + "\"}").getBytes(StandardCharsets.UTF_8);
            assertSame(body, redactor.body("p", body, "application/json", out), k);
            assertSame(k, redactor.text("p", "body", "body", k, out), k);
        }
        // and the byte scan still lets such a body skip the parse
        for (String k : List.of("eyJwYWdlIjoyLCJzaXplIjoxMH0", "eyJwYWdlIjoyfQ.json", "AKIA1234", "bearer")) {
            assertTrue(redactor.nothingToRedact(("{\"cursor\":\"" + k + "\"}").getBytes(StandardCharsets.UTF_8)), k);
        }
        // but not one where the URL rules read a blank for a '+'
        for (String u : List.of("https://x.io/?k=-----BEGIN+PRIVATE+KEY-----abc", "https://x.io/?q=Bearer+a1b2c3d4e5")) {
            byte[] body = ("{\"u\":\"" + u + "\"}").getBytes(StandardCharsets.UTF_8);
            assertFalse(redactor.nothingToRedact(body), u);
            assertNotEquals(new String(body, StandardCharsets.UTF_8), new String(redactor.body("p", body, "application/json", out),
                    StandardCharsets.UTF_8), u);
        }
    }

    @Test
    void shouldRedactThePasswordOfAUrlWithAnySchemeInText() {
        String[][] cases = {
            {"{\"db\":\"postgres://app:pw1@db:5432/x\"}", "{\"db\":\"postgres://app:" + t("pw1") + "@db:5432/x\"}"},
            {"{\"u\":\"redis://:pw1@cache:6379/0\"}", "{\"u\":\"redis://:" + t("pw1") + "@cache:6379/0\"}"},
            {"{\"u\":\"mongodb+srv://admin:pw1@cluster0.x.mongodb.net/db\"}", "{\"u\":\"mongodb+srv://admin:" + t("pw1") + "@cluster0.x.mongodb.net/db\"}"},
            {"{\"u\":\"jdbc:mysql://root:pw1@db.example.com/x\"}", "{\"u\":\"jdbc:mysql://root:" + t("pw1") + "@db.example.com/x\"}"},
            {"{\"u\":\"https://user:pw1@host.example.com/x\"}", "{\"u\":\"https://user:" + t("pw1") + "@host.example.com/x\"}"},
            {"see https://user:pw1@host/x, or amqp://guest:pw2@mq", "see https://user:" + t("pw1") + "@host/x, or amqp://guest:" + t("pw2") + "@mq"},
        };
        for (String[] c : cases) {
            String type = c[0].startsWith("{") ? "application/json" : "text/plain";
            assertEquals(c[1], new String(redactor.body("p", c[0].getBytes(StandardCharsets.UTF_8), type, out), StandardCharsets.UTF_8), c[0]);
        }
        for (String k : List.of("ssh://git@gitlab:22/a/b.git", "see http://host/a@b or x://a:b/c@d")) {
            assertSame(k, redactor.text("p", "body", "body", k, out), k);
        }
    }

    @Test
    void shouldTokeniseAnObjectWhateverTheOrderOfItsMembers() {
        String a = new String(redactor.body("p", "{\"credentials\":{\"user\":\"u\",\"pin\":{\"b\":2,\"a\":1}}}".getBytes(StandardCharsets.UTF_8),
                "application/json", out), StandardCharsets.UTF_8);
        String b = new String(redactor.body("p", "{\"credentials\":{\"pin\":{\"a\":1,\"b\":2},\"user\":\"u\"}}".getBytes(StandardCharsets.UTF_8),
                "application/json", out), StandardCharsets.UTF_8);
        assertEquals("{\"credentials\":\"" + t("{\"pin\":{\"a\":1,\"b\":2},\"user\":\"u\"}") + "\"}", a);
        assertEquals(a, b);
        String array = new String(redactor.body("p", "{\"tokens\":[{\"z\":1,\"y\":2},3]}".getBytes(StandardCharsets.UTF_8),
                "application/json", out), StandardCharsets.UTF_8);
        assertEquals("{\"tokens\":\"" + t("[{\"y\":2,\"z\":1},3]") + "\"}", array, "array elements keep their order");
        assertEquals("\"" + t("{\"a\":1,\"b\":2}") + "\"", redactor.jsonValue("p", "$.secret", "{\"b\":2,\"a\":1}", out),
                "a single value, as in place");
    }

    @Test
    void shouldRedactTextThatMayBeJsonWithoutTakingAPrefixForTheWhole() {
        assertEquals("card " + t("4111 1111 1111 1111"), redactor.anyText("p", "$", "card 4111 1111 1111 1111", out));
        assertEquals(t("4111 1111 1111 1111"), redactor.anyText("p", "$", "4111 1111 1111 1111", out),
                "digits that start like a JSON number are not read as the number 4111");
        assertEquals("{\"password\":\"" + t("x") + "\"}", redactor.anyText("p", "$", "{\"password\":\"x\"}", out));
        assertEquals("not JSON: {\"password\": \"" + t("x") + "\"", redactor.anyText("p", "$", "not JSON: {\"password\": \"x\"", out));
        String plain = "hello";
        assertSame(plain, redactor.anyText("p", "$", plain, out));
    }

    @Test
    void shouldRedactCredentialHeadersKeepingTheSchemeAndCookieNames() {
        List<Header> headers = List.of(
                new Header("Authorization", "Bearer abc.def.ghi"),
                new Header("Cookie", "session=xyz; theme=dark"),
                new Header("Set-Cookie", "sid=42; Path=/; HttpOnly"),
                new Header("X-Api-Key", "k-123"),
                new Header("X-Upstream-Token", "t-999"),
                new Header("Accept", "application/json"),
                new Header("X-Outbound-Auth", "opaque-credential"),
                new Header("X-Forwarded-Credentials", "Basic dXNlcjpwYXNz"),
                new Header("X-Author", "Jane"),
                new Header("X-Original-Cookie", "a=b1"));
        List<Header> r = redactor.headers("inbound.request", headers, out);
        assertEquals("Bearer " + redactor.token("abc.def.ghi"), r.get(0).getValue());
        assertEquals("session=" + redactor.token("xyz") + "; theme=" + redactor.token("dark"), r.get(1).getValue());
        assertEquals("sid=" + redactor.token("42") + "; Path=/; HttpOnly", r.get(2).getValue());
        assertEquals(redactor.token("k-123"), r.get(3).getValue());
        assertEquals(redactor.token("t-999"), r.get(4).getValue());
        assertSame(headers.get(5), r.get(5));
        assertEquals(redactor.token("opaque-credential"), r.get(6).getValue());
        assertEquals("Basic " + redactor.token("dXNlcjpwYXNz"), r.get(7).getValue(), "a value in an auth scheme is a credential");
        assertSame(headers.get(8), r.get(8), "author is not auth");
        assertEquals("a=" + redactor.token("b1"), r.get(9).getValue(), "any cookie-named header");
        assertEquals(8, out.size());
        assertTrue(out.stream().noneMatch(x -> x.toString().contains("abc.def.ghi")), "a redaction note never carries the value");
    }

    @Test
    void shouldRedactEverySetCookieOfSeveralJoinedInOneValue() {
        // a name's lines joined by ", " (how the replay compares headers, and how some servers fold Set-Cookie)
        String joined = "sid=s1; Path=/; HttpOnly, csrf=c2; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Secure,theme=dark";
        assertEquals("sid=" + t("s1") + "; Path=/; HttpOnly, csrf=" + t("c2") + "; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Secure,theme="
                + t("dark"), redactor.header("p", "Set-Cookie", joined, out));
        assertEquals("sid=" + t("s1") + "; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
                redactor.header("p", "Set-Cookie", "sid=s1; Expires=Wed, 21 Oct 2037 07:28:00 GMT", out), "a date's comma starts no cookie");
    }

    @Test
    void shouldRedactEveryDocumentOfABodyHoldingSeveralJsonValues() {
        // newline-delimited JSON (a bulk request, a stream of events): the secrets are not all in the first document
        String ndjson = "{\"index\":{\"_id\":\"1\"}}\n{\"user\":\"ann@example.com\",\"password\":\"hunter2\"}\n";
        for (String type : List.of("application/x-ndjson", "application/json")) {
            String r = new String(redactor.body("p", ndjson.getBytes(StandardCharsets.UTF_8), type, out), StandardCharsets.UTF_8);
            assertEquals("{\"index\":{\"_id\":\"1\"}}\n{\"user\":\"" + t("ann@example.com") + "\",\"password\":\"" + t("hunter2")
                    + "\"}\n", r, type);
        }
        // the first document redacted did not drop the next ones
        String two = "{\"token\":\"a1\"}\n{\"n\":1}";
        assertEquals("{\"token\":\"" + t("a1") + "\"}\n{\"n\":1}",
                new String(redactor.body("p", two.getBytes(StandardCharsets.UTF_8), "application/x-ndjson", out), StandardCharsets.UTF_8));
    }

    @Test
    void shouldRedactAFragmentARequestTargetCarriesLikeAQuery() {
        // a client sending its fragment: the query (or, without one, the path) is read to the end of the target
        assertEquals("code=1#access_token=" + t("at-1") + "&state=s", redactor.query("p", "code=1#access_token=at-1&state=s", out));
        assertEquals("/callback#access_token=" + t("at-1"), redactor.path("p", "/callback#access_token=at-1", out));
        assertEquals("/u/" + t("ann@example.com") + "#id_token=" + t("it-2"), redactor.path("p", "/u/ann@example.com#id_token=it-2", out));
        String plain = "page=2#top";
        assertSame(plain, redactor.query("p", plain, out));
        assertEquals("api_key=" + t("k1"), redactor.query("p", "api_key=k1", out));
    }

    /** Reset links, redirect targets and presigned URLs carry their secrets as query parameters of a URL in a value. */
    @Test
    void shouldRedactAUrlInAJsonStringOrAQueryValueByTheRulesOfTheRequestUrl() {
        String json = "{\"next\":\"https://shop.example/reset?token=abc&lang=en\",\"avatar\":\"https://cdn.example/a.png\","
                + "\"download\":\"https://b.s3.example/k?X-Amz-Date=20261122&X-Amz-Signature=deadbeef\",\"blob\":\"https://a.blob.example/c?sv=2024&sig=s1\"}";
        String redacted = new String(redactor.body("p", json.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8);
        assertEquals("{\"next\":\"https://shop.example/reset?token=" + t("abc") + "&lang=en\",\"avatar\":\"https://cdn.example/a.png\","
                + "\"download\":\"https://b.s3.example/k?X-Amz-Date=20261122&X-Amz-Signature=" + t("deadbeef") + "\","
                + "\"blob\":\"https://a.blob.example/c?sv=2024&sig=" + t("s1") + "\"}", redacted);
        // a name ending in signature is a secret; one that only starts with it (a flag, an algorithm) is not
        String named = "{\"webhook_signature\":\"v1=abc\",\"signatureRequired\":true,\"signatureAlgorithm\":\"RS256\"}";
        assertEquals("{\"webhook_signature\":\"" + t("v1=abc") + "\",\"signatureRequired\":true,\"signatureAlgorithm\":\"RS256\"}",
                new String(redactor.body("p", named.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
        // the same in a body that does not parse as one JSON value (newline-delimited JSON, a body cut by the capture cap)
        String ndjson = "{\"index\":{}}\n{\"next\":\"https://shop.example/reset?token=abc&lang=en\"}\n";
        assertEquals("{\"index\":{}}\n{\"next\":\"https://shop.example/reset?token=" + t("abc") + "&lang=en\"}\n",
                new String(redactor.body("p", ndjson.getBytes(StandardCharsets.UTF_8), "application/x-ndjson", out), StandardCharsets.UTF_8));
        // a URL percent-encoded in a query value: its parameters by name, written back encoded
        assertEquals("next=" + PercentEncoding.formEncode("https://shop.example/reset?token=" + t("abc")) + "&page=2",
                redactor.query("p", "next=https%3A%2F%2Fshop.example%2Freset%3Ftoken%3Dabc&page=2", out));
        assertEquals("next=" + PercentEncoding.formEncode("https://shop.example/reset?token=" + t("abc")),
                new String(redactor.body("p", "next=https%3A%2F%2Fshop.example%2Freset%3Ftoken%3Dabc".getBytes(StandardCharsets.UTF_8),
                        "application/x-www-form-urlencoded", out), StandardCharsets.UTF_8), "a form field");
        String nested = "{\"u\":\"https://a.example/?next=https%3A%2F%2Fb.example%2F%3Ftoken%3Dabc\"}";
        assertEquals("{\"u\":\"https://a.example/?next=" + PercentEncoding.formEncode("https://b.example/?token=" + t("abc")) + "\"}",
                new String(redactor.body("p", nested.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8),
                "a URL nested in a parameter of a URL in JSON");
        String plain = "next=https%3A%2F%2Fshop.example%2Fcart&page=2";
        assertSame(plain, redactor.query("p", plain, out));
    }

    /** Queue messages and webhooks carry JSON as a string (SNS's Message, Slack's payload form field). */
    @Test
    void shouldRedactJsonCarriedAsAStringWhereItStands() {
        String json = "{\"Type\":\"Notification\",\"Message\":\"{\\\"password\\\": \\\"hunter2\\\", \\\"n\\\": 1}\",\"list\":\"[1, 2]\"}";
        String redacted = new String(redactor.body("p", json.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8);
        assertEquals("{\"Type\":\"Notification\",\"Message\":\"{\\\"password\\\": \\\"" + t("hunter2") + "\\\", \\\"n\\\": 1}\",\"list\":\"[1, 2]\"}",
                redacted, "the pair tokenised where it stands, the message's own spacing kept");
        assertEquals("payload=" + PercentEncoding.formEncode("{\"token\":\"" + t("abc") + "\"}") + "&x=1",
                redactor.urlEncoded("p", "form", "payload=%7B%22token%22%3A%22abc%22%7D&x=1", out));
    }

    /** Servlet containers put the session in the path; older encoders separate query pairs by ';'. */
    @Test
    void shouldRedactParametersAfterASemicolonByName() {
        assertEquals("/cart;jsessionid=" + t("AB12CD") + "/items;v=2", redactor.path("p", "/cart;jsessionid=AB12CD/items;v=2", out));
        assertEquals("a=1;token=" + t("x9") + ";b=2&page=3", redactor.query("p", "a=1;token=x9;b=2&page=3", out));
        assertEquals("password=" + t("a;b"), redactor.query("p", "password=a;b", out), "a sensitive value keeps its ';'");
        String json = "{\"u\":\"https://shop.example/cart;jsessionid=AB12CD?x=1\"}";
        assertEquals("{\"u\":\"https://shop.example/cart;jsessionid=" + t("AB12CD") + "?x=1\"}",
                new String(redactor.body("p", json.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
        String plain = "/cart;v=2/items";
        assertSame(plain, redactor.path("p", plain, out));
    }

    @Test
    void shouldTokeniseUserInfoWithoutAPasswordInAUrl() {
        assertEquals("https://" + t("ghp_abc") + "@github.com/o/r.git",
                redactor.header("p", "Location", "https://ghp_abc@github.com/o/r.git", out));
        assertEquals("https://user:" + t("pw") + "@h.example/", redactor.header("p", "Location", "https://user:pw@h.example/", out));
    }

    @Test
    void shouldRedactXmlElementsAndAttributesBySensitiveNames() {
        String soap = "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"urn:s\"><soap:Header><wsse:Security>"
                + "<wsse:UsernameToken><wsse:Username>ann</wsse:Username><wsse:Password Type=\"PasswordText\">hunter2</wsse:Password>"
                + "</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body><login api_key='k-1' lang=\"en\">"
                + "<secret><![CDATA[s<3]]></secret><mail>ann@example.com</mail><note>no secret here</note></login></soap:Body></soap:Envelope>";
        String redacted = new String(redactor.body("p", soap.getBytes(StandardCharsets.UTF_8), "application/soap+xml; charset=utf-8", out),
                StandardCharsets.UTF_8);
        // UsernameToken is named like a sensitive field: the text of every element inside it is tokenised
        assertEquals("<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"urn:s\"><soap:Header><wsse:Security>"
                + "<wsse:UsernameToken><wsse:Username>" + t("ann") + "</wsse:Username><wsse:Password Type=\"PasswordText\">" + t("hunter2") + "</wsse:Password>"
                + "</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body><login api_key='" + t("k-1") + "' lang=\"en\">"
                + "<secret><![CDATA[" + t("s<3") + "]]></secret><mail>" + t("ann@example.com") + "</mail><note>no secret here</note></login>"
                + "</soap:Body></soap:Envelope>", redacted);
        byte[] plain = "<a><b x=\"1\">text</b></a>".getBytes(StandardCharsets.UTF_8);
        assertSame(plain, redactor.body("p", plain, "text/xml", out));
        // 1 MiB of a CDATA section left open, and of open tags, on a small stack
        String open = "<password><![CDATA[" + "x".repeat(1 << 20);
        String tags = "<a b='1' ".repeat(1 << 17);
        for (String big : List.of(open, tags)) {
            byte[] r = onSmallStack(() -> redactor.body("p", big.getBytes(StandardCharsets.UTF_8), "application/xml", out));
            // the open section is the password's value, cut: tokenised (see shouldRedactASensitiveXmlElementTheCaptureCutInside)
            assertEquals(big == open ? "<password><![CDATA[" + t("x".repeat(1 << 20)) + "]]>" : big, new String(r, StandardCharsets.UTF_8));
        }
    }

    @Test
    void shouldRedactXmlWithManyUnclosedCdataSectionsInLinearTime() {
        // each start of a CDATA element was matched lazily to the end of the text: 256 KiB took half a minute
        byte[] body = "<a><![CDATA[x".repeat(20_000).getBytes(StandardCharsets.UTF_8);
        byte[] r = assertTimeoutPreemptively(java.time.Duration.ofSeconds(2), () -> redactor.body("p", body, "application/xml", out));
        assertSame(body, r);
        // sensitive elements left open, holding many elements, stray end tags or '<' that start no tag: each character read once
        for (String big : List.of("<password>".repeat(1 << 16), "<password>" + "<a><b/></c>".repeat(1 << 15), "<password>" + "<".repeat(1 << 18),
                "<a><password>x</a>".repeat(1 << 14), "<password><!--" + "<a>".repeat(1 << 16), "<token><v>" + "<![CDATA[x]]>".repeat(1 << 15))) {
            byte[] b = big.getBytes(StandardCharsets.UTF_8);
            byte[] redacted = assertTimeoutPreemptively(java.time.Duration.ofSeconds(2), () -> redactor.body("p", b, "application/xml", out));
            assertFalse(new String(redacted, StandardCharsets.UTF_8).contains("x"), "no value kept");
        }
        // the content still runs to the first "]]>" its end tag follows: sections split around a "]]>" are one value
        String split = "<x><![CDATA[a]]></y><password><![CDATA[a]]]]><![CDATA[>b]]></password><b><![CDATA[c]]></a></b>";
        assertEquals("<x><![CDATA[a]]></y><password><![CDATA[" + t("a]]]]><![CDATA[>b") + "]]></password><b><![CDATA[c]]></a></b>",
                new String(redactor.body("p", split.getBytes(StandardCharsets.UTF_8), "text/xml", out), StandardCharsets.UTF_8));
    }

    @Test
    void shouldRedactASensitiveXmlElementTheCaptureCutInside() {
        // cut inside the end tag or the CDATA section, the element had no end tag to match and its value was kept
        String[][] cases = {
            {"<a><password>hunter2</pass", "<a><password>" + t("hunter2") + "</pass"},
            // after the end tag's name, where whitespace may stand before its '>'
            {"<a><password>hunter2</password ", "<a><password>" + t("hunter2") + "</password "},
            {"<a><wsse:Password>hunter2</wsse:Password\r\n", "<a><wsse:Password>" + t("hunter2") + "</wsse:Password\r\n"},
            {"<a><wsse:Password Type=\"t\">hunter2<", "<a><wsse:Password Type=\"t\">" + t("hunter2") + "<"},
            {"<a><password><![CDATA[hunter2]]></wsse", "<a><password><![CDATA[" + t("hunter2") + "]]></wsse"},
            {"<a><password><![CDATA[hun<ter2]]", "<a><password><![CDATA[" + t("hun<ter2") + "]]>"},
            {"<a><secret><![CDATA[hunter2", "<a><secret><![CDATA[" + t("hunter2") + "]]>"},
            // a value holding "]]>", written as sections split around it (one value, as for a whole element)
            {"<a><password><![CDATA[a]]]]><![CDATA[>hunter2", "<a><password><![CDATA[" + t("a]]]]><![CDATA[>hunter2") + "]]>"},
            {"<a><password><![CDATA[a]]]]><![CDATA[>hunter2]]></pa", "<a><password><![CDATA[" + t("a]]]]><![CDATA[>hunter2") + "]]></pa"},
            {"<a><password>x</password><note>hunter2</no", "<a><password>" + t("x") + "</password><note>hunter2</no"},
            {"<a><password x=\"1\"/>hunter2</a", "<a><password x=\"1\"/>hunter2</a"},
        };
        for (String[] c : cases) {
            assertEquals(c[1], new String(redactor.body("p", c[0].getBytes(StandardCharsets.UTF_8), "application/xml", out),
                    StandardCharsets.UTF_8), c[0]);
        }
    }

    @Test
    void shouldRedactTheWholeTextOfASensitiveXmlElementWhateverItMixes() {
        // text beside a CDATA section, a comment or a processing instruction was kept as written
        String[][] cases = {
            {"<a><password><![CDATA[a]]>hunter2</password></a>", "<a><password>" + t("<![CDATA[a]]>hunter2") + "</password></a>"},
            {"<a><password>hunter2<![CDATA[x]]></password></a>", "<a><password>" + t("hunter2<![CDATA[x]]>") + "</password></a>"},
            {"<a><token>ab<![CDATA[cd]]>ef</token></a>", "<a><token>" + t("ab<![CDATA[cd]]>ef") + "</token></a>"},
            {"<a><password>hun<!-- c -->ter2</password></a>", "<a><password>" + t("hun<!-- c -->ter2") + "</password></a>"},
            {"<a><password>hun<?pi x?>ter2</password></a>", "<a><password>" + t("hun<?pi x?>ter2") + "</password></a>"},
            {"<a><password>hun<ter2</password></a>", "<a><password>" + t("hun<ter2") + "</password></a>"},
            // sections with text between them, and entity references, as before: one value
            {"<password><![CDATA[a]]>hunter2<![CDATA[b]]></password>", "<password><![CDATA[" + t("a]]>hunter2<![CDATA[b") + "]]></password>"},
            {"<password>hunter&#50;</password>", "<password>" + t("hunter&#50;") + "</password>"},
            // cut by the capture cap inside it
            {"<a><password><![CDATA[a]]>hunter2", "<a><password>" + t("<![CDATA[a]]>hunter2")},
            {"<a><password><![CDATA[a]]>hunter2</pass", "<a><password>" + t("<![CDATA[a]]>hunter2") + "</pass"},
            {"<a><password>hunter2<![CDATA[x", "<a><password>" + t("hunter2<![CDATA[x")},
            {"<a><password>hun<!-- c", "<a><password>" + t("hun<!-- c")},
            // an end tag of no element open inside does not end it: the text after it may still be the value's
            {"<password>hun</b>ter2</password><n>kept</n>", "<password>" + t("hun") + "</b>" + t("ter2") + "</password><n>kept</n>"},
        };
        for (String[] c : cases) {
            assertEquals(c[1], new String(redactor.body("p", c[0].getBytes(StandardCharsets.UTF_8), "application/xml", out),
                    StandardCharsets.UTF_8), c[0]);
        }
    }

    @Test
    void shouldRedactTheTextOfElementsInsideASensitiveXmlElement() {
        // a sensitive element holding elements kept their text, as a JSON object under a sensitive name is not
        String[][] cases = {
            {"<password><v>hunter2</v></password>", "<password><v>" + t("hunter2") + "</v></password>"},
            {"<credentials>\n  <user>ann</user>\n  <number a=\"1\"><![CDATA[1234]]></number><br/>x\n</credentials><n>kept</n>",
                "<credentials>\n  <user>" + t("ann") + "</user>\n  <number a=\"" + t("1") + "\"><![CDATA[" + t("1234") + "]]></number><br/>" + t("x\n")
                        + "</credentials><n>kept</n>"},
            {"<password><password>a</password>b</password><n>kept</n>", "<password><password>" + t("a") + "</password>" + t("b")
                    + "</password><n>kept</n>"},
            {"<a><password><v>hunter2</v", "<a><password><v>" + t("hunter2") + "</v"},
            {"<a><password><v>hunter2</v><w x=\"", "<a><password><v>" + t("hunter2") + "</v><w x=\""},
        };
        for (String[] c : cases) {
            assertEquals(c[1], new String(redactor.body("p", c[0].getBytes(StandardCharsets.UTF_8), "application/xml", out),
                    StandardCharsets.UTF_8), c[0]);
        }
        byte[] clean = "<a>\n <b x=\"1\"><![CDATA[c<d]]>text<!-- note --><?pi?></b>\n <c/></a>".getBytes(StandardCharsets.UTF_8);
        assertSame(clean, redactor.body("p", clean, "text/xml", out));
    }

    @Test
    void shouldReadQuotedAttributeValuesHoldingAngleBracketsInXmlTags() {
        // a '>' in a quoted attribute value ended the tag there: "/>" in one made a sensitive element look empty and
        // its value was kept, and an attribute after one was not read
        String[][] cases = {
            {"<password a=\"x/>y\">hunter2</password><n>kept</n>", "<password a=\"x/>y\">" + t("hunter2") + "</password><n>kept</n>"},
            {"<password a=\"x>y\">hunter2</password>", "<password a=\"x>y\">" + t("hunter2") + "</password>"},
            {"<wsse:Password Type='a>b' n=\"it's\">hunter2</wsse:Password>", "<wsse:Password Type='a>b' n=\"it's\">" + t("hunter2") + "</wsse:Password>"},
            {"<password><v a=\"x/>y\">hunter2</v></password>", "<password><v a=\"" + t("x/>y") + "\">" + t("hunter2") + "</v></password>"},
            {"<user note=\"a>b\" token=\"k-1\"/><n>kept</n>", "<user note=\"a>b\" token=\"" + t("k-1") + "\"/><n>kept</n>"},
            // a quote that opens no attribute value is a character of the tag
            {"<password don't>hunter2</password>", "<password don't>" + t("hunter2") + "</password>"},
            // a quote left open (cut, or never closed) is read as no quote: the text after its '>' is the value
            {"<a><password a=\"x>hunter2", "<a><password a=\"x>" + t("hunter2")},
            {"<password a=\"x>hunter2</password><n>kept</n>", "<password a=\"x>" + t("hunter2") + "</password><n>kept</n>"},
        };
        for (String[] c : cases) {
            assertEquals(c[1], new String(redactor.body("p", c[0].getBytes(StandardCharsets.UTF_8), "application/xml", out),
                    StandardCharsets.UTF_8), c[0]);
        }
    }

    @Test
    void shouldRedactTheTextBeforeAnEndTagOfASensitiveNameThatClosesNoElement() {
        // an empty-element tag with attributes then text and an end tag of its name: the text was tokenised before the
        // content of sensitive elements was read to their end tags, and then kept
        String[][] cases = {
            {"<password x='a'/>hunter2</password><n>kept</n>", "<password x='a'/>" + t("hunter2") + "</password><n>kept</n>"},
            {"<a><password type=\"t\" />hunter2</password></a>", "<a><password type=\"t\" />" + t("hunter2") + "</password></a>"},
            {"<password x='a'/><![CDATA[hunter2]]></password>", "<password x='a'/><![CDATA[" + t("hunter2") + "]]></password>"},
            // the text of the element an empty sensitive element stands in is its own
            {"<a><password x='a'/>note</a>", "<a><password x='a'/>note</a>"},
        };
        for (String[] c : cases) {
            assertEquals(c[1], new String(redactor.body("p", c[0].getBytes(StandardCharsets.UTF_8), "application/xml", out),
                    StandardCharsets.UTF_8), c[0]);
        }
    }

    @Test
    void shouldRedactTheAttributeValuesOfElementsInsideASensitiveXmlElement() {
        // the text of the elements inside was tokenised and their attribute values kept, where JSON tokenises every
        // value under a sensitive name
        String[][] cases = {
            {"<password><v value=\"hunter2\"/></password>", "<password><v value=\"" + t("hunter2") + "\"/></password>"},
            {"<credentials><key id=\"k1\" secret-ish='s1'/></credentials><n a=\"kept\">x</n>",
                "<credentials><key id=\"" + t("k1") + "\" secret-ish='" + t("s1") + "'/></credentials><n a=\"kept\">x</n>"},
            {"<password><v a=\"1\" b = 'x>y'>hunter2</v><w c=\"\"/></password>",
                "<password><v a=\"" + t("1") + "\" b = '" + t("x>y") + "'>" + t("hunter2") + "</v><w c=\"\"/></password>"},
            // the sensitive element's own attributes describe its value: kept, unless their own name is sensitive
            {"<wsse:Password Type=\"http://x#PasswordText\" xmlns:wsse=\"urn:w\">hunter2</wsse:Password>",
                "<wsse:Password Type=\"http://x#PasswordText\" xmlns:wsse=\"urn:w\">" + t("hunter2") + "</wsse:Password>"},
            {"<password token=\"t1\" hint=\"h\">hunter2</password>", "<password token=\"" + t("t1") + "\" hint=\"h\">" + t("hunter2") + "</password>"},
            // an element of a sensitive name inside one: its attributes describe its value too
            {"<UsernameToken><Password Type=\"t\" n='1'>hunter2</Password><Nonce enc=\"b64\">bm9uY2U=</Nonce></UsernameToken>",
                "<UsernameToken><Password Type=\"t\" n='1'>" + t("hunter2") + "</Password><Nonce enc=\"" + t("b64") + "\">"
                        + t("bm9uY2U=") + "</Nonce></UsernameToken>"},
            // namespace declarations are never values
            {"<password><v xmlns=\"urn:v\" xmlns:p=\"urn:p\" p:value='hunter2'>x</v></password>",
                "<password><v xmlns=\"urn:v\" xmlns:p=\"urn:p\" p:value='" + t("hunter2") + "'>" + t("x") + "</v></password>"},
            // cut by the capture cap inside the tag of an element inside
            {"<a><password><v value=\"hunter2\"", "<a><password><v value=\"" + t("hunter2") + "\""},
            {"<a><password><v id=\"1\" value=\"hunt", "<a><password><v id=\"" + t("1") + "\" value=\"" + t("hunt")},
        };
        for (String[] c : cases) {
            assertEquals(c[1], new String(redactor.body("p", c[0].getBytes(StandardCharsets.UTF_8), "application/xml", out),
                    StandardCharsets.UTF_8), c[0]);
        }
    }

    @Test
    void shouldKeepNamespaceDeclarationsAndPrefixesNamedLikeSecretsInXml() {
        // the text rules read xmlns:pwd="urn:x" as pwd="urn:x" and <pwd:v> as "pwd: v": the namespace and the element's
        // name became tokens, and the document another one
        String[][] cases = {
            {"<a xmlns:pwd=\"urn:x\"><pwd:v>1</pwd:v></a>", "<a xmlns:pwd=\"urn:x\"><pwd:v>1</pwd:v></a>"},
            {"<a xmlns:token = 'urn:token:t' xmlns=\"urn:secret:d\"><token:v token:n=\"1\"/></a>",
                "<a xmlns:token = 'urn:token:t' xmlns=\"urn:secret:d\"><token:v token:n=\"1\"/></a>"},
            // cut by the capture cap inside a declaration
            {"<a xmlns:pwd=\"urn:x", "<a xmlns:pwd=\"urn:x"},
            // values are still found: by the element's or attribute's local name, as the XML rules read them, and
            // after a sensitive name in the text
            {"<a xmlns:pwd=\"urn:x\" password=\"hunter2\"><pwd:password>s1</pwd:password><pwd:v pwd:token='k1'>1</pwd:v></a>",
                "<a xmlns:pwd=\"urn:x\" password=\"" + t("hunter2") + "\"><pwd:password>" + t("s1") + "</pwd:password><pwd:v pwd:token='"
                        + t("k1") + "'>1</pwd:v></a>"},
            {"<log xmlns:pwd=\"urn:x\">password: hunter2 token=k1</log>", "<log xmlns:pwd=\"urn:x\">password: " + t("hunter2") + " token="
                    + t("k1") + "</log>"},
            // a declaration is only one in a tag
            {"<log>xmlns:token=\"k1\"</log>", "<log>xmlns:token=\"" + t("k1") + "\"</log>"},
        };
        for (String[] c : cases) {
            assertEquals(c[1], new String(redactor.body("p", c[0].getBytes(StandardCharsets.UTF_8), "application/xml", out),
                    StandardCharsets.UTF_8), c[0]);
        }
    }

    @Test
    void shouldRedactAnAttributeValueWhoseQuoteIsLeftOpenPastTheAngleBracketItsTagEndsAt() {
        // the tag ends at the first '>' of a value whose quote is never closed (the body cut, or malformed): the value
        // was not read as an attribute's, so the part before that '>' of one inside a sensitive element was kept, and a
        // sensitive attribute's value after a line break (where the text rules stop reading a quoted value)
        String[][] cases = {
            {"<password><v value=\"hun>ter2", "<password><v value=\"" + t("hun") + ">" + t("ter2")},
            {"<a><user token=\"hun\nter>2", "<a><user token=\"" + t("hun\nter>2")},
            {"<a><user token=\"hun\nter>2</a>", "<a><user token=\"" + t("hun\nter>2") + "</a>"},
            {"<a><user p:token='a>b<c>x</c></a>", "<a><user p:token='" + t("a>b") + "<c>x</c></a>"},
            // closed, the quote is read past the '>': the value whole, the element's text kept
            {"<user token=\"a>b\">note</user>", "<user token=\"" + t("a>b") + "\">note</user>"},
        };
        for (String[] c : cases) {
            assertEquals(c[1], new String(redactor.body("p", c[0].getBytes(StandardCharsets.UTF_8), "application/xml", out),
                    StandardCharsets.UTF_8), c[0]);
        }
    }

    @Test
    void shouldRedactWhatFollowsTheAttributesOfASensitiveStartTagTheCaptureCut() {
        // a start tag cut after a quoted value holding "?>" was read as a tag to the end of the body, and the text after
        // its attributes kept; a sensitive attribute of a cut tag was kept too
        String[][] cases = {
            {"<a><password x=\"?>\"hunter2", "<a><password x=\"?>\"" + t("hunter2")},
            {"<a><password x=\"?>\" hunter2", "<a><password x=\"?>\" " + t("hunter2")},
            {"<a><user id=\"1\" token=\"k-1\"", "<a><user id=\"1\" token=\"" + t("k-1") + "\""},
            {"<a><user id=\"1\" token='k-", "<a><user id=\"1\" token='" + t("k-")},
            // nothing after the attributes, or a cut "/>": nothing to tokenise
            {"<a><password x=\"1\" ", "<a><password x=\"1\" "},
            {"<a><password x=\"1\"/", "<a><password x=\"1\"/"},
            {"<a><user id=\"1\" no", "<a><user id=\"1\" no"},
        };
        for (String[] c : cases) {
            assertEquals(c[1], new String(redactor.body("p", c[0].getBytes(StandardCharsets.UTF_8), "application/xml", out),
                    StandardCharsets.UTF_8), c[0]);
        }
    }

    /** OpenTelemetry propagates baggage to every call of a trace, percent-encoded (W3C Baggage). */
    @Test
    void shouldRedactBaggageMembersByTheirKeysAndDecodedValues() {
        String baggage = "user.email=jane%40example.com,session_id=s%2D1;ttl=60, tenant=acme,note=call%20ann@example.com%20now";
        String redacted = redactor.header("p", "Baggage", baggage, out);
        assertEquals("user.email=" + t("jane@example.com") + ",session_id=" + t("s-1") + ";ttl=60, tenant=acme,note=call%20"
                + t("ann@example.com") + "%20now", redacted);
        String plain = "tenant=acme, region=eu;p=1";
        assertSame(plain, redactor.header("p", "baggage", plain, out), "nothing to redact: the value as it came");
    }

    @Test
    void shouldRedactACardNumberOrAnEmailUsedAsABaggageKey() {
        // a member's key gets the text rules, as a query parameter's name does; before, it was kept as sent
        assertEquals(t("4111111111111111") + "=1,tenant=acme",
                redactor.header("p", "baggage", "4111111111111111=1,tenant=acme", out));
        assertEquals("x=1, " + t("jane@example.com") + "=vip;p=1",
                redactor.header("p", "baggage", "x=1, jane@example.com=vip;p=1", out));
    }

    @Test
    void shouldRedactBodiesInUtf16AndUtf32InTheirOwnEncoding() {
        String json = "{\"password\":\"hunter2\",\"mail\":\"ann@example.com\"}";
        String redacted = "{\"password\":\"" + t("hunter2") + "\",\"mail\":\"" + t("ann@example.com") + "\"}";
        java.nio.charset.Charset utf32 = java.nio.charset.Charset.forName("UTF-32LE");
        for (java.nio.charset.Charset cs : List.of(StandardCharsets.UTF_16BE, StandardCharsets.UTF_16LE, utf32)) {
            // told by the charset parameter, and for JSON by its zero bytes alone
            for (String type : List.of("application/json; charset=" + cs.name().toLowerCase(java.util.Locale.ROOT), "application/json")) {
                byte[] r = redactor.body("p", json.getBytes(cs), type, out);
                assertEquals(redacted, new String(r, cs), type + " " + cs);
            }
        }
        byte[] bom = ("\ufeffmail ann@example.com").getBytes(StandardCharsets.UTF_16LE);
        assertEquals("\ufeffmail " + t("ann@example.com"), new String(redactor.body("p", bom, "text/plain", out), StandardCharsets.UTF_16LE),
                "told by its byte order mark");
        byte[] form = "user=a&password=hunter2".getBytes(StandardCharsets.UTF_16BE);
        assertEquals("user=a&password=" + t("hunter2"), new String(redactor.body("p", form,
                "application/x-www-form-urlencoded; charset=UTF-16", out), StandardCharsets.UTF_16BE));
        byte[] clean = "{\"n\":1}".getBytes(StandardCharsets.UTF_16LE);
        assertSame(clean, redactor.body("p", clean, "application/json", out));
    }

    @Test
    void shouldRedactACardNumberWrittenAsAFloatingPointJsonNumber() {
        String body = "{\"a\":4111111111111111.0,\"b\":4.111111111111111E15,\"c\":4111111111111111,\"price\":4111111111111111.5}";
        String r = new String(redactor.body("p", body.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8);
        String card = t("4111111111111111");
        assertEquals("{\"a\":\"" + card + "\",\"b\":\"" + card + "\",\"c\":\"" + card + "\",\"price\":4111111111111111.5}", r);
    }

    @Test
    void shouldRedactSensitiveQueryParametersAndKeepOthersByteForByte() {
        String q = redactor.urlEncoded("inbound.request", "query", "page=2&api_key=K%2F1&password=hunter2&q=a%20b", out);
        assertEquals("page=2&api_key=" + redactor.token("K/1") + "&password=" + redactor.token("hunter2") + "&q=a%20b", q);
        assertEquals(2, out.size());
        String plain = "a=1&b=%2F&c";
        assertSame(plain, redactor.urlEncoded("p", "query", plain, out), "nothing to redact: the same instance");
    }

    @Test
    void shouldRedactJsonFieldsByNameAndConfiguredPathAndValuesByPattern() {
        Redactor r = new Redactor(KEY, new Redactor.Rules(Redactor.DEFAULT_HEADERS, Pattern.compile(Redactor.DEFAULT_SENSITIVE_NAME),
                Set.of("ssn"), List.of("$.customer.dob", "$.items[*].cvv", "$..pin"), List.of(), true, true));
        String json = "{\"user\":\"bob\",\"password\":\"hunter2\",\"ssn\":\"123-45-6789\",\"customer\":{\"dob\":\"1990-01-01\","
                + "\"email\":\"bob@example.com\",\"card\":\"4111 1111 1111 1111\",\"deep\":{\"pin\":1234}},"
                + "\"items\":[{\"sku\":\"A\",\"cvv\":\"123\"},{\"sku\":\"B\",\"cvv\":\"456\"}],\"n\":4012888888881881,\"ts\":1732166400000}";
        String red = new String(r.body("inbound.request", json.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8);
        // each value becomes the token of that value (a number by its digits); a timestamp starting with 1 is not a card
        assertEquals("{\"user\":\"bob\",\"password\":\"" + t("hunter2") + "\",\"ssn\":\"" + t("123-45-6789") + "\",\"customer\":{\"dob\":\""
                + t("1990-01-01") + "\",\"email\":\"" + t("bob@example.com") + "\",\"card\":\"" + t("4111 1111 1111 1111")
                + "\",\"deep\":{\"pin\":\"" + t("1234") + "\"}},\"items\":[{\"sku\":\"A\",\"cvv\":\"" + t("123") + "\"},{\"sku\":\"B\",\"cvv\":\""
                + t("456") + "\"}],\"n\":\"" + t("4012888888881881") + "\",\"ts\":1732166400000}", red);
        assertEquals(List.of("$.password:sensitive-name", "$.ssn:config:field", "$.customer.dob:config:json-path", "$.customer.email:email",
                "$.customer.card:card-number", "$.customer.deep.pin:config:json-path", "$.items[0].cvv:config:json-path",
                "$.items[1].cvv:config:json-path", "$.n:card-number"), out.stream().map(x -> x.getField() + ":" + x.getRule()).toList());
    }

    @Test
    void shouldRedactATruncatedJsonBodyWithALongStringWithoutOverflowingTheStack() {
        // A 64 KiB capture cut inside a long string (an inline image, say): the text fallback runs the pair pattern
        // over it. The thread has a small stack, as the publisher thread might.
        StringBuilder cut = new StringBuilder("{\"id\": 1234567890123, \"token\": \"abc\\\"def\", \"image\": \"");
        cut.append("A".repeat(70_000));
        byte[] red = onSmallStack(() -> redactor.body("p", cut.toString().getBytes(StandardCharsets.UTF_8), "application/json", out));
        String text = new String(red, StandardCharsets.ISO_8859_1);
        assertTrue(text.startsWith("{\"id\": 1234567890123, \"token\": \"" + t("abc\\\"def") + "\", \"image\": \""), text.substring(0, 100));
        assertFalse(text.contains("def\\\""), "an escaped quote inside a sensitive value is redacted too");
        assertTrue(text.contains("A".repeat(1000)), "the long value is kept");
    }

    /** Free text names its secrets too: a log line, logfmt, a dict printed as text, form text inside a JSON string. */
    @Test
    void shouldTokeniseAValueWrittenAfterASensitiveNameInText() {
        String text = "login ok user=ann password=hunter2 secret=\"a b\"\n{'api_key': 'k1', 'n': 2}\nToken: abc123, expires 12:30\n";
        String r = new String(redactor.body("p", text.getBytes(StandardCharsets.UTF_8), "text/plain", out), StandardCharsets.UTF_8);
        assertEquals("login ok user=ann password=" + t("hunter2") + " secret=\"" + t("a b") + "\"\n{'api_key': '" + t("k1")
                + "', 'n': 2}\nToken: " + t("abc123") + ", expires 12:30\n", r);
        assertTrue(out.stream().allMatch(x -> x.getRule().equals("sensitive-name")), out::toString);

        out.clear();
        String json = "{\"body\":\"grant_type=password&password=hunter2&scope=read\"}";
        assertEquals("{\"body\":\"grant_type=password&password=" + t("hunter2") + "&scope=read\"}",
                new String(redactor.body("p", json.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8),
                "the byte scan that skips clean bodies must not skip it either");
        assertEquals("debug session_id=" + t("s1"), redactor.header("p", "X-Debug", "debug session_id=s1", out));
        assertEquals("/a/token=" + t("x") + "/b", redactor.path("p", "/a/token=x/b", out), "a value in a path ends at its segment");

        // a name without a value, or followed by a token or a URL's scheme, stays as it is
        for (String same : List.of("Password: ", "password=" + t("x"), "see token://host/a", "tokens=", "note: here")) {
            assertEquals(same, redactor.text("p", "text", "body", same, out));
        }
        assertEquals("log secret=\"" + t("a\\\"b") + "\" next", redactor.text("p", "text", "body", "log secret=\"a\\\"b\" next", out),
                "an escaped quote is part of the quoted value");

        // the words of free text do not fill the field names' remembered verdicts (each name would then be judged
        // by the pattern again on every request)
        int known = redactor.knownNames();
        StringBuilder words = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            words.append("w").append(i).append(": ").append(i).append('\n');
        }
        redactor.text("p", "text", "body", words.toString(), out);
        assertEquals(known, redactor.knownNames());
    }

    /**
     * The capture cap can cut a secret before it is whole: the start of a card number or an email matches no rule, so
     * a cut body ends at its last whole word instead, whatever its content type.
     */
    @Test
    void shouldLeaveOutTheLastWordOfACutBodyWhereASecretMayHaveBeenCut() {
        String[][] cases = {
            // body as captured (cut), content type, what must not be kept, what is kept
            {"order for Jane, card 4111 1111 11", "text/plain", "1111", "order for Jane, card "},
            {"order for Jane, card 4111-1111-11", "text/plain", "4111", "order for Jane, card "},
            {"contact: jane.doe@exa", "text/plain", "jane.doe", "contact: "},
            {"{\"id\":7,\"note\":\"write to jane@exa", "application/json", "jane", "{\"id\":7,\"note\":\"write to "},
            {"{\"next\":\"https://x.example/reset?u=1&token=S3cr", "application/json", "S3cr", "{\"next\":\"https://x.example/reset?u=1&"},
            {"q=shoes&size=42&email=jane%40exa", "application/x-www-form-urlencoded", "jane", "q=shoes&size=42&"},
            {"Authorization failed for eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx", "text/plain", "eyJ", "Authorization failed for "},
            {"card 4111 1111 ", "text/plain", "4111", "card "},
            // the card rule needs no blank before a number: its first group after a '=' or ':' goes too
            {"pan=4111 1111 11", "text/plain", "4111", "pan="},
            {"card:4111-1111-1111 1", "text/plain", "4111", "card:"},
            // groups joined by runs of spaces or by dots
            {"card 4111  1111  11", "text/plain", "4111", "card "},
            {"card 4111   1111 1111  ", "text/plain", "4111", "card "},
            {"card 4111.1111.11", "text/plain", "4111", "card "},
            // groups joined by tabs or by a dot or dash next to a blank
            {"card 4111\t1111\t11", "text/plain", "4111", "card "},
            {"card\t4111\t\t1111\t\t1111\t", "text/plain", "4111", "card\t"},
            {"card 4111. 1111. 11", "text/plain", "4111", "card "},
            {"card 4111. 1111.", "text/plain", "4111", "card "},
            {"card 4111 -1111- 1", "text/plain", "4111", "card "},
            // a dot or dash standing alone between blanks, as the card rule reads one ("6011 - 1111 - 1111 - 1117")
            {"card 6011 - 1111 - 1111 - 11", "text/plain", "6011", "card "},
            {"card 4111 . 1111 . 11", "text/plain", "4111", "card "},
            {"card 4111\t-\t1111\t-\t", "text/plain", "4111", "card "},
        };
        for (String[] c : cases) {
            out.clear();
            String kept = new String(redactor.cutBody("p", c[0].getBytes(StandardCharsets.UTF_8), c[1], out),
                    StandardCharsets.UTF_8);
            assertFalse(kept.contains(c[2]), c[0] + " -> " + kept);
            assertEquals(c[3], kept, c[0]);
            assertTrue(out.toString().contains("cut-word"), "the note says bytes were left out: " + out);
        }

        // a body that ends on a delimiter keeps every byte
        out.clear();
        byte[] whole = "{\"a\":\"x\",\"n\":[1,2]".getBytes(StandardCharsets.UTF_8);
        assertSame(whole, redactor.cutBody("p", whole, "application/json", out));
        assertEquals(List.of(), out);
        // a body that is not cut is not shortened
        byte[] text = "card 4111 1111 11".getBytes(StandardCharsets.UTF_8);
        assertEquals("card 4111 1111 11", new String(redactor.body("p", text, "text/plain", out), StandardCharsets.UTF_8));

        // UTF-16: read as its characters, written back in its own encoding
        out.clear();
        byte[] wide = "note: jane@exa".getBytes(StandardCharsets.UTF_16LE);
        assertEquals("note: ", new String(redactor.cutBody("p", wide, "text/plain; charset=utf-16le", out),
                StandardCharsets.UTF_16LE));
    }

    /** Runs the redaction on a thread with a small stack, as the publisher thread might have, within a generous bound. */
    private static <T> T onSmallStack(java.util.function.Supplier<T> work) {
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(null, () -> {
            try {
                result[0] = work.get();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "small-stack", 256 * 1024);
        t.start();
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> t.join());
        assertNull(failure[0], () -> String.valueOf(failure[0]));
        @SuppressWarnings("unchecked")
        T r = (T) result[0];
        return r;
    }

    @Test
    void shouldRedactATruncatedJsonBodyByPairs() {
        String cut = "{\"name\":\"x\",\"token\":\"abcdef\",\"nested\":{\"secret\":\"zzz";
        String red = new String(redactor.body("p", cut.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.ISO_8859_1);
        assertEquals("{\"name\":\"x\",\"token\":\"" + t("abcdef") + "\",\"nested\":{\"secret\":\"" + t("zzz") + "\"", red);
    }

    @Test
    void shouldRedactASensitiveStringOfACutBodyCutJustAfterABackslash() {
        String cut = "{\"n\":1,\"password\":\"hunter2\\";
        assertEquals("{\"n\":1,\"password\":\"" + t("hunter2\\") + "\"",
                new String(redactor.body("p", cut.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
    }

    @Test
    void shouldRedactFormFields() {
        String form = "user=bob&password=p%40ss&note=mail+me+at+bob%40example.com";
        String red = new String(redactor.body("p", form.getBytes(StandardCharsets.US_ASCII), "application/x-www-form-urlencoded", out), StandardCharsets.ISO_8859_1);
        assertTrue(red.startsWith("user=bob&password=" + redactor.token("p@ss")), red);
        assertFalse(red.contains("bob%40example.com"), red);
        // the note read as the form decodes it ('+' a space, %40 an '@'), its email tokenised and the whole
        // written back form-encoded, the other fields as they were
        assertEquals("user=bob&password=" + redactor.token("p@ss") + "&note=mail+me+at+" + redactor.token("bob@example.com"), red);
    }

    @Test
    void shouldRedactCardNumbersOnlyWhenLuhnValid() {
        String text = "paid with 4111-1111-1111-1111, order 4111111111111112";
        String red = redactor.text("p", "text", "body", text, out);
        assertEquals("paid with " + t("4111-1111-1111-1111") + ", order 4111111111111112", red, "not Luhn-valid: kept");
        assertTrue(SecretFinders.luhn("4012888888881881"));
        assertFalse(SecretFinders.luhn("4012888888881882"));
    }

    /**
     * A card number written next to another group of digits: the run the pattern finds takes that group in, fails
     * the Luhn check, and the card was left as it was. The card is found among the run's groups, or from the next
     * group on; where two runs could be the card, both are tokenised as one.
     */
    @Test
    void shouldRedactACardNumberWrittenNextToAnotherGroupOfDigits() {
        String card = "4111 1111 1111 1111";
        assertEquals("qty 3 " + t(card), redactor.text("p", "text", "body", "qty 3 " + card, out));
        assertEquals(t(card) + " 123", redactor.text("p", "text", "body", card + " 123", out));
        assertEquals("2 2 2 2 " + t(card), redactor.text("p", "text", "body", "2 2 2 2 " + card, out));
        assertEquals("2024  " + t("4111  1111  1111  1111"), redactor.text("p", "text", "body", "2024  4111  1111  1111  1111", out));
        assertEquals("ref 12-" + t("4111-1111-1111-1111"), redactor.text("p", "text", "body", "ref 12-4111-1111-1111-1111", out));
        // lists of short numbers are not cards, nor is a run none of whose parts passes the check
        String scores = "scores 3 5 2 4 6 1 1 2 3 4 5 6 2 2 4 1";
        assertEquals(scores, redactor.text("p", "text", "body", scores, out));
        assertEquals("order 4111111111111112 x", redactor.text("p", "text", "body", "order 4111111111111112 x", out));
    }

    /**
     * An address written with its '@' (and any other character) percent-encoded or as an HTML character reference,
     * as templates, mail links and log lines carry it outside a URL, is tokenised whole, by the address it encodes: the
     * same token as the address written plainly.
     */
    @Test
    void shouldTokenisePercentAndEntityEncodedEmailsByTheAddressTheyEncode() {
        String jane = t("jane@example.com");
        for (String encoded : List.of("jane%40example.com", "jane&#64;example.com", "jane&#x40;example.com", "jane&#X40;example.com",
                "jane&#064;example.com", "jane&commat;example.com", "&#106;&#97;&#110;&#101;&#64;&#101;xample&#46;com",
                "jane%40example%2ecom", "jane%40example%2Ecom")) {
            out.clear();
            assertEquals("mail " + jane + ", thanks", redactor.text("p", "text", "body", "mail " + encoded + ", thanks", out), encoded);
            assertEquals(List.of("email"), out.stream().map(Redaction::getRule).toList(), encoded);
            assertEquals("Jane <" + jane + ">", redactor.header("p", "X-Reply-To", "Jane <" + encoded + ">", out), encoded);
        }
        // the address ends where its decoded text ends it; escapes around it are kept as written
        assertEquals("to%20" + t("bob@example.com") + "%2C%20x", redactor.text("p", "text", "body", "to%20bob%40example.com%2C%20x", out));
        assertEquals(t("jos\u00e9@example.com"), redactor.text("p", "text", "body", "jos%C3%A9%40example.com", out), "UTF-8 escapes, decoded as the path's are");
        // in a text body (the byte scan must not skip it), an HTML body, a JSON string and a JSON key
        String html = "<a href=\"mailto:jane&#64;example.com\">write</a>";
        assertEquals("<a href=\"mailto:" + jane + "\">write</a>",
                new String(redactor.body("p", html.getBytes(StandardCharsets.UTF_8), "text/html", out), StandardCharsets.UTF_8));
        String json = "{\"note\":\"to jane%40example.com\",\"a&commat;b.io\":1}";
        assertEquals("{\"note\":\"to " + jane + "\",\"" + t("a@b.io") + "\":1}",
                new String(redactor.body("p", json.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
        String plain = "mail jane%40example.com";
        assertEquals("mail " + jane, new String(redactor.body("p", plain.getBytes(StandardCharsets.UTF_8), "text/plain", out),
                StandardCharsets.UTF_8));
        // a plain '@' with an escaped dot, and a short JSON key holding an escaped '@'
        out.clear();
        assertEquals("mail " + jane, redactor.text("p", "text", "body", "mail jane@example%2Ecom", out));
        assertEquals(List.of("email"), out.stream().map(Redaction::getRule).toList());
        assertEquals("{\"" + t("a@b.io") + "\":1}", new String(redactor.body("p", "{\"a%40b.io\":1}".getBytes(StandardCharsets.UTF_8),
                "application/json", out), StandardCharsets.UTF_8));
        // not addresses: nothing after the '@', no top-level domain, a reference to another character, a reference past
        // the last code point (2^32 + 64 is no '@')
        for (String same : List.of("50%40 of users", "jane%40example", "R&#38;D", "AT&amp;T jane&#65;example.com", "%40example.com",
                "jane&#4294967360;example.com", "jane&#x100000040;example.com")) {
            assertSame(same, redactor.text("p", "text", "body", same, out), same);
        }
        // a mebibyte of escapes is read in one pass, on a small stack
        String escapes = onSmallStack(() -> redactor.text("p", "text", "body", "a%40".repeat(1 << 18) + " x&#64;".repeat(1 << 17)
                + " jane&#64;example.com", out));
        assertTrue(escapes.endsWith(" x&#64;" + " " + jane), "the address, nothing else");
    }

    /**
     * An address whose '@' is percent-encoded twice ({@code %2540}, as a value encoded once more on its way into a URL
     * carries it) is tokenised whole, by the address it encodes.
     */
    @Test
    void shouldTokeniseEmailsWhoseEscapesAreWrittenTwice() {
        String jane = t("jane@example.com");
        for (String encoded : List.of("jane%2540example.com", "jane%2540example%252ecom", "jane%2540example%252Ecom", "jane%2540example%2Ecom",
                "%256A%2561ne%2540example.com")) {
            assertEncodedAddress(jane, encoded);
        }
        // escapes written twice around it are kept as written, and read as UTF-8 as those written once are
        assertEquals("to%2520" + t("bob@example.com") + "%252C%2520x",
                redactor.text("p", "text", "body", "to%2520bob%2540example.com%252C%2520x", out));
        assertEquals(t("jos\u00e9@example.com"), redactor.text("p", "text", "body", "jos%25C3%25A9%2540example.com", out));
        // in a text body and a JSON key
        assertEquals("mail " + jane, new String(redactor.body("p", "mail jane%2540example.com".getBytes(StandardCharsets.UTF_8),
                "text/plain", out), StandardCharsets.UTF_8));
        assertEquals("{\"" + t("a@b.io") + "\":1}", new String(redactor.body("p", "{\"a%2540b.io\":1}".getBytes(StandardCharsets.UTF_8),
                "application/json", out), StandardCharsets.UTF_8));
        // not addresses: a percentage, another character, no local part
        for (String same : List.of("50%2540 of users", "jane%2541example.com", "%2540example.com")) {
            assertSame(same, redactor.text("p", "text", "body", same, out), same);
        }
        // 10 KB runs of escapes are read in one pass (each a few milliseconds, measured by hand)
        for (String run : List.of("%25".repeat(3_400), "%2540".repeat(2_000), "%25%2540".repeat(1_250), "a%2540".repeat(1_700))) {
            assertEquals(run + " " + jane, redactor.text("p", "text", "body", run + " jane%2540example.com", out), run.substring(0, 8));
        }
    }

    /**
     * An address whose '@' is written as a numeric character reference without its {@code ;} (HTML parsers read
     * those) is tokenised whole, by the address it encodes; with its {@code ;}, a reference is read as HTML reads it.
     */
    @Test
    void shouldTokeniseEmailsWrittenWithAReferenceMissingItsSemicolon() {
        String jane = t("jane@example.com");
        for (String encoded : List.of("jane&#64example.com", "jane&#064example.com", "jane&#x40example.com", "jane&#X40example.com",
                "jane&#x040example.com", "&#106&#97&#110&#101&#64&#101xample&#46com", "jane&#64example&#46com")) {
            assertEncodedAddress(jane, encoded);
        }
        // in an HTML body, a JSON string and a JSON key
        assertEquals("<a href=\"mailto:" + jane + "\">write</a>", new String(redactor.body("p",
                "<a href=\"mailto:jane&#64example.com\">write</a>".getBytes(StandardCharsets.UTF_8), "text/html", out), StandardCharsets.UTF_8));
        String json = "{\"note\":\"to jane&#x40example.com\",\"a&#64b.io\":1}";
        assertEquals("{\"note\":\"to " + jane + "\",\"" + t("a@b.io") + "\":1}",
                new String(redactor.body("p", json.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
        // not addresses: references to other characters (with its ';', U+040E), no top-level domain
        for (String same : List.of("jane&#65example.com", "jane&#x40e;xample.com", "jane&#6example.com", "R&#38D", "jane&#64example")) {
            assertSame(same, redactor.text("p", "text", "body", same, out), same);
        }
        // 10 KB runs of references are read in one pass (each a few milliseconds, measured by hand)
        for (String run : List.of("&#6".repeat(3_400), "&#64".repeat(2_500), "&#x40".repeat(2_000), "&#00000".repeat(1_500),
                "a&#64".repeat(2_000))) {
            assertEquals(run + " " + jane, redactor.text("p", "text", "body", run + " jane&#64example.com", out), run.substring(0, 8));
        }
    }

    /** {@code encoded} in text and in a header value is the address's token, and no body holding it skips the parse. */
    private void assertEncodedAddress(String token, String encoded) {
        out.clear();
        assertEquals("mail " + token + ", thanks", redactor.text("p", "text", "body", "mail " + encoded + ", thanks", out), encoded);
        assertEquals(List.of("email"), out.stream().map(Redaction::getRule).toList(), encoded);
        assertEquals("Jane <" + token + ">", redactor.header("p", "X-Reply-To", "Jane <" + encoded + ">", out), encoded);
        assertFalse(redactor.nothingToRedact(("{\"e\":\"" + encoded + "\"}").getBytes(StandardCharsets.UTF_8)), encoded);
    }

    /**
     * Card numbers printed with their groups joined by dots or by runs of spaces: the groups as cards are printed (a
     * first group of 4 digits, the others of 3 to 6), with the Luhn and length rules; a decimal number is not one.
     */
    @Test
    void shouldTokeniseCardNumbersGroupedByDotsOrRunsOfSpaces() {
        for (String card : List.of("4111.1111.1111.1111", "3782.822463.10005", "4111  1111  1111  1111", "4111 1111  1111   1111",
                "6011.1111.1111.1117", "4222  2222  22222")) {
            out.clear();
            assertEquals("paid with " + t(card) + ". Thanks", redactor.text("p", "text", "body", "paid with " + card + ". Thanks", out), card);
            assertEquals(List.of("card-number"), out.stream().map(Redaction::getRule).toList(), card);
        }
        String json = "{\"card\":\"4111.1111.1111.1111\",\"note\":\"pan 5555  5555  5555  4444\"}";
        assertEquals("{\"card\":\"" + t("4111.1111.1111.1111") + "\",\"note\":\"pan " + t("5555  5555  5555  4444") + "\"}",
                new String(redactor.body("p", json.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
        // Math.E as Java prints it has 16 digits, starts with 2 and passes the Luhn check: a decimal number, not a card;
        // nor are other groupings, a longer dotted run (a version, an OID), or a number failing the Luhn check
        for (String same : List.of("e=2.718281828459045", "2.7182.8182.8459.045", "v1.4111.1111.1111.1111", "4111.1111.1111.1111.1",
                "4111.1111.1111.1112", "41111.1111.1111.111")) {
            assertSame(same, redactor.text("p", "text", "body", same, out), same);
        }
    }

    /**
     * Card numbers whose groups are joined by tabs, or by a dot or dash next to blanks, as a table or a form prints them:
     * found in the printed shapes (4-4-4-4, 4-4-4-4-3, and 4-6-5 or 4-6-4 for a number starting with 3) when
     * Luhn-valid. Columns of other widths, decimals, dates, times, phone numbers and versions are not cards, even when
     * their digits joined pass the Luhn check (each of those below does, or holds 13 to 19 digits that do).
     */
    @Test
    void shouldTokeniseCardNumbersGroupedByTabsOrMixedSeparatorsInThePrintedShapesOnly() {
        for (String card : List.of("4111. 1111. 1111. 1111", "4111 -1111- 1111 1111", "4111\t1111\t1111\t1111",
                "4111\t\t1111\t\t1111\t\t1111", "6011 - 1111 - 1111 - 1117", "5555 .5555 .5555 .4444", "4111\t1111 1111\t1111",
                "3782\t822463\t10005", "3056\t930902\t5904", "4000\t1234\t5678\t9010\t123")) {
            out.clear();
            assertEquals("paid with " + t(card) + ". Thanks", redactor.text("p", "text", "body", "paid with " + card + ". Thanks", out), card);
            assertEquals(List.of("card-number"), out.stream().map(Redaction::getRule).toList(), card);
        }
        // a card among the columns of a row, in a tab-separated body and in a JSON string
        String card = "4111\t1111\t1111\t1111";
        assertEquals("7\t" + t(card) + "\t2024", redactor.text("p", "text", "body", "7\t" + card + "\t2024", out));
        String tsv = "name\tc1\tc2\tc3\tc4\nJane\t" + card + "\n";
        assertEquals("name\tc1\tc2\tc3\tc4\nJane\t" + t(card) + "\n",
                new String(redactor.body("p", tsv.getBytes(StandardCharsets.UTF_8), "text/tab-separated-values", out), StandardCharsets.UTF_8));
        String json = "{\"pan\":\"4111\\t1111\\t1111\\t1111\"}";
        assertEquals("{\"pan\":\"" + t(card) + "\"}",
                new String(redactor.body("p", json.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
        for (String same : List.of("1.5 2.75\t3.125 4.0625 5.3", "2026-11-22 10:00\t2026-11-23 11:32", "+1 415 555 0100\t+44 20 7946 0953",
                "v4.1.1 - v4.1.2 - v5.0.0 - v5.1.11", "10:00 - 11:30\t12:00 - 13:34", "41\t111\t1111\t1111\t1113",
                "4111\t11111\t1111\t1113", "4111\t111\t1111\t1111\t118", "2024\t1002\t3494\t104", "2024\t100234\t94104",
                "3\t1\t4\t1\t5\t9\t2\t6\t5\t3\t5\t8\t9\t7\t3", "4111\t1111\t1111\t1111.3", "1.4111. 1111. 1111. 1111",
                "4111\t1111\t1111\t1112", "4111\n1111\n1111\n1111")) {
            assertSame(same, redactor.text("p", "text", "body", same, out), same);
        }
        // 10 KB runs of digit groups and separators are read in one pass (each a few milliseconds, measured by hand)
        for (String run : List.of("4111\t".repeat(2_000), "4\t".repeat(5_000), "4111 . ".repeat(1_500), "4111 -".repeat(1_700),
                "4111. ".repeat(1_700), ("4111" + "\t".repeat(1_000)).repeat(10), ("4111" + " \t".repeat(500)).repeat(10),
                "3782\t822463\t".repeat(800), "4111\t1111\t1111\t".repeat(600), "2026-11-22 10:00\t".repeat(600))) {
            assertSame(run, redactor.text("p", "text", "body", run, out), run.substring(0, 8));
        }
        assertEquals((t(card) + "\t").repeat(500), redactor.text("p", "text", "body", (card + "\t").repeat(500), out));
    }

    @Test
    void shouldApplyConfiguredRegexRules() {
        Redactor r = new Redactor(KEY, new Redactor.Rules(Set.of(), Pattern.compile(Redactor.DEFAULT_SENSITIVE_NAME), Set.of(), List.of(),
                List.of(new Redactor.TextRule("ssn", Pattern.compile("\\d{3}-\\d{2}-\\d{4}"))), false, false));
        String red = r.text("p", "path", "path", "/people/123-45-6789/profile", out);
        assertEquals("/people/" + r.token("123-45-6789") + "/profile", red);
        assertEquals("config:regex:ssn", out.get(0).getRule());
    }

    @Test
    void shouldLeaveCleanTextUntouched() {
        String s = "/owners/42/pets";
        assertSame(s, redactor.text("p", "path", "path", s, out));
        byte[] body = "{\"a\":1,\"b\":[true,null]}".getBytes(StandardCharsets.UTF_8);
        assertSame(body, redactor.body("p", body, "application/json", out));
        assertTrue(out.isEmpty());
    }

    @Test
    void shouldSkipTheParseOnlyWhenTheByteScanProvesNoRuleCanFire() {
        byte[] plain = "{\"id\":42,\"name\":\"bench\",\"tags\":[\"a\",\"b\"],\"price\":12.5}".getBytes(StandardCharsets.UTF_8);
        assertTrue(redactor.nothingToRedact(plain));
        assertSame(plain, redactor.body("b", plain, "application/json", out));
        assertTrue(out.isEmpty());
        for (String body : List.of(
                "{\"password\":\"x\"}",                       // sensitive name
                "{\"pass\\u0077ord\":\"x\"}",                  // escaped sensitive name
                "{\"a\":\"b\" , \"api_key\" :1}",             // spaces around the colon
                "{\"n\":\"4111 1111 1111 1111\"}",             // card digits inside a string
                "{\"n\":4111111111111111}",                  // card as a number
                "{\"e\":\"jane@example.com\"}",                // email
                "{\"e\":\"jane%40example.com\"}",              // email, percent-encoded
                "{\"e\":\"jane&#64;example.com\"}",            // email, as an HTML character reference
                "{\"e\":\"jane&commat;example.com\"}",
                "\"secret\": \"cut by the cap",                 // not JSON: the text fallback's pair scan
                "{\"caf\u00e9\":\"x\"}")) {                    // non-ASCII: decoded text may differ from bytes
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            assertFalse(redactor.nothingToRedact(b), body);
        }
        byte[] secret = "{\"pass\\u0077ord\":\"hunter2\"}".getBytes(StandardCharsets.UTF_8);
        String r = new String(redactor.body("b", secret, "application/json", out), StandardCharsets.UTF_8);
        assertFalse(r.contains("hunter2"), r);
    }

    /** A number too large for a double is read as infinity: the card check must not fail on it (the capture would be lost). */
    @Test
    void shouldRedactABodyHoldingANumberTooLargeForADouble() {
        byte[] b = "{\"big\":1e999,\"small\":-1e999,\"card\":4111111111111111.0}".getBytes(StandardCharsets.UTF_8);
        String r = new String(redactor.body("b", b, "application/json", out), StandardCharsets.UTF_8);
        // written out as they came, numbers still: not the double's infinity, which Jackson writes as "Infinity"
        assertEquals("{\"big\":1e999,\"small\":-1e999,\"card\":\"" + t("4111111111111111") + "\"}", r);
    }

    /**
     * A body written out again because something in it was redacted keeps every other number as the app wrote it: the
     * replay compares numbers by exact value, and a double (0.1 for the first) would be another value, or a string.
     */
    @Test
    void shouldKeepEveryNumberAsWrittenWhenARedactedBodyIsWrittenOut() {
        String numbers = "\"a\":0.1000000000000000055511151231257827,\"b\":1e2,\"c\":1.50,\"d\":-0.0,\"e\":1E-400,\"f\":-1e999,"
                + "\"g\":-0,\"h\":1E+2,\"i\":12345678901234567890,\"j\":[0.1,2.5e-3,7,-3],\"k\":{\"l\":1e9999999999,\"m\":4111111111111111.5}";
        String body = "{" + numbers + ",\"password\":\"x\"}";
        String redacted = "{" + numbers + ",\"password\":\"" + t("x") + "\"}";
        assertEquals(redacted, new String(redactor.body("b", body.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
        assertEquals(redacted, redactor.anyText("p", "$", body, out), "a value a result shows");
        // an object whose members are renamed (a key holding an email) is built anew, with the same numbers
        String keyed = "{\"ann@example.com\":{" + numbers + "}}";
        assertEquals("{\"" + t("ann@example.com") + "\":{" + numbers + "}}",
                new String(redactor.body("b", keyed.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
    }

    /**
     * A body to be written out again is read as the whole-value reader reads JSON, numbers aside: the same trees (a
     * repeated name's last value in the first one's place), the same values, and the same texts refused.
     */
    @Test
    void shouldReadJsonToWriteOutAgainAsTheWholeValueReaderDoes() throws Exception {
        Comparator<JsonNode> asRead = (a, b) -> CanonicalJson.asRead(a).equals(CanonicalJson.asRead(b)) ? 0 : 1;
        for (String json : List.of("{\"a\":1,\"c\":{},\"a\":{\"b\":[1,2.5,-0,-0.0,1e999,\"x\",true,false,null]}}", "[]", "[[[]],{}]",
                "7", "-0", "2.50", "1e9999999999", "12345678901234567890", "-9223372036854775809", "2147483648", "\"s\"", "null",
                " ", "", "{\"a\":1} {\"b\":2}", "{\"a\":1", "[1,]", "{\"a\":01}", "4111 1111", "NaN", "{\"a\":1}x", "{\"a\" 1}")) {
            JsonNode before = readOrNull(() -> CanonicalJson.WHOLE_JSON.readTree(json.getBytes(StandardCharsets.UTF_8)));
            JsonNode written = readOrNull(() -> WrittenJson.read(json.getBytes(StandardCharsets.UTF_8)));
            assertEquals(before == null, written == null, json);
            assertTrue(before == null || before.equals(asRead, written), json);
            assertTrue(before == null || before.equals(asRead, readOrNull(() -> WrittenJson.read(json))), json);
        }
        assertEquals("{\"a\":{\"b\":[1,2.5,-0,-0.0,1e999,\"x\",true,false,null]},\"c\":{}}",
                WrittenJson.read("{\"a\":1,\"c\":{},\"a\":{\"b\":[1,2.5,-0,-0.0,1e999,\"x\",true,false,null]}}").toString());
    }

    private interface Read {
        JsonNode read() throws IOException;
    }

    private static JsonNode readOrNull(Read read) {
        try {
            return read.read();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The tokens numbers in JSON have had so far, hard-coded: recordings made by an older sidecar are compared with new
     * ones (dedup signatures, replay's judgement of redacted values with the key), so how a number is read or written
     * out must not change its token. A number is tokenised as the double nearest to it, in Java's rendering
     * ({@code 1e2} as {@code 100.0}, {@code 1e999} as {@code "Infinity"}); a card found in a floating-point number by
     * that double's digits.
     */
    @Test
    void shouldKeepTheTokensNumbersInJsonHaveAlwaysHad() {
        Redactor r = new Redactor(KEY, new Redactor.Rules(Redactor.DEFAULT_HEADERS, Pattern.compile(Redactor.DEFAULT_SENSITIVE_NAME),
                Set.of(), List.of("$.amount", "$..pin"), List.of(), true, true));
        String[][] cases = {
                {"{\"password\":0.1000000000000000055511151231257827}", "{\"password\":\"tapline:hmac:84ada2ed20989508\"}"}, // 0.1
                {"{\"password\":1e2}", "{\"password\":\"tapline:hmac:b0fa990b7b89e2a0\"}"}, // 100.0
                {"{\"password\":1.50}", "{\"password\":\"tapline:hmac:bb2dbd3a92bc6f39\"}"}, // 1.5
                {"{\"password\":-0.0}", "{\"password\":\"tapline:hmac:ba525a0f67330488\"}"}, // -0.0
                {"{\"password\":1E-400}", "{\"password\":\"tapline:hmac:f65f4a0fa385192e\"}"}, // 0.0
                {"{\"password\":1e999}", "{\"password\":\"tapline:hmac:f1f7c393a36a6372\"}"}, // "Infinity", quoted
                {"{\"password\":-0}", "{\"password\":\"tapline:hmac:adb18d2a79fb97e5\"}"}, // 0
                {"{\"password\":12345678901234567890}", "{\"password\":\"tapline:hmac:1555e5eff793946a\"}"},
                {"{\"password\":4111111111111111.0}", "{\"password\":\"tapline:hmac:88a4770fadf9de8e\"}"}, // 4.111111111111111E15
                // {"a":[100.0,-0.0,"Infinity",0,7],"b":1.5}
                {"{\"secret\":{\"b\":1.50,\"a\":[1e2,-0.0,1e999,-0,7]}}", "{\"secret\":\"tapline:hmac:e9b880b2f9de7df9\"}"},
                {"{\"amount\":2.50}", "{\"amount\":\"tapline:hmac:a1249badcc9f1cbd\"}"}, // a configured path: 2.5
                {"{\"x\":{\"pin\":1e3}}", "{\"x\":{\"pin\":\"tapline:hmac:23e00627252a22a2\"}}"}, // 1000.0
                {"{\"card\":4111111111111111.0}", "{\"card\":\"tapline:hmac:7b7e6cb2715c7b1c\"}"}, // 4111111111111111
                {"{\"card\":4.111111111111111E15}", "{\"card\":\"tapline:hmac:7b7e6cb2715c7b1c\"}"},
                // the double nearest to it is 41111111111111352, a Luhn-valid number
                {"{\"card\":41111111111111352.3}", "{\"card\":\"tapline:hmac:6e371236628beae0\"}"}};
        for (String[] c : cases) {
            assertEquals(c[1], new String(r.body("b", c[0].getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8), c[0]);
        }
        assertEquals("{\"password\":\"tapline:hmac:bb2dbd3a92bc6f39\"}", r.anyText("p", "$", "{\"password\":1.50}", out));
        assertEquals("\"tapline:hmac:bb2dbd3a92bc6f39\"", r.jsonValue("p", "$.password", "1.50", out));
        assertEquals("\"tapline:hmac:e9b880b2f9de7df9\"", r.jsonValue("p", "$.secret", "{\"b\":1.50,\"a\":[1e2,-0.0,1e999,-0,7]}", out));
    }

    /** The scan reads a URL's parameter names as the URL rules do: to the '=', blanks included. */
    @Test
    void shouldNotSkipABodyWhoseUrlHasASensitiveParameterTheScanCouldMisread() {
        for (String body : List.of(
                "{\"u\":\"https://x.com/?my token=abc\"}",      // a blank in the name
                "{\"u\":\"https://x.com/?a=1&reset token=abc\"}",
                "{\"u\":\"https://x.com/?my+token=abc\"}",      // '+' is a space
                "{\"u\":\"https://x.com/#token+:abc\"}",        // ... also before the ':' of a value's name
                "{\"u\":\"https://x.com/?q=a+api_key+=abc\"}")) {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            assertFalse(redactor.nothingToRedact(b), body);
            String r = new String(redactor.body("b", b, "application/json", out), StandardCharsets.UTF_8);
            assertFalse(r.contains("abc"), r);
        }
        byte[] clean = "{\"u\":\"https://x.com/?a b=1&c=2#d=3\"}".getBytes(StandardCharsets.UTF_8);
        assertTrue(redactor.nothingToRedact(clean));
    }

    /** The scan looks at each byte once: no rescans from every '?' of a long run (64 KiB in well under a second). */
    @Test
    void shouldScanABodyOfManyQuestionMarksAfterAUrlInLinearTime() {
        byte[] b = ("{\"u\":\"https://x.com/" + "?".repeat(64 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        assertTimeoutPreemptively(java.time.Duration.ofMillis(500), () -> assertTrue(redactor.nothingToRedact(b)));
    }

    /**
     * Newline-delimited or cut JSON is read by the pair scan, which sees strings with their escapes: a URL written
     * with escaped slashes and JSON carried as a string are redacted there as in one parsed JSON value.
     */
    @Test
    void shouldRedactEscapedUrlsAndJsonCarriedAsAStringInNewlineDelimitedAndCutJson() {
        String ndjson = "{\"reset\":\"https:\\/\\/x.com\\/r?token=S1&u=1\"}\n"
                + "{\"Message\":\"{\\\"password\\\":\\\"S2\\\",\\\"note\\\":\\\"caf\\u00e9 \\u2713\\\"}\"}\n";
        String r = new String(redactor.body("b", ndjson.getBytes(StandardCharsets.UTF_8), "application/x-ndjson", out),
                StandardCharsets.UTF_8);
        assertFalse(r.contains("S1") || r.contains("S2"), r);
        assertTrue(r.contains("\"reset\":\"https://x.com/r?token=" + t("S1") + "&u=1\""), r);
        assertTrue(r.contains("{\\\"password\\\":\\\"" + t("S2") + "\\\",\\\"note\\\":\\\"caf\u00e9 \u2713\\\"}"), r);
        String cut = "{\"a\":1,\"next\":\"https:\\/\\/x.com\\/?access_token=S3";
        r = new String(redactor.body("b", cut.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8);
        assertFalse(r.contains("S3"), r);
        String plain = "{\"a\":\"x\\\"y\"}\n{\"b\":2}";
        byte[] same = plain.getBytes(StandardCharsets.UTF_8);
        assertSame(same, redactor.body("b", same, "application/x-ndjson", out), "strings with nothing to redact keep their bytes");
    }

    /**
     * Cut JSON, or JSON sent as another type, is read by the pair scan: names and strings written with escapes are
     * read as a JSON reader reads them (before, the text rules saw the escapes, and an address or a sensitive name
     * written with one was kept).
     */
    @Test
    void shouldReadEscapesInNamesAndStringsOfJsonThatDoesNotParse() {
        String cut = "{\"to\":\"jos\\u00e9@example.com\",\"cc\":[\"jane\\u0040example.com\"],\"pass\\u0077ord\":\"hunter2\","
                + "\"note\":\"x";
        for (String type : List.of("application/json", "text/plain")) {
            String r = new String(redactor.body("b", cut.getBytes(StandardCharsets.UTF_8), type, out), StandardCharsets.ISO_8859_1);
            for (String secret : List.of("jos", "jane", "hunter2", "example.com")) {
                assertFalse(r.contains(secret), secret + " in " + r);
            }
            assertTrue(r.contains("\"cc\":[\"" + t("jane@example.com") + "\"]"), r);
            assertTrue(r.contains("\"pass\\u0077ord\":\"" + t("hunter2") + "\""), r);
        }
        String cutInEscape = "{\"to\":\"jane\\u0040example.com \\u00";
        assertEquals("{\"to\":\"" + t("jane@example.com") + " ", new String(redactor.body("b", cutInEscape.getBytes(StandardCharsets.UTF_8),
                "application/json", out), StandardCharsets.UTF_8), "a string cut inside an escape is read up to it");
        String badEscape = "{\"a\":\"jane@example.com \\uZZ kept\",\"b\":\"x";
        String r = new String(redactor.body("b", badEscape.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8);
        assertTrue(r.contains("\"a\":\"" + t("jane@example.com") + " \\uZZ kept\""), "not JSON: read as written, " + r);
        byte[] plain = "{\"a\":\"caf\\u00e9 \\\"x\\\"\",\"b\":[\"C:\\\\Users\"],\"c\":\"".getBytes(StandardCharsets.UTF_8);
        assertSame(plain, redactor.body("b", plain, "application/json", out), "escaped strings with nothing to redact keep their bytes");
    }

    /**
     * Text that is not JSON read as JSON-like: a quoted run holding an address and what reads as escapes (a Windows
     * path) gets the address tokenised and keeps the rest as written, its backslashes and line breaks included.
     */
    @Test
    void shouldKeepTheRestOfAQuotedRunOfTextAsWrittenWhenTokenisingInIt() {
        String[][] cases = {
            {"copied \"jane@example.com to C:\\bin\\new\" at 9", "copied \"" + t("jane@example.com") + " to C:\\bin\\new\" at 9"},
            {"note \"jane@example.com\r\nin C:\\temp\" done", "note \"" + t("jane@example.com") + "\r\nin C:\\temp\" done"},
            {"form \"jane@example.com\f\" x", "form \"" + t("jane@example.com") + "\f\" x"},
        };
        for (String[] c : cases) {
            assertEquals(c[1], new String(redactor.body("b", c[0].getBytes(StandardCharsets.UTF_8), "text/plain", out),
                    StandardCharsets.UTF_8), c[0]);
        }
    }

    private String t(String value) {
        return redactor.token(value);
    }

    @Test
    void shouldRedactInternationalisedEmailAddressesWhole() {
        // in text, and as the Latin-1 characters of their UTF-8 bytes (a body of unknown charset)
        for (String address : List.of("jos\u00e9.garc\u00eda@example.com", "jane@ex\u00e4mple.com", "jane@example.\u0440\u0444",
                "\u674e@\u4f8b\u5b50.\u5e7f\u544a")) {
            assertEquals("mail " + t(address) + ", thanks", redactor.text("p", "text", "body", "mail " + address + ", thanks", out), address);
            String latin1 = new String(address.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
            assertEquals("mail " + t(latin1) + ", thanks", redactor.text("p", "text", "body", "mail " + latin1 + ", thanks", out), latin1);
        }
        assertEquals("\u201c" + t("jane@example.com") + "\u201d \u2014 " + t("ann@example.org") + "\u2014",
                redactor.text("p", "text", "body", "\u201cjane@example.com\u201d \u2014 ann@example.org\u2014", out),
                "quotes and dashes are not part of an address");
    }

    @Test
    void shouldFindEmailsWhereTheEmailRegexDoesWithoutItsBacktracking() {
        // the regex the scanner replaces, its letters with non-ASCII ones (Latin-1 characters, other letters, digits and
        // marks of the Basic Multilingual Plane): same matches on random strings built from the characters that matter
        String other = "\\u0080-\\u00FF\\p{L}\\p{Nd}\\p{M}&&[^\\x{10000}-\\x{10FFFF}";
        String domain = "[A-Za-z0-9\\-" + other + "]]";
        Pattern regex = Pattern.compile("[A-Za-z0-9._%+\\-" + other + "]]+@" + domain + "+(?:\\." + domain + "+)*\\.[A-Za-z" + other
                + "0-9]]{2,}");
        String[] parts = {"a", "Z", "9", ".", "-", "_", "%", "+", "@", " ", "..", "com", "x@y.zz", "@@", ".c", "7a", "jane@example.com", "\u00e9",
                "/", "\u0440\u0444", "\u2014", "\u00a0", "\u0301", "\ud83d\ude00"};
        java.util.Random random = new java.util.Random(11);
        int found = 0;
        for (int i = 0; i < 50_000; i++) {
            StringBuilder b = new StringBuilder();
            for (int n = 1 + random.nextInt(12); n > 0; n--) {
                b.append(parts[random.nextInt(parts.length)]);
            }
            String s = b.toString();
            List<String> expected = new ArrayList<>();
            java.util.regex.Matcher m = regex.matcher(s);
            while (m.find()) {
                expected.add(m.start() + "-" + m.end());
            }
            List<String> actual = new ArrayList<>();
            for (int[] hit = SecretFinders.email(s, 0); hit != null; hit = SecretFinders.email(s, hit[1])) {
                actual.add(hit[0] + "-" + hit[1]);
            }
            assertEquals(expected, actual, s);
            found += expected.size();
        }
        assertTrue(found > 5000, "the sample exercises the rule: " + found);
        // what made the regex slow (a long local-part run before an address) or overflow (many domain labels)
        String slow = onSmallStack(() -> redactor.text("p", "text", "body", "A".repeat(1 << 20) + " jane@example.com " + "a@b".repeat(1 << 18), out));
        assertTrue(slow.endsWith(" " + t("jane@example.com") + " " + "a@b".repeat(1 << 18)), "the address, nothing else");
        String labels = onSmallStack(() -> redactor.text("p", "text", "body", "x@b" + ".c".repeat(1 << 19) + ".com", out));
        assertEquals(t("x@b" + ".c".repeat(1 << 19) + ".com"), labels);
    }

    @Test
    void shouldRedactQueryTokensWithoutAValueWhenTheyMatchARuleAndKeepTheRestByteForByte() {
        Redactor r = new Redactor(KEY, new Redactor.Rules(Redactor.DEFAULT_HEADERS, Pattern.compile(Redactor.DEFAULT_SENSITIVE_NAME), Set.of(),
                List.of(), List.of(new Redactor.TextRule("stripe", Pattern.compile("sk_live_[0-9a-z]+"))), true, true));
        String q = r.urlEncoded("inbound.request", "query", "sk_live_abcdef123&token&x=1&jane%40example.com&4111-1111-1111-1111&flag", out);
        assertEquals(r.token("sk_live_abcdef123") + "&token&x=1&" + r.token("jane@example.com") + "&" + r.token("4111-1111-1111-1111") + "&flag", q);
        assertEquals(List.of("config:regex:stripe", "email", "card-number"), out.stream().map(Redaction::getRule).toList());
        assertTrue(out.stream().allMatch(x -> x.getField().equals("query")), "a note names no value: " + out);
        String plain = "token&x=1&debug&page=%2F";
        assertSame(plain, r.urlEncoded("p", "query", plain, out), "a valueless sensitive name holds no secret: kept");
        assertEquals(r.token("bob@example.com") + "=1", r.urlEncoded("p", "query", "bob%40example.com=1", out), "a name that is an email");
    }

    @Test
    void shouldFindEmailsAndCardsInPercentEncodedPathSegmentsAndWriteTheTokenBack() {
        assertEquals("/users/" + t("alice@example.com") + "/orders", redactor.path("inbound.request", "/users/alice%40example.com/orders", out));
        assertEquals("/cards/" + t("4111-1111-1111-1111") + "/x%2Fy", redactor.path("p", "/cards/4111%2D1111%2D1111%2D1111/x%2Fy", out));
        assertEquals(List.of("email", "card-number"), out.stream().map(Redaction::getRule).toList());
        // a changed segment is written back encoded: an encoded '/' or space in it stays one
        assertEquals("/u/mail%20" + t("bob@example.com") + "%2Fx", redactor.path("p", "/u/mail%20bob%40example.com%2Fx", out));
        String malformed = redactor.path("p", "/u/bob%40example.com%zz", out);
        assertFalse(malformed.contains("bob"), "a bad escape elsewhere does not hide the email: " + malformed);
        String clean = "/files/a%2Fb/caf%C3%A9/4111%2D1111";
        assertSame(clean, redactor.path("p", clean, out));
        assertEquals("q=" + t("4111-1111-1111-1111"), redactor.urlEncoded("p", "query", "q=4111%2D1111%2D1111%2D1111", out), "query values too");
    }

    @Test
    void shouldRedactUrlsInsideHeaderValuesByTheRequestUrlRules() {
        List<Header> headers = List.of(
                new Header("Location", "https://jane:pa55@app.example.com/reset/jane%40example.com?token=abc123&next=%2Fhome#access_token=xyz&state=s1"),
                new Header("Referer", "/checkout?api_key=K1&x=1"),
                new Header("Content-Location", "orders?card=4111111111111111"),
                new Header("Link", "<https://api.example.com/items?page=2&access_token=L1>; rel=\"next\", <https://api.example.com/items?page=9&access_token=L1>; rel=\"last\""),
                new Header("X-Original-URI", "/login?password=hunter2"),
                new Header("Location", "https://app.example.com/plain/path?page=2#top"),
                new Header("Link", "</style.css>; rel=preload; as=style"));
        List<Header> r = redactor.headers("inbound.response", headers, out);
        assertEquals("https://jane:" + t("pa55") + "@app.example.com/reset/" + t("jane@example.com") + "?token=" + t("abc123")
                + "&next=%2Fhome#access_token=" + t("xyz") + "&state=s1", r.get(0).getValue());
        assertEquals("/checkout?api_key=" + t("K1") + "&x=1", r.get(1).getValue());
        assertEquals("orders?card=" + t("4111111111111111"), r.get(2).getValue());
        assertEquals("<https://api.example.com/items?page=2&access_token=" + t("L1") + ">; rel=\"next\", <https://api.example.com/items?page=9&access_token="
                + t("L1") + ">; rel=\"last\"", r.get(3).getValue());
        assertEquals("/login?password=" + t("hunter2"), r.get(4).getValue(), "any header value that is a URL");
        assertSame(headers.get(5), r.get(5));
        assertSame(headers.get(6), r.get(6));
        assertTrue(out.stream().allMatch(x -> x.getLocation().equals("header")), out.toString());
        assertTrue(out.stream().noneMatch(x -> x.toString().contains("abc123") || x.toString().contains("jane@")), out.toString());
    }

    @Test
    void shouldRedactObjectAndArrayValuesOfSensitiveNamesInTruncatedJson() {
        String cut = "{\"user\":\"x\",\"password\": {\"x\": \"p1\", \"y\": [1, \"]}\\\"\"]},\"tokens\":[\"a\",\"b\"],"
                + "\"meta\":{\"ok\":\"yes\",\"secret\":{\"deep\":\"s1\"},\"n\":1},\"session_id\":[\"cut-by-the-ca";
        String red = new String(redactor.body("p", cut.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.ISO_8859_1);
        assertEquals("{\"user\":\"x\",\"password\": \"" + t("{\"x\": \"p1\", \"y\": [1, \"]}\\\"\"]}") + "\",\"tokens\":\"" + t("[\"a\",\"b\"]")
                + "\",\"meta\":{\"ok\":\"yes\",\"secret\":\"" + t("{\"deep\":\"s1\"}") + "\",\"n\":1},\"session_id\":\"" + t("[\"cut-by-the-ca") + "\"", red);
        assertEquals(List.of("password", "tokens", "secret", "session_id"), out.stream().map(Redaction::getField).toList());
    }

    @Test
    void shouldRedactMultipartFieldsByNameAndTextPartsByRuleKeepingBinaryPartsAndStructure() {
        String b = "----tapline7MA4";
        String ct = "multipart/form-data; charset=utf-8; boundary=\"" + b + "\"";
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2, (byte) 0xFF, '\r', '\n', '-', '-', 'x'};
        String head = "preamble\r\n--" + b + "\r\n"
                + "Content-Disposition: form-data; name=\"user\"\r\n\r\njane\r\n--" + b + "\r\n"
                + "Content-Disposition: form-data; name=\"password\"\r\n\r\n";
        String note = "\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"note\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
        String meta = "\r\n--" + b + "\r\ncontent-disposition: form-data; name=\"meta\"\r\ncontent-type: application/json\r\n\r\n";
        String file = "\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n";
        String last = "\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\n";
        byte[] body = concat(head, "hunter2", note, "mail jane@example.com, card 4111 1111 1111 1111", meta, "{\"api_key\":\"k-1\",\"n\":2}",
                file, png, last, "cut-by-the-ca");
        byte[] red = redactor.body("inbound.request", body, ct, out);
        byte[] expected = concat(head, t("hunter2"), note, "mail " + t("jane@example.com") + ", card " + t("4111 1111 1111 1111"), meta,
                "{\"api_key\":\"" + t("k-1") + "\",\"n\":2}", file, png, last, t("cut-by-the-ca"));
        assertEquals(new String(expected, StandardCharsets.ISO_8859_1), new String(red, StandardCharsets.ISO_8859_1));
        assertEquals(t("hunter2"), new String(redactor.body("p", "password=hunter2".getBytes(StandardCharsets.US_ASCII),
                "application/x-www-form-urlencoded", new ArrayList<>()), StandardCharsets.US_ASCII).substring(9), "the same token as the form field");
        byte[] clean = concat("--" + b + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--" + b + "--\r\n");
        assertSame(clean, redactor.body("p", clean, ct, out));
    }

    @Test
    void shouldRedactMultipartBodiesWhoseLinesEndInABareLf() {
        String lf = "--b\nContent-Disposition: form-data; name=\"password\"\n\nhunter2\n--b\n"
                + "Content-Disposition: form-data; name=\"note\"\n\nmail ann@example.com\r\n--b\r\n"
                + "Content-Disposition: form-data; name=\"token\"\r\n\r\nt-1\n--b--\n";
        assertEquals("--b\nContent-Disposition: form-data; name=\"password\"\n\n" + t("hunter2") + "\n--b\n"
                + "Content-Disposition: form-data; name=\"note\"\n\nmail " + t("ann@example.com") + "\r\n--b\r\n"
                + "Content-Disposition: form-data; name=\"token\"\r\n\r\n" + t("t-1") + "\n--b--\n",
                new String(redactor.body("p", lf.getBytes(StandardCharsets.ISO_8859_1), "multipart/form-data; boundary=b", out),
                        StandardCharsets.ISO_8859_1));
        // a body cut inside its first delimiter line still gets the text rules
        String cut = "--b mail ann@example.com";
        assertEquals("--b mail " + t("ann@example.com"), new String(redactor.body("p", cut.getBytes(StandardCharsets.ISO_8859_1),
                "multipart/form-data; boundary=b", out), StandardCharsets.ISO_8859_1));
        byte[] empty = "--b\r\n\r\n--b\n\n--b--".getBytes(StandardCharsets.ISO_8859_1);
        assertSame(empty, redactor.body("p", empty, "multipart/form-data; boundary=b", out), "empty parts");
    }

    @Test
    void shouldRedactMebibyteInputsWithoutOverflowingTheStack() {
        String mib = "A".repeat(1 << 20);
        Redactor r = redactor;
        // truncated JSON: a sensitive array cut after 1 MiB, and 1 MiB of nested brackets
        String arr = onSmallStack(() -> new String(r.body("p", ("{\"tokens\": [\"" + mib).getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.ISO_8859_1));
        assertEquals("{\"tokens\": \"" + t("[\"" + mib) + "\"", arr);
        String deep = "{\"a\": " + "[{\"b\": ".repeat(1 << 16) + "{\"password\": " + "[".repeat(1 << 20) + "x";
        String red = onSmallStack(() -> new String(r.body("p", deep.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.ISO_8859_1));
        assertFalse(red.contains("[[[x"), "the nested value is tokenised");
        // multipart: a 1 MiB text part ending in an email, a 1 MiB sensitive part
        String b = "xyz";
        byte[] mp = concat("--" + b + "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n" + mib + " jane@example.com\r\n--" + b
                + "\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n" + mib + "\r\n--" + b + "--");
        String mpRed = onSmallStack(() -> new String(r.body("p", mp, "multipart/form-data; boundary=" + b, out), StandardCharsets.ISO_8859_1));
        assertFalse(mpRed.contains("jane@example.com"));
        assertTrue(mpRed.endsWith("name=\"token\"\r\n\r\n" + t(mib) + "\r\n--" + b + "--"));
        // URLs: a 1 MiB path with an encoded email, a 1 MiB query of valueless tokens, a header URL
        String path = onSmallStack(() -> r.path("p", "/" + "a%20".repeat(1 << 18) + "/jane%40example.com", out));
        assertTrue(path.endsWith("/" + t("jane@example.com")));
        String query = onSmallStack(() -> r.urlEncoded("p", "query", "x&".repeat(1 << 19) + "jane%40example.com", out));
        assertTrue(query.endsWith("&" + t("jane@example.com")));
        List<Header> h = onSmallStack(() -> r.headers("p", List.of(new Header("Location", "/r?" + "a=1&".repeat(1 << 18) + "token=t1")), out));
        assertTrue(h.get(0).getValue().endsWith("&token=" + t("t1")));
    }

    // ---------------------------------------------------------------- message/http bodies (a TRACE echo)

    private String messageBody(String part, String body, String contentType) {
        return new String(redactor.body(part, body.getBytes(StandardCharsets.ISO_8859_1), contentType, out), StandardCharsets.ISO_8859_1);
    }

    /** A header line as the body of a {@code message/http} should read after redaction: the value as a header of that name. */
    private String headerLine(String name, String value) {
        return name + ": " + redactor.header("p", name, value, new ArrayList<>()) + "\r\n";
    }

    @Test
    void shouldRedactAnHttpMessageBodyAsTheRequestItHolds() {
        // what an app answers to TRACE (RFC 9110 9.3.8): the request it received, header lines included
        String echo = "TRACE /debug?token=trace-t0ken&page=2 HTTP/1.1\r\nHost: shop.example\r\nAuthorization: Bearer x\r\n"
                + "Cookie: sid=abc; theme=dark\r\nX-Api-Key: k\r\nX-Session: s\r\nX-Auth-User: ann\r\nAccept: */*\r\n\r\n";
        String expected = "TRACE /debug?token=" + t("trace-t0ken") + "&page=2 HTTP/1.1\r\n" + headerLine("Host", "shop.example")
                + headerLine("Authorization", "Bearer x") + headerLine("Cookie", "sid=abc; theme=dark") + headerLine("X-Api-Key", "k")
                + headerLine("X-Session", "s") + headerLine("X-Auth-User", "ann") + headerLine("Accept", "*/*") + "\r\n";
        assertEquals("X-Auth-User: " + t("ann") + "\r\n", headerLine("X-Auth-User", "ann"));
        assertEquals("Cookie: sid=" + t("abc") + "; theme=" + t("dark") + "\r\n", headerLine("Cookie", "sid=abc; theme=dark"));
        assertEquals(expected, messageBody("response", echo, "message/http"));
        assertEquals(expected, messageBody("request", echo, "Message/HTTP; msgtype=request"), "any case and parameters, on a request too");
        assertTrue(out.stream().anyMatch(n -> n.getLocation().equals("text") && n.getField().equals("X-Api-Key")), out.toString());
        // lines ending in a bare LF, a folded header line, an absolute-form target, the body by the text rules
        String lf = "GET https://shop.example/a?api_key=lf-k3y HTTP/1.1\nX-Auth-Token: lf-t0ken\n folded-t0ken\nAccept: a\n\n"
                + "password=body-passw0rd note\n";
        String r = messageBody("response", lf, "message/http");
        for (String secret : List.of("lf-k3y", "lf-t0ken", "folded-t0ken", "body-passw0rd")) {
            assertFalse(r.contains(secret), secret + " in " + r);
        }
        assertTrue(r.startsWith("GET https://shop.example/a?api_key=" + t("lf-k3y") + " HTTP/1.1\nX-Auth-Token: "), r);
        assertTrue(r.endsWith("\nAccept: a\n\npassword=" + t("body-passw0rd") + " note\n"), r);
        // a response held in message/http: its status line and ordinary headers kept, Set-Cookie by its rule
        String answer = "HTTP/1.1 200 OK\r\nSet-Cookie: sid=resp-s3ss; Path=/\r\nContent-Type: text/plain\r\n\r\nhello";
        assertEquals("HTTP/1.1 200 OK\r\n" + headerLine("Set-Cookie", "sid=resp-s3ss; Path=/") + "Content-Type: text/plain\r\n\r\nhello",
                messageBody("response", answer, "message/http"));
    }

    @Test
    void shouldLeaveAnHttpMessageBodyWithoutSecretsAsItIs() {
        byte[] clean = "TRACE /products/42?page=2 HTTP/1.1\r\nHost: shop.example\r\nAccept: */*\r\nX-Request-Id: r-1\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1);
        assertSame(clean, redactor.body("response", clean, "message/http", out));
        assertEquals(List.of(), out);
        // the same lines in an ordinary text body are read by the text rules only, as before
        byte[] text = "Cookie: sid=abc\r\nX-Session: s\r\n".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals("Cookie: sid=abc\r\nX-Session: " + t("s") + "\r\n",
                new String(redactor.body("response", text, "text/plain", out), StandardCharsets.ISO_8859_1));
    }

    @Test
    void shouldLeakNoValueOfAnHttpMessageBodyCutAnywhere() {
        String echo = "TRACE /debug?token=trace-t0ken&page=2 HTTP/1.1\r\nAuthorization: Bearer bearer-cred-123\r\n"
                + "Cookie: sid=cookie-sess-456; theme=dark-val-789\r\nX-Api-Key: apikey-val-246\r\nX-Session: xsess-val-135\r\n\r\n";
        List<String> secrets = List.of("trace-t0ken", "bearer-cred-123", "cookie-sess-456", "dark-val-789", "apikey-val-246", "xsess-val-135", "authuser-val-975");
        for (int cut = 1; cut <= echo.length(); cut++) {
            byte[] b = echo.substring(0, cut).getBytes(StandardCharsets.ISO_8859_1);
            for (boolean cutWord : List.of(true, false)) {
                String r = new String(cutWord ? redactor.cutBody("response", b, "message/http", out)
                        : redactor.body("response", b, "message/http", out), StandardCharsets.ISO_8859_1);
                for (String secret : secrets) {
                    for (int len = 4; len <= secret.length(); len++) {
                        assertFalse(r.contains(secret.substring(0, len)), "cut at " + cut + ": " + r);
                    }
                }
            }
        }
    }

    @Test
    void shouldRedactHttpMessageBodiesInLinearTime() {
        Redactor r = redactor;
        // 1 MiB of header lines, one header line of 1 MiB, a request line of 1 MiB, on a small stack
        String lines = "X-Api-Key: k\r\nAccept: a\r\n".repeat(1 << 15);
        String a = onSmallStack(() -> new String(r.body("p", ("GET / HTTP/1.1\r\n" + lines).getBytes(StandardCharsets.ISO_8859_1),
                "message/http", out), StandardCharsets.ISO_8859_1));
        assertFalse(a.contains("X-Api-Key: k\r"));
        String mib = "A".repeat(1 << 20);
        String b = onSmallStack(() -> new String(r.body("p", ("GET / HTTP/1.1\r\nX-Note: " + mib + " jane@example.com").getBytes(StandardCharsets.ISO_8859_1),
                "message/http", out), StandardCharsets.ISO_8859_1));
        assertTrue(b.endsWith(mib + " " + t("jane@example.com")));
        String c = onSmallStack(() -> new String(r.body("p", ("GET /" + "a/".repeat(1 << 19) + "?token=t1 HTTP/1.1").getBytes(StandardCharsets.ISO_8859_1),
                "message/http", out), StandardCharsets.ISO_8859_1));
        assertTrue(c.endsWith("?token=" + t("t1") + " HTTP/1.1"));
    }

    // ---------------------------------------------------------------- {name, value} lists in JSON

    @Test
    void shouldTokeniseTheValueOfANameValueObjectNamedLikeASecret() {
        String har = "{\"log\":{\"entries\":[{\"request\":{\"headers\":[{\"name\":\"Authorization\",\"value\":\"Bearer har-b3arer\"},"
                + "{\"name\":\"cookie\",\"value\":\"sid=har-c00kie\"},{\"name\":\"Accept\",\"value\":\"*/*\"}],"
                + "\"queryString\":[{\"name\":\"token\",\"value\":\"har-qt0ken\"},{\"name\":\"page\",\"value\":\"2\"}]}}]},"
                + "\"postman\":[{\"key\":\"X-Api-Key\",\"value\":\"pm-k3y\",\"type\":\"text\"},{\"Header\":\"X-Session\",\"Value\":\"s1\"},"
                + "{\"VALUE\":\"rev-val\",\"NAME\":\"password\"},{\"name\":\"pin\",\"value\":1234},{\"name\":\"secret\",\"value\":{\"b\":1,\"a\":2}}]}";
        String expected = "{\"log\":{\"entries\":[{\"request\":{\"headers\":[{\"name\":\"Authorization\",\"value\":\"" + t("Bearer har-b3arer") + "\"},"
                + "{\"name\":\"cookie\",\"value\":\"" + t("sid=har-c00kie") + "\"},{\"name\":\"Accept\",\"value\":\"*/*\"}],"
                + "\"queryString\":[{\"name\":\"token\",\"value\":\"" + t("har-qt0ken") + "\"},{\"name\":\"page\",\"value\":\"2\"}]}}]},"
                + "\"postman\":[{\"key\":\"X-Api-Key\",\"value\":\"" + t("pm-k3y") + "\",\"type\":\"text\"},{\"Header\":\"X-Session\",\"Value\":\"" + t("s1") + "\"},"
                + "{\"VALUE\":\"" + t("rev-val") + "\",\"NAME\":\"password\"},{\"name\":\"pin\",\"value\":\"" + t("1234") + "\"},"
                + "{\"name\":\"secret\",\"value\":\"" + t("{\"a\":2,\"b\":1}") + "\"}]}";
        assertEquals(expected, new String(redactor.body("p", har.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8));
        assertTrue(out.stream().anyMatch(n -> n.getField().equals("$.postman[0].value")), out.toString());
        // JSON that does not parse (cut by the capture cap), and such pairs in a log line: the value after its name
        String cut = "[{\"name\":\"X-Api-Key\",\"value\":\"cut-apik3y\"},{\"name\":\"Accept\",\"value\":\"a\"},{\"key\":\"password\", \"value\": \"cut-pw";
        String r = new String(redactor.body("p", cut.getBytes(StandardCharsets.UTF_8), "application/json", out), StandardCharsets.UTF_8);
        assertEquals("[{\"name\":\"X-Api-Key\",\"value\":\"" + t("cut-apik3y") + "\"},{\"name\":\"Accept\",\"value\":\"a\"},"
                + "{\"key\":\"password\", \"value\": \"" + t("cut-pw") + "\"", r);
        String log = "upstream call headers=[{\"name\":\"X-Api-Key\",\"value\":\"log-apik3y\"}]";
        assertEquals("upstream call headers=[{\"name\":\"X-Api-Key\",\"value\":\"" + t("log-apik3y") + "\"}]",
                new String(redactor.body("p", log.getBytes(StandardCharsets.UTF_8), "text/plain", out), StandardCharsets.UTF_8));
    }

    @Test
    void shouldLeaveNameValueObjectsWhoseNameIsNoSecretsNameAsTheyAre() {
        // prose, and names that hold a sensitive word inside another or before another word
        for (String body : List.of(
                "[{\"name\":\"password reset\",\"value\":\"enabled\"},{\"name\":\"Session timeout\",\"value\":\"30\"}]",
                "[{\"name\":\"author\",\"value\":\"ann\"},{\"name\":\"compass\",\"value\":\"north\"},{\"name\":\"pin_location\",\"value\":\"x\"}]",
                "[{\"name\":\"session_count\",\"value\":\"3\"},{\"name\":\"Content-Type\",\"value\":\"application/json\"}]",
                "{\"name\":\"token\",\"label\":\"t\",\"values\":[\"a\"]}",
                "{\"title\":\"password\",\"value\":\"v\"}",
                "[{\"name\":\"token\"},{\"value\":\"v\"}]")) {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            assertSame(b, redactor.body("p", b, "application/json", out), body);
            byte[] cut = body.substring(0, body.length() - 1).getBytes(StandardCharsets.UTF_8);
            assertSame(cut, redactor.body("p", cut, "application/json", out), "cut: " + body);
        }
        assertEquals(List.of(), out);
    }

    @Test
    void shouldNotLetTheByteScanPassANameValueObjectNamedLikeASecret() {
        for (String body : List.of("{\"name\":\"Cookie\",\"value\":\"abc\"}", "{\"NAME\" : \"X-Session\",\"value\":\"s\"}",
                "{\"value\":\"v\",\"key\":\"password\"}", "{\"header\":\"X-Amz-Signature\",\"value\":\"s\"}")) {
            assertFalse(redactor.nothingToRedact(body.getBytes(StandardCharsets.UTF_8)), body);
        }
        for (String body : List.of("{\"name\":\"Accept\",\"value\":\"abc\"}", "{\"name\":\"password reset\",\"value\":\"v\"}",
                "{\"title\":\"Cookie\",\"value\":\"v\"}")) {
            assertTrue(redactor.nothingToRedact(body.getBytes(StandardCharsets.UTF_8)), body);
        }
    }

    private static byte[] concat(Object... pieces) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (Object p : pieces) {
            b.writeBytes(p instanceof byte[] bytes ? bytes : ((String) p).getBytes(StandardCharsets.ISO_8859_1));
        }
        return b.toByteArray();
    }
}
