package io.tapline.demo;

import io.tapline.avro.HttpResponse;
import io.tapline.avro.MockCall;
import io.tapline.avro.OutboundCall;
import io.tapline.avro.UnattributedCall;
import io.tapline.http.HttpUrl;
import io.tapline.replay.mock.CaseMocks;
import io.tapline.replay.mock.MockMatcher;
import io.tapline.replay.mock.MockRegistry;
import io.tapline.replay.mock.MockServer;
import io.tapline.replay.mock.MockServerOptions;
import io.tapline.replay.mock.TraceContext;
import io.tapline.serde.PlainAvro;
import io.tapline.sidecar.SidecarOptions;
import io.tapline.sidecar.impl.SidecarImpl;
import io.tapline.topics.TaplineTopics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same raw request heads through a real capture sidecar's egress listener (capture on, a loopback origin as the
 * dependency) and through a real replay dependency mock: each is refused by both with the same status, or taken by
 * both, and then the destination, method, path and raw query the sidecar recorded are the ones the mock reads the call
 * as, and the mock answers it from a case holding that very recording. The status of a call the sidecar forwarded is
 * the dependency's (a 502 for one on port 80, where nothing listens) and is not compared. Each head goes on a connection
 * of its own, with its number ({@code X-Case}), its case's {@code traceparent} and {@code Connection: close} added.
 */
@Timeout(180)
class EgressMockDifferentialTest {

    private static final Serializer<SpecificRecord> AVRO = PlainAvro.SERIALIZER;
    private static final Pattern STATUS = Pattern.compile("^HTTP/1\\.[01] (\\d{3})");

    /**
     * The one disagreement left as it is: a first path segment that names no route ({@code /billing/x}, {@code /},
     * {@code /INV/x}, {@code //inv/x}, {@code /inv%2Fx}, {@code /inv;v=1/x}). The sidecar's egress answers 404 and
     * records nothing; the mock, which cannot tell a route the sidecar lacked from one its own --mock-route list lacks,
     * reads it as dependency {@code unknown}, answers it unmatched (502) and reports an UNMATCHED_CALL (replay-worker
     * README, "a route the mock does not know").
     */
    private static boolean unknownRoute(Outcome sidecar, Outcome mock) {
        return !sidecar.taken() && sidecar.status() == 404 && mock.taken() && mock.call().contains(" unknown ")
                && mock.status() == 502;
    }

    static Vertx vertx;
    static HttpServer origin;
    static HttpServer origin6;
    static MockProducer<String, byte[]> producer;
    static SidecarImpl sidecar;
    static MockServer mock;
    static final MockRegistry registry = new MockRegistry();
    static final Map<String, String> routes = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        // the dependency: 200 to anything, on IPv4 and IPv6 loopback
        origin = vertx.createHttpServer(new HttpServerOptions()).requestHandler(r -> r.response().end("origin"))
                .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        origin6 = vertx.createHttpServer(new HttpServerOptions()).requestHandler(r -> r.response().end("origin"))
                .listen(0, "::1").await(10, TimeUnit.SECONDS);
        String o = "http://127.0.0.1:" + origin.actualPort();
        routes.put("inv", o);
        routes.put("api", o + "/api");
        routes.put("pay", o + "/v1/pay/");
        producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        SidecarOptions options = new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0)
                .management("127.0.0.1", 0).app(o).service("shop").instance("test-1")
                .redactionKey("test-key-0123456789abcdef").outboundGrace(Duration.ofMillis(20))
                .upstreamTimeout(Duration.ofSeconds(5));
        Map<String, HttpUrl> mockRoutes = new HashMap<>();
        for (Map.Entry<String, String> r : routes.entrySet()) {
            options.addEgress(r.getKey(), r.getValue());
            mockRoutes.put(r.getKey(), HttpUrl.parse(r.getValue()));
        }
        sidecar = SidecarImpl.start(options, producer, AVRO);
        mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0, mockRoutes, Set.of(), 502, 1024), registry)
                .await(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (sidecar != null) {
            sidecar.close();
        }
        if (mock != null) {
            mock.close();
        }
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    /** One head of the corpus: its request line and fields (no blank line), and a body. */
    record Head(String head, String body) {
        Head(String head) {
            this(head, "");
        }
    }

    /** What one side did with a head. */
    record Outcome(int status, String call, String answer) {
        boolean taken() {
            return call != null;
        }

        String describe() {
            return taken() ? "took it as " + call + " (" + status + ")" : "answered it itself " + status;
        }
    }

    static List<Head> corpus() {
        String o = "127.0.0.1:" + origin.actualPort();
        String o6 = "[::1]:" + origin6.actualPort();
        String host = "Host: " + o;
        List<Head> heads = new ArrayList<>();
        // forward proxy, absolute form
        for (String target : List.of("/hello", "/hello?a=1&b=2", "/hello?a=1#frag", "/hello#frag", "", "?x=1", "/",
                "/x?", "/x?a=1&a=2", "/a%2Fb?q=%20x", "/a/../b", "/a/./b", "//double", "/x;p=1", "/caf\u00c3\u00a9",
                "/%7Euser", "/x?q=a+b&r=%2F")) {
            heads.add(new Head("GET http://" + o + target + " HTTP/1.1\r\n" + host));
        }
        heads.add(new Head("GET http://127.0.0.1/hello HTTP/1.1\r\nHost: 127.0.0.1"));
        heads.add(new Head("GET http://127.0.0.1:80/hello HTTP/1.1\r\nHost: 127.0.0.1"));
        heads.add(new Head("GET http://LOCALHOST:" + origin.actualPort() + "/Hello HTTP/1.1\r\nHost: x"));
        heads.add(new Head("GET HTTP://" + o + "/hello HTTP/1.1\r\n" + host));
        heads.add(new Head("GET http://" + o6 + "/hello HTTP/1.1\r\nHost: " + o6));
        heads.add(new Head("GET http://" + o6 + " HTTP/1.1\r\nHost: " + o6));
        heads.add(new Head("GET http://" + o + "/hello HTTP/1.1\r\nHost: other.example"));
        heads.add(new Head("GET http://" + o + "/hello HTTP/1.0"));
        heads.add(new Head("HEAD http://" + o + "/hello HTTP/1.1\r\n" + host));
        heads.add(new Head("POST http://" + o + "/orders?x=1 HTTP/1.1\r\n" + host + "\r\nContent-Length: 3", "abc"));
        heads.add(new Head("POST http://" + o + "/orders HTTP/1.1\r\n" + host + "\r\nTransfer-Encoding: chunked",
                "3\r\nabc\r\n0\r\n\r\n"));
        heads.add(new Head("OPTIONS http://" + o + " HTTP/1.1\r\n" + host));
        heads.add(new Head("OPTIONS http://" + o + "/ HTTP/1.1\r\n" + host));
        heads.add(new Head("OPTIONS http://" + o + "?x=1 HTTP/1.1\r\n" + host));
        heads.add(new Head("OPTIONS http://" + o + "/hello HTTP/1.1\r\n" + host + "\r\nMax-Forwards: 0"));
        heads.add(new Head("GET http://" + o + "/hello HTTP/1.1\r\n" + host + "\r\nMax-Forwards: 0"));
        heads.add(new Head("OPTIONS * HTTP/1.1\r\n" + host));
        heads.add(new Head("GET http://user@" + o + "/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET http://127.0.0.1:0/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET https://" + o + "/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET ftp://" + o + "/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET http://[1::2::3]:" + origin.actualPort() + "/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET http://" + o + "/x HTTP/1.1"));
        heads.add(new Head("GET http:/" + o + "/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET hello HTTP/1.1\r\n" + host));
        // named routes
        for (String target : List.of("/inv/hello", "/inv", "/inv/", "/inv?x=1", "/inv/x?a=1#f", "/inv/x#f", "/inv//x",
                "/inv/a%2Fb", "/inv/inv/x", "/api/v1/items?id=7", "/api", "/api/", "/api/a%2Fb", "/api/%2e%2e/x",
                "/api/v1/../x", "/api/../admin", "/api/..%2fadmin", "/api/..;/admin", "/api/..\\admin", "/api/./x",
                "/pay/charge", "/pay", "/pay/", "/pay/a/b?c=d", "/billing/v2/x", "/", "/INV/x", "/inv/caf\u00c3\u00a9",
                "/inv/a\u0001b")) {
            heads.add(new Head("GET " + target + " HTTP/1.1\r\nHost: sidecar"));
        }
        heads.add(new Head("GET /inv/x HTTP/1.0"));
        heads.add(new Head("GET /inv/x HTTP/1.2\r\nHost: sidecar"));
        heads.add(new Head("POST /api/charges HTTP/1.1\r\nHost: sidecar\r\nContent-Length: 2", "{}"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: [::ffff:127.0.0.1]:8080"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: sidecar\r\nX-A: a\r\n b"));
        // illegal
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: a\r\nHost: b"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: a\r\nHost: a"));
        heads.add(new Head("GET /inv/x HTTP/1.1"));
        heads.add(new Head("GET /inv/x HTTP/2.0\r\nHost: a"));
        heads.add(new Head("GET /inv/x HTTP/0.9\r\nHost: a"));
        heads.add(new Head("GET /inv/x http/1.1\r\nHost: a"));
        heads.add(new Head("GET /inv/x HTTP/01.1\r\nHost: a"));
        heads.add(new Head("GET /inv/x HTTP/1.10\r\nHost: a"));
        heads.add(new Head("POST /inv/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked",
                "0\r\n\r\n"));
        heads.add(new Head("POST /inv/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1", "a"));
        heads.add(new Head("POST /inv/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked", "0\r\n\r\n"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: a\r\n: v"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: a\r\nBad Name: v"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: a b"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: [zz::1]"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: u@h"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: a\r\nX-A: a\u0000b"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: a\r\nX-A: a\rb"));
        heads.add(new Head("GET /inv/x\u0007 HTTP/1.1\r\nHost: a"));
        heads.add(new Head("GET http://" + o + "/a\u0001b HTTP/1.1\r\n" + host));
        heads.add(new Head("GET http://127.0.0.1:/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET http://127.0.0.1:0" + origin.actualPort() + "/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET http://localhost.:" + origin.actualPort() + "/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET http://[fe80::1%25lo]:" + origin.actualPort() + "/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET http://inv/x HTTP/1.1\r\nHost: inv"));
        heads.add(new Head("get http://" + o + "/x HTTP/1.1\r\n" + host));
        heads.add(new Head("GET  /inv/x HTTP/1.1\r\nHost: a"));
        heads.add(new Head("GET\t/inv/x\tHTTP/1.1\r\nHost: a"));
        heads.add(new Head("GET //inv/x HTTP/1.1\r\nHost: a"));
        heads.add(new Head("GET /inv%2Fx HTTP/1.1\r\nHost: a"));
        heads.add(new Head("GET /inv;v=1/x HTTP/1.1\r\nHost: a"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: a:99999"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost:"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__"));
        heads.add(new Head("POST /inv/x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1", "a"));
        heads.add(new Head("GET /inv/x?a=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\n Host: a"));
        heads.add(new Head("GET /inv/x HTTP/1.1\r\nHost : a"));
        heads.addAll(generated(o, 30, 20240611L));
        return heads;
    }

    /** {@code n} heads of random targets, absolute form or a named route, from pieces the two must read alike. */
    static List<Head> generated(String authority, int n, long seed) {
        Random random = new Random(seed);
        String[] segments = {"a", "B", "%2F", "%2f", "..", ".", "%2e", "%2E%2E", "x;y", "~u", "%41", "caf%C3%A9", "",
                "!$&'()*+,=", "@", ":", "%25", "%zz", "a b".replace(" ", "%20")};
        String[] queries = {null, "", "a=1", "a=1&b=2", "a=%2F", "a", "a=1&a=2", "x=%zz", "q=a+b", "?=?"};
        String[] prefixes = {"http://" + authority, "/inv", "/api", "/pay"};
        List<Head> heads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder path = new StringBuilder();
            int depth = 1 + random.nextInt(4);
            for (int s = 0; s < depth; s++) {
                path.append('/').append(segments[random.nextInt(segments.length)]);
            }
            String query = queries[random.nextInt(queries.length)];
            String prefix = prefixes[random.nextInt(prefixes.length)];
            String target = prefix + path + (query == null ? "" : "?" + query);
            heads.add(new Head("GET " + target + " HTTP/1.1\r\nHost: " + authority));
        }
        return heads;
    }

    @Test
    void shouldReadEveryHeadAsTheSidecarsEgressReadItWhenItRecordedTheCall() throws Exception {
        List<Head> heads = corpus();
        assertTrue(heads.size() >= 60, heads.size() + " heads");
        // the sidecar first, every head, then its records, by each head's X-Case line
        List<Integer> sidecarStatus = new ArrayList<>();
        for (int i = 0; i < heads.size(); i++) {
            sidecarStatus.add(status(exchange(sidecar.egressPort(), wire(heads.get(i), i))));
        }
        Map<Integer, OutboundCall> recorded = recorded(heads.size());
        List<String> disagreements = new ArrayList<>();
        int[] agreed = new int[2]; // taken by both, not forwarded by either
        for (int i = 0; i < heads.size(); i++) {
            Head head = heads.get(i);
            OutboundCall call = recorded.get(i);
            Outcome side = call == null ? new Outcome(sidecarStatus.get(i), null, null)
                    : new Outcome(sidecarStatus.get(i), describe(call.getRequest().getMethod(), call.getDestination(),
                    call.getRequest().getPath(), call.getRequest().getRawQuery()), null);
            // a case holding what the sidecar recorded, answered with a body naming the head
            String caseId = "case-" + i;
            List<OutboundCall> calls = new ArrayList<>();
            if (call != null) {
                OutboundCall c = OutboundCall.newBuilder(call).setError(null).setResponse(HttpResponse.newBuilder()
                        .setStatus(200).setHeaders(List.of()).setBody(ByteBuffer.wrap(caseId.getBytes(StandardCharsets.UTF_8)))
                        .setContentType(null).setContentEncoding(null).setTruncated(false)
                        .setOriginalSize(caseId.length()).build()).build();
                calls.add(c);
            }
            CaseMocks mocks = new CaseMocks(caseId, calls, new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE));
            TraceContext.CaseTrace trace = TraceContext.forCase("diff", caseId);
            registry.register(trace.traceId(), mocks);
            String answer;
            try {
                answer = exchange(mock.port(), wire(head, i));
            } finally {
                registry.unregister(trace.traceId(), mocks);
            }
            List<MockCall> made = mocks.usage().getCalls().stream().filter(m -> !m.getOutcome().equals("unused")).toList();
            Outcome replayed = made.isEmpty() ? new Outcome(status(answer), null, answer)
                    : new Outcome(status(answer), describe(made.get(0).getMethod(), made.get(0).getDestination(),
                    made.get(0).getPath(), null), answer);
            String why = disagreement(side, replayed, call != null, caseId);
            if (why == null) {
                agreed[side.taken() ? 0 : 1]++;
            } else if (!unknownRoute(side, replayed)) {
                disagreements.add(printable(head.head()) + "\n    sidecar " + side.describe() + "; mock "
                        + replayed.describe() + ": " + why);
            }
        }
        assertEquals(List.of(), disagreements, String.join("\n", disagreements));
        // the corpus exercises both: calls the two read alike, and heads neither forwards
        assertTrue(agreed[0] >= 60 && agreed[1] >= 30, agreed[0] + " taken, " + agreed[1] + " not forwarded");
    }

    /** Why the two outcomes disagree, or null when they agree. */
    private static String disagreement(Outcome sidecar, Outcome mock, boolean recorded, String caseId) {
        if (sidecar.taken() != mock.taken()) {
            return "one took it, the other not";
        }
        if (!sidecar.taken()) {
            return sidecar.status() == mock.status() ? null : "refused with another status";
        }
        if (!sidecar.call().equals(mock.call())) {
            return "read as another call";
        }
        if (recorded && !answeredFrom(mock.answer(), caseId, mock.call().startsWith("HEAD "))) {
            return "not answered from the recording";
        }
        return null;
    }

    /** Whether the mock's answer came from the case's recording: said so, with its body (none for a HEAD). */
    private static boolean answeredFrom(String answer, String caseId, boolean head) {
        return answer.toLowerCase(Locale.ROOT).contains("\r\nx-tapline-mock: matched ")
                && (head ? answer.endsWith("\r\n\r\n") : answer.endsWith("\r\n\r\n" + caseId));
    }

    private static String describe(String method, String destination, String path, String rawQuery) {
        return method + " " + destination + " " + path + (rawQuery == null || rawQuery.isEmpty() ? "" : "?" + rawQuery);
    }

    /** The head with the harness's lines: its case, its trace context, and the connection closed after it. */
    private static String wire(Head head, int i) {
        String traceparent = TraceContext.forCase("diff", "case-" + i).traceparent();
        return head.head() + "\r\nX-Case: " + i + "\r\ntraceparent: " + traceparent + "\r\nConnection: close\r\n\r\n"
                + head.body();
    }

    private static String exchange(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private static int status(String answer) {
        Matcher m = STATUS.matcher(answer);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The calls the sidecar recorded, by the head's number (its X-Case line), once its captures have settled. */
    private static Map<Integer, OutboundCall> recorded(int heads) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Map<Integer, OutboundCall> calls = new HashMap<>();
        int stable = 0;
        int last = -1;
        while (System.nanoTime() < deadline && stable < 10) {
            calls.clear();
            for (ProducerRecord<String, byte[]> r : producer.history()) {
                if (!r.topic().equals(TaplineTopics.UNATTRIBUTED)) {
                    continue;
                }
                try {
                    OutboundCall c = new SpecificDatumReader<>(UnattributedCall.class).read(null,
                            DecoderFactory.get().binaryDecoder(r.value(), null)).getCall();
                    c.getRequest().getHeaders().stream().filter(h -> h.getName().equalsIgnoreCase("x-case"))
                            .findFirst().ifPresent(h -> calls.put(Integer.parseInt(h.getValue()), c));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            stable = calls.size() == last ? stable + 1 : 0;
            last = calls.size();
            Thread.sleep(100);
        }
        assertTrue(calls.size() <= heads);
        return calls;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '\r') {
                b.append("\\r");
            } else if (c == '\n') {
                b.append("\\n");
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
