package io.tapline.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.tapline.topics.TaplineTopics;

@Timeout(value = 5, unit = TimeUnit.MINUTES)
class StackCliIT {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return StackCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String output() {
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldStartReportAndStopTheStackLeavingNoProcessBehind(@TempDir Path dir) {
        int kafkaPort = Ports.freePort();
        int registryPort = Ports.freePort();
        String dataDir = dir.toString();
        StackState state = null;
        try {
            assertEquals(0, run("up", "--kafka-port", "" + kafkaPort, "--registry-port", "" + registryPort, "--data-dir", dataDir), output());
            String up = output();
            assertTrue(up.contains("Kafka bootstrap servers: 127.0.0.1:" + kafkaPort), up);
            assertTrue(up.contains("Schema registry URL:     http://127.0.0.1:" + registryPort + "/apis/ccompat/v7"), up);
            TaplineTopics.all().forEach(spec -> assertTrue(up.contains(spec.name()), up));

            state = StackState.read(dir);
            assertTrue(ProcessHandle.of(state.kafka().orElseThrow().pid()).map(ProcessHandle::isAlive).orElse(false));
            assertTrue(ProcessHandle.of(state.registry().orElseThrow().pid()).map(ProcessHandle::isAlive).orElse(false));

            assertEquals(0, run("status", "--data-dir", dataDir), output());
            assertTrue(output().contains("Kafka broker: running") && output().contains("Schema registry: running"), output());
            assertTrue(output().contains("healthy"), output());

            assertEquals(0, run("down", "--data-dir", dataDir), output());
            assertFalse(isAlive(state.kafka().orElseThrow().pid()), "Kafka broker must be gone");
            assertFalse(isAlive(state.registry().orElseThrow().pid()), "registry must be gone");

            assertEquals(LocalStack.EXIT_NOT_RUNNING, run("status", "--data-dir", dataDir), output());
            assertTrue(output().contains("Kafka broker: stopped"), output());
        } finally {
            run("down", "--data-dir", dataDir); // never leave a stack running when an assertion failed
        }
    }

    @Test
    void shouldFailFastNamingTheKafkaPortWhenItIsInUse(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            long start = System.nanoTime();
            assertEquals(1, run("up", "--kafka-port", "" + port, "--registry-port", "" + Ports.freePort(), "--data-dir", dir.toString()));
            assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) < 5, "must fail at once, not hang");
            assertTrue(output().contains("Kafka port " + port + " is already in use"), output());
            assertTrue(StackState.read(dir).kafka().isEmpty(), "nothing may have been started");
        }
    }

    @Test
    void shouldFailFastNamingTheRegistryPortWhenItIsInUse(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertEquals(1, run("up", "--kafka-port", "" + Ports.freePort(), "--registry-port", "" + port, "--data-dir", dir.toString()));
            assertTrue(output().contains("Schema registry port " + port + " is already in use"), output());
        }
    }

    @Test
    void shouldLeaveNoProcessBehindWhenUpIsInterrupted(@TempDir Path dir) throws Exception {
        int kafkaPort = Ports.freePort();
        int registryPort = Ports.freePort();
        Path dataDir = dir.resolve("data");
        Path log = dir.resolve("up.log");
        Process up = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), StackCli.class.getName(), "up",
                "--kafka-port", "" + kafkaPort, "--registry-port", "" + registryPort, "--data-dir", dataDir.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            // Kafka is up and recorded; the registry is starting (its readiness takes seconds): stop `up` there, as
            // Ctrl-C or a closed terminal would. Both run detached from it, so only `up` itself can take them down.
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (!Files.readString(log).contains("starting Apicurio Registry")) {
                assertTrue(up.isAlive() && System.nanoTime() < deadline, "up did not reach the registry: " + Files.readString(log));
                Thread.sleep(50);
            }
            long kafkaPid = StackState.read(dataDir).kafka().orElseThrow().pid();
            up.destroy();
            assertTrue(up.waitFor(60, TimeUnit.SECONDS), "up exits on SIGTERM");
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((isAlive(kafkaPid) || registryProcess(registryPort).isPresent()) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertFalse(isAlive(kafkaPid), "the broker an interrupted up started is gone");
            assertFalse(registryProcess(registryPort).isPresent(), "the registry an interrupted up started is gone");
            assertTrue(StackState.read(dataDir).kafka().isEmpty(), "and nothing is recorded as running");
        } finally {
            up.destroyForcibly();
            run("down", "--data-dir", dataDir.toString());
        }
    }

    /** The registry process serving {@code port}, found by its command line. */
    private static java.util.Optional<ProcessHandle> registryProcess(int port) {
        String argument = "-Dquarkus.http.port=" + port;
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().map(c -> c.contains(argument)).orElse(false))
                .findFirst();
    }

    private static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
