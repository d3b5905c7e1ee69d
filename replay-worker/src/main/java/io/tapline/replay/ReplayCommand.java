package io.tapline.replay;

import io.tapline.avro.RunEvent;
import io.tapline.avro.RunSummary;
import io.tapline.avro.Verdict;
import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.ListenHost;
import io.tapline.config.RegistryOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.http.HttpUrl;
import io.tapline.ops.ManagementServer;
import io.tapline.ops.Metrics;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.http.Closing;
import io.tapline.replay.compare.ResponseComparator;
import io.tapline.replay.mock.MockRegistry;
import io.tapline.replay.mock.MockServer;
import io.tapline.replay.mock.MockServerOptions;
import io.tapline.replay.report.RunReport;
import io.tapline.replay.report.TextReport;
import io.tapline.replay.run.AvroCodec;
import io.tapline.replay.run.BatchBudget;
import io.tapline.replay.run.CandidateClient;
import io.tapline.replay.run.CasesTopicCheck;
import io.tapline.replay.run.CaseReplayer;
import io.tapline.replay.run.ConcurrencyGate;
import io.tapline.replay.run.KafkaSettings;
import io.tapline.replay.run.Progress;
import io.tapline.replay.run.Propagation;
import io.tapline.replay.run.RateLimiter;
import io.tapline.replay.run.ReplayWorker;
import io.tapline.replay.run.RunCoordinator;
import io.tapline.replay.run.RunResults;
import io.tapline.replay.run.RunTopics;
import io.tapline.replay.run.TopicReader;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * {@code tapline replay}: joins (or starts) a run, replays its cases with N worker threads sharing one mock server,
 * and when the run is complete writes its summary and applies the CI gate. Exit codes: 0 passed, 1 gate failed,
 * 2 bad options or refused target, 3 stopped or failed before the run completed, or its text report and verdict not
 * written whole to standard output (whatever the gate says).
 */
public final class ReplayCommand {

    private static final Logger log = LoggerFactory.getLogger(ReplayCommand.class);

    public static final int EXIT_OK = 0;
    public static final int EXIT_GATE = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_INCOMPLETE = 3;

    /** Characters of the end-of-run report buffered before they are written to the console. */
    private static final int REPORT_BUFFER = 64 * 1024;

    private final TaplineConfig config;
    private final PrintStream out;
    /** Told when {@link #out} did not take the end of the run's console output (the text report, the verdict). */
    private final PrintStream diagnostics;
    /** Copy-on-write: {@link #stop} reads it on the shutdown hook's thread while the run's thread may add to it. */
    private final List<ReplayWorker> workers = new CopyOnWriteArrayList<>();
    /** Set by {@link #stop}: a run not yet replaying ends before starting its workers. */
    private volatile boolean stopping;
    private volatile int mockPort = -1;
    private final CountDownLatch finished = new CountDownLatch(1);

    public ReplayCommand(TaplineConfig config, PrintStream out) {
        this(config, out, System.err);
    }

    /**
     * @param out         the run's console output: start, progress lines, the text report and the gate's verdict
     * @param diagnostics told when {@code out} did not take the text report and the verdict whole
     */
    public ReplayCommand(TaplineConfig config, PrintStream out, PrintStream diagnostics) {
        this.config = config;
        this.out = out;
        this.diagnostics = diagnostics;
    }

    /** The bound mock server port once started, -1 before. */
    public int mockPort() {
        return mockPort;
    }

    /**
     * Validates the target: given explicitly, http(s) with a host, a base URL ({@link HttpUrl#baseUrlProblem}: printable
     * ASCII, no query or fragment, a host a resolver can look up), not a production host.
     */
    static HttpUrl checkTarget(String target, List<String> productionHosts) {
        return checkTarget(target, "", productionHosts, "");
    }

    /** {@link #checkTarget(String, List)} of a configuration, an error naming the variable or file that set a value. */
    static HttpUrl checkTarget(TaplineConfig config) {
        return checkTarget(config.get(ReplayOptions.TARGET), config.origin(ReplayOptions.TARGET),
                config.getList(ReplayOptions.PRODUCTION_TARGETS), config.origin(ReplayOptions.PRODUCTION_TARGETS));
    }

    private static HttpUrl checkTarget(String target, String targetOrigin, List<String> productionHosts,
                                       String productionOrigin) {
        if (target == null || target.isBlank()) {
            throw new ConfigException("missing required option --target (the candidate's base URL); replay never picks a target itself");
        }
        HttpUrl uri;
        try {
            uri = HttpUrl.parse(target.trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("option --target" + targetOrigin + ": '" + HttpUrl.shown(target) + "' is not an http:// or https:// URL with a host, like http://candidate:8080: "
                    + e.getMessage());
        }
        String refusal = uri.baseUrlRefusal("a candidate URL");
        if (refusal != null) {
            // it would reach every progress line, the run's record and every report as it is
            throw new ConfigException("option --target" + targetOrigin + ": '" + HttpUrl.shown(target) + "' " + refusal
                    + "; give scheme, host, port and an optional base path, like http://candidate:8080 or "
                    + "http://[::1]:8080/api");
        }
        String host = normalHost(uri.host());
        Set<String> forms = hostForms(host);
        for (String p : productionHosts) {
            String listed = productionHost(p, productionOrigin);
            if (!Collections.disjoint(forms, hostForms(listed))) {
                throw new ConfigException("option --target" + targetOrigin + ": host " + host + " is listed in "
                        + ConfigSpec.flag(ReplayOptions.PRODUCTION_TARGETS) + productionOrigin + " as production"
                        + (host.equals(listed) ? "" : " (as " + listed + ")") + "; replay refuses it");
            }
        }
        return uri;
    }

    /**
     * The host of a production-targets entry: a host, host:port or URL (the port does not matter: a production
     * host is refused on every port). {@code origin} is where the list was set ({@link TaplineConfig#origin}), for the
     * error an entry that is none of these is.
     */
    static String productionHost(String entry, String origin) {
        String e = entry.trim();
        try {
            boolean url = e.contains("://");
            if (!url && (e.indexOf('/') >= 0 || e.indexOf('?') >= 0 || e.indexOf('#') >= 0)) {
                // 10.0.0.0/8 read as a URL would be the host 10.0.0.0 alone
                throw new IllegalArgumentException("a path after a host without http:// (an address range is not"
                        + " supported: list each host)");
            }
            String host = normalHost(HttpUrl.parse(url ? e : "http://" + e).host());
            if (host.indexOf('*') >= 0) {
                // no host has this name: as a pattern it would refuse nothing
                throw new IllegalArgumentException("'*' in the host (a pattern is not supported: list each host)");
            }
            return host;
        } catch (IllegalArgumentException ex) {
            throw new ConfigException("option " + ConfigSpec.flag(ReplayOptions.PRODUCTION_TARGETS) + origin + ": '" + HttpUrl.shown(entry)
                    + "' is not a host, host:port or URL: " + ex.getMessage());
        }
    }

    /** Lower case, without IPv6 brackets or the root label's trailing dot: the forms that name the same host. */
    private static String normalHost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        while (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h;
    }

    /**
     * What a host (as {@link #normalHost} gives it) may name: itself and, when it is an IP address, that address in
     * one form however it is written. An IPv6 address in any notation ({@code 0:0:0:0:0:0:0:1} is {@code ::1}), also
     * as the IPv4 address it embeds ({@code ::ffff:10.0.0.5}, {@code ::10.0.0.5}); an IPv4 address also as the forms
     * resolvers read ({@code 10.000.000.005}, {@code 10.5}, {@code 0xa.0.0.5}, {@code 167772165}), a part with a
     * leading zero both as decimal (Java, Netty) and as octal ({@code inet_aton}). Names are not resolved.
     */
    static Set<String> hostForms(String host) {
        Set<String> forms = new HashSet<>();
        forms.add(host);
        if (host.indexOf(':') >= 0) {
            try {
                // in brackets the JDK reads an IPv6 literal or fails: it never looks the text up as a name
                InetAddress a = InetAddress.getByName("[" + host + "]");
                forms.add(a.getHostAddress());
                byte[] b = a.getAddress();
                if (b.length == 16 && Arrays.equals(Arrays.copyOf(b, 10), new byte[10])
                        && (b[10] == b[11]) && (b[10] == 0 || b[10] == (byte) 0xff)) {
                    forms.add(InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16)).getHostAddress());
                }
            } catch (UnknownHostException e) {
                // not an IPv6 address: the host as it is
            }
        } else {
            forms.addAll(ipv4Forms(host));
        }
        return forms;
    }

    /** The dotted-decimal addresses of a host written as one to four numbers, none if it is not. */
    private static Set<String> ipv4Forms(String host) {
        String[] parts = host.split("\\.", -1);
        Set<String> out = new HashSet<>();
        if (parts.length > 4) {
            return out;
        }
        for (boolean octal : new boolean[] {false, true}) {
            long address = 0;
            boolean ok = true;
            for (int i = 0; i < parts.length && ok; i++) {
                long v = ipv4Part(parts[i], octal);
                // every part but the last is one byte; the last fills the bytes left (all four when it is alone)
                int bits = i < parts.length - 1 ? 8 : 8 * (5 - parts.length);
                ok = v >= 0 && v < 1L << bits;
                address = address << bits | v;
            }
            if (ok) {
                out.add((address >> 24 & 255) + "." + (address >> 16 & 255) + "." + (address >> 8 & 255) + "." + (address & 255));
            }
        }
        return out;
    }

    /** A part of an IPv4 address: decimal, hexadecimal after {@code 0x}, octal after a leading {@code 0} when asked; -1 if none. */
    private static long ipv4Part(String part, boolean octal) {
        int radix = 10;
        int start = 0;
        if (part.startsWith("0x")) {
            radix = 16;
            start = 2;
        } else if (octal && part.length() > 1 && part.charAt(0) == '0') {
            radix = 8;
            start = 1;
        }
        if (start >= part.length()) {
            return -1;
        }
        long v = 0;
        for (int i = start; i < part.length(); i++) {
            int d = Character.digit(part.charAt(i), radix);
            if (d < 0) {
                return -1;
            }
            v = v * radix + d;
            if (v > 0xffffffffL) {
                return -1;
            }
        }
        return v;
    }

    /**
     * The Kafka settings: the bootstrap list checked in its form ({@link TaplineConfig#getBootstrapServers}), the
     * pass-through client settings as their clients would check them.
     */
    static KafkaSettings kafka(TaplineConfig config, boolean withProducer) {
        config.checkClientSettings(ReplayOptions.KAFKA_CONSUMER, ConsumerConfig.configDef());
        if (withProducer) {
            config.checkClientSettings(ReplayOptions.KAFKA_PRODUCER, ProducerConfig.configDef());
        }
        return new KafkaSettings(config.getBootstrapServers(ReplayOptions.BOOTSTRAP),
                RegistryOptions.checked(config, RegistryOptions.clientConfigs(config)),
                config.subset(ReplayOptions.KAFKA_CONSUMER),
                withProducer ? config.subset(ReplayOptions.KAFKA_PRODUCER) : Map.of());
    }

    /**
     * The run id: 1-200 characters of {@code A-Z a-z 0-9 . _ -}, so that it is printed as it is everywhere (reports,
     * progress lines, logs) and makes clean Kafka keys ({@code RUN/case}, {@code RUN/summary}: a {@code /} in it would
     * let one run's key prefix take in another run's results) and group and transactional ids. A refused one is shown
     * with what could rewrite a terminal or a CI log (an escape sequence, a line break, a right-to-left override) as
     * codes, as every {@link ConfigException} shows a value and the reports show captured text: it comes from CI, a
     * branch name or a title pasted into a pipeline.
     */
    static String requireRun(TaplineConfig config) {
        String run = config.get(ReplayOptions.RUN);
        if (run == null || run.isBlank()) {
            throw new ConfigException("missing required option --run (the run id)");
        }
        return ReplaySettings.plainId(config, ReplayOptions.RUN);
    }

    public int run() throws InterruptedException {
        try {
            return replay();
        } finally {
            finished.countDown();
        }
    }

    private int replay() throws InterruptedException {
        ReplaySettings settings = ReplaySettings.from(config);
        String runId = settings.runId();
        if (stoppedBeforeWorkers(runId)) {
            return EXIT_INCOMPLETE;
        }
        HttpUrl target = settings.target();
        int concurrency = settings.concurrency();
        Duration requestTimeout = settings.requestTimeout();
        Duration kafkaTimeout = settings.kafkaTimeout();
        Propagation.Mode mode = settings.propagation();
        FailOn gate = settings.failOn();
        IgnoreRules rules = settings.ignoreRules();
        MockServerOptions mockOptions = settings.mock();
        RunTopics topics = settings.topics();
        KafkaSettings kafka = settings.kafka();
        AvroCodec codec = new AvroCodec(kafka.registry());
        Clock clock = Clock.systemUTC();
        RunCoordinator coordinator = new RunCoordinator(kafka, codec, topics, clock, kafkaTimeout);

        RunEvent start = coordinator.establishBounds(runId, target.toString());
        Optional<RunEvent> completed = coordinator.summary(runId);
        if (completed.isPresent()) {
            return reportCompleted(runId, completed.get(), kafka, codec, topics, coordinator, gate, kafkaTimeout);
        }
        codec.prepareWrites(topics);
        out.printf(Locale.ROOT, "run %s: candidate %s, bounds %s%n", runId, target, start.getBounds().getEndOffsets());
        // Once per process, before any case: whether the cases topic keeps what the run has yet to read.
        CasesTopicCheck.Verdict casesTopic = CasesTopicCheck.check(kafka, topics.cases(), kafkaTimeout,
                Duration.between(start.getAt(), clock.instant()));
        if (casesTopic.warning() != null) {
            out.printf(Locale.ROOT, "run %s: warning: %s%n", runId, casesTopic.warning());
        }
        if (settings.useLearnedNoise()) {
            loadNoise(kafka, codec, topics.noise(), kafkaTimeout, rules);
            out.printf(Locale.ROOT, "run %s: learned noise of %d routes applied%n", runId, rules.learnedRoutes());
        }

        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(2, Runtime.getRuntime().availableProcessors())));
        Metrics metrics = new Metrics();
        ManagementServer management = null;
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tapline-replay-progress");
            t.setDaemon(true);
            return t;
        });
        try {
            MockRegistry registry = new MockRegistry();
            MockServer mock = startMock(config, vertx, mockOptions, registry);
            mockPort = mock.port();
            out.printf(Locale.ROOT,
                    "run %s: dependency mock listening on %s:%d (forward proxy; named routes %s); live calls allowed to %s%n",
                    runId, mockOptions.host(), mock.port(), mockOptions.routes().keySet(),
                    mockOptions.allowLive().isEmpty() ? "no host" : mockOptions.allowLive());
            ResponseComparator comparator = new ResponseComparator(settings.compare(), rules);
            Propagation propagation = new Propagation(mode, concurrency, registry,
                    msg -> out.printf(Locale.ROOT, "run %s: %s%n", runId, msg));
            ConcurrencyGate concurrencyGate = new ConcurrencyGate(propagation::limit);
            RateLimiter limiter = new RateLimiter(settings.rate());
            Progress progress = new Progress();
            progress.totalAtMost(start.getBounds().getEndOffsets().values().stream().mapToLong(Long::longValue).sum());
            List<CandidateClient> candidates = new CopyOnWriteArrayList<>();
            BooleanSupplier readiness = readiness(workers);
            ReplayWorker.ResultListener listener = registerMetrics(metrics, concurrencyGate::inFlight, mock::liveCalls,
                    mock::unnotedLiveFailures, registry::unattributableCalls,
                    () -> candidates.stream().mapToLong(CandidateClient::sentAgain).sum(), readiness);
            int workerCount = settings.workers();
            BatchBudget budget = new BatchBudget(workerCount, concurrency, mode, settings.rate(), requestTimeout);
            for (int i = 0; i < workerCount; i++) {
                String workerId = workerCount == 1 ? settings.workerId() : settings.workerId() + "-" + i;
                // A client per worker: its connections are opened from, and stay on, that worker's event loop, so no
                // response crosses threads. Each may use every slot of the process-wide gate (--concurrency) when the
                // other workers are idle; the gate, not the pool, caps the requests in flight.
                CandidateClient candidate = new CandidateClient(vertx, target, concurrency, requestTimeout,
                        settings.candidateHeaders());
                candidates.add(candidate);
                CaseReplayer replayer = new CaseReplayer(runId, workerId, candidate, registry, settings.matcher(), comparator,
                        settings.published(), clock);
                workers.add(new ReplayWorker(runId, workerId, topics, start.getBounds(), kafka, codec, replayer, registry,
                        vertx, concurrencyGate, limiter, progress, listener, budget, settings.batchSize(), kafkaTimeout));
            }
            int mgmtPort = settings.managementPort();
            if (mgmtPort >= 0) {
                management = startManagement(config, settings.managementHost(), mgmtPort, metrics, readiness);
                out.printf(Locale.ROOT, "run %s: management on port %d (/healthy, /ready, /metrics)%n", runId, management.port());
            }
            long interval = settings.progressInterval().toMillis();
            ticker.scheduleAtFixedRate(() -> out.println(progress.line(runId)), interval, interval, TimeUnit.MILLISECONDS);

            // Checked after every worker was added: a stop from now on finds them all and closes them (they then end
            // at their first look), and one that came while they were being built ends the run here.
            if (stoppedBeforeWorkers(runId)) {
                return EXIT_INCOMPLETE;
            }
            List<Thread> threads = new ArrayList<>();
            for (ReplayWorker w : workers) {
                Thread t = new Thread(w, "tapline-replay-worker-" + threads.size());
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join();
            }
            // no progress line from here on: one could land inside the report's lines, written in blocks of bytes
            ticker.shutdownNow();
            ticker.awaitTermination(1, TimeUnit.SECONDS);
            out.println(progress.line(runId));
            if (propagation.fellBack()) {
                out.printf(Locale.ROOT,
                        "run %s: note: the candidate did not propagate trace context; cases were replayed one at a time%n", runId);
            }
            boolean complete = workers.stream().anyMatch(w -> w.outcome() == ReplayWorker.Outcome.RUN_COMPLETE);
            if (!complete) {
                out.printf(Locale.ROOT,
                        "run %s: stopped before the run completed; start a worker with the same --run to continue%n", runId);
                return EXIT_INCOMPLETE;
            }
            boolean writer = workers.stream().anyMatch(w -> w.outcome() == ReplayWorker.Outcome.RUN_COMPLETE
                    && w.heldFirstPartition());
            return finish(runId, start, kafka, codec, topics, coordinator, gate, kafkaTimeout, writer, casesTopic.lagMs());
        } finally {
            ticker.shutdownNow();
            if (management != null) {
                management.close();
            }
            closeVertx(vertx, Closing.TIMEOUT);
        }
    }

    /**
     * What {@code /ready} answers, and {@code tapline_replay_ready} shows when scraped, read from {@code workers} each
     * time: workers exist and each has joined its group and got its first assignment.
     */
    static BooleanSupplier readiness(List<ReplayWorker> workers) {
        return () -> !workers.isEmpty() && workers.stream().allMatch(ReplayWorker::ready);
    }

    /**
     * Registers the worker's metrics ({@code /metrics} on the management port) and returns the listener that counts
     * each committed result in them: every result by verdict, and the candidate's answer time of those that have one.
     * {@code ready} is the condition the management port's {@code /ready} answers by, read again at each scrape.
     */
    static ReplayWorker.ResultListener registerMetrics(Metrics metrics, IntSupplier inFlight, LongSupplier liveCalls,
                                                       LongSupplier unnotedLiveFailures, LongSupplier unattributableCalls,
                                                       LongSupplier candidateRetries, BooleanSupplier ready) {
        Map<Verdict, Metrics.Counter> byVerdict = new EnumMap<>(Verdict.class);
        for (Verdict v : Verdict.values()) {
            byVerdict.put(v, metrics.counter("tapline_replay_cases_total", "Cases replayed, by verdict", "verdict", v.name()));
        }
        Metrics.Histogram latency = metrics.histogram("tapline_replay_candidate_seconds",
                "Candidate answer time per case sent to it", Metrics.LATENCY_BUCKETS);
        metrics.gauge("tapline_replay_in_flight", "Cases in flight", inFlight::getAsInt);
        metrics.gauge("tapline_replay_ready", "1 while the management port's /ready answers 200 (every worker has"
                + " joined its group and got its first assignment), 0 while it answers 503", () -> ready.getAsBoolean() ? 1 : 0);
        metrics.counter("tapline_replay_mock_live_calls_total", "Dependency calls forwarded live", liveCalls);
        metrics.counter("tapline_replay_mock_live_failed_unnoted_total", "Dependency calls forwarded live that failed"
                + " with no case to note them on (no case found for them, or their case's result built first)",
                unnotedLiveFailures);
        metrics.counter("tapline_replay_mock_unattributable_calls_total", "Dependency calls no case could be found for",
                unattributableCalls);
        metrics.counter("tapline_replay_candidate_retries_total",
                "Case requests sent again on a new connection: the candidate ended a reused keep-alive connection"
                        + " without answering", candidateRetries);
        return r -> {
            byVerdict.get(r.getVerdict()).inc();
            // 0: no answer time, as the candidate was never sent the case (a request truncated at capture, an
            // undecodable case, one the client cannot send); observed as 0 s, such cases pulled the quantiles down
            if (r.getCandidateLatencyMicros() > 0) {
                latency.observe(r.getCandidateLatencyMicros() / 1e6);
            }
        };
    }

    /**
     * Closes Vert.x (the dependency mock, the candidate's connections, the event loops), waiting up to {@code timeout}.
     * A close that does not end by then is given up with a warning, so the run's exit code is still returned: a
     * process left waiting would hold its Job's pod or CI step until its deadline and lose the verdict. Returns whether
     * Vert.x closed.
     */
    static boolean closeVertx(Vertx vertx, Duration timeout) {
        return Closing.await(vertx.close(), timeout, "Vert.x (the dependency mock, the candidate's connections, the event loops)");
    }

    /**
     * Starts the dependency mock. A listener it cannot open is reported as the option in the way: --mock-port when
     * --mock-host is an address of this machine (the port is taken, say), else --mock-host (a name that does not
     * resolve, another machine's address), so the message names the value to change, and where it was set when not by
     * the flag ({@link TaplineConfig#named}: {@code option --mock-port (set by TAPLINE_MOCK_PORT)}), as every other
     * bad value is named.
     */
    static MockServer startMock(TaplineConfig config, Vertx vertx, MockServerOptions options, MockRegistry registry) {
        try {
            return MockServer.start(vertx, options, registry).await();
        } catch (Exception e) {
            throw ListenHost.cannotListen(config, ReplayOptions.MOCK_HOST, ReplayOptions.MOCK_PORT, options.host(),
                    options.port(), e);
        }
    }

    /** Starts the management server, a listener it cannot open reported as {@link #startMock} reports the mock's. */
    static ManagementServer startManagement(TaplineConfig config, String host, int port, Metrics metrics,
                                            BooleanSupplier ready) {
        try {
            return ManagementServer.start(host, port, metrics, ready);
        } catch (IOException | RuntimeException e) {
            throw ListenHost.cannotListen(config, ReplayOptions.MANAGEMENT_HOST, ReplayOptions.MANAGEMENT_PORT, host, port,
                    e);
        }
    }

    /**
     * Ends a run this process saw complete: reads its results, settles its summary ({@link #settleSummary}: written
     * once, by the process that owned the run's first partition, and the same record whoever writes it), prints the
     * text report from the summary and applies this process's gate.
     */
    private int finish(String runId, RunEvent start, KafkaSettings kafka, AvroCodec codec, RunTopics topics,
                       RunCoordinator coordinator, FailOn gate, Duration timeout, boolean writer, Long casesLagMs) {
        RunResults results = RunResults.load(kafka, codec, topics.results(), runId, coordinator.resultsStart(runId)
                .orElseThrow(() -> new IllegalStateException("run " + runId + " has no bounds in " + topics.runs())), Map.of(), timeout);
        RunEvent event = settleSummary(runId, RunCoordinator.summaryEvent(start, results), writer, timeout, new SummaryLedger() {
            @Override
            public Optional<RunEvent> await(Duration wait) {
                return coordinator.awaitSummary(runId, wait, () -> stopping);
            }

            @Override
            public Optional<RunEvent> record(RunEvent summary) {
                return coordinator.recordSummary(summary);
            }
        }, out);
        RunSummary summary = event.getSummary();
        String missed = CasesTopicCheck.mayHaveMissed(topics.cases(), casesLagMs, summary.getDurationMillis());
        if (missed != null) {
            out.printf(Locale.ROOT, "run %s: %s%n", runId, missed);
        }
        return conclude(new RunReport(runId, event.getCandidate(), summary, results.results(), true), gate);
    }

    /** The run's summary on the runs topic, as {@link #settleSummary} waits for and records it. */
    interface SummaryLedger {

        /** Waits up to {@code wait} for a summary to be recorded (less when the process is stopping); empty if none. */
        Optional<RunEvent> await(Duration wait);

        /**
         * Records {@code summary} unless a summary is recorded already, fenced against any other process doing the
         * same ({@link RunCoordinator#recordSummary}): the summary recorded, or empty when another process took the
         * write over from this one.
         */
        Optional<RunEvent> record(RunEvent summary);
    }

    /** How many times a process records the summary when each time another process takes the write over from it. */
    static final int SUMMARY_ATTEMPTS = 3;

    /**
     * The summary of a run this process saw complete, recorded once. Every process that sees the run complete computes
     * the same record ({@link RunCoordinator#summaryEvent}); the one that owned the run's first partition then
     * ({@code writer}) records it at once, and every other one waits up to {@code wait} for it and reports from it,
     * recording it itself, and saying so, only when none came (the writer died or failed before writing it; a stop
     * ends the wait too): a summary is never lost to a dead writer. Recording is a fenced check-then-write, so two
     * processes that both record it (two owners of the first partition, one after a rebalance, or a writer slower
     * than {@code wait}) leave one record: the one that loses the race waits for the other's, and records it again
     * if that one too died before writing it. Returns the summary reported: the recorded one.
     *
     * @throws IllegalStateException when the write was taken over {@link #SUMMARY_ATTEMPTS} times and no summary came
     */
    static RunEvent settleSummary(String runId, RunEvent computed, boolean writer, Duration wait, SummaryLedger ledger,
                                  PrintStream out) {
        if (!writer) {
            Optional<RunEvent> arrived = ledger.await(wait);
            if (arrived.isPresent()) {
                return arrived.get();
            }
            out.printf(Locale.ROOT, "run %s: note: the worker that owned the run's first partition wrote no summary within"
                    + " %d s; this one writes it%n", runId, wait.toSeconds());
        }
        for (int attempt = 1; attempt <= SUMMARY_ATTEMPTS; attempt++) {
            Optional<RunEvent> recorded = ledger.record(computed);
            if (recorded.isPresent()) {
                return recorded.get();
            }
            // another process took the write over: it finds the summary recorded, or records it
            Optional<RunEvent> arrived = ledger.await(wait);
            if (arrived.isPresent()) {
                return arrived.get();
            }
        }
        throw new IllegalStateException("run " + runId + ": its summary was not recorded: " + SUMMARY_ATTEMPTS
                + " times another process took its write over, and recorded none within " + wait.toSeconds() + " s");
    }

    /**
     * A run that is already complete (its summary is written: a CI job retried, say) is not replayed or summarised
     * again: it is reported as {@code report} reports it, with the duration its summary recorded, and gated anew.
     */
    private int reportCompleted(String runId, RunEvent completed, KafkaSettings kafka, AvroCodec codec, RunTopics topics,
                                RunCoordinator coordinator, FailOn gate, Duration timeout) {
        out.printf(Locale.ROOT, "run %s: already complete (completed at %s): reporting it as recorded, nothing replayed%n",
                runId, completed.getAt());
        RunResults results = ReportCommand.results(kafka, codec, topics.results(), runId, Optional.of(completed),
                coordinator.resultsStart(runId).orElse(Map.of()), timeout);
        RunReport report = ReportCommand.report(runId, Optional.of(completed), results);
        if (report.results().size() < report.summary().getTotal()) {
            out.println(ReportCommand.missing(report, topics.results()));
        }
        return conclude(report, gate);
    }

    /** Prints the text report and the gate's verdict; the exit code. */
    private int conclude(RunReport report, FailOn gate) {
        return conclude(report, gate, out, diagnostics);
    }

    /** {@link #conclude(RunReport, FailOn, PrintStream, PrintStream)}, a failed write said on standard error. */
    static int conclude(RunReport report, FailOn gate, PrintStream out) {
        return conclude(report, gate, out, System.err);
    }

    /**
     * Prints the text report, a case at a time (it is never held whole), and the gate's verdict; the exit code. The
     * report is UTF-8, as {@code report} writes it: a PrintStream encodes in the console's charset (ASCII under LANG=C,
     * where every other character became {@code ?} and a value changed from {@code café} to {@code cafè} read
     * {@code caf? -> caf?}), so bytes go through.
     *
     * <p>When {@code out} did not take everything written to it (its error flag, set by this write or an earlier one:
     * a full disk, a pipe whose reader is gone, as {@code replay ... | head -1} leaves it), the exit code is
     * {@link #EXIT_INCOMPLETE} whatever the gate says, as {@code report}'s is for a report standard output did not take,
     * and {@code diagnostics} is told, with the verdict.
     */
    static int conclude(RunReport report, FailOn gate, PrintStream out, PrintStream diagnostics) {
        // not closed: that would close standard output
        Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), REPORT_BUFFER);
        try {
            TextReport.write(report, w);
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a PrintStream throws none: it sets its error flag
        }
        String violation = gate.violation(report.summary());
        String verdict = violation == null ? "passed the gate" : "FAILED the gate: " + violation;
        out.printf(Locale.ROOT, "run %s: %s%n", report.runId(), verdict);
        if (out.checkError()) {
            // the flag is all a PrintStream keeps of a failed write: read, a verdict lost is not the gate's exit code
            diagnostics.printf(Locale.ROOT, "run %s: the console output could not be written whole to standard output (a"
                    + " full disk, or a pipe whose reader is gone): the text report and the verdict may not have reached"
                    + " it; the run %s%n", report.runId(), verdict);
            return EXIT_INCOMPLETE;
        }
        return violation == null ? EXIT_OK : EXIT_GATE;
    }

    static void loadNoise(KafkaSettings kafka, AvroCodec codec, String topic, Duration timeout, IgnoreRules rules) {
        TopicReader.readAll(kafka.consumer(null, "tapline-replay-noise"), topic, timeout, r -> {
            if (r.key() == null) {
                return;
            }
            String route = new String(r.key(), StandardCharsets.UTF_8);
            if (r.value() == null) {
                rules.learn(route, null);
                return;
            }
            try {
                rules.learn(route, codec.readNoise(r.topic(), r.value()));
            } catch (SerializationException e) {
                log.warn("noise profile of {} at {}-{}@{} is undecodable and not applied: {}", route, r.topic(),
                        r.partition(), r.offset(), e.getMessage());
            }
        });
    }

    static FailOn failOn(TaplineConfig config) {
        try {
            return FailOn.parse(config.get(ReplayOptions.FAIL_ON), config.getBoolean(ReplayOptions.FAIL_ON_ERRORS),
                    config.getBoolean(ReplayOptions.FAIL_ON_EMPTY), config.origin(ReplayOptions.FAIL_ON));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

    /** True, once said on {@code out}, when {@link #stop} was called before the run's workers started. */
    private boolean stoppedBeforeWorkers(String runId) {
        if (!stopping) {
            return false;
        }
        out.printf(Locale.ROOT, "run %s: asked to stop before its workers started; start a worker with the same --run to "
                + "continue%n", runId);
        return true;
    }

    /**
     * Asks every worker to commit its current batch and leave the group (SIGTERM), waiting up to {@code grace}. A run
     * whose workers have not started yet (its bounds being read, its noise loaded) starts none.
     */
    public void stop(Duration grace) {
        stopping = true;
        workers.forEach(ReplayWorker::close);
        try {
            if (!finished.await(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("workers did not stop within {}; uncommitted cases will be replayed by the next worker", grace);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
