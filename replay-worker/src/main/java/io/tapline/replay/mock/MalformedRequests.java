package io.tapline.replay.mock;

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
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.tapline.http.RequestTarget;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * Answers the requests Netty's decoder and Vert.x refuse, or would refuse wrongly or without a word, as the sidecar's
 * listeners answer them (its {@code MalformedRequests}), so a candidate's client meets in replay the answer it met
 * in production:
 *
 * <ul>
 *   <li>a later HTTP/1 minor version ({@code HTTP/1.2}) is read as HTTP/1.1 (RFC 9110 2.5); Vert.x would answer 501;</li>
 *   <li>another major version ({@code HTTP/2.0}, {@code HTTP/0.9}) gets {@code 505} in an HTTP/1.1 status line;
 *       Vert.x would answer 501 in the client's version;</li>
 *   <li>a body whose chunked framing breaks (a chunk size that is not hex) gets {@code 400} when no answer has begun;
 *       Vert.x would only close the connection;</li>
 *   <li>a head the decoder refuses gets 414 (request line too long), 431 (header fields too large) or 400 in an
 *       HTTP/1.1 status line, with {@code Connection: close} and a one-line reason ({@link #invalidRequestHandler}).</li>
 * </ul>
 *
 * Each is noted on the case it belongs to when one can be told. A Netty handler between the connection's decoder and
 * Vert.x's handler sees the decoded heads and body parts, and the answer parts written back, on the connection's
 * event loop.
 */
final class MalformedRequests extends ChannelDuplexHandler {

    private static final Logger log = LoggerFactory.getLogger(MalformedRequests.class);
    static final String NAME = "tapline-mock-malformed-requests";
    /** The Vert.x handler behind a server connection's codec, which this handler goes in front of. */
    private static final String VERTX_HANDLER = "handler";

    /** Where a refusal is noted: the {@code traceparent} of the refused request (null if none), its call, why. */
    interface Refusals {
        void refused(String traceparent, String call, int status, String reason);
    }

    /** A request in an HTTP major version the mock, as the sidecar, does not speak. */
    static final class UnsupportedVersion extends DecoderException {
        UnsupportedVersion(String version) {
            super("HTTP version " + version + " is not supported");
        }
    }

    private final Refusals refusals;
    /** An answer's head went out and its last part has not: the candidate is being answered already. */
    private boolean responding;
    /** The head of the request being read, for the note of a body whose framing breaks. */
    private HttpRequest reading;
    /** The request being read is refused. */
    private boolean refused;
    /** The refused request has been read whole: nothing after it is read as a request (RFC 9112 9.6). */
    private boolean closing;

    private MalformedRequests(Refusals refusals) {
        this.refusals = refusals;
    }

    /** Installs the handler on a new connection ({@code HttpServer.connectionHandler}, on its event loop). */
    static void install(HttpConnection connection, Refusals refusals) {
        ChannelPipeline p = connection instanceof ConnectionBase c ? c.channelHandlerContext().pipeline() : null;
        if (p == null || p.get(VERTX_HANDLER) == null) {
            log.warn("malformed requests are answered by Vert.x's defaults on {}: not a Vert.x HTTP/1.x connection",
                    connection.getClass().getName());
            return;
        }
        p.addBefore(VERTX_HANDLER, NAME, new MalformedRequests(refusals));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg); // behind a refused request: its connection closes once it is answered
            return;
        }
        if (msg instanceof HttpRequest req && req.decoderResult().isFailure()) {
            // the decoder's stand-in for a head it could not read says HTTP/1.0; the refusal's status line says 1.1
            req.setProtocolVersion(HttpVersion.HTTP_1_1);
            refused = true;
        } else if (msg instanceof HttpRequest req) {
            HttpVersion v = req.protocolVersion();
            if (v.majorVersion() == 1 && v.minorVersion() > 1) {
                req.setProtocolVersion(HttpVersion.HTTP_1_1);
            } else if (v.majorVersion() != 1) {
                req.setProtocolVersion(HttpVersion.HTTP_1_1); // the refusal's status line is HTTP/1.1
                req.setDecoderResult(DecoderResult.failure(new UnsupportedVersion(v.text())));
                refused = true;
            }
            reading = req;
        } else if (msg instanceof HttpContent part && part.decoderResult().isFailure() && !responding
                && ctx.channel().isActive()) {
            log.debug("malformed request body: {}", part.decoderResult().cause().toString());
            if (reading != null) {
                refusals.refused(reading.headers().get("traceparent"), reading.method().name() + " "
                        + RequestTarget.fromWire(reading.uri()), 400, "malformed request body");
            }
            ctx.writeAndFlush(refusal(HttpResponseStatus.BAD_REQUEST, "malformed request body"))
                    .addListener(ChannelFutureListener.CLOSE);
            responding = true;
            refused = true;
        }
        if (msg instanceof LastHttpContent) {
            reading = null;
            closing = refused;
        }
        // Vert.x sees a failure too: it answers a refused head (invalidRequestHandler), or fails a broken body's
        // request, which is then never matched, and closes
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

    private static FullHttpResponse refusal(HttpResponseStatus status, String reason) {
        byte[] body = (reason + "\n").getBytes(StandardCharsets.US_ASCII);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(MockServer.MOCK_HEADER, "refused")
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return r;
    }

    /**
     * Vert.x's handler for a head the decoder refused (instead of its default, which answers without a reason, and
     * with {@code Connection: keep-alive} to an HTTP/1.0 client it then disconnects): the status by cause, noted, then
     * the connection closed. The decoder reads nothing after a head it refused.
     */
    static io.vertx.core.Handler<HttpServerRequest> invalidRequestHandler(Refusals refusals) {
        return req -> {
            Throwable cause = req.decoderResult().cause();
            int status = cause instanceof UnsupportedVersion ? 505
                    : cause instanceof TooLongHttpLineException ? 414
                    : cause instanceof TooLongHttpHeaderException ? 431
                    : 400;
            String reason = switch (status) {
                case 505 -> cause.getMessage();
                case 414 -> "request line too long";
                case 431 -> "request header fields too large";
                default -> "malformed request";
            };
            log.debug("refusing a request the decoder could not read: {} {}", status, cause == null ? "" : cause.toString());
            // only a head in another HTTP version was read whole: the decoder's stand-in for any other names nothing
            refusals.refused(req.getHeader("traceparent"), status == 505
                    ? req.method().name() + " " + RequestTarget.fromWire(req.uri()) : "with a head the decoder could not read",
                    status, reason);
            req.response().setStatusCode(status).putHeader(MockServer.MOCK_HEADER, "refused")
                    .putHeader("Connection", "close").putHeader("Content-Type", "text/plain; charset=utf-8")
                    .end(reason + "\n").onComplete(done -> req.connection().close());
        };
    }
}
