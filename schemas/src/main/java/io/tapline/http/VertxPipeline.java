package io.tapline.http;

import io.netty.channel.ChannelPipeline;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.UnpooledHttpClientConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Where the sidecar and the replay mock reach below Vert.x's public API: the Netty pipeline of a Vert.x HTTP/1.x
 * connection and the names Vert.x gives its handlers there. A Vert.x upgrade that renames them fails the sidecar's
 * {@code SidecarTimeoutsTest} and {@code SidecarProxyTest}; each feature that needs a missing name warns and runs
 * without it.
 */
public final class VertxPipeline {

    /**
     * A server connection's HTTP/1.x request decoder (on the sidecar's listeners and the replay mock,
     * {@link MalformedRequests}'s {@link VersionSpellingDecoder} in Vert.x's decoder's place).
     */
    public static final String SERVER_DECODER = "httpDecoder";
    /** The Vert.x handler behind a connection's codec (server connections and tunnelled sockets). */
    public static final String VERTX_HANDLER = "handler";
    /** A client connection's HTTP/1.x codec. */
    public static final String CLIENT_CODEC = "codec";
    /** The idle-state handler Vert.x installs for a connection's idle timeout. */
    public static final String IDLE = "idle";

    private VertxPipeline() {
    }

    /**
     * The pipeline of {@code connection} when it is a Vert.x connection holding every handler named; else null. A
     * client connection opened alone ({@code HttpClientAgent.connect}) is Vert.x's wrapper around one: its pipeline.
     */
    public static ChannelPipeline of(HttpConnection connection, String... handlers) {
        if (connection instanceof UnpooledHttpClientConnection unpooled) {
            connection = unpooled.unwrap();
        }
        if (!(connection instanceof ConnectionBase conn)) {
            return null;
        }
        ChannelPipeline p = conn.channelHandlerContext().pipeline();
        for (String handler : handlers) {
            if (p.get(handler) == null) {
                return null;
            }
        }
        return p;
    }

    /** Removes the handler named {@code name} when the pipeline holds it. */
    public static void removeIfPresent(ChannelPipeline p, String name) {
        if (p.get(name) != null) {
            p.remove(name);
        }
    }
}
