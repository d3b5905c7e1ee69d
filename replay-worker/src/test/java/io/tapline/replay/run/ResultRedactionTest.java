package io.tapline.replay.run;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.MockCall;
import io.tapline.avro.MockUsage;
import io.tapline.redaction.RedactionKey;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class ResultRedactionTest {

    private final RedactionKey key = RedactionKey.of("sidecar-key-0123456789");
    private final ResultRedaction redaction = ResultRedaction.of(key);

    private static Difference diff(String path, String expected, String actual) {
        return Difference.newBuilder().setPath(path).setKind(DifferenceKind.CHANGED).setExpected(expected).setActual(actual).build();
    }

    private String t(String value) {
        return key.token(value);
    }

    @Test
    void eachValueIsRedactedByWhereItWasFound() {
        assertEquals("Bearer " + t("own-key"), redaction.difference(diff("header:authorization", null, "Bearer own-key")).getActual());
        assertEquals("sid=" + t("s1") + "; Path=/", redaction.difference(diff("header:set-cookie", null, "sid=s1; Path=/")).getActual());
        assertEquals("sid=" + t("s1") + "; Path=/, csrf=" + t("c2") + "; Secure",
                redaction.difference(diff("header:set-cookie", null, "sid=s1; Path=/, csrf=c2; Secure")).getActual(),
                "the candidate's Set-Cookie lines, joined by the comparison: every cookie's value");
        assertEquals("\"" + t("hunter2") + "\"", redaction.difference(diff("$.user.password", null, "\"hunter2\"")).getActual());
        assertEquals(t("k1"), redaction.difference(diff("form:api_key", null, "k1")).getActual());
        assertEquals("mail " + t("ann@example.com"), redaction.difference(diff("form:note", null, "mail ann@example.com")).getActual());
        assertEquals("{\"token\":\"" + t("x") + "\"}", redaction.difference(diff("body", null, "{\"token\":\"x\"}")).getActual());
        assertEquals("card " + t("4111 1111 1111 1111"), redaction.difference(diff("body", null, "card 4111 1111 1111 1111")).getActual());
        // the parts of a dependency call: its URL in the path, then the value by the part compared
        Difference call = redaction.difference(diff("call:POST payments /charges?api_key=k2 $.card", "\"" + t("4111 1111 1111 1111") + "\"",
                "\"4012888888881881\""));
        assertEquals("call:POST payments /charges?api_key=" + t("k2") + " $.card", call.getPath());
        assertEquals("\"" + t("4012888888881881") + "\"", call.getActual());
        assertEquals("\"" + t("4111 1111 1111 1111") + "\"", call.getExpected(), "a recorded token stays as it is");
        Difference header = redaction.difference(diff("call:GET inventory /stock/1 header:x-api-key", t("k0"), "k3"));
        assertEquals(t("k3"), header.getActual());
        // an unmatched call is described by its URL in the values too; the score stays
        Difference unmatched = redaction.difference(diff("call:GET inventory /u/ann@example.com",
                "call:GET inventory /u/" + t("bob@example.com") + " (score 0.65)", "call:GET inventory /u/ann@example.com"));
        assertEquals("call:GET inventory /u/" + t("ann@example.com"), unmatched.getPath());
        assertEquals("call:GET inventory /u/" + t("bob@example.com") + " (score 0.65)", unmatched.getExpected());
        assertEquals("call:GET inventory /u/" + t("ann@example.com"), unmatched.getActual());
        // a JSON key holding an email, in the path of an extra field: one member, tokenised on its own (a token holds
        // no dot, so it needs no brackets)
        assertEquals("$.owners." + t("ann@example.com") + ".age",
                redaction.difference(diff("$.owners['ann@example.com'].age", null, "1")).getPath());
        assertEquals("call:POST crm /owners $.byEmail." + t("ann@example.com"),
                redaction.difference(diff("call:POST crm /owners $.byEmail['ann@example.com']", null, "1")).getPath(),
                "the same in what a candidate sends a dependency");
        assertEquals("$.cards." + t("4111111111111111") + ".limit",
                redaction.difference(diff("$.cards.4111111111111111.limit", null, "1")).getPath());
        // a path written as JsonUnit wrote it (a name the comparison could not find in the tree): the whole path's
        // text, which takes the path before the address into the token
        assertEquals("$" + t(".owners.ann@example.com"), redaction.difference(diff("$.owners.ann@example.com", null, "1")).getPath());
    }

    @Test
    void whatHoldsNoSecretIsPublishedAsItWas() {
        Difference plain = diff("$.price", "113", "226");
        assertSame(plain, redaction.difference(plain));
        Difference status = diff("status", "200", "500");
        assertSame(status, redaction.difference(status));
        Difference token = diff("$.contact", "\"" + t("a@example.com") + "\"", "\"" + t("b@example.com") + "\"");
        assertSame(token, redaction.difference(token), "tokens the comparison already wrote are not tokenised again");
        Difference credential = diff("header:authorization", "Bearer " + t("a"), "Bearer " + t("b"));
        assertSame(credential, redaction.difference(credential));
        List<Difference> none = List.of();
        assertSame(none, redaction.differences(none));
        MockUsage usage = MockUsage.newBuilder().setCalls(List.of(MockCall.newBuilder().setMethod("GET").setDestination("inventory")
                .setPath("/stock/1?page=2").setOutcome("matched").setScore(1).build())).build();
        assertSame(usage, redaction.usage(usage));
    }

    @Test
    void callsAreListedWithTheirUrlsRedacted() {
        MockUsage usage = MockUsage.newBuilder().setMatched(1).setCalls(List.of(
                MockCall.newBuilder().setMethod("GET").setDestination("inventory").setPath("/stock/1").setOutcome("matched").setScore(1).build(),
                MockCall.newBuilder().setMethod("GET").setDestination("crm").setPath("/lookup?email=ann%40example.com&token=t9")
                        .setOutcome("unmatched").setScore(0).build())).build();
        MockUsage r = redaction.usage(usage);
        assertSame(usage.getCalls().get(0), r.getCalls().get(0));
        assertEquals("/lookup?email=" + t("ann@example.com") + "&token=" + t("t9"), r.getCalls().get(1).getPath());
        assertEquals(1, r.getMatched());
    }

    @Test
    void aCallNamedInANoteByTheTargetTheCandidateSentIsRedacted() {
        // a call answered 413 for its body is in no difference and no listed call: only its note names it
        List<String> notes = List.of(
                "the candidate's call POST /inventory/stock?api_key=k2&owner=ann%40example.com was answered 413 and not"
                        + " matched: its body is over the mock's limit of 1024 bytes",
                "the candidate's call PUT http://files.example.com/put?token=t9 was answered 413 and not matched: its body"
                        + " is over the mock's limit of 1024 bytes");
        assertEquals(List.of(
                "the candidate's call POST /inventory/stock?api_key=" + t("k2") + "&owner=" + t("ann@example.com")
                        + " was answered 413 and not matched: its body is over the mock's limit of 1024 bytes",
                "the candidate's call PUT http://files.example.com/put?token=" + t("t9") + " was answered 413 and not"
                        + " matched: its body is over the mock's limit of 1024 bytes"), redaction.notes(notes));
        List<String> recorded = List.of("request body of call:POST payments /charges not compared: it was recorded"
                + " truncated at capture (1024 of 4096 bytes)",
                "1 response difference(s) not judged: the recorded value was redacted at capture (header:set-cookie, $.email)");
        assertSame(recorded, redaction.notes(recorded), "notes naming recorded calls and paths only are published as they were");
    }

    @Test
    void anXmlAnswerIsRedactedByTheXmlRulesAsTheSidecarRedactsAnXmlBody() {
        // a difference does not say the body's content type: the text rules alone left <password> as it was
        assertEquals("<user api_key=\"" + t("k1") + "\"><password>" + t("hunter2") + "</password><name>Ann</name></user>",
                redaction.difference(diff("body", null, "<user api_key=\"k1\"><password>hunter2</password><name>Ann</name></user>"))
                        .getActual());
        assertEquals("not JSON (Unexpected character ('<' (code 60))): <wsse:Password>" + t("hunter2") + "</wsse:Password>",
                redaction.difference(diff("body", null, "not JSON (Unexpected character ('<' (code 60))):"
                        + " <wsse:Password>hunter2</wsse:Password>")).getActual(),
                "XML shown after why a JSON answer is not JSON");
        assertEquals("call:POST soap /pay body", redaction.difference(diff("call:POST soap /pay body", null,
                "<pay><amount>123</amount><secret>s1</secret></pay>")).getPath());
        assertEquals("<pay><amount>123</amount><secret>" + t("s1") + "</secret></pay>", redaction.difference(diff("call:POST soap /pay body",
                null, "<pay><amount>123</amount><secret>s1</secret></pay>")).getActual(), "what the candidate sends a dependency too");
        Difference text = diff("body", "a", "a < b and b > c");
        assertSame(text, redaction.difference(text), "text holding < and > but nothing to redact is published as it was");
    }

    @Test
    void aMultipartAnswerIsRedactedPartByPartAsTheSidecarRedactsAMultipartBody() {
        // the text rules alone read no part's name: a part named password was published as it was
        String crlf = "--b1\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nhunter2\r\n"
                + "--b1\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nmail ann@example.com\r\n--b1--\r\n";
        assertEquals("--b1\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n" + t("hunter2") + "\r\n"
                + "--b1\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nmail " + t("ann@example.com") + "\r\n--b1--\r\n",
                redaction.difference(diff("body", null, crlf)).getActual());
        assertEquals("--x y\nContent-Disposition: form-data; name=\"secret\"\n\n" + t("two words") + "\n--x y--\n",
                redaction.difference(diff("call:POST files /upload body", null,
                        "--x y\nContent-Disposition: form-data; name=\"secret\"\n\ntwo words\n--x y--\n")).getActual(),
                "bare line feeds, a boundary holding a space, in what a candidate sends a dependency");
        Difference dashes = diff("body", "a", "-- not a boundary\nplain text");
        assertSame(dashes, redaction.difference(dashes));
    }
}
