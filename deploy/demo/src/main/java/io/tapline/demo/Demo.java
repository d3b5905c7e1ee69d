package io.tapline.demo;

import io.tapline.avro.Case;
import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;
import io.tapline.avro.ReplayResult;
import io.tapline.demo.app.DemoInventory;
import io.tapline.demo.app.DemoShop;
import io.tapline.stack.KafkaBroker;
import io.tapline.stack.Ports;
import io.tapline.stack.SchemaRegistry;
import io.tapline.stack.StackDistribution;
import io.tapline.stack.StackTopics;
import io.tapline.text.ShownText;
import io.tapline.topics.TaplineTopics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The embedded default, end to end: a real broker and registry, the demo shop behind a capture sidecar with its
 * dependency behind the sidecar's egress, production-like traffic, the dedup stream until the cases settle, then two
 * replay runs — the same version (everything must pass, the noise learned and not reported) and a v2 with three
 * planted regressions (each must be found, nothing else) — and the reports.
 */
final class Demo implements AutoCloseable {

    private static final String SERVICE = "shop";
    private static final Duration PUBLISH_INTERVAL = Duration.ofSeconds(2);
    /** The sidecar tokenises secrets with it; the replay judges the candidate's redacted values with the same key. */
    private static final String REDACTION_KEY = "demo-redaction-key-not-for-production";

    private final DemoSettings settings;
    private final PrintStream out;
    private final long started = System.nanoTime();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final LongAdder realInventoryCalls = new LongAdder();
    private int step;

    private KafkaBroker broker;
    private SchemaRegistry registry;
    private Vertx vertx;

    Demo(DemoSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    /** Runs the demo; returns the process exit code (0 when every expectation held). */
    int run() throws Exception {
        Files.createDirectories(settings.workDir());
        Path reports = settings.workDir().resolve("reports");
        Files.createDirectories(reports);

        step("starting a real Kafka broker (KRaft) and Apicurio Registry");
        startStack();
        Topics topics = new Topics(broker.bootstrapServers(), registry.url());

        step("starting the demo shop v1, its inventory dependency, and the capture sidecar in front of it");
        vertx = Vertx.vertx();
        int inventoryPort = startInventory();
        int egressPort = Ports.freePort();
        int shopPort = DemoShop.start(vertx, DemoShop.Version.V1, "127.0.0.1", 0,
                "http://127.0.0.1:" + egressPort + "/inventory").await(10, TimeUnit.SECONDS).actualPort();
        int sidecarPort = Ports.freePort();
        int sidecarManagement = Ports.freePort();
        Component sidecar = component("capture-sidecar", settings.jar("capture-sidecar"), List.of(
                "--listen", "127.0.0.1:" + sidecarPort, "--app", "http://127.0.0.1:" + shopPort, "--service", SERVICE,
                "--instance", "demo-pod-1",
                "--egress", "inventory=http://127.0.0.1:" + inventoryPort, "--egress-listen", "127.0.0.1:" + egressPort,
                "--kafka-bootstrap-servers", broker.bootstrapServers(), "--schema-registry-url", registry.url(),
                "--redaction-key", REDACTION_KEY,
                "--management-host", "127.0.0.1", "--management-port", Integer.toString(sidecarManagement)));
        sidecar.awaitReady(sidecarManagement, Duration.ofSeconds(60));
        say("sidecar: clients -> 127.0.0.1:%d -> shop v1; shop's outbound -> egress 127.0.0.1:%d/inventory -> inventory",
                sidecarPort, egressPort);

        step("starting the dedup stream (Kafka Streams, exactly-once)");
        int dedupManagement = Ports.freePort();
        // The broker starts empty every run: the dedup stream's local state from an earlier run belongs to a cluster
        // that is gone (its hits, samples and noise counters would be counted again on top of this run's).
        Path dedupState = settings.workDir().resolve("dedup-state");
        deleteRecursively(dedupState);
        Component dedup = component("dedup-stream", settings.jar("dedup-stream"), List.of(
                "--kafka-bootstrap-servers", broker.bootstrapServers(), "--schema-registry-url", registry.url(),
                "--dedup-application-id", "tapline-dedup-demo", "--dedup-publish-interval", PUBLISH_INTERVAL.toMillis() + "ms",
                "--streams-state-dir", dedupState.toString(),
                "--streams-replication-factor", "1",
                "--management-host", "127.0.0.1", "--management-port", Integer.toString(dedupManagement)));
        dedup.awaitReady(dedupManagement, Duration.ofSeconds(90));

        step("driving " + settings.requests() + " production-like requests through the sidecar");
        TrafficDriver.Totals traffic = new TrafficDriver(vertx, sidecarPort, 42).drive(settings.requests(), 16,
                () -> out.print("."));
        out.println();
        say("sent %d requests, %d failed at the client; statuses %s; by route %s", traffic.sent(), traffic.failed(),
                traffic.byStatus(), traffic.byRoute());
        if (traffic.failed() > 0) {
            throw new DemoException(traffic.failed() + " requests failed through the sidecar (log: "
                    + ShownText.oneLine(sidecar.log().toString()) + ")");
        }

        step("waiting for the cases to settle");
        awaitSettled(topics);
        Map<String, Case> cases = topics.latest(TaplineTopics.CASES, Case.class);
        Map<String, NoiseProfile> noise = topics.latest(TaplineTopics.NOISE, NoiseProfile.class);
        long hits = cases.values().stream().filter(c -> c.getSampleSlot() == 0).mapToLong(Case::getHits).sum();
        long signatures = cases.values().stream().map(Case::getSignatureId).distinct().count();
        say("%d captured interactions -> %d signatures -> %d cases (up to 3 samples each); traffic weight counted: %d",
                traffic.sent(), signatures, cases.size(), hits);
        noise.values().forEach(profile -> say("learned noise on %s: %s", profile.getRoute(),
                profile.getFields().stream().map(NoisyField::getPath).toList()));

        long inventoryCallsBeforeReplay = realInventoryCalls.sum();
        String stamp = Long.toString(System.currentTimeMillis(), 36);

        step("replaying every case against the same version (v1): everything must pass");
        String runV1 = "demo-v1-" + stamp;
        Collection<ReplayResult> v1 = replay(runV1, DemoShop.Version.V1, inventoryPort, topics, reports, 0);

        step("replaying every case against v2, which has " + Verdicts.PLANTED.size() + " planted regressions");
        String runV2 = "demo-v2-" + stamp;
        Collection<ReplayResult> v2 = replay(runV2, DemoShop.Version.V2, inventoryPort, topics, reports, 1);

        step("reports");
        Path junit = reports.resolve(runV2 + "-junit.xml");
        Path html = reports.resolve(runV2 + ".html");
        report(runV2, "junit", junit);
        report(runV2, "html", html);
        Command.Result text = Command.run("report", settings.jar("replay-worker"), reportArgs(runV2, "text", null),
                settings.workDir().resolve("report-" + runV2 + ".log"), null, Duration.ofMinutes(2));
        text.output().forEach(line -> out.println("  " + line));

        long realCallsDuringReplay = realInventoryCalls.sum() - inventoryCallsBeforeReplay;
        List<String> problems = new ArrayList<>();
        problems.addAll(Verdicts.checkAllPass(v1));
        problems.addAll(Verdicts.checkPlanted(v2));
        if (realCallsDuringReplay != 0) {
            problems.add(realCallsDuringReplay + " calls reached the real inventory during replay");
        }
        if (v1.isEmpty() || v2.isEmpty()) {
            problems.add("a replay run produced no results");
        }
        summarize(v1, v2, realCallsDuringReplay, junit, html, problems);
        return problems.isEmpty() ? 0 : 1;
    }

    private void startStack() throws Exception {
        StackDistribution distribution = StackDistribution.fromBuild();
        Path stackDir = settings.workDir().resolve("stack");
        deleteRecursively(stackDir);
        broker = new KafkaBroker(distribution, Ports.freePort(), Ports.freePort(), stackDir.resolve("kafka"));
        registry = new SchemaRegistry(distribution, Ports.freePort(), stackDir.resolve("registry"));
        CompletableFuture<Void> registryUp = CompletableFuture.runAsync(
                () -> registry.start(false, SchemaRegistry.DEFAULT_READY_TIMEOUT));
        broker.start(false, KafkaBroker.DEFAULT_READY_TIMEOUT);
        registryUp.get(3, TimeUnit.MINUTES);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            StackTopics.create(admin, TaplineTopics.all(), Duration.ofSeconds(60));
        }
        say("Kafka %s, registry %s, topics %s", broker.bootstrapServers(), registry.url(),
                TaplineTopics.all().stream().map(t -> t.name()).toList());
    }

    private int startInventory() throws Exception {
        var handler = DemoInventory.handler();
        HttpServer server = vertx.createHttpServer().requestHandler(request -> {
            realInventoryCalls.increment();
            handler.handle(request);
        }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        return server.actualPort();
    }

    /** Waits until no new case or noise record has been committed for three publish intervals. */
    private void awaitSettled(Topics topics) {
        List<String> outputs = List.of(TaplineTopics.CASES, TaplineTopics.NOISE);
        long quietFor = PUBLISH_INTERVAL.toMillis() * 3;
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        long last = -1;
        long stableSince = System.currentTimeMillis();
        while (System.nanoTime() < deadline) {
            long now = topics.endOffsets(outputs);
            if (now != last || now == 0) {
                last = now;
                stableSince = System.currentTimeMillis();
            } else if (System.currentTimeMillis() - stableSince >= quietFor) {
                say("settled: %d case and noise records written", now);
                return;
            }
            Component.sleep(500);
        }
        throw new DemoException("the cases did not settle within 2 minutes");
    }

    private Collection<ReplayResult> replay(String runId, DemoShop.Version version, int inventoryPort, Topics topics,
                                            Path reports, int expectedExit) throws Exception {
        int mockPort = Ports.freePort();
        int candidatePort = DemoShop.start(vertx, version, "127.0.0.1", 0, "http://127.0.0.1:" + mockPort + "/inventory")
                .await(10, TimeUnit.SECONDS).actualPort();
        say("candidate %s at 127.0.0.1:%d; its inventory calls go to the replay worker's mocks at 127.0.0.1:%d",
                version, candidatePort, mockPort);
        List<String> args = new ArrayList<>(List.of("--run", runId, "--target", "http://127.0.0.1:" + candidatePort,
                "--mock-port", Integer.toString(mockPort), "--mock-route", "inventory=http://127.0.0.1:" + inventoryPort,
                "--kafka-bootstrap-servers", broker.bootstrapServers(), "--schema-registry-url", registry.url(),
                "--redaction-key", REDACTION_KEY, "--progress-interval", "1s", "--management-port", "-1"));
        Command.Result result = Command.run("replay " + version, settings.jar("replay-worker"),
                prepend("replay", args), settings.workDir().resolve("replay-" + runId + ".log"), out, Duration.ofMinutes(3));
        if (result.exitCode() != expectedExit) {
            say("replay against %s exited %d (expected %d)", version, result.exitCode(), expectedExit);
        }
        Map<String, ReplayResult> results = topics.latest(TaplineTopics.RESULTS, ReplayResult.class);
        return results.entrySet().stream().filter(e -> e.getKey().startsWith(runId + "/")).map(Map.Entry::getValue).toList();
    }

    private void report(String runId, String format, Path file) {
        Command.Result result = Command.run("report", settings.jar("replay-worker"), reportArgs(runId, format, file),
                settings.workDir().resolve("report-" + runId + "-" + format + ".log"), null, Duration.ofMinutes(2));
        if (!Files.exists(file)) {
            throw new DemoException("report --format " + format + " wrote nothing (exit " + result.exitCode() + "): "
                    + String.join("\n", result.output()));
        }
    }

    private List<String> reportArgs(String runId, String format, Path file) {
        List<String> args = new ArrayList<>(List.of("report", "--run", runId, "--format", format,
                "--kafka-bootstrap-servers", broker.bootstrapServers(), "--schema-registry-url", registry.url()));
        if (file != null) {
            args.add("--out");
            args.add(file.toString());
        }
        return args;
    }

    private void summarize(Collection<ReplayResult> v1, Collection<ReplayResult> v2, long realCalls, Path junit, Path html,
                           List<String> problems) {
        out.println();
        out.println("==== Tapline demo: what happened ====");
        out.printf(Locale.ROOT, "  v1 vs recorded: %d cases, %d passed%n", v1.size(),
                v1.stream().filter(r -> r.getVerdict() == io.tapline.avro.Verdict.PASS).count());
        out.printf(Locale.ROOT, "  v2 vs recorded: %d cases, %d failed%n", v2.size(),
                v2.stream().filter(r -> r.getVerdict() == io.tapline.avro.Verdict.FAIL).count());
        Map<String, Double> shares = Verdicts.failedShareByRoute(v2);
        for (Verdicts.Planted planted : Verdicts.PLANTED) {
            boolean found = v2.stream().anyMatch(r -> r.getRoute().equals(planted.route())
                    && r.getDifferences().stream().anyMatch(planted.signature()));
            out.printf(Locale.ROOT, "  %s planted: %-26s %-42s share of production traffic: %5.1f%%%n",
                    found ? "FOUND  " : "MISSED ", planted.route(), planted.description(),
                    100 * shares.getOrDefault(planted.route(), 0.0));
        }
        out.printf(Locale.ROOT, "  calls that reached the real inventory during replay: %d%n", realCalls);
        out.println("  JUnit XML: " + ShownText.oneLine(junit.toString()));
        out.println("  HTML:      " + ShownText.oneLine(html.toString()));
        out.printf(Locale.ROOT, "  took %d s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
        if (problems.isEmpty()) {
            out.println("  RESULT: every planted regression found, no false failure, noise not reported.");
        } else {
            out.println("  RESULT: the demo's expectations did not hold:");
            problems.forEach(p -> out.println("   - " + p));
        }
    }

    private Component component(String name, Path jar, List<String> args) {
        Component component = Component.start(name, jar, args, settings.workDir());
        toClose.add(component);
        return component;
    }

    private void step(String what) {
        step++;
        out.printf(Locale.ROOT, "%n[%d/8 +%ds] %s%n", step, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), what);
    }

    private void say(String format, Object... args) {
        out.println("  " + String.format(Locale.ROOT, format, args));
    }

    private static List<String> prepend(String first, List<String> rest) {
        List<String> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }

    private static void deleteRecursively(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    /** Stops everything the demo started, in reverse order. Safe to call twice (normal end and shutdown hook). */
    @Override
    public synchronized void close() {
        Command.destroyAll();
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close();
            } catch (Exception e) {
                out.println("  (stopping a component failed: " + e.getMessage() + ")");
            }
        }
        toClose.clear();
        if (vertx != null) {
            vertx.close();
            vertx = null;
        }
        if (registry != null) {
            registry.stop();
            registry = null;
        }
        if (broker != null) {
            broker.stop();
            broker = null;
        }
    }
}
