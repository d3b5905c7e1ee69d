package io.tapline.sidecar;

import io.tapline.ops.Metrics;
import io.tapline.sidecar.impl.SidecarImpl;

/**
 * A running capture sidecar: the inbound reverse proxy, the egress proxy, the publisher and the management port.
 * Start one with {@link #start(SidecarOptions)}; {@link #close()} stops listening, publishes what is queued
 * (bounded wait) and closes the producer; called from an interrupted thread it does all of that too, and leaves the
 * interrupt set.
 */
public interface Sidecar extends AutoCloseable {

    /**
     * Starts everything; returns once the listeners are bound. A listener that cannot be opened (its port taken, its
     * host not this machine's) is a {@link io.tapline.config.ConfigException} naming its option and where it was set;
     * anything else that keeps the sidecar from starting (the Kafka producer cannot be made, say) is another exception.
     */
    static Sidecar start(SidecarOptions options) throws Exception {
        return SidecarImpl.start(options);
    }

    /** Port of the inbound listener (useful with port 0). */
    int port();

    /** Port of the egress listener, -1 when it is off. */
    int egressPort();

    /** Port of the management listener. */
    int managementPort();

    /** The network transport the proxy runs on: {@code native} (epoll) or {@code nio}. */
    String transport();

    /** Whether new requests are captured. */
    boolean captureEnabled();

    /** Switches capture on or off without a restart (what {@code POST /capture/on|off} does). */
    void setCaptureEnabled(boolean on);

    /** The sidecar's metrics (also served on {@code /metrics}). */
    Metrics metrics();

    @Override
    void close();
}
