package io.tapline.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

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
}
