package io.tapline.replay.bench;

import io.tapline.avro.Case;
import io.tapline.config.TaplineConfig;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryClient;
import io.tapline.replay.Fixtures;
import io.tapline.replay.ReplayCommand;
import io.tapline.replay.ReplayOptions;
import io.tapline.serde.TaplineAvroSerializer;
import io.tapline.stack.Ports;
import io.tapline.stack.junit.TaplineStackExtension;
import io.tapline.stack.junit.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replay throughput against a trivial fast candidate, compared with that candidate's capacity measured by wrk in
 * the same run. Not part of the build: run with {@code replay-worker/bench/run.sh}. Prints and writes
 * {@code target/bench-result.txt}.
 */
@ExtendWith(TaplineStackExtension.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ReplayBenchmark {

    private static final int CASES = Integer.getInteger("bench.cases", 5000);
    private static final int CONCURRENCY = Integer.getInteger("bench.concurrency", 32);
    /** One worker: on 2 cores shared with the broker and the candidate a second event loop added nothing measurable. */
    private static final int WORKERS = Integer.getInteger("bench.workers", 1);
    private static final int WRK_SECONDS = Integer.getInteger("bench.wrk.seconds", 10);
    /** Cases per transaction: 2000 cost the broker about a third of 500's CPU per case here. */
    private static final int BATCH = Integer.getInteger("bench.batch", 2000);
    /** Replay runs after the first (cold) one: the steady state of a long run. */
    private static final int WARM_RUNS = Integer.getInteger("bench.warm.runs", 2);
    /** Further replay options, space-separated (e.g. Kafka client settings: --kafka.producer.linger.ms=5). */
    private static final String EXTRA_ARGS = System.getProperty("bench.replay.args", "").trim();
    private static final String BODY = "{\"ok\":true,\"service\":\"bench\",\"items\":[1,2,3]}";
    /** The recorded body with its members in another order: equal JSON, not equal bytes, so every case is parsed. */
    private static final String CANDIDATE_BODY = "{\"service\":\"bench\",\"items\":[1,2,3],\"ok\":true}";

    @Test
    void replayThroughputAgainstWrkCapacity(TestStack stack) throws Exception {
        Vertx candidateVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        AtomicLong served = new AtomicLong();
        AtomicLong first = new AtomicLong();
        AtomicLong last = new AtomicLong();
        AtomicLong candidateThread = new AtomicLong(-1);
        // The same candidate for wrk and replay: one event loop, answering the recorded response (status, content
        // type, and the body as equal JSON in another member order), so every case passes after a structural
        // comparison (the equal-bytes shortcut of the comparator never applies here).
        HttpServer candidate = candidateVertx.createHttpServer().requestHandler(req -> {
            long now = System.nanoTime();
            if (served.getAndIncrement() == 0) {
                first.set(now);
                candidateThread.set(Thread.currentThread().getId());
            }
            last.set(now);
            req.response().putHeader("content-type", "application/json").end(CANDIDATE_BODY);
        }).listen(0, "127.0.0.1").await();
        String url = "http://127.0.0.1:" + candidate.actualPort();
        try {
            // 1. The candidate's capacity, measured by wrk at the connection count replay uses (--concurrency), with
            //    the header replay adds (traceparent); again after the replay runs, as the machine's load drifts.
            Wrk wrkBefore = wrk(url);

            // 2. N distinct cases of that candidate on a 6-partition cases topic.
            String cases = stack.createTopic("bench-cases", 6, Map.of("cleanup.policy", "compact"));
            String noise = stack.createTopic("bench-noise", 1, Map.of("cleanup.policy", "compact"));
            String results = stack.createTopic("bench-results", 6, Map.of());
            String runs = stack.createTopic("bench-runs", 1, Map.of("cleanup.policy", "compact"));
            String dlq = stack.createTopic("bench-dlq", 1, Map.of());
            SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.of(stack.registryUrl()));
            TaplineAvroSerializer<Case> writer = new TaplineAvroSerializer<>(registry, false);
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                    ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                    ProducerConfig.LINGER_MS_CONFIG, 20))) {
                for (int i = 0; i < CASES; i++) {
                    Case c = Fixtures.caseOf("bench-" + i, Fixtures.request("GET", "bench", "/ping/" + i, null, null),
                            Fixtures.json(200, BODY), List.of(), 1);
                    p.send(new ProducerRecord<>(cases, c.getCaseId().getBytes(StandardCharsets.UTF_8), writer.serialize(cases, c)));
                }
                p.flush();
            }

            // 3. Replay runs over the same cases (each run id its own consumer group): the first with a cold JVM,
            //    the others warm. Every run publishes its results and summary as in production.
            List<Run> replays = new ArrayList<>();
            for (int i = 0; i < 1 + WARM_RUNS; i++) {
                served.set(0);
                String runId = stack.uniqueName("bench");
                String[] args = {"--run", runId, "--target", url, "--workers", Integer.toString(WORKERS),
                        "--concurrency", Integer.toString(CONCURRENCY), "--batch-size", Integer.toString(BATCH),
                        "--kafka-bootstrap-servers", stack.bootstrapServers(), "--schema-registry-url", stack.registryUrl(),
                        "--topic-cases", cases, "--topic-noise", noise, "--topic-results", results, "--topic-runs", runs,
                        "--topic-dlq", dlq, "--mock-port", Integer.toString(Ports.freePort()), "--management-port", "-1",
                        "--progress-interval", "2s"};
                if (!EXTRA_ARGS.isEmpty()) {
                    List<String> all = new ArrayList<>(List.of(args));
                    all.addAll(List.of(EXTRA_ARGS.split("\\s+")));
                    args = all.toArray(String[]::new);
                }
                ByteArrayOutputStream log = new ByteArrayOutputStream();
                CpuMeter meter = CpuMeter.start(served, candidateThread);
                long t0 = System.nanoTime();
                // every line of the replay's output stamped with the time since the run started
                PrintStream stamped = new PrintStream(new java.io.OutputStream() {
                    private boolean lineStart = true;

                    @Override
                    public void write(int b) {
                        if (lineStart) {
                            log.writeBytes(String.format(Locale.ROOT, "[+%5d ms] ", (System.nanoTime() - t0) / 1_000_000)
                                    .getBytes(StandardCharsets.UTF_8));
                        }
                        log.write(b);
                        lineStart = b == '\n';
                    }
                }, true, StandardCharsets.UTF_8);
                ReplayCommand replay = new ReplayCommand(TaplineConfig.load(ReplayOptions.replaySpec(), args, Map.of()), stamped);
                int exit = replay.run();
                System.err.printf("replay run %d log:%n%s", replays.size() + 1, log.toString(StandardCharsets.UTF_8));
                double endToEnd = (System.nanoTime() - t0) / 1e9;
                CpuMeter.Figures whole = meter.stop();
                assertEquals(ReplayCommand.EXIT_OK, exit, () -> log.toString(StandardCharsets.UTF_8));
                assertEquals(CASES, served.get(), "every case replayed exactly once");
                String summary = log.toString(StandardCharsets.UTF_8);
                assertTrue(summary.contains("cases: " + CASES + "  passed: " + CASES), summary);
                replays.add(new Run(CASES / ((last.get() - first.get()) / 1e9), CASES / endToEnd, endToEnd, whole,
                        meter.steady(CASES)));
            }
            Wrk wrkAfter = wrk(url);
            double wrkRps = (wrkBefore.rps + wrkAfter.rps) / 2;

            StringBuilder report = new StringBuilder(String.format(Locale.ROOT, String.join("%n",
                    "replay benchmark (%s, %d cores, loopback, broker+registry+candidate+replay on one machine)",
                    "  candidate capacity, wrk -t1 -c%d -d%ds (+traceparent): before %.0f, after %.0f, mean %.0f req/s",
                    "  settings: %d cases, %d workers, concurrency %d, batch %d%s, target ratio >= 0.8",
                    "  CPU per case: replay = test JVM minus the candidate's event-loop thread; broker+registry = the"
                            + " child processes; whole run = replay called to summary written", ""),
                    java.time.Instant.now(), Runtime.getRuntime().availableProcessors(), CONCURRENCY, WRK_SECONDS,
                    wrkBefore.rps, wrkAfter.rps, wrkRps, CASES, WORKERS, CONCURRENCY, BATCH,
                    EXTRA_ARGS.isEmpty() ? "" : ", " + EXTRA_ARGS));
            for (int i = 0; i < replays.size(); i++) {
                Run r = replays.get(i);
                report.append(String.format(Locale.ROOT,
                        "  run %d (%s): at candidate %.0f cases/s (ratio %.3f); end to end %.0f cases/s (ratio %.3f, %.1f s)%n",
                        i + 1, i == 0 ? "cold JVM" : "warm", r.atCandidate, r.atCandidate / wrkRps, r.endToEnd,
                        r.endToEnd / wrkRps, r.seconds));
                report.append("         CPU per case, whole run: ").append(r.whole.render());
                report.append("         CPU per case, 10-90% of cases served: ").append(r.steady.render());
            }
            System.out.print(report);
            Files.writeString(Path.of("target", "bench-result.txt"), report + "\nwrk output (before):\n" + wrkBefore.output
                    + "\nwrk output (after):\n" + wrkAfter.output);
        } finally {
            candidateVertx.close().await();
        }
    }

    private record Run(double atCandidate, double endToEnd, double seconds, CpuMeter.Figures whole,
                       CpuMeter.Figures steady) {
    }

    /**
     * CPU time during a replay run, sampled every 100 ms with the count of requests the candidate has served: this
     * JVM (replay plus the in-process candidate), the candidate's event-loop thread alone, the child processes (the
     * broker and the registry the stack extension started), JIT compilation and GC pause time, and every live thread
     * of this JVM by name (digits collapsed; a thread that ends loses at most its last 100 ms, and what no live thread
     * accounts for is the JVM's own: GC workers, JIT compilers). {@link #steady()} is the part of the run between the
     * samples where 10% and 90% of the cases had been served: replay's per-case cost without its fixed costs
     * (bounds, group join, the latest-version scan, completion, reading the results back, JIT of the first cases).
     */
    private static final class CpuMeter {

        record Sample(long served, long process, long candidate, long children, long jitMillis, long gcMillis,
                      Map<Long, Long> threads) {
        }

        /** CPU in nanoseconds over {@code cases} served cases. */
        record Figures(long cases, long process, long candidate, long children, long jitMillis, long gcMillis,
                       Map<String, Long> threads) {

            double perCase(long nanos) {
                return cases == 0 ? 0 : nanos / 1e3 / cases;
            }

            double replay() {
                return perCase(process - candidate);
            }

            String render() {
                StringBuilder groups = new StringBuilder();
                long named = 0;
                for (Map.Entry<String, Long> e : threads.entrySet()) {
                    named += e.getValue();
                    if (perCase(e.getValue()) >= 1) {
                        groups.append(String.format(Locale.ROOT, ", %s %.0f", e.getKey(), perCase(e.getValue())));
                    }
                }
                return String.format(Locale.ROOT, "replay %.0f us, candidate %.0f us, broker+registry %.0f us"
                                + " (%d cases; JIT %d ms, GC pauses %d ms)%n"
                                + "           replay by thread (us per case): JVM (GC, JIT) and ended threads %.0f%s%n",
                        replay(), perCase(candidate), perCase(children), cases, jitMillis, gcMillis,
                        perCase(process - candidate - named), groups);
            }
        }

        private final AtomicLong served;
        private final AtomicLong candidateThread;
        private final List<Sample> samples = new ArrayList<>();
        private final Map<Long, String> names = new java.util.HashMap<>();
        private final java.util.concurrent.ScheduledExecutorService ticker =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "bench-cpu-meter");
                    t.setDaemon(true);
                    return t;
                });

        private CpuMeter(AtomicLong served, AtomicLong candidateThread) {
            this.served = served;
            this.candidateThread = candidateThread;
        }

        static CpuMeter start(AtomicLong served, AtomicLong candidateThread) {
            CpuMeter m = new CpuMeter(served, candidateThread);
            m.sample();
            m.ticker.scheduleAtFixedRate(m::sample, 100, 100, TimeUnit.MILLISECONDS);
            return m;
        }

        private synchronized void sample() {
            java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long n = served.get();
            Map<Long, Long> threads = new java.util.HashMap<>();
            for (long id : mx.getAllThreadIds()) {
                long cpu = mx.getThreadCpuTime(id);
                if (cpu < 0) {
                    continue;
                }
                threads.put(id, cpu);
                if (!names.containsKey(id)) {
                    java.lang.management.ThreadInfo info = mx.getThreadInfo(id);
                    names.put(id, info == null ? "?" : info.getThreadName().replaceAll("[0-9]+", "N"));
                }
            }
            long process = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
            long ct = candidateThread.get();
            long candidate = ct < 0 ? 0 : Math.max(0, mx.getThreadCpuTime(ct));
            long children = ProcessHandle.current().descendants()
                    .mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
            long gc = ManagementFactory.getGarbageCollectorMXBeans().stream()
                    .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum();
            samples.add(new Sample(n, process, candidate, children,
                    ManagementFactory.getCompilationMXBean().getTotalCompilationTime(), gc, threads));
        }

        /** Stops sampling (after one last sample) and returns the figures of the whole run. */
        Figures stop() throws InterruptedException {
            ticker.shutdownNow();
            ticker.awaitTermination(5, TimeUnit.SECONDS);
            sample();
            return between(samples.get(0), samples.get(samples.size() - 1));
        }

        /** Between the first sample with at least 10% of the cases served and the last with at most 90%. */
        synchronized Figures steady(long cases) {
            Sample from = null;
            Sample to = null;
            for (Sample s : samples) {
                if (from == null && s.served >= cases / 10) {
                    from = s;
                }
                if (s.served <= cases * 9 / 10) {
                    to = s;
                }
            }
            return from == null || to == null || to.served <= from.served ? between(samples.get(0), samples.get(0))
                    : between(from, to);
        }

        private synchronized Figures between(Sample a, Sample b) {
            Map<String, Long> byName = new java.util.TreeMap<>();
            b.threads.forEach((id, cpu) -> {
                if (!id.equals(candidateThread.get())) {
                    // a thread not yet alive at the first sample started during the interval
                    byName.merge(names.get(id), cpu - a.threads.getOrDefault(id, 0L), Long::sum);
                }
            });
            return new Figures(b.served - a.served, b.process - a.process, b.candidate - a.candidate,
                    b.children - a.children, b.jitMillis - a.jitMillis, b.gcMillis - a.gcMillis, byName);
        }
    }

    private record Wrk(double rps, String output) {
    }

    private static Wrk wrk(String url) throws Exception {
        Process wrk = new ProcessBuilder("wrk", "-t1", "-c" + CONCURRENCY, "-d" + WRK_SECONDS + "s",
                "-H", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", url + "/ping/1")
                .redirectErrorStream(true).start();
        String out = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        wrk.waitFor();
        Matcher m = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("wrk printed no Requests/sec (is wrk installed?):\n" + out);
        }
        return new Wrk(Double.parseDouble(m.group(1)), out);
    }
}
