package io.tapline.sidecar;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tapline sidecar} as a process: what it says and how it exits. Starts no Kafka (nothing listens at its bootstrap). */
@Timeout(120)
class SidecarMainTest {

    /**
     * A listener that cannot be opened is a value to change, as a bad option is: exit 2, as replay and dedup exit for
     * theirs (before, the sidecar exited 1, the status of a start that failed for any other reason), with the message
     * it had, said once with its cause.
     */
    @Test
    void aListenerThatCannotBeOpenedIsReportedOnceWithItsCauseAndExitsTwo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            ProcessBuilder pb = sidecar("--app", "http://127.0.0.1:1",
                    "--egress-listen", "off", "--management-host", "127.0.0.1", "--management-port", "0",
                    "--kafka-bootstrap-servers", "127.0.0.1:1", "--schema-registry-url", "http://127.0.0.1:1");
            // set by a variable: the message says so, as a bad value's does
            pb.environment().put("TAPLINE_LISTEN", "127.0.0.1:" + port);
            Process child = pb.redirectErrorStream(true).start();
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the sidecar did not exit: " + out);
            assertEquals(2, child.exitValue(), out);
            String said = "option --listen (set by TAPLINE_LISTEN): cannot listen on 127.0.0.1:" + port + ": ";
            List<String> lines = out.lines().filter(l -> l.contains(said)).toList();
            assertEquals(1, lines.size(), "reported once: " + out);
            assertTrue(lines.get(0).startsWith("tapline sidecar: cannot start: " + said), lines.get(0));
            assertTrue(lines.get(0).contains("Address already in use"), "with its cause: " + lines.get(0));
        }
    }

    /** The management port taken: exit 2 naming it, as the proxy's listeners are named. */
    @Test
    void aManagementPortThatCannotBeOpenedExitsTwo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Process child = sidecar("--app", "http://127.0.0.1:1", "--listen", "127.0.0.1:0", "--egress-listen", "off",
                    "--management-host", "127.0.0.1", "--management-port", Integer.toString(port),
                    "--kafka-bootstrap-servers", "127.0.0.1:1", "--schema-registry-url", "http://127.0.0.1:1")
                    .redirectErrorStream(true).start();
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the sidecar did not exit: " + out);
            assertEquals(2, child.exitValue(), out);
            assertTrue(out.lines().anyMatch(l -> l.startsWith("tapline sidecar: cannot start: option --management-port:"
                    + " cannot listen on 127.0.0.1:" + port + ": ")), out);
        }
    }

    /**
     * A start that fails for anything but a listener, here a Kafka producer that cannot be made of settings each valid
     * alone (idempotence needs {@code acks=all}), still exits 1, said once with the client's words.
     */
    @Test
    void aProducerThatCannotBeMadeExitsOne() throws Exception {
        Process child = sidecar("--app", "http://127.0.0.1:1", "--listen", "127.0.0.1:0", "--egress-listen", "off",
                "--management-host", "127.0.0.1", "--management-port", "0", "--kafka-bootstrap-servers", "127.0.0.1:1",
                "--schema-registry-url", "http://127.0.0.1:1", "--kafka.producer.enable.idempotence=true",
                "--kafka.producer.acks=1").redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the sidecar did not exit: " + out);
        assertEquals(1, child.exitValue(), out);
        List<String> lines = out.lines().filter(l -> l.startsWith("tapline sidecar: cannot start: ")).toList();
        assertEquals(1, lines.size(), out);
        assertTrue(lines.get(0).contains("acks"), lines.get(0));
    }

    /** {@code tapline sidecar ARGS} in a child JVM, without the {@code TAPLINE_*} variables of this one. */
    private static ProcessBuilder sidecar(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), SidecarMain.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("TAPLINE_"));
        return pb;
    }

    /** An upstream URL that is no base URL (a fragment here, which was dropped unsaid) stops the sidecar before it starts. */
    @Test
    void anUpstreamUrlWithAFragmentExitsTwoNamingTheVariableThatSetIt(@TempDir Path dir) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                SidecarMain.class.getName(), "--listen", "127.0.0.1:0", "--egress-listen", "off",
                "--management-host", "127.0.0.1", "--management-port", "0", "--kafka-bootstrap-servers", "127.0.0.1:1",
                "--schema-registry-url", "http://127.0.0.1:1");
        pb.environment().keySet().removeIf(k -> k.startsWith("TAPLINE_"));
        pb.environment().put("TAPLINE_APP", "http://127.0.0.1:8081/#top");
        Path output = dir.resolve("sidecar.out");
        Process child = pb.redirectErrorStream(true).redirectOutput(output.toFile()).start();
        boolean exited = child.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // it started, taking the URL
        }
        String out = Files.readString(output);
        assertTrue(exited, "the sidecar did not exit: " + out);
        assertEquals(2, child.exitValue(), out);
        assertTrue(out.contains("tapline sidecar: option --app (set by TAPLINE_APP): 'http://127.0.0.1:8081/#top' has a"
                + " fragment ('#top'), which never reaches a server"), out);
    }

    @Test
    void aStartFailureSaysTheCausesItsMessageDoesNotHold() {
        Exception kafka = new org.apache.kafka.common.KafkaException("Failed to construct kafka producer",
                new IllegalArgumentException("Invalid url in bootstrap.servers: nowhere"));
        assertEquals("Failed to construct kafka producer: Invalid url in bootstrap.servers: nowhere",
                SidecarMain.withCauses(kafka));
        Exception named = new java.io.IOException("option --listen: cannot listen on 127.0.0.1:80: Permission denied",
                new java.net.BindException("Permission denied"));
        assertEquals("option --listen: cannot listen on 127.0.0.1:80: Permission denied", SidecarMain.withCauses(named));
        assertEquals("java.lang.IllegalStateException", SidecarMain.withCauses(new IllegalStateException()));
        // a value as given, quoted by a client: shown with codes, as a bad option's message shows it
        Exception hostile = new org.apache.kafka.common.KafkaException("Failed to construct kafka producer",
                new IllegalArgumentException("Invalid url in bootstrap.servers: k\u001b[2J\n::error::x\u202e21\u200b:9092"));
        assertEquals("Failed to construct kafka producer: Invalid url in bootstrap.servers: "
                + "k\\u001b[2J\\n::error::x\\u202e21\\u200b:9092", SidecarMain.withCauses(hostile));
    }

    /**
     * Under the POSIX locale (no LANG, ASCII) a message quoting a value past ASCII is written in UTF-8: Java 17 wrote
     * it in the locale's charset, every such character as '?'. The value comes from a {@code --config} file, read as
     * UTF-8 whatever the locale.
     */
    @Test
    void aMessageIsWrittenInUtf8UnderThePosixLocale(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("sidecar.properties"), "rout\u00e9=1\n", StandardCharsets.UTF_8);
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dfile.encoding=ANSI_X3.4-1968", "-cp", System.getProperty("java.class.path"), SidecarMain.class.getName(),
                "--config", config.toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("TAPLINE_") || k.equals("LANG") || k.startsWith("LC_"));
        pb.environment().put("LC_ALL", "C");
        Process child = pb.redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the sidecar did not exit: " + out);
        assertEquals(2, child.exitValue(), out);
        assertTrue(out.startsWith("tapline sidecar: unknown key 'rout\u00e9' in config file " + config), out);
    }
}
