package io.tapline.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A value an operator gave (a flag, a {@code TAPLINE_*} variable, a key or value of the {@code --config} file, the
 * file's name) is quoted in an error with its control characters, line breaks, bidirectional controls and invisible
 * characters as codes: the message can neither rewrite the terminal, nor start a line a CI runner reads as a command,
 * nor be reordered, nor hide a character.
 */
class ConfigErrorEchoTest {

    /** Clears the screen, starts a GitHub Actions command line, reverses what follows, hides a character. */
    private static final String HOSTILE = "7\u001b[2J\n::error::x\u202e21\u200b";
    private static final String SHOWN = "7\\u001b[2J\\n::error::x\\u202e21\\u200b";

    private static final ConfigSpec SPEC = ConfigSpec.builder("tapline thing", "Does a thing.")
            .option("listen", "8080", "Port to listen on.")
            .option("ratio", "0.5", "A share.")
            .option("grace", "250ms", "Grace period.")
            .option("topic.cases", "tapline.cases", "Cases.")
            .choice("format", "text", "Report format.", "text", "junit", "html")
            .flag("dry.run", "Do nothing.")
            .prefix("kafka.producer.", "Passed to the Kafka producer.")
            .build();

    @Test
    void aBadNumberShowsTheValueWithCodesWhereverItWasSet(@TempDir Path dir) throws IOException {
        assertShown("option --listen: '" + SHOWN + "' is not a whole number",
                () -> load("--listen", HOSTILE).getInt("listen"));
        assertShown("option --listen (set by TAPLINE_LISTEN): '" + SHOWN + "' is not a whole number",
                () -> TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_LISTEN", HOSTILE)).getInt("listen"));
        Path file = dir.resolve("t.properties");
        Files.writeString(file, "ratio=" + SHOWN + "\n"); // the file's escapes are read as the characters
        assertShown("option --ratio (set in " + file + "): '" + SHOWN + "' is not a number",
                () -> TaplineConfig.load(SPEC, new String[] {"--config", file.toString()}, Map.of()).getDouble("ratio"));
    }

    @Test
    void aBadDurationShowsTheValueWithCodes() {
        assertShown("option --grace: '" + SHOWN + "' is not a duration like 250ms, 30s, 5m, 24h or 7d",
                () -> load("--grace", HOSTILE).getDuration("grace"));
        assertShown("option --grace: '" + SHOWN + "s' is not a duration like 250ms, 30s, 5m, 24h or 7d",
                () -> load("--grace", HOSTILE + "s").getDuration("grace"));
    }

    @Test
    void aValueOutsideTheAllowedValuesShowsItWithCodes() {
        assertShown("option --format: '" + SHOWN + "' is not allowed; allowed values: text, junit, html",
                () -> load("--format", HOSTILE));
        assertShown("option --format (set by TAPLINE_FORMAT): '" + SHOWN + "' is not allowed; allowed values: text, junit, html",
                () -> TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_FORMAT", HOSTILE)));
        assertShown("option --dry-run: '" + SHOWN + "' is not allowed; allowed values: true, false",
                () -> load("--dry-run=" + HOSTILE));
    }

    @Test
    void anUnknownOptionOrKeyShowsItsNameWithCodes(@TempDir Path dir) throws IOException {
        assertShown("unknown option --" + SHOWN + " for tapline thing; options are: --listen, --ratio, --grace, --topic-cases,"
                + " --format, --dry-run, --kafka.producer.<name>", () -> load("--" + HOSTILE));
        Path file = dir.resolve("t.properties");
        Files.writeString(file, SHOWN.replace(":", "\\:") + "=1\n"); // \: a colon of the key, not its end
        assertShown("unknown key '" + SHOWN + "' in config file " + file + "; keys are: listen, ratio, grace, topic.cases,"
                + " format, dry.run, kafka.producer.", () -> load("--config", file.toString()));
    }

    @Test
    void theConfigFilesNameIsShownWithCodes(@TempDir Path dir) {
        Path missing = dir.resolve(HOSTILE);
        assertShown("option --config: no such file: " + dir + "/" + SHOWN, () -> load("--config", missing.toString()));
        assertShown("option --config given twice (a, " + SHOWN + "); one file is read, so put every key in it",
                () -> load("--config", "a", "--config", HOSTILE));
    }

    @Test
    void whatTheKafkaClientSaysOfAValueAndABadTopicNameShowTheValueWithCodes() {
        assertShown("option --kafka.producer.linger.ms: Invalid value " + SHOWN + " for configuration linger.ms: Not a number"
                + " of type LONG", () -> load("--kafka.producer.linger.ms=" + HOSTILE)
                .checkClientSettings("kafka.producer.", org.apache.kafka.clients.producer.ProducerConfig.configDef()));
        ConfigException topic = assertThrows(ConfigException.class, () -> load("--topic-cases", HOSTILE).getTopic("topic.cases"));
        assertTrue(topic.getMessage().startsWith("option --topic-cases: '" + SHOWN + "' is not a topic name: "), topic.getMessage());
        assertNothingRaw(topic.getMessage());
    }

    @Test
    void aVariableNoCommandHasIsNamedWithCodes() {
        List<String> warnings = TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_" + HOSTILE, "1")).unreadVariables();
        assertEquals(List.of("TAPLINE_" + SHOWN + " is ignored: no Tapline command has that setting"), warnings);
    }

    @Test
    void aMessageBuiltAnywhereHoldsNoRawCharacter() {
        // a component's own check (a port, a URL, a rule) and a parser's message quoted in one
        assertEquals("option --egress: '" + SHOWN + "' is not NAME=URL: " + SHOWN,
                new ConfigException("option --egress: '" + HOSTILE + "' is not NAME=URL: " + HOSTILE).getMessage());
        assertEquals("option --x: " + SHOWN, new ConfigException("option --x: " + HOSTILE, new RuntimeException()).getMessage());
        assertEquals("already shown: " + SHOWN, new ConfigException("already shown: " + SHOWN).getMessage());
    }

    private static TaplineConfig load(String... args) {
        return TaplineConfig.load(SPEC, args, Map.of());
    }

    private static void assertShown(String expected, Executable failing) {
        String message = assertThrows(ConfigException.class, failing).getMessage();
        assertEquals(expected, message);
        assertNothingRaw(message);
    }

    private static void assertNothingRaw(String message) {
        for (char raw : new char[] {'\u001b', '\n', '\r', '\u202e', '\u200b'}) {
            assertFalse(message.indexOf(raw) >= 0, "raw U+" + Integer.toHexString(raw) + " in " + message);
        }
    }
}
