package io.tapline.sidecar;

import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.ListenHost;
import io.tapline.config.LogOptions;
import io.tapline.config.RedactionOptions;
import io.tapline.config.RegistryOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.http.HttpUrl;
import io.tapline.registry.RegistryConfig;
import io.tapline.signature.RouteTemplates;
import io.tapline.topics.TaplineTopics;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Everything the sidecar can be told, with the config keys ({@code KEY_*}, dotted; flags and {@code TAPLINE_*}
 * environment variables derive from them) and defaults ({@code DEFAULT_*}) matching the local stack.
 */
public final class SidecarOptions {

    public static final String KEY_LISTEN = "listen";
    public static final String KEY_APP = "app";
    public static final String KEY_SERVICE = "service";
    public static final String KEY_INSTANCE = "instance";
    public static final String KEY_EGRESS = "egress";
    public static final String KEY_EGRESS_LISTEN = "egress.listen";
    public static final String KEY_CAPTURE_ENABLED = "capture.enabled";
    public static final String KEY_CAPTURE_MAX_BODY_BYTES = "capture.max.body.bytes";
    public static final String KEY_CAPTURE_QUEUE_MAX_BYTES = "capture.queue.max.bytes";
    public static final String KEY_CAPTURE_MAX_MEMORY_BYTES = "capture.max.memory.bytes";
    public static final String KEY_CAPTURE_MAX_PENDING = "capture.max.pending";
    public static final String KEY_CAPTURE_OUTBOUND_GRACE = "capture.outbound.grace";
    public static final String KEY_CAPTURE_TOPIC = "topic.interactions";
    public static final String KEY_UNATTRIBUTED_TOPIC = "topic.unattributed";
    public static final String KEY_SAMPLING_RATE = "sampling.rate";
    public static final String KEY_SAMPLING_ROUTE_CAP = "sampling.route.cap";
    public static final String KEY_SAMPLING_DEFAULT_ROUTE_CAP = "sampling.default.route.cap";
    public static final String KEY_REDACTION_KEY = RedactionOptions.KEY;
    public static final String KEY_REDACTION_HEADERS = RedactionOptions.HEADERS;
    public static final String KEY_REDACTION_FIELDS = RedactionOptions.FIELDS;
    public static final String KEY_REDACTION_JSON_PATHS = RedactionOptions.JSON_PATHS;
    public static final String KEY_REDACTION_REGEX = RedactionOptions.REGEX;
    public static final String KEY_REDACTION_CARDS = RedactionOptions.CARDS;
    public static final String KEY_REDACTION_EMAILS = RedactionOptions.EMAILS;
    public static final String KEY_PROXY_MAX_REQUEST_BODY_BYTES = "proxy.max.request.body.bytes";
    public static final String KEY_PROXY_REQUEST_BUFFER_BYTES = "proxy.request.buffer.bytes";
    public static final String KEY_PROXY_REQUEST_BUFFER_MAX_BYTES = "proxy.request.buffer.max.bytes";
    public static final String KEY_PROXY_MAX_HEADER_BYTES = "proxy.max.header.bytes";
    public static final String KEY_PROXY_CONNECT_TIMEOUT = "proxy.connect.timeout";
    public static final String KEY_PROXY_UPSTREAM_TIMEOUT = "proxy.upstream.timeout";
    public static final String KEY_PROXY_IDLE_TIMEOUT = "proxy.idle.timeout";
    public static final String KEY_PROXY_UPSTREAM_KEEPALIVE_TIMEOUT = "proxy.upstream.keepalive.timeout";
    public static final String KEY_PROXY_HEADER_TIMEOUT = "proxy.header.timeout";
    public static final String KEY_PROXY_TUNNEL_IDLE_TIMEOUT = "proxy.tunnel.idle.timeout";
    public static final String KEY_PROXY_DRAIN_TIMEOUT = "proxy.drain.timeout";
    public static final String KEY_PROXY_FORWARDED_HEADERS = "proxy.forwarded.headers";
    public static final String KEY_PROXY_EVENT_LOOPS = "proxy.event.loops";
    public static final String KEY_PROXY_MAX_CONNECTIONS = "proxy.max.connections";
    public static final String KEY_PROXY_TRANSPORT = "proxy.transport";
    public static final String KEY_KAFKA_BOOTSTRAP = "kafka.bootstrap.servers";
    public static final String KEY_REGISTRY_URL = RegistryOptions.URL;
    public static final String KEY_MANAGEMENT_HOST = "management.host";
    public static final String KEY_MANAGEMENT_PORT = "management.port";
    public static final String KEY_MANAGEMENT_TOKEN = "management.token";
    public static final String PREFIX_PRODUCER = "kafka.producer.";

    public static final String DEFAULT_LISTEN = "0.0.0.0:8080";
    public static final String DEFAULT_SERVICE = "app";
    public static final String DEFAULT_EGRESS_LISTEN = "127.0.0.1:15001";
    public static final int DEFAULT_CAPTURE_MAX_BODY_BYTES = 64 * 1024;
    public static final long DEFAULT_CAPTURE_QUEUE_MAX_BYTES = 64L * 1024 * 1024;
    public static final long DEFAULT_CAPTURE_MAX_MEMORY_BYTES = 128L * 1024 * 1024;
    public static final int DEFAULT_CAPTURE_MAX_PENDING = 10_000;
    public static final Duration DEFAULT_CAPTURE_OUTBOUND_GRACE = Duration.ofMillis(100);
    public static final String DEFAULT_CAPTURE_TOPIC = TaplineTopics.INTERACTIONS;
    public static final String DEFAULT_UNATTRIBUTED_TOPIC = TaplineTopics.UNATTRIBUTED;
    public static final double DEFAULT_SAMPLING_RATE_PERCENT = 100.0;
    public static final long DEFAULT_PROXY_MAX_REQUEST_BODY_BYTES = 0;
    public static final long DEFAULT_PROXY_REQUEST_BUFFER_BYTES = 64 * 1024;
    public static final long DEFAULT_PROXY_REQUEST_BUFFER_MAX_BYTES = 32L * 1024 * 1024;
    /** Most bytes of one request body held before connecting: they are joined into one buffer. */
    static final long MAX_REQUEST_BUFFER_BYTES = 64L * 1024 * 1024;
    public static final int DEFAULT_PROXY_MAX_HEADER_BYTES = 16 * 1024;
    public static final Duration DEFAULT_PROXY_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_PROXY_UPSTREAM_TIMEOUT = Duration.ofSeconds(60);
    /** nginx's keepalive_timeout; longer than the upstream timeout, so a request waiting on the app gets its 504. */
    public static final Duration DEFAULT_PROXY_IDLE_TIMEOUT = Duration.ofSeconds(75);
    public static final Duration DEFAULT_PROXY_HEADER_TIMEOUT = Duration.ofSeconds(10);
    /**
     * Below the idle timeouts apps close keep-alive connections after (Node.js and uvicorn 5 s, Jetty 30 s), so the
     * sidecar lets an idle connection go before the app does, not as the app closes it (Vert.x keeps one 60 s). Vert.x
     * closes expired connections once a second: one goes 3 to 4 s after its last use.
     */
    public static final Duration DEFAULT_PROXY_UPSTREAM_KEEPALIVE_TIMEOUT = Duration.ofSeconds(3);
    public static final Duration DEFAULT_PROXY_TUNNEL_IDLE_TIMEOUT = Duration.ofMinutes(5);
    public static final Duration DEFAULT_PROXY_DRAIN_TIMEOUT = Duration.ofSeconds(10);
    public static final String DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:9092";
    public static final String DEFAULT_REGISTRY_URL = RegistryOptions.DEFAULT_URL;
    public static final String DEFAULT_MANAGEMENT_HOST = "0.0.0.0";
    public static final int DEFAULT_MANAGEMENT_PORT = 9464;

    /** A host and port to listen on. */
    public record Listen(String host, int port) {
        /** {@code PORT}, {@code :PORT} or {@code HOST:PORT}, an IPv6 host in brackets ({@code [::1]:PORT}). */
        public static Listen parse(String key, String value, String defaultHost) {
            return read("option " + ConfigSpec.flag(key), value, defaultHost);
        }

        /**
         * The listener a configuration names, an error naming where a bad one was set ({@link TaplineConfig#named}); its
         * host is checked as {@link ListenHost} checks one, before the producer is made (it failed only when the
         * listener was bound, after the producer had started).
         */
        static Listen parse(TaplineConfig c, String key, String defaultHost) {
            Listen l = read(c.named(key), c.get(key), defaultHost);
            ListenHost.check(c.named(key), l.host());
            return l;
        }

        /** {@code HOST:PORT}, an IPv6 host in brackets ({@code [::1]:8080}), as the value is written. */
        public String address() {
            return hostPort(host, port);
        }

        /** {@code HOST:PORT}, the host in brackets when it is an IPv6 address ({@code ::1:8080} is one). */
        public static String hostPort(String host, int port) {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }

        private static Listen read(String option, String value, String defaultHost) {
            String v = value.trim();
            int close = v.indexOf(']');
            if (v.startsWith("[") && (close < 0 || close + 1 >= v.length() || v.charAt(close + 1) != ':')) {
                throw new ConfigException(option + ": '" + value + "' is not PORT or HOST:PORT: an IPv6 host in "
                        + "brackets is followed by its port, as [::1]:8080");
            }
            int colon = v.lastIndexOf(':');
            String host = colon < 0 ? defaultHost : (colon == 0 ? defaultHost : v.substring(0, colon));
            if (host.startsWith("[") && host.endsWith("]") && host.length() > 2) {
                host = host.substring(1, host.length() - 1);
            } else if (host.indexOf(':') >= 0) {
                // ::1 would read as host :: and port 1: an IPv6 address has its port only after brackets
                throw new ConfigException(option + ": '" + value + "' is not PORT or HOST:PORT: an IPv6 host goes in "
                        + "brackets, as [::1]:8080");
            }
            try {
                int port = Integer.parseInt(colon < 0 ? v : v.substring(colon + 1));
                if (port < 0 || port > 65535) {
                    throw new NumberFormatException();
                }
                return new Listen(host, port);
            } catch (NumberFormatException e) {
                throw new ConfigException(option + ": '" + value + "' is not PORT or HOST:PORT (port 0-65535)");
            }
        }
    }

    /** A named egress route: {@code http://127.0.0.1:EGRESS/NAME/...} goes to {@code url}. */
    public record EgressRoute(String name, String host, int port, String basePath) {
    }

    private Listen listen = Listen.parse(KEY_LISTEN, DEFAULT_LISTEN, "0.0.0.0");
    private HttpUrl app;
    private String service = DEFAULT_SERVICE;
    private String instance = defaultInstance();
    private final List<EgressRoute> egressRoutes = new ArrayList<>();
    private Listen egressListen = Listen.parse(KEY_EGRESS_LISTEN, DEFAULT_EGRESS_LISTEN, "127.0.0.1");
    private boolean captureEnabled = true;
    private int captureMaxBodyBytes = DEFAULT_CAPTURE_MAX_BODY_BYTES;
    private long captureQueueMaxBytes = DEFAULT_CAPTURE_QUEUE_MAX_BYTES;
    private long captureMaxMemoryBytes = DEFAULT_CAPTURE_MAX_MEMORY_BYTES;
    private int captureMaxPending = DEFAULT_CAPTURE_MAX_PENDING;
    private Duration outboundGrace = DEFAULT_CAPTURE_OUTBOUND_GRACE;
    private String topic = DEFAULT_CAPTURE_TOPIC;
    private String unattributedTopic = DEFAULT_UNATTRIBUTED_TOPIC;
    private double samplingRatePercent = DEFAULT_SAMPLING_RATE_PERCENT;
    private final Map<String, Double> routeCaps = new LinkedHashMap<>();
    private double defaultRouteCap;
    private String redactionKey;
    private final List<String> redactionHeaders = new ArrayList<>();
    private final List<String> redactionFields = new ArrayList<>();
    private final List<String> redactionJsonPaths = new ArrayList<>();
    private final Map<String, String> redactionRegexes = new LinkedHashMap<>();
    private boolean redactCards = true;
    private boolean redactEmails = true;
    private long maxRequestBodyBytes = DEFAULT_PROXY_MAX_REQUEST_BODY_BYTES;
    private long requestBufferBytes = DEFAULT_PROXY_REQUEST_BUFFER_BYTES;
    private long requestBufferMaxBytes = DEFAULT_PROXY_REQUEST_BUFFER_MAX_BYTES;
    private int maxHeaderBytes = DEFAULT_PROXY_MAX_HEADER_BYTES;
    private Duration connectTimeout = DEFAULT_PROXY_CONNECT_TIMEOUT;
    private Duration upstreamTimeout = DEFAULT_PROXY_UPSTREAM_TIMEOUT;
    private Duration idleTimeout = DEFAULT_PROXY_IDLE_TIMEOUT;
    private Duration upstreamKeepAliveTimeout = DEFAULT_PROXY_UPSTREAM_KEEPALIVE_TIMEOUT;
    private Duration headerTimeout = DEFAULT_PROXY_HEADER_TIMEOUT;
    private Duration tunnelIdleTimeout = DEFAULT_PROXY_TUNNEL_IDLE_TIMEOUT;
    private Duration drainTimeout = DEFAULT_PROXY_DRAIN_TIMEOUT;
    private boolean forwardedHeaders = true;
    private int eventLoops = Math.max(1, Runtime.getRuntime().availableProcessors());
    /** Most listener connections open at once; 0 = from the process's file descriptor limit. */
    private int maxConnections = 0;
    private boolean nativeTransport = false;
    private String bootstrapServers = DEFAULT_KAFKA_BOOTSTRAP;
    private String registryUrl = DEFAULT_REGISTRY_URL;
    private final Map<String, Object> producerOverrides = new LinkedHashMap<>();
    private final Map<String, Object> registryOverrides = new LinkedHashMap<>();
    private String managementHost = DEFAULT_MANAGEMENT_HOST;
    private int managementPort = DEFAULT_MANAGEMENT_PORT;
    private String managementToken;
    /**
     * Where the listeners' options were set when not by their flags ({@link TaplineConfig#origin}), for a listener that
     * cannot open to name them as a bad value's are named ({@link #listenerOption}).
     */
    private final Map<String, String> listenerOrigins = new HashMap<>();

    /** The options {@code --help} documents; every key of this class is declared here. */
    public static ConfigSpec spec() {
        return LogOptions.declare(RegistryOptions.declare(ConfigSpec.builder("tapline sidecar",
                        "Capture sidecar: reverse proxy in front of the app plus an egress proxy for its outbound HTTP; "
                                + "publishes each interaction to Kafka (Avro), asynchronously and fail-open."))
                .option(KEY_LISTEN, DEFAULT_LISTEN, "Inbound listener, PORT or HOST:PORT (an IPv6 host in brackets: [::1]:8080); HOST must be an address of this machine or a name resolving to one. Clients call the app through it.")
                .option(KEY_APP, "", "URL of the app to forward to, e.g. http://127.0.0.1:8081 (required).")
                .option(KEY_SERVICE, DEFAULT_SERVICE, "Logical service name; first part of every record key.")
                .option(KEY_INSTANCE, "", "Instance (pod or host) name recorded in each interaction; default: the host name.")
                .multi(KEY_EGRESS, "Named egress route NAME=URL: the app calls http://EGRESS_LISTEN/NAME/path and the sidecar forwards to URL/path.")
                .option(KEY_EGRESS_LISTEN, DEFAULT_EGRESS_LISTEN, "Egress listener, PORT or HOST:PORT (an IPv6 host in brackets): named routes, HTTP_PROXY-style forward proxy for http://, CONNECT tunnels; 'off' disables it. Not the address --listen has.")
                .option(KEY_CAPTURE_ENABLED, "true", "Capture at start (true/false); switch at runtime with POST /capture/on|off on the management port.")
                .option(KEY_CAPTURE_MAX_BODY_BYTES, Integer.toString(DEFAULT_CAPTURE_MAX_BODY_BYTES), "Bytes of each body kept in a capture; the rest streams through uncaptured (truncated=true, originalSize kept), and a cut body ends at its last whole word.")
                .option(KEY_CAPTURE_QUEUE_MAX_BYTES, Long.toString(DEFAULT_CAPTURE_QUEUE_MAX_BYTES), "Bound of the queue between capture and the Kafka producer, in bytes; when full, captures are dropped (reason queue_full).")
                .option(KEY_CAPTURE_MAX_MEMORY_BYTES, Long.toString(DEFAULT_CAPTURE_MAX_MEMORY_BYTES), "Most bytes of captured bodies and heads held at once, in flight, in the grace period and queued; past it new requests are proxied uncaptured (reason memory_full) and a capture that cannot copy its next chunk is dropped whole (reason capture_memory).")
                .option(KEY_CAPTURE_MAX_PENDING, Integer.toString(DEFAULT_CAPTURE_MAX_PENDING), "Most interactions held while in flight or in their grace period; past it requests are proxied uncaptured (reason in_flight_full).")
                .option(KEY_CAPTURE_OUTBOUND_GRACE, DEFAULT_CAPTURE_OUTBOUND_GRACE.toMillis() + "ms", "Wait after the response ends for late outbound calls before publishing.")
                .option(KEY_CAPTURE_TOPIC, DEFAULT_CAPTURE_TOPIC, "Topic interactions are published to.")
                .option(KEY_UNATTRIBUTED_TOPIC, DEFAULT_UNATTRIBUTED_TOPIC,
                        "Topic for outbound calls no single interaction could claim (published on their own, never guessed).")
                .option(KEY_SAMPLING_RATE, "100", "Percent of traces captured, 0-100, decided by a hash of the trace id (a request and its outbound calls are in or out together).")
                .multi(KEY_SAMPLING_ROUTE_CAP, "Per-route cap 'METHOD /route/{id}=N': at most N captures per second for that route. The route is normalised as record keys name it (GET /owners/42/ is GET /owners/{id}); placeholders: {id}, {uuid}, {date}, {email}, {hex}, {token}.")
                .option(KEY_SAMPLING_DEFAULT_ROUTE_CAP, "0", "Cap in captures per second for every route without its own cap; 0 = none.")
                .secret(KEY_REDACTION_KEY, "", "HMAC-SHA256 key for redaction tokens (>= 16 bytes); without it a random per-process key is used and a warning logged (tokens then differ between instances).")
                .with(RedactionOptions::declareRules)
                .option(KEY_PROXY_MAX_REQUEST_BODY_BYTES, "0", "Refuse request bodies declared larger than this with 413; 0 = no limit (bodies stream through).")
                .option(KEY_PROXY_REQUEST_BUFFER_BYTES, Long.toString(DEFAULT_PROXY_REQUEST_BUFFER_BYTES), "Bytes of a request body read from the client before the app is asked for a connection (inbound only): a body up to this size reaches the app whole, a larger one after its first this-many bytes, then streams. A client trickling its body then holds sidecar memory, not one of the app connections. 0 = every body streams from its first byte. At most --proxy-request-buffer-max-bytes and 64 MiB.")
                .option(KEY_PROXY_REQUEST_BUFFER_MAX_BYTES, Long.toString(DEFAULT_PROXY_REQUEST_BUFFER_MAX_BYTES), "Most bytes of request bodies held that way at once, by all requests; past it a body goes on to the app as it is and streams.")
                .option(KEY_PROXY_MAX_HEADER_BYTES, Integer.toString(DEFAULT_PROXY_MAX_HEADER_BYTES), "Largest request head accepted, and longest request line; a longer line gets 414, a larger head 431.")
                .option(KEY_PROXY_CONNECT_TIMEOUT, DEFAULT_PROXY_CONNECT_TIMEOUT.toSeconds() + "s", "Connect timeout to the app and egress targets (timed out: 504, as nginx answers; refused or unresolvable: 502).")
                .option(KEY_PROXY_UPSTREAM_TIMEOUT, DEFAULT_PROXY_UPSTREAM_TIMEOUT.toSeconds() + "s", "Longest wait on the app or a dependency without progress: no response bytes and no request body bytes taken (failure: 504, or a reset once the response has begun); a client (or the app, on the egress listener) that reads nothing of an answer for this long has it cut too; also the longest wait for the next body byte while a body is read before connecting (408); 0 = none.")
                .option(KEY_PROXY_IDLE_TIMEOUT, DEFAULT_PROXY_IDLE_TIMEOUT.toSeconds() + "s", "Close a listener connection (inbound or egress) after this long without a byte read or written; must be longer than --proxy-upstream-timeout so a request waiting on a slow app still gets its 504; 0 = never.")
                .option(KEY_PROXY_UPSTREAM_KEEPALIVE_TIMEOUT, DEFAULT_PROXY_UPSTREAM_KEEPALIVE_TIMEOUT.toSeconds() + "s", "Close a pooled connection to the app or a dependency this long after its last use (in whole seconds; expired connections are closed once a second, so up to a second later); keep it below the app's own keep-alive timeout minus that second (Node.js and uvicorn close after 5 s, gunicorn after 2 s), so the sidecar does not send a request on a connection the app is closing. An app's Keep-Alive: timeout=N answer sets N for its connection instead. 0 = never.")
                .option(KEY_PROXY_HEADER_TIMEOUT, DEFAULT_PROXY_HEADER_TIMEOUT.toSeconds() + "s", "A request line and headers must arrive whole within this long of the connection opening (first request) or of their first byte (later requests), else 408 and the connection is closed; 0 = no limit.")
                .option(KEY_PROXY_TUNNEL_IDLE_TIMEOUT, DEFAULT_PROXY_TUNNEL_IDLE_TIMEOUT.toMinutes() + "m", "Close a CONNECT tunnel or WebSocket connection after this long without a byte in either direction; 0 = never.")
                .option(KEY_PROXY_DRAIN_TIMEOUT, DEFAULT_PROXY_DRAIN_TIMEOUT.toSeconds() + "s", "On SIGTERM: stop accepting connections, let requests in flight finish for up to this long (their responses carry Connection: close, idle connections are closed), keep the egress listener serving the app's calls meanwhile, then publish what is queued and exit; 0 = close every connection at once.")
                .option(KEY_PROXY_FORWARDED_HEADERS, "true", "Add X-Forwarded-For/-Proto/-Host and Via to the requests forwarded to the app, and Via to its answers (inbound listener; the egress listener adds neither).")
                .option(KEY_PROXY_EVENT_LOOPS, "0", "Event loop threads; 0 = one per core.")
                .option(KEY_PROXY_MAX_CONNECTIONS, "0", "Most connections the inbound and egress listeners hold open together; one more is closed as soon as it is accepted (counted, and a warning at most every 10 s), so a flood of connections cannot take the file descriptors the connections to the app, Kafka and the management port need. With the egress listener on, the inbound listener holds at most three quarters of them and never the last one: the rest is kept for the app's calls (so the bound is then 0 or at least 2). 0 = from the file descriptor limit (ulimit -n): (limit - 64) / 2, as each proxied connection may hold one to the app or a dependency.")
                .choice(KEY_PROXY_TRANSPORT, "nio", "Network transport: nio (Java NIO) or native (Netty's epoll on Linux x86_64/aarch64, falling back to nio with a warning where it cannot load).",
                        "native", "nio")
                .option(KEY_KAFKA_BOOTSTRAP, DEFAULT_KAFKA_BOOTSTRAP, "Kafka bootstrap servers: host:port[,host:port...] (a name is resolved by the client, not at start).")
                .prefix(PREFIX_PRODUCER, "Any Kafka producer setting, passed through untouched, e.g. --kafka.producer.linger.ms=5, or kafka.producer.acks=1 in the file.")
                .option(KEY_MANAGEMENT_HOST, DEFAULT_MANAGEMENT_HOST, "Management listener host (/healthy, /ready, /metrics, /capture).")
                .option(KEY_MANAGEMENT_PORT, Integer.toString(DEFAULT_MANAGEMENT_PORT), "Management port; 0 = ephemeral.")
                .secret(KEY_MANAGEMENT_TOKEN, "", "Token that POST /capture/on and /capture/off must carry (Authorization: Bearer TOKEN, else 401), from any address. Empty (the default): the switch is taken from a loopback address only (curl localhost in the pod: kubectl exec, kubectl port-forward) and refused with 403 from any other; set a token to switch from elsewhere. GET /capture, /healthy, /ready and /metrics stay open either way (restrict the port, e.g. with a NetworkPolicy)."))
                .build();
    }

    /** Reads and validates a loaded configuration; errors name the flag and what it accepts. */
    public static SidecarOptions from(TaplineConfig c) {
        SidecarOptions o = new SidecarOptions();
        if (!c.positional().isEmpty()) {
            throw new ConfigException("unexpected argument " + c.positional().get(0) + " (options start with --)");
        }
        o.listen = Listen.parse(c, KEY_LISTEN, "0.0.0.0");
        String app = c.get(KEY_APP);
        if (app == null || app.isBlank()) {
            throw new ConfigException("missing required option --app (env " + ConfigSpec.envVar(KEY_APP) + "): the URL of the app, e.g. http://127.0.0.1:8081");
        }
        o.app(httpUrl(c.named(KEY_APP), app));
        o.service = nonEmpty(c.get(KEY_SERVICE), DEFAULT_SERVICE);
        o.instance = nonEmpty(c.get(KEY_INSTANCE), defaultInstance());
        for (String route : c.getList(KEY_EGRESS)) {
            int eq = route.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(c.named(KEY_EGRESS) + ": '" + HttpUrl.shown(route) + "' is not NAME=URL, e.g. inventory=http://inventory:8080");
            }
            o.addEgress(c.named(KEY_EGRESS), route.substring(0, eq).trim(), route.substring(eq + 1).trim());
        }
        String egressListen = c.get(KEY_EGRESS_LISTEN);
        o.egressListen = "off".equalsIgnoreCase(egressListen.trim()) ? null : Listen.parse(c, KEY_EGRESS_LISTEN, "127.0.0.1");
        o.captureEnabled = c.getBoolean(KEY_CAPTURE_ENABLED);
        o.captureMaxBodyBytes = positive(c, KEY_CAPTURE_MAX_BODY_BYTES, c.getInt(KEY_CAPTURE_MAX_BODY_BYTES), true);
        o.captureQueueMaxBytes = positive(c, KEY_CAPTURE_QUEUE_MAX_BYTES, c.getLong(KEY_CAPTURE_QUEUE_MAX_BYTES), false);
        o.captureMaxMemoryBytes = positive(c, KEY_CAPTURE_MAX_MEMORY_BYTES, c.getLong(KEY_CAPTURE_MAX_MEMORY_BYTES), false);
        o.captureMaxPending = (int) positive(c, KEY_CAPTURE_MAX_PENDING, c.getInt(KEY_CAPTURE_MAX_PENDING), false);
        o.outboundGrace = nonNegative(c, KEY_CAPTURE_OUTBOUND_GRACE);
        // empty: the default, as before; any other name checked as the broker would, which otherwise drops every capture
        o.topic = c.has(KEY_CAPTURE_TOPIC) && !c.get(KEY_CAPTURE_TOPIC).isBlank() ? c.getTopic(KEY_CAPTURE_TOPIC) : DEFAULT_CAPTURE_TOPIC;
        o.unattributedTopic = c.has(KEY_UNATTRIBUTED_TOPIC) && !c.get(KEY_UNATTRIBUTED_TOPIC).isBlank()
                ? c.getTopic(KEY_UNATTRIBUTED_TOPIC) : DEFAULT_UNATTRIBUTED_TOPIC;
        o.samplingRatePercent = c.getDouble(KEY_SAMPLING_RATE);
        if (!(o.samplingRatePercent >= 0 && o.samplingRatePercent <= 100)) {
            throw new ConfigException(c.named(KEY_SAMPLING_RATE) + ": '" + c.get(KEY_SAMPLING_RATE) + "' is not a percentage within 0-100");
        }
        for (String cap : c.getList(KEY_SAMPLING_ROUTE_CAP)) {
            int eq = cap.lastIndexOf('=');
            try {
                double n = Double.parseDouble(cap.substring(eq + 1).trim());
                if (eq <= 0 || !(n > 0) || Double.isInfinite(n)) {
                    throw new NumberFormatException();
                }
                o.routeCap(cap.substring(0, eq).trim(), n);
            } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
                throw new ConfigException(c.named(KEY_SAMPLING_ROUTE_CAP) + ": '" + cap + "' is not 'METHOD /route=N' with N > 0, e.g. 'GET /owners/{id}=5'");
            } catch (IllegalArgumentException e) {
                throw new ConfigException(c.named(KEY_SAMPLING_ROUTE_CAP) + ": '" + cap + "': " + e.getMessage());
            }
        }
        o.defaultRouteCap = c.getDouble(KEY_SAMPLING_DEFAULT_ROUTE_CAP);
        if (!(o.defaultRouteCap >= 0) || Double.isInfinite(o.defaultRouteCap)) { // also refuses NaN
            throw new ConfigException(c.named(KEY_SAMPLING_DEFAULT_ROUTE_CAP) + ": '" + c.get(KEY_SAMPLING_DEFAULT_ROUTE_CAP)
                    + "' is not a number >= 0 (captures per second; 0 = none)");
        }
        String key = c.get(KEY_REDACTION_KEY);
        o.redactionKey = key == null || key.isEmpty() ? null : key;
        if (o.redactionKey != null && o.redactionKey.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 16) {
            throw new ConfigException("option --redaction-key" + c.origin(KEY_REDACTION_KEY) + ": the key must be at least 16 bytes");
        }
        o.redactionHeaders.addAll(c.getList(KEY_REDACTION_HEADERS));
        o.redactionFields.addAll(c.getList(KEY_REDACTION_FIELDS));
        o.redactionJsonPaths.addAll(c.getList(KEY_REDACTION_JSON_PATHS));
        o.redactionRegexes.putAll(RedactionOptions.regexes(c));
        o.redactCards = c.getBoolean(KEY_REDACTION_CARDS);
        o.redactEmails = c.getBoolean(KEY_REDACTION_EMAILS);
        o.maxRequestBodyBytes = positive(c, KEY_PROXY_MAX_REQUEST_BODY_BYTES, c.getLong(KEY_PROXY_MAX_REQUEST_BODY_BYTES), true);
        o.requestBufferBytes = positive(c, KEY_PROXY_REQUEST_BUFFER_BYTES, c.getLong(KEY_PROXY_REQUEST_BUFFER_BYTES), true);
        o.requestBufferMaxBytes = positive(c, KEY_PROXY_REQUEST_BUFFER_MAX_BYTES, c.getLong(KEY_PROXY_REQUEST_BUFFER_MAX_BYTES), false);
        if (o.requestBufferBytes > Math.min(o.requestBufferMaxBytes, MAX_REQUEST_BUFFER_BYTES)) {
            throw new ConfigException(c.named(KEY_PROXY_REQUEST_BUFFER_BYTES) + ": '" + c.get(KEY_PROXY_REQUEST_BUFFER_BYTES)
                    + "' is more than " + (o.requestBufferBytes > MAX_REQUEST_BUFFER_BYTES ? MAX_REQUEST_BUFFER_BYTES + " (one body held in memory)"
                    : ConfigSpec.flag(KEY_PROXY_REQUEST_BUFFER_MAX_BYTES) + " (" + o.requestBufferMaxBytes + ", what all held bodies may take)"));
        }
        o.maxHeaderBytes = (int) positive(c, KEY_PROXY_MAX_HEADER_BYTES, c.getInt(KEY_PROXY_MAX_HEADER_BYTES), false);
        o.connectTimeout = c.getDuration(KEY_PROXY_CONNECT_TIMEOUT);
        positive(c, KEY_PROXY_CONNECT_TIMEOUT, o.connectTimeout.compareTo(Duration.ZERO), false); // its sign is what is checked
        if (o.connectTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new ConfigException(c.named(KEY_PROXY_CONNECT_TIMEOUT) + ": '" + c.get(KEY_PROXY_CONNECT_TIMEOUT)
                    + "' is longer than " + Integer.MAX_VALUE + "ms");
        }
        o.upstreamTimeout = nonNegative(c, KEY_PROXY_UPSTREAM_TIMEOUT);
        o.idleTimeout = nonNegative(c, KEY_PROXY_IDLE_TIMEOUT);
        if (o.idleTimeout.toMillis() > Integer.MAX_VALUE) { // Vert.x takes it as an int of milliseconds
            throw new ConfigException(c.named(KEY_PROXY_IDLE_TIMEOUT) + ": '" + c.get(KEY_PROXY_IDLE_TIMEOUT)
                    + "' is longer than " + Integer.MAX_VALUE + "ms");
        }
        o.upstreamKeepAliveTimeout = nonNegative(c, KEY_PROXY_UPSTREAM_KEEPALIVE_TIMEOUT);
        if (o.upstreamKeepAliveTimeout.toNanosPart() != 0 || o.upstreamKeepAliveTimeout.toSeconds() > Integer.MAX_VALUE) {
            // Vert.x takes it as an int of seconds
            throw new ConfigException(c.named(KEY_PROXY_UPSTREAM_KEEPALIVE_TIMEOUT) + ": '" + c.get(KEY_PROXY_UPSTREAM_KEEPALIVE_TIMEOUT)
                    + "' is not a whole number of seconds up to " + Integer.MAX_VALUE + "s");
        }
        o.headerTimeout = nonNegative(c, KEY_PROXY_HEADER_TIMEOUT);
        o.tunnelIdleTimeout = nonNegative(c, KEY_PROXY_TUNNEL_IDLE_TIMEOUT);
        o.drainTimeout = nonNegative(c, KEY_PROXY_DRAIN_TIMEOUT);
        o.checkTimeouts();
        o.forwardedHeaders = c.getBoolean(KEY_PROXY_FORWARDED_HEADERS);
        int loops = positive(c, KEY_PROXY_EVENT_LOOPS, c.getInt(KEY_PROXY_EVENT_LOOPS), true);
        o.eventLoops = loops > 0 ? loops : Math.max(1, Runtime.getRuntime().availableProcessors());
        o.maxConnections = positive(c, KEY_PROXY_MAX_CONNECTIONS, c.getInt(KEY_PROXY_MAX_CONNECTIONS), true);
        if (o.maxConnections == 1 && o.egressListen != null) {
            // the one place would be the inbound listener's, and the app's calls its requests wait on refused
            throw new ConfigException(c.named(KEY_PROXY_MAX_CONNECTIONS) + ": '" + c.get(KEY_PROXY_MAX_CONNECTIONS)
                    + "' must be 0 or >= 2 while the egress listener is on (a place for each listener; "
                    + "--egress-listen off runs without it)");
        }
        o.nativeTransport = "native".equalsIgnoreCase(c.get(KEY_PROXY_TRANSPORT));
        o.bootstrapServers = c.getBootstrapServers(KEY_KAFKA_BOOTSTRAP);
        o.registryUrl = c.get(KEY_REGISTRY_URL);
        c.checkClientSettings(PREFIX_PRODUCER, ProducerConfig.configDef());
        o.producerOverrides.putAll(c.subset(PREFIX_PRODUCER));
        // a truststore that cannot be loaded is a bad option (exit 2), as dedup's and replay's are
        Map<String, Object> registry = new LinkedHashMap<>(RegistryOptions.checked(c, RegistryOptions.clientConfigs(c)));
        registry.remove(RegistryConfig.URL);
        o.registryOverrides.putAll(registry);
        o.checkListenersApart(c);
        o.checkNoLoop(c);
        o.managementHost = ListenHost.check(c, KEY_MANAGEMENT_HOST);
        String token = c.get(KEY_MANAGEMENT_TOKEN);
        o.managementToken = token == null || token.isBlank() ? null : token.trim();
        o.managementPort = c.getInt(KEY_MANAGEMENT_PORT);
        if (o.managementPort < 0 || o.managementPort > 65535) {
            throw new ConfigException(c.named(KEY_MANAGEMENT_PORT) + ": '" + c.get(KEY_MANAGEMENT_PORT)
                    + "' is not a port 0-65535 (0 = ephemeral)");
        }
        for (String listener : List.of(KEY_LISTEN, KEY_EGRESS_LISTEN, KEY_MANAGEMENT_HOST, KEY_MANAGEMENT_PORT)) {
            o.listenerOrigins.put(listener, c.origin(listener));
        }
        return o;
    }

    /**
     * Refuses the inbound and egress listeners on one address: Vert.x shares a port between servers that ask for the
     * same one (as it does for a listener's event loops), so each connection would reach either listener, the app's
     * calls the inbound one and clients' requests the egress one. Overlapping addresses that are not the same (a
     * wildcard and a loopback address on one port) fail at start instead, where binding the second is refused.
     */
    private void checkListenersApart(TaplineConfig c) {
        if (egressListen != null && listen.port() != 0 && listen.port() == egressListen.port()
                && unbracketed(listen.host()).equalsIgnoreCase(unbracketed(egressListen.host()))) {
            throw new ConfigException(c.named(KEY_EGRESS_LISTEN) + ": " + egressListen.address()
                    + " is the address of --listen too: each listener needs one of its own (sharing it, each connection"
                    + " would reach either listener)");
        }
    }

    /**
     * Refuses an upstream ({@code --app}, an {@code --egress} route) that is one of this sidecar's own listeners: every
     * request would come back to the sidecar instead of reaching the upstream. {@code --app} as the inbound listener
     * goes round a loop until Via and X-Forwarded-For outgrow the head limit (hundreds of hops, each an upstream
     * connection); an egress route to the egress listener, which adds no header, goes round until the connection pool
     * is spent when the route's path leads to itself again ({@code self=http://127.0.0.1:15001/self}). Names are not
     * resolved: a loopback name or address, or the listener's own host, on the listener's port is the sidecar (a
     * wildcard listener answers on loopback too).
     */
    private void checkNoLoop(TaplineConfig c) {
        List<Map.Entry<String, HttpUrl>> upstreams = new ArrayList<>();
        upstreams.add(Map.entry(c.named(KEY_APP), app));
        for (EgressRoute r : egressRoutes) {
            upstreams.add(Map.entry("option " + ConfigSpec.flag(KEY_EGRESS) + " " + r.name() + c.origin(KEY_EGRESS),
                    HttpUrl.parse("http://" + r.host() + ":" + r.port())));
        }
        for (Map.Entry<String, HttpUrl> up : upstreams) {
            for (Map.Entry<String, Listen> own : List.of(Map.entry("--listen", listen), Map.entry("--egress-listen",
                    egressListen == null ? new Listen("", 0) : egressListen))) {
                Listen l = own.getValue();
                if (l.port() != 0 && l.port() == up.getValue().port() && sameHost(up.getValue().host(), l.host())) {
                    throw new ConfigException(up.getKey() + ": " + HttpUrl.shown(up.getValue().toString())
                            + " is this sidecar's own " + own.getKey() + " (" + l.address()
                            + "): its requests would come back to this sidecar (round a loop) instead of reaching the upstream; "
                            + "give the address the upstream itself listens on");
                }
            }
        }
    }

    private static boolean sameHost(String upstreamHost, String listenerHost) {
        String u = unbracketed(upstreamHost).toLowerCase(java.util.Locale.ROOT);
        String l = unbracketed(listenerHost).toLowerCase(java.util.Locale.ROOT);
        boolean wildcard = l.equals("0.0.0.0") || l.equals("::") || l.equals("0:0:0:0:0:0:0:0");
        return u.equals(l) || loopback(u) && (wildcard || loopback(l));
    }

    private static boolean loopback(String host) {
        return host.equals("localhost") || host.endsWith(".localhost") || host.startsWith("127.") || host.equals("::1")
                || host.equals("0:0:0:0:0:0:0:1");
    }

    private static String unbracketed(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private static long positive(TaplineConfig c, String key, long value, boolean allowZero) {
        if (value < 0 || (!allowZero && value == 0)) {
            throw new ConfigException(c.named(key) + ": '" + c.get(key) + "' must be " + (allowZero ? ">= 0" : "> 0"));
        }
        return value;
    }

    private static int positive(TaplineConfig c, String key, int value, boolean allowZero) {
        return (int) positive(c, key, (long) value, allowZero);
    }

    private static Duration nonNegative(TaplineConfig c, String key) {
        Duration d = c.getDuration(key);
        positive(c, key, d.compareTo(Duration.ZERO), true); // its sign is what is checked
        return d;
    }

    /**
     * The listener idle timeout must outlast the upstream timeout: the listener's idle timer does not know that a
     * request is waiting on the app, so a shorter one would cut the connection before the 504 could be sent.
     */
    public void checkTimeouts() {
        if (!idleTimeout.isZero() && (upstreamTimeout.isZero() || idleTimeout.compareTo(upstreamTimeout) <= 0)) {
            throw new ConfigException("option " + ConfigSpec.flag(KEY_PROXY_IDLE_TIMEOUT) + ": " + idleTimeout.toMillis()
                    + "ms must be longer than " + ConfigSpec.flag(KEY_PROXY_UPSTREAM_TIMEOUT) + " ("
                    + (upstreamTimeout.isZero() ? "0 = none, so the idle timeout must be 0 too" : upstreamTimeout.toMillis() + "ms")
                    + "), or a request waiting on a slow app would lose its connection before its 504");
        }
    }

    private static String nonEmpty(String v, String fallback) {
        return v == null || v.isBlank() ? fallback : v.trim();
    }

    /**
     * An upstream URL ({@code --app}, an {@code --egress} route): {@code http://}, host, port and an optional base path,
     * held to what {@link HttpUrl#baseUrlProblem} asks of a base URL, as replay's {@code --target} is: printable ASCII
     * (a bidirectional control or an invisible character would be sent in front of every forwarded path and shown in
     * the start line), no query, no fragment (which was dropped unsaid), no broken percent-escape, a host a resolver
     * can look up.
     */
    private static HttpUrl httpUrl(String option, String value) {
        HttpUrl u;
        try {
            u = HttpUrl.parse(value.trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(option + ": '" + HttpUrl.shown(value) + "' is not an http://host[:port] URL: " + e.getMessage());
        }
        if (!u.scheme().equals("http")) {
            throw new ConfigException(option + ": '" + HttpUrl.shown(value) + "' is not an http:// URL (TLS to the app is not supported)");
        }
        String refusal = u.baseUrlRefusal("a base URL to forward to");
        if (refusal != null) {
            throw new ConfigException(option + ": '" + HttpUrl.shown(value) + "' " + refusal
                    + "; give scheme, host, port and an optional base path");
        }
        return u;
    }

    private static String defaultInstance() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "unknown";
        }
    }

    // ------------------------------------------------------------------ fluent setters (tests, embedding)

    public SidecarOptions listen(String host, int port) {
        this.listen = new Listen(host, port);
        listenerOrigins.remove(KEY_LISTEN);
        return this;
    }

    public SidecarOptions app(HttpUrl app) {
        this.app = app;
        return this;
    }

    public SidecarOptions app(String url) {
        return app(httpUrl("option " + ConfigSpec.flag(KEY_APP), url));
    }

    public SidecarOptions service(String service) {
        this.service = service;
        return this;
    }

    public SidecarOptions instance(String instance) {
        this.instance = instance;
        return this;
    }

    public SidecarOptions addEgress(String name, String url) {
        return addEgress("option " + ConfigSpec.flag(KEY_EGRESS), name, url);
    }

    /** A named egress route, a bad one named as {@code option} says ({@link TaplineConfig#named}). */
    private SidecarOptions addEgress(String option, String name, String url) {
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new ConfigException(option + ": route name '" + name + "' may use letters, digits, '.', '_' and '-' only");
        }
        HttpUrl u = httpUrl(option, url);
        egressRoutes.add(new EgressRoute(name, u.host(), u.port(), u.basePath()));
        return this;
    }

    public SidecarOptions egressListen(String host, int port) {
        this.egressListen = new Listen(host, port);
        listenerOrigins.remove(KEY_EGRESS_LISTEN);
        return this;
    }

    public SidecarOptions noEgress() {
        this.egressListen = null;
        listenerOrigins.remove(KEY_EGRESS_LISTEN);
        return this;
    }

    public SidecarOptions nativeTransport(boolean on) {
        this.nativeTransport = on;
        return this;
    }

    public SidecarOptions captureEnabled(boolean on) {
        this.captureEnabled = on;
        return this;
    }

    public SidecarOptions captureMaxBodyBytes(int n) {
        this.captureMaxBodyBytes = n;
        return this;
    }

    public SidecarOptions captureQueueMaxBytes(long n) {
        this.captureQueueMaxBytes = n;
        return this;
    }

    public SidecarOptions captureMaxMemoryBytes(long n) {
        this.captureMaxMemoryBytes = n;
        return this;
    }

    public SidecarOptions captureMaxPending(int n) {
        this.captureMaxPending = n;
        return this;
    }

    public SidecarOptions outboundGrace(Duration d) {
        this.outboundGrace = d;
        return this;
    }

    public SidecarOptions topic(String topic) {
        this.topic = topic;
        return this;
    }

    public SidecarOptions unattributedTopic(String topic) {
        this.unattributedTopic = topic;
        return this;
    }

    public SidecarOptions samplingRatePercent(double p) {
        this.samplingRatePercent = p;
        return this;
    }

    /**
     * A cap for one route, named as the sidecar names routes ({@code RouteTemplates.routeKey}): {@code get /owners/42/}
     * is {@code GET /owners/{id}}.
     *
     * @throws IllegalArgumentException when no request could have that route key: no method, a path the route
     *                                  templates' matcher would not read as written ({@link RouteTemplates#requireRoute}:
     *                                  '/b/{y', '/files/*', a query), or a placeholder the sidecar's route
     *                                  names never hold (such as {@code {owner}})
     */
    public SidecarOptions routeCap(String routeKey, double perSecond) {
        routeCaps.put(routeCapKey(routeKey), perSecond);
        return this;
    }

    private static String routeCapKey(String route) {
        String r = route.trim();
        int sp = r.indexOf(' ');
        String path = sp < 0 ? "" : r.substring(sp + 1).trim();
        if (sp <= 0 || !path.startsWith("/")) {
            throw new IllegalArgumentException("a route is 'METHOD /path', e.g. 'GET /owners/{id}'");
        }
        RouteTemplates.requireRoute(path); // '/b/{y' or '/files/*' were kept as literal text, matching no request
        String key = RouteTemplates.routeKey(r.substring(0, sp), path);
        for (String segment : key.substring(key.indexOf(' ') + 1).split("/")) {
            if (segment.startsWith("{") && segment.endsWith("}") && !RouteTemplates.DEFAULT_PLACEHOLDERS.contains(segment)) {
                throw new IllegalArgumentException(segment + " is not a placeholder of the sidecar's route names ("
                        + String.join(", ", new TreeSet<>(RouteTemplates.DEFAULT_PLACEHOLDERS)) + "); no request would match it");
            }
        }
        return key;
    }

    public SidecarOptions defaultRouteCap(double perSecond) {
        this.defaultRouteCap = perSecond;
        return this;
    }

    public SidecarOptions redactionKey(String key) {
        this.redactionKey = key;
        return this;
    }

    public SidecarOptions redactionJsonPath(String path) {
        this.redactionJsonPaths.add(path);
        return this;
    }

    public SidecarOptions redactionField(String name) {
        this.redactionFields.add(name);
        return this;
    }

    public SidecarOptions redactionHeader(String name) {
        this.redactionHeaders.add(name);
        return this;
    }

    public SidecarOptions redactionRegex(String name, String regex) {
        this.redactionRegexes.put(name, regex);
        return this;
    }

    public SidecarOptions requestBufferBytes(long n) {
        this.requestBufferBytes = n;
        return this;
    }

    public SidecarOptions requestBufferMaxBytes(long n) {
        this.requestBufferMaxBytes = n;
        return this;
    }

    public SidecarOptions maxRequestBodyBytes(long n) {
        this.maxRequestBodyBytes = n;
        return this;
    }

    public SidecarOptions connectTimeout(Duration d) {
        this.connectTimeout = d;
        return this;
    }

    public SidecarOptions upstreamTimeout(Duration d) {
        this.upstreamTimeout = d;
        return this;
    }

    public SidecarOptions idleTimeout(Duration d) {
        this.idleTimeout = d;
        return this;
    }

    public SidecarOptions eventLoops(int loops) {
        this.eventLoops = loops;
        return this;
    }

    /** @param max most listener connections open at once; 0 = from the file descriptor limit */
    public SidecarOptions maxConnections(int max) {
        this.maxConnections = max;
        return this;
    }

    public SidecarOptions headerTimeout(Duration d) {
        this.headerTimeout = d;
        return this;
    }

    public SidecarOptions upstreamKeepAliveTimeout(Duration d) {
        this.upstreamKeepAliveTimeout = d;
        return this;
    }

    public SidecarOptions tunnelIdleTimeout(Duration d) {
        this.tunnelIdleTimeout = d;
        return this;
    }

    public SidecarOptions drainTimeout(Duration d) {
        this.drainTimeout = d;
        return this;
    }

    public SidecarOptions bootstrapServers(String s) {
        this.bootstrapServers = s;
        return this;
    }

    public SidecarOptions registryUrl(String s) {
        this.registryUrl = s;
        return this;
    }

    public SidecarOptions producerOverride(String key, Object value) {
        this.producerOverrides.put(key, value);
        return this;
    }

    public SidecarOptions registryOverride(String key, Object value) {
        this.registryOverrides.put(key, value);
        return this;
    }

    public SidecarOptions management(String host, int port) {
        this.managementHost = host;
        this.managementPort = port;
        listenerOrigins.remove(KEY_MANAGEMENT_HOST);
        listenerOrigins.remove(KEY_MANAGEMENT_PORT);
        return this;
    }

    public SidecarOptions managementToken(String token) {
        this.managementToken = token;
        return this;
    }

    // ------------------------------------------------------------------ getters

    public Listen listen() { return listen; }
    public HttpUrl app() { return app; }
    public String service() { return service; }
    public String instance() { return instance; }
    public List<EgressRoute> egressRoutes() { return List.copyOf(egressRoutes); }
    public Listen egressListen() { return egressListen; }
    public boolean captureEnabled() { return captureEnabled; }
    public int captureMaxBodyBytes() { return captureMaxBodyBytes; }
    public long captureQueueMaxBytes() { return captureQueueMaxBytes; }
    public long captureMaxMemoryBytes() { return captureMaxMemoryBytes; }
    public int captureMaxPending() { return captureMaxPending; }
    public Duration outboundGrace() { return outboundGrace; }
    public String topic() { return topic; }

    public String unattributedTopic() { return unattributedTopic; }
    public double samplingRatePercent() { return samplingRatePercent; }
    public Map<String, Double> routeCaps() { return Map.copyOf(routeCaps); }
    public double defaultRouteCap() { return defaultRouteCap; }
    public String redactionKey() { return redactionKey; }
    public List<String> redactionHeaders() { return List.copyOf(redactionHeaders); }
    public List<String> redactionFields() { return List.copyOf(redactionFields); }
    public List<String> redactionJsonPaths() { return List.copyOf(redactionJsonPaths); }
    public Map<String, String> redactionRegexes() { return Map.copyOf(redactionRegexes); }
    public boolean redactCards() { return redactCards; }
    public boolean redactEmails() { return redactEmails; }
    public long maxRequestBodyBytes() { return maxRequestBodyBytes; }
    public long requestBufferBytes() { return requestBufferBytes; }
    public long requestBufferMaxBytes() { return requestBufferMaxBytes; }
    public int maxHeaderBytes() { return maxHeaderBytes; }
    public Duration connectTimeout() { return connectTimeout; }
    public Duration upstreamTimeout() { return upstreamTimeout; }
    public Duration idleTimeout() { return idleTimeout; }
    public Duration headerTimeout() { return headerTimeout; }
    public Duration tunnelIdleTimeout() { return tunnelIdleTimeout; }
    public Duration upstreamKeepAliveTimeout() { return upstreamKeepAliveTimeout; }

    public Duration drainTimeout() { return drainTimeout; }
    public boolean forwardedHeaders() { return forwardedHeaders; }
    public int eventLoops() { return eventLoops; }
    public int maxConnections() { return maxConnections; }
    /** Whether to run on Netty's native transport when it loads (otherwise NIO). */
    public boolean nativeTransport() { return nativeTransport; }
    public String bootstrapServers() { return bootstrapServers; }
    public String registryUrl() { return registryUrl; }
    public Map<String, Object> producerOverrides() { return Map.copyOf(producerOverrides); }
    public Map<String, Object> registryOverrides() { return Map.copyOf(registryOverrides); }
    public String managementHost() { return managementHost; }
    public int managementPort() { return managementPort; }

    /**
     * How a listener that cannot open names its option ({@link #KEY_LISTEN}, {@link #KEY_EGRESS_LISTEN},
     * {@link #KEY_MANAGEMENT_HOST}, {@link #KEY_MANAGEMENT_PORT}), as {@link TaplineConfig#named} names a bad value's:
     * {@code option --listen}, and where its value was set when a variable or a file set it ({@code option --listen
     * (set by TAPLINE_LISTEN)}). A value set here in code, after it was read, is named by its flag alone.
     */
    public String listenerOption(String key) {
        return "option " + ConfigSpec.flag(key) + listenerOrigins.getOrDefault(key, "");
    }

    /** Null when state-changing management requests need no token. */
    public String managementToken() { return managementToken; }
}
