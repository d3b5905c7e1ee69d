package io.tapline.sidecar.impl;

import com.sun.net.httpserver.HttpExchange;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.Interaction;
import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.RedactionOptions;
import io.tapline.http.Http10KeepAlive;
import io.tapline.http.InterimResponseFilter;
import io.tapline.http.MalformedRequests;
import io.tapline.http.RequestTarget;
import io.tapline.http.StrayResponseBytes;
import io.tapline.http.UpstreamReads;
import io.tapline.ops.ManagementServer;
import io.tapline.ops.Metrics;
import io.tapline.redaction.RedactionKey;
import io.tapline.redaction.Redactor;
import io.tapline.registry.RegistryConfig;
import io.tapline.serde.TaplineAvroSerializer;
import io.tapline.sidecar.Sidecar;
import io.tapline.sidecar.SidecarOptions;
import io.tapline.topics.TaplineTopics;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.VerticleBase;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/** Wiring: builds the parts from {@link SidecarOptions} and starts them. No capture logic lives here. */
public final class SidecarImpl implements Sidecar {

    private static final Logger LOG = LoggerFactory.getLogger(SidecarImpl.class);
    /** How long the publisher waits before retrying the registry after a serialization failure. */
    static final Duration SERIALIZATION_BACKOFF = Duration.ofSeconds(1);
    /**
     * How long the publisher drops a topic's records without sending them after a send that waited max.block.ms and
     * failed (a broker that does not answer), before it sends one again.
     */
    static final Duration BROKER_BACKOFF = Duration.ofSeconds(1);
    /**
     * How long the publisher thread waits for a topic's first registry call (after the start's, which it waits out):
     * a registry answers one in milliseconds; one frozen or cut off would hold it for the client's 5 s timeout.
     */
    static final Duration REGISTRATION_WAIT = Duration.ofMillis(250);
    static final int MAX_ROUTE_BUCKETS = 10_000;
    /** Ids of the listeners' shared random ports (port 0, see {@link #listen}): one each, so each has its own port. */
    static final int INBOUND_RANDOM_PORT = 1;
    static final int EGRESS_RANDOM_PORT = 2;
    /** How an operator sets the management token, named when a switch from another host is refused without one. */
    static final String MANAGEMENT_TOKEN_SETTING = ConfigSpec.flag(SidecarOptions.KEY_MANAGEMENT_TOKEN) + " (or "
            + ConfigSpec.envVar(SidecarOptions.KEY_MANAGEMENT_TOKEN) + ")";
    /** What a listener's 400 for a broken request body carries, as its other refusals ({@code answerAndClose}). */
    private static final HttpHeaders REFUSAL_HEADERS = new ReadOnlyHttpHeaders(true,
            HttpHeaderNames.CONTENT_TYPE, "text/plain");
    /** The peers of the upstream clients, as the warning about bytes past an answer names them (one for all clients). */
    private static final StrayResponseBytes.Peers UPSTREAMS = new StrayResponseBytes.Peers("an upstream");

    private final Vertx vertx;
    private final CapturePublisher publisher;
    private final ManagementServer management;
    private final Sampler sampler;
    private final Metrics metrics;
    private final int port;
    private final int egressPort;
    private final Listeners listeners;
    private volatile boolean ready;

    /** The listeners' servers (one per event loop each), their engines, and how long a stop waits for them. */
    private record Listeners(List<HttpServer> inbound, ProxyEngine inboundEngine, List<HttpServer> egress,
                             ProxyEngine egressEngine, Duration drainTimeout) {
    }

    private SidecarImpl(Vertx vertx, CapturePublisher publisher, ManagementServer management, Sampler sampler,
                        Metrics metrics, int port, int egressPort, Listeners listeners) {
        this.vertx = vertx;
        this.listeners = listeners;
        this.publisher = publisher;
        this.management = management;
        this.sampler = sampler;
        this.metrics = metrics;
        this.port = port;
        this.egressPort = egressPort;
    }

    public static Sidecar start(SidecarOptions o) throws Exception {
        Producer<String, byte[]> producer = new KafkaProducer<>(producerConfig(o), new StringSerializer(), new ByteArraySerializer());
        // One serializer for both record types; its registry client caches each schema's id, so steady state makes no registry call.
        TaplineAvroSerializer<SpecificRecord> serializer = new TaplineAvroSerializer<>();
        serializer.configure(registryConfig(o), false);
        return start(o, producer, serializer);
    }

    /** Starts with a given producer and serializer (tests without a broker use Kafka's MockProducer). */
    public static SidecarImpl start(SidecarOptions o, Producer<String, byte[]> producer, Serializer<SpecificRecord> serializer) throws Exception {
        return start(o, producer, serializer, System::nanoTime);
    }

    /**
     * As {@link #start(SidecarOptions, Producer, Serializer)}, the warnings about the app failing or breaking off an
     * answer (at most one per {@link ProxyEngine#FAILURE_WARNING_INTERVAL_NANOS}) timed by {@code warningClock}, a
     * test's nanosecond clock, so that what a warning holds back can be seen without waiting out the interval.
     */
    static SidecarImpl start(SidecarOptions o, Producer<String, byte[]> producer, Serializer<SpecificRecord> serializer,
                             LongSupplier warningClock) throws Exception {
        if (o.app() == null) {
            throw new IllegalArgumentException("the app URL is required");
        }
        o.checkTimeouts();
        Metrics metrics = new Metrics();
        SidecarMetrics sm = new SidecarMetrics(metrics);
        Redactor redactor = new Redactor(redactionKey(o), rules(o));
        double rate = o.samplingRatePercent() / 100.0;
        Sampler sampler = new Sampler(rate, o.routeCaps(), o.defaultRouteCap(), MAX_ROUTE_BUCKETS, System::nanoTime);
        sampler.setEnabled(o.captureEnabled());
        CorrelationRegistry registry = new CorrelationRegistry(o.captureMaxPending());
        ByteBoundedQueue<PendingInteraction> queue = new ByteBoundedQueue<>(o.captureQueueMaxBytes());
        InteractionAssembler assembler = new InteractionAssembler(o.service(), o.instance(), version(), rate,
                o.captureMaxBodyBytes(), redactor);
        CapturePublisher publisher = new CapturePublisher(queue, assembler, serializer, producer, o.topic(), o.unattributedTopic(), o.service(),
                sm, SERIALIZATION_BACKOFF, BROKER_BACKOFF, REGISTRATION_WAIT);
        publisher.start(primer(o));

        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(o.eventLoops()).setPreferNativeTransport(o.nativeTransport()));
        if (o.nativeTransport() && !vertx.isNativeTransportEnabled()) {
            LOG.warn("native transport unavailable, running on NIO: {}", vertx.unavailableNativeTransportCause() == null
                    ? "unknown cause" : vertx.unavailableNativeTransportCause().toString());
        }
        // A client (and so a connection pool) per event loop: a pooled connection serves only the event loop that
        // opened it, so an upstream response is handled on the thread of the request it answers, with no hand-off.
        ThreadLocal<HttpClient> clients = ThreadLocal.withInitial(() -> upstreamClient(vertx, o, true));
        // A request that failed on a stale pooled connection goes again on a new one: a client that keeps none.
        // Made on an event loop's first such request, so most never make one.
        ThreadLocal<HttpClient> freshClients = ThreadLocal.withInitial(() -> upstreamClient(vertx, o, false));
        NetClient netClient = vertx.createNetClient(new NetClientOptions().setConnectTimeout((int) o.connectTimeout().toMillis()));
        long tunnelIdleMs = o.tunnelIdleTimeout().toMillis();
        ProxyEngine.Settings inboundSettings = new ProxyEngine.Settings(o.maxRequestBodyBytes(),
                o.connectTimeout().toMillis(), o.upstreamTimeout().toMillis(), o.forwardedHeaders(), "tapline-sidecar", tunnelIdleMs,
                o.requestBufferBytes(), o.requestBufferMaxBytes());
        // the app's own calls: nothing is held (the app is not a slow client the dependency needs shielding from)
        ProxyEngine.Settings egressSettings = new ProxyEngine.Settings(0,
                o.connectTimeout().toMillis(), o.upstreamTimeout().toMillis(), false, null, tunnelIdleMs, 0, 1);
        ProxyEngine inboundEngine = new ProxyEngine(vertx, clients::get, freshClients::get, inboundSettings, "inbound", metrics,
                warningClock);
        ProxyEngine egressEngine = new ProxyEngine(vertx, clients::get, freshClients::get, egressSettings, "egress", metrics,
                warningClock);
        CaptureBudget budget = new CaptureBudget(o.captureMaxMemoryBytes());
        CaptureHub hub = new CaptureHub(sampler, registry, publisher, sm, o.outboundGrace().toMillis(),
                o.captureMaxBodyBytes(), budget);
        publisher.onSealed(registry::remove);
        EgressRouter egress = new EgressRouter(egressEngine, hub, netClient, o.egressRoutes());
        long headerTimeoutMs = o.headerTimeout().toMillis();
        ConnectionLimit connections = new ConnectionLimit(o.maxConnections(), o.egressListen() != null, metrics);
        String appHost = o.app().host();
        int appPort = o.app().port();
        String appBase = o.app().basePath();

        java.util.concurrent.atomic.AtomicIntegerArray bound = new java.util.concurrent.atomic.AtomicIntegerArray(2);
        Listeners servers = new Listeners(new CopyOnWriteArrayList<>(), inboundEngine, new CopyOnWriteArrayList<>(),
                egressEngine, o.drainTimeout());
        SidecarOptions.Listen inboundListen = o.listen();
        SidecarOptions.Listen egressListen = o.egressListen();
        // how a failure names each listener's option: its flag, and where it was set when not by the flag
        String inboundOption = o.listenerOption(SidecarOptions.KEY_LISTEN);
        String egressOption = o.listenerOption(SidecarOptions.KEY_EGRESS_LISTEN);
        java.util.function.Supplier<VerticleBase> listeners = () -> new VerticleBase() {
            @Override
            public Future<?> start() {
                HttpServerOptions base = new HttpServerOptions()
                        .setMaxHeaderSize(o.maxHeaderBytes())
                        // the request line too (Vert.x's default is 4096 bytes; nginx takes 8 KiB): longer gets 414
                        .setMaxInitialLineLength(o.maxHeaderBytes())
                        // HTTP/1.1 only, as documented: without this Vert.x sniffs every new connection for an HTTP/2
                        // preface and honours Upgrade: h2c, and sets the connection up only once its first bytes came
                        .setHttp2ClearTextEnabled(false)
                        // Expect: 100-continue is answered by ProxyEngine once the head passed its checks (a body over
                        // the limit gets 413 instead of 100)
                        .setHandle100ContinueAutomatically(false)
                        // Netty's idle handler: no byte read or written for this long closes the connection
                        .setIdleTimeout((int) o.idleTimeout().toMillis())
                        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
                HttpServer inbound = vertx.createHttpServer(base);
                servers.inbound().add(inbound);
                watchHeads(inbound, base, headerTimeoutMs, inboundEngine, false, connections)
                        .requestHandler(req -> {
                            Http10KeepAlive.restore(req, ProxyEngine.HTTP10_KEEP_ALIVE); // the head as the client sent it
                            inboundEngine.proxy(req, ProxyEngine.Target.app(appHost, appPort, appBase, originForm(req)),
                                    hub.inbound());
                        });
                java.util.function.Supplier<Future<HttpServer>> in = () -> listen(inbound, inboundListen, INBOUND_RANDOM_PORT, inboundOption)
                        .onSuccess(s -> bound.compareAndSet(0, 0, s.actualPort()));
                if (egressListen == null) {
                    return in.get();
                }
                HttpServer egressServer = vertx.createHttpServer(base);
                servers.egress().add(egressServer);
                watchHeads(egressServer, base, headerTimeoutMs, egressEngine, true, connections).requestHandler(egress::handle);
                java.util.function.Supplier<Future<HttpServer>> eg = () -> listen(egressServer, egressListen, EGRESS_RANDOM_PORT, egressOption)
                        .onSuccess(s -> bound.compareAndSet(1, 0, s.actualPort()));
                // a listener on port 0 binds once the other holds its named port: bound at once, the kernel could
                // hand it that port (one just let go of, by another process) before the other listener took it
                if (inboundListen.port() == 0 && egressListen.port() != 0) {
                    return eg.get().compose(s -> in.get());
                }
                if (egressListen.port() == 0 && inboundListen.port() != 0) {
                    return in.get().compose(s -> eg.get());
                }
                return Future.all(in.get(), eg.get());
            }
        };
        try {
            vertx.deployVerticle(listeners, new DeploymentOptions().setInstances(o.eventLoops())).await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            publisher.closeWithin(Duration.ofSeconds(1));
            vertx.close();
            // each listener's failure names its option and address (listenFailure, on this thread: it resolves the
            // host); anything else is said as it is
            if (e instanceof ListenFailed failed) {
                throw listenFailure(failed.option, failed.host, failed.port, failed.getCause());
            }
            throw e instanceof IOException named ? named : new IOException("cannot start the listeners: " + e.getMessage(), e);
        }
        if (o.egressListen() != null && !loopbackOnly(o.egressListen().host())) {
            LOG.atWarn().addKeyValue("egress_listen", o.egressListen())
                    .log("the egress listener on {} accepts connections from other hosts: whoever reaches it can use it as an "
                            + "HTTP forward proxy and open CONNECT tunnels to any host and port from here; keep it on "
                            + "127.0.0.1 (the default) unless the network around it admits the app alone", o.egressListen());
        }
        SidecarImpl[] self = new SidecarImpl[1];
        int[] ports = {bound.get(0), egressListen == null ? -1 : bound.get(1)};
        ManagementServer management;
        // what /ready answers, and tapline_sidecar_ready shows when scraped: a sidecar that is up but not ready (still
        // starting, or draining as it stops) is seen on a dashboard as it is seen by the probe
        java.util.function.BooleanSupplier readiness = () -> self[0] != null && self[0].ready;
        metrics.gauge("tapline_sidecar_ready", "1 while the management port's /ready answers 200 (ready), 0 while it answers 503",
                () -> readiness.getAsBoolean() ? 1 : 0);
        try {
            // liveness fails once the publisher thread is gone (restart the pod); readiness does not, so the proxy
            // keeps its traffic until then (fail-open)
            management = ManagementServer.start(o.managementHost(), o.managementPort(), metrics, readiness,
                    publisher::notRunning);
        } catch (IOException | RuntimeException e) {
            // the proxy listens already: a sidecar that cannot be watched must not serve, nor keep the process alive
            publisher.closeWithin(Duration.ofSeconds(1));
            vertx.close().await(10, TimeUnit.SECONDS);
            if (!(e instanceof IOException || e instanceof java.nio.channels.UnresolvedAddressException
                    || e instanceof IllegalArgumentException)) {
                throw e; // not the address's doing (a bug): not said as an option that cannot listen, nor exit 2
            }
            // named as replay and dedup name it: the host when it is not an address of this machine, else the port
            String option = o.listenerOption(ManagementServer.isLocalAddress(o.managementHost())
                    ? SidecarOptions.KEY_MANAGEMENT_PORT : SidecarOptions.KEY_MANAGEMENT_HOST);
            throw listenFailure(option, o.managementHost(), o.managementPort(), e);
        }
        SidecarImpl sidecar = new SidecarImpl(vertx, publisher, management, sampler, metrics, ports[0], ports[1], servers);
        self[0] = sidecar;
        registerGauges(metrics, publisher, queue, budget, registry, sampler);
        // without a token, POST /capture/on|off is taken from a loopback peer only (403 otherwise)
        management.route("/capture", ex -> sidecar.captureSwitch(ex), o.managementToken(), MANAGEMENT_TOKEN_SETTING);
        sidecar.ready = true;
        // --egress-listen off: no port to show (-1 inside)
        Object egressShown = ports[1] < 0 ? "off" : ports[1];
        LOG.atInfo().addKeyValue("listen", ports[0]).addKeyValue("app", o.app()).addKeyValue("egress_listen", egressShown)
                .addKeyValue("management_port", management.port()).addKeyValue("topic", o.topic())
                .log("sidecar listening on {} -> {} (egress {}, {} transport), capture {} at {}%, publishing to {} via {}, management port {}",
                ports[0], o.app(), egressShown, sidecar.transport(), o.captureEnabled() ? "on" : "off", o.samplingRatePercent(), o.topic(),
                o.bootstrapServers(), management.port());
        return sidecar;
    }

    /** Whether a listener on {@code host} is reachable from this host only (a loopback address or name). */
    static boolean loopbackOnly(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        try {
            java.net.InetAddress[] all = java.net.InetAddress.getAllByName(h);
            for (java.net.InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return all.length > 0;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /**
     * An event loop's client to the app and the dependencies: {@code keepAlive}, with its pool of keep-alive
     * connections; without, a connection per request, closed after it (for requests sent again, see {@link UpstreamReads}).
     */
    private static HttpClient upstreamClient(Vertx vertx, SidecarOptions o, boolean keepAlive) {
        return vertx.httpClientBuilder()
                .with(new HttpClientOptions()
                        .setKeepAlive(keepAlive)
                        // an idle pooled connection is let go before the app closes it (see --proxy-upstream-keepalive-timeout)
                        .setKeepAliveTimeout((int) o.upstreamKeepAliveTimeout().toSeconds())
                        .setMaxHeaderSize(Math.max(o.maxHeaderBytes(), 8192) * 4)
                        .setDecompressionSupported(false))
                // enough pooled keep-alive connections per upstream for a busy app; waiters queue beyond that
                .with(new PoolOptions().setHttp1MaxSize(512))
                .withConnectHandler(connection -> {
                    InterimResponseFilter.install(connection); // a 102 Processing must not be taken for the response
                    UpstreamReads.install(connection); // a stale pooled connection told from an app that failed
                    StrayResponseBytes.install(connection, UPSTREAMS); // bytes past an answer must not fail the next request
                })
                .build();
    }

    /**
     * Times the request heads of the server's connections ({@link RequestHeadTimeout}), unless the timeout is 0, and
     * closes a connection past the listeners' bound ({@link ConnectionLimit}) as soon as it is accepted.
     *
     * @param options what the server was created with: its request decoder's settings, for {@link MalformedRequests}'s
     * @param tunnels the listener takes CONNECT: what a client sends behind its head is kept for the tunnel
     *                ({@link ConnectEarlyData})
     */
    private static HttpServer watchHeads(HttpServer server, HttpServerOptions options, long headerTimeoutMs,
                                         ProxyEngine engine, boolean tunnels, ConnectionLimit connections) {
        Metrics.Counter timeouts = engine.rejected(408); // request head not received in time
        String listener = tunnels ? "egress" : "inbound";
        Metrics.Counter refused = engine.connectionsRefused();
        return server.invalidRequestHandler(MalformedRequests.invalidRequestHandler((req, status, reason) -> {
                    engine.rejected(status).inc();
                    ProxyEngine.answerAndClose(req, status, reason);
                }))
                .connectionHandler(conn -> {
                    if (!connections.admit(conn, refused, listener)) {
                        return;
                    }
                    MalformedRequests.install(conn, options.getHttp1Config(), ProxyEngine.MALFORMED_REQUESTS,
                            REFUSAL_HEADERS, (head, status, reason) -> engine.rejected(status).inc());
                    if (tunnels) {
                        ConnectEarlyData.install(conn);
                    }
                    if (headerTimeoutMs > 0) {
                        RequestHeadTimeout.install(conn, headerTimeoutMs, timeouts::inc);
                    }
                    // an HTTP/1.0 client's keep-alive read by Vert.x as by the engine; the egress listener is the app's
                    // forward proxy
                    Http10KeepAlive.install(conn, ProxyEngine.HTTP10_KEEP_ALIVE, tunnels ? "app" : "client", tunnels);
                });
    }

    private static void registerGauges(Metrics metrics, CapturePublisher publisher, ByteBoundedQueue<PendingInteraction> queue,
                                       CaptureBudget budget, CorrelationRegistry registry, Sampler sampler) {
        metrics.gauge("tapline_sidecar_queue_bytes", "Bytes of captures waiting for the producer", () -> publisher.queuedBytes());
        metrics.gauge("tapline_sidecar_queue_max_bytes", "Bound of the capture queue in bytes", () -> queue.maxBytes());
        metrics.gauge("tapline_sidecar_queue_items", "Captures waiting for the producer", () -> queue.size());
        metrics.gauge("tapline_sidecar_capture_memory_bytes", "Bytes of captured bodies held (in flight, in grace, queued)",
                () -> budget.used());
        metrics.gauge("tapline_sidecar_capture_memory_max_bytes", "Bound of the bytes of captured bodies held", () -> budget.maxBytes());
        metrics.gauge("tapline_sidecar_pending_interactions", "Captured interactions in flight or in their grace period", () -> registry.pending());
        metrics.gauge("tapline_sidecar_in_flight_requests", "Inbound requests in flight", () -> registry.inFlightRequests());
        metrics.gauge("tapline_sidecar_capture_enabled", "1 when capture is on", () -> sampler.enabled() ? 1 : 0);
    }

    /**
     * GET (or HEAD) /capture: state; POST /capture/on, /capture/off: switch. Another method on one of them gets 405
     * with what it takes ({@code Allow}), another path under {@code /capture} 404 (it was 405, {@code POST
     * /capture/of} and {@code GET /captureX} alike, and a {@code HEAD /capture} too).
     */
    private void captureSwitch(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        boolean switchPath = path.equals("/capture/on") || path.equals("/capture/off");
        if ("POST".equals(method) && switchPath) {
            boolean on = path.endsWith("/on");
            setCaptureEnabled(on);
            LOG.atInfo().addKeyValue("capture", on).log("capture switched {} through the management port", on ? "on" : "off");
            ManagementServer.respond(ex, 200, "text/plain", "capture " + (on ? "on" : "off") + "\n");
        } else if (("GET".equals(method) || "HEAD".equals(method)) && path.equals("/capture")) {
            ManagementServer.respond(ex, 200, "text/plain", "capture " + (captureEnabled() ? "on" : "off") + "\n");
        } else if (switchPath) {
            ManagementServer.notAllowed(ex, "POST");
        } else if (path.equals("/capture")) {
            ManagementServer.notAllowed(ex, "GET, HEAD");
        } else {
            ManagementServer.notFound(ex);
        }
    }

    /**
     * A listener that could not be opened, named by its option and address, so the message says which port is taken:
     * {@code OPTION: cannot listen on HOST:PORT: CAUSE}, the option named as any bad value's is ({@code option --listen},
     * {@code option --listen (set by TAPLINE_LISTEN)}: {@link SidecarOptions#listenerOption}). Port 0 is said as what
     * was asked for, {@code a free port of HOST} ({@code HOST:0} named no port anyone could look for). A host that does
     * not resolve or is not an address of this machine is said to be so before the cause: with port 0 it is what
     * failed, and on a named port it is the value to change, not the port. A {@link ConfigException}, as replay's and
     * dedup's listeners that cannot open are ({@code ListenHost.cannotListen}): the value of an option is in the way,
     * and the command exits 2 for it as for any bad value. Resolves the host: call it off any event loop.
     */
    static ConfigException listenFailure(String option, String host, int port, Throwable cause) {
        String why = cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
        String notHere = notAnAddressHere(host);
        return new ConfigException(option + ": cannot listen on " + (port == 0 ? "a free port of " + host
                : SidecarOptions.Listen.hostPort(host, port))
                + ": " + (notHere == null ? why : notHere + " (" + why + ")"), cause);
    }

    /** Why {@code host} is not one this machine can listen on (it does not resolve, or is another's), or null. Resolves it. */
    static String notAnAddressHere(String host) {
        if (new java.net.InetSocketAddress(host, 0).isUnresolved()) {
            return host + " does not resolve to an address";
        }
        return ManagementServer.isLocalAddress(host) ? null : host + " is not an address of this machine";
    }

    /**
     * A listener's bind failure as {@link #listen} reports it, on the event loop: {@link #listenFailure} resolves the
     * host, so it is made once the failure reaches the starting thread.
     */
    private static final class ListenFailed extends IOException {
        private static final long serialVersionUID = 1L;
        private final String option;
        private final String host;
        private final int port;

        ListenFailed(String option, SidecarOptions.Listen listen, Throwable cause) {
            super(option + ": cannot listen on " + listen.address() + ": " + cause.getMessage(), cause);
            this.option = option;
            this.host = listen.host();
            this.port = listen.port();
        }
    }

    /**
     * Binds a listener's server. A named port is asked for as it is: the servers of the other event loops ask for it
     * too, and Vert.x shares the one socket among them. Port 0 is asked for as a shared random port
     * ({@link SocketAddress#sharedRandomPort}, per host and per Vert.x instance): the first server binds port 0 and the
     * others join its socket, so the port is held from the moment the kernel hands it out. A port drawn first and bound
     * a moment later would be free in between, for another process to take; port 0 itself would bind a port per event
     * loop; a negative port in the server options, the other way to ask for a shared random port, is refused by
     * {@code listen()} in Vert.x 5.2. The two listeners' ids differ, so they never share one socket.
     */
    static Future<HttpServer> listen(HttpServer server, SidecarOptions.Listen listen, int randomPortId, String option) {
        SocketAddress address = listen.port() == 0 ? SocketAddress.sharedRandomPort(randomPortId, listen.host())
                : SocketAddress.inetSocketAddress(listen.port(), listen.host());
        return server.listen(address).recover(e -> Future.failedFuture(new ListenFailed(option, listen, e)));
    }

    static Map<String, Object> producerConfig(SidecarOptions o) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrapServers());
        c.put(ProducerConfig.CLIENT_ID_CONFIG, "tapline-sidecar-" + o.service() + "-" + o.instance());
        // send() runs on the publisher thread and may wait for metadata or buffer space: bound that stall, so an
        // unreachable broker turns into counted drops quickly instead of a stuck queue
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 500);
        // batch captures for a moment: throughput matters here, latency is off the request path
        c.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        // larger batches (default 16 KiB): fewer produce requests and sender wake-ups per capture, less broker CPU;
        // bounded by buffer.memory like any batch
        c.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        // captured bodies are mostly text and compress well; lz4 is cheap on the CPU the app shares
        c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        // during an outage give up on a batch after 20 s (default 2 min) so buffer.memory frees and recovery is quick
        c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        // match the topic's max.message.bytes (8 MiB): 64 KiB bodies plus many outbound calls still fit
        c.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TaplineTopics.INTERACTION_MAX_BYTES);
        c.putAll(o.producerOverrides());
        return c;
    }

    static Map<String, Object> registryConfig(SidecarOptions o) {
        Map<String, Object> c = new HashMap<>();
        c.put(RegistryConfig.URL, o.registryUrl());
        // lookups run on the publisher thread: bounded (a cold registry takes a few seconds for the first
        // registration), no inline retries; the publisher backs off after a failure instead
        c.put(RegistryConfig.REQUEST_TIMEOUT_MS, 5000);
        c.put(RegistryConfig.MAX_RETRIES, 0);
        c.putAll(o.registryOverrides());
        return c;
    }

    /** A minimal record serialized once at start, only to register the schema before traffic needs it. */
    static Interaction primer(SidecarOptions o) {
        return Interaction.newBuilder().setId("schema-primer").setTraceId("0".repeat(32))
                .setService(o.service()).setInstance(o.instance())
                .setStartedAt(Instant.EPOCH).setCompletedAt(Instant.EPOCH).setLatencyMicros(0)
                .setRequest(HttpRequest.newBuilder().setMethod("GET").setScheme("http").setAuthority("").setPath("/").build())
                .setResponse(HttpResponse.newBuilder().setStatus(200).build())
                .build();
    }

    static RedactionKey redactionKey(SidecarOptions o) {
        if (o.redactionKey() != null) {
            return RedactionKey.of(o.redactionKey());
        }
        LOG.warn("no redaction key configured (--redaction-key / TAPLINE_REDACTION_KEY): using a random per-process key; "
                + "redaction tokens will differ between instances and restarts, which splits dedup of redacted values");
        return RedactionKey.random();
    }

    static Redactor.Rules rules(SidecarOptions o) {
        return RedactionOptions.rules(o.redactionHeaders(), o.redactionFields(), o.redactionJsonPaths(), o.redactionRegexes(),
                o.redactCards(), o.redactEmails());
    }

    static String version() {
        String v = SidecarImpl.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public int egressPort() {
        return egressPort;
    }

    @Override
    public int managementPort() {
        return management.port();
    }

    @Override
    public boolean captureEnabled() {
        return sampler.enabled();
    }

    @Override
    public String transport() {
        return vertx.isNativeTransportEnabled() ? "native" : "nio";
    }

    @Override
    public void setCaptureEnabled(boolean on) {
        sampler.setEnabled(on);
    }

    @Override
    public Metrics metrics() {
        return metrics;
    }

    /** The Vert.x instance whose event loops the listeners and their upstream clients run on. */
    Vertx vertx() {
        return vertx;
    }

    /**
     * Drains, closes the event loops, publishes what is queued and closes the producer and the management port. Each
     * step is bounded, and each is taken when the closing thread was interrupted too (an embedding application's
     * shutdown, a test's timeout): the interrupt is set aside meanwhile and set again on return. Left in place, it
     * would end the first wait and be cleared by it, unseen by the caller. An interrupt arriving during the close ends
     * at most the wait it lands in, and is set again on return as well.
     */
    @Override
    public void close() {
        boolean interrupted = Thread.interrupted();
        try {
            ready = false;
            interrupted |= drain();
            try {
                vertx.close().await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // Future.await throws an interrupt (InterruptedException) unchecked
                interrupted |= e instanceof InterruptedException;
                LOG.warn("event loops did not stop cleanly: {}", e.toString());
            }
            interrupted |= Thread.interrupted();
            publisher.closeWithin(Duration.ofSeconds(5));
            interrupted |= Thread.interrupted();
            management.close();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Stops taking connections and waits, within the drain timeout, for the requests in flight to finish: first the
     * inbound listener's, while the egress listener still serves the calls they make, then the egress listener's.
     * Idle connections close at once, and every response from now on closes its connection after it. What is still
     * open at the deadline (a slow download, a WebSocket, a CONNECT tunnel) is closed with the event loops.
     */
    private boolean drain() {
        if (listeners.drainTimeout().isZero()) {
            return false;
        }
        long deadline = System.nanoTime() + listeners.drainTimeout().toNanos();
        LOG.info("draining: no new connections; waiting up to {} ms for the requests in flight",
                listeners.drainTimeout().toMillis());
        listeners.inboundEngine().drain();
        boolean interrupted = shutdown(listeners.inbound(), deadline);
        listeners.egressEngine().drain();
        return shutdown(listeners.egress(), deadline) | interrupted;
    }

    /** Shuts the servers down by the deadline; true when an interrupt ended the wait (its status is then clear). */
    private static boolean shutdown(List<HttpServer> servers, long deadline) {
        long left = Math.max(0, deadline - System.nanoTime());
        List<Future<Void>> stopped = new ArrayList<>();
        for (HttpServer server : servers) {
            stopped.add(server.shutdown(left, TimeUnit.NANOSECONDS));
        }
        try {
            // the servers close what is left at the deadline themselves; one second past it (for both listeners
            // together) is for them to do so
            long bound = Math.max(0, deadline + TimeUnit.SECONDS.toNanos(1) - System.nanoTime());
            Future.all(stopped).await(bound, TimeUnit.NANOSECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) { // thrown unchecked by Future.await
                return true;
            }
            LOG.warn("listeners did not stop within the drain timeout: {}", e.toString());
        }
        return false;
    }

    /**
     * The request target in origin form (path and query) for the app: a client may send the absolute form
     * ({@code GET http://host/path}), which the app behind the sidecar must not receive appended to its base path.
     * The path and query are the text whose UTF-8 is the bytes the client sent ({@link RequestTarget}).
     */
    static String originForm(HttpServerRequest req) {
        String path = req.path() == null || req.path().isEmpty() ? "/" : req.path();
        return RequestTarget.fromWire(req.query() == null ? path : path + "?" + req.query());
    }
}
