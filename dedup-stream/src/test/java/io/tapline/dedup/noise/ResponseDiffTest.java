package io.tapline.dedup.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.avro.Header;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.OutboundCall;
import io.tapline.json.StrictJson;
import io.tapline.dedup.testing.Interactions;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResponseDiffTest {

    private static HttpResponse json(String body, Header... headers) {
        return HttpResponse.newBuilder().setStatus(200).setHeaders(List.of(headers))
                .setBody(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8))).setContentType("application/json")
                .build();
    }

    @Test
    void shouldCompareHeadersJsonPathsAndKeepTheBaselineCompact() {
        ResponseFields a = ResponseDiff.fields(json("{\"id\":7,\"items\":[{\"at\":1},{\"at\":2}]}", new Header("Date", "Mon")));
        ResponseFields b = ResponseDiff.fields(json("{\"id\":7,\"items\":[{\"at\":1},{\"at\":3}],\"extra\":true}",
                new Header("Date", "Tue")));
        ResponseDiff.Outcome outcome = ResponseDiff.compare(a, b);
        assertEquals(List.of("$.extra", "$.id", "$.items", "$.items[*]", "$.items[*].at", "header:date"),
                outcome.compared());
        assertEquals(List.of("$.extra", "$.items[*].at", "header:date"), outcome.differing());
        ResponseFields back = ResponseFields.decode(ResponseFields.encode(b));
        assertEquals(b, back);
        assertEquals(List.of(), ResponseDiff.compare(b, back).differing());
    }

    @Test
    void shouldTakeAMapKeyedByIdAsOneFieldWhateverItsIds() {
        ResponseFields a = ResponseDiff.fields(json("{\"bySku\":{\"1017\":{\"qty\":1},\"1018\":{\"qty\":2}},\"n\":2}"));
        ResponseFields sameInOtherOrder = ResponseDiff.fields(
                json("{\"n\":2,\"bySku\":{\"1018\":{\"qty\":2},\"1017\":{\"qty\":1}}}"));
        assertEquals(List.of("$.bySku", "$.bySku.{id}", "$.bySku.{id}.qty", "$.n"), List.copyOf(a.digests().keySet()));
        assertEquals(List.of(), ResponseDiff.compare(a, sameInOtherOrder).differing(), "members are taken in key order");

        ResponseFields otherQty = ResponseDiff.fields(json("{\"bySku\":{\"1017\":{\"qty\":1},\"1018\":{\"qty\":3}},\"n\":2}"));
        assertEquals(List.of("$.bySku.{id}.qty"), ResponseDiff.compare(a, otherQty).differing());
        ResponseFields otherIds = ResponseDiff.fields(json("{\"bySku\":{\"2017\":{\"qty\":1},\"2018\":{\"qty\":2}},\"n\":2}"));
        assertEquals(List.of("$.bySku.{id}"), ResponseDiff.compare(a, otherIds).differing(), "the ids are the map's field");

        ResponseFields words = ResponseDiff.fields(json("{\"address1\":\"a\",\"address2\":\"b\",\"2024-05-01\":3}"));
        assertEquals(List.of("$.address1", "$.address2", "$.{date}"), List.copyOf(words.digests().keySet()),
                "only keys that look like ids are generalised");

        // the capture redacted a map keyed by email: its keys are tokens, one kind whatever they stood for
        ResponseFields redacted = ResponseDiff.fields(json("{\"byUser\":{\"tapline:hmac:cba36a5aed83a187\":{\"visits\":3},"
                + "\"tapline:hmac:abcdefabcdefabcd\":{\"visits\":1}}}"));
        assertEquals(List.of("$.byUser", "$.byUser.{token}", "$.byUser.{token}.visits"),
                List.copyOf(redacted.digests().keySet()));
    }

    @Test
    void shouldWriteInBracketsAKeyThatWouldReadAsAWildcardAPlaceholderOrAnIndex() {
        // the replay worker reads "$.*" as every member, "$.{id}" as every numeric key and "$.a[0]" as an index of "a":
        // such a key, learned as noise, made it ignore its neighbours too (and a key holding a bracket, never itself)
        ResponseFields f = ResponseDiff.fields(json("{\"*\":{\"t\":1},\"{id}\":2,\"a[0]\":3,\"it's\":4,"
                + "\"b]\":{\"c'[d\\\\e\":5},\"\":6,\"v1.2\":7,\"a\":[8]}"));
        assertEquals(List.of("$.", "$.a", "$.a[*]", "$.it's", "$.v1.2", "$['*']", "$['*'].t", "$['a[0]']", "$['b]']",
                "$['b]']['c\\'[d\\\\e']", "$['{id}']"), List.copyOf(f.digests().keySet()));
    }

    @Test
    void shouldLeaveOutPathsTooLongToStore() {
        String key = "k".repeat(ResponseDiff.MAX_PATH_CHARS + 1);
        ResponseFields f = ResponseDiff.fields(json("{\"" + key + "\":1,\"id\":2}"));
        assertEquals(List.of("$.id"), List.copyOf(f.digests().keySet()));
        assertEquals(f, ResponseFields.decode(ResponseFields.encode(f)), "every kept path can be stored");
    }

    private static final HttpResponse OK = json("{\"ok\":true}");

    private static io.tapline.avro.HttpRequest me(String authority, Header... headers) {
        return io.tapline.avro.HttpRequest.newBuilder().setMethod("GET").setScheme("http").setAuthority(authority)
                .setPath("/me").setHeaders(List.of(headers)).build();
    }

    @Test
    void shouldTellRequestsApartByEveryHeaderButThePerRequestOnes() {
        long base = ResponseDiff.requestFingerprint(me("shop", new Header("X-Auth-Token", "tok-ann"),
                new Header("traceparent", "00-aa-01"), new Header("X-Request-Id", "r1")));
        // the same caller, another trace and request id: the same request
        assertEquals(base, ResponseDiff.requestFingerprint(me("shop", new Header("x-auth-token", "tok-ann"),
                new Header("traceparent", "00-bb-01"), new Header("X-Request-Id", "r2"))));
        // another caller by a header of any name, or another tenant's host: not the same request
        assertTrue(base != ResponseDiff.requestFingerprint(me("shop", new Header("X-Auth-Token", "tok-bob"),
                new Header("traceparent", "00-aa-01"), new Header("X-Request-Id", "r1"))));
        assertTrue(base != ResponseDiff.requestFingerprint(me("acme.shop", new Header("X-Auth-Token", "tok-ann"),
                new Header("traceparent", "00-aa-01"), new Header("X-Request-Id", "r1"))));
    }

    @Test
    void shouldTakeABodyHoldingANumberNoDecimalHoldsAsNotJson() {
        // valid JSON whose scale does not fit a BigDecimal: Jackson threw NumberFormatException, not a parse error, and
        // the processor failed on that interaction at every retry; the replay worker compares such a body as text
        ResponseFields f = ResponseDiff.fields(json("{\"n\":1e-2147483648}"));
        assertEquals(List.of("body"), List.copyOf(f.digests().keySet()));
    }

    @Test
    void shouldNameAJsonBodyThatIsOneValueByTheRootPathAsTheReplayWorkerDoes() {
        // a bare token or timestamp: the replay worker compares it as JSON and names its change "$", not "body"
        ResponseDiff.Outcome outcome = ResponseDiff.compare(ResponseDiff.fields(json("\"tok-1\"")),
                ResponseDiff.fields(json("\"tok-2\"")));
        assertEquals(List.of("$"), outcome.differing());
        assertEquals(List.of(), ResponseDiff.compare(ResponseDiff.fields(json("\"caf\\u00e9\"")),
                ResponseDiff.fields(json("\"caf" + (char) 0xE9 + "\""))).differing(), "one value, written two ways");
        // a body of another type that reads as a JSON value stays one field "body"
        HttpResponse text = json("1700000000");
        text.setContentType("text/plain");
        assertEquals(List.of("body"), List.copyOf(ResponseDiff.fields(text).digests().keySet()));
        // and so for what the app sends a dependency
        List<OutboundCall> first = Interactions.request("POST", "/checkout")
                .call("POST", "tokens", "/issue", "application/json", "\"n-1\"", 200).build().getOutboundCalls();
        List<OutboundCall> second = Interactions.request("POST", "/checkout")
                .call("POST", "tokens", "/issue", "application/json", "\"n-2\"", 200).build().getOutboundCalls();
        assertEquals(List.of("call:POST tokens /issue $"), ResponseDiff.compare(ResponseDiff.fields(json("{}"), first),
                ResponseDiff.fields(json("{}"), second)).differing());
    }

    private static HttpResponse typed(String contentType, String body) {
        HttpResponse r = json(body);
        r.setContentType(contentType);
        return r;
    }

    private static List<String> differing(HttpResponse a, HttpResponse b) {
        return ResponseDiff.compare(ResponseDiff.fields(a), ResponseDiff.fields(b)).differing();
    }

    @Test
    void shouldNameBodyWhatTheReplayWorkerDoesNotReadAsJson() {
        // the replay worker reads JSON strictly and compares a body that is not JSON so read as text, naming it "body";
        // read leniently here, such bodies were learned under paths it never names, or not at all
        assertEquals(List.of("body"), differing(json("{\"ts\":1}x"), json("{\"ts\":2}x")), "content after the value");
        assertEquals(List.of("body"), differing(json("{\"ts\":1}{\"ts\":9}"), json("{\"ts\":2}{\"ts\":9}")),
                "a body written twice");
        assertEquals(List.of("body"), differing(json("{\"ts\":1,\"ts\":3}"), json("{\"ts\":2,\"ts\":3}")),
                "a key repeated in one object, its first value changed");
        String deep = "[".repeat(StrictJson.MAX_NESTING_DEPTH + 1) + "%d" + "]".repeat(StrictJson.MAX_NESTING_DEPTH + 1);
        assertEquals(List.of("body"), differing(json(deep.formatted(1)), json(deep.formatted(2))), "nested too deep");
        for (String notJson : List.of("{/*c*/\"ts\":%d}", "{'ts':%d}", "{ts:%d}", "{\"ts\":%d,}", "{\"ts\":0%d}")) {
            assertEquals(List.of("body"), differing(json(notJson.formatted(1)), json(notJson.formatted(2))), notJson);
        }
        // what both read alike: a byte order mark, and a body of whitespace only, which holds no value, as an empty one
        assertEquals(List.of("$.ts"), differing(json((char) 0xFEFF + "{\"ts\":1}"), json((char) 0xFEFF + "{\"ts\":2}")));
        assertEquals(List.of(), List.copyOf(ResponseDiff.fields(json(" \r\n")).digests().keySet()));
        assertEquals(List.of(), differing(json(" \n"), json("\r\n")));
    }

    @Test
    void shouldCompareABodyInTheKindItsContentTypeMakesItToTheReplayWorker() {
        // text/plain holding an object is compared as text by the replay worker: "body", not "$.ts"
        assertEquals(List.of("body"), differing(typed("text/plain", "{\"ts\":1}"), typed("text/plain", "{\"ts\":2}")));
        assertEquals(List.of("body"), differing(typed("application/x-json", "{\"ts\":1}"),
                typed("application/x-json", "{\"ts\":2}")));
        assertEquals(List.of("$.ts"), differing(typed("text/json", "{\"ts\":1}"), typed("text/json", "{\"ts\":2}")));
        assertEquals(List.of("$.ts"), differing(typed("application/problem+json; charset=utf-8", "{\"ts\":1}"),
                typed("application/problem+json; charset=utf-8", "{\"ts\":2}")));
        assertEquals(List.of("$.ts"), differing(typed(null, "\n{\"ts\":1}"), typed(null, "\n{\"ts\":2}")),
                "without a type, an object or array is JSON");
        // a form answer is compared field by field there
        HttpResponse a = typed("application/x-www-form-urlencoded", "access_token=t1&scope=read");
        HttpResponse b = typed("application/x-www-form-urlencoded", "scope=read&access_token=t2");
        assertEquals(List.of("form:access_token", "form:scope"), List.copyOf(ResponseDiff.fields(a).digests().keySet()));
        assertEquals(List.of("form:access_token"), differing(a, b));
    }

    private static List<String> differingValues(String a, String b) {
        return differing(json("{\"n\":" + a + "}"), json("{\"n\":" + b + "}"));
    }

    @Test
    void shouldCallAValueChangedExactlyWhenTheReplayWorkerFindsItChanged() {
        // numbers by their decimal value, as the replay worker compares them (its default, no tolerance): read as
        // doubles, 1 and 1.0 differed and 12345678901234567.89 and ...88 were one value
        for (String[] same : new String[][] {{"1", "1.0"}, {"1", "1e0"}, {"100", "1E2"}, {"0.1", "1e-1"}, {"-0", "0"},
                {"-0.0", "0"}, {"0.00", "0e5"}, {"2.50", "2.5"}, {"1e400", "10e399"}, {"\"\\u00e9\"", "\"\u00e9\""}}) {
            assertEquals(List.of(), differingValues(same[0], same[1]), same[0] + " and " + same[1]);
        }
        for (String[] other : new String[][] {{"9007199254740993", "9007199254740992"},
                {"9007199254740993.0", "9007199254740992.0"}, {"12345678901234567.89", "12345678901234567.88"},
                {"1e400", "2e400"}, {"1e-400", "2e-400"}, {"1e999999999", "1e999999998"}, {"0.1", "0.10000000000000001"},
                {"\"x\\ud83d\"", "\"x\\ud83e\""}, {"\"x\\ud83d\"", "\"x?\""},
                {"\"1\"", "1"}, {"\"null\"", "null"}, {"\"true\"", "true"}, {"\"[]\"", "[]"}, {"null", "{}"}}) {
            assertEquals(List.of("$.n"), differingValues(other[0], other[1]), other[0] + " and " + other[1]);
        }
        // a value nested below the depth flattened to paths is compared whole: its members in any order, its
        // numbers by value, as there
        String deep = "{\"a\":".repeat(13) + "%s" + "}".repeat(13);
        ResponseFields a = ResponseDiff.fields(json(deep.formatted("{\"x\":1,\"y\":[\"2\"]}")));
        assertEquals(List.of(), ResponseDiff.compare(a,
                ResponseDiff.fields(json(deep.formatted("{\"y\":[\"2\"],\"x\":1.0}")))).differing());
        assertEquals(List.of("$" + ".a".repeat(13)), ResponseDiff.compare(a,
                ResponseDiff.fields(json(deep.formatted("{\"x\":1,\"y\":[2]}")))).differing());
    }

    @Test
    void shouldNameAMemberOrElementOneAnswerLacksAsTheReplayWorkerDoes() {
        // the replay worker names a member one answer lacks by the member, and an element past the other's end by its
        // index: noise learned for the fields inside them only ($.error.code, $.events[*].id) did not apply there
        assertEquals(List.of("$.error", "$.error.code"),
                differing(json("{\"id\":1,\"error\":{\"code\":7}}"), json("{\"id\":1}")));
        assertEquals(List.of("$.meta"), differing(json("{\"id\":1,\"meta\":{}}"), json("{\"id\":1}")),
                "an empty object too");
        assertEquals(List.of("$.tags"), differing(json("{\"tags\":[]}"), json("{}")));
        assertEquals(List.of("$.events[*]", "$.events[*].id"),
                differing(json("{\"events\":[]}"), json("{\"events\":[{\"id\":1}]}")));
        assertEquals(List.of("$.events[*]", "$.events[*].id"), differing(json("{\"events\":[{\"id\":1}]}"),
                json("{\"events\":[{\"id\":1},{\"id\":1}]}")), "one more element, each like the first");
        assertEquals(List.of("$[*]", "$[*].id"), differing(json("[{\"id\":1},{\"id\":1}]"), json("[{\"id\":1}]")),
                "an array at the root too");
        assertEquals(List.of("$.n", "$.n.x", "$.n[*]"), differing(json("{\"n\":{\"x\":1}}"), json("{\"n\":[1]}")),
                "an object become an array");
        assertEquals(List.of("$.n", "$.n.x"), differing(json("{\"n\":{\"x\":1}}"), json("{\"n\":null}")));
        // a member at another element, or another member of a map by id, is where the replay worker finds a difference
        assertEquals(List.of("$.x[*].b"), differing(json("{\"x\":[{\"a\":1},{\"a\":2,\"b\":3}]}"),
                json("{\"x\":[{\"a\":1,\"b\":3},{\"a\":2}]}")));
        assertEquals(List.of("$.m.{id}.b"), differing(json("{\"m\":{\"1\":{\"a\":1},\"2\":{\"a\":2,\"b\":3}}}"),
                json("{\"m\":{\"1\":{\"a\":1,\"b\":3},\"2\":{\"a\":2}}}")));
        assertEquals(List.of("$.x[*][*]"), differing(json("{\"x\":[[1],[2,3]]}"), json("{\"x\":[[1,2],[3]]}")));
        // the same content is no difference: a member's kind differs only where the replay worker finds a difference
        assertEquals(List.of(), differing(json("{\"a\":{\"b\":[{\"c\":[]}]},\"m\":{}}"),
                json("{\"m\":{},\"a\":{\"b\":[{\"c\":[]}]}}")));
    }

    private static HttpResponse bytes(String contentType, byte[] body) {
        HttpResponse r = typed(contentType, "");
        r.setBody(ByteBuffer.wrap(body));
        return r;
    }

    @Test
    void shouldCompareATextBodyAsTheReplayWorkerDoesNormalisedInItsCharset() {
        // line endings and trailing whitespace are no difference there: as bytes, "body" differed and could be learned
        assertEquals(List.of(), differing(typed("text/plain", "ok\r\nbye \r\n"), typed("text/plain", "ok\nbye")));
        assertEquals(List.of(), differing(typed("application/xml", "<a/>\n"), typed("application/xml", "<a/>")));
        assertEquals(List.of(), differing(typed(null, "plain words\r\n"), typed(null, "plain words\n")));
        assertEquals(List.of(), differing(json("{\"ts\":1}x\r\n"), json("{\"ts\":1}x\n")),
                "a JSON-typed body that is not JSON is compared as text");
        // the same text in another charset is the same text
        assertEquals(List.of(), differing(bytes("text/plain; charset=ISO-8859-1", new byte[] {'c', 'a', 'f', (byte) 0xE9}),
                bytes("text/plain; charset=\"utf-8\"", new byte[] {'c', 'a', 'f', (byte) 0xC3, (byte) 0xA9})));
        // leading whitespace, a changed word, text not valid in its charset, and anything not text still differ
        assertEquals(List.of("body"), differing(typed("text/plain", " ok"), typed("text/plain", "ok")));
        assertEquals(List.of("body"), differing(typed("text/plain", "ok"), typed("text/plain", "OK")));
        assertEquals(List.of("body"), differing(bytes("text/plain", new byte[] {'c', 'a', 'f', (byte) 0xE9}),
                bytes("text/plain; charset=ISO-8859-1", new byte[] {'c', 'a', 'f', (byte) 0xE9})));
        assertEquals(List.of("body"), differing(typed("application/octet-stream", "ok\r\n"),
                typed("application/octet-stream", "ok\n")));
        assertEquals(List.of("body"), differing(typed(null, "ok" + (char) 1 + "\r\n"),
                typed(null, "ok" + (char) 1 + "\n")), "a control character makes it not text");
        // and so for what the app sends a dependency
        List<OutboundCall> crlf = Interactions.request("POST", "/mail")
                .call("POST", "smtp-api", "/send", "text/plain", "Hello\r\n", 200).build().getOutboundCalls();
        List<OutboundCall> lf = Interactions.request("POST", "/mail")
                .call("POST", "smtp-api", "/send", "text/plain", "Hello\n", 200).build().getOutboundCalls();
        assertEquals(List.of(), ResponseDiff.compare(ResponseDiff.fields(json("{}"), crlf),
                ResponseDiff.fields(json("{}"), lf)).differing());
    }

    @Test
    void shouldLeaveOutResponseBodiesTheCaptureTruncated() {
        // two answers cut at the capture cap, differing in a timestamp inside the kept prefix
        HttpResponse a = json("{\"at\":\"10:00:01\",\"items\":[{\"id\":1},{\"id\"");
        HttpResponse b = json("{\"at\":\"10:00:02\",\"items\":[{\"id\":1},{\"id\"");
        a.setTruncated(true);
        b.setTruncated(true);
        ResponseDiff.Outcome outcome = ResponseDiff.compare(ResponseDiff.fields(a), ResponseDiff.fields(b));
        assertEquals(List.of(), outcome.differing(), "no field \"body\" to learn as noise");
        assertFalse(outcome.compared().contains("body"));
        // not truncated, the same prefix is one field "body" as before
        assertEquals(List.of("body"), ResponseDiff.compare(ResponseDiff.fields(json("{\"at\":\"10:00:01\"")),
                ResponseDiff.fields(json("{\"at\":\"10:00:02\""))).differing());
    }


    @Test
    void shouldCompareTheRequestBodiesSentToDependenciesByCallAndPath() {
        List<OutboundCall> first = Interactions.request("POST", "/checkout")
                .call("POST", "Payments", "/charges", "application/json", "{\"amount\":500,\"key\":\"k-1\"}", 200)
                .call("POST", "mailer", "/send", "application/x-www-form-urlencoded", "to=a%40b.c&nonce=n1", 202)
                .call("PUT", "audit", "/events/17", "text/plain", "checkout at 10:00", 204)
                .call("GET", "inventory", "/items/4", 200)
                .build().getOutboundCalls();
        List<OutboundCall> second = Interactions.request("POST", "/checkout")
                .call("POST", "Payments", "/charges", "application/json", "{\"key\":\"k-2\",\"amount\":500}", 200)
                .call("POST", "mailer", "/send", "application/x-www-form-urlencoded", "nonce=n2&to=a%40b.c", 202)
                .call("PUT", "audit", "/events/18", "text/plain", "checkout at 10:01", 204)
                .call("GET", "inventory", "/items/4", 200)
                .build().getOutboundCalls();
        ResponseDiff.Outcome outcome = ResponseDiff.compare(ResponseDiff.fields(OK, first), ResponseDiff.fields(OK, second));
        assertEquals(List.of("$.ok",
                "call:POST mailer /send form:nonce",
                "call:POST mailer /send form:to",
                "call:POST payments /charges $.amount",
                "call:POST payments /charges $.key",
                "call:PUT audit /events/{id} body"), outcome.compared(), "a GET without a body adds nothing");
        assertEquals(List.of("call:POST mailer /send form:nonce", "call:POST payments /charges $.key",
                "call:PUT audit /events/{id} body"), outcome.differing());
    }

    @Test
    void shouldJoinAHeadersValuesAsTheReplayWorkerDoes() {
        // the replay worker compares a name's values joined by ", ": one header "a, b" is two headers "a" and "b"
        ResponseFields two = ResponseDiff.fields(json("{}", new Header("Vary", "Accept"), new Header("vary", "Origin")));
        ResponseFields one = ResponseDiff.fields(json("{}", new Header("Vary", "Accept, Origin")));
        assertEquals(List.of(), ResponseDiff.compare(two, one).differing());
        ResponseFields otherOrder = ResponseDiff.fields(json("{}", new Header("Vary", "Origin"), new Header("Vary", "Accept")));
        assertEquals(List.of("header:vary"), ResponseDiff.compare(two, otherOrder).differing());
        List<OutboundCall> first = Interactions.request("POST", "/checkout").call("GET", "rates", "/usd", 200)
                .build().getOutboundCalls();
        List<OutboundCall> second = Interactions.request("POST", "/checkout").call("GET", "rates", "/usd", 200)
                .build().getOutboundCalls();
        first.get(0).getRequest().setHeaders(List.of(new Header("Accept", "application/json"), new Header("Accept", "*/*")));
        second.get(0).getRequest().setHeaders(List.of(new Header("Accept", "application/json, */*")));
        assertEquals(List.of(), ResponseDiff.compare(ResponseDiff.fields(OK, first), ResponseDiff.fields(OK, second))
                .differing());
    }

    @Test
    void shouldCompareTheRequestHeadersSentToDependenciesButNotThoseOfTheConnectionOrTrace() {
        List<OutboundCall> first = Interactions.request("POST", "/checkout").call("GET", "rates", "/usd", 200)
                .build().getOutboundCalls();
        List<OutboundCall> second = Interactions.request("POST", "/checkout").call("GET", "rates", "/usd", 200)
                .build().getOutboundCalls();
        first.get(0).getRequest().setHeaders(List.of(new Header("Host", "127.0.0.1:15001"),
                new Header("traceparent", "00-aaaa-01"), new Header("Accept", "application/json"),
                new Header("Idempotency-Key", "k-1")));
        second.get(0).getRequest().setHeaders(List.of(new Header("Host", "127.0.0.1:15002"),
                new Header("traceparent", "00-bbbb-01"), new Header("Accept", "application/json"),
                new Header("Idempotency-Key", "k-2")));
        ResponseDiff.Outcome outcome = ResponseDiff.compare(ResponseDiff.fields(OK, first), ResponseDiff.fields(OK, second));
        assertEquals(List.of("$.ok", "call:GET rates /usd header:accept", "call:GET rates /usd header:idempotency-key"),
                outcome.compared());
        assertEquals(List.of("call:GET rates /usd header:idempotency-key"), outcome.differing());
    }

    @Test
    void shouldNotCountTheOrderOfConcurrentCallsAsADifference() {
        List<OutboundCall> first = Interactions.request("POST", "/batch")
                .call("POST", "stock", "/reserve", "application/json", "{\"sku\":\"a\"}", 200)
                .call("POST", "stock", "/reserve", "application/json", "{\"sku\":\"b\"}", 200)
                .build().getOutboundCalls();
        List<OutboundCall> second = Interactions.request("POST", "/batch")
                .call("POST", "stock", "/reserve", "application/json", "{\"sku\":\"b\"}", 200)
                .call("POST", "stock", "/reserve", "application/json", "{\"sku\":\"a\"}", 200)
                .build().getOutboundCalls();
        ResponseDiff.Outcome outcome = ResponseDiff.compare(ResponseDiff.fields(OK, first), ResponseDiff.fields(OK, second));
        assertEquals(List.of("$.ok", "call:POST stock /reserve $.sku"), outcome.compared());
        assertEquals(List.of(), outcome.differing());
    }

    @Test
    void shouldLeaveOutRequestBodiesTheCaptureTruncated() {
        Interactions builder = Interactions.request("POST", "/upload")
                .call("POST", "store", "/blobs", "application/json", "{\"part\":1", 200);
        List<OutboundCall> calls = builder.build().getOutboundCalls();
        calls.get(0).getRequest().setTruncated(true);
        assertEquals(List.of("$.ok"), List.copyOf(ResponseDiff.fields(OK, calls).digests().keySet()));
    }

    @Test
    void shouldNotCompareCallFieldsWithABaselineStoredWithoutThem() throws IOException {
        List<OutboundCall> calls = Interactions.request("POST", "/checkout")
                .call("POST", "payments", "/charges", "application/json", "{\"key\":\"k-1\"}", 200)
                .build().getOutboundCalls();
        ResponseFields current = ResponseDiff.fields(OK, calls);
        assertTrue(current.callsCompared());
        assertEquals(current, ResponseFields.decode(ResponseFields.encode(current)));
        // A baseline of the version before: format 1, the response's fields only.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(1);
            out.writeInt(1);
            out.writeUTF("$.ok");
            out.writeLong(current.digests().get("$.ok"));
        }
        ResponseFields stored = ResponseFields.decode(bytes.toByteArray());
        assertFalse(stored.callsCompared());
        ResponseDiff.Outcome outcome = ResponseDiff.compare(stored, current);
        assertEquals(List.of("$.ok"), outcome.compared(), "the call's fields are not counted as appearing once");
        assertEquals(List.of(), outcome.differing());
    }

    @Test
    void shouldTellAListInAnotherOrderFromChangedValuesAsTheReplayWorkerIgnoringArrayOrderDoes() {
        // The same items in another order (a list built from a hash map): every field inside them differs in order,
        // none with array order ignored (--compare-array-order ignore reports no difference there).
        ResponseFields a = ResponseDiff.fields(json("{\"items\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\",\"qty\":2}]}"));
        ResponseFields reordered = ResponseDiff.fields(
                json("{\"items\":[{\"qty\":2,\"sku\":\"b\"},{\"sku\":\"a\",\"qty\":1}]}"));
        ResponseDiff.Outcome outcome = ResponseDiff.compare(a, reordered);
        assertEquals(List.of("$.items[*].qty", "$.items[*].sku"), outcome.differing());
        assertEquals(List.of(), outcome.differingInAnyOrder());

        // A value generated per answer differs in any order; the values beside it do not.
        ResponseFields stamped = ResponseDiff.fields(json("{\"items\":[{\"sku\":\"a\",\"at\":1},{\"sku\":\"b\",\"at\":1}]}"));
        ResponseFields restamped = ResponseDiff.fields(
                json("{\"items\":[{\"sku\":\"b\",\"at\":2},{\"sku\":\"a\",\"at\":2}]}"));
        outcome = ResponseDiff.compare(stamped, restamped);
        assertEquals(List.of("$.items[*].at", "$.items[*].sku"), outcome.differing());
        assertEquals(List.of("$.items[*].at"), outcome.differingInAnyOrder());

        // An element more is a difference in any order too; a map keyed by id is compared by key in either
        ResponseFields longer = ResponseDiff.fields(json("{\"items\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\",\"qty\":2},"
                + "{\"sku\":\"b\",\"qty\":2}]}"));
        assertEquals(List.of("$.items[*]", "$.items[*].qty", "$.items[*].sku"),
                ResponseDiff.compare(a, longer).differingInAnyOrder());
        ResponseFields byId = ResponseDiff.fields(json("{\"bySku\":{\"1017\":{\"qty\":1},\"1018\":{\"qty\":2}}}"));
        ResponseFields swapped = ResponseDiff.fields(json("{\"bySku\":{\"1017\":{\"qty\":2},\"1018\":{\"qty\":1}}}"));
        assertEquals(List.of("$.bySku.{id}.qty"), ResponseDiff.compare(byId, swapped).differingInAnyOrder());

        // Kept in the baseline; one stored before (no digests in any order) counts every difference in any order.
        assertEquals(reordered, ResponseFields.decode(ResponseFields.encode(reordered)));
        ResponseFields stored = new ResponseFields(a.digests(), true);
        assertEquals(List.of("$.items[*].qty", "$.items[*].sku"), ResponseDiff.compare(stored, reordered).differingInAnyOrder());
    }

    private static java.util.Map<String, Double> spreads(String a, String b) {
        return ResponseDiff.compare(ResponseDiff.fields(json(a)), ResponseDiff.fields(json(b))).numericSpreads();
    }

    @Test
    void shouldMeasureHowFarANumberVariedAsTheReplayWorkersToleranceDoes() {
        // The largest |a - b| at one position, by exact decimal value (as doubles, 10.000002 - 10.000001 is
        // 9.999999974752427E-7).
        assertEquals(java.util.Map.of("$.total", 1.0E-6), spreads("{\"total\":10.000001}", "{\"total\":10.000002}"));
        assertEquals(java.util.Map.of("$.items[*].p", 0.5, "$.n", 3.0),
                spreads("{\"n\":1,\"items\":[{\"p\":1.0},{\"p\":2}]}", "{\"n\":-2,\"items\":[{\"p\":1.5},{\"p\":2.25}]}"));
        // Not a number's variation: a text, a number become null, a value at another element, an element more, and
        // values differing only in order, which pair other numbers at each position (as the replay worker in order).
        assertEquals(java.util.Map.of(), spreads("{\"t\":\"1\",\"u\":1}", "{\"t\":\"2\",\"u\":null}"));
        assertEquals(java.util.Map.of(), spreads("[{\"a\":1},{\"b\":2}]", "[{\"b\":2.5},{\"a\":1}]"));
        assertEquals(java.util.Map.of(), spreads("{\"r\":[1.5,2.5]}", "{\"r\":[1.5,2.5,3.5]}"));
        assertEquals(java.util.Map.of("$.r[*]", 1.0), spreads("{\"r\":[1.5,2.5]}", "{\"r\":[2.5,1.5]}"));
        // A map by id pairs its members by key order, as the replay worker by key.
        assertEquals(java.util.Map.of("$.bySku.{id}.qty", 0.25),
                spreads("{\"bySku\":{\"1017\":{\"qty\":1},\"1018\":{\"qty\":2}}}",
                        "{\"bySku\":{\"1018\":{\"qty\":2.25},\"1017\":{\"qty\":1}}}"));
        // Numbers are only those of a JSON body: a header or a form field that reads as one is text to the replay
        // worker.
        ResponseDiff.Outcome headers = ResponseDiff.compare(ResponseDiff.fields(json("{}", new Header("X-Count", "1"))),
                ResponseDiff.fields(json("{}", new Header("X-Count", "2"))));
        assertEquals(List.of("header:x-count"), headers.differing());
        assertEquals(java.util.Map.of(), headers.numericSpreads());
        // ... and the requests sent to dependencies, whose JSON bodies the mocks compare under the tolerance too.
        List<OutboundCall> first = Interactions.request("POST", "/checkout")
                .call("POST", "payments", "/charges", "application/json", "{\"amount\":10.000001}", 200)
                .build().getOutboundCalls();
        List<OutboundCall> second = Interactions.request("POST", "/checkout")
                .call("POST", "payments", "/charges", "application/json", "{\"amount\":10.000002}", 200)
                .build().getOutboundCalls();
        assertEquals(java.util.Map.of("call:POST payments /charges $.amount", 1.0E-6),
                ResponseDiff.compare(ResponseDiff.fields(OK, first), ResponseDiff.fields(OK, second)).numericSpreads());
    }

    @Test
    void shouldWriteASpreadAsTheDoubleThatComparesWithAToleranceAsTheExactDifferenceDoes() {
        // The double nearest 0.1 is above it: the difference 0.1 is written as that double, which a tolerance of 0.1
        // (the same double) is not below, so a replay under 0.1 compares the field, as it would report no such change.
        assertEquals(0.1, ResponseDiff.roundedUp(new java.math.BigDecimal("0.1")));
        // A difference above 0.1 by less than the doubles tell apart is written as the next double: beyond a
        // tolerance of 0.1, as it is for JsonUnit (|a - b| = 0.10000000000000000001 > 0.1).
        assertEquals(Math.nextUp(0.1), ResponseDiff.roundedUp(new java.math.BigDecimal("0.10000000000000000001")));
        assertEquals(0.3, ResponseDiff.roundedUp(new java.math.BigDecimal("0.3")), "the double nearest 0.3 is below it");
        for (String exact : List.of("0.000001", "2.5", "1234567.891", "0.30000000000000004", "99999999999999999999.99")) {
            java.math.BigDecimal e = new java.math.BigDecimal(exact);
            double d = ResponseDiff.roundedUp(e);
            assertTrue(java.math.BigDecimal.valueOf(d).compareTo(e) >= 0, exact);
            assertTrue(java.math.BigDecimal.valueOf(Math.nextDown(d)).compareTo(e) < 0, exact);
        }
    }

    @Test
    void shouldKeepTheNumbersOfAFewFieldsInTheBaseline() throws IOException {
        ResponseFields a = ResponseDiff.fields(json("{\"total\":10.5,\"name\":\"x\",\"items\":[{\"p\":1},{\"p\":2}],"
                + "\"tiny\":1e-60,\"huge\":1e1001,\"mixed\":[1,\"a\"]}", new Header("X-Count", "1")));
        assertEquals(java.util.Map.of("$.items[*].p", List.of("0,1", "1,2"), "$.total", List.of("10.5")), a.numbers(),
                "not text, headers, a number written in over 40 characters or with its exponent, nor a field holding "
                        + "anything else");
        assertEquals(a, ResponseFields.decode(ResponseFields.encode(a)));

        // At most 32 numbers a field, 256 a response: past them a field's variation is not measured.
        StringBuilder many = new StringBuilder("{\"long\":[");
        for (int i = 0; i < 33; i++) {
            many.append(i == 0 ? "" : ",").append(i);
        }
        many.append("]");
        for (int f = 0; f < 10; f++) {
            many.append(",\"f").append(f).append("\":[");
            for (int i = 0; i < 30; i++) {
                many.append(i == 0 ? "" : ",").append(i);
            }
            many.append("]");
        }
        ResponseFields bounded = ResponseDiff.fields(json(many.append("}").toString()));
        assertEquals(List.of("$.f0[*]", "$.f1[*]", "$.f2[*]", "$.f3[*]", "$.f4[*]", "$.f5[*]", "$.f6[*]", "$.f7[*]"),
                List.copyOf(bounded.numbers().keySet()));
        assertEquals(bounded, ResponseFields.decode(ResponseFields.encode(bounded)));

        // A baseline stored by the previous version (no numbers: what encode writes before them) is read without
        // any, so its pair's differences count as not numeric; what this version writes, the previous version
        // reads up to its digests in any order, the last thing it reads.
        byte[] current = ResponseFields.encode(a);
        int numbersBlock = 4 + 2 * (4 + 2) + "0,1".length() + 2 + "1,2".length() + 2 + "10.5".length() + 2;
        ResponseFields previous = ResponseFields.decode(java.util.Arrays.copyOf(current, current.length - numbersBlock));
        assertEquals(a.digests(), previous.digests());
        assertEquals(a.anyOrderDigests(), previous.anyOrderDigests());
        assertEquals(java.util.Map.of(), previous.numbers());
        ResponseFields b = ResponseDiff.fields(json("{\"total\":10.75,\"name\":\"x\",\"items\":[{\"p\":1},{\"p\":2}],"
                + "\"tiny\":1e-60,\"huge\":1e1001,\"mixed\":[1,\"a\"]}", new Header("X-Count", "1")));
        assertEquals(java.util.Map.of("$.total", 0.25), ResponseDiff.compare(a, b).numericSpreads());
        assertEquals(java.util.Map.of(), ResponseDiff.compare(previous, b).numericSpreads());
        assertEquals(List.of("$.total"), ResponseDiff.compare(previous, b).differing());
    }
}
