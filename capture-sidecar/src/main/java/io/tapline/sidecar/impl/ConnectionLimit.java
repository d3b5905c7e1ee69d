package io.tapline.sidecar.impl;

import io.netty.channel.ChannelPipeline;
import io.tapline.http.VertxPipeline;
import io.tapline.logging.PeriodicWarning;
import io.tapline.ops.Metrics;
import io.vertx.core.http.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The most connections the listeners (inbound and egress together) hold open at once, as nginx's
 * {@code worker_connections}: a connection past it is closed as soon as it is accepted, counted, and warned about at
 * most every 10 s. Without it a flood of connections (a traffic spike, a client leaking them) took every file
 * descriptor of the process: then no connection to the app or a dependency could be opened (each request a 502), the
 * Kafka producer and the registry client could not connect, and the management port could not accept its probes.
 * Bounded this way, what is left of the descriptor limit stays for those. Each listener connection may hold one
 * connection upstream (to the app, a dependency, a tunnel's target), so the default takes half of the limit left after
 * {@link #RESERVED_DESCRIPTORS}. A quarter of the bound is kept for the egress listener, at least one place: the app's
 * calls to its dependencies, which the inbound requests wait on, are not refused because clients took every place.
 */
final class ConnectionLimit {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimit.class);
    /** Descriptors kept for the JVM, the Kafka producer, the registry client, the management port and the logs. */
    static final int RESERVED_DESCRIPTORS = 64;
    static final Duration WARNING_INTERVAL = Duration.ofSeconds(10);

    private final int max;
    /** Most the inbound listener may hold: the rest of {@link #max} is the egress listener's alone. */
    private final int inboundMax;
    private final AtomicInteger open = new AtomicInteger();
    private final PeriodicWarning warning = new PeriodicWarning(WARNING_INTERVAL);

    /**
     * @param max    most listener connections at once; 0 = from the process's file descriptor limit ({@link #fromDescriptors})
     * @param egress the egress listener is on: a quarter of the bound, at least one place, is kept for it
     */
    ConnectionLimit(int max, boolean egress, Metrics metrics) {
        this.max = bound(max, descriptorLimit(), egress);
        this.inboundMax = inboundMax(this.max, egress);
        metrics.gauge("tapline_sidecar_connections", "Connections the listeners (inbound and egress) hold open", open::get);
        metrics.gauge("tapline_sidecar_max_connections", "Most connections the listeners hold open at once", () -> this.max);
    }

    /**
     * The bound: {@code max} when given, else the default for {@code descriptors} ({@link #fromDescriptors}), at least
     * 2 while the egress listener is on (a place for each listener).
     */
    static int bound(int max, long descriptors, boolean egress) {
        return max > 0 ? max : Math.max(egress ? 2 : 1, fromDescriptors(descriptors));
    }

    /**
     * Most the inbound listener may hold of {@code max}: all of it without the egress listener; with it, all but a
     * quarter, and never the last place (a quarter of 2 or 3 is none), which the egress listener alone may take. A
     * bound of 1 is all the inbound listener's ({@code --proxy-max-connections} refuses it while the egress listener
     * is on).
     */
    static int inboundMax(int max, boolean egress) {
        return egress && max >= 2 ? max - Math.max(1, max / 4) : max;
    }

    /** The default bound for a process that may open {@code descriptors} files; no bound when that is not known. */
    static int fromDescriptors(long descriptors) {
        if (descriptors <= 0) {
            return Integer.MAX_VALUE;
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (descriptors - RESERVED_DESCRIPTORS) / 2));
    }

    /** The process's file descriptor limit ({@code ulimit -n}), or -1 where the JVM does not say it. */
    static long descriptorLimit() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix
                ? unix.getMaxFileDescriptorCount() : -1;
    }

    int max() {
        return max;
    }

    /**
     * Takes a new listener connection (from {@code HttpServer.connectionHandler}, on its event loop): true when it
     * may stay, its place given back when its channel closes; false when it was one too many, and is being closed.
     */
    boolean admit(HttpConnection connection, Metrics.Counter refused, String listener) {
        if (open.incrementAndGet() > ("egress".equals(listener) ? max : inboundMax)) {
            open.decrementAndGet();
            refused.inc();
            long count = warning.occurred();
            if (count > 0) {
                LOG.atWarn().addKeyValue("listener", listener).addKeyValue("max_connections", max)
                        .addKeyValue("refused", count)
                        .log("{} connection(s) closed as soon as accepted (last on the {} listener): the listeners hold "
                                + "their most connections, {} (--proxy-max-connections, a quarter of them kept for the "
                                + "egress listener's); counted in "
                                + "tapline_sidecar_connections_refused_total, warned about at most every {} s",
                                count, listener, max, WARNING_INTERVAL.toSeconds());
            }
            connection.close();
            return false;
        }
        ChannelPipeline pipeline = VertxPipeline.of(connection);
        if (pipeline != null) {
            // the channel, not the HTTP connection: its close handler is the engine's to set (a WebSocket's), and
            // a tunnel (CONNECT, WebSocket) keeps the channel after the HTTP connection is done
            pipeline.channel().closeFuture().addListener(f -> open.decrementAndGet());
        } else {
            open.decrementAndGet(); // not a Vert.x connection: not counted, rather than counted for good
        }
        return true;
    }
}
