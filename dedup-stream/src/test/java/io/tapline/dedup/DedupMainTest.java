package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.config.ConfigException;
import io.tapline.config.TaplineConfig;
import io.tapline.dedup.testing.FakeRegistry;
import io.tapline.ops.Metrics;
import io.tapline.text.ShownText;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class DedupMainTest {

    @Test
    void shouldNameTheManagementPortItCannotListenOnInsteadOfThrowingOutOfMain() throws Exception {
        // a port another service holds (9402 next to busy services) was a java.net.BindException "Address already in
        // use" out of main, with its stack trace and without the port, after the output schemas were registered
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            TaplineConfig config = DedupOptions.load(new String[] {"--management-host", "127.0.0.1",
                    "--management-port", Integer.toString(taken.getLocalPort())}, Map.of());
            String message = assertThrows(ConfigException.class,
                    () -> DedupMain.startManagement(config, new Metrics(), () -> true).close()).getMessage();
            assertTrue(message.startsWith("option --management-port: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                    + ": "), message);
        }
        TaplineConfig unresolved = DedupOptions.load(new String[] {"--management-host", "999.1.1.1",
                "--management-port", "0"}, Map.of());
        String message = assertThrows(ConfigException.class,
                () -> DedupMain.startManagement(unresolved, new Metrics(), () -> true).close()).getMessage();
        assertTrue(message.startsWith("option --management-host: cannot listen on 999.1.1.1:0: "), message);
    }

    /** The option in the way is named with where it was set, as every other bad value of the job is. */
    @Test
    void shouldNameWhereTheManagementOptionItCannotListenOnWasSet() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            TaplineConfig config = DedupOptions.load(new String[0], Map.of("TAPLINE_MANAGEMENT_HOST", "127.0.0.1",
                    "TAPLINE_MANAGEMENT_PORT", Integer.toString(taken.getLocalPort())));
            String message = assertThrows(ConfigException.class,
                    () -> DedupMain.startManagement(config, new Metrics(), () -> true).close()).getMessage();
            assertTrue(message.startsWith("option --management-port (set by TAPLINE_MANAGEMENT_PORT): cannot listen on"
                    + " 127.0.0.1:" + taken.getLocalPort() + ": "), message);
        }
        TaplineConfig elsewhere = DedupOptions.load(new String[] {"--management-port", "0"},
                Map.of("TAPLINE_MANAGEMENT_HOST", "192.0.2.1"));
        String message = assertThrows(ConfigException.class,
                () -> DedupMain.startManagement(elsewhere, new Metrics(), () -> true).close()).getMessage();
        assertTrue(message.startsWith("option --management-host (set by TAPLINE_MANAGEMENT_HOST): cannot listen on"
                + " 192.0.2.1:0: "), message);
    }

    /**
     * A job that cannot start once its flags are read (a state directory that cannot be created, a broker host that
     * does not resolve) exits 1 with one line saying why. It was an exception out of main with its stack trace; with
     * the management port bound first, the JVM also stayed up on the port's thread, neither running nor exiting.
     * No broker answers at the address: the topic check says so in one line and the start goes on (a pod that starts
     * before its brokers must not crash-loop on it), to the state directory here. The repartition topics' pinning
     * ({@code streams.partitions} left at 0) takes the check's answer and waits no more: before, it asked the brokers
     * again and waited 30 s more, so the start reached Kafka Streams after about 47 s, not 17 s.
     */
    @Test
    @Timeout(120)
    void shouldExitWithOneLineWhenKafkaStreamsCannotStart(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "x");
        // a name that, written as it is, would clear the screen, start a CI runner's command line and be reordered
        Path stateDir = file.resolve("state\u001b[2J\n::error::x\u202e21\u200b");
        try (FakeRegistry registry = new FakeRegistry()) {
            Process process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), DedupMain.class.getName(),
                    "--schema-registry-url", registry.url(), "--kafka-bootstrap-servers", "127.0.0.1:1",
                    "--management-host", "127.0.0.1", "--management-port", "0",
                    "--dedup-application-id", "main-test", "--streams-state-dir", stateDir.toString()))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
            long started = System.nanoTime();
            boolean exited = process.waitFor(60, TimeUnit.SECONDS);
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
            if (!exited) {
                process.destroyForcibly().waitFor();
            }
            String out = Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8);
            assertTrue(exited, "still running 60 s after it could not start:\n" + out);
            assertEquals(1, process.exitValue(), out);
            List<String> said = out.lines().filter(l -> l.startsWith("tapline dedup: cannot start: ")).toList();
            assertEquals(1, said.size(), out);
            assertTrue(said.get(0).contains(ShownText.oneLine(stateDir.toString())), said.get(0));
            assertTrue(said.get(0).chars().noneMatch(ShownText::shownAsCode), "shown with codes: " + said.get(0));
            assertFalse(out.lines().anyMatch(l -> l.startsWith("::error::")), out);
            assertEquals(1, out.lines().filter(l -> l.contains("cannot check that the topics tapline.interactions, "
                    + "tapline.cases, tapline.noise, tapline.dlq exist: no broker of 127.0.0.1:1 answered within 15 s")).count(), out);
            assertFalse(out.contains("Exception in thread") || out.contains("\tat "), out);
            assertEquals(1, out.lines().filter(l -> l.contains("cannot read the partitions of "
                    + "main-test-by-signature-repartition or tapline.interactions (")).count(), out);
            // the check's 15 s (and its 5 s bound) once, plus the JVM's start: not a second wait for the brokers
            assertTrue(seconds < 35, "exited after " + seconds + " s:\n" + out);
        }
    }

    /**
     * Options naming one topic for the job's input and its dead letters exit 2 with one line, as a bad flag does, and
     * at once: the names alone decide it, so no broker is waited for (none answers at 127.0.0.1:1). Before, the job was
     * not refused: it waited the topic check's 15 s for the brokers and went on to start.
     */
    @Test
    @Timeout(120)
    void shouldRefuseAnInputTopicNamedForDeadLettersWithoutWaitingForABroker(@TempDir Path dir) throws Exception {
        Process process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), DedupMain.class.getName(),
                "--kafka-bootstrap-servers", "127.0.0.1:1", "--management-host", "127.0.0.1", "--management-port", "0",
                "--topic-dlq", "tapline.interactions", "--streams-state-dir", dir.resolve("state").toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
        long started = System.nanoTime();
        boolean exited = process.waitFor(60, TimeUnit.SECONDS);
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        if (!exited) {
            process.destroyForcibly().waitFor();
        }
        String out = Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8);
        assertTrue(exited, "still running 60 s after its start:\n" + out);
        assertEquals(2, process.exitValue(), out);
        assertEquals(List.of("tapline dedup: option --topic-interactions, --topic-dlq: topic tapline.interactions holds "
                + "interactions and dead letters: the job would read the dead letters it writes as interactions, and an "
                + "undecodable record, dead-lettered into the topic it is read from, would be read again, without end "
                + "(fix: give --topic-dlq a topic of its own)"),
                out.lines().filter(l -> l.startsWith("tapline dedup: ")).toList(), out);
        assertFalse(out.contains("cannot check that the topics"), out);
        assertTrue(seconds < TopicCheck.TIMEOUT.toSeconds(), "exited after " + seconds + " s:\n" + out);
    }

    /**
     * Under the POSIX locale (no LANG, ASCII) a message quoting a value past ASCII is written in UTF-8: Java 17 wrote
     * it in the locale's charset, every such character as '?'. The value comes from a {@code --config} file, read as
     * UTF-8 whatever the locale.
     */
    @Test
    @Timeout(120)
    void shouldWriteAMessageInUtf8UnderThePosixLocale(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("dedup.properties"), "rout\u00e9=1\n", StandardCharsets.UTF_8);
        ProcessBuilder builder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dfile.encoding=ANSI_X3.4-1968", "-cp", System.getProperty("java.class.path"), DedupMain.class.getName(),
                "--config", config.toString()));
        builder.environment().keySet().removeIf(k -> k.startsWith("TAPLINE_") || k.equals("LANG") || k.startsWith("LC_"));
        builder.environment().put("LC_ALL", "C");
        Process process = builder.redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
        boolean exited = process.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly().waitFor();
        }
        String out = Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8);
        assertTrue(exited, "still running 60 s after its start:\n" + out);
        assertEquals(2, process.exitValue(), out);
        assertTrue(out.startsWith("tapline dedup: unknown key 'rout\u00e9' in config file " + config), out);
    }
}
