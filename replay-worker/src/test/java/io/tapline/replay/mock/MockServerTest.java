package io.tapline.replay.mock;

import io.tapline.avro.DifferenceKind;
import io.tapline.avro.Difference;
import io.tapline.avro.OutboundCall;
import io.tapline.http.HttpUrl;
import io.tapline.logging.TaplineLogging;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.event.Level;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.tapline.replay.Fixtures.call;
import static io.tapline.replay.Fixtures.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class MockServerTest {

    private Vertx vertx;
    private HttpClientAgent client;
    private final MockRegistry registry = new MockRegistry();
    private final MockMatcher matcher = new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE);
    private final AtomicInteger realHits = new AtomicInteger();
    private final AtomicReference<String> realUri = new AtomicReference<>();
    private final AtomicReference<io.vertx.core.MultiMap> realHeaders = new AtomicReference<>();
    private HttpServer real;

    @BeforeEach
    void setUp() {
        vertx = Vertx.vertx();
        client = vertx.createHttpClient(new HttpClientOptions());
        real = vertx.createHttpServer().requestHandler(r -> {
            realHits.incrementAndGet();
            realUri.set(r.uri());
            realHeaders.set(io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(r.headers()));
            r.response().end("real");
        }).listen(0, "127.0.0.1").await();
    }

    @AfterEach
    void tearDown() {
        // Bounded as the replay command bounds it (Closing): Vert.x's client pool (5.0.12 and 5.2.3) can fail to close
        // when it closes at about the moment a live call's wait for a connection times out, its connect still under way
        // (the pool's close fails the call a second time and throws; README, Known limitations), which
        // aLiveDependencyThatDoesNotAcceptIsGivenUpAtTheRequestTimeout can meet. The tests' assertions have run by then:
        // such a close leaves every thread's stack in the report, and the build goes on.
        if (!io.tapline.replay.http.Closing.await(vertx.close(), java.time.Duration.ofSeconds(10), "the test's Vert.x")) {
            for (java.lang.management.ThreadInfo t : java.lang.management.ManagementFactory.getThreadMXBean()
                    .dumpAllThreads(true, true)) {
                System.err.print(t);
                for (StackTraceElement frame : t.getStackTrace()) {
                    System.err.println("\tat " + frame);
                }
            }
        }
    }

    private MockServer start(Set<String> allowLive) {
        return start(Map.of("inventory", realUrl("")), allowLive);
    }

    private MockServer start(Map<String, HttpUrl> routes, Set<String> allowLive) {
        return MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0, routes, allowLive, 502, 1024), registry).await();
    }

    private HttpUrl realUrl(String path) {
        return HttpUrl.parse("http://127.0.0.1:" + real.actualPort() + path);
    }

    private record Answer(int status, String body) {
    }

    private Answer get(int port, String uri, String traceparent) {
        RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port).setURI(uri);
        if (traceparent != null) {
            o.putHeader("traceparent", traceparent);
        }
        // On a Vert.x context, subscribing to the body in the callback that gets the response head: from the test
        // thread, a callback can run on this thread while the event loop delivers the body, which is then lost.
        io.vertx.core.Promise<Answer> answer = io.vertx.core.Promise.promise();
        vertx.runOnContext(v -> client.request(o).compose(r -> r.send()
                .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b.toString())))).onComplete(answer));
        return answer.future().await();
    }

    private String register(String caseId, List<OutboundCall> calls) {
        return register(caseId, calls, matcher);
    }

    private String register(String caseId, List<OutboundCall> calls, MockMatcher caseMatcher) {
        return register(new CaseMocks(caseId, calls, caseMatcher));
    }

    /** Registers the case's mocks under its trace id; returns the traceparent that carries it. */
    private String register(CaseMocks mocks) {
        TraceContext.CaseTrace trace = TraceContext.forCase("run", mocks.caseId());
        registry.register(trace.traceId(), mocks);
        return trace.traceparent();
    }

    @Test
    void namedRouteCallIsAnsweredFromItsOwnCaseByTraceId() {
        MockServer mock = start(Set.of());
        String tp1 = register("c1", List.of(call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}"))));
        String tp2 = register("c2", List.of(call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":2}"))));
        assertEquals(new Answer(200, "{\"n\":2}"), get(mock.port(), "/inventory/stock/1", tp2));
        assertEquals(new Answer(200, "{\"n\":1}"), get(mock.port(), "/inventory/stock/1", tp1));
        assertEquals(0, realHits.get());
    }

    @Test
    void forwardProxyCallIsMatchedByHostAndPort() {
        MockServer mock = start(Set.of());
        String tp = register("c1", List.of(call("api.local:8080", "GET", "/v1/rates", "cur=EUR", null, json(200, "{\"r\":1.1}"))));
        assertEquals(new Answer(200, "{\"r\":1.1}"), get(mock.port(), "http://api.local:8080/v1/rates?cur=EUR", tp));
    }

    @Test
    void aHeadAnswerCarriesTheRecordedContentLengthAndNoBody() {
        MockServer mock = start(Set.of());
        io.tapline.avro.Header length = new io.tapline.avro.Header("Content-Length", "1234");
        String tp = register("c1", List.of(
                call("inventory", "HEAD", "/stock/1", null, null,
                        io.tapline.replay.Fixtures.response(200, "application/json", new byte[0], null, length)),
                call("inventory", "GET", "/stock/2", null, null,
                        io.tapline.replay.Fixtures.response(304, null, new byte[0], null,
                                new io.tapline.avro.Header("ETag", "\"v2\""), length))));
        RequestOptions head = new RequestOptions().setMethod(HttpMethod.HEAD).setHost("127.0.0.1").setPort(mock.port())
                .setURI("/inventory/stock/1").putHeader("traceparent", tp);
        RequestOptions notModified = new RequestOptions(head).setMethod(HttpMethod.GET).setURI("/inventory/stock/2");
        for (RequestOptions o : List.of(head, notModified)) {
            io.vertx.core.Promise<List<String>> answer = io.vertx.core.Promise.promise();
            vertx.runOnContext(v -> client.request(o).compose(r -> r.send().compose(resp -> resp.body().map(b ->
                    List.of(String.valueOf(resp.statusCode()), String.valueOf(resp.getHeader("content-length")),
                            b.toString()))))
                    .onComplete(answer));
            List<String> got = answer.future().await();
            assertEquals("1234", got.get(1), o.getMethod() + " " + got);
            assertEquals("", got.get(2));
        }
        assertEquals(0, realHits.get());
    }

    @Test
    void aBodyTheSidecarDecodedIsServedWithoutItsContentEncodingAndAnEncodedOneWithIt() throws Exception {
        MockServer mock = start(Set.of());
        io.tapline.avro.Header gzip = new io.tapline.avro.Header("Content-Encoding", "gzip");
        java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(zipped)) {
            z.write("{\"n\":2}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String tp = register("c1", List.of(
                // as the sidecar records a gzip answer: the body decoded (no content encoding), the header as sent
                call("inventory", "GET", "/stock/1", null, null, io.tapline.replay.Fixtures.response(200,
                        "application/json", "{\"n\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8), null, gzip)),
                // as another writer may: the body still encoded, and said so
                call("inventory", "GET", "/stock/2", null, null, io.tapline.replay.Fixtures.response(200,
                        "application/json", zipped.toByteArray(), "gzip", gzip))));
        for (String id : List.of("1", "2")) {
            RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(mock.port())
                    .setURI("/inventory/stock/" + id).putHeader("traceparent", tp);
            io.vertx.core.Promise<List<Object>> answer = io.vertx.core.Promise.promise();
            vertx.runOnContext(v -> client.request(o).compose(r -> r.send().compose(resp -> resp.body().map(b ->
                    List.<Object>of(String.valueOf(resp.getHeader("content-encoding")), b.getBytes()))))
                    .onComplete(answer));
            List<Object> got = answer.future().await();
            if (id.equals("1")) {
                assertEquals("null", got.get(0), "a decoded body is not labelled gzip");
                assertEquals("{\"n\":1}", new String((byte[]) got.get(1), java.nio.charset.StandardCharsets.UTF_8));
            } else {
                assertEquals("gzip", got.get(0));
                org.junit.jupiter.api.Assertions.assertArrayEquals(zipped.toByteArray(), (byte[]) got.get(1));
            }
        }
    }

    @Test
    void aCallWithARequestLineLongerThanVertxsDefaultIsAnswered() {
        MockServer mock = start(Set.of());
        String ids = "ids=" + "1,".repeat(5000) + "2";
        String tp = register("c1", List.of(call("inventory", "GET", "/stock", ids, null, json(200, "{\"n\":2}"))));
        assertEquals(new Answer(200, "{\"n\":2}"), get(mock.port(), "/inventory/stock?" + ids, tp));
    }

    @Test
    void unmatchedCallGetsTheConfiguredStatusAndIsNeverForwarded() {
        MockServer mock = start(Set.of());
        String tp = register("c1", List.of(call("inventory", "GET", "/stock/1", null, null, json(200, "{}"))));
        assertEquals(502, get(mock.port(), "/inventory/orders/9", tp).status());
        assertEquals(0, realHits.get());
    }

    @Test
    void callForAnotherIdThanRecordedIsAnsweredUnmatched() {
        MockServer mock = start(Set.of());
        String tp = register("c1", List.of(call("inventory", "GET", "/items/17", null, null, json(200, "{\"id\":17}"))));
        assertEquals(502, get(mock.port(), "/inventory/items/42", tp).status());
        assertEquals(new Answer(200, "{\"id\":17}"), get(mock.port(), "/inventory/items/17", tp));
        assertEquals(0, realHits.get());
    }

    @Test
    void callWithAFreshIdempotencyKeyIsAnsweredOnlyWhenAMockIgnoreRuleNamesIt() {
        MockServer mock = start(Set.of());
        OutboundCall rates = call("api.local:8080", "GET", "/v1/rates", "cur=EUR&request_id=prod-1", null, json(200, "{\"r\":1.1}"));
        String uri = "http://api.local:8080/v1/rates?cur=EUR&request_id=replay-7";
        assertEquals(502, get(mock.port(), uri, register("strict", List.of(rates))).status());
        MockMatcher ignoring = new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE,
                MockIgnoreRules.parse(List.of("api.local query:request_id")));
        assertEquals(new Answer(200, "{\"r\":1.1}"), get(mock.port(), uri, register("ignoring", List.of(rates), ignoring)));
        assertEquals(0, realHits.get());
    }

    @Test
    void secondCallOfACallRecordedOnceIsAnsweredAndReportedAsExtra() {
        MockServer mock = start(Set.of());
        CaseMocks mocks = new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null,
                json(200, "{\"n\":1}"))), matcher);
        String tp = register(mocks);
        assertEquals(new Answer(200, "{\"n\":1}"), get(mock.port(), "/inventory/stock/1", tp));
        assertEquals(new Answer(200, "{\"n\":1}"), get(mock.port(), "/inventory/stock/1", tp));
        assertEquals(List.of(DifferenceKind.EXTRA), mocks.differences().stream().map(d -> d.getKind()).toList());
    }

    @Test
    void theBodyAndHeadersACandidateSendsAreComparedWithTheRecordingsUsingItsContentTypeAndEncoding() throws Exception {
        MockServer mock = start(Set.of());
        io.tapline.avro.OutboundCall reserve = call("inventory", "POST", "/reserve", null,
                "{\"sku\":\"SKU-7\",\"qty\":1}", json(200, "{\"ok\":true}"));
        reserve.getRequest().setHeaders(List.of(new io.tapline.avro.Header("Host", "127.0.0.1:15001"),
                new io.tapline.avro.Header("Content-Type", "application/json"),
                new io.tapline.avro.Header("X-Client", "shop/1")));
        CaseMocks mocks = new CaseMocks("c1", List.of(reserve), matcher);
        String tp = register(mocks);
        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
            out.write("{\"qty\":2,\"sku\":\"SKU-7\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(mock.port())
                .setURI("/inventory/reserve").putHeader("traceparent", tp).putHeader("Content-Type", "application/json")
                .putHeader("Content-Encoding", "gzip").putHeader("X-Client", "shop/2");
        io.vertx.core.Promise<Answer> answer = io.vertx.core.Promise.promise();
        vertx.runOnContext(v -> client.request(o).compose(r -> r.send(io.vertx.core.buffer.Buffer.buffer(gz.toByteArray()))
                .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b.toString())))).onComplete(answer));
        assertEquals(new Answer(200, "{\"ok\":true}"), answer.future().await(), "answered from the recording");
        assertEquals(List.of("call:POST inventory /reserve header:x-client HEADER shop/1 -> shop/2",
                "call:POST inventory /reserve $.qty CHANGED 1 -> 2"), mocks.differences().stream()
                .map(d -> d.getPath() + " " + d.getKind() + " " + d.getExpected() + " -> " + d.getActual()).toList());
        assertEquals(0, realHits.get());
    }

    @Test
    void aCallThatExpects100ContinueGetsItThenItsAnswer() throws Exception {
        MockServer mock = start(Set.of());
        String tp = register("c1", List.of(call("inventory", "POST", "/reserve", null, "{\"qty\":1}", json(200, "{\"ok\":true}"))));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", mock.port())) {
            s.setSoTimeout(5000); // a mock that never sends 100 fails here, as the client would stall
            java.io.OutputStream out = s.getOutputStream();
            out.write(("POST /inventory/reserve HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 9\r\nExpect: 100-continue\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            java.io.InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                head.append((char) in.read());
            }
            assertEquals("HTTP/1.1 100 Continue\r\n\r\n", head.toString());
            out.write("{\"qty\":1}".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            StringBuilder answer = new StringBuilder();
            while (!answer.toString().endsWith("{\"ok\":true}")) {
                int c = in.read();
                assertTrue(c >= 0, answer::toString);
                answer.append((char) c);
            }
            assertTrue(answer.toString().startsWith("HTTP/1.1 200"), answer::toString);
        }
    }

    @Test
    void callWithoutTraceContextIsAttributedOnlyWhenOneCaseIsInFlight() {
        MockServer mock = start(Set.of());
        register("c1", List.of(call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}"))));
        assertEquals(200, get(mock.port(), "/inventory/stock/1", null).status());
        register("c2", List.of(call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":2}"))));
        assertEquals(502, get(mock.port(), "/inventory/stock/1", null).status());
        assertEquals(1, registry.unattributableCalls());
    }

    @Test
    void aRecordedCallTheCandidateMakesLiveIsUsedAndComparedNotReportedUnused() {
        MockServer mock = start(Map.of("inventory", realUrl("")), Set.of("127.0.0.1"));
        CaseMocks mocks = new CaseMocks("c1", List.of(
                call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}")),
                call("inventory", "POST", "/reserve", null, "{\"qty\":1}", json(200, "{}"))), matcher);
        String tp = register(mocks);
        assertEquals(new Answer(200, "real"), get(mock.port(), "/inventory/stock/1", tp));
        io.vertx.core.Promise<Integer> posted = io.vertx.core.Promise.promise();
        vertx.runOnContext(v -> client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
                        .setPort(mock.port()).setURI("/inventory/reserve").putHeader("traceparent", tp)
                        .putHeader("content-type", "application/json"))
                .compose(r -> r.send("{\"qty\":2}").compose(resp -> resp.body().map(b -> resp.statusCode())))
                .onComplete(posted));
        assertEquals(200, posted.future().await());
        assertEquals(2, realHits.get(), "both went to the real dependency");
        assertEquals(0, mocks.usage().getUnused(), () -> mocks.usage().toString());
        List<Difference> diffs = mocks.differences();
        assertEquals(1, diffs.size(), diffs::toString);
        assertEquals("call:POST inventory /reserve $.qty", diffs.get(0).getPath(), "what it sent is still compared");
        assertEquals(List.of("live", "live"), mocks.usage().getCalls().stream().map(c -> c.getOutcome()).toList());
    }

    @Test
    void aCallWhoseRecordedQueryHoldsARedactedCredentialIsAnsweredFromItsRecording() {
        MockServer mock = start(Set.of());
        io.tapline.redaction.RedactionKey key = io.tapline.redaction.RedactionKey.of("sidecar-key-0123456789");
        List<OutboundCall> recorded = List.of(call("api.local:8080", "GET", "/v1/rates",
                "cur=EUR&api_key=" + key.token("live-key"), null, json(200, "{\"r\":1.1}")));
        // the run's test credential is not production's: with the key it is judged (and differs), without it not
        CaseMocks keyed = new CaseMocks("c1", recorded, matcher, io.tapline.replay.compare.IgnoreRules.Scope.NONE,
                io.tapline.replay.compare.RedactedValues.keyed(key));
        CaseMocks unkeyed = new CaseMocks("c2", recorded, matcher);
        assertEquals(new Answer(200, "{\"r\":1.1}"),
                get(mock.port(), "http://api.local:8080/v1/rates?cur=EUR&api_key=live-key", register(keyed)));
        assertEquals(List.of(), keyed.differences());
        assertEquals(new Answer(200, "{\"r\":1.1}"),
                get(mock.port(), "http://api.local:8080/v1/rates?cur=EUR&api_key=test-key", register(unkeyed)));
        assertEquals(List.of(), unkeyed.differences());
        assertTrue(unkeyed.notes().stream().anyMatch(n -> n.contains("matched without judging the values redacted at capture")),
                unkeyed.notes()::toString);
        assertEquals(0, realHits.get());
    }

    @Test
    void allowLiveForwardsOnlyTheNamedHost() {
        MockServer mock = start(Set.of("127.0.0.1"));
        String tp = register("c1", List.of());
        assertEquals(new Answer(200, "real"), get(mock.port(), "/inventory/anything", tp));
        assertEquals(1, realHits.get());
        assertEquals(1, mock.liveCalls());
    }

    @Test
    void aLateCallOfAFinishedCaseIsNotForwardedEvenToAnAllowLiveHost() {
        // The case was given up at its timeout (or answered), its --concurrency slot freed: what the candidate still
        // does for it is answered as a late call, never sent to a real dependency.
        MockServer mock = start(Set.of("127.0.0.1"));
        CaseMocks mocks = new CaseMocks("c1", List.of(), matcher);
        String tp = register(mocks);
        registry.unregister(TraceContext.traceIdOf(tp), mocks);
        Answer late = get(mock.port(), "/inventory/anything", tp);
        assertEquals(502, late.status(), late.body());
        assertEquals(0, realHits.get(), "nothing reached the real dependency");
        assertEquals(0, mock.liveCalls());
        assertEquals(1, registry.lateCalls());
        // a call of a case still in flight is forwarded as before
        assertEquals(new Answer(200, "real"), get(mock.port(), "/inventory/anything", register("c2", List.of())));
        assertEquals(1, realHits.get());
    }

    @Test
    void anHttpsTargetInAbsoluteFormIsRefusedNotForwardedInPlainText() {
        // The candidate asked for TLS; forwarding its request (credentials and all) as plain HTTP to port 443 of even
        // an allowed host would send it over the network in the clear. The sidecar answered such a target 400 too.
        MockServer mock = start(Set.of("127.0.0.1"));
        String tp = register("c1", List.of());
        Answer answer = get(mock.port(), "https://127.0.0.1:" + real.actualPort() + "/secret", tp);
        assertEquals(400, answer.status());
        assertTrue(answer.body().contains("https://"), answer.body());
        assertEquals(0, realHits.get());
        assertEquals(0, mock.liveCalls());
        assertEquals(new Answer(200, "real"), get(mock.port(), "http://127.0.0.1:" + real.actualPort() + "/plain", tp));
    }

    @Test
    void theCandidatesProxyCredentialsAreNotForwardedToALiveDependency() {
        // Proxy-Authorization is for the proxy the candidate talks to (HTTP_PROXY=http://user:pass@...), which the
        // mock stands in for: the sidecar never passed it on, and a live dependency must not get it either.
        MockServer mock = start(Set.of("127.0.0.1"));
        String tp = register("c1", List.of());
        for (String uri : List.of("/inventory/stock/1", "http://127.0.0.1:" + real.actualPort() + "/stock/1")) {
            io.vertx.core.Promise<Integer> sent = io.vertx.core.Promise.promise();
            vertx.runOnContext(v -> client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
                            .setPort(mock.port()).setURI(uri).putHeader("traceparent", tp)
                            .putHeader("Proxy-Authorization", "Basic cHJveHk6czNjcmV0").putHeader("X-Client", "shop")
                            .putHeader("Connection", "keep-alive, X-Hop").putHeader("X-Hop", "for the mock only"))
                    .compose(r -> r.send().compose(resp -> resp.body().map(b -> resp.statusCode())))
                    .onComplete(sent));
            assertEquals(200, sent.future().await(), uri);
            assertEquals(null, realHeaders.get().get("proxy-authorization"), uri);
            assertEquals("shop", realHeaders.get().get("x-client"), uri);
            assertEquals(null, realHeaders.get().get("x-hop"), "a header named in Connection is for one hop: " + uri);
        }
        assertEquals(2, realHits.get());
    }

    @Test
    void namedRouteWithABasePathIsMatchedAtThePathTheRouteForwardsTo() {
        // --egress payments=http://pay:8080/api: the sidecar forwarded /payments/v1/charges to /api/v1/charges and
        // recorded that; the mock maps the candidate's call the same way.
        MockServer mock = start(Map.of("payments", realUrl("/api")), Set.of());
        String tp = register("c1", List.of(call("payments", "GET", "/api/v1/charges", "limit=5", null,
                json(200, "{\"charges\":[]}"))));
        assertEquals(new Answer(200, "{\"charges\":[]}"), get(mock.port(), "/payments/v1/charges?limit=5", tp));
        assertEquals(0, realHits.get());
    }

    @Test
    void otherCallOnABasePathRouteIsUnmatchedAndNamedByThePathTheDependencyWouldReceive() {
        MockServer mock = start(Map.of("payments", realUrl("/api/")), Set.of());
        CaseMocks mocks = new CaseMocks("c1", List.of(call("payments", "GET", "/api/v1/charges", null, null,
                json(200, "{}"))), matcher);
        String tp = register(mocks);
        assertEquals(502, get(mock.port(), "/payments/v1/other", tp).status());
        assertEquals(List.of("UNMATCHED_CALL call:GET payments /api/v1/other", "UNUSED_CALL call:GET payments /api/v1/charges"),
                mocks.differences().stream().map(d -> d.getKind() + " " + d.getPath()).toList());
        assertEquals(0, realHits.get());
    }

    @Test
    void aNamedRouteCallWhoseDotSegmentsClimbOutOfTheBasePathIsRefusedAsTheSidecarRefusesIt() {
        // The sidecar's egress refuses /payments/../admin (400): after the base path it is /api/../admin, /admin at a
        // dependency that resolves dot segments. Such a call reached no dependency and was never recorded; the mock
        // mapped it to /api/../admin and, with --allow-live, sent it there. Dot segments inside the base path are
        // mapped as before, as the sidecar forwards and records them as sent.
        MockServer mock = start(Map.of("payments", realUrl("/api")), Set.of("127.0.0.1"));
        String tp = register("c1", List.of(call("payments", "GET", "/api/v1/../charges", null, null, json(200, "{\"n\":1}"))));
        for (String uri : List.of("/payments/../admin", "/payments/%2e%2e/admin", "/payments/v1/..%2f..%2fadmin",
                "/payments/..;/admin", "/payments/..?q=1")) {
            Answer answer = get(mock.port(), uri, tp);
            assertEquals(400, answer.status(), uri + ": " + answer);
            assertTrue(answer.body().contains("the target climbs out of egress route 'payments' with a dot segment (..)"),
                    answer.body());
        }
        assertEquals(0, realHits.get(), "none went live");
        MockServer mocked = start(Map.of("payments", realUrl("/api")), Set.of());
        assertEquals(new Answer(200, "{\"n\":1}"), get(mocked.port(), "/payments/v1/../charges", tp));
        assertEquals(0, realHits.get());
    }

    @Test
    void callThroughARouteTheMockDoesNotKnowIsUnmatchedNamingTheMissingRoute() {
        // Without the route's URL the mock cannot know the path the dependency received: it does not guess.
        MockServer mock = start(Set.of());
        String tp = register("c1", List.of(call("billing", "GET", "/v2/invoices/7", null, null, json(200, "{}"))));
        Answer answer = get(mock.port(), "/billing/v2/invoices/7", tp);
        assertEquals(502, answer.status());
        assertTrue(answer.body().contains("no --mock-route is named 'billing' (named routes: inventory)"), answer.body());
    }

    @Test
    void allowLiveForwardsABasePathRouteToTheUrlTheSidecarWouldHaveUsed() {
        // The sidecar drops one trailing '/' of the route's URL: http://pay:8080/api/ forwards /payments/x to /api/x.
        MockServer mock = start(Map.of("payments", realUrl("/api/")), Set.of("127.0.0.1"));
        String tp = register("c1", List.of());
        assertEquals(new Answer(200, "real"), get(mock.port(), "/payments/v1/charges?limit=5", tp));
        assertEquals("/api/v1/charges?limit=5", realUri.get());
        assertEquals(new Answer(200, "real"), get(mock.port(), "/payments?limit=5", tp));
        assertEquals("/api/?limit=5", realUri.get());
    }

    @Test
    void aCallWhoseTargetHoldsRawUtf8IsMatchedAsTheSidecarRecordedItAndForwardedAsSent() {
        // The sidecar records /café sent as raw UTF-8 as the text /café. The mock read the same bytes one character per
        // byte (/cafÃ©), so such a call never matched its recording, and a live one reached the dependency as other
        // bytes. The Vert.x client writes a target as UTF-8, as a candidate sending it raw does.
        MockServer mock = start(Set.of());
        String tp = register("c1", List.of(
                call("inventory", "GET", "/caf\u00e9", "q=\u00e9", null, json(200, "{\"n\":1}")),
                call("api.local:8080", "GET", "/\u65e5", null, null, json(200, "{\"n\":2}"))));
        assertEquals(new Answer(200, "{\"n\":1}"), get(mock.port(), "/inventory/caf\u00e9?q=\u00e9", tp));
        assertEquals(new Answer(200, "{\"n\":2}"), get(mock.port(), "http://api.local:8080/\u65e5", tp));
        assertEquals(0, realHits.get());
        // live: the dependency gets the bytes the candidate sent (its server reads them one character per byte too)
        MockServer live = start(Set.of("127.0.0.1"));
        assertEquals(new Answer(200, "real"), get(live.port(), "/inventory/caf\u00e9/live?q=\u00e9", register("c2", List.of())));
        assertEquals(new String("/caf\u00e9/live?q=\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.ISO_8859_1), realUri.get());
    }

    @Test
    void routesAreReadAsTheSidecarReadsItsEgressUrls() {
        Map<String, HttpUrl> routes = MockServerOptions.parseRoutes(List.of("inventory=http://inventory_svc:8080/api/", "pay"));
        assertEquals("inventory_svc", routes.get("inventory").host());
        assertEquals("/api", routes.get("inventory").basePath(), "one trailing '/' dropped, as the sidecar does");
        assertEquals("pay:80", routes.get("pay").authority(), "a bare name is http://name");
        for (String bad : List.of("x=ftp://x", "x=https://x", "x=http://u@x", "x=http://x:0", "/x=http://x")) {
            assertThrows(IllegalArgumentException.class, () -> MockServerOptions.parseRoutes(List.of(bad)), bad);
        }
        // an IP literal that is no IPv6 address: taken before, and every call on the route failed
        assertEquals("mock route 'x=http://[1::2::3]:8080': url must be http://host[:port][/base]: invalid host '[1::2::3]':"
                + " not an IPv6 address", assertThrows(IllegalArgumentException.class,
                () -> MockServerOptions.parseRoutes(List.of("x=http://[1::2::3]:8080"))).getMessage());
        // a password written with an unencoded '/' (host ci, port 1234): refused without showing it
        String message = assertThrows(IllegalArgumentException.class,
                () -> MockServerOptions.parseRoutes(List.of("inv=http://ci:1234/5678@inventory"))).getMessage();
        assertTrue(message.startsWith("mock route 'inv=http://[hidden]@inventory': url has an '@' in its path"), message);
        assertFalse(message.contains("5678"), message);
        // held to what the sidecar's --egress asks of a base URL, as --target is: these were taken, the fragment
        // dropped unsaid and the bidirectional control sent in front of every path
        for (String bad : List.of("inv=http://inventory:8080/api#v2", "inv=http://inventory:8080/\u202Eapi",
                "inv=http://inventory:8080/a%zz", "inv=http://inv$ntory:8080")) {
            String refused = assertThrows(IllegalArgumentException.class,
                    () -> MockServerOptions.parseRoutes(List.of(bad)), bad).getMessage();
            assertTrue(refused.startsWith("mock route '"), refused);
        }
    }

    @Test
    void forwardProxyCallWithAZeroPaddedPortIsMatchedByThePortsValueAsTheSidecarRecordedIt() {
        // the sidecar's egress reads http://api.local:0008080/ as port 8080 (RFC 3986 3.2.3: port = *DIGIT) and records
        // the call under api.local:8080; six digits or more were refused there and here (400)
        MockServer mock = start(Set.of());
        String tp = register("c1", List.of(call("api.local:8080", "GET", "/v1/rates", null, null, json(200, "{\"r\":1}"))));
        assertEquals(new Answer(200, "{\"r\":1}"), get(mock.port(), "http://api.local:0008080/v1/rates", tp));
        assertEquals(400, get(mock.port(), "http://api.local:065536/v1/rates", tp).status());
        assertEquals(9000, MockServerOptions.parseRoutes(List.of("inv=http://inventory:0009000")).get("inv").port());
    }

    @Test
    void forwardProxyCallToADockerComposeNameIsMatchedAsTheSidecarRecordedIt() {
        MockServer mock = start(Set.of());
        String tp = register("c1", List.of(call("inventory_svc:8080", "GET", "/stock/1", null, null, json(200, "{\"n\":1}"))));
        assertEquals(new Answer(200, "{\"n\":1}"), get(mock.port(), "http://inventory_svc:8080/stock/1", tp));
    }

    @Test
    void aForwardProxyOptionsForTheWholeServerIsMatchedAsTheSidecarRecordedIt() throws Exception {
        // the sidecar forwards OPTIONS http://host:port (no path, no query) as OPTIONS * and records the path *
        MockServer mock = start(Set.of());
        String tp = register("c1", List.of(call("api.local:8080", "OPTIONS", "*", null, null, json(200, "{\"allow\":1}"))));
        String answer = exchange(mock.port(), "OPTIONS http://api.local:8080 HTTP/1.1\r\nHost: api.local:8080\r\n"
                + "traceparent: " + tp + "\r\nConnection: close\r\n\r\n", new byte[0]);
        assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
        assertTrue(answer.endsWith("{\"allow\":1}"), answer);
    }

    @Test
    void aForwardProxyTargetTheSidecarWouldRefuseGets400NotAServerError() {
        MockServer mock = start(Set.of());
        String tp = register("c1", List.of(call("api.local:8080", "GET", "/v1/rates", null, null, json(200, "{}"))));
        Answer userinfo = get(mock.port(), "http://user@api.local:8080/v1/rates", tp);
        assertEquals(400, userinfo.status());
        assertTrue(userinfo.body().contains("user info"), userinfo.body());
        assertEquals(400, get(mock.port(), "http://api.local:0/v1/rates", tp).status());
        // a path java.net.URI refuses is matched as written, not answered 500
        assertEquals(502, get(mock.port(), "http://api.local:8080/v1/rates%zz", tp).status());
    }

    @Test
    void aLiveAnswerOverTheBodyLimitIsNotBufferedAndItsConnectionIsClosed() {
        // The mock read a live dependency's whole answer into memory before passing it on: a huge or endless answer
        // took the worker's heap. Now it reads up to its body limit (1024 bytes here), then gives the call up.
        io.vertx.core.Promise<Void> dependencyClosed = io.vertx.core.Promise.promise();
        HttpServer huge = vertx.createHttpServer().requestHandler(r -> {
            r.connection().closeHandler(v -> dependencyClosed.tryComplete());
            r.response().setChunked(true);
            for (int i = 0; i < 64; i++) {
                r.response().write("x".repeat(1024));
            }
        }).listen(0, "127.0.0.1").await();
        MockServer mock = start(Map.of("big", HttpUrl.parse("http://127.0.0.1:" + huge.actualPort())), Set.of("127.0.0.1"));
        CaseMocks mocks = new CaseMocks("c1", List.of(), matcher);
        Answer answer = get(mock.port(), "/big/report", register(mocks));
        assertEquals(502, answer.status());
        assertTrue(answer.body().contains("more than 1024 bytes"), answer.body());
        assertEquals(List.of("the candidate's call GET /big/report was forwarded live and failed; it was answered 502"
                + " live-failed: " + answer.body().strip()), mocks.liveFailures());
        dependencyClosed.future().await(); // the answer that was still coming is not read on
    }

    @Test
    void aLiveDependencyThatSentABodyWithItsHeadAnswerDoesNotFailTheNextLiveCall() throws Exception {
        // A live dependency that sends a body with its answer to a HEAD (which has none, RFC 9112 6.3): the mock's client
        // took the connection back to its pool with the 5 bytes in its decoder, and the next live call sent on it, maybe
        // another case's, was answered 502 (invalid version format: HELLOHTTP/1.1). The connection is closed instead.
        java.util.List<String> log = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        try (java.net.ServerSocket dependency = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                for (int connection = 0; ; connection++) {
                    try {
                        java.net.Socket s = dependency.accept();
                        int n = connection;
                        Thread t = new Thread(() -> serveRaw(s, n, log));
                        t.setDaemon(true);
                        t.start();
                    } catch (java.io.IOException e) {
                        return; // closed
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            MockServer mock = start(Map.of("dep", HttpUrl.parse("http://127.0.0.1:" + dependency.getLocalPort())),
                    Set.of("127.0.0.1"));
            String tp = register("c1", List.of());
            io.vertx.core.Promise<Integer> head = io.vertx.core.Promise.promise();
            vertx.runOnContext(v -> client.request(new RequestOptions().setMethod(HttpMethod.HEAD).setHost("127.0.0.1")
                            .setPort(mock.port()).setURI("/dep/h").putHeader("traceparent", tp))
                    .compose(r -> r.send().compose(resp -> resp.body().map(b -> resp.statusCode()))).onComplete(head));
            assertEquals(200, head.future().await());
            assertEquals(new Answer(200, "live"), get(mock.port(), "/dep/b", tp));
            assertEquals(List.of("0/0 HEAD /h", "1/0 GET /b"), log);
        }
    }

    /**
     * A live dependency that answers with bytes that are not HTTP: the candidate gets the mock's 502 {@code live-failed}
     * saying the dependency answered so, and what the client's decoder found (before: the decoder's exception,
     * {@code java.lang.IllegalArgumentException: invalid version format: HELLO}); the call's case notes it, and the
     * worker's log has no ERROR line for it. Vert.x reported the same failure once more, as an error of the connection
     * naming no call ({@code ERROR io.vertx.core.net.impl.ConnectionBase - invalid version format: HELLO}); it is a
     * debug line naming the dependency now.
     */
    @Test
    void aLiveDependencyAnsweringWithBytesThatAreNotHttpIsThe502NotAnErrorOnTheLog() throws Exception {
        java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.DEBUG);
        TaplineLogging.output(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
        String log;
        int port;
        try (RawPeer dependency = new RawPeer("HELLO\r\n\r\n")) {
            port = dependency.port();
            MockServer mock = start(Map.of("dep", HttpUrl.parse("http://127.0.0.1:" + port)), Set.of("127.0.0.1"));
            CaseMocks mocks = new CaseMocks("c1", List.of(), matcher);
            Answer answer = get(mock.port(), "/dep/rates", register(mocks));
            assertEquals(502, answer.status());
            assertEquals("the live dependency answered with bytes that cannot be read as HTTP: invalid version format:"
                    + " HELLO", answer.body().strip());
            assertEquals(List.of("the candidate's call GET /dep/rates was forwarded live and failed; it was answered 502"
                    + " live-failed: the live dependency answered with bytes that cannot be read as HTTP: invalid version"
                    + " format: HELLO"), mocks.liveFailures());
        } finally {
            TaplineLogging.flush(java.time.Duration.ofSeconds(10));
            TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
            TaplineLogging.output(System.err);
            log = logged.toString(java.nio.charset.StandardCharsets.UTF_8);
        }
        assertTrue(log.lines().noneMatch(l -> l.contains(" ERROR ")), log);
        assertTrue(log.lines().noneMatch(l -> l.contains("io.vertx.core.net.impl.ConnectionBase")), log);
        assertTrue(log.contains(" DEBUG io.tapline.http.StrayResponseBytes - a live dependency 127.0.0.1:" + port
                + " sent an answer that cannot be read as HTTP; the request awaiting it fails with"
                + " java.lang.IllegalArgumentException: invalid version format: HELLO"), log);
    }

    /**
     * A live dependency whose answer the candidate would read wrong if it were passed on: in a transfer coding other
     * than chunked alone (Transfer-Encoding is hop-by-hop, and the mock serves the body it read with a Content-Length, so
     * the candidate got the coded bytes as the body: "gzip, chunked" the gzip bytes, "gzip" or an unknown coding the
     * raw bytes up to the close), or with a status code that is not three digits ("HTTP/1.1 2000 OK" was served as
     * that status line, which an HTTP client cannot parse). The candidate gets the mock's 502 live-failed instead, as
     * the sidecar's egress answers the app 502, and the call's case notes why; the dependency's connection is not
     * reused. An answer that breaks after its head (a close before the body's end, a chunk size that does not parse)
     * was and is a 502 live-failed: the mock reads the whole answer before it answers; its close is said in words, as
     * is one before the head's end (both were {@code io.vertx.core.http.HttpClosedException: Connection was closed}).
     * 600 and chunked are relayed.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
            "Transfer-Encoding: gzip, chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n | the live dependency's answer cannot be passed on: unsupported Transfer-Encoding in the response: gzip, chunked",
            "Transfer-Encoding: gzip\\r\\n\\r\\nhello                       | the live dependency's answer cannot be passed on: unsupported Transfer-Encoding in the response: gzip",
            "Transfer-Encoding: xchunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n | the live dependency's answer cannot be passed on: unsupported Transfer-Encoding in the response: xchunked",
            "Transfer-Encoding: identity\\r\\nContent-Length: 5\\r\\n\\r\\nhello | the live dependency's answer cannot be passed on: unsupported Transfer-Encoding in the response: identity",
            "STATUS 2000                                                   | the live dependency's answer cannot be passed on: status code 2000 in the response is not three digits",
            "STATUS 99                                                     | the live dependency's answer cannot be passed on: status code 99 in the response is not three digits",
            "Content-Length: 100\\r\\n\\r\\nabc                            | the live dependency answered 200, then closed the connection before the end of its body",
            "Content-Le                                                    | the live dependency closed the connection before it answered",
            "Transfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\n                  | the live dependency answered with bytes that cannot be read as HTTP: Invalid character in chunk size"})
    void aLiveAnswerTheCandidateWouldReadWrongIsThe502NotRelayed(String rest, String why) throws Exception {
        rest = rest.strip().replace("\\r\\n", "\r\n");
        String answer = rest.startsWith("STATUS ") ? "HTTP/1.1 " + rest.substring(7) + " OK\r\nContent-Length: 5\r\n\r\nhello"
                : "HTTP/1.1 200 OK\r\n" + rest;
        java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
        try (RawPeer dependency = new RawPeer(answer, true, connections)) {
            MockServer mock = start(Map.of("dep", HttpUrl.parse("http://127.0.0.1:" + dependency.port())), Set.of("127.0.0.1"));
            CaseMocks mocks = new CaseMocks("c1", List.of(), matcher);
            String tp = register(mocks);
            for (int i = 1; i <= 2; i++) {
                Answer a = get(mock.port(), "/dep/rates", tp);
                assertEquals(new Answer(502, why), new Answer(a.status(), a.body().strip()));
                assertEquals(i, connections.get(), "the dependency's connection is not reused");
            }
            assertEquals(List.of("the candidate's call GET /dep/rates was forwarded live and failed; it was answered 502"
                    + " live-failed: " + why), mocks.liveFailures(), "noted once");
        }
    }

    @Test
    void aLiveAnswerWithAStatusOf600OrChunkedIsRelayed() throws Exception {
        try (RawPeer s600 = new RawPeer("HTTP/1.1 600 Odd\r\nContent-Length: 5\r\n\r\nhello", false, new AtomicInteger());
             RawPeer chunked = new RawPeer("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                     false, new AtomicInteger())) {
            MockServer mock = start(Map.of("odd", HttpUrl.parse("http://127.0.0.1:" + s600.port()),
                    "chunked", HttpUrl.parse("http://127.0.0.1:" + chunked.port())), Set.of("127.0.0.1"));
            CaseMocks mocks = new CaseMocks("c1", List.of(), matcher);
            String tp = register(mocks);
            assertEquals(new Answer(600, "hello"), get(mock.port(), "/odd/rates", tp));
            assertEquals(new Answer(200, "hello"), get(mock.port(), "/chunked/rates", tp));
            assertEquals(List.of(), mocks.liveFailures());
        }
    }

    /**
     * A live dependency that sends a {@code 102 Processing} before its answer: the candidate gets that answer. The
     * mock's client took the 102 for the final answer and passed it on (the candidate got a 102 without a body, and
     * nothing after it); the dependency's answer came after it as bytes no call awaited.
     */
    @Test
    void aLiveDependencySendingA102BeforeItsAnswerIsPassedOnItsAnswer() throws Exception {
        try (RawPeer dependency = new RawPeer("HTTP/1.1 102 Processing\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlive")) {
            MockServer mock = start(Map.of("dep", HttpUrl.parse("http://127.0.0.1:" + dependency.port())), Set.of("127.0.0.1"));
            CaseMocks mocks = new CaseMocks("c1", List.of(), matcher);
            assertEquals(new Answer(200, "live"), get(mock.port(), "/dep/rates", register(mocks)));
            assertEquals(List.of(), mocks.liveFailures());
        }
    }

    /** A loopback peer that reads a request head on each connection, writes {@code answer} and closes. */
    private static final class RawPeer implements AutoCloseable {
        private final java.net.ServerSocket listener = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());

        RawPeer(String answer) throws java.io.IOException {
            this(answer, false, new AtomicInteger());
        }

        /**
         * @param closeAfter close as soon as the answer is written (an answer whose body ends with the connection),
         *                   rather than once the client has closed
         * @param accepted   counts the connections accepted
         */
        RawPeer(String answer, boolean closeAfter, AtomicInteger accepted) throws java.io.IOException {
            Thread acceptor = new Thread(() -> {
                while (true) {
                    try (java.net.Socket s = listener.accept()) {
                        accepted.incrementAndGet();
                        s.setSoTimeout(10_000);
                        java.io.InputStream in = s.getInputStream();
                        int matched = 0;
                        while (matched < 4) {
                            int b = in.read();
                            if (b < 0) {
                                break;
                            }
                            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
                        }
                        s.getOutputStream().write(answer.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                        s.getOutputStream().flush();
                        if (closeAfter) {
                            s.shutdownOutput(); // the end of a close-delimited body; then until the client closes
                        }
                        in.read(); // until the client closes: the answer is not cut short by a reset
                    } catch (java.io.IOException e) {
                        if (listener.isClosed()) {
                            return;
                        }
                    }
                }
            }, "raw-peer");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        @Override
        public void close() throws java.io.IOException {
            listener.close();
        }
    }

    /** A raw-socket dependency: answers a HEAD with a 5-byte body after its head, anything else "live". */
    private static void serveRaw(java.net.Socket s, int connection, List<String> log) {
        try (s) {
            java.io.InputStream in = s.getInputStream();
            for (int request = 0; ; request++) {
                StringBuilder head = new StringBuilder();
                while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
                    int b = in.read();
                    if (b < 0) {
                        return;
                    }
                    head.append((char) b);
                }
                String line = head.substring(0, head.indexOf("\r\n"));
                log.add(connection + "/" + request + " " + line.substring(0, line.lastIndexOf(' ')));
                String answer = line.startsWith("HEAD ") ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                        : "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlive";
                s.getOutputStream().write(answer.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
            }
        } catch (java.io.IOException e) {
            // the mock went away
        }
    }

    @Test
    void aLiveCallIsGivenUpWhenTheCandidateClosesItsConnection() {
        // A live dependency that never answers held the mock's call (and the candidate's request body) forever, even
        // after the candidate, its case timed out, had closed the connection: such calls piled up over a run.
        io.vertx.core.Promise<Void> received = io.vertx.core.Promise.promise();
        io.vertx.core.Promise<Void> dependencyClosed = io.vertx.core.Promise.promise();
        HttpServer silent = vertx.createHttpServer().requestHandler(r -> {
            r.connection().closeHandler(v -> dependencyClosed.tryComplete());
            received.tryComplete();
        }).listen(0, "127.0.0.1").await();
        MockServer mock = start(Map.of("slow", HttpUrl.parse("http://127.0.0.1:" + silent.actualPort())), Set.of("127.0.0.1"));
        String tp = register("c1", List.of());
        AtomicReference<io.vertx.core.http.HttpClientRequest> sent = new AtomicReference<>();
        vertx.runOnContext(v -> client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
                .setPort(mock.port()).setURI("/slow/stock/1").putHeader("traceparent", tp)).onSuccess(r -> {
                    sent.set(r);
                    r.send();
                }));
        received.future().await();
        vertx.runOnContext(v -> sent.get().reset()); // the candidate gives up: its connection to the mock closes
        dependencyClosed.future().await();
    }

    @Test
    void aLiveDependencyThatDoesNotAcceptIsGivenUpAtTheRequestTimeout() throws Exception {
        // A live dependency too busy to accept connections: the mock's connect went on for Vert.x's 60 s (past this
        // class's 30 s timeout), holding the candidate's call and its body after its case was given up.
        List<java.net.Socket> queued = new java.util.ArrayList<>();
        try (java.net.ServerSocket busy = new java.net.ServerSocket()) {
            io.tapline.replay.Fixtures.fillAcceptQueue(busy, queued);
            MockServer mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0,
                    Map.of("busy", HttpUrl.parse("http://127.0.0.1:" + busy.getLocalPort())), Set.of("127.0.0.1"), 502,
                    1024, java.time.Duration.ofMillis(300)), registry).await();
            CaseMocks mocks = new CaseMocks("c1", List.of(), matcher);
            Answer answer = get(mock.port(), "/busy/stock/1", register(mocks));
            assertEquals(502, answer.status());
            assertEquals(1, mock.liveCalls());
            // its case says the live call failed, and why, as the candidate was told
            assertEquals(List.of("the candidate's call GET /busy/stock/1 was forwarded live and failed; it was answered"
                    + " 502 live-failed: " + answer.body().strip()), mocks.liveFailures());
        } finally {
            for (java.net.Socket s : queued) {
                s.close();
            }
        }
    }

    @Test
    void aLiveDependencyThatTakesTheCallAndNeverAnswersIsGivenUpAtTheRequestTimeout() {
        // Once connected, a live call had no timeout of its own: a dependency that read the request and never
        // answered held it (and the candidate's request body) for as long as the candidate waited.
        io.vertx.core.Promise<Void> dependencyClosed = io.vertx.core.Promise.promise();
        HttpServer silent = vertx.createHttpServer().requestHandler(r -> {
            r.connection().closeHandler(v -> dependencyClosed.tryComplete());
            r.response().setChunked(true).write("a first chunk, then nothing"); // trickling counts as not answering
        }).listen(0, "127.0.0.1").await();
        MockServer mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0,
                Map.of("slow", HttpUrl.parse("http://127.0.0.1:" + silent.actualPort())), Set.of("127.0.0.1"), 502,
                1024, java.time.Duration.ofMillis(300)), registry).await();
        CaseMocks mocks = new CaseMocks("c1", List.of(), matcher);
        Answer answer = get(mock.port(), "/slow/stock/1", register(mocks));
        assertEquals(502, answer.status());
        assertTrue(answer.body().contains("did not answer within 300 ms"), answer.body());
        assertEquals(List.of("the candidate's call GET /slow/stock/1 was forwarded live and failed; it was answered 502"
                + " live-failed: the live dependency did not answer within 300 ms"), mocks.liveFailures());
        dependencyClosed.future().await(); // the call is reset, not left open on the dependency
    }

    /**
     * A live call that fails with no case to note it on: one no case could be found for (no traceparent while two
     * cases are in flight, as with a candidate that does not propagate it outside the one-at-a-time fallback), and one
     * whose case's result was built before it failed (its case unregistered while the dependency holds the call). Each
     * got its 502 live-failed and was noted nowhere; now each is counted, and warned about at most once every 10 s
     * (with the count since the last), naming the dependency, the method and why, the call's target at debug only.
     */
    @Test
    void aLiveCallThatFailsWithNoCaseToNoteItOnIsCountedAndWarnedAbout() throws Exception {
        int refused;
        try (java.net.ServerSocket closed = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            refused = closed.getLocalPort();
        }
        io.vertx.core.Promise<Void> received = io.vertx.core.Promise.promise();
        HttpServer silent = vertx.createHttpServer().requestHandler(r -> received.tryComplete())
                .listen(0, "127.0.0.1").await();
        java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.DEBUG);
        TaplineLogging.output(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
        String log;
        MockServer mock;
        try {
            mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0, Map.of(
                    "refused", HttpUrl.parse("http://127.0.0.1:" + refused),
                    "silent", HttpUrl.parse("http://127.0.0.1:" + silent.actualPort())), Set.of("127.0.0.1"), 502, 1024,
                    java.time.Duration.ofMillis(500)), registry).await();
            register("c1", List.of());
            register("c2", List.of());
            for (String path : List.of("/refused/owners/ann@example.com", "/refused/owners/bob@example.com")) {
                Answer answer = get(mock.port(), path, null);
                assertEquals(502, answer.status());
                assertTrue(answer.body().startsWith("no connection to the live dependency: "), answer.body());
            }
            assertEquals(2, mock.unnotedLiveFailures());
            // a call of a case whose result is built while the dependency holds it
            CaseMocks late = new CaseMocks("c3", List.of(), matcher);
            TraceContext.CaseTrace trace = TraceContext.forCase("run", "c3");
            registry.register(trace.traceId(), late);
            io.vertx.core.Promise<Answer> held = io.vertx.core.Promise.promise();
            vertx.runOnContext(v -> client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
                            .setPort(mock.port()).setURI("/silent/stock/1").putHeader("traceparent", trace.traceparent()))
                    .compose(r -> r.send().compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(),
                            b.toString().strip())))).onComplete(held));
            received.future().await();
            registry.unregister(trace.traceId(), late);
            assertEquals(new Answer(502, "the live dependency did not answer within 500 ms"), held.future().await());
            assertEquals(List.of(), late.liveFailures(), "its result was built without it");
            assertEquals(3, mock.unnotedLiveFailures());
        } finally {
            TaplineLogging.flush(java.time.Duration.ofSeconds(10));
            TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
            TaplineLogging.output(System.err);
            log = logged.toString(java.nio.charset.StandardCharsets.UTF_8);
        }
        List<String> warnings = log.lines().filter(l -> l.contains(" WARN ")).toList();
        assertEquals(1, warnings.size(), log);
        assertTrue(warnings.get(0).contains(" WARN io.tapline.replay.mock.MockServer - a live call GET to 127.0.0.1:"
                + refused + " failed and is noted on no case: no case could be found for it (does the candidate propagate"
                + " traceparent?); the candidate got 502 live-failed: no connection to the live dependency: "), log);
        assertTrue(warnings.get(0).endsWith(" (1 such call(s) since the last warning; each call's target at debug)"),
                warnings.get(0));
        assertTrue(!warnings.get(0).contains("ann@example.com"), warnings.get(0));
        List<String> calls = log.lines().filter(l -> l.contains(" DEBUG io.tapline.replay.mock.MockServer - the live call "))
                .map(l -> l.substring(l.indexOf(" - the live call ") + 3)).toList();
        assertEquals(3, calls.size(), log);
        assertTrue(calls.get(0).startsWith("the live call GET /refused/owners/ann@example.com to 127.0.0.1:" + refused
                + " failed and is noted on no case: "), calls.get(0));
        assertTrue(calls.get(1).startsWith("the live call GET /refused/owners/bob@example.com to "), calls.get(1));
        assertEquals("the live call GET /silent/stock/1 to 127.0.0.1:" + silent.actualPort() + " failed and is noted on"
                + " no case: case c3's result was built before it failed; the candidate got 502 live-failed: the live"
                + " dependency did not answer within 500 ms", calls.get(2));
    }

    @Test
    void liveCallsBeyondTheConnectionsAndTheWaitingLimitAreAnswered502AtOnce() {
        // A live dependency that takes calls and never answers: its 16 connections stay busy, the next
        // MAX_LIVE_WAITING calls wait for one of them, and the call after those must not wait too.
        AtomicInteger atDependency = new AtomicInteger();
        HttpServer silent = vertx.createHttpServer().requestHandler(r -> atDependency.incrementAndGet())
                .listen(0, "127.0.0.1").await();
        MockServer mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0,
                Map.of("silent", HttpUrl.parse("http://127.0.0.1:" + silent.actualPort())), Set.of("127.0.0.1"), 502,
                1024, java.time.Duration.ofSeconds(20)), registry).await();
        String traceparent = register("c1", List.of());
        HttpClientAgent many = vertx.createHttpClient(new HttpClientOptions(),
                new io.vertx.core.http.PoolOptions().setHttp1MaxSize(MockServer.MAX_LIVE_WAITING + 64));
        AtomicInteger answered = new AtomicInteger();
        java.util.function.IntFunction<io.vertx.core.Future<Answer>> call = n -> {
            io.vertx.core.Promise<Answer> answer = io.vertx.core.Promise.promise();
            RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(mock.port())
                    .setURI("/silent/stock/" + n).putHeader("traceparent", traceparent);
            vertx.runOnContext(v -> many.request(o).compose(r -> r.send()
                            .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b.toString()))))
                    .onComplete(a -> answered.incrementAndGet()).onComplete(answer));
            return answer.future();
        };
        // the 16 connections first, all taken (no connection is still being opened), then the calls that wait
        for (int n = 0; n < 16; n++) {
            call.apply(n);
        }
        awaitCount(atDependency, 16);
        for (int n = 16; n < 16 + MockServer.MAX_LIVE_WAITING; n++) {
            call.apply(n);
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
        while (mock.liveCalls() < 16 + MockServer.MAX_LIVE_WAITING && System.nanoTime() < deadline) {
            sleepBriefly();
        }
        assertEquals(16 + MockServer.MAX_LIVE_WAITING, mock.liveCalls(), "live calls at the mock");
        assertEquals(0, answered.get(), "every call up to the limit waits");
        Answer over = call.apply(-1).await();
        assertEquals(502, over.status());
        // answered by the full wait queue, not by the live timeout (20 s) a call that waited would run into
        assertTrue(over.body().contains("wait queue") && over.body().contains(Integer.toString(MockServer.MAX_LIVE_WAITING)),
                over.body());
        assertEquals(1, answered.get(), "only the call over the limit is answered");
        assertEquals(16, atDependency.get(), "nothing more reached the dependency");
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void awaitCount(AtomicInteger count, int n) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
        while (count.get() < n && System.nanoTime() < deadline) {
            sleepBriefly();
        }
        assertEquals(n, count.get());
    }

    /** Sends {@code head} (and {@code body}) on a raw connection; returns what the mock sent until it closed. */
    private static String exchange(int port, String head, byte[] body) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000); // the mock must answer and close without the rest of the body
            socket.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().write(body);
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    @Test
    void aBodyThatNeverEndsIsAnswered413AndClosedAsSoonAsItPassesTheLimit() throws Exception {
        MockServer mock = start(Set.of());
        // 4 KiB of chunks, over the 1 KiB limit, and no last chunk: before, the mock read on, waiting for its end
        java.io.ByteArrayOutputStream chunks = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < 8; i++) {
            chunks.write("200\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            chunks.write(new byte[512]);
            chunks.write("\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        String answer = exchange(mock.port(), "POST /inventory/upload HTTP/1.1\r\nHost: inventory\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n", chunks.toByteArray());
        assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
    }

    @Test
    void anOversizedContentLengthIsAnswered413AndTheConnectionClosed() throws Exception {
        MockServer mock = start(Set.of());
        // the body announced is never sent: before, the mock answered 413 and kept the connection open for it
        String answer = exchange(mock.port(), "POST /inventory/upload HTTP/1.1\r\nHost: inventory\r\n"
                + "Content-Length: 1000000000\r\n\r\n", new byte[0]);
        assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
        assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), answer);
    }

    @Test
    void aClientThatSendsItsWholeOversizedBodyReadsThe413NotAReset() throws Exception {
        MockServer mock = start(Set.of());
        // An HTTP client that sends its body before it reads (most do): the mock's 413 comes while the body is still on
        // its way. Closed at once, the connection answered the rest of the body with a reset, which threw the 413 away
        // on the client's side; the mock reads and drops what follows for a moment before closing, as nginx does.
        byte[] body = new byte[32 * 1024 * 1024];
        String answer = exchange(mock.port(), "POST /inventory/upload HTTP/1.1\r\nHost: inventory\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n", body);
        assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
    }
}
