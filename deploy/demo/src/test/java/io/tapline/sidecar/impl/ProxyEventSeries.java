package io.tapline.sidecar.impl;

import io.tapline.ops.Metrics;

/**
 * The proxy's series that appear at their first event, registered through {@link ProxyEngine}'s own methods, as the
 * engine registers them when the event happens: an answer the upstream or the client broke off, an answer its reader
 * stopped reading, a request sent again after a stale keep-alive connection, a connection refused at the bound. In
 * this package for those package-private methods; used by {@code MonitoringNamesTest}, whose traffic makes the others.
 */
public final class ProxyEventSeries {

    private ProxyEventSeries() {
    }

    public static void register(Metrics registry) {
        for (String listener : new String[] {"inbound", "egress"}) {
            // as SidecarImpl sets them: the egress listener holds no request body
            long buffer = listener.equals("inbound") ? 1024 : 0;
            ProxyEngine.Settings settings = new ProxyEngine.Settings(1024, 1_000, 1_000, false, null, 1_000, buffer, 4096);
            ProxyEngine engine = new ProxyEngine(null, () -> null, () -> null, settings, listener, registry, System::nanoTime);
            engine.upstreamAborted("closed");
            engine.clientAborted();
            engine.clientReadTimeouts();
            engine.retries("reset");
            engine.connectionsRefused();
            engine.upstreamErrors(502);
            engine.rejected(400);
        }
    }
}
