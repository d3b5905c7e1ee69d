package io.tapline.dedup.signature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.dedup.testing.Interactions;
import io.tapline.signature.RouteTemplates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class SignerTest {

    private final Signer signer = Signer.defaults();

    private String id(Interactions i) {
        return signer.sign(i.build()).id();
    }

    @Test
    void shouldCollapseRequestsThatDifferOnlyInIdsAndValues() {
        String a = id(Interactions.get("/owners/1").query("page=1&size=10")
                .json("{\"id\":1,\"name\":\"George\",\"pets\":[{\"id\":1,\"name\":\"Leo\"}]}"));
        String b = id(Interactions.get("/owners/987").query("size=50&page=3")
                .json("{\"name\":\"Betty\",\"id\":987,\"pets\":[{\"id\":4,\"name\":\"Max\"},{\"id\":5,\"name\":\"Sam\"}]}"));
        assertEquals(a, b);
    }

    @Test
    void shouldKeepApartDifferentMethodsRoutesAndStatuses() {
        String base = id(Interactions.get("/owners/1").json("{\"id\":1}"));
        assertNotEquals(base, id(Interactions.request("DELETE", "/owners/1").json("{\"id\":1}")));
        assertNotEquals(base, id(Interactions.get("/vets/1").json("{\"id\":1}")));
        assertNotEquals(base, id(Interactions.get("/owners/1").status(404).json("{\"id\":1}")));
        assertNotEquals(base, id(Interactions.get("/owners/1").service("billing").json("{\"id\":1}")));
    }

    @Test
    void shouldKeepApartDifferentQueryNames() {
        assertNotEquals(id(Interactions.get("/owners").query("lastName=Davis")),
                id(Interactions.get("/owners").query("firstName=Betty")));
        assertEquals(List.of("a", "b"), signer.sign(Interactions.get("/x").query("b=1&a=2&b=3").build())
                .parts().getQueryNames());
    }

    @Test
    void shouldKeepApartDifferentBodyShapes() {
        String present = id(Interactions.get("/owners/1").json("{\"id\":1,\"telephone\":\"555\"}"));
        String absent = id(Interactions.get("/owners/1").json("{\"id\":1}"));
        String typed = id(Interactions.get("/owners/1").json("{\"id\":1,\"telephone\":5551234}"));
        String nullValue = id(Interactions.get("/owners/1").json("{\"id\":1,\"telephone\":null}"));
        assertEquals(4, List.of(present, absent, typed, nullValue).stream().distinct().count());
    }

    @Test
    void shouldGiveAMapKeyedByIdsOrDatesOneSignatureWhateverItsKeys() {
        String cart = id(Interactions.get("/carts/1").json("{\"bySku\":{\"1017\":{\"qty\":1}}}"));
        assertEquals(cart, id(Interactions.get("/carts/2").json("{\"bySku\":{\"2001\":{\"qty\":3},\"77\":{\"qty\":1}}}")));
        String days = id(Interactions.get("/stats").json("{\"2024-05-01\":12}"));
        assertEquals(days, id(Interactions.get("/stats").json("{\"2024-06-01\":1,\"2024-06-02\":3}")));
        assertNotEquals(cart, id(Interactions.get("/carts/3").json("{\"bySku\":{\"1017\":{\"qty\":\"1\"}}}")),
                "a value of another type under the ids is another shape");
    }

    @Test
    void shouldSummariseArraysRegardlessOfLength() {
        assertEquals(id(Interactions.get("/pets").json("[]".replace("[]", "[{\"id\":1}]"))),
                id(Interactions.get("/pets").json("[{\"id\":1},{\"id\":2},{\"id\":3}]")));
        assertNotEquals(id(Interactions.get("/pets").json("[]")), id(Interactions.get("/pets").json("[{\"id\":1}]")));
    }

    @Test
    void shouldKeepApartDifferentRequestBodyShapes() {
        assertNotEquals(id(Interactions.request("POST", "/owners").jsonRequest("{\"firstName\":\"a\"}")),
                id(Interactions.request("POST", "/owners").jsonRequest("{\"firstName\":\"a\",\"city\":\"b\"}")));
        assertEquals(id(Interactions.request("POST", "/owners").jsonRequest("{\"firstName\":\"a\"}")),
                id(Interactions.request("POST", "/owners").jsonRequest("{\"firstName\":\"zz\"}")));
    }

    @Test
    void shouldSignOutboundCallsOrderIndependentlyWithTemplatedPaths() {
        String ab = id(Interactions.get("/owners/1").call("GET", "db-api", "/rows/17", 200).call("POST", "audit", "/log", 201));
        String ba = id(Interactions.get("/owners/2").call("POST", "audit", "/log", 201).call("GET", "db-api", "/rows/99", 200));
        String failed = id(Interactions.get("/owners/1").call("GET", "db-api", "/rows/17", 500).call("POST", "audit", "/log", 201));
        String fewer = id(Interactions.get("/owners/1").call("GET", "db-api", "/rows/17", 200));
        assertEquals(ab, ba);
        assertNotEquals(ab, failed);
        assertNotEquals(ab, fewer);
        assertEquals(List.of("GET db-api /rows/{id} 200", "POST audit /log 201"),
                signer.sign(Interactions.get("/owners/1").call("POST", "audit", "/log", 201)
                        .call("GET", "db-api", "/rows/17", 200).build()).parts().getOutboundSignatures());
    }

    @Test
    void shouldSignTheSetOfCallsNotHowOftenEachIsMade() {
        String three = id(Interactions.get("/orders/1").call("GET", "customers", "/customers/1", 200)
                .call("GET", "customers", "/customers/2", 200).call("GET", "customers", "/customers/3", 200));
        String one = id(Interactions.get("/orders/2").call("GET", "customers", "/customers/9", 200));
        String none = id(Interactions.get("/orders/3"));
        String oneFailed = id(Interactions.get("/orders/4").call("GET", "customers", "/customers/1", 200)
                .call("GET", "customers", "/customers/2", 503));
        assertEquals(three, one, "a fan-out of 3 calls and of 1 call to the same dependency route: one case");
        assertNotEquals(one, none);
        assertNotEquals(one, oneFailed, "a call answered otherwise is another member of the set");
    }

    @Test
    void shouldSplitByConfiguredValueFieldOnlyOnItsRoute() {
        Signer withValues = new Signer(RouteTemplates.defaults(), ValueFields.parse(List.of("POST /payments=$.type")));
        var card = withValues.sign(Interactions.request("POST", "/payments").jsonRequest("{\"type\":\"card\",\"amount\":3}").build());
        var bank = withValues.sign(Interactions.request("POST", "/payments").jsonRequest("{\"type\":\"bank\",\"amount\":3}").build());
        var card2 = withValues.sign(Interactions.request("POST", "/payments").jsonRequest("{\"type\":\"card\",\"amount\":9}").build());
        assertNotEquals(card.id(), bank.id());
        assertEquals(card.id(), card2.id());
        assertEquals("card", card.parts().getValueFields().get("$.type"));
        var refund = withValues.sign(Interactions.request("POST", "/refunds").jsonRequest("{\"type\":\"card\"}").build());
        var refund2 = withValues.sign(Interactions.request("POST", "/refunds").jsonRequest("{\"type\":\"bank\"}").build());
        assertEquals(refund.id(), refund2.id());
    }

    /**
     * A body written twice or with a key written twice is no JSON value to the replay worker and to noise learning:
     * its signature is that of any body of its type that is not JSON, not that of its first value.
     */
    @Test
    void shouldSignABodyWithContentAfterItsValueAsABodyThatIsNotJson() {
        String notJson = id(Interactions.get("/owners/1").json("{\"id\":1,"));
        String json = id(Interactions.get("/owners/1").json("{\"id\":1}"));
        assertEquals(notJson, id(Interactions.get("/owners/1").json("{\"id\":1} trailing")));
        assertEquals(notJson, id(Interactions.get("/owners/1").json("{\"id\":1}{\"name\":\"x\"}")));
        assertNotEquals(json, notJson);
        Signer withValues = new Signer(RouteTemplates.defaults(), ValueFields.parse(List.of("POST /payments=$.type")));
        var malformed = withValues.sign(Interactions.request("POST", "/payments").jsonRequest("{\"type\":").build());
        var twice = withValues.sign(Interactions.request("POST", "/payments")
                .jsonRequest("{\"type\":\"card\"}{\"type\":\"bank\"}").build());
        assertEquals(ValueFields.ABSENT, twice.parts().getValueFields().get("$.type"));
        assertEquals(malformed.id(), twice.id());
    }

    @Test
    void shouldSignABodyWithARepeatedKeyAsABodyThatIsNotJson() {
        String notJson = id(Interactions.get("/owners/1").json("{\"id\":1,"));
        assertEquals(notJson, id(Interactions.get("/owners/1").json("{\"id\":1,\"id\":\"x\"}")));
        assertEquals(notJson, id(Interactions.get("/owners/1").json("{\"pets\":[{\"id\":1,\"id\":2}]}")));
        Signer withValues = new Signer(RouteTemplates.defaults(), ValueFields.parse(List.of("POST /payments=$.type")));
        var malformed = withValues.sign(Interactions.request("POST", "/payments").jsonRequest("{\"type\":").build());
        var repeated = withValues.sign(Interactions.request("POST", "/payments")
                .jsonRequest("{\"type\":\"card\",\"type\":\"bank\"}").build());
        assertEquals(ValueFields.ABSENT, repeated.parts().getValueFields().get("$.type"));
        assertEquals(malformed.id(), repeated.id());
    }

    @Test
    void shouldRejectMalformedValueField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ValueFields.parse(List.of("POST /payments type")));
        assertTrue(e.getMessage().contains("'POST /payments type' is not ROUTE=$.path"), e.getMessage());
    }

    @Test
    void shouldKeepTheRawNameOfAFormOrQueryFieldWithAMalformedEscape() {
        byte[] form = "discount=50%&na%zzme=x&a%20b=1".getBytes(StandardCharsets.UTF_8);
        assertEquals("form{a b,discount,na%zzme}", Shapes.bodyShape(form, "application/x-www-form-urlencoded", null, false));
        assertEquals(List.of("#%", "q"), Shapes.queryNames("q=1&50%=x"));
    }

    @Test
    void shouldReadIndexesAndIdsInQueryAndFormNamesAsTheirKind() {
        // lists and nested forms as qs, PHP and Rails write them: one signature whatever the length or the keys
        assertEquals(List.of("\"ids[#]\"", "page"), Shapes.queryNames("ids%5B0%5D=7&ids%5B1%5D=9&page=2"));
        assertEquals(Shapes.queryNames("ids[0]=1"), Shapes.queryNames("ids[0]=1&ids[1]=2&ids[2]=3"));
        byte[] a = "order[items][1700000000123][qty]=1&order[note]=x".getBytes(StandardCharsets.UTF_8);
        byte[] b = "order[items][1700000000999][qty]=2&order[items][1700000001000][qty]=1&order[note]=y".getBytes(StandardCharsets.UTF_8);
        assertEquals(Shapes.bodyShape(a, "application/x-www-form-urlencoded", null, false),
                Shapes.bodyShape(b, "application/x-www-form-urlencoded", null, false));
    }

    @Test
    void shouldReadShapeThroughGzipEncoding() throws IOException {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write("{\"id\":1,\"name\":\"x\"}".getBytes(StandardCharsets.UTF_8));
        }
        byte[] compressed = gz.toByteArray();
        assertEquals("{id:number,name:string}", Shapes.bodyShape(compressed, "application/json", "gzip", false));
        assertEquals("encoded:br", Shapes.bodyShape(compressed, "application/json", "br", false));
        assertEquals("json:truncated", Shapes.bodyShape("{\"id\":1,\"na".getBytes(StandardCharsets.UTF_8),
                "application/json", null, true));
        assertEquals("text/html", Shapes.bodyShape("<p>hi</p>".getBytes(StandardCharsets.UTF_8), "text/html; charset=utf-8",
                null, false));
    }

    @Test
    void shouldShapeABodyThatDecompressesBeyondTheDecodeCapAsTruncatedNotInvalid() throws IOException {
        StringBuilder json = new StringBuilder("[");
        while (json.length() <= Bodies.MAX_DECODED_BYTES) {
            json.append("{\"id\":1,\"name\":\"x\"},");
        }
        json.append("{\"id\":1,\"name\":\"x\"}]");
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(json.toString().getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(gz.size() < 64 * 1024, "fits a default capture: " + gz.size());
        assertEquals("json:truncated", Shapes.bodyShape(gz.toByteArray(), "application/json", "gzip", false),
                "the capture holds the whole body; decoding it stopped at the cap");
    }

    @Test
    void shouldWriteVersionedCanonicalTextAndDigestIt() {
        Signature s = signer.sign(Interactions.get("/owners/42").json("{\"id\":1}").build());
        assertTrue(s.text().startsWith("tapline-signature v1\nservice petclinic\nmethod GET\nroute /owners/{id}\n"),
                s.text());
        assertEquals(Signer.digest(s.text()), s.id());
        assertEquals(32, s.id().length());
        assertEquals("GET /owners/{id}", s.route());
    }
}
