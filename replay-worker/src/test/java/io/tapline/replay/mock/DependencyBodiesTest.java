package io.tapline.replay.mock;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.Header;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;
import io.tapline.avro.OutboundCall;
import io.tapline.replay.compare.CompareOptions;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.compare.RedactedValues;
import io.tapline.topics.TaplineTopics;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static io.tapline.replay.Fixtures.call;
import static io.tapline.replay.Fixtures.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a candidate sends its dependencies, compared with what production sent them. */
class DependencyBodiesTest {

    private static final String CHARGE = "call:POST payments /charge";

    private static OutboundCall charge(String body) {
        return call("payments", "POST", "/charge", null, body, json(201, "{\"id\":\"ch_1\"}"));
    }

    private static OutboundCall charge(String contentType, String body) {
        OutboundCall c = charge(body);
        c.setRequest(HttpRequest.newBuilder(c.getRequest()).setContentType(contentType).build());
        return c;
    }

    private static MockRequest sent(String contentType, String encoding, byte[] body) {
        return new MockRequest("POST", "payments", "/charge", null, body, null, "", contentType, encoding);
    }

    private static MockRequest sent(String json) {
        return sent("application/json", null, json.getBytes(StandardCharsets.UTF_8));
    }

    private static CaseMocks mocks(List<OutboundCall> recorded, String... ignoreRules) {
        return new CaseMocks("c1", recorded,
                new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.parse(List.of(ignoreRules))));
    }

    private static Difference diff(String path, DifferenceKind kind, String expected, String actual) {
        return Difference.newBuilder().setPath(path).setKind(kind).setExpected(expected).setActual(actual).build();
    }

    @Test
    void aChangedMissingOrExtraJsonValueIsReportedAtItsPathInTheCall() {
        CaseMocks mocks = mocks(List.of(charge("{\"amount\":500,\"currency\":\"usd\",\"capture\":true}")));
        assertTrue(mocks.answer(sent("{\"amount\":600,\"currency\":\"usd\",\"customer\":\"c_9\"}")).matched(),
                "the call is still answered from its recording, so the candidate goes on");
        assertEquals(List.of(
                diff(CHARGE + " $.capture", DifferenceKind.MISSING, "true", null),
                diff(CHARGE + " $.customer", DifferenceKind.EXTRA, null, "\"c_9\""),
                diff(CHARGE + " $.amount", DifferenceKind.CHANGED, "500", "600")), mocks.differences());
        assertEquals(0, mocks.ignoredDifferences());
    }

    @Test
    void theSameJsonInAnotherMemberOrderIsNoDifference() {
        CaseMocks mocks = mocks(List.of(charge("{\"amount\":500,\"currency\":\"usd\"}")));
        mocks.answer(sent("{\"currency\":\"usd\",\"amount\":500}"));
        assertEquals(List.of(), mocks.differences());
        assertEquals(List.of(), mocks.notes());
    }

    @Test
    void aBodyRuleLeavesItsValueOutAndCountsItAsIgnored() {
        CaseMocks mocks = mocks(List.of(charge("{\"amount\":500,\"nonce\":\"n-1\"}")), "payments body:$.nonce");
        mocks.answer(sent("{\"amount\":600,\"nonce\":\"n-2\"}"));
        assertEquals(List.of(diff(CHARGE + " $.amount", DifferenceKind.CHANGED, "500", "600")), mocks.differences());
        assertEquals(1, mocks.ignoredDifferences());
    }

    @Test
    void aWholeBodyRuleForEveryDestinationComparesNoRequestBody() {
        CaseMocks mocks = mocks(List.of(charge("{\"amount\":500,\"nonce\":\"n-1\"}")), "* body:$");
        mocks.answer(sent("{\"amount\":600}"));
        assertEquals(List.of(), mocks.differences());
        assertEquals(2, mocks.ignoredDifferences());
    }

    @Test
    void aBodyRuleLetsTheRestOfTheBodyRankRecordedCalls() {
        OutboundCall five = charge("{\"amount\":500,\"nonce\":\"n-1\"}");
        OutboundCall seven = charge("{\"amount\":700,\"nonce\":\"n-2\"}");
        // Without a rule no recording's body equals the call's (the nonce is fresh): the first recorded answers.
        assertSame(five, mocks(List.of(five, seven)).answer(sent("{\"amount\":700,\"nonce\":\"n-3\"}")).recorded());
        CaseMocks ruled = mocks(List.of(five, seven), "payments body:$.nonce");
        assertSame(seven, ruled.answer(sent("{\"amount\":700,\"nonce\":\"n-3\"}")).recorded());
        assertSame(five, ruled.answer(sent("{\"amount\":500,\"nonce\":\"n-4\"}")).recorded());
        assertEquals(List.of(), ruled.differences());
        assertEquals(2, ruled.ignoredDifferences());
    }

    /** The noise dedup-stream learned for shop's {@code POST /checkout}: these fields differed in all 40 pairs. */
    private static IgnoreRules checkoutNoise(String... fields) {
        IgnoreRules rules = IgnoreRules.none();
        rules.learn(TaplineTopics.noiseKey("shop", "POST /checkout"), NoiseProfile.newBuilder().setService("shop")
                .setRoute("POST /checkout").setComparedPairs(40).setUpdatedAt(Instant.EPOCH)
                .setFields(Arrays.stream(fields).map(f -> new NoisyField(f, 40L, 40L, true, null, null)).toList()).build());
        return rules;
    }

    @Test
    void valuesLearnedAsNoiseOfTheCaseRouteAreLeftOutAndCountedAsIgnored() {
        IgnoreRules rules = checkoutNoise("$.generatedAt", "call:POST payments /charge $.idempotencyKey",
                "call:POST payments /refunds/{id} $.amount");
        MockMatcher matcher = new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.none());
        String recorded = "{\"amount\":500,\"idempotencyKey\":\"k-1\",\"generatedAt\":\"t1\"}";
        String candidate = "{\"amount\":600,\"idempotencyKey\":\"k-2\",\"generatedAt\":\"t2\"}";

        CaseMocks checkout = new CaseMocks("c1", List.of(charge(recorded)), matcher,
                rules.scope("shop", "POST /checkout"), RedactedValues.UNKEYED);
        checkout.answer(sent(candidate));
        assertEquals(List.of(
                diff(CHARGE + " $.amount", DifferenceKind.CHANGED, "500", "600"),
                diff(CHARGE + " $.generatedAt", DifferenceKind.CHANGED, "\"t1\"", "\"t2\"")),
                checkout.differences(), "only the key is noise, and a response field's noise is not the call's");
        assertEquals(1, checkout.ignoredDifferences());

        CaseMocks otherRoute = new CaseMocks("c2", List.of(charge(recorded)), matcher,
                rules.scope("shop", "POST /orders"), RedactedValues.UNKEYED);
        otherRoute.answer(sent(candidate));
        assertEquals(3, otherRoute.differences().size(), "noise is learned per route: another route's does not apply");
        assertEquals(0, otherRoute.ignoredDifferences());
    }

    @Test
    void learnedNoiseRanksRecordedCallsByTheRestOfTheBody() {
        // Production charged two amounts in one checkout, each with a fresh idempotency key; the candidate does the
        // same, in the other order, with keys of its own.
        IgnoreRules rules = checkoutNoise("call:POST payments /charge $.idempotencyKey");
        MockMatcher matcher = new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.none());
        OutboundCall five = charge("{\"amount\":500,\"idempotencyKey\":\"k-1\"}");
        OutboundCall nine = charge("{\"amount\":900,\"idempotencyKey\":\"k-2\"}");

        CaseMocks learned = new CaseMocks("c1", List.of(five, nine), matcher, rules.scope("shop", "POST /checkout"),
                RedactedValues.UNKEYED);
        MockAnswer first = learned.answer(sent("{\"amount\":900,\"idempotencyKey\":\"k-3\"}"));
        assertSame(nine, first.recorded(), "the recording with the same amount answers, not the first recorded");
        assertEquals(1.0, first.score());
        assertSame(five, learned.answer(sent("{\"amount\":500,\"idempotencyKey\":\"k-4\"}")).recorded());
        assertEquals(List.of(), learned.differences());
        assertEquals(2, learned.ignoredDifferences());
        assertEquals(0, learned.usage().getUnused());

        // without the learned noise both bodies differ, the first recorded answers, and the amounts are reported
        CaseMocks strict = new CaseMocks("c2", List.of(five, nine), matcher);
        assertSame(five, strict.answer(sent("{\"amount\":900,\"idempotencyKey\":\"k-3\"}")).recorded());
        assertTrue(strict.differences().stream().anyMatch(d -> d.getPath().equals(CHARGE + " $.amount")),
                strict.differences()::toString);
    }

    private static OutboundCall chargeWithHeaders(Header... headers) {
        OutboundCall c = charge("{\"amount\":500}");
        c.getRequest().setHeaders(List.of(headers));
        return c;
    }

    private static MockRequest sentWithHeaders(Header... headers) {
        return new MockRequest("POST", "payments", "/charge", null,
                "{\"amount\":500}".getBytes(StandardCharsets.UTF_8), null, "", "application/json", null, List.of(headers));
    }

    @Test
    void requestHeadersAreComparedButNotThoseOfTheConnectionClientOrTrace() {
        OutboundCall recorded = chargeWithHeaders(new Header("Host", "127.0.0.1:15001"), new Header("User-Agent", "shop/1"),
                new Header("traceparent", "00-aa-01"), new Header("Content-Type", "application/json"),
                new Header("Idempotency-Key", "k-1"), new Header("X-Tenant", "acme"));
        MockRequest call = sentWithHeaders(new Header("host", "127.0.0.1:19999"), new Header("user-agent", "shop/2"),
                new Header("traceparent", "00-bb-01"), new Header("content-type", "application/json"),
                new Header("idempotency-key", "k-2"), new Header("x-new", "1"));

        CaseMocks strict = mocks(List.of(recorded));
        assertTrue(strict.answer(call).matched(), "headers never make a call unmatched");
        assertEquals(List.of(
                diff(CHARGE + " header:idempotency-key", DifferenceKind.HEADER, "k-1", "k-2"),
                diff(CHARGE + " header:x-tenant", DifferenceKind.MISSING, "acme", null),
                diff(CHARGE + " header:x-new", DifferenceKind.EXTRA, null, "1")), strict.differences());

        CaseMocks ruled = mocks(List.of(recorded), "payments header:idempotency-key");
        ruled.answer(call);
        assertEquals(2, ruled.differences().size());
        assertEquals(1, ruled.ignoredDifferences());

        IgnoreRules rules = checkoutNoise("call:POST payments /charge header:idempotency-key");
        CaseMocks learned = new CaseMocks("c1", List.of(recorded),
                new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.none()), rules.scope("shop", "POST /checkout"),
                RedactedValues.UNKEYED);
        learned.answer(call);
        assertEquals(List.of(CHARGE + " header:x-tenant", CHARGE + " header:x-new"),
                learned.differences().stream().map(Difference::getPath).toList());
        assertEquals(1, learned.ignoredDifferences());

        CaseMocks none = mocks(List.of(recorded), "* header:*");
        none.answer(call);
        assertEquals(List.of(), none.differences());
    }

    @Test
    void headersAreNotComparedWhenTheRecordingHasNoneOrHeadersAreNotCompared() {
        MockRequest call = sentWithHeaders(new Header("x-new", "1"));
        CaseMocks unrecorded = mocks(List.of(charge("{\"amount\":500}")));
        unrecorded.answer(call);
        assertEquals(List.of(), unrecorded.differences(), "a recording without headers did not capture them");

        CompareOptions off = new CompareOptions(false, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, false);
        CaseMocks notCompared = new CaseMocks("c1", List.of(chargeWithHeaders(new Header("X-Tenant", "acme"))),
                new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.none(), off));
        notCompared.answer(call);
        assertEquals(List.of(), notCompared.differences());
    }

    @Test
    void aRecordedCredentialRedactedAtCaptureIsNotJudged() {
        CaseMocks mocks = mocks(List.of(chargeWithHeaders(new Header("Host", "pay"),
                new Header("Authorization", "Bearer tapline:hmac:00112233aabbccdd"))));
        mocks.answer(sentWithHeaders(new Header("Authorization", "Bearer test-credential")));
        assertEquals(List.of(), mocks.differences());
        assertEquals(1, mocks.ignoredDifferences());
        assertEquals(1, mocks.notes().size());
        assertTrue(mocks.notes().get(0).contains("request headers of " + CHARGE), mocks.notes().get(0));
    }

    @Test
    void formFieldsAreComparedOneByOne() {
        String form = "application/x-www-form-urlencoded";
        CaseMocks mocks = mocks(List.of(charge(form, "amount=500&currency=usd&idempotency=k-1")),
                "payments body:form:idempotency");
        mocks.answer(sent(form, null, "currency=usd&idempotency=k-2&amount=600".getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of(diff(CHARGE + " form:amount", DifferenceKind.CHANGED, "500", "600")), mocks.differences());
        assertEquals(1, mocks.ignoredDifferences());
    }

    @Test
    void aRecordedValueRedactedAtCaptureIsNotJudgedButATokenAgainstAnotherTokenIs() {
        String recorded = "{\"card\":\"tapline:hmac:00112233aabbccdd\",\"amount\":500}";
        CaseMocks plain = mocks(List.of(charge(recorded)));
        plain.answer(sent("{\"card\":\"4111111111111111\",\"amount\":500}"));
        assertEquals(List.of(), plain.differences());
        assertEquals(1, plain.ignoredDifferences());
        assertEquals(1, plain.notes().size());
        assertTrue(plain.notes().get(0).contains("$.card") && plain.notes().get(0).contains("redacted"),
                plain.notes().get(0));

        CaseMocks echoed = mocks(List.of(charge(recorded)));
        echoed.answer(sent(recorded));
        assertEquals(List.of(), echoed.differences());
        assertEquals(List.of(), echoed.notes());

        CaseMocks otherToken = mocks(List.of(charge(recorded)));
        otherToken.answer(sent("{\"card\":\"tapline:hmac:99887766aabbccdd\",\"amount\":500}"));
        assertEquals(List.of(diff(CHARGE + " $.card", DifferenceKind.CHANGED, "\"tapline:hmac:00112233aabbccdd\"",
                "\"tapline:hmac:99887766aabbccdd\"")), otherToken.differences());
    }

    @Test
    void aRequestBodyRecordedTruncatedIsNotComparedAndANoteSaysSo() {
        OutboundCall cut = charge("{\"amount\":500,\"items\":[");
        cut.setRequest(HttpRequest.newBuilder(cut.getRequest()).setTruncated(true).setOriginalSize(200_000).build());
        CaseMocks mocks = mocks(List.of(cut));
        mocks.answer(sent("{\"amount\":600,\"items\":[]}"));
        assertEquals(List.of(), mocks.differences());
        assertEquals(List.of("request body of " + CHARGE + " not compared: it was recorded truncated at capture"
                + " (23 of 200000 bytes kept)"), mocks.notes());
    }

    @Test
    void aCompressedBodyIsComparedDecoded() throws IOException {
        CaseMocks mocks = mocks(List.of(charge("{\"amount\":500}")));
        mocks.answer(sent("application/json", "gzip", gzip("{\"amount\":600}")));
        assertEquals(List.of(diff(CHARGE + " $.amount", DifferenceKind.CHANGED, "500", "600")), mocks.differences());
    }

    @Test
    void aTextBodyDiffersAsAWhole() {
        CaseMocks mocks = mocks(List.of(charge("text/plain", "charge 500 usd")));
        mocks.answer(sent("text/plain", null, "charge 600 usd".getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of(diff(CHARGE + " body", DifferenceKind.BODY, "charge 500 usd", "charge 600 usd")),
                mocks.differences());
        CaseMocks ruled = mocks(List.of(charge("text/plain", "charge 500 usd")), "payments body:$");
        ruled.answer(sent("text/plain", null, "charge 600 usd".getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of(), ruled.differences());
        assertEquals(1, ruled.ignoredDifferences());
    }

    @Test
    void aBodyThatIsNotJsonAsTheComparisonReadsItIsNotTakenForTheRecording() {
        // a lenient reading took each of these for {"amount":500} (the first value, the last of a repeated key) or
        // for the recorded decimal (the nearest double), and reported nothing
        String recorded = "{\"amount\":500}";
        for (String candidate : List.of("{\"amount\":500}{\"amount\":600}", "{\"amount\":600,\"amount\":500}")) {
            CaseMocks mocks = mocks(List.of(charge(recorded)));
            MockAnswer answer = mocks.answer(sent(candidate));
            assertEquals(MockMatcher.DEFAULT_MIN_SCORE, answer.score(), candidate);
            assertEquals(List.of(CHARGE + " body"), mocks.differences().stream().map(Difference::getPath).toList(),
                    candidate);
            assertTrue(mocks.differences().get(0).getActual().startsWith("not JSON"), mocks.differences()::toString);
        }
        CaseMocks decimals = mocks(List.of(charge("{\"amount\":12345678901234567.89}")));
        decimals.answer(sent("{\"amount\":12345678901234567.88}"));
        assertEquals(List.of(diff(CHARGE + " $.amount", DifferenceKind.CHANGED, "12345678901234567.89",
                "12345678901234567.88")), decimals.differences());
    }

    @Test
    void theSameValuesWrittenAnotherWayRankTheRecordingThatSentThem() {
        // Production wrote 7.0 and 5.0; the candidate writes 5 and 7, the same amounts: each is answered from the
        // recording of its amount (ranked as an unequal body, both were answered from the other one and reported)
        OutboundCall seven = charge("{\"amount\":7.0}");
        OutboundCall five = charge("{\"amount\":5.0}");
        CaseMocks mocks = mocks(List.of(seven, five));
        MockAnswer first = mocks.answer(sent("{\"amount\":5}"));
        assertSame(five, first.recorded());
        assertEquals(1.0, first.score());
        assertSame(seven, mocks.answer(sent("{\"amount\":7}")).recorded());
        assertEquals(List.of(), mocks.differences());

        // form fields in another order, text with other line endings: the same bodies, as the comparison finds them
        String form = "application/x-www-form-urlencoded";
        OutboundCall formSeven = charge(form, "amount=700&currency=usd");
        OutboundCall formFive = charge(form, "amount=500&currency=usd");
        CaseMocks forms = mocks(List.of(formSeven, formFive));
        assertSame(formFive, forms.answer(sent(form, null, "currency=usd&amount=500".getBytes(StandardCharsets.UTF_8)))
                .recorded());
        assertSame(formSeven, forms.answer(sent(form, null, "currency=usd&amount=700".getBytes(StandardCharsets.UTF_8)))
                .recorded());
        assertEquals(List.of(), forms.differences());

        OutboundCall textSeven = charge("text/plain", "charge\n700\n");
        OutboundCall textFive = charge("text/plain", "charge\n500\n");
        CaseMocks texts = mocks(List.of(textSeven, textFive));
        assertSame(textFive, texts.answer(sent("text/plain", null, "charge\r\n500".getBytes(StandardCharsets.UTF_8)))
                .recorded());
        assertEquals(List.of(), texts.differences().stream().filter(d -> d.getKind() != DifferenceKind.UNUSED_CALL)
                .toList());
    }

    @Test
    void aBodyEqualUnderTheArrayOrderAndNumericToleranceOptionsRanksTheRecordingThatSentIt() {
        // --compare-array-order ignore and --compare-numeric-tolerance judge what the candidate sends; they must rank
        // recorded calls the same way, or the first recording answers and its body is reported as differences
        OutboundCall first = charge("{\"items\":[1,2],\"amount\":5.00}");
        OutboundCall second = charge("{\"items\":[3,4],\"amount\":7.00}");
        CaseMocks lenient = new CaseMocks("c1", List.of(first, second), new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE,
                MockIgnoreRules.none(), new CompareOptions(true, 0.01, CompareOptions.DEFAULT_IGNORED_HEADERS, true)));
        MockAnswer answer = lenient.answer(sent("{\"items\":[4,3],\"amount\":7.001}"));
        assertSame(second, answer.recorded());
        assertEquals(1.0, answer.score(), "equal as the comparison finds it: the body's share counts");
        assertSame(first, lenient.answer(sent("{\"items\":[2,1],\"amount\":4.999}")).recorded());
        assertEquals(List.of(), lenient.differences());

        // by default arrays keep their order and numbers have no tolerance: such a body is not the recording's
        CaseMocks strict = mocks(List.of(first, second));
        MockAnswer strictAnswer = strict.answer(sent("{\"items\":[4,3],\"amount\":7.001}"));
        assertEquals(0.75, strictAnswer.score());
    }

    @Test
    void ignoringArrayOrderLearnedNoiseOrABodyRuleInsideElementsDoesNotMakeThemMissingAndExtra() {
        // Each line production sent carries a nonce the app generates per request, learned as noise of the call (or
        // named by a --mock-ignore body rule); the candidate sends the same lines in another order, with nonces of its own
        CompareOptions anyOrder = new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true);
        IgnoreRules rules = checkoutNoise("call:POST payments /charge $.lines[*].nonce");
        String recorded = "{\"lines\":[{\"sku\":\"a\",\"nonce\":\"n1\"},{\"sku\":\"b\",\"nonce\":\"n2\"}]}";
        String reordered = "{\"lines\":[{\"sku\":\"b\",\"nonce\":\"n3\"},{\"sku\":\"a\",\"nonce\":\"n4\"}]}";

        CaseMocks learned = new CaseMocks("c1", List.of(charge(recorded)),
                new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.none(), anyOrder),
                rules.scope("shop", "POST /checkout", true), RedactedValues.UNKEYED);
        MockAnswer answer = learned.answer(sent(reordered));
        // Before, no line equalled another and each was MISSING and EXTRA at $.lines[0], $.lines[1]
        assertEquals(List.of(), learned.differences());
        assertEquals(1.0, answer.score(), "equal but for its noise: the body's share counts");
        assertEquals(2, learned.ignoredDifferences(), "each line's nonce differs from its pair's, as in order");

        CaseMocks ruled = new CaseMocks("c2", List.of(charge(recorded)), new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE,
                MockIgnoreRules.parse(List.of("payments body:$.lines[*].nonce")), anyOrder));
        assertEquals(1.0, ruled.answer(sent(reordered)).score());
        assertEquals(List.of(), ruled.differences());
        assertEquals(2, ruled.ignoredDifferences());

        // what the nonces are beside is still compared, named by the recorded line
        CaseMocks changed = new CaseMocks("c3", List.of(charge(recorded)),
                new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.none(), anyOrder),
                rules.scope("shop", "POST /checkout", true), RedactedValues.UNKEYED);
        changed.answer(sent("{\"lines\":[{\"sku\":\"c\",\"nonce\":\"n3\"},{\"sku\":\"a\",\"nonce\":\"n4\"}]}"));
        assertEquals(List.of(diff(CHARGE + " $.lines[1].sku", DifferenceKind.CHANGED, "\"b\"", "\"c\"")),
                changed.differences());
        assertEquals(2, changed.ignoredDifferences());
    }

    @Test
    void ignoringArrayOrderElementsTooCostlyToPairWithTheArraysInsideThemAreNamedInANote() {
        // 20 lines of 100 codes a side, every code changed: pairing them in any order, each line against each and each
        // code against each inside every such pair, is 4,000,400 element pairs, over the body's bound
        StringBuilder recorded = new StringBuilder("{\"lines\":[");
        StringBuilder candidate = new StringBuilder("{\"lines\":[");
        for (int line = 0; line < 20; line++) {
            recorded.append(line == 0 ? "" : ",").append('[');
            candidate.append(line == 0 ? "" : ",").append('[');
            for (int code = 0; code < 100; code++) {
                recorded.append(code == 0 ? "" : ",").append(line * 1000 + code);
                candidate.append(code == 0 ? "" : ",").append(line * 1000 + code + 500);
            }
            recorded.append(']');
            candidate.append(']');
        }
        CompareOptions anyOrder = new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true);
        CaseMocks mocks = new CaseMocks("c1", List.of(charge(recorded.append("]}").toString())),
                new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.none(), anyOrder));
        mocks.answer(sent(candidate.append("]}").toString()));
        assertEquals(40, mocks.differences().size(), mocks.differences()::toString);
        assertTrue(mocks.differences().stream().allMatch(d -> d.getPath().equals(CHARGE + " $.lines[*]")),
                mocks.differences()::toString);
        assertEquals(List.of("request body of " + CHARGE + ": the 20 and 20 elements of $.lines unequal in any order"
                + " were not paired (with the arrays inside them, up to 4,000,400 element pairs to try, over the"
                + " body's bound of 1,000,000): each is one MISSING or EXTRA difference at $.lines[*]"), mocks.notes());
    }

    @Test
    void jsonBytesInABinaryBodyAreComparedByHashNotAsJson() {
        String binary = "application/octet-stream";
        CaseMocks mocks = mocks(List.of(charge(binary, "{\"amount\":500}")));
        mocks.answer(sent(binary, null, "{ \"amount\": 500 }".getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of(CHARGE + " body"), mocks.differences().stream().map(Difference::getPath).toList());
    }

    private static byte[] gzip(String s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }
}
