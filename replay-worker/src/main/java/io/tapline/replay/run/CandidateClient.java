package io.tapline.replay.run;

import io.tapline.avro.Header;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.http.HttpUrl;
import io.tapline.http.InterimResponseFilter;
import io.tapline.http.StrayResponseBytes;
import io.tapline.http.UnreadableAnswer;
import io.tapline.http.UpstreamReads;
import io.tapline.replay.compare.Bodies;
import io.tapline.replay.http.BoundedBody;
import io.tapline.replay.http.Closing;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends recorded requests to the candidate as the capture sidecar forwarded them to the app: the target's bytes, the
 * end-to-end headers in recorded order, the body framed as it was (chunked or with its length). Bodies go as
 * recorded: decoded, without their {@code Content-Encoding}, when the capture decoded them, still encoded when the
 * record says so; responses come back undecoded so the comparison sees what the candidate sent. The recorded trace
 * headers are replaced by the case's. Requests go on pooled keep-alive connections; one the candidate ended a reused
 * connection on without answering can be sent once more on a connection of its own ({@link #sendOnNewConnection}). A
 * connection on which the candidate sent bytes past an answer is closed, not reused ({@link StrayResponseBytes}), and
 * the answer they followed noted ({@link Answer#notes}). An answer that cannot be read as HTTP fails the request with
 * {@link UnreadableAnswer}. An interim answer Vert.x's client would take for the final one ({@code 102 Processing}) is
 * dropped before it ({@link InterimResponseFilter}), and the final answer after it read, as a client of the candidate
 * reads it.
 */
public final class CandidateClient implements AutoCloseable {

    /**
     * Connection-level headers the client sets itself, hop-by-hop ones the sidecar never forwarded to the app
     * ({@code Proxy-Authorization} is the client's credential for a proxy), {@code Expect}, which the sidecar
     * answered itself, and tracing headers the replay replaces.
     */
    private static final Set<String> NOT_SENT = Set.of("host", "content-length", "transfer-encoding", "connection",
            "keep-alive", "proxy-connection", "upgrade", "te", "trailer", "proxy-authorization", "proxy-authenticate",
            "expect", "traceparent", "tracestate");

    /**
     * The most of a candidate's answer that is read: a recorded body is at most the capture's cap (64 KiB by
     * default), so a larger answer already differs, and reading on would let one endless or huge answer take the
     * worker's memory. Above it the case is an ERROR saying so, and the connection is closed.
     */
    public static final int MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

    /** The largest response head read from the candidate; the capture sidecar takes up to this from an app. */
    static final int MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

    /** The candidate, as the warning about bytes past an answer names it (one for the process's clients). */
    private static final StrayResponseBytes.Peers CANDIDATES = new StrayResponseBytes.Peers("the candidate");

    private final HttpClientAgent client;
    private final HttpUrl target;
    private final String basePath;
    private final long timeoutMillis;
    private final Map<String, String> headerOverrides;
    /** {@link #headerOverrides} without the framing ones: the body is framed as recorded, whatever a flag says. */
    private final Map<String, String> sentOverrides;
    private final AtomicLong sentAgain = new AtomicLong();
    /** Builds an answer's record once it is read: {@link #record}, or a test's. */
    private final Recorder recorder;

    public CandidateClient(Vertx vertx, HttpUrl target, int maxConnections, Duration timeout) {
        this(vertx, target, maxConnections, timeout, Map.of());
    }

    /**
     * @param headerOverrides headers set on every replayed request, replacing recorded ones of the same name: e.g.
     *                        a test credential where the capture kept only a redaction token; a Content-Length or
     *                        Transfer-Encoding among them is not sent (the body goes framed as recorded)
     */
    public CandidateClient(Vertx vertx, HttpUrl target, int maxConnections, Duration timeout, Map<String, String> headerOverrides) {
        this(vertx, target, maxConnections, timeout, headerOverrides, CandidateClient::record);
    }

    /** @param recorder builds an answer's record once it is read ({@link #record}; a test's may fail as Avro can) */
    CandidateClient(Vertx vertx, HttpUrl target, int maxConnections, Duration timeout, Map<String, String> headerOverrides,
                    Recorder recorder) {
        this.recorder = recorder;
        this.target = target;
        this.headerOverrides = Map.copyOf(headerOverrides);
        Map<String, String> sent = new LinkedHashMap<>(headerOverrides); // in the order given
        sent.keySet().removeIf(name -> name.equalsIgnoreCase("content-length") || name.equalsIgnoreCase("transfer-encoding"));
        this.sentOverrides = Collections.unmodifiableMap(sent);
        this.basePath = target.basePath();
        this.timeoutMillis = timeout.toMillis();
        this.client = vertx.httpClientBuilder().with(new HttpClientOptions()
                        .setDefaultHost(target.host())
                        .setDefaultPort(target.port())
                        .setSsl(target.scheme().equals("https"))
                        .setKeepAlive(true)
                        .setDecompressionSupported(false)
                        // a connection not open within a case's time is of no use to it (Vert.x would try for 60 s,
                        // holding a place in the pool while the cases queued for it are given up)
                        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                        // response heads as large as the capture sidecar takes from an app (Vert.x's default is 8 KiB)
                        .setMaxHeaderSize(MAX_RESPONSE_HEAD_BYTES))
                .with(new PoolOptions().setHttp1MaxSize(Math.max(1, maxConnections)))
                .withConnectHandler(connection -> {
                    // a 102 Processing is not taken for the final answer, which is read after it
                    InterimResponseFilter.install(connection);
                    // what each connection carried and read: a request on a stale reused one is told apart (send)
                    UpstreamReads.install(connection);
                    // bytes past an answer (a HEAD's with a body) close the connection: they failed the next case on it
                    StrayResponseBytes.install(connection, CANDIDATES);
                })
                .build();
    }

    /** The headers set on every replayed request, replacing recorded ones of the same name. */
    public Map<String, String> headerOverrides() {
        return headerOverrides;
    }

    /** The request sent for {@code recorded}, with the given traceparent. */
    private Exchange prepare(HttpRequest recorded, String traceparent) {
        String query = recorded.getRawQuery();
        String path = recorded.getPath();
        // The asterisk form (OPTIONS *) names the server, not a resource under the target's base path ("/api*").
        // An empty query is sent as recorded: "/a?" is another URI than "/a" (RFC 3986 6.2.3), and the app read "".
        String uri = (path.equals("*") ? path : basePath + path) + (query == null ? "" : "?" + query);
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        boolean encodingHeader = Bodies.sendsContentEncodingHeader(recorded.getContentEncoding());
        // headers the Connection lines name are for that hop only (RFC 9110 7.6.1): the sidecar did not forward them
        Set<String> hopOnly = tokens(recorded.getHeaders(), "connection");
        for (Header h : recorded.getHeaders()) {
            String name = h.getName().toLowerCase(Locale.ROOT);
            if (!NOT_SENT.contains(name) && !hopOnly.contains(name) && (encodingHeader || !name.equals("content-encoding"))) {
                headers.add(h.getName(), h.getValue());
            }
        }
        if (tokens(recorded.getHeaders(), "te").contains("trailers")) {
            // TE is hop-by-hop, but the sidecar tells the app that trailers are accepted, as this client reads them too
            headers.add("TE", "trailers");
        }
        // not Content-Length or Transfer-Encoding: a body announced other than it is sent would leave the candidate
        // waiting for bytes that never come, or reading it as chunks
        sentOverrides.forEach(headers::set);
        headers.set("traceparent", traceparent);
        Buffer body = Buffer.buffer(Bodies.bytes(recorded.getBody()));
        // Framed as the sidecar forwarded it to the app: chunked when the client sent it chunked, else with the length
        // of what is sent (never the recorded value, which a body stored decoded no longer has), a recorded
        // Content-Length: 0 included (without one, an empty body goes without framing headers, as a GET usually does)
        boolean chunked = tokens(recorded.getHeaders(), "transfer-encoding").contains("chunked");
        if (!chunked && (body.length() > 0 || hasHeader(recorded.getHeaders(), "content-length"))) {
            headers.set("content-length", Integer.toString(body.length()));
        }
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.valueOf(recorded.getMethod().toUpperCase(Locale.ROOT)))
                .setURI(uri)
                .setHeaders(headers)
                // a case given up while waiting for a pooled connection leaves the pool's queue, and drops its body
                .setConnectTimeout(timeoutMillis)
                .setIdleTimeout(timeoutMillis);
        return new Exchange(options, body, chunked);
    }

    /** A recorded request as it is sent: its head, its body and how the body is framed. */
    private record Exchange(RequestOptions options, Buffer body, boolean chunked) {
    }

    /**
     * The recorded request with the given traceparent, on a pooled connection; completes with the candidate's answer.
     * A request on a connection that had carried earlier exchanges, closed or reset by the candidate before a byte of its
     * answer arrived, fails with {@link NoAnswerOnReusedConnection}: the candidate may have closed it as idle while the request
     * was on its way, and {@link #sendOnNewConnection} can send it again.
     */
    public Future<Answer> send(HttpRequest recorded, String traceparent) {
        Exchange exchange = prepare(recorded, traceparent);
        // The response body is subscribed to in the same event-loop callback that receives the response head:
        // chained from the caller's thread instead, a fast candidate's body could end before anyone listened.
        AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
        AtomicBoolean givenUp = new AtomicBoolean();
        return client.request(exchange.options())
                .compose(req -> {
                    sent.set(req);
                    if (givenUp.get()) {
                        // The connection came after the case was given up and its --concurrency slot freed: the
                        // request is not sent, so a candidate slow to accept never gets more requests than allowed.
                        req.reset();
                        return Future.failedFuture("the case was given up before a connection to the candidate was open");
                    }
                    return exchange(req, exchange).compose(resp -> read(req, resp, recorder));
                })
                .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
                .recover(err -> {
                    HttpClientRequest req = sent.get();
                    Throwable failure = answerOf(req, err, timeoutMillis);
                    if (failure != err) {
                        return Future.failedFuture(failure);
                    }
                    return Future.failedFuture(!givenUp.get() && closed(err) && req != null
                            && UpstreamReads.reusedAndUnanswered(req.connection()) ? new NoAnswerOnReusedConnection(err) : err);
                })
                .onFailure(err -> {
                    // Future.timeout does not stop the exchange: reset it, so that an answer that never ends
                    // frees its connection and stops filling memory
                    givenUp.set(true);
                    HttpClientRequest req = sent.get();
                    if (req != null) {
                        req.reset();
                    }
                });
    }

    /**
     * The recorded request with the given traceparent, on a connection opened for it alone and closed after its
     * answer (never a pooled one), within {@code within}; completes with the candidate's answer. For a request whose
     * pooled connection the candidate closed without answering ({@link NoAnswerOnReusedConnection}).
     */
    public Future<Answer> sendOnNewConnection(HttpRequest recorded, String traceparent, Duration within) {
        Exchange exchange = prepare(recorded, traceparent);
        long millis = Math.max(1, within.toMillis());
        sentAgain.incrementAndGet();
        AtomicReference<HttpClientConnection> opened = new AtomicReference<>();
        AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
        AtomicBoolean givenUp = new AtomicBoolean();
        return client.connect(new HttpConnectOptions()
                        .setHost(target.host())
                        .setPort(target.port())
                        .setSsl(target.scheme().equals("https"))
                        .setConnectTimeout(millis))
                .compose(conn -> {
                    opened.set(conn);
                    // not a pooled connection, which the client's connect handler is for: a 102 dropped, an answer
                    // that cannot be read, or bytes past one, told on it as on those
                    InterimResponseFilter.install(conn);
                    StrayResponseBytes.install(conn, CANDIDATES);
                    if (givenUp.get()) {
                        conn.close();
                        return Future.failedFuture("the case was given up before a new connection to the candidate was open");
                    }
                    return conn.request(exchange.options());
                })
                .compose(req -> {
                    sent.set(req);
                    return exchange(req, exchange).compose(resp -> read(req, resp, recorder));
                })
                .timeout(millis, TimeUnit.MILLISECONDS)
                .recover(err -> Future.failedFuture(answerOf(sent.get(), err, millis)))
                .onComplete(ar -> {
                    givenUp.set(true);
                    HttpClientRequest req = sent.get();
                    if (ar.failed() && req != null) {
                        req.reset();
                    }
                    HttpClientConnection conn = opened.get();
                    if (conn != null) {
                        conn.close();
                    }
                });
    }

    /** How many requests were sent again on a new connection ({@link #sendOnNewConnection}). */
    public long sentAgain() {
        return sentAgain.get();
    }

    /** Sends the request's head and body on {@code req}; completes with the response head. */
    private static Future<HttpClientResponse> exchange(HttpClientRequest req, Exchange exchange) {
        req.setChunked(exchange.chunked());
        return exchange.body().length() == 0 ? req.send() : req.send(exchange.body());
    }

    /**
     * {@code err}, the failure of {@code req}, as the answer the candidate gave when it gave one that is no final
     * answer to judge: bytes that cannot be read as HTTP ({@link UnreadableAnswer}), or an interim {@code 1xx} and
     * then nothing ({@link NoAnswerToJudge}, "sent 100 Continue and then no final answer within 5000 ms"); else
     * {@code err} itself, the candidate's failure to answer.
     */
    private static Throwable answerOf(HttpClientRequest req, Throwable err, long withinMillis) {
        if (err instanceof NoAnswerToJudge) {
            return err;
        }
        Throwable failure = UnreadableAnswer.of(req, err);
        String interim = failure == err && req != null ? StrayResponseBytes.interim(req.connection()) : null;
        if (interim != null) {
            return new NoAnswerToJudge("sent " + interim + " and then no final answer" + (err instanceof TimeoutException
                    ? " within " + withinMillis + " ms" : ": " + err), err);
        }
        return failure;
    }

    /**
     * The candidate answered, with nothing to compare: a {@code 101 Switching Protocols} to a request that asked for no
     * upgrade, an interim {@code 1xx} and then no final answer, an answer whose record could not be built (an Avro
     * error). Its message says what the candidate sent, as a case's reason reads after the candidate's address.
     */
    public static final class NoAnswerToJudge extends VertxException {

        NoAnswerToJudge(String what, Throwable cause) {
            super(what, cause, true);
        }
    }

    /**
     * Whether {@code err} is the connection's end: closed by the candidate ({@link HttpClosedException}) or a
     * transport failure such as a reset or a write to a closed socket ({@link IOException}). Not a timeout, nor an
     * answer that could not be read (a malformed or too large head).
     */
    private static boolean closed(Throwable err) {
        return err instanceof HttpClosedException || err instanceof IOException;
    }

    /**
     * A request on a pooled connection that had carried earlier exchanges, ended by the candidate (closed, or reset)
     * before a byte of its answer arrived ({@link UpstreamReads}, the sidecar's reading too): the race with a candidate
     * that closes idle keep-alive connections (Node.js after 5 s, gunicorn after 2 s) while the request is on its way.
     */
    public static final class NoAnswerOnReusedConnection extends VertxException {

        NoAnswerOnReusedConnection(Throwable cause) {
            super("the candidate ended a reused keep-alive connection before answering: " + cause, cause, true);
        }
    }

    /**
     * The comma-separated elements of every recorded {@code name} line, lower-cased, without parameters: the
     * options a {@code Connection} line lists, the codings of {@code Transfer-Encoding} or {@code TE}. Usually none.
     */
    private static Set<String> tokens(List<Header> headers, String name) {
        Set<String> out = null;
        for (Header h : headers) {
            if (h.getName().equalsIgnoreCase(name)) {
                if (out == null) {
                    out = new HashSet<>();
                }
                for (String element : h.getValue().split(",")) {
                    int params = element.indexOf(';');
                    out.add((params < 0 ? element : element.substring(0, params)).trim().toLowerCase(Locale.ROOT));
                }
            }
        }
        return out == null ? Set.of() : out;
    }

    private static boolean hasHeader(List<Header> headers, String name) {
        for (Header h : headers) {
            if (h.getName().equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The candidate's answer to a case's request, and the notes on how it came: what of it could not be judged
     * (usually none).
     */
    public record Answer(HttpResponse response, List<String> notes) {
    }

    /**
     * The candidate's answer, its body read up to {@link #MAX_RESPONSE_BYTES}. A {@code 101 Switching Protocols} is none:
     * the request asked for no upgrade ({@code Upgrade} is never sent), and RFC 9110 §7.8 forbids switching then, so
     * its connection, now in another protocol, is closed (as the capture sidecar closes an app's that answers so). The
     * other {@code 1xx} Vert.x would hand over as the answer ({@code 102 Processing}: only 100 and 103 it keeps to
     * itself) are dropped before it ({@link InterimResponseFilter}); on a connection the filter could not be installed
     * on (it warned), such a one is an interim answer taken for the final: the final answer would come on the
     * connection as bytes no request awaits, so that is closed too. A status code below 100 ({@code HTTP/1.1 099 X},
     * which Vert.x reads as 99) is no interim answer: like one of four digits, it is read and compared as the answer.
     */
    private static Future<Answer> read(HttpClientRequest req, HttpClientResponse resp, Recorder recorder) {
        if (resp.statusCode() >= 100 && resp.statusCode() < 200) {
            // its request's reset, as the case fails, reaches the response: it is this failure, not one to log
            resp.exceptionHandler(ignored -> { });
            req.connection().close();
            String status = resp.statusCode() + " " + resp.statusMessage();
            return Future.failedFuture(new NoAnswerToJudge(resp.statusCode() == 101
                    ? "answered " + status + " to a request that asked for no upgrade; its connection was closed"
                    : "sent " + status + ", an interim answer, which the client reads as the final one: the final"
                    + " answer cannot be read after it; its connection was closed", null));
        }
        return BoundedBody.read(req, resp, MAX_RESPONSE_BYTES, "the candidate").map(body -> {
            try {
                return recorder.record(req, resp, body);
            } catch (RuntimeException | StackOverflowError e) {
                // the candidate answered: its answer is this case's error, not a failure to answer
                throw new NoAnswerToJudge("answered, but its answer could not be recorded: " + e, e);
            }
        });
    }

    /** Builds the record of an answer read whole: {@link #record}. */
    @FunctionalInterface
    interface Recorder {
        Answer record(HttpClientRequest req, HttpClientResponse resp, Buffer body);
    }

    /** The record of the candidate's answer {@code resp}, read whole ({@code body}), with the notes on how it came. */
    static Answer record(HttpClientRequest req, HttpClientResponse resp, Buffer body) {
        List<Header> out = new ArrayList<>();
        resp.headers().forEach(e -> out.add(new Header(e.getKey(), e.getValue())));
        // Bytes that came with the answer's end and past it, for which its connection is closed: no part of this
        // answer or of any other, never compared (a body sent with a HEAD's answer, which Vert.x does not read)
        int past = StrayResponseBytes.pastLastAnswer(req.connection());
        List<String> notes = past == 0 ? List.of() : List.of(past + " byte(s) the candidate sent past its answer not"
                + " compared: they belong to no answer (a body after a HEAD's, a 204's or a 304's answer, or bytes past"
                + " a body's end), and its connection was closed, not reused");
        return new Answer(HttpResponse.newBuilder()
                .setStatus(resp.statusCode())
                .setHeaders(out)
                .setBody(ByteBuffer.wrap(body.getBytes()))
                .setContentType(resp.getHeader("content-type"))
                .setContentEncoding(resp.getHeader("content-encoding"))
                .setTruncated(false)
                .setOriginalSize(body.length())
                .build(), notes);
    }

    public HttpUrl target() {
        return target;
    }

    /** The time a case's request may take ({@code --request-timeout}). */
    public Duration timeout() {
        return Duration.ofMillis(timeoutMillis);
    }

    /** Closes the client's connections, waited for up to {@link Closing#TIMEOUT} (then given up). */
    @Override
    public void close() {
        Closing.await(client.close(), Closing.TIMEOUT, "the candidate client");
    }
}
