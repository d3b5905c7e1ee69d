package io.tapline.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class StackOptionsTest {

    @Test
    void shouldUseDefaultPortsAndDataDir() {
        StackOptions options = StackOptions.parse("up");
        assertEquals(StackOptions.Action.UP, options.action());
        assertEquals(9092, options.kafkaPort());
        assertEquals(8081, options.registryPort());
        assertEquals(Path.of(".tapline"), options.dataDir());
    }

    @Test
    void shouldAcceptFlagsWithSeparateOrInlineValues() {
        StackOptions options = StackOptions.parse("up", "--kafka-port", "19092", "--registry-port=18081", "--data-dir", "/tmp/x");
        assertEquals(19092, options.kafkaPort());
        assertEquals(18081, options.registryPort());
        assertEquals(Path.of("/tmp/x"), options.dataDir());
    }

    @Test
    void shouldAcceptDataDirBeforeTheCommand() {
        StackOptions options = StackOptions.parse("--data-dir", "/tmp/y", "status");
        assertEquals(StackOptions.Action.STATUS, options.action());
        assertEquals(Path.of("/tmp/y"), options.dataDir());
    }

    @Test
    void shouldShowAnArgumentItQuotesWithCodes() {
        // before, as given: the escape sequence reached the terminal, the line break started a CI runner's command line
        String hostile = "7\u001b[2J\n::error::x\u202e21\u200b";
        String shown = "7\\u001b[2J\\n::error::x\\u202e21\\u200b";
        assertEquals("unknown command " + shown + "; allowed commands: up, down, status, --help",
                assertThrows(StackOptions.UsageException.class, () -> StackOptions.parse(hostile)).getMessage());
        assertTrue(assertThrows(StackOptions.UsageException.class, () -> StackOptions.parse("up", "--" + hostile))
                .getMessage().startsWith("unknown option --" + shown + "; "));
        assertEquals("--kafka-port must be a port number 1-65535, got '" + shown + "'",
                assertThrows(StackOptions.UsageException.class, () -> StackOptions.parse("up", "--kafka-port", hostile)).getMessage());
    }

    @Test
    void shouldNameTheFlagAndAllowedRangeForABadPort() {
        var e = assertThrows(StackOptions.UsageException.class, () -> StackOptions.parse("up", "--kafka-port", "abc"));
        assertTrue(e.getMessage().contains("--kafka-port"), e.getMessage());
        assertTrue(e.getMessage().contains("1-65535"), e.getMessage());
        var outOfRange = assertThrows(StackOptions.UsageException.class, () -> StackOptions.parse("up", "--registry-port=70000"));
        assertTrue(outOfRange.getMessage().contains("--registry-port"), outOfRange.getMessage());
    }

    @Test
    void shouldListAllowedOptionsForAnUnknownFlag() {
        var e = assertThrows(StackOptions.UsageException.class, () -> StackOptions.parse("up", "--kafka"));
        assertTrue(e.getMessage().contains("--kafka"), e.getMessage());
        assertTrue(e.getMessage().contains("--kafka-port N, --registry-port N, --data-dir DIR"), e.getMessage());
    }

    @Test
    void shouldListAllowedCommandsForAnUnknownOrMissingCommand() {
        var unknown = assertThrows(StackOptions.UsageException.class, () -> StackOptions.parse("start"));
        assertTrue(unknown.getMessage().contains("start") && unknown.getMessage().contains("up, down, status"), unknown.getMessage());
        var missing = assertThrows(StackOptions.UsageException.class, () -> StackOptions.parse());
        assertTrue(missing.getMessage().contains("up, down, status"), missing.getMessage());
    }

    @Test
    void shouldRejectAMissingFlagValue() {
        var e = assertThrows(StackOptions.UsageException.class, () -> StackOptions.parse("up", "--kafka-port"));
        assertTrue(e.getMessage().contains("--kafka-port needs a value"), e.getMessage());
    }

    @Test
    void shouldRejectPortsForCommandsOtherThanUp() {
        var e = assertThrows(StackOptions.UsageException.class, () -> StackOptions.parse("down", "--kafka-port", "1234"));
        assertTrue(e.getMessage().contains("only allowed with up"), e.getMessage());
    }

    @Test
    void shouldRejectTheSamePortForKafkaAndRegistry() {
        var e = assertThrows(StackOptions.UsageException.class,
                () -> StackOptions.parse("up", "--kafka-port", "9000", "--registry-port", "9000"));
        assertTrue(e.getMessage().contains("must differ"), e.getMessage());
    }

    @Test
    void shouldRecogniseHelp() {
        assertEquals(StackOptions.Action.HELP, StackOptions.parse("--help").action());
        assertEquals(StackOptions.Action.HELP, StackOptions.parse("up", "--help").action());
    }
}
