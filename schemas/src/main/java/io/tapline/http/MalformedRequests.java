package io.tapline.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Handler;
import io.vertx.core.http.Http1ServerConfig;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.http1.VertxHttpRequestDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * Answers the requests that Netty's decoder and Vert.x would otherwise refuse wrongly or without a word, the way
 * nginx answers them, and tells its user of every such refusal: the sidecar's listeners count them with the proxy's
 * own ({@code tapline_sidecar_rejected_total}); the replay mock, which stands for the sidecar's egress, answers as
 * they do and notes each on the case it belongs to.
 *
 * <ul>
 *   <li>A later HTTP/1 minor version ({@code HTTP/1.2}) is read as HTTP/1.1 (RFC 9110 2.5); Vert.x would answer 501
 *       with a status line in the client's version.</li>
 *   <li>Another major version ({@code HTTP/2.0}, HTTP/2's prior-knowledge preface on this HTTP/1.1 listener) gets
 *       {@code 505 HTTP Version Not Supported} in an HTTP/1.1 status line.</li>
 *   <li>A version not written {@code HTTP/DIGIT.DIGIT} (RFC 9112 2.3, case-sensitive: {@code http/1.1},
 *       {@code http/1.2}, {@code http/2.0}, {@code HTTP/01.1}, {@code HTTP/1.02}, {@code HTTP/1.10},
 *       {@code HTTPS/1.1}), which Vert.x's decoder takes, gets 400: Vert.x would answer 501 to some and serve others
 *       ({@code HTTP/1.10} as HTTP/1.1). The decoder hands on a version upper-cased and without leading zeros, so
 *       the spelling is judged as written by a decoder of this class's own in Vert.x's decoder's place
 *       ({@link VersionSpellingDecoder}).</li>
 *   <li>A body whose chunked framing breaks (a chunk size that is not hex, say) gets {@code 400} when no response
 *       has begun; Vert.x would only close the connection. The upstream request is reset as for any broken upload.</li>
 *   <li>A head the decoder refuses gets 414 (request line too long), 431 (header fields too large) or 400, with
 *       {@code Connection: close} and a one-line reason, like the proxy's own refusals.</li>
 * </ul>
 *
 * <p>A Netty handler between the connection's HTTP decoder and Vert.x's handler sees the decoded request heads and
 * body parts, and the response parts written back, all on the connection's event loop.
 */
public final class MalformedRequests extends ChannelDuplexHandler {

    private static final Logger LOG = LoggerFactory.getLogger(MalformedRequests.class);

    /** A request in an HTTP major version this listener does not speak. */
    static final class UnsupportedVersion extends DecoderException {
        UnsupportedVersion(String version) {
            super("HTTP version " + version + " is not supported");
        }
    }

    /** A request line whose HTTP version is not {@code HTTP/DIGIT.DIGIT} (RFC 9112 2.3). */
    static final class MalformedVersion extends DecoderException {
        MalformedVersion() {
            super("malformed HTTP version");
        }
    }

    /** Told of a request whose body's chunked framing broke, as it is answered {@code status}. */
    @FunctionalInterface
    public interface BodyRefusals {
        /** @param head the head of the refused request, null if none was read */
        void refused(HttpRequest head, int status, String reason);
    }

    /** Answers (and notes) a request whose head the decoder refused: {@code status}, {@code reason}, then closes. */
    @FunctionalInterface
    public interface HeadRefusals {
        void refuse(HttpServerRequest req, int status, String reason);
    }

    private final VersionSpellingDecoder decoder;
    private final BodyRefusals refusals;
    private final HttpHeaders refusalHeaders;
    /** A response head went out and its last part has not: the client is being answered already. */
    private boolean responding;
    /** The request being read is refused. */
    private boolean refused;
    /** The refused request has been read whole: the connection closes once it is answered. */
    private boolean closing;
    /** The head of the request being read: a request head went in and its last part has not. Else null. */
    private HttpRequest reading;
    /** The request being read (or the one just read) is the connection's last: nothing after it is a request. */
    private boolean last;

    private MalformedRequests(VersionSpellingDecoder decoder, BodyRefusals refusals, HttpHeaders refusalHeaders) {
        this.decoder = decoder;
        this.refusals = refusals;
        this.refusalHeaders = refusalHeaders;
    }

    /**
     * Installs the handler on a new server connection ({@code HttpServer.connectionHandler}, on its event loop), and
     * puts a {@link VersionSpellingDecoder} in the place of Vert.x's request decoder, so that a version is judged as
     * it was written. Vert.x calls the handler as it sets the connection up, before the connection's first read; the
     * pipeline hands whatever the replaced decoder might hold to its replacement.
     *
     * @param decoderConfig the decoder settings the server was created with ({@code HttpServerOptions.getHttp1Config()}):
     *                      the replacement takes the same request line and head limits
     * @param name the handler's name in the pipeline, the one {@link #lastRequest}, {@link #admit} and
     *             {@link #uninstall} are given
     * @param refusalHeaders what the handler's own answer (a broken body's 400) carries besides {@code Connection} and
     *                       {@code Content-Length}, in this order ({@code Content-Type} among them); never changed
     * @param refusals told of each such answer
     */
    public static void install(HttpConnection connection, Http1ServerConfig decoderConfig, String name,
                               HttpHeaders refusalHeaders, BodyRefusals refusals) {
        ChannelPipeline p = VertxPipeline.of(connection, VertxPipeline.SERVER_DECODER, VertxPipeline.VERTX_HANDLER);
        if (p == null || !(p.get(VertxPipeline.SERVER_DECODER) instanceof VertxHttpRequestDecoder)) {
            LOG.warn("malformed requests are answered by Vert.x's defaults on {}: not a Vert.x HTTP/1.x connection",
                    connection.getClass().getName());
            return;
        }
        VersionSpellingDecoder decoder = new VersionSpellingDecoder(decoderConfig);
        p.replace(VertxPipeline.SERVER_DECODER, VertxPipeline.SERVER_DECODER, decoder);
        p.addBefore(VertxPipeline.VERTX_HANDLER, name, new MalformedRequests(decoder, refusals, refusalHeaders));
    }

    /**
     * The current request is the connection's last (refused with {@code Connection: close}, or the client said so):
     * whatever the decoder reads after its last part is dropped, and {@link #admit} refuses every later request, so
     * a request decoded already and queued by Vert.x is not forwarded either. Without this, a body the decoder framed
     * as empty (a {@code Transfer-Encoding} it does not take for chunked) was read as the next request and reached the
     * app, while the client saw only the refusal.
     */
    public static void lastRequest(HttpConnection connection, String name) {
        if (handler(connection, name) instanceof MalformedRequests m) {
            m.markLast();
        }
    }

    /**
     * Whether a request may be served: false when it was read behind the connection's last one; when {@code last}
     * (the client said so), it becomes the last ({@link #lastRequest}). One look-up of the handler per request.
     */
    public static boolean admit(HttpConnection connection, String name, boolean last) {
        if (!(handler(connection, name) instanceof MalformedRequests m)) {
            return true;
        }
        if (m.last) {
            return false;
        }
        if (last) {
            m.markLast();
        }
        return true;
    }

    private void markLast() {
        last = true;
        if (reading == null) {
            closing = true;
        }
    }

    private static Object handler(HttpConnection connection, String name) {
        ChannelPipeline p = connection == null ? null : VertxPipeline.of(connection);
        return p == null ? null : p.get(name);
    }

    /** Stops watching (the connection became a tunnel): nothing HTTP is read from it anymore. */
    public static void uninstall(ChannelPipeline p, String name) {
        VertxPipeline.removeIfPresent(p, name);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg); // refused: nothing after it is read as a request (RFC 9112 9.6)
            return;
        }
        if (msg instanceof HttpRequest req && req.decoderResult().isFailure()) {
            // the decoder's stand-in for a head it could not read says HTTP/1.0; the refusal's status line says 1.1
            req.setProtocolVersion(HttpVersion.HTTP_1_1);
            refused = true;
        } else if (msg instanceof HttpRequest req) {
            HttpVersion v = req.protocolVersion();
            if (v != HttpVersion.HTTP_1_1 && v != HttpVersion.HTTP_1_0) {
                // any other spelling: Vert.x would answer 501 in it; the refusal's status line is HTTP/1.1
                req.setProtocolVersion(HttpVersion.HTTP_1_1);
                if (decoder.misspelt(req)) {
                    req.setDecoderResult(DecoderResult.failure(new MalformedVersion()));
                    refused = true;
                } else if (v.majorVersion() != 1) {
                    req.setDecoderResult(DecoderResult.failure(new UnsupportedVersion(v.text())));
                    refused = true;
                } // else a later HTTP/1 minor version, served as HTTP/1.1
            }
        } else if (msg instanceof HttpContent part && part.decoderResult().isFailure() && !responding
                && ctx.channel().isActive()) {
            refusals.refused(reading, 400, "malformed request body");
            LOG.debug("malformed request body: {}", part.decoderResult().cause().toString());
            ctx.writeAndFlush(refusal(HttpResponseStatus.BAD_REQUEST, "malformed request body"))
                    .addListener(ChannelFutureListener.CLOSE);
            responding = true;
            refused = true;
        }
        if (msg instanceof HttpRequest req) {
            reading = req;
        }
        if (msg instanceof LastHttpContent) {
            reading = null;
            if (refused || last) {
                closing = true; // the refused (or last) request is whole: what follows it is never read
            }
        }
        // Vert.x sees a failure too: it answers a refused head (invalidRequestHandler), or fails a broken body's
        // request (the upload to the app is reset) and closes
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r && r.status().code() >= 200) {
            responding = true;
        }
        if (msg instanceof LastHttpContent && !(msg instanceof HttpResponse r && r.status().code() < 200)) {
            responding = false;
        }
        ctx.write(msg, promise);
    }

    private FullHttpResponse refusal(HttpResponseStatus status, String reason) {
        byte[] body = (reason + "\n").getBytes(StandardCharsets.US_ASCII);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .add(refusalHeaders)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return r;
    }

    /**
     * Vert.x's handler for a head the decoder refused (instead of its default, which answers without a reason, tells
     * no one, and answers an HTTP/1.0 client that asked for keep-alive with {@code Connection: keep-alive} before it
     * disconnects): the status by cause, answered by {@code refusals}, which close the connection after the answer.
     * The decoder reads nothing after a head it refused; only a head in another or a malformed HTTP version (505, 400:
     * {@link #versionRefused}) was read whole.
     */
    public static Handler<HttpServerRequest> invalidRequestHandler(HeadRefusals refusals) {
        return req -> {
            Throwable cause = req.decoderResult().cause();
            int status = cause instanceof UnsupportedVersion ? 505
                    : cause instanceof MalformedVersion ? 400
                    : cause instanceof TooLongHttpLineException ? 414
                    : cause instanceof TooLongHttpHeaderException ? 431
                    : 400;
            LOG.debug("refusing a request the decoder could not read: {} {}", status, cause == null ? "" : cause.toString());
            refusals.refuse(req, status, reason(status, cause));
        };
    }

    /**
     * Whether {@code req}, handed to {@link #invalidRequestHandler}, was refused for its HTTP version (another major
     * version, or a malformed one): its head was read whole, so its method, target and fields are the client's.
     */
    public static boolean versionRefused(HttpServerRequest req) {
        Throwable cause = req.decoderResult().cause();
        return cause instanceof UnsupportedVersion || cause instanceof MalformedVersion;
    }

    private static String reason(int status, Throwable cause) {
        if (cause instanceof MalformedVersion) {
            return cause.getMessage();
        }
        return switch (status) {
            case 505 -> cause.getMessage();
            case 414 -> "request line too long";
            case 431 -> "request header fields too large";
            default -> "malformed request";
        };
    }
}
