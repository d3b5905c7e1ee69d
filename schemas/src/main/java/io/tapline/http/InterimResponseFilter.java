package io.tapline.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drops the interim (1xx) responses that Vert.x's HTTP client would take for the final one. Its HTTP/1.1 client knows
 * {@code 100 Continue} (continue handler), {@code 101} (upgrades) and {@code 103 Early Hints} (early-hints handler, which
 * the sidecar relays); any other 1xx, such as WebDAV's {@code 102 Processing}, it would hand over as the response, end
 * the exchange there and return the connection to the pool with the real response still to come. RFC 9110 15.2: a
 * client must parse and may ignore unexpected 1xx responses; this handler, placed after the client's HTTP codec, does
 * that. Installed on the sidecar's client to the app and the dependencies, the replay worker's to the candidate, and
 * the dependency mock's for live calls.
 *
 * <p>It goes behind {@link StrayResponseBytes}'s handler after the codec, whichever of the two is installed first, so
 * that handler still sees the 1xx dropped here: a {@code 102 Processing} followed by no final answer is told as one
 * ({@link StrayResponseBytes#interim}), not as no answer at all.
 */
public final class InterimResponseFilter extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(InterimResponseFilter.class);
    static final String NAME = "tapline-interim-filter";

    /** Between a dropped head and the end of its (empty) content: what comes is dropped with it. */
    private boolean dropping;

    InterimResponseFilter() {
    }

    /**
     * Installs the filter on a new client connection ({@code HttpClientBuilder.withConnectHandler}); a connection that
     * is not a Vert.x HTTP/1.x client connection is left as it is, with a warning.
     */
    public static void install(HttpConnection connection) {
        ChannelPipeline p = VertxPipeline.of(connection, VertxPipeline.CLIENT_CODEC);
        if (p == null) {
            LOG.warn("interim responses cannot be filtered on {}: not a Vert.x HTTP/1.x client connection", connection.getClass().getName());
            return;
        }
        // StrayResponseBytes installed later adds its handler right after the codec, ahead of this one
        String after = p.get(StrayResponseBytes.MESSAGES) != null ? StrayResponseBytes.MESSAGES
                : VertxPipeline.CLIENT_CODEC;
        p.addAfter(after, NAME, new InterimResponseFilter());
    }

    /** Whether a response of {@code status} is dropped: a 1xx Vert.x's client does not know. */
    static boolean dropped(int status) {
        return status >= 100 && status < 200 && status != 100 && status != 101 && status != 103;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!dropping && msg instanceof HttpResponse r && dropped(r.status().code())) {
            dropping = true; // the head; the codec follows it with an empty LastHttpContent (1xx has no content)
        }
        if (dropping) {
            if (msg instanceof LastHttpContent) {
                dropping = false;
            }
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
