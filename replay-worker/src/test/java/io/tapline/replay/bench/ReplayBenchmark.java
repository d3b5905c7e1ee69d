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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
    private static final int WORKERS = Integer.getInteger("bench.workers", 2);
    private static final int WRK_SECONDS = Integer.getInteger("bench.wrk.seconds", 10);
    private static final String BODY = "{\"ok\":true,\"service\":\"bench\",\"items\":[1,2,3]}";

    @Test
    void replayThroughputAgainstWrkCapacity(TestStack stack) throws Exception {
        Vertx candidateVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        AtomicLong served = new AtomicLong();
        AtomicLong first = new AtomicLong();
        AtomicLong last = new AtomicLong();
        HttpServer candidate = candidateVertx.createHttpServer().requestHandler(req -> {
            long now = System.nanoTime();
            if (served.getAndIncrement() == 0) {
                first.set(now);
            }
            last.set(now);
            req.response().putHeader("content-type", "application/json").end(BODY);
        }).listen(0, "127.0.0.1").await();
        String url = "http://127.0.0.1:" + candidate.actualPort();
        try {
            // 1. The candidate's capacity, measured by wrk at the same connection count replay uses.
            Process wrk = new ProcessBuilder("wrk", "-t1", "-c" + CONCURRENCY, "-d" + WRK_SECONDS + "s", url + "/ping/1")
                    .redirectErrorStream(true).start();
            String wrkOut = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            wrk.waitFor();
            Matcher m = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(wrkOut);
            if (!m.find()) {
                throw new IllegalStateException("wrk printed no Requests/sec (is wrk installed?):\n" + wrkOut);
            }
            double wrkRps = Double.parseDouble(m.group(1));

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
            served.set(0);

            // 3. One replay run, timed end to end and at the candidate (first to last replayed request).
            String runId = stack.uniqueName("bench");
            String[] args = {"--run", runId, "--target", url, "--workers", Integer.toString(WORKERS),
                    "--concurrency", Integer.toString(CONCURRENCY), "--batch-size", "500",
                    "--kafka-bootstrap-servers", stack.bootstrapServers(), "--schema-registry-url", stack.registryUrl(),
                    "--topic-cases", cases, "--topic-noise", noise, "--topic-results", results, "--topic-runs", runs,
                    "--topic-dlq", dlq, "--mock-port", Integer.toString(Ports.freePort()), "--management-port", "-1",
                    "--progress-interval", "2s"};
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            ReplayCommand replay = new ReplayCommand(TaplineConfig.load(ReplayOptions.replaySpec(), args, Map.of()),
                    new PrintStream(log, true, StandardCharsets.UTF_8));
            long t0 = System.nanoTime();
            int exit = replay.run();
            double endToEnd = (System.nanoTime() - t0) / 1e9;
            assertEquals(ReplayCommand.EXIT_OK, exit, () -> log.toString(StandardCharsets.UTF_8));
            assertEquals(CASES, served.get(), "every case replayed exactly once");
            double replaySeconds = (last.get() - first.get()) / 1e9;
            double replayRate = CASES / replaySeconds;
            double e2eRate = CASES / endToEnd;

            String report = String.format(Locale.ROOT, String.join("%n",
                    "replay benchmark (%s, %d cores, loopback, broker+registry+candidate+replay on one machine)",
                    "  candidate capacity (wrk -t1 -c%d -d%ds):      %10.0f req/s",
                    "  replay throughput (first..last case at candidate): %10.0f cases/s   ratio %.3f",
                    "  replay end to end (join group .. summary written): %10.0f cases/s   ratio %.3f  (%.1f s for %d cases)",
                    "  settings: %d cases, %d workers, concurrency %d, batch 500, target ratio >= 0.8", ""),
                    java.time.Instant.now(), Runtime.getRuntime().availableProcessors(), CONCURRENCY, WRK_SECONDS,
                    wrkRps, replayRate, replayRate / wrkRps, e2eRate, e2eRate / wrkRps, endToEnd, CASES, CASES, WORKERS,
                    CONCURRENCY);
            System.out.print(report);
            Files.writeString(Path.of("target", "bench-result.txt"), report + "\nwrk output:\n" + wrkOut);
        } finally {
            candidateVertx.close().await();
        }
    }
}
