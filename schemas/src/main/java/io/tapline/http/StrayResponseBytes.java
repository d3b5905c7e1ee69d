package io.tapline.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.tapline.logging.PeriodicWarning;
import io.vertx.core.http.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Closes an upstream connection on which the peer sent bytes that belong to no answer: a body after an answer that
 * has none by definition (to a {@code HEAD}, a {@code 204}, a {@code 304}: RFC 9112 6.3), bytes past the end of a
 * body, or anything while no request is waiting for an answer. Vert.x's client returns such a connection to the pool
 * with the bytes still in its decoder, where they read as the start of the next answer's status line, so the next
 * request sent on it failed ({@code invalid version format: HELLOHTTP/1.1}): another client's 502 behind the sidecar,
 * another case's ERROR in replay. nginx closes such a connection instead. The answer they followed is read whole, as
 * before. Installed on the sidecar's client to the app and the dependencies, the replay worker's to the candidate, and
 * the dependency mock's for live calls.
 *
 * <p>Two small Netty handlers per client connection: one before the client's HTTP codec, which refuses a read that
 * comes while no request awaits an answer (its bytes are never decoded, so not even a whole, well-formed answer sent
 * on the idle connection can be taken for the next request's: Vert.x failed the connection for one, with an {@code
 * ERROR} naming nothing per message of it, {@code Received an HTTP message with no request in progress}); one after
 * it counts the request heads written and the final answers read, and once the last answer awaited has ended looks
 * at what the decoder holds unread: bytes there, past that answer's end, are stray. What it holds is the decoder's
 * own buffer ({@code ByteToMessageDecoder.internalBuffer()}, the decoder found once per connection): the read's
 * buffer when the decoder read it in place, or the one it appended that read to when it held part of the answer from
 * an earlier read (a head, a chunk-size line or a trailer cut by a read), where the read's own buffer looked empty
 * and bytes past an answer ending there went unseen and failed the next request. A read costs a field check; the
 * end of the last answer awaited a method call and a few field reads; nothing is allocated. The instance is kept as a
 * channel attribute, so the bytes found past an answer can be asked for once it is read ({@link #pastLastAnswer}).
 *
 * <p>An answer the decoder cannot read as HTTP ({@code HELLO}, a status code that is not a number, a head past the
 * client's limit, a broken chunk) fails the request awaiting it with the decoder's error, which is reported where that
 * request's failure is: the case's {@code ERROR}, the sidecar's 502 and its warning, the mock's 502 {@code
 * live-failed}. Vert.x also logged that error, on a connection without an exception handler of its own (these clients'
 * have none), as {@code ERROR io.vertx.core.net.impl.ConnectionBase - invalid version format: HELLO}: naming neither
 * the peer nor the request, one line per such answer. For that one failure the connection has a handler that writes it
 * at debug, naming the peer, with the exception (a connection closed part way through an answer's head, which the
 * decoder reports the same way, as {@code closed the connection before the end of its answer}); every other error of
 * the connection is Vert.x's to log, as before.
 * That failure is told from the connection's end (closed, reset, not answered in time) by the error itself, the one
 * the decoder's result carried ({@link #unreadableAnswer}), so that it is reported as an answer, not as none. Such
 * bytes on an idle connection, awaited by no request, are stray bytes: the connection is closed with the warning.
 * A status line naming a later minor version of HTTP/1 ({@code HTTP/1.2}) is read as HTTP/1.1 (RFC 9110 §2.5). One
 * naming another version than HTTP/1.0 or HTTP/1.1 ({@code HTTP/2.0 200 OK}) the decoder reads, and
 * Vert.x refuses after it, as an error of the connection that read as no answer; it is marked the decoder's failure
 * here before Vert.x sees it ({@code the status line names HTTP/2.0, not HTTP/1.0 or HTTP/1.1}), and is an answer that
 * cannot be read like the others; the rest of that answer is dropped, and Vert.x closes the connection for it.
 *
 * <p>One answer to no request is not stray: a {@code 408 Request Timeout}, which a server may send on an idle
 * persistent connection just before it closes it (RFC 9110 §15.5.9, RFC 9112 §9.5; servers do on their keep-alive
 * timeout). Unsolicited bytes that begin with a 408's status line ({@code HTTP/1.x 408}, then a space or the line's
 * end) close the connection as the peer's own close would: quietly (a debug line), neither warned of nor counted with
 * the stray connections, nor noted past the answer before them ({@link #pastLastAnswer}). The status line's version and
 * code are all that is read of it; what follows (its reason, headers, body, or more bytes) is dropped with it, since
 * the connection is closing. A read that holds only the start of such a status line (fewer than its 13 bytes, all
 * matching) closes the connection quietly too, at once: whatever follows, no answer can come on it, and a connection
 * kept in the pool for the rest to tell would be handed to a request meanwhile (only a stray answer cut in such a
 * read, within its first 13 bytes, goes without its warning).
 */
public final class StrayResponseBytes {

    private static final Logger LOG = LoggerFactory.getLogger(StrayResponseBytes.class);
    static final String BYTES = "tapline-stray-bytes";
    static final String MESSAGES = "tapline-stray-messages";
    private static final AttributeKey<StrayResponseBytes> KEY = AttributeKey.valueOf("tapline-stray-bytes");
    /**
     * The start of a 408's status line (RFC 9112 §4: HTTP-version SP status-code), {@code #} standing for a digit; the
     * byte after it must be a space or the line's end, so that {@code 4080} is not taken for one.
     */
    private static final byte[] TIMEOUT_STATUS = "HTTP/1.# 408".getBytes(StandardCharsets.US_ASCII);
    /** The bytes that make a 408's status line: {@link #TIMEOUT_STATUS} and the byte after the code. */
    private static final int TIMEOUT_STATUS_BYTES = TIMEOUT_STATUS.length + 1;

    /** What bytes no request awaits are. */
    private enum Unsolicited {
        /** A 408's status line: the peer is closing the idle connection. */
        TIMEOUT,
        /** The start of a 408's status line, all the read holds. */
        MAYBE_TIMEOUT,
        /** Anything else. */
        STRAY
    }
    /**
     * Netty's {@code CombinedChannelDuplexHandler.inboundHandler()} (the decoder of Vert.x's client codec, an {@code
     * HttpClientCodec}) and {@code ByteToMessageDecoder.internalBuffer()} (the bytes it holds, received and not yet
     * read), both protected: null when they cannot be reached, and the handlers are then not installed.
     */
    private static final MethodHandle CODEC_DECODER;
    private static final MethodHandle DECODER_BUFFER;

    static {
        MethodHandle decoder = null;
        MethodHandle buffer = null;
        try {
            Method inbound = CombinedChannelDuplexHandler.class.getDeclaredMethod("inboundHandler");
            inbound.setAccessible(true);
            Method internal = ByteToMessageDecoder.class.getDeclaredMethod("internalBuffer");
            internal.setAccessible(true);
            decoder = MethodHandles.lookup().unreflect(inbound);
            buffer = MethodHandles.lookup().unreflect(internal);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("the client decoder's buffer cannot be reached", e);
        }
        CODEC_DECODER = decoder;
        DECODER_BUFFER = buffer;
    }

    /**
     * The peers of one client, as its warnings name them ("the candidate"), and those warnings: at most one every
     * 10 s, counting the connections closed since the last. One per kind of peer and process, so that a flood of
     * such answers is neither a line per connection nor counted with another peer's.
     */
    public static final class Peers {
        private final String name;
        private final PeriodicWarning warning = new PeriodicWarning(Duration.ofSeconds(10));

        public Peers(String name) {
            this.name = name;
        }
    }

    private final Peers peers;
    private final HttpConnection connection;
    /** The decoder of the connection's client codec, whose buffer holds what it has received and not read. */
    private final ByteToMessageDecoder decoder;
    /** Request heads written whose final answer has not ended. */
    private int awaiting;
    /** The request head written last is a CONNECT's: a 2xx answer to it makes the connection a tunnel. */
    private boolean connecting;
    /** The head read last is a final answer's (not a 1xx). */
    private boolean finalAnswer;
    /** Stray bytes were found: the connection is closing, and nothing more read on it is passed on. */
    private boolean closing;
    /** The connection switched protocols (101), or became a tunnel (a CONNECT's 2xx): it carries no HTTP any more. */
    private boolean switched;
    /** The stray bytes the decoder held as the last answer ended, set before that end is passed on. */
    private int pastLastAnswer;
    /**
     * The decoder's error for the last answer it could not read as HTTP, set before the request awaiting it is failed
     * with it; read by that request's callbacks, which may run on another thread.
     */
    private volatile Throwable unreadable;
    /**
     * The status of the interim (1xx) head read last, while the request awaiting an answer has had no final answer's
     * head after it ({@code 100 Continue}, {@code 103 Early Hints}, which Vert.x's client keeps to itself, or a {@code
     * 101}); null otherwise. Set on 1xx heads only, cleared by a final head or the next request's: per request and final
     * answer a comparison and a read. Read by a request's failure callback, which may run on another thread ({@link #interim}).
     */
    private volatile HttpResponseStatus interim;

    private StrayResponseBytes(Peers peers, HttpConnection connection, ByteToMessageDecoder decoder) {
        this.peers = peers;
        this.connection = connection;
        this.decoder = decoder;
    }

    /**
     * Installs the handlers on a new client connection ({@code HttpClientBuilder.withConnectHandler}); {@code peers}
     * names its peer in the warning.
     */
    public static void install(HttpConnection connection, Peers peers) {
        ChannelPipeline p = VertxPipeline.of(connection, VertxPipeline.CLIENT_CODEC);
        if (p == null) {
            LOG.warn("bytes past an answer cannot be told on {}: not a Vert.x HTTP/1.x client connection",
                    connection.getClass().getName());
            return;
        }
        ByteToMessageDecoder decoder = decoderOf(p.get(VertxPipeline.CLIENT_CODEC));
        if (decoder == null) {
            LOG.warn("bytes past an answer cannot be told on {}: its codec's decoder cannot be reached",
                    connection.getClass().getName());
            return;
        }
        StrayResponseBytes stray = new StrayResponseBytes(peers, connection, decoder);
        p.channel().attr(KEY).set(stray);
        p.addBefore(VertxPipeline.CLIENT_CODEC, BYTES, stray.new Bytes());
        p.addAfter(VertxPipeline.CLIENT_CODEC, MESSAGES, stray.new Messages());
    }

    /**
     * The bytes that came past the answer last read on {@code connection} in the read that ended it, for which the
     * connection is closed: 0 when none came there (or the handlers are not installed). Asked once the answer has been
     * read (its end handler), the answer it names is that one. Bytes that come later, on the idle connection, are not
     * counted here: that answer was done with before they came.
     */
    public static int pastLastAnswer(HttpConnection connection) {
        ChannelPipeline p = VertxPipeline.of(connection);
        StrayResponseBytes stray = p == null ? null : p.channel().attr(KEY).get();
        return stray == null ? 0 : stray.pastLastAnswer;
    }

    /**
     * Whether {@code failure}, a request's on {@code connection}, is the error of Vert.x's decoder for an answer it
     * could not read as HTTP ({@code HELLO}, a status code that is not a number, a head past the client's limit, a
     * broken chunk): the peer answered, with bytes that are not HTTP, where any other failure says it did not (the
     * connection closed or reset, also before an answer's end, a timeout). Told by the error itself, the very one the
     * decoder's result carried, not by its message. False when the handlers are not installed on {@code connection}.
     */
    public static boolean unreadableAnswer(HttpConnection connection, Throwable failure) {
        if (connection == null || failure == null) {
            return false;
        }
        ChannelPipeline p = VertxPipeline.of(connection);
        StrayResponseBytes stray = p == null ? null : p.channel().attr(KEY).get();
        return stray != null && stray.unreadable == failure;
    }

    /**
     * The interim (1xx) head the peer sent last on {@code connection}, with no final answer's head after it, for the
     * request awaiting an answer there ({@code 100 Continue}, as its status line names it): a request that failed
     * with it (a timeout) had an answer begun, not none. Null when none came, a final head came after it, or the
     * handlers are not installed. For failure paths only.
     */
    public static String interim(HttpConnection connection) {
        ChannelPipeline p = connection == null ? null : VertxPipeline.of(connection);
        StrayResponseBytes stray = p == null ? null : p.channel().attr(KEY).get();
        HttpResponseStatus status = stray == null ? null : stray.interim;
        return status == null ? null : status.toString();
    }

    /** The decoder of Vert.x's client codec {@code codec}, or null when it is not one or cannot be reached. */
    private static ByteToMessageDecoder decoderOf(ChannelHandler codec) {
        if (CODEC_DECODER == null || DECODER_BUFFER == null
                || !(codec instanceof CombinedChannelDuplexHandler<?, ?> c)) {
            return null;
        }
        try {
            return CODEC_DECODER.invoke(c) instanceof ByteToMessageDecoder d ? d : null;
        } catch (Throwable e) {
            LOG.debug("the client codec's decoder cannot be reached", e);
            return null;
        }
    }

    /**
     * The bytes the decoder holds, received and not yet read (an empty buffer when none): during a read, what is left
     * of it, with what the decoder held from earlier reads in front when it appended it to those.
     */
    private ByteBuf held() {
        try {
            return (ByteBuf) DECODER_BUFFER.invokeExact(decoder);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e); // internalBuffer() declares no checked exception
        }
    }

    private void closeStray(int bytes) {
        closing = true;
        long due = peers.warning.occurred();
        if (due > 0) {
            LOG.warn("{} {} sent {} byte(s) that belong to no answer (a body after a HEAD's, a 204's or a 304's "
                    + "answer, bytes past a body's end, or bytes while no request awaited an answer); its connection "
                    + "is closed, not reused ({} such connection(s) since the last warning)", peers.name,
                    connection.remoteAddress(), bytes, due);
        } else {
            LOG.debug("{} {} sent {} byte(s) that belong to no answer; its connection is closed", peers.name,
                    connection.remoteAddress(), bytes);
        }
        // Through Vert.x, which takes the connection out of its pool at once. Closed below it (the channel), it stayed
        // in the pool until Netty reported the close, a moment later, and a request handed it meanwhile (the next
        // case, sent as this one's answer ended) failed as if the peer had ended a reused connection.
        connection.close();
    }

    /**
     * Closes the connection on which the peer sent a 408 while no request awaited an answer: the peer closes it too
     * (RFC 9110 §15.5.9), and the close is its, not a fault of its answers; a debug line, no warning.
     */
    private void closeTimedOut(String how) {
        closing = true;
        LOG.debug("{} {} {}; its connection is closed", peers.name, connection.remoteAddress(), how);
        connection.close();
    }

    /**
     * Matches the bytes of {@code buf} the decoder has not read (without reading them) against a 408's status line:
     * blanks and control characters before the status line are skipped, as by the decoder.
     */
    private static Unsolicited unsolicited(ByteBuf buf) {
        int i = statusLineStart(buf);
        int to = buf.writerIndex();
        int seen = 0;
        for (; i < to && seen < TIMEOUT_STATUS_BYTES; i++, seen++) {
            if (!timeoutStatusByte(seen, buf.getByte(i))) {
                return Unsolicited.STRAY;
            }
        }
        return seen == TIMEOUT_STATUS_BYTES ? Unsolicited.TIMEOUT : Unsolicited.MAYBE_TIMEOUT;
    }

    /** Whether {@code b} is the byte a 408's status line has at {@code at}. */
    private static boolean timeoutStatusByte(int at, byte b) {
        if (at == TIMEOUT_STATUS.length) {
            return b == ' ' || b == '\r' || b == '\n';
        }
        byte expected = TIMEOUT_STATUS[at];
        return expected == '#' ? b >= '0' && b <= '9' : b == expected;
    }

    /**
     * The bytes of {@code buf} the decoder has not read, not counting the control characters and blanks it skips
     * before a status line (a peer that ends a body with an extra CRLF sent nothing that could fail a request).
     */
    private static int unread(ByteBuf buf) {
        return buf.writerIndex() - statusLineStart(buf);
    }

    /** Where a status line in {@code buf} starts: past the control characters and blanks the decoder skips before one. */
    private static int statusLineStart(ByteBuf buf) {
        int i = buf.readerIndex();
        int to = buf.writerIndex();
        while (i < to && (buf.getByte(i) & 0xFF) <= ' ') {
            i++;
        }
        return i;
    }

    private boolean watching() {
        return !closing && !switched;
    }

    /**
     * Before the codec: a read that comes while no request awaits an answer is refused, not decoded (the control
     * characters and blanks the decoder skips before a status line excepted). Whatever it holds, bytes that are not
     * HTTP ({@code HELLO}) or a whole answer, it is the answer to no request: stray, unless it is a 408's status line
     * (or holds only the start of one).
     */
    private final class Bytes extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (awaiting == 0 && msg instanceof ByteBuf buf && watching()) {
                int bytes = unread(buf);
                if (bytes > 0) {
                    Unsolicited what = unsolicited(buf);
                    buf.release();
                    switch (what) {
                        case TIMEOUT -> closeTimedOut("sent a 408 (Request Timeout) while no request awaited an answer,"
                                + " ahead of closing the connection");
                        case MAYBE_TIMEOUT -> closeTimedOut("sent " + bytes + " byte(s) that begin a 408 (Request"
                                + " Timeout) status line while no request awaited an answer");
                        case STRAY -> closeStray(bytes);
                    }
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * Passes on an answer the decoder could not read, which fails the request awaiting it with {@code cause}: Vert.x's
     * report of that failure as an error of the connection is written at debug, naming the peer. Vert.x hands the
     * failure to the connection's handler as the message is passed on, on this thread (the connection's event loop);
     * the handler is there for that alone, and taken away after.
     */
    private void passUnreadable(ChannelHandlerContext ctx, Object msg, Throwable cause) {
        // before the request awaiting the answer is failed with it; a connection closed before the answer's end (what
        // the decoder reports as a PrematureChannelClosureException) is an answer the peer did not give whole, not one
        // that could not be read
        boolean closed = cause instanceof PrematureChannelClosureException;
        unreadable = closed ? null : cause;
        connection.exceptionHandler(err -> {
            if (err == cause) {
                LOG.debug(closed
                                ? "{} {} closed the connection before the end of its answer; the request awaiting it fails with {}"
                                : "{} {} sent an answer that cannot be read as HTTP; the request awaiting it fails with {}",
                        peers.name, connection.remoteAddress(), err.toString(), err);
            } else {
                LOG.error("{} {}: {}", peers.name, connection.remoteAddress(), err.toString(), err);
            }
        });
        try {
            ctx.fireChannelRead(msg);
        } finally {
            connection.exceptionHandler(null);
        }
    }

    /**
     * Whether Vert.x's client refuses an answer of {@code version}: it reads HTTP/1.0 and HTTP/1.1 only, and tells
     * them as here, by Netty's constants (which the decoder returns for those two exactly).
     */
    private static boolean otherVersion(HttpVersion version) {
        return version != HttpVersion.HTTP_1_0 && version != HttpVersion.HTTP_1_1;
    }

    /** Whether {@code version} is HTTP/1 with a minor version past 1 ({@code HTTP/1.2}): read as HTTP/1.1. */
    private static boolean laterMinorOfHttp1(HttpVersion version) {
        return version.majorVersion() == 1 && version.minorVersion() > 1;
    }

    /** After the codec: request heads written, final answers ended, and what the decoder had not read at their end. */
    private final class Messages extends ChannelDuplexHandler {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof HttpRequest r) {
                awaiting++;
                connecting = r.method() == HttpMethod.CONNECT;
                if (interim != null) {
                    interim = null; // an earlier request's
                }
            }
            ctx.write(msg, promise);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (closing) {
                ReferenceCountUtil.release(msg); // decoded from the stray bytes: an answer to no request
                return;
            }
            if (awaiting == 0 && !switched) {
                // decoded from bytes no request awaits: Bytes refuses such a read, and bytes past the last answer
                // close the connection as it ends, so none is expected; never passed on as an answer all the same
                ReferenceCountUtil.release(msg);
                closeStray(Math.max(1, unread(held())));
                return;
            }
            if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
                passUnreadable(ctx, msg, o.decoderResult().cause());
                return;
            }
            if (msg instanceof HttpResponse r && awaiting > 0 && otherVersion(r.protocolVersion())) {
                if (laterMinorOfHttp1(r.protocolVersion())) {
                    // RFC 9110 §2.5: a recipient reads a later minor version of a major version it implements as
                    // the highest minor version of it that it conforms to
                    r.setProtocolVersion(HttpVersion.HTTP_1_1);
                } else {
                    // Vert.x refuses it after the decoder (IllegalStateException: Unsupported HTTP version: HTTP/2.0),
                    // as an error of the connection the request awaiting it then fails with, told from a connection
                    // that ended by nothing: marked the decoder's failure here, it is read as the answer it is
                    Throwable cause = new IllegalArgumentException("the status line names " + r.protocolVersion()
                            + ", not HTTP/1.0 or HTTP/1.1");
                    r.setDecoderResult(DecoderResult.failure(cause));
                    passUnreadable(ctx, msg, cause);
                    closing = true; // the rest of that answer is not passed on: Vert.x closes the connection for it
                    return;
                }
            }
            if (msg instanceof HttpResponse r) {
                int status = r.status().code();
                finalAnswer = status >= 200;
                if (!finalAnswer) {
                    interim = r.status();
                } else if (interim != null) {
                    interim = null;
                }
                switched |= status == 101 || connecting && status < 300 && finalAnswer;
            }
            boolean ended = msg instanceof LastHttpContent && finalAnswer && !switched;
            if (ended) {
                awaiting = Math.max(0, awaiting - 1);
            }
            // what the decoder holds past the end: of this read, and of earlier ones when it appended this one to them
            int left = ended && awaiting == 0 ? unread(held()) : 0;
            // a 408's status line there is the peer closing the connection (a read held back, by the client's back
            // pressure, until the peer's keep-alive timeout had passed), not bytes of or past this answer, nor is the
            // start of one the read ends with
            Unsolicited past = left > 0 ? unsolicited(held()) : null;
            if (ended) {
                // before the end is passed on, where the answer's reader asks for it
                pastLastAnswer = past == Unsolicited.STRAY ? left : 0;
            }
            ctx.fireChannelRead(msg);
            if (past != null && past != Unsolicited.STRAY && watching()) {
                closeTimedOut("sent " + (past == Unsolicited.TIMEOUT ? "a 408 (Request Timeout)" : left + " byte(s) "
                        + "that begin a 408 (Request Timeout) status line") + " past the end of its last answer");
            } else if (past == Unsolicited.STRAY && watching()) {
                closeStray(left); // the answer is read whole; the bytes after it are no answer
            }
        }
    }
}
