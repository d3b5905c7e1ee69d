package io.tapline.replay.mock;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.MockUsage;
import io.tapline.avro.OutboundCall;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.tapline.replay.Fixtures.call;
import static io.tapline.replay.Fixtures.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MockMatcherTest {

    private final MockMatcher matcher = new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE);

    private static MockRequest req(String method, String dest, String path, String query, String body) {
        return new MockRequest(method, dest, path, query, body == null ? null : body.getBytes(StandardCharsets.UTF_8), null);
    }

    @Test
    void queryAndPathValuesTheCaptureRedactedMatchByTheirTokens() {
        io.tapline.redaction.RedactionKey key = io.tapline.redaction.RedactionKey.of("sidecar-key-0123456789");
        io.tapline.replay.compare.RedactedValues keyed = io.tapline.replay.compare.RedactedValues.keyed(key);
        io.tapline.replay.compare.RedactedValues unkeyed = io.tapline.replay.compare.RedactedValues.UNKEYED;
        // as the sidecar records a dependency authenticated in the query, and a customer's email in a path
        MockMatcher.Recording rates = new MockMatcher.Recording(call("rates", "GET", "/v1/rates",
                "cur=EUR&api_key=" + key.token("live-key"), null, json(200, "{}")));
        MockMatcher.Recording user = new MockMatcher.Recording(call("crm", "GET", "/users/" + key.token("ann@example.com") + "/orders",
                null, null, json(200, "{}")));

        MockRequest sameKey = req("GET", "rates", "/v1/rates", "api_key=live-key&cur=EUR", null);
        MockRequest otherKey = req("GET", "rates", "/v1/rates", "api_key=test-key&cur=EUR", null);
        MockRequest otherCurrency = req("GET", "rates", "/v1/rates", "api_key=live-key&cur=USD", null);
        assertEquals(1.0, matcher.match(matcher.prepare(sameKey, keyed), rates).score(), "with the key: the same value");
        assertTrue(matcher.match(matcher.prepare(sameKey, keyed), rates).sameTarget());
        assertFalse(matcher.accepts(matcher.match(matcher.prepare(otherKey, keyed), rates).score()), "with the key: another value");
        // without the key the value cannot be judged: it does not stop the match (the result notes what was not judged)
        assertEquals(1.0, matcher.match(matcher.prepare(otherKey, unkeyed), rates).score());
        assertFalse(matcher.accepts(matcher.match(matcher.prepare(otherCurrency, unkeyed), rates).score()),
                "a plain value that differs still does");

        assertEquals(1.0, matcher.match(matcher.prepare(req("GET", "crm", "/users/ann@example.com/orders", null, null), keyed), user).score());
        assertFalse(matcher.accepts(matcher.match(matcher.prepare(req("GET", "crm", "/users/bob@example.com/orders", null, null), keyed), user).score()));
        assertFalse(matcher.accepts(matcher.match(matcher.prepare(req("GET", "crm", "/users/ann@example.com/invoices", null, null), unkeyed), user).score()),
                "a literal segment that differs");
        // the capture redacts a path as production sent it: an email percent-encoded is tokenised decoded
        io.tapline.redaction.Redactor redactor = new io.tapline.redaction.Redactor(key, io.tapline.redaction.Redactor.Rules.defaults());
        String sent = "/users/ann%40example.com/orders";
        String recordedPath = redactor.path("request", sent, new java.util.ArrayList<>());
        assertTrue(io.tapline.redaction.RedactionTokens.in(recordedPath), recordedPath);
        MockMatcher.Recording encoded = new MockMatcher.Recording(call("crm", "GET", recordedPath, null, null, json(200, "{}")));
        assertEquals(1.0, matcher.match(matcher.prepare(req("GET", "crm", sent, null, null), keyed), encoded).score());
        assertEquals(1.0, matcher.match(matcher.prepare(req("GET", "crm", "/users/ann@example.com/orders", null, null), keyed), encoded).score());
        assertFalse(matcher.accepts(matcher.match(matcher.prepare(req("GET", "crm", "/users/bob%40example.com/orders", null, null), keyed), encoded).score()));
    }

    @Test
    void aBodyTheCaptureRedactedScoresAsTheSameBodyWithTheKey() {
        io.tapline.redaction.RedactionKey key = io.tapline.redaction.RedactionKey.of("sidecar-key-0123456789");
        io.tapline.replay.compare.RedactedValues keyed = io.tapline.replay.compare.RedactedValues.keyed(key);
        MockMatcher withKey = new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.parse(List.of()),
                new io.tapline.replay.compare.CompareOptions(false, 0, io.tapline.replay.compare.CompareOptions.DEFAULT_IGNORED_HEADERS,
                        true, keyed));
        // two recorded calls to one endpoint, for two customers: an email in a value and as a key
        MockMatcher.Recording ann = new MockMatcher.Recording(call("crm", "POST", "/notify", null,
                "{\"to\":\"" + key.token("ann@example.com") + "\",\"prefs\":{\"" + key.token("ann@example.com") + "\":\"mail\"}}",
                json(200, "{}")));
        MockMatcher.Recording bob = new MockMatcher.Recording(call("crm", "POST", "/notify", null,
                "{\"to\":\"" + key.token("bob@example.com") + "\",\"prefs\":{\"" + key.token("bob@example.com") + "\":\"mail\"}}",
                json(200, "{}")));
        MockRequest sent = new MockRequest("POST", "crm", "/notify", null,
                "{\"to\":\"ann@example.com\",\"prefs\":{\"ann@example.com\":\"mail\"}}".getBytes(StandardCharsets.UTF_8), null);
        assertTrue(withKey.match(withKey.prepare(sent, keyed), ann).sameBody(), "ann's recording: the same body");
        assertFalse(withKey.match(withKey.prepare(sent, keyed), bob).sameBody(), "bob's: another customer");
        assertTrue(withKey.match(withKey.prepare(sent, keyed), ann).score() > withKey.match(withKey.prepare(sent, keyed), bob).score());
        // without the key neither can be told apart from the other
        assertFalse(withKey.match(withKey.prepare(sent, io.tapline.replay.compare.RedactedValues.UNKEYED), ann).sameBody());
    }

    @Test
    void aBodyTheCandidateCompressesScoresAsTheSameBodyDecoded() throws java.io.IOException {
        // The capture stores a gzip body decoded; the candidate gzips what it POSTs.
        OutboundCall eur = call("payments", "POST", "/charges", null, "{\"amount\":5,\"cur\":\"EUR\"}", json(200, "{}"));
        java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(zipped)) {
            gz.write("{\"cur\":\"EUR\",\"amount\":5}".getBytes(StandardCharsets.UTF_8));
        }
        MockRequest gzipped = new MockRequest("POST", "payments", "/charges", null, zipped.toByteArray(), null, "",
                "application/json", "gzip");
        MockMatcher.Match match = matcher.match(matcher.prepare(gzipped,
                io.tapline.replay.compare.RedactedValues.UNKEYED), new MockMatcher.Recording(eur));
        assertTrue(match.sameBody(), "equal JSON once decoded");
        assertEquals(1.0, match.score());
        MockRequest plain = new MockRequest("POST", "payments", "/charges", null,
                "{\"amount\":5,\"cur\":\"USD\"}".getBytes(StandardCharsets.UTF_8), null, "", "application/json", null);
        assertFalse(matcher.match(matcher.prepare(plain, io.tapline.replay.compare.RedactedValues.UNKEYED),
                new MockMatcher.Recording(eur)).sameBody(), "another amount is another body");
    }

    @Test
    void identicalCallScoresOne() {
        OutboundCall rec = call("inventory", "GET", "/stock/42", "a=1", null, json(200, "{}"));
        assertEquals(1.0, matcher.score(req("GET", "inventory", "/stock/42", "a=1", null), rec));
    }

    @Test
    void methodOrDestinationOrRouteMismatchScoresZero() {
        OutboundCall rec = call("inventory", "GET", "/stock/42", null, null, json(200, "{}"));
        assertEquals(0.0, matcher.score(req("POST", "inventory", "/stock/42", null, null), rec));
        assertEquals(0.0, matcher.score(req("GET", "payments", "/stock/42", null, null), rec));
        assertEquals(0.0, matcher.score(req("GET", "inventory", "/orders/42", null, null), rec));
    }

    @Test
    void callForAnotherIdIsNotAcceptedEvenWithoutQueryOrBody() {
        // Bodiless and queryless: equal (empty) query and body must not make up for another id in the path.
        OutboundCall rec = call("inventory", "GET", "/items/17", null, null, json(200, "{}"));
        MockMatcher.Match other = matcher.match(req("GET", "inventory", "/items/42", null, null), rec);
        assertEquals(MockMatcher.PATH_TEMPLATE + MockMatcher.QUERY_EXACT + MockMatcher.BODY_EQUAL, other.score(), 1e-9);
        assertFalse(other.sameTarget());
        assertFalse(matcher.accepts(other.score()));
        assertTrue(matcher.match(req("GET", "inventory", "/items/17", null, null), rec).sameTarget());
    }

    @Test
    void everyPartialMatchStaysBelowTheDefaultMinimumButABodyDifferenceDoesNot() {
        double templatedPath = MockMatcher.PATH_TEMPLATE + MockMatcher.QUERY_EXACT + MockMatcher.BODY_EQUAL;
        double otherQueryValue = MockMatcher.PATH_EXACT + MockMatcher.QUERY_NAMES + MockMatcher.BODY_EQUAL;
        double otherBody = MockMatcher.PATH_EXACT + MockMatcher.QUERY_EXACT;
        assertFalse(matcher.accepts(templatedPath));
        assertFalse(matcher.accepts(otherQueryValue));
        assertTrue(matcher.accepts(otherBody));
        assertEquals(1.0, MockMatcher.PATH_EXACT + MockMatcher.QUERY_EXACT + MockMatcher.BODY_EQUAL, 1e-9);
    }

    @Test
    void queryOrderAndEncodingDoNotMatterButValuesDo() {
        OutboundCall rec = call("inventory", "GET", "/s", "a=1&b=x%20y", null, json(200, "{}"));
        MockMatcher.Match reordered = matcher.match(req("GET", "inventory", "/s", "b=x+y&a=1", null), rec);
        assertEquals(1.0, reordered.score());
        assertTrue(reordered.sameTarget());
        MockMatcher.Match otherValue = matcher.match(req("GET", "inventory", "/s", "a=2&b=x%20y", null), rec);
        assertEquals(MockMatcher.PATH_EXACT + MockMatcher.QUERY_NAMES + MockMatcher.BODY_EQUAL, otherValue.score(), 1e-9);
        assertFalse(otherValue.sameTarget());
        assertFalse(matcher.accepts(otherValue.score()));
    }

    @Test
    void callForAnotherIdIsUnmatchedAndNamesTheClosestRecordedCall() {
        OutboundCall item17 = call("inventory", "GET", "/items/17", null, null, json(200, "{\"id\":17}"));
        CaseMocks mocks = new CaseMocks("c1", List.of(item17), matcher);
        MockAnswer answer = mocks.answer(req("GET", "inventory", "/items/42", null, null));
        assertFalse(answer.matched());
        List<Difference> diffs = mocks.differences();
        assertEquals(List.of(DifferenceKind.UNMATCHED_CALL, DifferenceKind.UNUSED_CALL),
                diffs.stream().map(Difference::getKind).toList());
        assertEquals("call:GET inventory /items/42", diffs.get(0).getPath());
        assertEquals("call:GET inventory /items/17 (score 0.7)", diffs.get(0).getExpected());
    }

    @Test
    void aLowerMinimumAnswersAnotherIdButReportsTheDifference() {
        OutboundCall item17 = call("inventory", "GET", "/items/17", null, null, json(200, "{\"id\":17}"));
        CaseMocks mocks = new CaseMocks("c1", List.of(item17), new MockMatcher(0.6));
        MockAnswer answer = mocks.answer(req("GET", "inventory", "/items/42", null, null));
        assertSame(item17, answer.recorded());
        List<Difference> diffs = mocks.differences();
        assertEquals(1, diffs.size(), diffs::toString);
        assertEquals(DifferenceKind.CHANGED, diffs.get(0).getKind());
        assertEquals("call:GET inventory /items/42", diffs.get(0).getPath());
        assertEquals("call:GET inventory /items/17 (answered from it, score 0.7)", diffs.get(0).getExpected());
        assertEquals("call:GET inventory /items/42", diffs.get(0).getActual());
    }

    @Test
    void exactCallWithReorderedQueryIsMatchedWithoutDifference() {
        OutboundCall rates = call("api.local:8080", "GET", "/v1/rates", "cur=EUR&day=2026-01-01", null, json(200, "{}"));
        CaseMocks mocks = new CaseMocks("c1", List.of(rates), matcher);
        assertTrue(mocks.answer(req("GET", "api.local:8080", "/v1/rates", "day=2026-01-01&cur=EUR", null)).matched());
        assertEquals(List.of(), mocks.differences());
    }

    /** A matcher with the default minimum and these {@code --mock-ignore} rules. */
    private static MockMatcher ignoring(String... rules) {
        return new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.parse(List.of(rules)));
    }

    /** A case whose only recorded call is {@code recorded}, matched with the default minimum and these rules. */
    private static CaseMocks mocks(OutboundCall recorded, String... ignoreRules) {
        return new CaseMocks("c1", List.of(recorded), ignoring(ignoreRules));
    }

    private static List<DifferenceKind> kinds(CaseMocks mocks) {
        return mocks.differences().stream().map(Difference::getKind).toList();
    }

    @Test
    void freshIdempotencyKeyInTheQueryMatchesOnlyWithARuleForItsQueryParameter() {
        OutboundCall charge = call("payments", "POST", "/v1/charges", "idempotency_key=9a1f-prod&cur=EUR",
                "{\"amount\":5}", json(201, "{\"id\":\"ch_1\"}"));
        MockRequest fresh = req("POST", "payments", "/v1/charges", "cur=EUR&idempotency_key=77c0-replay", "{\"amount\":5}");

        CaseMocks strict = mocks(charge);
        assertFalse(strict.answer(fresh).matched());
        assertEquals(List.of(DifferenceKind.UNMATCHED_CALL, DifferenceKind.UNUSED_CALL), kinds(strict));

        CaseMocks ignoring = mocks(charge, "payments query:idempotency_key");
        MockAnswer answer = ignoring.answer(fresh);
        assertSame(charge, answer.recorded());
        assertEquals(1.0, answer.score());
        assertEquals(List.of(), ignoring.differences(), "the case passes: no call difference");
    }

    @Test
    void anIgnoredQueryParameterStillMustBePresentAndOtherValuesStayStrict() {
        OutboundCall charge = call("payments", "POST", "/v1/charges", "idempotency_key=k1&cur=EUR", null, json(201, "{}"));
        MockMatcher ignoring = ignoring("payments query:idempotency_key");
        MockMatcher.Match otherCurrency = ignoring.match(req("POST", "payments", "/v1/charges", "idempotency_key=k2&cur=USD", null), charge);
        assertFalse(otherCurrency.sameTarget());
        assertFalse(ignoring.accepts(otherCurrency.score()));
        MockMatcher.Match noKey = ignoring.match(req("POST", "payments", "/v1/charges", "cur=EUR", null), charge);
        assertFalse(noKey.sameTarget());
        assertFalse(ignoring.accepts(noKey.score()));
        MockMatcher.Match twoKeys = ignoring.match(req("POST", "payments", "/v1/charges", "idempotency_key=a&idempotency_key=b&cur=EUR", null), charge);
        assertFalse(twoKeys.sameTarget());
    }

    @Test
    void freshUuidInThePathMatchesOnlyWithAPathRule() {
        OutboundCall confirm = call("api.pay.local:8080", "POST", "/payments/3f2c9a4e-1b2d-4c3e-8f00-1234567890ab/confirm",
                null, null, json(200, "{\"status\":\"confirmed\"}"));
        MockRequest fresh = req("POST", "api.pay.local:8080", "/payments/0b7d1e2f-aaaa-4bbb-8ccc-ddddeeeeffff/confirm", null, null);

        CaseMocks strict = mocks(confirm);
        MockAnswer unmatched = strict.answer(fresh);
        assertFalse(unmatched.matched());
        assertEquals(MockMatcher.PATH_TEMPLATE + MockMatcher.QUERY_EXACT + MockMatcher.BODY_EQUAL, unmatched.score(), 1e-9);
        assertEquals(List.of(DifferenceKind.UNMATCHED_CALL, DifferenceKind.UNUSED_CALL), kinds(strict));

        // the host alone names the dependency on any port, as does its host:port
        for (String rule : List.of("api.pay.local path:/payments/{*}/confirm", "API.pay.local:8080 path:/payments/{id}/confirm",
                "* path:/payments/{*}/confirm")) {
            CaseMocks ignoring = mocks(confirm, rule);
            MockAnswer answer = ignoring.answer(fresh);
            assertSame(confirm, answer.recorded(), rule);
            assertEquals(1.0, answer.score(), rule);
            assertEquals(List.of(), ignoring.differences(), rule);
        }
    }

    @Test
    void aPathRuleIgnoresOnlyItsPlaceholderSegments() {
        MockMatcher ignoring = ignoring("billing path:/payments/{*}/confirm");
        // a word-like value is not even the same route template without the rule
        OutboundCall confirm = call("billing", "POST", "/payments/nonce-abc/confirm", null, null, json(200, "{}"));
        assertEquals(1.0, ignoring.score(req("POST", "billing", "/payments/nonce-xyz/confirm", null, null), confirm));
        assertEquals(0.0, matcher.score(req("POST", "billing", "/payments/nonce-xyz/confirm", null, null), confirm));
        // literal segments, the number of segments and an empty value still differ
        assertEquals(0.0, ignoring.score(req("POST", "billing", "/payments/nonce-xyz/cancel", null, null), confirm));
        assertEquals(0.0, ignoring.score(req("POST", "billing", "/payments/nonce-xyz/confirm/now", null, null), confirm));
        assertEquals(0.0, ignoring.score(req("POST", "billing", "/payments//confirm", null, null), confirm));
        // recorded with the route name in its path (the sidecar's egress listener), still the dependency's own path
        OutboundCall prefixed = call("billing", "POST", "/billing/payments/nonce-abc/confirm", null, null, json(200, "{}"));
        assertEquals(1.0, ignoring.score(req("POST", "billing", "/payments/nonce-xyz/confirm", null, null), prefixed));
    }

    @Test
    void aRuleForAnotherDependencyDoesNotApply() {
        OutboundCall charge = call("payments", "POST", "/v1/charges/k-prod", "request_id=r1", null, json(201, "{}"));
        MockRequest fresh = req("POST", "payments", "/v1/charges/k-replay", "request_id=r2", null);
        CaseMocks otherDependency = mocks(charge, "inventory query:request_id", "inventory path:/v1/charges/{*}",
                "payments.local:8080 query:request_id", "payments query:other");
        assertFalse(otherDependency.answer(fresh).matched());
        assertEquals(List.of(DifferenceKind.UNMATCHED_CALL, DifferenceKind.UNUSED_CALL), kinds(otherDependency));
        CaseMocks own = mocks(charge, "payments query:request_id", "payments path:/v1/charges/{*}");
        assertTrue(own.answer(fresh).matched());
        assertEquals(List.of(), own.differences());
    }

    @Test
    void recordedCallsDifferingOnlyInIgnoredValuesAnswerInRecordedOrder() {
        OutboundCall first = call("payments", "POST", "/confirm", "key=a", null, json(200, "{\"n\":1}"));
        OutboundCall second = call("payments", "POST", "/confirm", "key=b", null, json(200, "{\"n\":2}"));
        CaseMocks mocks = new CaseMocks("c1", List.of(first, second), ignoring("payments query:key"));
        assertSame(first, mocks.answer(req("POST", "payments", "/confirm", "key=x", null)).recorded());
        assertSame(second, mocks.answer(req("POST", "payments", "/confirm", "key=y", null)).recorded());
        assertEquals(List.of(), mocks.differences());
    }

    @Test
    void jsonBodiesMatchStructurally() {
        OutboundCall rec = call("payments", "POST", "/charge", null, "{\"amount\":5,\"cur\":\"EUR\"}", json(201, "{}"));
        assertEquals(1.0, matcher.score(req("POST", "payments", "/charge", null, "{\"cur\":\"EUR\",\"amount\":5}"), rec));
        double changed = matcher.score(req("POST", "payments", "/charge", null, "{\"cur\":\"EUR\",\"amount\":6}"), rec);
        assertEquals(MockMatcher.PATH_EXACT + MockMatcher.QUERY_EXACT, changed, 1e-9);
        assertTrue(matcher.accepts(changed));
    }

    @Test
    void namedRoutePathRecordedWithTheRoutePrefixStillMatches() {
        // The sidecar records the path the app sent to its egress listener, route name included.
        OutboundCall rec = call("inventory", "GET", "/inventory/stock/42", null, null, json(200, "{}"));
        assertEquals(1.0, matcher.score(req("GET", "inventory", "/stock/42", null, null), rec));
        assertEquals("/inventoryx/a", MockMatcher.withoutRoutePrefix("/inventoryx/a", "inventory"));
    }

    @Test
    void basePathRouteCallMatchesTheDependencyPathAndAnOlderRecordingWithTheRouteName() {
        // --mock-route payments=http://pay:8080/api: the candidate's /payments/v1/charges is /api/v1/charges
        MockRequest charges = new MockRequest("GET", "payments", "/api/v1/charges", null, null, null, "/api");
        assertEquals(1.0, matcher.score(charges, call("payments", "GET", "/api/v1/charges", null, null, json(200, "{}"))));
        // an older sidecar recorded the path the app sent to its egress listener
        assertEquals(1.0, matcher.score(charges, call("payments", "GET", "/payments/v1/charges", null, null, json(200, "{}"))));
        assertEquals(0.0, matcher.score(charges, call("payments", "GET", "/v1/charges", null, null, json(200, "{}"))),
                "a recording without the base path was made through another route URL");
        MockRequest other = new MockRequest("GET", "payments", "/api/v1/other", null, null, null, "/api");
        assertEquals(0.0, matcher.score(other, call("payments", "GET", "/api/v1/charges", null, null, json(200, "{}"))));
    }

    @Test
    void dependencyPathStartingWithTheRouteNameMatchesAsRecorded() {
        // The sidecar records the dependency's own path: route 'payments' calling /payments/7 records /payments/7,
        // which is not the route name prefixed to /7.
        OutboundCall rec = call("payments", "GET", "/payments/7", null, null, json(200, "{}"));
        assertEquals(1.0, matcher.score(req("GET", "payments", "/payments/7", null, null), rec));
        assertEquals(1.0, matcher.score(req("GET", "payments", "/7", null, null),
                call("payments", "GET", "/payments/7", null, null, json(200, "{}"))), "recorded with the route prefix");
        MockMatcher ignoring = ignoring("payments path:/payments/{*}/confirm");
        OutboundCall confirm = call("payments", "POST", "/payments/key-prod/confirm", null, null, json(200, "{}"));
        assertEquals(1.0, ignoring.score(req("POST", "payments", "/payments/key-replay/confirm", null, null), confirm));
    }

    @Test
    void forwardProxyDestinationsIgnoreTheDefaultPort() {
        OutboundCall rec = call("api.example:80", "GET", "/x", null, null, json(200, "{}"));
        assertEquals(1.0, matcher.score(req("GET", "api.example", "/x", null, null), rec));
    }

    @Test
    void unmatchedCallBecomesADifferenceAndUnusedRecordedCallsAreListed() {
        OutboundCall stock = call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}"));
        OutboundCall price = call("pricing", "GET", "/price/1", null, null, json(200, "{\"p\":1}"));
        CaseMocks mocks = new CaseMocks("c1", List.of(stock, price), matcher);
        assertTrue(mocks.answer(req("GET", "inventory", "/stock/1", null, null)).matched());
        assertFalse(mocks.answer(req("DELETE", "inventory", "/stock/1", null, null)).matched());
        MockUsage usage = mocks.usage();
        assertEquals(1, usage.getMatched());
        assertEquals(1, usage.getUnmatched());
        assertEquals(1, usage.getUnused());
        assertEquals(List.of(DifferenceKind.UNMATCHED_CALL, DifferenceKind.UNUSED_CALL),
                mocks.differences().stream().map(d -> d.getKind()).toList());
        assertEquals("call:GET pricing /price/1", mocks.differences().get(1).getPath());
    }

    @Test
    void repeatedCallsUseEachRecordedCallBeforeReusingOne() {
        OutboundCall first = call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}"));
        OutboundCall second = call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":2}"));
        CaseMocks mocks = new CaseMocks("c1", List.of(first, second), matcher);
        assertSame(first, mocks.answer(req("GET", "inventory", "/stock/1", null, null)).recorded());
        assertSame(second, mocks.answer(req("GET", "inventory", "/stock/1", null, null)).recorded());
        assertEquals(0, mocks.usage().getUnused());
        assertEquals(List.of(), mocks.differences());
    }

    @Test
    void callMadeMoreOftenThanRecordedIsAnsweredAgainAndReportedAsExtra() {
        OutboundCall once = call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}"));
        CaseMocks mocks = new CaseMocks("c1", List.of(once), matcher);
        assertSame(once, mocks.answer(req("GET", "inventory", "/stock/1", null, null)).recorded());
        assertEquals(List.of(), mocks.differences());
        // the second call is still answered (the candidate goes on) but is a difference
        assertSame(once, mocks.answer(req("GET", "inventory", "/stock/1", null, null)).recorded());
        List<Difference> diffs = mocks.differences();
        assertEquals(1, diffs.size(), diffs::toString);
        assertEquals(DifferenceKind.EXTRA, diffs.get(0).getKind());
        assertEquals("call:GET inventory /stock/1", diffs.get(0).getPath());
        assertEquals(null, diffs.get(0).getExpected());
        assertEquals("call:GET inventory /stock/1 (extra call, answered again from the recording of call:GET inventory /stock/1)",
                diffs.get(0).getActual());
        MockUsage usage = mocks.usage();
        assertEquals(2, usage.getMatched());
        assertEquals(List.of("matched", "extra"), usage.getCalls().stream().map(c -> c.getOutcome()).toList());
    }

    @Test
    void traceIdIsStablePerRunAndCaseAndParsedBack() {
        String id = TraceContext.traceIdFor("run-1", "case-1");
        assertEquals(32, id.length());
        assertEquals(id, TraceContext.traceIdFor("run-1", "case-1"));
        assertFalse(id.equals(TraceContext.traceIdFor("run-2", "case-1")));
        assertEquals(id, TraceContext.traceIdOf(TraceContext.forCase("run-1", "case-1").traceparent()));
        assertEquals(null, TraceContext.traceIdOf("garbage"));
    }

    @Test
    void caseTraceCarriesTheCaseTraceIdInAValidTraceparent() {
        TraceContext.CaseTrace t = TraceContext.forCase("run-1", "case-1");
        assertEquals(TraceContext.traceIdFor("run-1", "case-1"), t.traceId());
        assertEquals(t.traceId(), TraceContext.traceIdOf(t.traceparent()));
        assertTrue(t.traceparent().matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01"), t.traceparent());
    }

    @Test
    void recordingsThatCannotReachTheBestTargetAreNotBodyScored() {
        // 500 recorded order lines of other orders, then the one the candidate's call asks for: only its body is scored
        MockMatcher ruled = ignoring("ledger body:$.nonce");
        List<OutboundCall> recorded = new java.util.ArrayList<>();
        for (int order = 2; order <= 501; order++) {
            recorded.add(call("ledger", "POST", "/orders/" + order + "/lines", null, "{\"sku\":\"a\",\"qty\":1}",
                    json(201, "{\"order\":" + order + "}")));
        }
        OutboundCall one = call("ledger", "POST", "/orders/1/lines", null, "{\"sku\":\"a\",\"qty\":1}", json(201, "{}"));
        recorded.add(one);
        CaseMocks mocks = new CaseMocks("c1", recorded, ruled);
        MockAnswer answer = mocks.answer(req("POST", "ledger", "/orders/1/lines", null,
                "{\"sku\":\"a\",\"qty\":1,\"nonce\":\"n-1\"}"));
        assertSame(one, answer.recorded());
        assertEquals(1.0, answer.score());
        assertEquals(1, ruled.bodiesScored(), "other orders' lines score at most 0.70 with any body: not compared");
    }

    @Test
    void skippingRecordingsThatCannotWinChoosesWhatScoringEveryRecordingChose() {
        // a brute-force reference (every recording scored, as before) against CaseMocks, over 400 random calls to 60
        // recordings: the same recording answers each, with the same score, whatever the minimum and the rules
        java.util.Random random = new java.util.Random(42);
        String[] methods = {"GET", "POST", "post"};
        String[] destinations = {"ledger", "ledger:80", "api.local:8080"};
        String[] paths = {"/orders/1/lines", "/orders/2/lines", "/orders/1", "/items/7", "/items/8", "/"};
        String[] queries = {null, "", "a=1", "a=2", "b=1", "a=1&b=2", "b=2&a=1"};
        String[] bodies = {null, "{\"qty\":1}", "{\"qty\":1.0}", "{\"qty\":2}", "{\"qty\":1,\"nonce\":\"x\"}", "qty=1"};
        for (double minScore : new double[]{MockMatcher.DEFAULT_MIN_SCORE, 0.45, 0.05, 1.0}) {
            for (List<String> rules : List.of(List.<String>of(), List.of("* body:$.nonce"), List.of("ledger query:a"))) {
                MockMatcher m = new MockMatcher(minScore, MockIgnoreRules.parse(rules));
                List<OutboundCall> recorded = new java.util.ArrayList<>();
                for (int i = 0; i < 60; i++) {
                    recorded.add(call(pick(random, destinations), pick(random, methods), pick(random, paths),
                            pick(random, queries), pick(random, bodies), json(200, "{\"i\":" + i + "}")));
                }
                CaseMocks mocks = new CaseMocks("c1", recorded, m);
                int[] uses = new int[recorded.size()];
                for (int n = 0; n < 400; n++) {
                    MockRequest call = req(pick(random, methods), pick(random, destinations), pick(random, paths),
                            pick(random, queries), pick(random, bodies));
                    int best = -1;
                    double bestScore = 0;
                    for (int i = 0; i < recorded.size(); i++) {
                        double s = m.score(call, recorded.get(i));
                        if (s > bestScore + 1e-9 || (best >= 0 && Math.abs(s - bestScore) < 1e-9 && uses[best] > 0 && uses[i] == 0)) {
                            best = i;
                            bestScore = s;
                        }
                    }
                    MockAnswer answer = mocks.answer(call);
                    String what = rules + " min " + minScore + ": " + call.describe() + " " + new String(
                            call.body() == null ? new byte[0] : call.body(), StandardCharsets.UTF_8);
                    assertEquals(bestScore, answer.score(), what);
                    if (best >= 0 && m.accepts(bestScore)) {
                        uses[best]++;
                        assertSame(recorded.get(best), answer.recorded(), what);
                    } else {
                        assertEquals(null, answer.recorded(), what);
                    }
                }
            }
        }
    }

    private static String pick(java.util.Random random, String[] values) {
        return values[random.nextInt(values.length)];
    }
}
