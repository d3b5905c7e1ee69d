package io.tapline.config;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaplineConfigTest {

    private static final ConfigSpec SPEC = ConfigSpec.builder("tapline thing", "Does a thing.")
            .option("listen", "8080", "Port to listen on.")
            .option("capture.max.body.bytes", "65536", "Capture cap.")
            .option("grace", "250ms", "Grace period.")
            .secret("redaction.key", "", "HMAC key.")
            .choice("format", "text", "Report format.", "text", "junit", "html")
            .multi("egress", "Named egress route name=url.")
            .flag("dry.run", "Do nothing.")
            .prefix("kafka.producer.", "Passed to the Kafka producer.")
            .build();

    @Test
    void defaultsApplyWhenNothingIsGiven() {
        TaplineConfig config = TaplineConfig.load(SPEC, new String[0], Map.of());
        assertEquals(8080, config.getInt("listen"));
        assertEquals(Duration.ofMillis(250), config.getDuration("grace"));
        assertFalse(config.getBoolean("dry.run"));
        assertEquals(List.of(), config.getList("egress"));
    }

    @Test
    void flagsOverrideEnvironmentWhichOverridesTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tapline.properties");
        Files.writeString(file, "listen=1111\ncapture.max.body.bytes=10\nformat=html\n");
        Map<String, String> env = Map.of("TAPLINE_LISTEN", "2222", "TAPLINE_CAPTURE_MAX_BODY_BYTES", "20");
        TaplineConfig config = TaplineConfig.load(SPEC, new String[] {"--config", file.toString(), "--listen", "3333"}, env);
        assertEquals(3333, config.getInt("listen"));
        assertEquals(20, config.getLong("capture.max.body.bytes"));
        assertEquals("html", config.get("format"));
    }

    @Test
    void anUnreadableConfigFileIsNamedWithWhatIsWrongWithIt(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("missing.properties");
        assertEquals("option --config: no such file: " + missing, configError(missing));
        assertTrue(configError(dir).startsWith("option --config: cannot read " + dir + ": "), "a directory: " + configError(dir));
        Path latin1 = dir.resolve("latin1.properties");
        Files.write(latin1, new byte[] {'a', '=', (byte) 0xE9, '\n'});
        assertEquals("option --config: " + latin1 + " is not UTF-8 text", configError(latin1));
        Path escape = dir.resolve("escape.properties");
        Files.writeString(escape, "a=\\uZZZZ\n");
        assertTrue(configError(escape).startsWith("option --config: " + escape + ": Malformed"), configError(escape));
    }

    @Test
    void aBadValueFromTheEnvironmentOrTheFileSaysWhereItWasSet(@TempDir Path dir) throws IOException {
        TaplineConfig fromEnv = TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_LISTEN", "eighty"));
        assertEquals("option --listen (set by TAPLINE_LISTEN): 'eighty' is not a whole number",
                assertThrows(ConfigException.class, () -> fromEnv.getInt("listen")).getMessage());
        Path file = dir.resolve("t.properties");
        Files.writeString(file, "listen=eighty\n");
        TaplineConfig fromFile = TaplineConfig.load(SPEC, new String[] {"--config", file.toString()}, Map.of());
        assertEquals("option --listen (set in " + file + "): 'eighty' is not a whole number",
                assertThrows(ConfigException.class, () -> fromFile.getInt("listen")).getMessage());
        TaplineConfig fromFlag = TaplineConfig.load(SPEC, new String[] {"--listen", "eighty"}, Map.of("TAPLINE_LISTEN", "1"));
        assertEquals("option --listen: 'eighty' is not a whole number",
                assertThrows(ConfigException.class, () -> fromFlag.getInt("listen")).getMessage(), "a flag needs no origin");
        assertEquals(" (set by TAPLINE_LISTEN)", fromEnv.origin("listen"));
        assertEquals("", fromFlag.origin("listen"));
    }

    @Test
    void aValueOutsideAChoiceNamesTheAllowedValuesAndWhereItWasSet() {
        ConfigException fromFlag = assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--format", "xml"}, Map.of()));
        assertEquals("option --format: 'xml' is not allowed; allowed values: text, junit, html", fromFlag.getMessage(),
                "a flag needs no origin");
        ConfigException fromEnv = assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_FORMAT", "xml")));
        assertEquals("option --format (set by TAPLINE_FORMAT): 'xml' is not allowed; allowed values: text, junit, html",
                fromEnv.getMessage());
    }

    @Test
    void anEmptyChoiceIsRefusedWithTheAllowedValues() {
        // before, '' passed and each command read it its own way: "No enum constant ..." (exit 3 for replay)
        assertEquals("option --format: '' is not allowed; allowed values: text, junit, html", assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--format="}, Map.of())).getMessage());
        assertEquals("option --format (set by TAPLINE_FORMAT): '' is not allowed; allowed values: text, junit, html",
                assertThrows(ConfigException.class,
                        () -> TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_FORMAT", ""))).getMessage());
    }

    @Test
    void aDurationWithoutAUnitIsRefusedWithHowToWriteItWhereverItWasSet(@TempDir Path dir) throws IOException {
        TaplineConfig fromFlag = TaplineConfig.load(SPEC, new String[] {"--grace", "24"}, Map.of());
        assertEquals("option --grace: '24' has no unit; write it with one: 24ms, 24s, 24m, 24h or 24d",
                assertThrows(ConfigException.class, () -> fromFlag.getDuration("grace")).getMessage());
        TaplineConfig fromEnv = TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_GRACE", "7"));
        assertEquals("option --grace (set by TAPLINE_GRACE): '7' has no unit; write it with one: 7ms, 7s, 7m, 7h or 7d",
                assertThrows(ConfigException.class, () -> fromEnv.getDuration("grace")).getMessage());
        Path file = dir.resolve("t.properties");
        Files.writeString(file, "grace=250\n");
        TaplineConfig fromFile = TaplineConfig.load(SPEC, new String[] {"--config", file.toString()}, Map.of());
        assertEquals("option --grace (set in " + file + "): '250' has no unit; write it with one: 250ms, 250s, 250m, 250h or 250d",
                assertThrows(ConfigException.class, () -> fromFile.getDuration("grace")).getMessage());
    }

    @Test
    void aBareZeroIsAZeroDurationAndClientSettingsKeepTheirBareMilliseconds() {
        assertEquals(Duration.ZERO, TaplineConfig.load(SPEC, new String[] {"--grace", "0"}, Map.of()).getDuration("grace"));
        assertEquals(Duration.ofSeconds(90), TaplineConfig.load(SPEC, new String[] {"--grace", "90S"}, Map.of()).getDuration("grace"));
        TaplineConfig client = TaplineConfig.load(SPEC, new String[] {"--kafka.producer.linger.ms", "20"},
                Map.of("TAPLINE_KAFKA_PRODUCER_DELIVERY_TIMEOUT_MS", "30000"));
        assertEquals(Map.of("linger.ms", "20", "delivery.timeout.ms", "30000"), client.subset("kafka.producer."));
        assertEquals("option --grace: 'soon' is not a duration like 250ms, 30s, 5m, 24h or 7d", assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--grace", "soon"}, Map.of()).getDuration("grace")).getMessage());
    }

    private static String configError(Path file) {
        return assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--config", file.toString()}, Map.of())).getMessage();
    }

    @Test
    void aWholeNumberIsReadWithoutTheBlanksAroundItAsDurationsAndDecimalsAre() {
        // a value quoted with a space in a manifest or a properties line with a trailing blank
        TaplineConfig config = TaplineConfig.load(SPEC, new String[0],
                Map.of("TAPLINE_LISTEN", " 8080 ", "TAPLINE_GRACE", " 2s"));
        assertEquals(8080, config.getInt("listen"));
        assertEquals(Duration.ofSeconds(2), config.getDuration("grace"));
        TaplineConfig inside = TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_LISTEN", "80 80"));
        assertEquals("option --listen (set by TAPLINE_LISTEN): '80 80' is not a whole number",
                assertThrows(ConfigException.class, () -> inside.getInt("listen")).getMessage());
    }

    @Test
    void acceptsDashedAndDottedFlagsWithSpaceOrEquals() {
        TaplineConfig config = TaplineConfig.load(SPEC, new String[] {
            "--capture-max-body-bytes=5", "--kafka.producer.linger.ms", "20", "--dry-run", "--grace", "2s"}, Map.of());
        assertEquals(5, config.getLong("capture.max.body.bytes"));
        assertEquals(Map.of("linger.ms", "20"), config.subset("kafka.producer."));
        assertTrue(config.getBoolean("dry.run"));
        assertEquals(Duration.ofSeconds(2), config.getDuration("grace"));
    }

    @Test
    void repeatedMultiOptionCollectsEveryValue() {
        TaplineConfig config = TaplineConfig.load(SPEC,
                new String[] {"--egress", "inventory=http://a:1", "--egress", "pricing=http://b:2"}, Map.of());
        assertEquals(List.of("inventory=http://a:1", "pricing=http://b:2"), config.getList("egress"));
    }

    @Test
    void aCommaInARepeatableValueIsWrittenBackslashCommaWhereverItIsSet(@TempDir Path dir) throws IOException {
        // a list in one value is still split on its commas; \, is a comma within a value, in a flag, a variable or the file
        assertEquals(List.of("a=http://x/p,q", "b=http://y"), TaplineConfig.load(SPEC, new String[0],
                Map.of("TAPLINE_EGRESS", "a=http://x/p\\,q, b=http://y")).getList("egress"));
        assertEquals(List.of("a=http://x/p,q", "b=http://y", "c=http://z"), TaplineConfig.load(SPEC,
                new String[] {"--egress", "a=http://x/p\\,q,b=http://y", "--egress", "c=http://z"}, Map.of()).getList("egress"));
        Path file = dir.resolve("t.properties");
        Files.writeString(file, "egress=a=http://x/p\\\\,q,b=http://y\n"); // \\ is one backslash in a properties file
        assertEquals(List.of("a=http://x/p,q", "b=http://y"), TaplineConfig.load(SPEC,
                new String[] {"--config", file.toString()}, Map.of()).getList("egress"));
    }

    @Test
    void aBackslashThatEndsARepeatableValueIsWrittenTwiceBeforeItsComma() {
        // \\, is a backslash, then the comma between two values (it was read as a backslash and a comma within one
        // value, so a value could not end in a backslash); \\\, a backslash and a comma within the value
        assertEquals(List.of("a\\", "b"), TaplineConfig.load(SPEC, new String[0],
                Map.of("TAPLINE_EGRESS", "a\\\\,b")).getList("egress"));
        assertEquals(List.of("a\\,b"), TaplineConfig.load(SPEC, new String[0],
                Map.of("TAPLINE_EGRESS", "a\\\\\\,b")).getList("egress"));
        // backslashes not before a comma are kept as written: a regex's \d and \\ mean what they did
        assertEquals(List.of("zip=\\d{5,9}", "path=C:\\\\x"), TaplineConfig.load(SPEC, new String[0],
                Map.of("TAPLINE_EGRESS", "zip=\\d{5\\,9},path=C:\\\\x")).getList("egress"));
    }

    @Test
    void aValueGivenWholePairsBackslashesBeforeACommaAndKeepsEveryComma() {
        // as split pairs them, but each comma stays the value's: n of 2n or 2n+1 backslashes, then the comma
        assertEquals("a,b", ConfigSpec.unescapeCommas("a,b"));
        assertEquals("a,b", ConfigSpec.unescapeCommas("a\\,b"));
        assertEquals("a\\,b", ConfigSpec.unescapeCommas("a\\\\,b"));
        assertEquals("a\\,b", ConfigSpec.unescapeCommas("a\\\\\\,b"));
        assertEquals("a\\\\,b", ConfigSpec.unescapeCommas("a\\\\\\\\,b"));
        // backslashes elsewhere are kept, also at the end
        assertEquals("\\d{5}\\\\x\\", ConfigSpec.unescapeCommas("\\d{5}\\\\x\\"));
    }

    @Test
    void aRepeatedOptionKeepsEachFlagWholeCommasIncluded() {
        ConfigSpec spec = ConfigSpec.builder("tapline thing", "Does a thing.")
                .repeated("header", "Header 'Name: value'.").build();
        TaplineConfig flags = TaplineConfig.load(spec, new String[] {"--header", "Accept: a, b", "--header=X-Sig: a=1, b=2"}, Map.of());
        assertEquals(List.of("Accept: a, b", "X-Sig: a=1, b=2"), flags.getList("header"));
        // one variable holds the list: its commas separate values, \, is one within a value
        TaplineConfig env = TaplineConfig.load(spec, new String[0], Map.of("TAPLINE_HEADER", "Accept: a\\, b,X-Id: 7"));
        assertEquals(List.of("Accept: a, b", "X-Id: 7"), env.getList("header"));
        assertTrue(spec.help().contains("each --header is one value, commas included"), spec.help());
    }

    @Test
    void aDurationTooLongForTheClocksIsRefusedNamingItsFlag() {
        // 9999999999999d passed: a command failed later, once Kafka was reached, with an ArithmeticException
        TaplineConfig config = TaplineConfig.load(SPEC, new String[] {"--grace", "9999999999999d"}, Map.of());
        assertEquals("option --grace: '9999999999999d' is longer than 106751d, the longest duration taken",
                assertThrows(ConfigException.class, () -> config.getDuration("grace")).getMessage());
        assertEquals(Duration.ofDays(106_751), TaplineConfig.load(SPEC, new String[] {"--grace", "106751d"}, Map.of())
                .getDuration("grace"));
    }

    @Test
    void aTopicNameIsCheckedAsTheBrokersCheckIt() {
        ConfigSpec spec = ConfigSpec.builder("tapline thing", "Does a thing.").option("topic.cases", "tapline.cases", "Cases.").build();
        assertEquals("tapline.cases", TaplineConfig.load(spec, new String[0], Map.of()).getTopic("topic.cases"));
        for (String bad : new String[] {"", "a b", ".."}) {
            TaplineConfig config = TaplineConfig.load(spec, new String[0], Map.of("TAPLINE_TOPIC_CASES", bad));
            String message = assertThrows(ConfigException.class, () -> config.getTopic("topic.cases")).getMessage();
            assertTrue(message.startsWith("option --topic-cases (set by TAPLINE_TOPIC_CASES): '" + bad + "' is not a topic name: "),
                    message);
        }
    }

    private static final ConfigSpec KAFKA = ConfigSpec.builder("tapline thing", "Does a thing.")
            .option("kafka.bootstrap.servers", "127.0.0.1:9092", "Brokers.").build();

    /**
     * Each of these was passed to the Kafka clients as given: the first five failed there ("Failed to construct kafka
     * consumer", its reason in a cause; "must not be empty"), {@code :9092} was read as the local host's port 9092, a
     * URL's scheme was dropped unread, so {@code http://} or {@code SASL_SSL://} in front of a broker changed nothing.
     */
    @Test
    void aBootstrapListNotOfHostPortIsRefusedNamingTheOptionTheValueAndTheForm(@TempDir Path dir) throws IOException {
        String[][] bad = {
                {"localhost", "'localhost' is not host:port: no port"},
                {"host:notaport", "'host:notaport' is not host:port: port 'notaport' is not a number 1-65535"},
                {"host:0", "'host:0' is not host:port: port '0' is not a number 1-65535"},
                {"host:65536", "'host:65536' is not host:port: port '65536' is not a number 1-65535"},
                {"host:", "'host:' is not host:port: no port"},
                {":9092", "':9092' is not host:port: no host"},
                {"http://host:9092", "'http://host:9092' is not host:port: a URL; give host:port without 'http://'"},
                {"SASL_SSL://kafka:9093", "'SASL_SSL://kafka:9093' is not host:port: a URL; give host:port without 'SASL_SSL://'"},
                {"bad host:9092", "'bad host:9092' is not host:port: 'bad host' is not a host name or IP address"},
                {"kafka:9092/x", "'kafka:9092/x' is not host:port: port '9092/x' is not a number 1-65535"},
                {"[::1:9092", "'[::1:9092' is not host:port: no ']' after the IPv6 address"},
                {"[kafka]:9092", "'[kafka]:9092' is not host:port: [kafka] is not an IPv6 address"},
                {"[1::2::3]:9092", "'[1::2::3]:9092' is not host:port: [1::2::3] is not an IPv6 address"},
                {"[12345::1]:9092", "'[12345::1]:9092' is not host:port: [12345::1] is not an IPv6 address"},
                {"[1:2:3:4:5:6:7:8:9]:9092", "[1:2:3:4:5:6:7:8:9] is not an IPv6 address"},
                {"[::ffff:256.0.0.1]:9092", "[::ffff:256.0.0.1] is not an IPv6 address"},
                {"[1.2.3.4]:9092", "[1.2.3.4] is not an IPv6 address"},
                {"1::2::3:9092", "'1::2::3:9092' is not host:port: '1::2::3' is not a host name or IP address"},
                {"kafka..svc:9092", "'kafka..svc:9092' is not host:port: 'kafka..svc' is not a host name or IP address"},
                {"kafka:9092,kafka-2", "'kafka-2' is not host:port (in 'kafka:9092,kafka-2'): no port"},
                {"", "must name at least one broker, got ''"},
                {" , ", "must name at least one broker, got ' , '"},
                {"kafka:9092,", "'kafka:9092,' has an empty entry (a comma at an end, or two in a row)"},
                {"kafka:9092,,kafka-1:9092", "has an empty entry"},
        };
        for (String[] c : bad) {
            TaplineConfig config = TaplineConfig.load(KAFKA, new String[] {"--kafka-bootstrap-servers", c[0]}, Map.of());
            String message = assertThrows(ConfigException.class, () -> config.getBootstrapServers("kafka.bootstrap.servers"),
                    c[0]).getMessage();
            assertTrue(message.startsWith("option --kafka-bootstrap-servers: ") && message.contains(c[1])
                    && message.contains("host:port[,host:port...], e.g. kafka-0.kafka:9092"), message);
        }
        TaplineConfig fromEnv = TaplineConfig.load(KAFKA, new String[0], Map.of("TAPLINE_KAFKA_BOOTSTRAP_SERVERS", "kafka"));
        assertTrue(assertThrows(ConfigException.class, () -> fromEnv.getBootstrapServers("kafka.bootstrap.servers")).getMessage()
                .startsWith("option --kafka-bootstrap-servers (set by TAPLINE_KAFKA_BOOTSTRAP_SERVERS): 'kafka' is not host:port"));
        Path file = dir.resolve("t.properties");
        Files.writeString(file, "kafka.bootstrap.servers=kafka\n");
        TaplineConfig fromFile = TaplineConfig.load(KAFKA, new String[] {"--config", file.toString()}, Map.of());
        assertTrue(assertThrows(ConfigException.class, () -> fromFile.getBootstrapServers("kafka.bootstrap.servers")).getMessage()
                .startsWith("option --kafka-bootstrap-servers (set in " + file + "): 'kafka' is not host:port"));
        // shown with codes, as every value a ConfigException quotes
        TaplineConfig hostile = TaplineConfig.load(KAFKA, new String[] {"--kafka-bootstrap-servers", "k\u202e:9092\u200b"}, Map.of());
        assertEquals("option --kafka-bootstrap-servers: 'k\\u202e:9092\\u200b' is not host:port: 'k\\u202e' is not a host name"
                + " or IP address; expected host:port[,host:port...], e.g. kafka-0.kafka:9092,kafka-1.kafka:9092 or [::1]:9092",
                assertThrows(ConfigException.class, () -> hostile.getBootstrapServers("kafka.bootstrap.servers")).getMessage());
    }

    @Test
    void aBootstrapListIsCheckedInFormOnlySoANameNotYetInDnsIsTaken() {
        for (String good : new String[] {"127.0.0.1:9092", "kafka-0.kafka.svc.cluster.local.:9092", "not-yet-in-dns.invalid:9092",
                "kafka_broker:9092", "kafka-0.kafka:9092, kafka-1.kafka:9092 ", "[::1]:9092", "[2001:db8::5]:9093", "::1:9092",
                "[::ffff:10.0.0.5]:9092", "KAFKA:09092",
                "[1:2:3:4:5:6:7:8]:9092", "[::1.2.3.4]:9092", "1::2:3:9092", "[FE80::1]:9092"}) {
            TaplineConfig config = TaplineConfig.load(KAFKA, new String[] {"--kafka-bootstrap-servers", good}, Map.of());
            assertEquals(good, config.getBootstrapServers("kafka.bootstrap.servers"), good);
        }
        assertEquals("127.0.0.1:9092", TaplineConfig.load(KAFKA, new String[0], Map.of()).getBootstrapServers("kafka.bootstrap.servers"));
    }

    @Test
    void aPassThroughPrefixWithoutASettingNameIsRefused(@TempDir Path dir) throws IOException {
        // it was accepted and ignored: the setting meant was never made (TAPLINE_KAFKA_PRODUCER_ alone is warned of, as
        // a variable no command has, and ignored, below)
        assertEquals("option --kafka.producer.: a Kafka client setting's name must follow: --kafka.producer.<name>",
                assertThrows(ConfigException.class, () -> TaplineConfig.load(SPEC, new String[] {"--kafka.producer.=5"}, Map.of()))
                        .getMessage());
        Path file = dir.resolve("t.properties");
        Files.writeString(file, "kafka.producer.=5\n");
        assertTrue(assertThrows(ConfigException.class, () -> TaplineConfig.load(SPEC, new String[] {"--config", file.toString()},
                Map.of())).getMessage().startsWith("option --kafka.producer. (set in " + file + "): "));
    }

    @Test
    void helpAnywhereShowsTheHelpWhateverElseIsWrong() {
        // --bogus --help reported the unknown flag; a bad variable or a flag missing its value did too
        for (String[] args : new String[][] {{"--bogus", "--help"}, {"--listen", "--help"}, {"-h", "--format", "pdf"},
                {"stray", "--help"}}) {
            TaplineConfig config = TaplineConfig.load(SPEC, args, Map.of("TAPLINE_FORMAT", "pdf"));
            assertTrue(config.helpRequested(), String.join(" ", args));
        }
    }

    @Test
    void minusHAsAnOptionsValueIsThatValueNotTheHelp() {
        // before --help anywhere, '--grace -h' read -h as the value (as the parser still does); then it showed the help
        TaplineConfig config = TaplineConfig.load(SPEC, new String[] {"--redaction-key", "-h", "--kafka.producer.client.id", "-h"},
                Map.of());
        assertFalse(config.helpRequested());
        assertEquals("-h", config.get("redaction.key"));
        assertEquals(Map.of("client.id", "-h"), config.subset("kafka.producer."));
        // after a flag that takes no value, or alone, it is the help
        assertTrue(TaplineConfig.load(SPEC, new String[] {"--dry-run", "-h"}, Map.of()).helpRequested());
        assertTrue(TaplineConfig.load(SPEC, new String[] {"--listen=1", "-h"}, Map.of()).helpRequested());
    }

    @Test
    void environmentPassesPrefixedClientSettingsThrough() {
        TaplineConfig config = TaplineConfig.load(SPEC, new String[0],
                Map.of("TAPLINE_KAFKA_PRODUCER_COMPRESSION_TYPE", "zstd", "TAPLINE_UNRELATED_THING", "x"));
        assertEquals(Map.of("compression.type", "zstd"), config.subset("kafka.producer."));
    }

    @Test
    void aVariableNoCommandHasIsNamedWithTheClosestOneAndOneOfAnotherCommandIsNot() {
        TaplineConfig config = TaplineConfig.load(SPEC, new String[0], Map.of(
                // this command's, another command's (replay's target, the demo's requests), Kafka's
                "TAPLINE_LISTEN", "1", "TAPLINE_TARGET", "http://candidate",
                "TAPLINE_REQUESTS", "100", "TAPLINE_KAFKA_CONSUMER_MAX_POLL_RECORDS", "10",
                // misspelt, one letter short and two transposed; unlike anything; a prefix misspelt; the prefix alone
                "TAPLINE_CAPTURE_MAX_BODY_BYTE", "1024", "TAPLINE_SAMPLNIG_RATE", "5", "TAPLINE_UNRELATED_THING", "x",
                "TAPLINE_KAFKA_PRODUCERS_ACKS", "all", "TAPLINE_KAFKA_PRODUCER_", "x", "OTHER_CAPTURE_MAX_BODY_BYTE", "1"));
        assertEquals(List.of(
                "TAPLINE_CAPTURE_MAX_BODY_BYTE is ignored: no Tapline command has that setting "
                        + "(did you mean TAPLINE_CAPTURE_MAX_BODY_BYTES?)",
                "TAPLINE_KAFKA_PRODUCERS_ACKS is ignored: no Tapline command has that setting",
                "TAPLINE_KAFKA_PRODUCER_ is ignored: no Tapline command has that setting",
                "TAPLINE_SAMPLNIG_RATE is ignored: no Tapline command has that setting (did you mean TAPLINE_SAMPLING_RATE?)",
                "TAPLINE_UNRELATED_THING is ignored: no Tapline command has that setting"), config.unreadVariables());
        assertEquals(List.of(), TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_LISTEN", "1")).unreadVariables());
    }

    @Test
    void editDistanceCountsInsertionsDeletionsAndSubstitutionsAndStopsAtTheLimit() {
        assertEquals(0, TaplineVariables.distance("ABC", "ABC", 3));
        assertEquals(1, TaplineVariables.distance("ABC", "ABCD", 3));
        assertEquals(2, TaplineVariables.distance("SAMPLNIG", "SAMPLING", 3));
        assertEquals(3, TaplineVariables.distance("KITTEN", "SITTING", 4));
        assertTrue(TaplineVariables.distance("AAAAAAAA", "BBBBBBBB", 2) >= 2);
    }

    @Test
    void unknownFlagNamesTheFlagAndTheOptions() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--lisen", "1"}, Map.of()));
        assertTrue(e.getMessage().contains("--lisen"), e.getMessage());
        assertTrue(e.getMessage().contains("--listen"), e.getMessage());
    }

    @Test
    void aMisspeltFlagOrFileKeyNamesTheClosestOption(@TempDir Path dir) throws IOException {
        // the variables had it; a flag or a key left the user to find it among every option
        String flag = assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--capture-max-body-byte", "1"}, Map.of())).getMessage();
        assertTrue(flag.startsWith("unknown option --capture-max-body-byte for tapline thing (did you mean"
                + " --capture-max-body-bytes?); options are: --listen, "), flag);
        assertTrue(assertThrows(ConfigException.class, () -> TaplineConfig.load(SPEC, new String[] {"--dryrun"}, Map.of()))
                .getMessage().contains("(did you mean --dry-run?)"));
        String unrelated = assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--bogus", "1"}, Map.of())).getMessage();
        assertFalse(unrelated.contains("did you mean"), unrelated);
        Path file = Files.writeString(dir.resolve("thing.properties"), "capture.max.body.byte=1\n");
        String key = assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--config", file.toString()}, Map.of())).getMessage();
        assertTrue(key.startsWith("unknown key 'capture.max.body.byte' in config file " + file
                + " (did you mean capture.max.body.bytes?); keys are: "), key);
    }

    @Test
    void choiceOutsideTheAllowedValuesNamesTheFlagAndAllowedValues() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--format", "pdf"}, Map.of()));
        assertTrue(e.getMessage().contains("--format"), e.getMessage());
        assertTrue(e.getMessage().contains("text, junit, html"), e.getMessage());
    }

    @Test
    void malformedNumberNamesTheFlag() {
        TaplineConfig config = TaplineConfig.load(SPEC, new String[] {"--listen", "eighty"}, Map.of());
        ConfigException e = assertThrows(ConfigException.class, () -> config.getInt("listen"));
        assertTrue(e.getMessage().contains("--listen") && e.getMessage().contains("eighty"), e.getMessage());
    }

    @Test
    void anEmptyValueOfAnOptionWithADefaultIsNamedWhereItWasSetNotCalledMissing(@TempDir Path dir) throws IOException {
        // it was "missing required option --listen (env TAPLINE_LISTEN)" wherever the empty value came from
        String expected = ": the value is empty; give one, or leave the option out for its default (8080)";
        assertEquals("option --listen" + expected, assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--listen="}, Map.of()).getInt("listen")).getMessage());
        assertEquals("option --listen (set by TAPLINE_LISTEN)" + expected, assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_LISTEN", "")).getInt("listen")).getMessage());
        Path file = Files.writeString(dir.resolve("thing.properties"), "grace=\n");
        assertEquals("option --grace (set in " + file + "): the value is empty; give one, or leave the option out for its"
                + " default (250ms)", assertThrows(ConfigException.class, () -> TaplineConfig.load(SPEC,
                new String[] {"--config", file.toString()}, Map.of()).getDuration("grace")).getMessage());
        ConfigSpec required = ConfigSpec.builder("tapline thing", "Does a thing.").option("port", "", "Port.").build();
        assertEquals("missing required option --port (env TAPLINE_PORT)", assertThrows(ConfigException.class,
                () -> TaplineConfig.load(required, new String[0], Map.of()).getInt("port")).getMessage());
    }

    @Test
    void flagWithoutValueIsAnError() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--listen"}, Map.of()));
        assertTrue(e.getMessage().contains("--listen needs a value"), e.getMessage());
    }

    @Test
    void anEmptyConfigFileNameIsRefusedAsSuch() {
        // it was read as the working directory: "option --config: cannot read : Is a directory"
        for (String[] args : new String[][] {{"--config="}, {"--config", ""}, {"--config", " "}}) {
            assertEquals("option --config needs a file name", assertThrows(ConfigException.class,
                    () -> TaplineConfig.load(SPEC, args, Map.of())).getMessage());
        }
    }

    @Test
    void aSecondConfigFileIsRefusedNotReadInPlaceOfTheFirst(@TempDir Path dir) throws IOException {
        // the second replaced the first: a base file's keys were dropped without a word
        Path base = Files.writeString(dir.resolve("base.properties"), "listen=9000\n");
        Path more = Files.writeString(dir.resolve("more.properties"), "grace=1s\n");
        assertEquals("option --config given twice (" + base + ", " + more + "); one file is read, so put every key in it",
                assertThrows(ConfigException.class, () -> TaplineConfig.load(SPEC,
                        new String[] {"--config", base.toString(), "--config=" + more}, Map.of())).getMessage());
    }

    @Test
    void unknownKeyInFileNamesTheFileAndKey(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "lissten=1\n");
        ConfigException e = assertThrows(ConfigException.class,
                () -> TaplineConfig.load(SPEC, new String[] {"--config", file.toString()}, Map.of()));
        assertTrue(e.getMessage().contains("lissten") && e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void aClientSettingTheKafkaClientWouldRefuseNamesItsFlagAndNeverQuotesASecret() {
        TaplineConfig config = TaplineConfig.load(SPEC, new String[] {"--kafka.producer.linger.ms=abc"}, Map.of());
        assertEquals("option --kafka.producer.linger.ms: Invalid value abc for configuration linger.ms: Not a number of type LONG",
                assertThrows(ConfigException.class,
                        () -> config.checkClientSettings("kafka.producer.", ProducerConfig.configDef())).getMessage());
        TaplineConfig fromEnv = TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_KAFKA_PRODUCER_ACKS", "some"));
        String acks = assertThrows(ConfigException.class,
                () -> fromEnv.checkClientSettings("kafka.producer.", ProducerConfig.configDef())).getMessage();
        assertTrue(acks.startsWith("option --kafka.producer.acks (set by TAPLINE_KAFKA_PRODUCER_ACKS): Invalid value some"), acks);
        // a secret's value is not quoted, whatever the client says of it
        TaplineConfig secret = TaplineConfig.load(SPEC, new String[] {"--kafka.producer.ssl.keystore.password.x=hunter2"}, Map.of());
        ConfigDef def = new ConfigDef().define("ssl.keystore.password.x", ConfigDef.Type.INT, ConfigDef.Importance.LOW, "");
        String hidden = assertThrows(ConfigException.class,
                () -> secret.checkClientSettings("kafka.producer.", def)).getMessage();
        assertEquals("option --kafka.producer.ssl.keystore.password.x: not a value the Kafka client takes for ssl.keystore.password.x",
                hidden);
        // valid values and names the client does not define (it warns of those itself) pass
        TaplineConfig fine = TaplineConfig.load(SPEC, new String[] {"--kafka.producer.linger.ms=5", "--kafka.producer.no.such=x"},
                Map.of());
        fine.checkClientSettings("kafka.producer.", ProducerConfig.configDef());
        assertEquals(Map.of("linger.ms", "5", "no.such", "x"), fine.subset("kafka.producer."));
    }

    @Test
    void aClientSettingTheClientReadsFromAConfigProviderIsLeftToTheClient(@TempDir Path dir) throws IOException {
        // ${file:...} is resolved by the client's config provider before it parses the value: refused here, a setup the
        // client takes (a security protocol or a number kept in a mounted file) stopped every command at start
        Path file = dir.resolve("kafka.properties");
        Files.writeString(file, "protocol=SASL_SSL\nlinger=5\n");
        String[] args = {"--kafka.producer.config.providers=file",
                "--kafka.producer.config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider",
                "--kafka.producer.security.protocol=${file:" + file + ":protocol}",
                "--kafka.producer.linger.ms=${file:" + file + ":linger}"};
        TaplineConfig config = TaplineConfig.load(SPEC, args, Map.of());
        Map<String, Object> settings = new java.util.HashMap<>(config.subset("kafka.producer."));
        settings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9092");
        settings.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, org.apache.kafka.common.serialization.ByteArraySerializer.class);
        settings.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, org.apache.kafka.common.serialization.ByteArraySerializer.class);
        assertEquals(5L, new ProducerConfig(settings).getLong(ProducerConfig.LINGER_MS_CONFIG)); // the client takes them
        config.checkClientSettings("kafka.producer.", ProducerConfig.configDef());
        // a value that is no variable is still checked
        TaplineConfig bad = TaplineConfig.load(SPEC, new String[] {"--kafka.producer.config.providers=file",
                "--kafka.producer.linger.ms=$5"}, Map.of());
        assertThrows(ConfigException.class, () -> bad.checkClientSettings("kafka.producer.", ProducerConfig.configDef()));
    }

    @Test
    void toStringHidesSecretsAndPasswordLikeClientSettings() {
        TaplineConfig config = TaplineConfig.load(SPEC, new String[] {
            "--redaction-key", "s3cr3t-key", "--kafka.producer.ssl.keystore.password", "hunter2",
            "--kafka.producer.sasl.jaas.config", "user=\"u\" password=\"p4ss\""}, Map.of());
        String shown = config.toString();
        assertFalse(shown.contains("s3cr3t-key"), shown);
        assertFalse(shown.contains("hunter2"), shown);
        assertFalse(shown.contains("p4ss"), shown);
        assertTrue(shown.contains("listen=8080"), shown);
    }

    @Test
    void toStringHidesEveryKafkaClientPasswordSettingWhateverItsName() {
        // a PASSWORD setting of the Kafka clients whose name says neither password nor secret
        TaplineConfig config = TaplineConfig.load(SPEC, new String[] {
            "--kafka.producer.sasl.oauthbearer.assertion.private.key.passphrase", "pr1vate-phrase"}, Map.of());
        String shown = config.toString();
        assertFalse(shown.contains("pr1vate-phrase"), shown);
        assertTrue(shown.contains("kafka.producer.sasl.oauthbearer.assertion.private.key.passphrase=[hidden]"), shown);
    }

    @Test
    void helpListsEveryOptionWithItsEnvironmentVariable() {
        String help = SPEC.help();
        for (ConfigSpec.Option option : SPEC.options().values()) {
            assertTrue(help.contains(option.kind() == ConfigSpec.Option.Kind.PREFIX
                    ? "--kafka.producer.<name> VALUE" : option.flag()), option.key());
            assertTrue(help.contains("env: " + (option.kind() == ConfigSpec.Option.Kind.PREFIX
                    ? "TAPLINE_KAFKA_PRODUCER_<NAME>" : option.envVar()) + "\n"), option.key() + ": " + help);
        }
        assertTrue(help.contains("TAPLINE_CAPTURE_MAX_BODY_BYTES"), help);
        assertTrue(help.contains("allowed: text, junit, html"), help);
        assertTrue(TaplineConfig.load(SPEC, new String[] {"--help"}, Map.of()).helpRequested());
    }
}
