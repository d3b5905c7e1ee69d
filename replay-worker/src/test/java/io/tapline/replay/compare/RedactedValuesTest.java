package io.tapline.replay.compare;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.Header;
import io.tapline.redaction.RedactionKey;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedactedValuesTest {

    private static final RedactionKey KEY = RedactionKey.of("sidecar-key-0123456789");
    private static final RedactedValues KEYED = RedactedValues.keyed(KEY);

    private static String tok(String value) {
        return KEY.token(value);
    }

    private static Difference diff(String path, String expected, String actual) {
        return BodyComparator.diff(path, DifferenceKind.CHANGED, expected, actual);
    }

    private static RedactedValues.Outcome outcome(RedactedValues judge, String expected, String actual) {
        return judge.judge(diff("$.x", expected, actual)).outcome();
    }

    /** What a judged difference reports as the candidate's value; it must never hold the plain value. */
    private static String shown(RedactedValues judge, String expected, String actual) {
        RedactedValues.Judgement j = judge.judge(diff("$.x", expected, actual));
        assertEquals(RedactedValues.Outcome.DIFFERENT, j.outcome());
        return j.difference().getActual();
    }

    @Test
    void withoutTheKeyAPlainValueIsNotJudgedButEchoedTokensAndMissingValuesAre() {
        RedactedValues none = RedactedValues.UNKEYED;
        assertFalse(none.hasKey());
        assertEquals(RedactedValues.Outcome.UNJUDGED, outcome(none, "\"" + tok("ann@example.com") + "\"", "\"ann@example.com\""));
        assertEquals(RedactedValues.Outcome.UNJUDGED, outcome(none, "Bearer " + tok("s3cret"), "Bearer s3cret"));
        // the literal parts around the tokens differ: a difference whatever the plain values were
        assertEquals(RedactedValues.Outcome.DIFFERENT, outcome(none, "Bearer " + tok("s3cret"), "Basic czNjcmV0"));
        assertEquals(RedactedValues.Outcome.DIFFERENT,
                outcome(none, "{\"name\":\"Ann\",\"email\":\"" + tok("ann@example.com") + "\"}", "null"), "the object is gone");
        assertEquals(RedactedValues.Outcome.DIFFERENT,
                outcome(none, "Dear " + tok("ann@example.com") + ", order 42 has shipped.", "Internal error"));
        assertEquals(RedactedValues.Outcome.UNJUDGED,
                outcome(none, "Dear " + tok("ann@example.com") + ", order 42 has shipped.", "Dear ann@example.com, order 42 has shipped."));
        assertEquals(RedactedValues.Outcome.DIFFERENT, outcome(none, "\"" + tok("a") + "\"", "\"" + tok("b") + "\""));
        assertEquals(RedactedValues.Outcome.DIFFERENT, outcome(none, "\"" + tok("a") + "\"", null));
        assertEquals(RedactedValues.Outcome.DIFFERENT, outcome(none, "\"Ann\"", "\"Bob\""), "not redacted: as it is");
    }

    @Test
    void withTheKeyTheCandidatesValueIsTokenisedAndComparedAndShownOnlyAsAToken() {
        String email = "\"" + tok("ann@example.com") + "\"";
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, email, "\"ann@example.com\""));
        String other = shown(KEYED, email, "\"bob@example.com\"");
        assertEquals("\"" + tok("bob@example.com") + "\"", other);
        // a JSON number where the capture tokenised a card number, by its digits
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, "\"" + tok("4111111111111111") + "\"", "4111111111111111"));
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, "\"" + tok("4111111111111111") + "\"", "4111111111111111.0"),
                "a card written as a floating-point number, as the capture tokenises it");
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, "\"" + tok("4111111111111111") + "\"", "4.111111111111111E15"));
        // a number tokenised by its path (--redaction-json-paths '$.salary'): the capture tokenises it as it reads it,
        // 1234.50 as 1234.5 and 1e2 as 100.0, so the candidate's same number, written the same way, is the same value
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, "\"" + tok("1234.5") + "\"", "1234.50"));
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, "\"" + tok("100.0") + "\"", "1e2"));
        assertEquals(RedactedValues.Outcome.DIFFERENT, outcome(KEYED, "\"" + tok("1234.5") + "\"", "1234.51"));
        // a JSON object where the capture tokenised a sensitive field's object value: by its members sorted by name,
        // so the candidate's member order does not matter; older captures tokenised it in production's order
        String sortedObject = "\"" + tok("{\"pin\":1234,\"user\":{\"a\":1,\"b\":[{\"x\":1,\"y\":2}]}}") + "\"";
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, sortedObject, "{\"user\":{\"b\":[{\"y\":2,\"x\":1}],\"a\":1},\"pin\":1234}"));
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, "\"" + tok("{\"user\":\"u\",\"pin\":1234}") + "\"", "{\"user\":\"u\",\"pin\":1234}"),
                "a capture made before: the order it was tokenised in");
        assertEquals(tok("{\"pin\":1,\"user\":\"u\"}"), shown(KEYED, sortedObject, "{\"user\":\"u\",\"pin\":1}"),
                "another object: shown as the token the capture would write for it");
        assertEquals(RedactedValues.Outcome.DIFFERENT, outcome(KEYED, "\"" + tok("[1,2]") + "\"", "[2,1]"), "array order counts");
        // a JSON string with escapes is judged by its content
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, "\"" + tok("a\"b") + "\"", "\"a\\\"b\""));
    }

    @Test
    void theRecordedTextIsATemplateWhoseTokensStandForPlainValues() {
        String bearer = "Bearer " + tok("s3cret");
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, bearer, "Bearer s3cret"));
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, bearer, "Bearer  s3cret"), "whitespace runs match");
        assertEquals("Bearer " + tok("other"), shown(KEYED, bearer, "Bearer other"));
        // another scheme: the literal part differs; the whole value is shown as its token
        String basic = shown(KEYED, bearer, "Basic czNjcmV0");
        assertEquals(tok("Basic czNjcmV0"), basic);

        String cookies = "sid=" + tok("abc") + "; theme=" + tok("dark");
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, cookies, "sid=abc;theme=dark"));
        assertEquals("sid=" + tok("abc") + ";theme=" + tok("light"), shown(KEYED, cookies, "sid=abc;theme=light"));

        String sentence = "Mail " + tok("ann@example.com") + " or call " + tok("4111 1111 1111 1111") + ".";
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, sentence, "Mail ann@example.com or call 4111 1111 1111 1111."));
        String wrong = shown(KEYED, sentence, "Mail bob@example.com or call 4111 1111 1111 1111.");
        assertFalse(wrong.contains("bob@example.com"), wrong);
        assertEquals("Mail " + tok("bob@example.com") + " or call " + tok("4111 1111 1111 1111") + ".", wrong);
    }

    @Test
    void tokensSeparatedOnlyByWhitespaceAreEachMatchedToTheirOwnValue() {
        // "a@x b@y": the literal between the tokens is a space, which matched none as well, so the first value was
        // cut after one character and the unchanged value was reported as changed
        String both = "\"" + tok("ann@example.com") + " " + tok("bob@example.com") + "\"";
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, both, "\"ann@example.com bob@example.com\""));
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, both, "\"ann@example.com   bob@example.com\""),
                "whitespace runs match");
        assertEquals("\"" + tok("ann@example.com") + " " + tok("eve@example.com") + "\"",
                shown(KEYED, both, "\"ann@example.com eve@example.com\""));
        assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, tok("a") + "\n" + tok("b"), "a\nb"));
    }

    @Test
    void aValueCutForDisplayOrWithTooManyTokensIsNotJudged() {
        String cut = "\"" + tok("x") + "...(900 chars)";
        assertEquals(RedactedValues.Outcome.UNJUDGED, outcome(KEYED, cut, "\"x\""));
        StringBuilder many = new StringBuilder();
        StringBuilder plain = new StringBuilder();
        for (int i = 0; i < 9; i++) {
            if (i == 8) {
                // eight tokens, the most judged
                assertEquals(RedactedValues.Outcome.EQUAL, outcome(KEYED, many.toString(), plain.toString()));
            }
            many.append(tok("v" + i)).append(' ');
            plain.append("v").append(i).append(' ');
        }
        assertEquals(RedactedValues.Outcome.UNJUDGED, outcome(KEYED, many.toString(), plain.toString()));
    }

    @Test
    void aCredentialTheReplaySetCountsAsTheRecordedOneItReplaced() {
        String user = "Bearer " + tok("user-token");
        List<Header> recordedRequest = List.of(new Header("Authorization", user));
        Map<String, String> overrides = Map.of("authorization", "Bearer test-key");
        for (RedactedValues base : List.of(RedactedValues.UNKEYED, KEYED)) {
            RedactedValues forCase = base.forCase(recordedRequest, overrides);
            assertEquals(RedactedValues.Outcome.EQUAL, outcome(forCase, user, "Bearer test-key"), base.toString());
            // the credential alone, passed on in a body
            assertEquals(RedactedValues.Outcome.EQUAL, outcome(forCase, "\"" + tok("user-token") + "\"", "\"test-key\""));
            // production sent the dependency its own service credential, the candidate forwards the user's
            String service = "Bearer " + tok("service-token");
            assertEquals(user, shown(forCase, service, "Bearer test-key"), "shown as the recorded value, not the test key");
        }
        // without the key, a test key against a credential production never received is not judged
        RedactedValues unkeyed = RedactedValues.UNKEYED.forCase(recordedRequest, overrides);
        assertEquals(RedactedValues.Outcome.UNJUDGED, outcome(unkeyed, "Bearer " + tok("other"), "Bearer unrelated"));
        // the test key matches its part, but another part cannot be judged without the key: the whole is not judged
        assertEquals(RedactedValues.Outcome.UNJUDGED, outcome(unkeyed, user + "; tenant " + tok("acme"),
                "Bearer test-key; tenant acme"));
        // no override, or one that replaced a header holding no token: nothing to translate
        assertSame(KEYED, KEYED.forCase(recordedRequest, Map.of()));
        assertSame(KEYED, KEYED.forCase(List.of(new Header("X-Tenant", "acme")), Map.of("X-Tenant", "test")));
    }

    @Test
    void tokensDependOnTheKey() {
        RedactedValues otherKey = RedactedValues.keyed(RedactionKey.of("another-key-0123456789"));
        assertNotEquals(tok("s3cret"), RedactionKey.of("another-key-0123456789").token("s3cret"));
        assertEquals(RedactedValues.Outcome.DIFFERENT, outcome(otherKey, "Bearer " + tok("s3cret"), "Bearer s3cret"),
                "a replay given another key than the sidecar's finds every redacted value changed");
        assertTrue(KEYED.hasKey());
        assertSame(RedactedValues.UNKEYED, RedactedValues.keyed(null));
    }

    @Test
    void aCandidatesKeysAreRenamedWithoutCopyingWhatIsUnchanged() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.JsonNode recorded = mapper.readTree("[[1,2],{\"" + tok("ann@example.com") + "\":1}]");
        com.fasterxml.jackson.databind.JsonNode candidate = mapper.readTree("[[1,2],{\"ann@example.com\":1}]");
        com.fasterxml.jackson.databind.JsonNode renamed = KEYED.redactKeys(recorded, candidate);
        assertEquals(recorded, renamed);
        assertEquals("[[1,2],{\"ann@example.com\":1}]", candidate.toString(), "the candidate's own tree is left as it is");
        // an element before the renamed one is the candidate's own, not a copy: arrays nested around a renamed key
        // would otherwise copy everything below them once per level (1.6 MB nested 800 deep: 1.4 s of copying)
        assertSame(candidate.get(0), renamed.get(0));
    }
}
