package io.tapline.replay.run;

import io.tapline.avro.Case;
import io.tapline.avro.Header;
import io.tapline.avro.MockCall;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.Verdict;
import io.tapline.http.HttpUrl;
import io.tapline.logging.TaplineLogging;
import io.tapline.redaction.RedactionKey;
import io.tapline.replay.Fixtures;
import io.tapline.replay.compare.CompareOptions;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.compare.ResponseComparator;
import io.tapline.replay.mock.MockMatcher;
import io.tapline.replay.mock.MockRegistry;
import io.tapline.replay.mock.MockServer;
import io.tapline.replay.mock.MockServerOptions;
import io.tapline.replay.mock.TraceContext;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.event.Level;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A candidate that ends a keep-alive connection as the next request arrives on it, as one that closes idle connections
 * (Node.js after 5 s, gunicorn after 2 s) does when the request crosses its close: a raw socket server that answers the
 * requests its script says to and ends the connection on the others, so the race is played without waiting.
 */
@Timeout(60)
class KeepAliveRaceTest {

    private static final String ANSWER = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    private static final String NOT_HTTP = "HELLO\r\n\r\n";
    /** A whole answer to no request, 69 bytes. */
    private static final String TIMEOUT = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    private static final String UNSOLICITED = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nEVIL!";

    private Vertx vertx;
    private final MockRegistry registry = new MockRegistry();
    private MockServer mock;
    private final AtomicInteger liveHits = new AtomicInteger();
    private ScriptedCandidate candidate;
    private CandidateClient client;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        HttpServer payments = vertx.createHttpServer().requestHandler(r -> {
            liveHits.incrementAndGet();
            r.response().end("{}");
        }).listen(0, "localhost").await();
        // the inventory is mocked; the payments service is reached live (--allow-live localhost)
        mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0, Map.of(
                "inventory", HttpUrl.parse("http://127.0.0.1:9"),
                "payments", HttpUrl.parse("http://localhost:" + payments.actualPort())), Set.of("localhost"), 502, 1 << 20),
                registry).await();
    }

    @AfterEach
    void stop() throws IOException {
        if (client != null) {
            client.close();
        }
        if (candidate != null) {
            candidate.close();
        }
        vertx.close().await();
    }

    /** What the candidate does with a request: answers it, or ends its connection after reading it. */
    enum Action {
        ANSWER,
        /** closes the connection (FIN) without a byte of answer */
        CLOSE,
        /** resets the connection (RST) without a byte of answer */
        RESET,
        /** writes a whole response head announcing 10 bytes of body, 2 of them, and closes */
        CUT_ANSWER,
        /** writes a status line, no header, and closes */
        STATUS_LINE,
        /** writes the start of a status line and closes */
        PARTIAL_STATUS_LINE,
        /** answers a HEAD with a head announcing 5 bytes of body, and sends them (a HEAD's answer has none) */
        HEAD_WITH_BODY,
        /** answers with a 2-byte body and 5 more bytes past its end */
        BYTES_PAST_BODY,
        /**
         * answers with a 2-byte body and 5 more bytes past its end, its head cut in two writes: the second, holding
         * the head's rest, the body and the bytes, read where the client's decoder still holds the first
         */
        SPLIT_HEAD_BYTES_PAST_BODY,
        /** answers with bytes that are not HTTP, {@code HELLO} and an empty line */
        NOT_HTTP,
        /** answers with a status line whose code is not a number, then an empty head */
        BAD_STATUS_LINE,
        /** answers, then sends {@code HELLO} and an empty line on the idle connection */
        NOT_HTTP_WHEN_IDLE,
        /** answers, then sends a whole answer of its own ({@code EVIL!}) on the idle connection */
        ANSWER_WHEN_IDLE,
        /** answers, then sends a 408 on the idle connection (as servers do on their keep-alive timeout) */
        TIMEOUT_WHEN_IDLE,
        /** answers, and a 408 in the same write, read with the answer */
        TIMEOUT_PAST_BODY,
        /** answers with a head over the client's limit ({@link CandidateClient#MAX_RESPONSE_HEAD_BYTES}) */
        HUGE_HEAD,
        /** answers with a whole answer whose status line names HTTP/2.0 */
        HTTP_2_0,
        /** answers with a whole answer whose status line names HTTP/3 */
        HTTP_3,
        /** answers as {@link #ANSWER} does, with a status line naming HTTP/1.2 */
        HTTP_1_2,
        /** answers as {@link #ANSWER} does, with the status code 099 (not three digits: Vert.x reads it as 99) */
        STATUS_099,
        /** reads the request and sends nothing, until the client closes the connection */
        SILENT,
        /**
         * answers 101 Switching Protocols (to h2c) to the request, which asked for no upgrade, then holds the
         * connection
         */
        SWITCHING,
        /** as {@link #SWITCHING}, to websocket: the client's decoder then reads a body until the connection's end */
        SWITCHING_WEBSOCKET,
        /** sends a 100 Continue, then nothing until the client closes the connection */
        CONTINUE,
        /** sends a 103 Early Hints, then nothing until the client closes the connection */
        EARLY_HINTS,
        /** sends a 102 Processing, then nothing until the client closes the connection */
        PROCESSING,
        /** sends a 102 Processing, then, in a write of its own, answers as {@link #ANSWER} does */
        PROCESSING_THEN_ANSWER
    }

    /** What the candidate does with request {@code request} (from 0) on its connection {@code connection} (from 0). */
    interface Script {
        Action on(int connection, int request, String head) throws IOException, InterruptedException;
    }

    private CaseReplayer replayer(Script script) throws IOException {
        return replayer(script, Duration.ofSeconds(5));
    }

    private CaseReplayer replayer(Script script, Duration timeout) throws IOException {
        candidate = new ScriptedCandidate(script);
        client = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + candidate.port()), 1, timeout);
        return new CaseReplayer("run-1", "w1", client, registry, new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE),
                new ResponseComparator(CompareOptions.defaults(), IgnoreRules.none()),
                ResultRedaction.of(RedactionKey.random()), Clock.systemUTC());
    }

    private static Case get(String id) {
        return Fixtures.caseOf(id, Fixtures.request("GET", "shop:8080", "/items/" + id, null, null), Fixtures.json(200, "{}"),
                List.of(), 1);
    }

    /** A recorded POST /orders/ID whose app made one call to the inventory, GET /stock/ID. */
    private static Case postWithCall(String id) {
        return Fixtures.caseOf(id, Fixtures.request("POST", "shop:8080", "/orders/" + id, null, "{\"n\":1}"),
                Fixtures.json(200, "{}"), List.of(stockCall(id)), 1);
    }

    private static io.tapline.avro.OutboundCall stockCall(String id) {
        return Fixtures.call("inventory", "GET", "/stock/" + id, null, null, Fixtures.json(200, "{\"stock\":1}"));
    }

    /**
     * The keep-alive race played once: the candidate answers case {@code a} on its first connection, which the client
     * keeps, and ends that reused connection with {@code end} (no byte of answer) when {@code second} arrives on it;
     * on any connection after the first it does {@code onNewConnection}, so a test says what the request sent again
     * meets there. Checks that {@code a} passed, and returns {@code second}'s result for the test to judge.
     */
    private ReplayResult endedOnTheReusedConnection(Action end, Case second, Action onNewConnection) throws Exception {
        CaseReplayer replayer = replayer((connection, request, head) -> connection > 0 ? onNewConnection
                : request == 0 ? Action.ANSWER : end);
        assertEquals(Verdict.PASS, replayer.replay(get("a")).await().getVerdict());
        return replayer.replay(second).await();
    }

    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"CLOSE", "RESET"})
    void aRequestOnAReusedConnectionTheCandidateEndsWithoutAnsweringIsSentOnceMoreOnANewConnectionAndPasses(Action end)
            throws Exception {
        ReplayResult r = endedOnTheReusedConnection(end, get("b"), Action.ANSWER);
        assertEquals(Verdict.PASS, r.getVerdict(), r::toString);
        assertEquals(1, r.getNotes().size(), r::toString);
        assertTrue(r.getNotes().get(0).startsWith("the candidate ended a reused keep-alive connection without answering ("),
                r.getNotes()::toString);
        assertTrue(r.getNotes().get(0).endsWith("): the request was sent again on a new connection"), r.getNotes()::toString);
        assertEquals(List.of("0/0 GET /items/a", "0/1 GET /items/b", "1/0 GET /items/b"), candidate.log());
        assertEquals(1, client.sentAgain());
        // the attempt sent again carries a trace of its own, not the first attempt's
        String first = TraceContext.forCase("run-1", "b").traceparent();
        assertEquals(List.of(TraceContext.forCase("run-1", "a").traceparent(), first,
                TraceContext.forRetry("run-1", "b").traceparent()), candidate.traceparents());
        assertTrue(!first.equals(TraceContext.forRetry("run-1", "b").traceparent()));
        // and is otherwise the same request, byte for byte
        assertEquals(candidate.heads().get(1).replace(first, TraceContext.forRetry("run-1", "b").traceparent()),
                candidate.heads().get(2));
    }

    @Test
    void aPostTheCandidateDidNotActOnIsSentAgainToo() throws Exception {
        // the candidate ends the connection before working on the request: it made no dependency call
        ReplayResult r = endedOnTheReusedConnection(Action.CLOSE, Fixtures.caseOf("p", Fixtures.request("POST",
                "shop:8080", "/orders", null, "{\"n\":1}"), Fixtures.json(200, "{}"), List.of(), 1), Action.ANSWER);
        assertEquals(Verdict.PASS, r.getVerdict(), r::toString);
        assertEquals(List.of("0/0 GET /items/a", "0/1 POST /orders", "1/0 POST /orders"), candidate.log());
    }

    /**
     * A candidate resetting connections is reported in the case's result (sent again, or an ERROR with the reason),
     * not by Vert.x's error of the connection on the worker's log: written at debug only, with its exception.
     */
    @ParameterizedTest
    @EnumSource(value = Level.class, names = {"INFO", "DEBUG"})
    void aCandidateResettingConnectionsIsInTheResultsNotAnErrorOnTheLog(Level level) throws Exception {
        String log = logged(level, () -> {
            CaseReplayer replayer = replayer((connection, request, head) ->
                    connection == 0 && request == 0 ? Action.ANSWER : Action.RESET);
            assertEquals(Verdict.PASS, replayer.replay(get("a")).await().getVerdict());
            // reset on the reused connection, sent again, reset on the new one too: an ERROR naming the reset
            ReplayResult r = replayer.replay(get("b")).await();
            assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
            assertTrue(r.getError().contains("Connection reset"), r::getError);
            // reset on a new connection: an ERROR as well
            ReplayResult c = replayer.replay(get("c")).await();
            assertEquals(Verdict.ERROR, c.getVerdict(), c::toString);
            assertTrue(c.getError().contains("Connection reset"), c::getError);
        });
        List<String> resets = log.lines().filter(l -> l.contains("io.vertx.core.net.impl.ConnectionBase")).toList();
        if (level == Level.INFO) {
            assertEquals(List.of(), resets, log);
        } else {
            assertEquals(3, resets.size(), log);
            for (String line : resets) {
                assertTrue(line.endsWith(" DEBUG io.vertx.core.net.impl.ConnectionBase - Connection reset"), line);
            }
            assertTrue(log.contains(System.lineSeparator() + "java.net.SocketException: Connection reset"), log);
        }
        assertTrue(log.lines().noneMatch(l -> l.contains(" ERROR ")), log);
    }

    @Test
    void aSecondEndOnTheNewConnectionIsAnErrorAsBeforeAndTheRequestIsNotSentAThirdTime() throws Exception {
        ReplayResult r = endedOnTheReusedConnection(Action.CLOSE, get("b"), Action.CLOSE);
        assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
        assertTrue(r.getError().startsWith("candidate http://127.0.0.1:" + candidate.port()
                + " did not answer on a new connection either: "), r::getError);
        assertEquals(List.of("0/0 GET /items/a", "0/1 GET /items/b", "1/0 GET /items/b"), candidate.log());
        assertEquals(1, client.sentAgain());
    }

    @Test
    void aFirstRequestOnANewConnectionEndedWithoutAnAnswerIsNotSentAgain() throws Exception {
        // not the keep-alive race: the candidate ended a connection it had just accepted, on the request it was sent for
        CaseReplayer replayer = replayer((connection, request, head) -> Action.CLOSE);
        ReplayResult r = replayer.replay(get("a")).await();
        assertEquals(Verdict.ERROR, r.getVerdict());
        assertTrue(r.getError().startsWith("candidate http://127.0.0.1:" + candidate.port() + " did not answer: "),
                r::getError);
        assertEquals(List.of("0/0 GET /items/a"), candidate.log());
        assertEquals(0, client.sentAgain());
    }

    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"CUT_ANSWER", "STATUS_LINE", "PARTIAL_STATUS_LINE"})
    void anAnswerTheCandidateBeganBeforeEndingTheConnectionIsNotSentAgain(Action cut) throws Exception {
        CaseReplayer replayer = replayer((connection, request, head) -> request == 0 ? Action.ANSWER : cut);
        assertEquals(Verdict.PASS, replayer.replay(get("a")).await().getVerdict());
        ReplayResult r = replayer.replay(get("b")).await();
        assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
        assertTrue(r.getError().startsWith("candidate http://127.0.0.1:" + candidate.port() + " did not answer: "),
                r::getError);
        assertEquals(List.of("0/0 GET /items/a", "0/1 GET /items/b"), candidate.log());
        assertEquals(0, client.sentAgain());
    }

    @Test
    void theResultCountsTheDependencyCallsOfTheAttemptWhoseAnswerIsComparedOnly() throws Exception {
        // every attempt calls the inventory through the mock with the trace it was sent; the one on the reused
        // connection then ends it: its call is not the compared answer's, and must not be counted with it
        CaseReplayer replayer = replayer((connection, request, head) -> {
            callInventory(head);
            return request == 0 ? Action.ANSWER : Action.CLOSE;
        });
        Case a = Fixtures.caseOf("a", Fixtures.request("GET", "shop:8080", "/items/a", null, null), Fixtures.json(200, "{}"),
                List.of(stockCall("a")), 1);
        assertEquals(Verdict.PASS, replayer.replay(a).await().getVerdict());
        Case b = Fixtures.caseOf("b", Fixtures.request("GET", "shop:8080", "/items/b", null, null), Fixtures.json(200, "{}"),
                List.of(stockCall("b")), 1);
        ReplayResult r = replayer.replay(b).await();
        assertEquals(Verdict.PASS, r.getVerdict(), r::toString);
        assertEquals(1, r.getMocks().getMatched());
        assertEquals(0, r.getMocks().getUnmatched());
        assertEquals(0, r.getMocks().getUnused());
        assertEquals(List.of("GET inventory /stock/b matched"), r.getMocks().getCalls().stream()
                .map(KeepAliveRaceTest::describe).toList());
        assertTrue(r.getNotes().get(0).endsWith("; the first attempt's 1 dependency call(s) are not counted"),
                r.getNotes()::toString);
        assertEquals(List.of("0/0 GET /items/a", "0/1 GET /items/b", "1/0 GET /items/b"), candidate.log());
        assertEquals(0, registry.inFlight());
    }

    @Test
    void aPostTheCandidateActedOnBeforeEndingTheConnectionIsNotSentAgain() throws Exception {
        // it made a dependency call for it: sent again, it could act on the order twice
        ReplayResult r = actedOnAndEnded(postWithCall("p"), "/inventory/stock/p");
        assertEquals(1, r.getMocks().getMatched());
        assertEquals(List.of("0/0 GET /items/a", "0/1 POST /orders/p"), candidate.log());
        assertEquals(0, client.sentAgain());
    }

    @Test
    void aPostForWhichTheCandidateReachedALiveDependencyIsNotSentAgain() throws Exception {
        // the one dependency call it made was forwarded live, not answered from a recording: it counts all the same
        ReplayResult r = actedOnAndEnded(Fixtures.caseOf("p", Fixtures.request("POST", "shop:8080", "/orders/p", null,
                "{\"n\":1}"), Fixtures.json(200, "{}"), List.of(), 1), "/payments/charge");
        assertEquals(1, liveHits.get());
        assertEquals(List.of("0/0 GET /items/a", "0/1 POST /orders/p"), candidate.log());
        assertEquals(0, client.sentAgain());
    }

    /**
     * A POST the candidate acted on and then dropped: it answers case {@code a}, and for {@code post}, on the same
     * connection, calls {@code path} of the mock with the post's trace and ends the connection without answering.
     * Checks that the post is an ERROR saying why it was not sent again (the call shows the candidate acted on it,
     * and a POST is not idempotent), and returns its result for the test to judge further.
     */
    private ReplayResult actedOnAndEnded(Case post, String path) throws Exception {
        CaseReplayer replayer = replayer((connection, request, head) -> {
            if (request > 0) {
                call(head, path);
                return Action.CLOSE;
            }
            return Action.ANSWER;
        });
        assertEquals(Verdict.PASS, replayer.replay(get("a")).await().getVerdict());
        ReplayResult r = replayer.replay(post).await();
        assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
        assertTrue(r.getError().endsWith("; not sent again: POST is not idempotent, and the candidate made 1 dependency"
                + " call(s) for it, so it acted on the request and could act on it twice"), r::getError);
        return r;
    }

    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"HEAD_WITH_BODY", "BYTES_PAST_BODY", "SPLIT_HEAD_BYTES_PAST_BODY"})
    void bytesTheCandidateSentPastAnAnswerDoNotFailTheNextCaseOnItsConnection(Action stray) throws Exception {
        // A candidate that sends a body with its answer to a HEAD (which has none by definition, RFC 9112 6.3), or
        // bytes past a body's end: Vert.x's client took the connection back to its pool with the bytes in its decoder,
        // and the next case sent on it, another one, was an ERROR (invalid version format: HELLOHTTP/1.1). The
        // connection is closed instead, the case whose answer they followed is noted, and the next goes on a new one.
        // Bytes past an answer whose end came in a read the decoder appended to a part of the head it held were not
        // seen, and failed the next case so.
        String log = logged(Level.DEBUG, () -> { // debug: the warning comes at most every 10 s
            CaseReplayer replayer = replayer((connection, request, head) ->
                    connection == 0 && request == 0 ? stray : Action.ANSWER);
            Case first = stray == Action.HEAD_WITH_BODY
                    ? Fixtures.caseOf("h", Fixtures.request("HEAD", "shop:8080", "/items/h", null, null),
                            Fixtures.json(200, "", new Header("Content-Length", "5")), List.of(), 1)
                    : get("h");
            ReplayResult h = replayer.replay(first).await();
            assertEquals(Verdict.PASS, h.getVerdict(), h::toString);
            assertEquals(List.of("5 byte(s) the candidate sent past its answer not compared: they belong to no answer (a"
                    + " body after a HEAD's, a 204's or a 304's answer, or bytes past a body's end), and its connection was"
                    + " closed, not reused"), h.getNotes());
            ReplayResult b = replayer.replay(get("b")).await();
            assertEquals(Verdict.PASS, b.getVerdict(), b::toString);
            assertEquals(List.of(), b.getNotes(), "not sent again: the connection was out of the pool before it");
            assertEquals(List.of("0/0 " + first.getSample().getRequest().getMethod() + " /items/h", "1/0 GET /items/b"),
                    candidate.log());
            assertEquals(0, client.sentAgain());
        });
        assertTrue(log.contains("io.tapline.http.StrayResponseBytes - the candidate 127.0.0.1:" + candidate.port()
                + " sent 5 byte(s) that belong to no answer"), log);
    }

    /**
     * A candidate that answers with bytes that are not HTTP: its case is an ERROR saying it answered so, and what the
     * client's decoder found (it said the candidate "did not answer: java.lang.IllegalArgumentException: ..."), and
     * that is all the worker's log needs. Vert.x reported the same failure once more, as an error of the
     * connection naming no case ({@code ERROR io.vertx.core.net.impl.ConnectionBase - invalid version format: HELLO}),
     * one line per such answer; it is a debug line naming the candidate now, with the exception.
     */
    @ParameterizedTest
    @CsvSource({"NOT_HTTP, INFO", "NOT_HTTP, DEBUG", "BAD_STATUS_LINE, INFO", "BAD_STATUS_LINE, DEBUG"})
    void aCandidateAnsweringWithBytesThatAreNotHttpIsInTheResultNotAnErrorOnTheLog(Action garbage, Level level)
            throws Exception {
        String found = garbage == Action.NOT_HTTP ? "invalid version format: HELLO" : "For input string: \"2x0\"";
        String read = (garbage == Action.NOT_HTTP ? "java.lang.IllegalArgumentException: "
                : "java.lang.NumberFormatException: ") + found;
        String log = logged(level, () -> {
            CaseReplayer replayer = replayer((connection, request, head) -> garbage);
            for (String id : List.of("g", "h")) {
                ReplayResult r = replayer.replay(get(id)).await();
                assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
                assertEquals("candidate http://127.0.0.1:" + candidate.port()
                        + " answered with bytes that cannot be read as HTTP: " + found, r.getError());
            }
            assertEquals(List.of("0/0 GET /items/g", "1/0 GET /items/h"), candidate.log());
        });
        assertTrue(log.lines().noneMatch(l -> l.contains(" ERROR ")), log);
        assertTrue(log.lines().noneMatch(l -> l.contains("io.vertx.core.net.impl.ConnectionBase")), log);
        List<String> answers = log.lines().filter(l -> l.contains(" io.tapline.http.StrayResponseBytes - ")).toList();
        if (level == Level.INFO) {
            assertEquals(List.of(), answers, log);
        } else {
            assertEquals(2, answers.size(), log);
            for (String line : answers) {
                assertTrue(line.endsWith(" DEBUG io.tapline.http.StrayResponseBytes - the candidate 127.0.0.1:"
                        + candidate.port() + " sent an answer that cannot be read as HTTP; the request awaiting it"
                        + " fails with " + read), line);
            }
            // what it sent, with Vert.x's stack trace
            assertTrue(log.contains(System.lineSeparator() + read + System.lineSeparator()), log);
        }
    }

    /**
     * Bytes on an idle pooled connection, that are not HTTP or a whole answer: no case's request awaits them, so the
     * connection is closed with the warning about bytes that belong to no answer, naming the candidate, and the next
     * case goes on a new connection and gets its own answer. Vert.x's decoder read them whole, so no unread bytes were
     * left for that check to see: Vert.x closed the connection with an {@code ERROR} naming nothing ({@code invalid
     * version format: HELLO}; for a whole answer one per message of it, {@code Received an HTTP message with no request
     * in progress}).
     */
    @ParameterizedTest
    @CsvSource({"NOT_HTTP_WHEN_IDLE, 9", "ANSWER_WHEN_IDLE, 69"})
    void bytesOnAnIdleConnectionCloseItWithTheWarningNotAVertxError(Action idle, int bytes) throws Exception {
        String log = logged(Level.DEBUG, () -> { // debug: the warning comes at most every 10 s
            CaseReplayer replayer = replayer((connection, request, head) ->
                    connection == 0 && request == 0 ? idle : Action.ANSWER);
            assertEquals(Verdict.PASS, replayer.replay(get("a")).await().getVerdict());
            assertEquals(1, awaitClosedByClient(), "the connection the bytes came on is closed");
            ReplayResult b = replayer.replay(get("b")).await();
            assertEquals(Verdict.PASS, b.getVerdict(), b::toString);
            assertEquals(List.of("0/0 GET /items/a", "1/0 GET /items/b"), candidate.log());
        });
        assertTrue(log.lines().noneMatch(l -> l.contains(" ERROR ")), log);
        assertTrue(log.lines().noneMatch(l -> l.contains("io.vertx.core.net.impl.ConnectionBase")), log);
        assertTrue(log.contains("io.tapline.http.StrayResponseBytes - the candidate 127.0.0.1:" + candidate.port()
                + " sent " + bytes + " byte(s) that belong to no answer"), log);
    }

    /**
     * A 408 the candidate sends while no case's request awaits an answer, ahead of closing the connection (RFC 9110
     * 15.5.9; servers do on their keep-alive timeout), alone on the idle connection or read with the answer before it:
     * the connection is closed as on the candidate's own close, with no warning about bytes that belong to no answer
     * and no note on the case before, and the next case goes on a new connection.
     */
    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"TIMEOUT_WHEN_IDLE", "TIMEOUT_PAST_BODY"})
    void a408BeforeTheCandidateClosesAConnectionIsNeitherStrayBytesNorANote(Action timeout) throws Exception {
        String log = logged(Level.DEBUG, () -> { // debug: a stray-bytes warning would come at most every 10 s
            CaseReplayer replayer = replayer((connection, request, head) ->
                    connection == 0 && request == 0 ? timeout : Action.ANSWER);
            ReplayResult a = replayer.replay(get("a")).await();
            assertEquals(Verdict.PASS, a.getVerdict(), a::toString);
            assertEquals(List.of(), a.getNotes());
            assertEquals(1, awaitClosedByClient(), "the connection the 408 came on is closed");
            ReplayResult b = replayer.replay(get("b")).await();
            assertEquals(Verdict.PASS, b.getVerdict(), b::toString);
            assertEquals(List.of(), b.getNotes());
            assertEquals(List.of("0/0 GET /items/a", "1/0 GET /items/b"), candidate.log());
            assertEquals(0, client.sentAgain());
        });
        assertTrue(log.lines().noneMatch(l -> l.contains("belong to no answer")), log);
        assertTrue(log.contains("DEBUG io.tapline.http.StrayResponseBytes - the candidate 127.0.0.1:" + candidate.port()
                + " sent a 408 (Request Timeout) "), log);
    }

    /**
     * Waits up to 10 s for the client to close a connection to the candidate, as it closes one that bytes came on
     * while it was idle in the pool (after the case before them is done, so not at once), and returns how many
     * connections the client closed.
     */
    private int awaitClosedByClient() throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (candidate.closedByClient() == 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        return candidate.closedByClient();
    }

    /**
     * A head past the client's limit is an answer that cannot be read as HTTP too (Netty's TooLongFrameException, a
     * DecoderException), and so is bytes that are not HTTP on the new connection a request is sent again on.
     */
    @Test
    void aHeadPastTheLimitAndBytesThatAreNotHttpOnTheNewConnectionAreAnswersThatCannotBeRead() throws Exception {
        CaseReplayer replayer = replayer((connection, request, head) -> switch (connection) {
            case 0 -> Action.HUGE_HEAD;
            case 1 -> request == 0 ? Action.ANSWER : Action.CLOSE;
            default -> Action.NOT_HTTP;
        });
        ReplayResult huge = replayer.replay(get("a")).await();
        assertEquals(Verdict.ERROR, huge.getVerdict(), huge::toString);
        assertEquals("candidate http://127.0.0.1:" + candidate.port() + " answered with bytes that cannot be read as"
                + " HTTP: HTTP header is larger than " + CandidateClient.MAX_RESPONSE_HEAD_BYTES + " bytes.", huge.getError());
        assertEquals(Verdict.PASS, replayer.replay(get("b")).await().getVerdict());
        ReplayResult again = replayer.replay(get("c")).await();
        assertEquals(Verdict.ERROR, again.getVerdict(), again::toString);
        assertTrue(again.getError().startsWith("candidate http://127.0.0.1:" + candidate.port() + " answered on a new"
                + " connection with bytes that cannot be read as HTTP: invalid version format: HELLO (first: "), again::getError);
        assertEquals(List.of("0/0 GET /items/a", "1/0 GET /items/b", "1/1 GET /items/c", "2/0 GET /items/c"),
                candidate.log());
    }

    /**
     * A candidate whose status line names another version of HTTP answered, with an answer the client cannot read:
     * {@code HTTP/3} is refused by the decoder, {@code HTTP/2.0} by Vert.x after it, which failed the request as an
     * error of the connection, and the case said the candidate "did not answer". Both say what it answered, and
     * nothing is left on the log at {@code ERROR}; the next case goes on a new connection.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "HTTP_2_0 | the status line names HTTP/2.0, not HTTP/1.0 or HTTP/1.1",
            "HTTP_3   | invalid version format: HTTP/3"})
    void aCandidateAnsweringInAnotherVersionOfHttpAnsweredWithBytesThatCannotBeRead(Action version, String why)
            throws Exception {
        String log = logged(Level.INFO, () -> {
            CaseReplayer replayer = replayer((connection, request, head) -> connection == 0 ? version : Action.ANSWER);
            ReplayResult r = replayer.replay(get("a")).await();
            assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
            assertEquals("candidate http://127.0.0.1:" + candidate.port() + " answered with bytes that cannot be read"
                    + " as HTTP: " + why, r.getError());
            assertEquals(Verdict.PASS, replayer.replay(get("b")).await().getVerdict());
            assertEquals(List.of("0/0 GET /items/a", "1/0 GET /items/b"), candidate.log());
            assertEquals(0, client.sentAgain());
        });
        assertTrue(log.lines().noneMatch(l -> l.contains(" ERROR ")), log);
    }

    /**
     * A candidate answering with a later minor version of HTTP/1 ({@code HTTP/1.2 200 OK}) is read as HTTP/1.1, as RFC
     * 9110 §2.5 asks of a recipient: the case passes, and the next one is sent on the same connection. Vert.x refuses
     * any version but 1.0 and 1.1, and the case was an ERROR, "cannot be read as HTTP".
     */
    @Test
    void aCandidateAnsweringInALaterMinorVersionOfHttp1IsReadAsHttp11() throws Exception {
        String log = logged(Level.INFO, () -> {
            CaseReplayer replayer = replayer((connection, request, head) -> Action.HTTP_1_2);
            ReplayResult a = replayer.replay(get("a")).await();
            assertEquals(Verdict.PASS, a.getVerdict(), a::toString);
            ReplayResult b = replayer.replay(get("b")).await();
            assertEquals(Verdict.PASS, b.getVerdict(), b::toString);
            assertEquals(List.of("0/0 GET /items/a", "0/1 GET /items/b"), candidate.log());
        });
        assertTrue(log.lines().noneMatch(l -> l.contains(" ERROR ") || l.contains(" WARN ")), log);
    }

    /**
     * A candidate that closes the connection after its status line, in its answer's head: the decoder fails the request
     * with its PrematureChannelClosureException, which is no answer (the case says "did not answer"), and the debug
     * line Vert.x's report of it is written as says that the candidate closed the connection; it said the candidate
     * "sent an answer that cannot be read as HTTP".
     */
    @Test
    void aCandidateClosingPartWayThroughItsHeadIsLoggedAsAClosedConnectionNotAnUnreadableAnswer() throws Exception {
        String log = logged(Level.DEBUG, () -> {
            CaseReplayer replayer = replayer((connection, request, head) -> Action.STATUS_LINE);
            ReplayResult r = replayer.replay(get("a")).await();
            assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
            assertTrue(r.getError().startsWith("candidate http://127.0.0.1:" + candidate.port() + " did not answer: "),
                    r::getError);
        });
        assertTrue(log.lines().noneMatch(l -> l.contains(" ERROR ")), log);
        assertTrue(!log.contains("cannot be read as HTTP"), log);
        List<String> lines = log.lines().filter(l -> l.contains(" io.tapline.http.StrayResponseBytes - ")).toList();
        assertEquals(1, lines.size(), log);
        assertTrue(lines.get(0).endsWith(" DEBUG io.tapline.http.StrayResponseBytes - the candidate 127.0.0.1:"
                + candidate.port() + " closed the connection before the end of its answer; the request awaiting"
                + " it fails with io.netty.handler.codec.PrematureChannelClosureException: Connection closed before"
                + " received headers"), lines.get(0));
    }

    /**
     * A candidate that ends the connection without an answer (closed, reset) or holds it past the request timeout did
     * not answer, and its case still says so: only the decoder's own error is an answer that cannot be read.
     */
    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"CLOSE", "RESET", "SILENT", "STATUS_LINE", "PARTIAL_STATUS_LINE"})
    void aCandidateThatEndsOrHoldsTheConnectionWithoutAnAnswerDidNotAnswer(Action end) throws Exception {
        CaseReplayer replayer = replayer((connection, request, head) -> end, Duration.ofMillis(500));
        ReplayResult r = replayer.replay(get("a")).await();
        assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
        assertTrue(r.getError().startsWith("candidate http://127.0.0.1:" + candidate.port() + " did not answer: "),
                r::getError);
        assertTrue(!r.getError().contains("cannot be read as HTTP"), r::getError);
    }

    /**
     * A candidate answering {@code 101 Switching Protocols} to a request that asked for no upgrade (RFC 9110 §7.8
     * forbids it) answered, with nothing to judge: its case says so, and its connection, in another protocol now, is
     * closed; the next case goes on a new one. Vert.x handed the 101 over as the answer, compared as a FAIL (status
     * 101 for 200, the body missing), and to websocket its decoder read a body until the connection's end: "did not
     * answer: ... Timeout".
     */
    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"SWITCHING", "SWITCHING_WEBSOCKET"})
    void aCandidateSwitchingProtocolsOnARequestThatAskedForNoUpgradeAnsweredSo(Action switching) throws Exception {
        String log = logged(Level.INFO, () -> {
            CaseReplayer replayer = replayer((connection, request, head) -> connection == 0 ? switching : Action.ANSWER,
                    Duration.ofMillis(2000));
            ReplayResult r = replayer.replay(get("a")).await();
            assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
            assertEquals("candidate http://127.0.0.1:" + candidate.port() + " answered 101 Switching Protocols to a"
                    + " request that asked for no upgrade; its connection was closed", r.getError());
            assertEquals(List.of(), r.getDifferences());
            assertTrue(r.getCandidateLatencyMicros() < 1_500_000, r::toString); // not given up at the timeout
            assertEquals(Verdict.PASS, replayer.replay(get("b")).await().getVerdict());
            assertEquals(List.of("0/0 GET /items/a", "1/0 GET /items/b"), candidate.log());
            assertEquals(0, client.sentAgain());
        });
        assertTrue(log.lines().noneMatch(l -> l.contains(" ERROR ")), log);
    }

    /**
     * A candidate that sends an interim answer ({@code 100 Continue}, {@code 103 Early Hints}, which Vert.x's client
     * keeps to itself, or a {@code 102 Processing}, which the client's filter drops) and then nothing within the
     * request timeout answered, and its case says what it sent: it said the candidate "did not answer: ... Timeout 500
     * (ms) fired" (and for the 102, that the client read it as the final answer).
     */
    @ParameterizedTest
    @CsvSource({"CONTINUE, 100 Continue", "EARLY_HINTS, 103 Early Hints", "PROCESSING, 102 Processing"})
    void aCandidateSendingAnInterimAnswerAndThenNothingSaysWhatItSent(Action interim, String status) throws Exception {
        CaseReplayer replayer = replayer((connection, request, head) -> connection == 0 ? interim : Action.ANSWER,
                Duration.ofMillis(500));
        ReplayResult r = replayer.replay(get("a")).await();
        assertEquals(Verdict.ERROR, r.getVerdict(), r::toString);
        assertEquals("candidate http://127.0.0.1:" + candidate.port() + " sent " + status + " and then no final answer"
                + " within 500 ms", r.getError());
        // on the next connection, a final answer: nothing of the interim one is left over
        ReplayResult b = replayer.replay(get("b")).await();
        assertEquals(Verdict.PASS, b.getVerdict(), b::toString);
        assertEquals(List.of("0/0 GET /items/a", "1/0 GET /items/b"), candidate.log());
    }

    /**
     * A candidate answering with a status code below 100 ({@code HTTP/1.1 099 OK}: RFC 9112 4 wants three digits, and
     * Vert.x's client reads 99) answered: the case is judged on that answer, a FAIL on its status, as one answering
     * {@code 2000} is, and the connection carries the next case. It was an ERROR saying the candidate "sent 99 OK, an
     * interim answer, which the client reads as the final one", its connection closed.
     */
    @Test
    void aCandidateAnsweringAStatusCodeBelow100IsJudgedOnThatAnswerNotTakenForAnInterimOne() throws Exception {
        CaseReplayer replayer = replayer((connection, request, head) -> request == 0 ? Action.STATUS_099 : Action.ANSWER);
        ReplayResult a = replayer.replay(get("a")).await();
        assertEquals(Verdict.FAIL, a.getVerdict(), a::toString);
        assertEquals(List.of("status: 200 -> 99"), a.getDifferences().stream()
                .map(d -> d.getPath() + ": " + d.getExpected() + " -> " + d.getActual()).toList());
        ReplayResult b = replayer.replay(get("b")).await();
        assertEquals(Verdict.PASS, b.getVerdict(), b::toString);
        assertEquals(List.of("0/0 GET /items/a", "0/1 GET /items/b"), candidate.log());
    }

    /**
     * A candidate that sends a {@code 102 Processing} (any 1xx but 100, 101 and 103, which Vert.x's client would hand
     * over as the final answer) before its final answer: the case is judged on the final answer, and the connection
     * carries the next case. It was an ERROR ("sent 102 Processing, an interim answer, which the client reads as the
     * final one ..."), its connection closed.
     */
    @Test
    void aCandidateSendingA102BeforeItsFinalAnswerIsJudgedOnTheFinalAnswer() throws Exception {
        CaseReplayer replayer = replayer((connection, request, head) -> Action.PROCESSING_THEN_ANSWER);
        for (String id : List.of("a", "b")) {
            ReplayResult r = replayer.replay(get(id)).await();
            assertEquals(Verdict.PASS, r.getVerdict(), r::toString);
            assertEquals(List.of(), r.getNotes());
        }
        assertEquals(List.of("0/0 GET /items/a", "0/1 GET /items/b"), candidate.log());
        assertEquals(0, client.sentAgain());
    }

    /**
     * The same on the connection a request is sent again on ({@link CandidateClient#sendOnNewConnection}), which is
     * opened alone, outside the client's pool: its 102 is dropped too.
     */
    @Test
    void aCandidateSendingA102BeforeItsFinalAnswerOnTheNewConnectionOfARequestSentAgainPasses() throws Exception {
        ReplayResult r = endedOnTheReusedConnection(Action.CLOSE, get("b"), Action.PROCESSING_THEN_ANSWER);
        assertEquals(Verdict.PASS, r.getVerdict(), r::toString);
        assertEquals(List.of("0/0 GET /items/a", "0/1 GET /items/b", "1/0 GET /items/b"), candidate.log());
        assertEquals(1, client.sentAgain());
    }

    /**
     * A live dependency ({@code --allow-live}) that answers with bytes that are not HTTP (or in another version of
     * HTTP, which Vert.x refuses after the decoder: it read "did not answer" before), refuses the connection or
     * does not answer within the mock's live timeout: the candidate gets the mock's 502 {@code live-failed}, and its
     * case's result says the live call failed and why, where it listed the call as {@code live} and nothing more.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "garbage | the live dependency answered with bytes that cannot be read as HTTP: invalid version format: HELLO",
            "http2   | the live dependency answered with bytes that cannot be read as HTTP: the status line names HTTP/2.0,"
                    + " not HTTP/1.0 or HTTP/1.1",
            "refused | no connection to the live dependency: Connection refused",
            "silent  | the live dependency did not answer within 1000 ms"})
    void aLiveCallThatFailedIsNotedOnItsCase(String route, String why) throws Exception {
        try (RawDependency garbage = new RawDependency("HELLO\r\n\r\n"); RawDependency silent = new RawDependency(null);
             RawDependency http2 = new RawDependency("HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\n{}")) {
            int refused;
            try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                refused = closed.getLocalPort();
            }
            MockServer live = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0, Map.of(
                    "garbage", HttpUrl.parse("http://127.0.0.1:" + garbage.port()),
                    "http2", HttpUrl.parse("http://127.0.0.1:" + http2.port()),
                    "refused", HttpUrl.parse("http://127.0.0.1:" + refused),
                    "silent", HttpUrl.parse("http://127.0.0.1:" + silent.port())), Set.of("127.0.0.1"), 502, 1 << 20,
                    Duration.ofSeconds(1)), registry).await();
            List<String> got = Collections.synchronizedList(new ArrayList<>());
            CaseReplayer replayer = replayer((connection, request, head) -> {
                HttpResponse<String> answer = send(live.port(), head, "/" + route + "/rates");
                got.add(answer.statusCode() + " " + answer.headers().firstValue("x-tapline-mock").orElse("") + " "
                        + answer.body().strip());
                return Action.ANSWER;
            });
            ReplayResult r = replayer.replay(get("a")).await();
            assertEquals(1, got.size(), got::toString);
            assertTrue(got.get(0).startsWith("502 live-failed "), got::toString);
            assertTrue(got.get(0).contains(why), got::toString);
            assertEquals(Verdict.PASS, r.getVerdict(), r::toString);
            assertEquals(List.of("GET " + route + " /rates live"), r.getMocks().getCalls().stream()
                    .map(KeepAliveRaceTest::describe).toList());
            assertEquals(1, r.getNotes().size(), r::toString);
            String note = r.getNotes().get(0);
            assertTrue(note.startsWith("the candidate's call GET /" + route + "/rates was forwarded live and failed; it"
                    + " was answered 502 live-failed: "), note);
            assertTrue(note.contains(why), note);
            // the note says what the candidate got
            assertTrue(got.get(0).endsWith(note.substring(note.indexOf("live-failed: ") + "live-failed: ".length())),
                    () -> got + " " + note);
        }
    }

    /**
     * A live call started after its case's request (the candidate works 300 ms first), to a dependency that never
     * answers, with the live timeout equal to the request timeout (2 s), as the replay command sets them. The live
     * call's deadline ran from the call's start, so it came after the case's: the case was given up first, an ERROR
     * saying the candidate did not answer, and the live failure was noted after the result was built, where nothing
     * read it. A live call's answer is now due before its case's deadline (a tenth of the request timeout before it,
     * at most 1 s): the candidate gets its 502 in time to answer, and the case says why it got one.
     */
    @Test
    void aLiveCallThatStartsAfterItsCaseFailsBeforeTheCaseIsGivenUpAndIsNotedOnIt() throws Exception {
        try (RawDependency silent = new RawDependency(null)) {
            Duration timeout = Duration.ofSeconds(2);
            MockServer live = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0, Map.of(
                    "silent", HttpUrl.parse("http://127.0.0.1:" + silent.port())), Set.of("127.0.0.1"), 502, 1 << 20,
                    timeout), registry).await();
            List<String> got = Collections.synchronizedList(new ArrayList<>());
            CaseReplayer replayer = replayer((connection, request, head) -> {
                Thread.sleep(300); // the candidate's own work before its dependency call
                HttpResponse<String> answer = send(live.port(), head, "/silent/rates");
                got.add(answer.statusCode() + " " + answer.body().strip());
                return Action.ANSWER;
            }, timeout);
            ReplayResult r = replayer.replay(get("a")).await();
            assertEquals(Verdict.PASS, r.getVerdict(), r::toString);
            assertEquals(1, got.size(), got::toString);
            assertTrue(got.get(0).startsWith("502 the live dependency did not answer within "), got::toString);
            assertEquals(List.of("the candidate's call GET /silent/rates was forwarded live and failed; it was answered"
                    + " 502 live-failed: " + got.get(0).substring(4)), r.getNotes());
            assertEquals(0, live.unnotedLiveFailures());
        }
    }

    private static String describe(MockCall call) {
        return call.getMethod() + " " + call.getDestination() + " " + call.getPath() + " " + call.getOutcome();
    }

    /** The candidate's call to the inventory for the item of the request, through the mock, with the request's trace. */
    private void callInventory(String head) throws IOException, InterruptedException {
        String target = head.substring(head.indexOf(' ') + 1, head.indexOf(" HTTP/1.1"));
        call(head, "/inventory/stock/" + target.substring(target.lastIndexOf('/') + 1));
    }

    /** The candidate's call to {@code path} of the mock, with the trace of the request whose head is {@code head}. */
    private void call(String head, String path) throws IOException, InterruptedException {
        HttpResponse<String> answer = send(mock.port(), head, path);
        assertEquals(200, answer.statusCode(), answer::body);
    }

    /** The candidate's call to {@code path} of the mock on {@code port}, with the trace of the request of {@code head}. */
    private static HttpResponse<String> send(int port, String head, String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .header("traceparent", ScriptedCandidate.header(head, "traceparent")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A dependency on a raw socket: reads a request head on each connection and writes {@code answer}, or nothing when
     * it is null, then waits for the client to close.
     */
    private static final class RawDependency implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());

        RawDependency(String answer) throws IOException {
            Thread acceptor = new Thread(() -> {
                while (!listener.isClosed()) {
                    try (Socket s = listener.accept()) {
                        s.setSoTimeout(10_000);
                        ScriptedCandidate.readRequest(s.getInputStream());
                        if (answer != null) {
                            s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
                            s.getOutputStream().flush();
                        }
                        s.getInputStream().read(); // until the client closes: the answer is not cut short by a reset
                    } catch (IOException e) {
                        // closed, or the client went away
                    }
                }
            }, "raw-dependency");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }

    /** A candidate on a raw socket, each connection served by a thread of its own as its {@link Script} says. */
    private static final class ScriptedCandidate implements AutoCloseable {
        private final List<String> log = Collections.synchronizedList(new ArrayList<>());
        private final List<String> traceparents = Collections.synchronizedList(new ArrayList<>());
        private final List<String> heads = Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger connections = new AtomicInteger();
        private final AtomicInteger closedByClient = new AtomicInteger();
        private final ServerSocket listener;
        private final Script script;

        ScriptedCandidate(Script script) throws IOException {
            this.script = script;
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(this::acceptAll, "scripted-candidate");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        /** "CONNECTION/REQUEST METHOD TARGET" of every request read, in order. */
        List<String> log() {
            return List.copyOf(log);
        }

        List<String> traceparents() {
            return List.copyOf(traceparents);
        }

        /** Connections the client closed between requests. */
        int closedByClient() {
            return closedByClient.get();
        }

        /** The head of every request read, in order. */
        List<String> heads() {
            return List.copyOf(heads);
        }

        private void acceptAll() {
            while (!listener.isClosed()) {
                try {
                    Socket s = listener.accept();
                    int connection = connections.getAndIncrement();
                    Thread t = new Thread(() -> serve(s, connection), "scripted-candidate-" + connection);
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    // closed
                }
            }
        }

        private void serve(Socket s, int connection) {
            try (s) {
                s.setSoTimeout(10_000);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                for (int request = 0; ; request++) {
                    String head = readRequest(in);
                    if (head == null) {
                        closedByClient.incrementAndGet();
                        return;
                    }
                    String line = head.substring(0, head.indexOf("\r\n"));
                    log.add(connection + "/" + request + " " + line.substring(0, line.lastIndexOf(' ')));
                    traceparents.add(header(head, "traceparent"));
                    heads.add(head);
                    Action action = script.on(connection, request, head);
                    switch (action) {
                        case ANSWER -> {
                            out.write(ANSWER.getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case CLOSE -> {
                            return;
                        }
                        case RESET -> {
                            s.setSoLinger(true, 0);
                            return;
                        }
                        case STATUS_LINE -> {
                            out.write("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                            return;
                        }
                        case PARTIAL_STATUS_LINE -> {
                            out.write("HTT".getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                            return;
                        }
                        case HEAD_WITH_BODY -> {
                            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello"
                                    .getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case BYTES_PAST_BODY -> {
                            out.write((ANSWER + "hello").getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case NOT_HTTP -> {
                            out.write(NOT_HTTP.getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case BAD_STATUS_LINE -> {
                            out.write("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case NOT_HTTP_WHEN_IDLE, ANSWER_WHEN_IDLE, TIMEOUT_WHEN_IDLE -> {
                            out.write(ANSWER.getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                            Thread.sleep(200); // the answer is read, and its connection back in the pool
                            out.write((switch (action) {
                                case NOT_HTTP_WHEN_IDLE -> NOT_HTTP;
                                case TIMEOUT_WHEN_IDLE -> TIMEOUT;
                                default -> UNSOLICITED;
                            }).getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case TIMEOUT_PAST_BODY -> {
                            out.write((ANSWER + TIMEOUT).getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case SPLIT_HEAD_BYTES_PAST_BODY -> {
                            int cut = ANSWER.indexOf("Length:");
                            out.write(ANSWER.substring(0, cut).getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                            Thread.sleep(100); // read alone, and held by the decoder: the head is not whole
                            out.write((ANSWER.substring(cut) + "hello").getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case HUGE_HEAD -> {
                            out.write(("HTTP/1.1 200 OK\r\nX-Big: " + "x".repeat(CandidateClient.MAX_RESPONSE_HEAD_BYTES)
                                    + "\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case HTTP_1_2 -> {
                            out.write(ANSWER.replace("HTTP/1.1 ", "HTTP/1.2 ").getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case STATUS_099 -> {
                            out.write(ANSWER.replace(" 200 OK", " 099 OK").getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case HTTP_2_0, HTTP_3 -> {
                            out.write(((action == Action.HTTP_2_0 ? "HTTP/2.0 200 OK" : "HTTP/3 200")
                                    + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                                    .getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case SILENT -> {
                            in.read(); // until the client gives the request up and closes
                            return;
                        }
                        case PROCESSING_THEN_ANSWER -> {
                            out.write("HTTP/1.1 102 Processing\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                            Thread.sleep(50); // the final answer read apart from the 102
                            out.write(ANSWER.getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        case SWITCHING, SWITCHING_WEBSOCKET, CONTINUE, EARLY_HINTS, PROCESSING -> {
                            out.write((switch (action) {
                                case SWITCHING -> "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                        + "Upgrade: h2c\r\n\r\n";
                                case SWITCHING_WEBSOCKET -> "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                        + "Upgrade: websocket\r\n\r\n";
                                case CONTINUE -> "HTTP/1.1 100 Continue\r\n\r\n";
                                case PROCESSING -> "HTTP/1.1 102 Processing\r\n\r\n";
                                default -> "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
                            }).getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                            in.read(); // until the client gives the request up and closes
                            return;
                        }
                        case CUT_ANSWER -> {
                            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{}"
                                    .getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                            return;
                        }
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the client went away
            }
        }

        /** A request's head, its body (Content-Length framed) read and dropped; null when the client closed first. */
        private static String readRequest(InputStream in) throws IOException {
            StringBuilder head = new StringBuilder();
            while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    return null;
                }
                head.append((char) b);
            }
            String length = header(head.toString(), "content-length");
            if (length != null) {
                in.readNBytes(Integer.parseInt(length));
            }
            return head.toString();
        }

        /** The value of the head's first {@code name} line, or null. */
        static String header(String head, String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }

    /** Something a test does, which may throw. */
    private interface Body {
        void run() throws Exception;
    }

    /**
     * What the log said, written as text at {@code level}, while {@code body} ran; the log is set back to {@code info}
     * on standard error after it, also when it fails.
     */
    private static String logged(Level level, Body body) throws Exception {
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, level);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            TaplineLogging.flush(Duration.ofSeconds(10));
            TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
            TaplineLogging.output(System.err);
        }
        return logged.toString(StandardCharsets.UTF_8);
    }
}
