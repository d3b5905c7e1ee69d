package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tapline.ops.ExpositionCheck;
import io.tapline.stack.junit.TaplineStackExtension;
import io.tapline.stack.junit.TestStack;
import io.tapline.topics.TaplineTopics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tapline_dedup_broker_silence_seconds} and {@code /ready} of the whole job ({@code DedupMain}) on a real
 * broker: an idle job (no input at all) stays ready with its silence near 0, a frozen broker (SIGSTOP: its
 * connections open, nothing answered) makes it not ready past {@code dedup.ready.max.broker.silence} while Kafka
 * Streams still says {@code RUNNING}, and it is ready again once the broker answers. Before, {@code /ready} answered
 * 200 for the whole of such a freeze.
 */
@ExtendWith(TaplineStackExtension.class)
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class BrokerSilenceIT {

    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final int MAX_SILENCE_SECONDS = 10;

    @TempDir
    Path dir;

    @Test
    void shouldStayReadyWhileIdleAndTurnNotReadyWhileTheBrokerIsFrozen(TestStack stack) throws Exception {
        String derivedMax = Integer.toString(TaplineTopics.DERIVED_MAX_BYTES);
        String input = stack.createTopic("interactions", 1,
                Map.of("max.message.bytes", Integer.toString(TaplineTopics.INTERACTION_MAX_BYTES)));
        String cases = stack.createTopic("cases", 1, Map.of("cleanup.policy", "compact", "max.message.bytes", derivedMax,
                "min.compaction.lag.ms", TaplineTopics.CASES_SPEC.configs().get("min.compaction.lag.ms")));
        String noise = stack.createTopic("noise", 1, Map.of("cleanup.policy", "compact", "max.message.bytes", derivedMax));
        String dlq = stack.createTopic("dlq", 1, Map.of("max.message.bytes", Integer.toString(TaplineTopics.DLQ_MAX_BYTES)));
        Path log = dir.resolve("job.log");
        // RocksDB unpacks its library (15 MB) to the JVM's temporary directory: the test's, not the machine's /tmp.
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + Files.createDirectories(dir.resolve("tmp")),
                "-Dorg.slf4j.simpleLogger.log.io.tapline=info", "-cp", System.getProperty("java.class.path"),
                DedupMain.class.getName(),
                "--kafka.bootstrap.servers=" + stack.bootstrapServers(),
                "--schema.registry.url=" + stack.registryUrl(),
                "--dedup.application.id=" + stack.uniqueName("dedup-silence"),
                "--topic.interactions=" + input, "--topic.cases=" + cases, "--topic.noise=" + noise, "--topic.dlq=" + dlq,
                "--streams.replication.factor=1",
                "--streams.state.dir=" + dir.resolve("state"),
                "--dedup.ready.max.broker.silence=" + MAX_SILENCE_SECONDS + "s",
                "--management.host=127.0.0.1", "--management.port=0");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        HttpClient http = HttpClient.newHttpClient();
        try {
            String base = "http://127.0.0.1:" + managementPort(log, child);
            awaitReady(http, base, 200, WAIT);

            // Idle: no record at all, for more than twice the bound. The broker answers the consumer's empty fetches
            // and its heartbeats, so the job stays ready and its silence stays near 0.
            double idleMax = 0;
            long idleUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(3L * MAX_SILENCE_SECONDS);
            while (System.nanoTime() < idleUntil) {
                assertEquals(200, get(http, base + "/ready").statusCode(), "an idle job turned not ready");
                idleMax = Math.max(idleMax, silence(http, base));
                Thread.sleep(500);
            }
            System.out.printf("idle for %d s: broker silence at most %.3f s%n", 3 * MAX_SILENCE_SECONDS, idleMax);
            assertTrue(idleMax < 5, "an idle job's broker silence reached " + idleMax + " s");

            long frozen = System.nanoTime();
            stack.freezeBroker();
            long notReadyAfter;
            String scrape;
            try {
                awaitReady(http, base, 503, Duration.ofSeconds(MAX_SILENCE_SECONDS + 15));
                notReadyAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozen);
                scrape = get(http, base + "/metrics").body();
                assertEquals(200, get(http, base + "/healthy").statusCode(), "liveness is not the brokers' business");
            } finally {
                stack.thawBroker();
            }
            long thawed = System.nanoTime();
            ExpositionCheck metrics = ExpositionCheck.check(scrape);
            double silent = metrics.value(BrokerSilence.SILENCE);
            System.out.printf("broker frozen: /ready 503 after %d ms, broker silence %.3f s, RUNNING %s%n",
                    notReadyAfter, silent, metrics.value(StreamsGauges.STATE, "state", "RUNNING"));
            assertTrue(notReadyAfter >= MAX_SILENCE_SECONDS * 1000L, "not ready after " + notReadyAfter + " ms");
            assertTrue(silent > MAX_SILENCE_SECONDS, "broker silence " + silent + " s");
            assertEquals(1, metrics.value(StreamsGauges.STATE, "state", "RUNNING"),
                    "Kafka Streams says RUNNING meanwhile: the state alone does not show the outage");

            awaitReady(http, base, 200, WAIT);
            System.out.printf("broker thawed: /ready 200 after %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - thawed));
            assertTrue(silence(http, base) < 5, "silence after the broker answered again");
            assertTrue(child.isAlive(), "the job exited:\n" + Files.readString(log));
            assertTrue(Files.readString(log).contains("no broker has answered this job's Kafka clients"),
                    "no WARN line about the silence:\n" + Files.readString(log));
        } catch (AssertionError | Exception e) {
            System.out.println("==== " + log + "\n" + Files.readString(log));
            throw e;
        } finally {
            child.destroy();
            if (!child.waitFor(60, TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static void awaitReady(HttpClient http, String base, int status, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (get(http, base + "/ready").statusCode() != status) {
            if (System.nanoTime() > deadline) {
                fail("/ready did not answer " + status + " within " + within);
            }
            Thread.sleep(200);
        }
    }

    private static double silence(HttpClient http, String base) throws Exception {
        return ExpositionCheck.check(get(http, base + "/metrics").body()).value(BrokerSilence.SILENCE);
    }

    private static int managementPort(Path log, Process child) throws Exception {
        Pattern port = Pattern.compile("management port (\\d+)");
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!child.isAlive()) {
                fail("the job exited with " + child.exitValue() + ":\n" + Files.readString(log));
            }
            Matcher m = port.matcher(Files.readString(log));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the job never logged its management port");
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
