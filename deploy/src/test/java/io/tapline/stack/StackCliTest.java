package io.tapline.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StackCliTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return StackCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shouldExitWithTwoAndNameTheFlagOnABadFlag() {
        assertEquals(2, run("up", "--kafka-port", "-5"));
        String message = err.toString(StandardCharsets.UTF_8);
        assertTrue(message.contains("--kafka-port"), message);
    }

    @Test
    void shouldExitWithTwoOnAnUnknownCommand() {
        assertEquals(2, run("restart"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("allowed commands: up, down, status, --help"));
    }

    @Test
    void shouldPrintUsageForHelp() {
        assertEquals(0, run("--help"));
        String usage = out.toString(StandardCharsets.UTF_8);
        assertTrue(usage.contains("--kafka-port") && usage.contains("--registry-port") && usage.contains("--data-dir"), usage);
    }

    @Test
    void shouldReportANotRunningStackFromAnEmptyDataDir(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        assertEquals(LocalStack.EXIT_NOT_RUNNING, run("status", "--data-dir", dir.toString()));
        String status = out.toString(StandardCharsets.UTF_8);
        assertTrue(status.contains("Kafka broker: stopped") && status.contains("Schema registry: stopped"), status);
        assertTrue(status.startsWith("Local stack in " + dir.toAbsolutePath().normalize() + System.lineSeparator()),
                "status names the data dir it read: " + status);
        assertEquals(0, run("down", "--data-dir", dir.toString()));
    }

    /**
     * With the streams' charset ASCII ({@code file.encoding} as the POSIX locale sets it), a data directory's name past
     * ASCII is written in UTF-8: Java 17 wrote it in that charset, every such character as '?'. The name is passed as
     * an argument, which needs a UTF-8 locale to reach the JVM whole (under the POSIX locale it cannot).
     */
    @Test
    void shouldWriteInUtf8WhenTheStreamsCharsetIsAscii(@TempDir Path dir) throws Exception {
        assumeTrue(Charset.forName(System.getProperty("sun.jnu.encoding")).equals(StandardCharsets.UTF_8),
                "arguments past ASCII need a UTF-8 locale");
        Path dataDir = dir.resolve("donn\u00e9es");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dfile.encoding=ANSI_X3.4-1968", "-cp", System.getProperty("java.class.path"), StackCli.class.getName(),
                "status", "--data-dir", dataDir.toString());
        Process child = pb.redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the stack command did not exit: " + output);
        assertEquals(LocalStack.EXIT_NOT_RUNNING, child.exitValue(), output);
        assertTrue(output.startsWith("Local stack in " + dataDir.toAbsolutePath().normalize() + System.lineSeparator()),
                output);
    }
}
