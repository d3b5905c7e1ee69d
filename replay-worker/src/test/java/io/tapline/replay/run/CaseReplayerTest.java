package io.tapline.replay.run;

import io.tapline.avro.Case;
import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.Header;
import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.Verdict;
import io.tapline.http.HttpUrl;
import io.tapline.redaction.RedactionKey;
import io.tapline.replay.Fixtures;
import io.tapline.replay.ShopCandidate;
import io.tapline.replay.compare.CompareOptions;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.compare.RedactedValues;
import io.tapline.replay.compare.ResponseComparator;
import io.tapline.replay.mock.MockIgnoreRules;
import io.tapline.replay.mock.MockMatcher;
import io.tapline.replay.mock.MockRegistry;
import io.tapline.replay.mock.MockServer;
import io.tapline.replay.mock.MockServerOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Replays cases against an in-process candidate through the real mock server (no Kafka). */
@Timeout(60)
class CaseReplayerTest {

    private Vertx vertx;
    private final MockRegistry registry = new MockRegistry();
    private final AtomicInteger realInventoryHits = new AtomicInteger();
    private MockServer mock;

    @BeforeEach
    void setUp() {
        vertx = Vertx.vertx();
        HttpServer realInventory = vertx.createHttpServer().requestHandler(r -> {
            realInventoryHits.incrementAndGet();
            r.response().end("{\"stock\":999}");
        }).listen(0, "127.0.0.1").await();
        mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0,
                Map.of("inventory", HttpUrl.parse("http://127.0.0.1:" + realInventory.actualPort())), Set.of(), 502,
                1 << 20), registry).await();
    }

    @AfterEach
    void tearDown() {
        vertx.close().await();
    }

    private CaseReplayer replayer(String target) {
        IgnoreRules noise = IgnoreRules.none();
        noise.learn("shop GET /items/{id}", NoiseProfile.newBuilder().setService("shop").setRoute("GET /items/{id}")
                .setComparedPairs(20)
                .setUpdatedAt(Instant.EPOCH).setFields(List.of(new NoisyField("$.generatedAt", 20L, 20L, true, null, null))).build());
        CandidateClient client = new CandidateClient(vertx, HttpUrl.parse(target), 8, Duration.ofSeconds(5));
        return new CaseReplayer("run-1", "w1", client, registry, new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE),
                new ResponseComparator(CompareOptions.defaults(), noise), ResultRedaction.of(RedactionKey.random()),
                Clock.systemUTC());
    }

    private ShopCandidate candidate(boolean regressed, boolean propagate) {
        return ShopCandidate.start(vertx, "http://127.0.0.1:" + mock.port() + "/inventory", regressed, 0, propagate);
    }

    @Test
    void unchangedBehaviourPassesWithNoiseIgnoredAndTheDependencyMocked() {
        ShopCandidate shop = candidate(true, true);
        ReplayResult r = replayer(shop.url()).replay(Fixtures.shopCase(5, 7, 100)).await();
        assertEquals(Verdict.PASS, r.getVerdict(), () -> r.getDifferences().toString());
        assertEquals(1, r.getIgnoredDifferences());
        assertEquals(1, r.getMocks().getMatched());
        assertEquals("GET /items/{id}", r.getRoute());
        assertEquals(100, r.getTrafficWeight());
        assertEquals(0, realInventoryHits.get());
    }

    @Test
    void plantedRegressionFailsWithThePathAndBothValues() {
        ShopCandidate shop = candidate(true, true);
        ReplayResult r = replayer(shop.url()).replay(Fixtures.shopCase(13, 7, 100)).await();
        assertEquals(Verdict.FAIL, r.getVerdict());
        Map<String, Difference> byPath = new java.util.TreeMap<>();
        r.getDifferences().forEach(d -> byPath.put(d.getPath(), d));
        assertEquals(Set.of("$.price", "$.buyer"), byPath.keySet());
        assertEquals(2, r.getDifferenceCount());
        assertEquals(DifferenceKind.CHANGED, byPath.get("$.price").getKind());
        assertEquals("113", byPath.get("$.price").getExpected());
        assertEquals("226", byPath.get("$.price").getActual());
        assertEquals(DifferenceKind.EXTRA, byPath.get("$.buyer").getKind());
        assertTrue(byPath.get("$.buyer").getActual().matches("\"tapline:hmac:[0-9a-f]{16}\""), r.getDifferences()::toString);
    }

    @Test
    void anAnswerNestedTooDeepToCompareStructurallyIsComparedAsTextNotAnError() {
        // nested ~950 levels (Jackson reads up to 1,000), a leaf changed, arrays unordered: JsonUnit's recursion and
        // the path lookup for its difference overflowed the event loop's stack, and the case was an ERROR
        int depth = 950;
        String recorded = "[".repeat(depth) + "1" + "]".repeat(depth);
        String answered = "[".repeat(depth) + "2" + "]".repeat(depth);
        HttpServer candidate = vertx.createHttpServer().requestHandler(req -> req.response()
                .putHeader("content-type", "application/json").end(answered)).listen(0, "127.0.0.1").await();
        Case c = Fixtures.caseOf("deep-1", Fixtures.request("GET", "shop:8080", "/deep", null, null),
                Fixtures.json(200, recorded), List.of(), 1);
        CompareOptions unordered = new CompareOptions(true, 0.0, CompareOptions.DEFAULT_IGNORED_HEADERS, true);
        ReplayResult r = keyedReplayer(candidate, Map.of(), unordered, RedactionKey.random()).replay(c).await();
        assertEquals(Verdict.FAIL, r.getVerdict(), () -> String.valueOf(r.getError()));
        assertEquals(List.of("body"), r.getDifferences().stream().map(Difference::getPath).toList());
    }

    @Test
    void aHugeAnswerListsAtMostTheCapOfDifferencesSoTheResultFitsTheResultsTopic() {
        String item = "\"" + "x".repeat(400) + "\"";
        String huge = "{\"items\":[" + String.join(",", java.util.Collections.nCopies(20_000, item)) + "]}";
        HttpServer candidate = vertx.createHttpServer().requestHandler(req -> req.response()
                .putHeader("content-type", "application/json").end(huge)).listen(0, "127.0.0.1").await();
        Case c = Fixtures.caseOf("list-1", Fixtures.request("GET", "shop:8080", "/items", "limit=20", null),
                Fixtures.json(200, "{\"items\":[]}"), List.of(), 1);
        ReplayResult r = replayer("http://127.0.0.1:" + candidate.actualPort()).replay(c).await();
        assertEquals(Verdict.FAIL, r.getVerdict());
        assertEquals(CaseReplayer.MAX_LISTED_DIFFERENCES, r.getDifferences().size());
        assertEquals(20_000, r.getDifferenceCount(), "every difference counted, listed or not");
        assertTrue(r.getNotes().contains("19,800 more difference(s) not listed: a result lists the first 200"), r.getNotes()::toString);
        int bytes = assertDoesNotThrow(() -> r.toByteBuffer().remaining());
        assertTrue(bytes < 200_000, "result of " + bytes + " bytes");
    }

    @Test
    void manyDependencyCallsWithLongUrlsStillMakeAResultThatFitsTheResultsTopic() throws Exception {
        // 300 unmatched calls, each with a 4 KiB query: listed in full, the calls and their differences made a
        // result of ~2.7 MB, over the results topic's 1 MiB record limit, and its transaction aborted on every retry.
        io.vertx.core.http.HttpClient out = vertx.createHttpClient();
        HttpServer candidate = vertx.createHttpServer().requestHandler(req -> {
            String traceparent = req.getHeader("traceparent");
            Future<Void> calls = Future.succeededFuture();
            for (int i = 0; i < 300; i++) {
                StringBuilder ids = new StringBuilder(); // 4 KiB that lz4 cannot shrink much
                for (int k = 0; k < 128; k++) {
                    ids.append(UUID.randomUUID().toString().replace("-", ""));
                }
                String uri = "/inventory/stock/" + i + "?ids=" + ids;
                calls = calls.compose(v -> out.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
                                .setPort(mock.port()).setURI(uri).putHeader("traceparent", traceparent))
                        .compose(r -> r.send().compose(resp -> resp.body())).mapEmpty());
            }
            calls.onComplete(ar -> req.response().putHeader("content-type", "application/json").end("{}"));
        }).listen(0, "127.0.0.1").await();
        Case c = Fixtures.caseOf("calls-1", Fixtures.request("GET", "shop:8080", "/report", null, null),
                Fixtures.json(200, "{}"), List.of(), 1);
        ReplayResult r = replayer("http://127.0.0.1:" + candidate.actualPort()).replay(c).await();
        assertEquals(Verdict.FAIL, r.getVerdict());
        assertEquals(300, r.getMocks().getUnmatched(), "every call counted, listed or not");
        assertEquals(300, r.getDifferenceCount());
        int bytes = r.toByteBuffer().remaining();
        assertTrue(bytes < 1_000_000, "result of " + bytes + " bytes");
        assertTrue(r.getDifferences().size() < 300 && r.getMocks().getCalls().size() < 300);
        assertTrue(r.getNotes().stream().anyMatch(n -> n.contains("more difference(s) not listed: a result lists the first "
                + r.getDifferences().size() + " (at most 200")), r.getNotes()::toString);
        assertTrue(r.getNotes().stream().anyMatch(n -> n.contains((300 - r.getMocks().getCalls().size())
                + " more dependency call(s) not listed")), r.getNotes()::toString);
    }

    @Test
    void aRecordingTheClientCannotSendIsThisCasesErrorAndReleasesItsTraceId() {
        Case c = Fixtures.caseOf("odd-1", Fixtures.request("", "shop:8080", "/items/1", null, null),
                Fixtures.json(200, "{}"), List.of(), 1);
        ReplayResult r = replayer("http://127.0.0.1:1").replay(c).await();
        assertEquals(Verdict.ERROR, r.getVerdict());
        assertTrue(r.getError().startsWith("cannot send the recorded request"), r.getError());
        assertEquals(0, registry.inFlight());
    }

    @Test
    void aCaseWhoseRecordingsCannotBeReadIsThisCasesErrorNotTheBatchs() {
        // a recorded call without its request (no decoded record has one; a bug elsewhere could): building the mocks throws
        Case c = Fixtures.shopCase(5, 7, 1);
        c.getSample().getOutboundCalls().get(0).setRequest(null);
        Future<ReplayResult> replayed = assertDoesNotThrow(() -> replayer("http://127.0.0.1:1").replay(c));
        ReplayResult r = replayed.await();
        assertEquals(Verdict.ERROR, r.getVerdict());
        assertEquals("item-5", r.getCaseId());
        assertTrue(r.getError().startsWith("the case could not be replayed: java.lang.NullPointerException"), r.getError());
        assertEquals(0, registry.inFlight());
    }

    @Test
    void aResultThatCannotBeBuiltAfterTheAnswerIsStillAnErrorResultWithItsReason() {
        // the candidate answers; listing the case's unused recorded call then fails (a method its builder refuses)
        ShopCandidate shop = candidate(false, true);
        Case c = Fixtures.shopCase(5, 7, 1);
        c.getSample().getOutboundCalls().get(0).getRequest().setMethod(null);
        ReplayResult r = replayer(shop.url()).replay(c).await();
        assertEquals(Verdict.ERROR, r.getVerdict());
        assertEquals("item-5", r.getCaseId());
        assertEquals("GET /items/{id}", r.getRoute());
        assertTrue(r.getError().startsWith("the case could not be replayed: org.apache.avro.AvroRuntimeException"), r.getError());
        assertEquals(0, registry.inFlight());
    }

    /**
     * The candidate answered, and the record of its answer could not be built (here a value its schema refuses: no
     * answer on the wire makes one today, every value Vert.x hands over fits it): the case's ERROR says the answer
     * could not be recorded, and why, where it said the candidate "did not answer".
     */
    @Test
    void anAnswerWhoseRecordCannotBeBuiltIsAnErrorSayingSoNotThatTheCandidateDidNotAnswer() {
        ShopCandidate shop = candidate(false, true);
        CandidateClient client = new CandidateClient(vertx, HttpUrl.parse(shop.url()), 8, Duration.ofSeconds(5), Map.of(),
                (req, resp, body) -> {
                    CandidateClient.Answer answer = CandidateClient.record(req, resp, body);
                    Header.newBuilder().setName("X-Refused").setValue(null).build(); // a value the schema refuses
                    return answer;
                });
        CaseReplayer replayer = new CaseReplayer("run-1", "w1", client, registry, new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE),
                new ResponseComparator(CompareOptions.defaults(), IgnoreRules.none()), ResultRedaction.of(RedactionKey.random()),
                Clock.systemUTC());
        ReplayResult r = replayer.replay(Fixtures.shopCase(5, 7, 1)).await();
        assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
        assertEquals("candidate " + shop.url() + " answered, but its answer could not be recorded:"
                + " org.apache.avro.AvroRuntimeException: Field value type:STRING pos:1 does not accept null values",
                r.getError());
        assertEquals(1, r.getMocks().getMatched()); // the candidate's dependency call is in the result, as for any ERROR
        assertEquals(0, registry.inFlight());
    }

    /**
     * A recorded dependency answer the mock's server refuses to write (a header name with a space, a value with a
     * control character, a status that is no status code) is answered {@code 500 error}: the candidate's answer to that
     * differs, and the case's result says why, where it showed an unexplained FAIL ({@code $.stock} 7 for -1).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"name", "value", "status"})
    void aRecordedAnswerTheMockCannotServeIsNotedOnItsCase(String refused) {
        ShopCandidate shop = candidate(false, true);
        Case c = Fixtures.shopCase(5, 7, 1);
        io.tapline.avro.HttpResponse recorded = c.getSample().getOutboundCalls().get(0).getResponse();
        switch (refused) {
            case "name" -> recorded.setHeaders(List.of(new Header("X Stock", "1")));
            case "value" -> recorded.setHeaders(List.of(new Header("X-Stock", "1\u0001")));
            default -> recorded.setStatus(-1);
        }
        ReplayResult r = replayer(shop.url()).replay(c).await();
        assertEquals(Verdict.FAIL, r.getVerdict(), r::toString);
        assertEquals(List.of("$.stock"), r.getDifferences().stream().map(Difference::getPath).toList());
        List<String> notes = r.getNotes().stream().filter(n -> n.contains("could not serve")).toList();
        assertEquals(1, notes.size(), r::toString);
        assertTrue(notes.get(0).startsWith("the candidate's call GET /inventory/stock/5 matched a recorded answer the mock"
                + " could not serve; it was answered 500 error: java.lang.IllegalArgumentException: "), notes.get(0));
    }

    /** What the log said while {@code body} ran; the log goes back to standard error after it. */
    private static String logged(Runnable body) {
        java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
        io.tapline.logging.TaplineLogging.output(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            io.tapline.logging.TaplineLogging.flush(Duration.ofSeconds(10));
            io.tapline.logging.TaplineLogging.output(System.err);
        }
        return logged.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * Recordings the mock cannot serve, matched by three cases in a row: each case notes it, and the log says it in one
     * WARN line without a stack (at most one every 10 s, with a count), naming the method and the failure but not the
     * target (the candidate's, unredacted). Before, each call logged an ERROR "mock failed to answer", the line and
     * stack trace of a bug in the mock.
     */
    @Test
    void recordedAnswersTheMockCannotServeAreOneWarningNotAnErrorWithAStackPerCall() {
        ShopCandidate shop = candidate(false, true);
        String log = logged(() -> {
            CaseReplayer replayer = replayer(shop.url());
            for (int i = 0; i < 3; i++) {
                Case c = Fixtures.shopCase(5 + i, 7, 1);
                c.getSample().getOutboundCalls().get(0).getResponse().setHeaders(List.of(new Header("X Stock", "1")));
                ReplayResult r = replayer.replay(c).await();
                assertTrue(r.getNotes().stream().anyMatch(n -> n.contains("could not serve")), r::toString);
            }
        });
        assertFalse(log.contains("mock failed to answer"), log);
        assertFalse(log.contains("\tat "), log);
        List<String> lines = log.lines().filter(l -> l.contains("could not serve")).toList();
        assertEquals(1, lines.size(), log);
        assertTrue(lines.get(0).contains(" WARN io.tapline.replay.mock.MockServer - the mock could not serve the recorded"
                + " answer a GET call matched, and answered 500 error: java.lang.IllegalArgumentException: "), log);
        assertTrue(lines.get(0).endsWith("(1 such call(s) since the last warning, each noted on its case)"), log);
        assertFalse(lines.get(0).contains("/inventory"), log);
    }

    /**
     * A throw inside the answer's callback (building the result) becomes the case's ERROR, and is logged once with its
     * stack: before, the result held the exception's text only and the log had nothing, so a bug in building results
     * left no stack trace anywhere.
     */
    @Test
    void aCaseThatCouldNotBeReplayedIsLoggedWithItsStackOnce() throws Exception {
        ShopCandidate shop = candidate(false, true);
        String log = logged(() -> {
            CaseReplayer replayer = replayer(shop.url());
            for (int i = 0; i < 3; i++) {
                Case c = Fixtures.shopCase(5 + i, 7, 1);
                c.getSample().getOutboundCalls().get(0).getRequest().setMethod(null);
                assertEquals(Verdict.ERROR, replayer.replay(c).await().getVerdict());
            }
        });
        List<String> lines = log.lines().filter(l -> l.contains("could not be replayed")).toList();
        assertEquals(1, lines.size(), log);
        assertTrue(lines.get(0).contains(" WARN io.tapline.replay.run.CaseReplayer - case item-5 of run run-1 could not be"
                + " replayed, its result is an ERROR: org.apache.avro.AvroRuntimeException"), log);
        assertTrue(log.contains("\tat org.apache.avro"), log);
    }

    @Test
    void aValueLearnedAsNoiseInWhatTheAppSendsADependencyIsNotAFailureButAChangedAmountIs() {
        // A candidate that reserves stock with a fresh idempotency key per request, as production did.
        AtomicInteger quantity = new AtomicInteger(2);
        HttpServer candidate = vertx.createHttpServer().requestHandler(req -> vertx.createHttpClient()
                .request(new RequestOptions().setMethod(HttpMethod.POST)
                        .setAbsoluteURI("http://127.0.0.1:" + mock.port() + "/inventory/reserve")
                        .putHeader("traceparent", req.getHeader("traceparent"))
                        .putHeader("content-type", "application/json"))
                .compose(r -> r.send("{\"qty\":" + quantity.get() + ",\"idempotencyKey\":\"" + UUID.randomUUID() + "\"}"))
                .onComplete(ar -> req.response().putHeader("content-type", "application/json").end("{\"ok\":true}")))
                .listen(0, "127.0.0.1").await();
        Case c = Fixtures.caseOf("order-1", Fixtures.request("POST", "shop:8080", "/orders", null, "{}"),
                Fixtures.json(200, "{\"ok\":true}"), List.of(Fixtures.call("inventory", "POST", "/reserve", null,
                        "{\"qty\":2,\"idempotencyKey\":\"k-recorded\"}", Fixtures.json(200, "{}"))), 1);
        IgnoreRules noise = IgnoreRules.none();
        noise.learn("shop POST /orders", NoiseProfile.newBuilder().setService("shop").setRoute("POST /orders")
                .setComparedPairs(20).setUpdatedAt(Instant.EPOCH)
                .setFields(List.of(new NoisyField("call:POST inventory /reserve $.idempotencyKey", 20L, 20L, true, null, null))).build());
        CaseReplayer replayer = new CaseReplayer("run-1", "w1",
                new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + candidate.actualPort()), 8,
                        Duration.ofSeconds(5)),
                registry, new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE),
                new ResponseComparator(CompareOptions.defaults(), noise), ResultRedaction.of(RedactionKey.random()),
                Clock.systemUTC());

        ReplayResult same = replayer.replay(c).await();
        assertEquals(Verdict.PASS, same.getVerdict(), () -> same.getDifferences().toString());
        assertEquals(1, same.getIgnoredDifferences());

        quantity.set(3);
        ReplayResult changed = replayer.replay(c).await();
        assertEquals(Verdict.FAIL, changed.getVerdict());
        assertEquals(List.of("call:POST inventory /reserve $.qty"),
                changed.getDifferences().stream().map(d -> d.getPath()).toList());
        assertEquals(0, realInventoryHits.get());
    }

    @Test
    void withTheSidecarsKeyRedactedValuesAreJudgedAndTheTestCredentialCountsAsTheRecordedOne() {
        // A candidate that forwards the caller's credential to inventory and answers with the customer's email.
        RedactionKey key = RedactionKey.of("sidecar-key-0123456789");
        String email = "ann@example.com";
        AtomicInteger forwarded = new AtomicInteger(1);
        HttpServer candidate = vertx.createHttpServer().requestHandler(req -> vertx.createHttpClient()
                .request(new RequestOptions().setMethod(HttpMethod.GET)
                        .setAbsoluteURI("http://127.0.0.1:" + mock.port() + "/inventory/stock/1")
                        .putHeader("traceparent", req.getHeader("traceparent"))
                        .putHeader("authorization", forwarded.get() == 1 ? req.getHeader("authorization") : "Bearer own-key"))
                .compose(r -> r.send())
                .onComplete(ar -> req.response().putHeader("content-type", "application/json")
                        .end("{\"email\":\"" + (forwarded.get() == 3 ? "bob@example.com" : email) + "\"}")))
                .listen(0, "127.0.0.1").await();
        // As the sidecar recorded it: the user's bearer token in both requests, the email in the response.
        String user = "Bearer " + key.token("user-token");
        io.tapline.avro.HttpRequest inbound = Fixtures.request("GET", "shop:8080", "/me", null, null);
        inbound.getHeaders().add(new Header("Authorization", user));
        io.tapline.avro.OutboundCall stock = Fixtures.call("inventory", "GET", "/stock/1", null, null, Fixtures.json(200, "{}"));
        stock.getRequest().getHeaders().add(new Header("Authorization", user));
        Case c = Fixtures.caseOf("me-1", inbound, Fixtures.json(200, "{\"email\":\"" + key.token(email) + "\"}"),
                List.of(stock), 1);
        Map<String, String> testCredential = Map.of("Authorization", "Bearer test-key");

        CaseReplayer unkeyed = keyedReplayer(candidate, testCredential, CompareOptions.defaults(), RedactionKey.random());
        ReplayResult notJudged = unkeyed.replay(c).await();
        assertEquals(Verdict.PASS, notJudged.getVerdict(), () -> notJudged.getDifferences().toString());
        assertEquals(List.of("1 response difference(s) not judged: the recorded value was redacted at capture ($.email)"),
                notJudged.getNotes());

        CompareOptions d = CompareOptions.defaults();
        CaseReplayer keyed = keyedReplayer(candidate, testCredential, new CompareOptions(d.ignoreArrayOrder(),
                d.numericTolerance(), d.ignoredHeaders(), d.compareHeaders(), RedactedValues.keyed(key)), key);
        ReplayResult same = keyed.replay(c).await();
        assertEquals(Verdict.PASS, same.getVerdict(), () -> same.getDifferences().toString());
        assertEquals(List.of(), same.getNotes(), "judged: nothing left unjudged");
        assertEquals(0, same.getIgnoredDifferences());

        forwarded.set(2); // the candidate sends inventory its own credential instead of the caller's
        ReplayResult credential = keyed.replay(c).await();
        assertEquals(Verdict.FAIL, credential.getVerdict());
        assertEquals(List.of("call:GET inventory /stock/1 header:authorization"),
                credential.getDifferences().stream().map(x -> x.getPath()).toList());
        assertEquals("Bearer " + key.token("own-key"), credential.getDifferences().get(0).getActual());

        forwarded.set(3); // another customer's email
        ReplayResult otherEmail = keyed.replay(c).await();
        assertEquals(Verdict.FAIL, otherEmail.getVerdict());
        assertEquals("$.email", otherEmail.getDifferences().get(0).getPath());
        assertEquals("\"" + key.token("bob@example.com") + "\"", otherEmail.getDifferences().get(0).getActual());
        assertFalse(otherEmail.toString().contains("bob@example.com"), "the candidate's plain value is never published");
        assertEquals(0, realInventoryHits.get());
    }

    private CaseReplayer keyedReplayer(HttpServer candidate, Map<String, String> headers, CompareOptions options,
                                       RedactionKey publishedKey) {
        return new CaseReplayer("run-1", "w1",
                new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + candidate.actualPort()), 8,
                        Duration.ofSeconds(5), headers),
                registry, new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE, MockIgnoreRules.none(), options),
                new ResponseComparator(options, IgnoreRules.none()), ResultRedaction.of(publishedKey), Clock.systemUTC());
    }

    @Test
    void secretsTheCandidateEmitsWhereProductionShowedNoneArePublishedOnlyAsTokens() {
        // Production answered with a name only and read stock without credentials. This candidate also returns the
        // customer's email and card, sets an API key header, and calls inventory with a key and an email in the query.
        HttpServer candidate = vertx.createHttpServer().requestHandler(req -> vertx.createHttpClient()
                .request(new RequestOptions().setMethod(HttpMethod.GET)
                        .setAbsoluteURI("http://127.0.0.1:" + mock.port() + "/inventory/stock/1?api_key=k-999&owner=ann%40example.com")
                        .putHeader("traceparent", req.getHeader("traceparent"))
                        .putHeader("x-api-key", "live-123"))
                .compose(r -> r.send())
                .onComplete(ar -> req.response().putHeader("content-type", "application/json").putHeader("x-api-key", "live-123")
                        .end("{\"name\":\"Ann\",\"email\":\"ann@example.com\",\"card\":\"4111 1111 1111 1111\","
                                + "\"password\":\"hunter2\"}")))
                .listen(0, "127.0.0.1").await();
        Case c = Fixtures.caseOf("me-2", Fixtures.request("GET", "shop:8080", "/me", null, null),
                Fixtures.json(200, "{\"name\":\"Ann\"}"),
                List.of(Fixtures.call("inventory", "GET", "/stock/1", null, null, Fixtures.json(200, "{}"))), 1);
        RedactionKey key = RedactionKey.of("sidecar-key-0123456789");
        List<String> secrets = List.of("ann@example.com", "ann%40example.com", "4111 1111 1111 1111", "live-123", "k-999", "hunter2");

        ReplayResult keyed = keyedReplayer(candidate, Map.of(), CompareOptions.defaults(), key).replay(c).await();
        assertEquals(Verdict.FAIL, keyed.getVerdict());
        String published = keyed.toString();
        for (String secret : secrets) {
            assertFalse(published.contains(secret), () -> secret + " published in " + published);
        }
        Map<String, String> actual = new java.util.TreeMap<>();
        keyed.getDifferences().forEach(x -> actual.put(x.getPath(), x.getActual()));
        assertEquals("\"" + key.token("ann@example.com") + "\"", actual.get("$.email"), "the sidecar's token: comparable with captures");
        assertEquals("\"" + key.token("4111 1111 1111 1111") + "\"", actual.get("$.card"));
        assertEquals("\"" + key.token("hunter2") + "\"", actual.get("$.password"));
        assertEquals(key.token("live-123"), actual.get("header:x-api-key"));
        String call = "call:GET inventory /stock/1?api_key=" + key.token("k-999") + "&owner=" + key.token("ann@example.com");
        assertTrue(actual.containsKey(call), () -> "the unmatched call by its redacted URL: " + actual.keySet());
        assertEquals("/stock/1?api_key=" + key.token("k-999") + "&owner=" + key.token("ann@example.com"),
                keyed.getMocks().getCalls().get(0).getPath());

        ReplayResult unkeyed = keyedReplayer(candidate, Map.of(), CompareOptions.defaults(), RedactionKey.random()).replay(c).await();
        String unkeyedText = unkeyed.toString();
        for (String secret : secrets) {
            assertFalse(unkeyedText.contains(secret), () -> secret + " published in " + unkeyedText);
        }
        assertFalse(unkeyedText.contains(key.token("ann@example.com")), "another key: tokens that match no capture");
        assertTrue(unkeyedText.contains("\"$.email\""), unkeyedText);
        assertEquals(0, realInventoryHits.get());
    }

    @Test
    void secretsInAnAnswerThatIsNotJsonOrInACallTheMockRefusedAreNotPublished() {
        // The candidate answers JSON with an unquoted password, whose parse error named it, and makes a call the mock
        // answers 413 for its body, named in a note by the target it sent, API key and email in the query.
        HttpServer candidate = vertx.createHttpServer().requestHandler(req -> vertx.createHttpClient()
                .request(new RequestOptions().setMethod(HttpMethod.POST)
                        .setAbsoluteURI("http://127.0.0.1:" + mock.port() + "/inventory/stock/1?api_key=k-999&owner=ann%40example.com")
                        .putHeader("traceparent", req.getHeader("traceparent")))
                .compose(r -> r.send(io.vertx.core.buffer.Buffer.buffer(new byte[(1 << 20) + 1])))
                .onComplete(ar -> req.response().putHeader("content-type", "application/json")
                        .end("{\"name\":\"Ann\",\"password\": hunter2}")))
                .listen(0, "127.0.0.1").await();
        Case c = Fixtures.caseOf("me-3", Fixtures.request("GET", "shop:8080", "/me", null, null),
                Fixtures.json(200, "{\"name\":\"Ann\"}"), List.of(), 1);
        RedactionKey key = RedactionKey.of("sidecar-key-0123456789");

        ReplayResult r = keyedReplayer(candidate, Map.of(), CompareOptions.defaults(), key).replay(c).await();
        assertEquals(Verdict.FAIL, r.getVerdict(), () -> String.valueOf(r.getError()));
        String published = r.toString();
        for (String secret : List.of("hunter2", "k-999", "ann%40example.com", "ann@example.com")) {
            assertFalse(published.contains(secret), () -> secret + " published in " + published);
        }
        assertTrue(r.getDifferences().get(0).getActual().startsWith("not JSON (Unrecognized value: was expecting"),
                r.getDifferences()::toString);
        assertTrue(r.getDifferences().get(0).getActual().endsWith("\"password\": \"" + key.token("hunter2") + "\"}"),
                r.getDifferences()::toString);
        assertEquals(1, r.getNotes().size(), r.getNotes()::toString);
        assertTrue(r.getNotes().get(0).startsWith("the candidate's call POST /inventory/stock/1?api_key=" + key.token("k-999")
                + "&owner=" + key.token("ann@example.com") + " was answered 413"), r.getNotes()::toString);
    }

    @Test
    void recordedCallTheCandidateNoLongerMakesIsAnUnusedCallDifference() {
        ShopCandidate shop = candidate(false, true);
        Case c = Fixtures.shopCase(5, 7, 1);
        List<io.tapline.avro.OutboundCall> calls = new ArrayList<>(c.getSample().getOutboundCalls());
        calls.add(Fixtures.call("audit", "POST", "/events", null, "{\"e\":1}", Fixtures.json(204, "")));
        c.getSample().setOutboundCalls(calls);
        ReplayResult r = replayer(shop.url()).replay(c).await();
        assertEquals(Verdict.FAIL, r.getVerdict());
        assertEquals(DifferenceKind.UNUSED_CALL, r.getDifferences().get(0).getKind());
        assertEquals(1, r.getMocks().getUnused());
    }

    @Test
    void callWithNoRecordedMatchIsAnsweredUnmatchedAndReported() {
        ShopCandidate shop = candidate(false, true);
        Case c = Fixtures.shopCase(5, 7, 1);
        c.getSample().setOutboundCalls(List.of(Fixtures.call("inventory", "GET", "/reservations/5", null, null,
                Fixtures.json(200, "{}"))));
        ReplayResult r = replayer(shop.url()).replay(c).await();
        assertEquals(Verdict.FAIL, r.getVerdict());
        assertTrue(r.getDifferences().stream().anyMatch(d -> d.getKind() == DifferenceKind.UNMATCHED_CALL
                && d.getPath().equals("call:GET inventory /stock/5")), () -> r.getDifferences().toString());
        assertEquals(0, realInventoryHits.get());
    }

    /** {@link Fixtures#shopCase} whose inventory response was recorded truncated at capture, keeping {@code kept}. */
    private static Case withTruncatedInventoryResponse(Case c, String kept) {
        io.tapline.avro.OutboundCall inventory = c.getSample().getOutboundCalls().get(0);
        inventory.setResponse(io.tapline.avro.HttpResponse.newBuilder(Fixtures.json(200, kept)).setTruncated(true)
                .setOriginalSize(40_000).build());
        return c;
    }

    @Test
    void differencesAfterATruncatedDependencyResponseAreInconclusiveNotARegression() {
        ShopCandidate shop = candidate(false, true);
        // the candidate cannot parse the cut inventory body, so it answers stock -1: the capture's doing
        Case c = withTruncatedInventoryResponse(Fixtures.shopCase(5, 7, 1), "{\"stock\":7,\"warehou");
        ReplayResult r = replayer(shop.url()).replay(c).await();
        assertEquals(Verdict.SKIPPED, r.getVerdict(), () -> r.getDifferences().toString());
        assertTrue(r.getError().startsWith("inconclusive, not judged a regression: 1 difference(s)"), r.getError());
        assertEquals("$.stock", r.getDifferences().get(0).getPath());
        assertEquals(List.of("dependency response of call:GET inventory /stock/5 was recorded truncated at capture"
                + " (19 of 40000 bytes kept) and served cut"), r.getNotes());
    }

    @Test
    void truncatedDependencyResponseThatChangedNothingStillPassesWithANote() {
        ShopCandidate shop = candidate(false, true);
        Case c = withTruncatedInventoryResponse(Fixtures.shopCase(5, 7, 1), "{\"stock\":7}");
        ReplayResult r = replayer(shop.url()).replay(c).await();
        assertEquals(Verdict.PASS, r.getVerdict(), () -> r.getDifferences().toString());
        assertEquals(1, r.getNotes().size());
    }

    @Test
    void truncatedRecordedResponseBodyIsNotAFalseRegression() {
        ShopCandidate shop = candidate(false, true);
        Case c = Fixtures.shopCase(5, 7, 1);
        io.tapline.avro.HttpResponse full = c.getSample().getResponse();
        String prefix = "{\"id\":5,\"name\":\"it";
        c.getSample().setResponse(io.tapline.avro.HttpResponse.newBuilder(full)
                .setBody(java.nio.ByteBuffer.wrap(prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .setTruncated(true).build());
        ReplayResult r = replayer(shop.url()).replay(c).await();
        assertEquals(Verdict.PASS, r.getVerdict(), () -> r.getDifferences().toString());
        assertTrue(r.getNotes().get(0).startsWith("response body not compared"), r.getNotes()::toString);
    }

    @Test
    void concurrentCasesNeverShareMocksWhenTraceContextPropagates() {
        ShopCandidate shop = candidate(false, true);
        CaseReplayer replayer = replayer(shop.url());
        List<Future<ReplayResult>> all = new ArrayList<>();
        for (int id = 1; id <= 40; id++) {
            all.add(replayer.replay(Fixtures.shopCase(id, id * 3, 1)));
        }
        for (Future<ReplayResult> f : all) {
            ReplayResult r = f.await();
            assertEquals(Verdict.PASS, r.getVerdict(), () -> r.getCaseId() + " " + r.getDifferences());
        }
        assertEquals(0, registry.unattributableCalls());
    }

    @Test
    void unreachableCandidateIsAnError() {
        ReplayResult r = replayer("http://127.0.0.1:1").replay(Fixtures.shopCase(5, 7, 1)).await();
        assertEquals(Verdict.ERROR, r.getVerdict());
        assertTrue(r.getError().contains("did not answer"));
    }
}
