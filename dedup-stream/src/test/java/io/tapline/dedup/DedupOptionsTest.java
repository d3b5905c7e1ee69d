package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.LogOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.logging.TaplineLoggerProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class DedupOptionsTest {

    @Test
    void shouldDefaultToTheLocalStackAndStandardTopics() {
        TaplineConfig c = DedupOptions.load(new String[0], Map.of());
        assertEquals("127.0.0.1:9092", c.get(DedupOptions.BOOTSTRAP));
        assertEquals("http://127.0.0.1:8081/apis/ccompat/v7", c.get(DedupOptions.REGISTRY_URL));
        DedupConfig d = DedupOptions.topology(c);
        assertEquals(DedupConfig.defaults(), d);
        Properties streams = DedupOptions.streams(c);
        assertEquals("exactly_once_v2", streams.get("processing.guarantee"));
        assertEquals("tapline-dedup", streams.get("application.id"));
        assertEquals(io.tapline.dedup.state.BoundedRocksDbMemory.class, streams.get("rocksdb.config.setter"));
        assertEquals(256L << 20, streams.get(io.tapline.dedup.state.BoundedRocksDbMemory.MAX_BYTES));
    }

    @Test
    void shouldTakeFlagsOverEnvironmentAndPassStreamsSettingsThrough() {
        TaplineConfig c = DedupOptions.load(new String[] {"--dedup-samples", "5", "--dedup.sample.ttl=2h",
                        "--dedup-value-fields", "POST /payments=$.type", "--kafka.streams.commit.interval.ms=500"},
                Map.of("TAPLINE_DEDUP_SAMPLES", "9", "TAPLINE_DEDUP_RETENTION", "3d"));
        DedupConfig d = DedupOptions.topology(c);
        assertEquals(5, d.samplesPerSignature());
        assertEquals(Duration.ofHours(2), d.sampleTtl());
        assertEquals(Duration.ofDays(3), d.retention());
        assertEquals(List.of("POST /payments=$.type"), d.valueFields());
        assertEquals("500", DedupOptions.streams(c).get("commit.interval.ms"));
    }

    @Test
    void shouldRefuseAStreamsOrClientSettingTheirClientsWouldRefuseNamingItsFlag() {
        // such a value used to be found only after the output schemas were registered, by Kafka Streams: an uncaught
        // exception out of main, with its stack trace
        String[][] cases = {
            {"--kafka.streams.commit.interval.ms=often", "option --kafka.streams.commit.interval.ms: Invalid value often"},
            {"--kafka.streams.producer.linger.ms=abc", "option --kafka.streams.producer.linger.ms: Invalid value abc"},
            {"--kafka.streams.main.consumer.max.poll.records=0", "option --kafka.streams.main.consumer.max.poll.records: Invalid value 0"},
            {"--kafka.streams.fetch.max.bytes=x", "option --kafka.streams.fetch.max.bytes: Invalid value x"},
        };
        for (String[] c : cases) {
            String e = assertThrows(ConfigException.class,
                    () -> DedupOptions.streams(DedupOptions.load(new String[] {c[0]}, Map.of())), c[0]).getMessage();
            assertTrue(e.startsWith(c[1]), e);
        }
        assertEquals("200", DedupOptions.streams(DedupOptions.load(
                new String[] {"--kafka.streams.producer.linger.ms=200"}, Map.of())).get("producer.linger.ms"));
    }

    @Test
    void shouldNameTheFlagOfAnUnknownOrBadOption() {
        ConfigException unknown = assertThrows(ConfigException.class,
                () -> DedupOptions.load(new String[] {"--dedup-sampels", "3"}, Map.of()));
        assertTrue(unknown.getMessage().contains("--dedup-sampels"), unknown.getMessage());
        ConfigException bad = assertThrows(ConfigException.class, () -> DedupOptions.topology(
                DedupOptions.load(new String[] {"--dedup-sample-ttl", "soon"}, Map.of())));
        assertTrue(bad.getMessage().contains("--dedup-sample-ttl"), bad.getMessage());
        ConfigException format = assertThrows(ConfigException.class,
                () -> DedupOptions.load(new String[] {"--dedup-hit-format", "tiny"}, Map.of()));
        assertTrue(format.getMessage().contains("--dedup-hit-format") && format.getMessage().contains("compact")
                && format.getMessage().contains("case"), format.getMessage());
    }

    @Test
    void shouldRefuseValuesThatWouldBreakTheJobNamingTheFlag() {
        String[][] cases = {
                {"--dedup-sample-ttl", "0s", "--dedup-sample-ttl: must be longer than 0"},
                {"--dedup-sample-ttl", "24", "option --dedup-sample-ttl: '24' has no unit; write it with one: 24ms, 24s, 24m, 24h or 24d"},
                {"--dedup-retention", "7", "option --dedup-retention: '7' has no unit; write it with one: 7ms, 7s, 7m, 7h or 7d"},
                {"--dedup-retention", "-1d", "--dedup-retention: must be longer than 0"},
                {"--dedup-max-signatures-per-task", "0", "--dedup-max-signatures-per-task: must be at least 1"},
                {"--noise-max-pairs-per-signature", "-1", "--noise-max-pairs-per-signature: must be at least 0"},
                {"--noise-max-fields-per-route", "-5", "--noise-max-fields-per-route: must be at least 0"},
                {"--noise-window-pairs", "1", "--noise-window-pairs: must be 0 (never halve) or at least --noise-min-pairs"},
                {"--dedup-route-templates", "products/{slug}", "option --dedup-route-templates: route template 'products/{slug}' does not start with '/'"},
                // templates the matcher read otherwise than written: accepted, a malformed segment taken as literal text
                // (matching no request), a pattern as any segment, a query dropped from nothing, silently
                {"--dedup-route-templates", "/b/{y", "option --dedup-route-templates: route template '/b/{y' has an unbalanced brace in segment '{y'"},
                {"--dedup-route-templates", "/b/{}", "option --dedup-route-templates: route template '/b/{}' has an empty placeholder '{}'"},
                {"--dedup-route-templates", "/a/{x}/b/{x}", "option --dedup-route-templates: route template '/a/{x}/b/{x}' names placeholder '{x}' twice"},
                {"--dedup-route-templates", "/files/{*}", "option --dedup-route-templates: route template '/files/{*}' has placeholder '{*}', which is not a name"},
                {"--dedup-route-templates", "/files/*", "option --dedup-route-templates: route template '/files/*' has segment '*' holding '*'"},
                {"--dedup-route-templates", "/b/v{x}", "option --dedup-route-templates: route template '/b/v{x}' has segment 'v{x}' that is not one placeholder alone"},
                {"--dedup-value-fields", "POST /payments", "--dedup-value-fields: value field 'POST /payments' is not ROUTE=$.path"},
                // paths of a form the value reader does not follow (it reads dotted member names only): accepted, they
                // matched no request and split nothing, silently
                {"--dedup-value-fields", "POST /payments=$.items[0].type", "--dedup-value-fields: value field 'POST /payments=$.items[0].type' has a path other than dotted member names"},
                {"--dedup-value-fields", "POST /payments=$..type", "--dedup-value-fields: value field 'POST /payments=$..type' has a path other than dotted member names"},
                {"--dedup-value-fields", "*=$.items.*", "--dedup-value-fields: value field '*=$.items.*' has a path other than dotted member names"},
                // these were refused by DedupConfig / NoiseRule without naming the flag, or (NaN, the port) not at all
                {"--dedup-samples", "0", "--dedup-samples: must be 1..100, got 0"},
                {"--dedup-samples", "101", "--dedup-samples: must be 1..100, got 101"},
                {"--dedup-publish-interval", "-5s", "--dedup-publish-interval: must be longer than 0, got -5s"},
                {"--dedup-max-clock-skew", "-1m", "--dedup-max-clock-skew: must not be negative, got -1m"},
                {"--noise-relative-threshold", "2", "--noise-relative-threshold: must be a share in [0, 1], got 2"},
                {"--noise-absolute-threshold", "NaN", "--noise-absolute-threshold: must be a share in [0, 1], got NaN"},
                {"--noise-min-pairs", "-3", "--noise-min-pairs: must be at least 1, got -3"},
                {"--management-port", "-4", "--management-port: must be a port 0-65535 (0 = ephemeral), got -4"},
                {"--management-port", "70000", "--management-port: must be a port 0-65535 (0 = ephemeral), got 70000"},
                {"--streams-partitions", "-1", "--streams-partitions: must be at least 0, got -1"},
                {"--dedup-publish-max-cases", "0", "--dedup-publish-max-cases: must be at least 1, got 0"},
                {"--dedup-publish-max-noise-profiles", "0", "--dedup-publish-max-noise-profiles: must be at least 1, got 0"},
                // these passed: Kafka Streams failed once it had started, or the job's clock arithmetic overflowed
                {"--topic-cases", "", "option --topic-cases: '' is not a topic name"},
                {"--topic-interactions", "a b", "option --topic-interactions: 'a b' is not a topic name"},
                {"--dedup-retention", "9999999999999d", "option --dedup-retention: '9999999999999d' is longer than 106751d"},
        };
        for (String[] c : cases) {
            TaplineConfig config = DedupOptions.load(new String[] {c[0], c[1]}, Map.of());
            String message = assertThrows(ConfigException.class, () -> DedupOptions.topology(config), c[0]).getMessage();
            assertTrue(message.contains(c[2]), message);
        }
        for (String[] c : new String[][] {{"--streams-threads", "two", "--streams-threads"}, {"--streams-threads", "0", "at least 1"},
                {"--streams-replication-factor", "0", "-1 (the broker's default) or at least 1"},
                {"--streams-rocksdb-max-bytes", "1048576", "at least 16777216 (16 MiB)"}}) {
            TaplineConfig config = DedupOptions.load(new String[] {c[0], c[1]}, Map.of());
            String message = assertThrows(ConfigException.class, () -> DedupOptions.streams(config), c[0]).getMessage();
            assertTrue(message.contains(c[0]) && message.contains(c[2]), message);
        }
        // a truststore that cannot be read was an IllegalArgumentException out of main, with its stack trace
        TaplineConfig truststore = DedupOptions.load(new String[] {"--schema-registry-url", "https://registry:8081",
                "--schema-registry-ssl-truststore-location", "/nonexistent/truststore.p12"}, Map.of());
        String unreadable = assertThrows(ConfigException.class, () -> DedupOptions.registry(truststore)).getMessage();
        assertTrue(unreadable.startsWith("option --schema-registry-ssl-truststore-location: cannot load registry truststore "
                + "/nonexistent/truststore.p12"), unreadable);
        // a refused setting no option sets is named by its key, not after the truststore flag
        Map<String, Object> badNumber = new java.util.HashMap<>(io.tapline.config.RegistryOptions.clientConfigs(truststore));
        badNumber.put(io.tapline.registry.RegistryConfig.MAX_RETRIES, "-1");
        String number = assertThrows(ConfigException.class, () -> DedupOptions.registry(truststore, badNumber)).getMessage();
        assertTrue(number.startsWith("schema.registry.max.retries: expected a whole number from 0"), number);
        assertFalse(number.contains("truststore"), number);
        TaplineConfig compose = DedupOptions.load(new String[] {"--schema-registry-url", "http://schema_registry:8081"}, Map.of());
        String message = assertThrows(ConfigException.class, () -> DedupOptions.registry(compose)).getMessage();
        assertTrue(message.contains("--schema-registry-url") && message.contains("without '_'"), message);
    }

    @Test
    void shouldRefuseAnApplicationIdOrBrokerListKafkaWouldRefuseNamingTheFlag() {
        // these passed: an empty or blank id failed in the KafkaStreams constructor ("Failed to construct kafka
        // consumer", a stack trace out of main, after the output schemas were registered), an id with a character a
        // topic name cannot hold failed every stream thread at its first rebalance ("Invalid topics: [a b-by-route-
        // repartition, ...]") until the restart budget shut the job down; an empty or portless broker list failed in
        // the StreamsConfig or admin client constructor, a stack trace out of main
        String[][] cases = {
                {"--dedup-application-id", "", "option --dedup-application-id: must not be empty"},
                {"--dedup-application-id", " ", "option --dedup-application-id: ' ' cannot begin the job's internal topic names"},
                {"--dedup-application-id", "a b", "option --dedup-application-id: 'a b' cannot begin the job's internal topic names"},
                {"--dedup-application-id", "x".repeat(230), "option --dedup-application-id: must be at most 222 characters, got 230"},
                {"--kafka-bootstrap-servers", "", "option --kafka-bootstrap-servers: must name at least one broker"},
                {"--kafka-bootstrap-servers", " , ", "option --kafka-bootstrap-servers: must name at least one broker"},
                {"--kafka-bootstrap-servers", "localhost", "option --kafka-bootstrap-servers: 'localhost' is not host:port"},
                {"--kafka-bootstrap-servers", "kafka:9092,kafka-2", "option --kafka-bootstrap-servers: 'kafka-2' is not host:port"},
                // these three passed the check: ':9092' reached the local host, the URL's scheme was dropped unread by the
                // clients, and the empty entry failed in the StreamsConfig constructor ("values must not be empty")
                {"--kafka-bootstrap-servers", ":9092", "option --kafka-bootstrap-servers: ':9092' is not host:port: no host"},
                {"--kafka-bootstrap-servers", "http://kafka:9092", "option --kafka-bootstrap-servers: 'http://kafka:9092' is not host:port: a URL"},
                {"--kafka-bootstrap-servers", "kafka:9092,", "option --kafka-bootstrap-servers: 'kafka:9092,' has an empty entry"},
        };
        for (String[] c : cases) {
            TaplineConfig config = DedupOptions.load(new String[] {c[0], c[1]}, Map.of());
            String message = assertThrows(ConfigException.class, () -> DedupOptions.streams(config), c[0] + " " + c[1])
                    .getMessage();
            assertTrue(message.contains(c[2]), message);
        }
        for (String[] ok : new String[][] {{"--dedup-application-id", "tapline-dedup.v2_b"},
                {"--dedup-application-id", "x".repeat(222)},
                {"--kafka-bootstrap-servers", "kafka-0.kafka:9092, kafka-1.kafka:9092"},
                {"--kafka-bootstrap-servers", "[::1]:9092"}}) {
            assertEquals(ok[1], DedupOptions.streams(DedupOptions.load(ok, Map.of())).get(
                    ok[0].contains("application") ? "application.id" : "bootstrap.servers"));
        }
    }

    /**
     * Kafka Streams warned at every start that its processing exception handler is not enabled for the global thread,
     * although the job's settings enable it: its stream thread's partition assignor reads the Streams settings again
     * from the main consumer's, which do not carry that one. A warning that asks an operator to set what is set.
     */
    @Test
    void shouldStartKafkaStreamsWithoutWarningOfAGlobalHandlerItHasEnabled(@TempDir Path dir) {
        TaplineConfig c = DedupOptions.load(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--streams-state-dir", dir.toString(), "--dedup-application-id", "options-test"}, Map.of());
        Properties props = DedupOptions.streams(c);
        org.apache.kafka.streams.StreamsBuilder builder = new org.apache.kafka.streams.StreamsBuilder();
        builder.stream("in").to("out");
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        io.tapline.logging.TaplineLogging.Format format = io.tapline.logging.TaplineLogging.format();
        org.slf4j.event.Level level = io.tapline.logging.TaplineLogging.level();
        io.tapline.logging.TaplineLogging.output(new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8));
        io.tapline.logging.TaplineLogging.configure(io.tapline.logging.TaplineLogging.Format.TEXT, org.slf4j.event.Level.WARN);
        try {
            new org.apache.kafka.streams.KafkaStreams(builder.build(), props).close(Duration.ZERO);
        } finally {
            io.tapline.logging.TaplineLogging.flush(Duration.ofSeconds(10));
            io.tapline.logging.TaplineLogging.output(System.err);
            io.tapline.logging.TaplineLogging.configure(format, level);
        }
        String written = log.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertFalse(written.contains("processing.exception.handler.global.enabled"), written);
    }

    @Test
    void shouldNameTheVariableOrFileThatSetAValueOutOfRange(@TempDir Path dir) throws Exception {
        // a Deployment sets these as TAPLINE_* variables: the flag alone does not lead to the manifest line
        assertEquals("option --dedup-samples (set by TAPLINE_DEDUP_SAMPLES): must be 1..100, got 0", assertThrows(
                ConfigException.class, () -> DedupOptions.topology(DedupOptions.load(new String[0],
                        Map.of("TAPLINE_DEDUP_SAMPLES", "0")))).getMessage());
        // a malformed template among well-formed ones, from the Deployment's variable: named with the variable
        String template = assertThrows(ConfigException.class, () -> DedupOptions.topology(DedupOptions.load(new String[0],
                Map.of("TAPLINE_DEDUP_ROUTE_TEMPLATES", "/products/{slug},/b/{y")))).getMessage();
        assertTrue(template.startsWith("option --dedup-route-templates (set by TAPLINE_DEDUP_ROUTE_TEMPLATES): route template "
                + "'/b/{y' has an unbalanced brace in segment '{y'"), template);
        for (Map.Entry<String, String> variable : Map.of("TAPLINE_DEDUP_RETENTION", "-1d", "TAPLINE_NOISE_RELATIVE_THRESHOLD", "2",
                "TAPLINE_MANAGEMENT_PORT", "70000", "TAPLINE_DEDUP_MAX_SIGNATURES_PER_TASK", "0",
                "TAPLINE_DEDUP_ROUTE_TEMPLATES", "products/{slug}").entrySet()) {
            TaplineConfig config = DedupOptions.load(new String[0], Map.of(variable.getKey(), variable.getValue()));
            String message = assertThrows(ConfigException.class, () -> DedupOptions.topology(config)).getMessage();
            assertTrue(message.contains("(set by " + variable.getKey() + "): "), message);
        }
        Path file = Files.writeString(dir.resolve("dedup.properties"), "streams.threads=0\n");
        TaplineConfig fromFile = DedupOptions.load(new String[] {"--config", file.toString()}, Map.of());
        assertEquals("option --streams-threads (set in " + file + "): must be at least 1, got 0",
                assertThrows(ConfigException.class, () -> DedupOptions.streams(fromFile)).getMessage());
    }

    @Test
    void shouldRefuseAStrayArgumentRatherThanIgnoreIt() {
        TaplineConfig config = DedupOptions.load(new String[] {"--dedup-route-templates", "/a/{x}", "/b/{y}"}, Map.of());
        String message = assertThrows(ConfigException.class, () -> DedupOptions.topology(config)).getMessage();
        assertTrue(message.contains("unexpected argument /b/{y}"), message);
    }

    @Test
    void shouldTakeTheNoisePublicationBudget() {
        assertEquals(DedupConfig.DEFAULT_PUBLISH_MAX_NOISE_PROFILES, DedupOptions.topology(
                DedupOptions.load(new String[] {}, Map.of())).publishMaxNoiseProfiles());
        assertEquals(250, DedupOptions.topology(DedupOptions.load(new String[0],
                Map.of("TAPLINE_DEDUP_PUBLISH_MAX_NOISE_PROFILES", "250"))).publishMaxNoiseProfiles());
    }

    @Test
    void shouldTakeThePreviousHitFormatForARollingUpgrade() {
        assertEquals(DedupConfig.HitFormat.CASE, DedupOptions.topology(
                DedupOptions.load(new String[] {"--dedup-hit-format", "case"}, Map.of())).hitFormat());
        assertEquals(DedupConfig.HitFormat.COMPACT, DedupOptions.topology(
                DedupOptions.load(new String[] {}, Map.of())).hitFormat());
    }

    @Test
    void shouldListEveryOptionInHelpAndHideSecrets() {
        String help = DedupOptions.SPEC.help();
        for (ConfigSpec.Option option : DedupOptions.SPEC.options().values()) {
            if (option.kind() != ConfigSpec.Option.Kind.PREFIX) {
                assertTrue(help.contains(option.flag()), option.flag());
            }
        }
        TaplineConfig c = DedupOptions.load(new String[] {"--schema-registry-basic-auth-user-info", "me:s3cret"}, Map.of());
        assertFalse(c.toString().contains("s3cret"), c.toString());
    }

    @Test
    void shouldStopReplacingThreadsThatFailFasterThanTheBudget() {
        AtomicLong now = new AtomicLong();
        RestartBudget budget = new RestartBudget(2, Duration.ofSeconds(10), now::get);
        assertTrue(budget.tryRestart());
        assertTrue(budget.tryRestart());
        assertFalse(budget.tryRestart());
        now.addAndGet(Duration.ofSeconds(11).toNanos());
        assertTrue(budget.tryRestart(), "old failures leave the window");
    }

    @Test
    void shouldReCheckTheTopicsEveryFiveMinutesUnlessTurnedOff() {
        assertEquals(Duration.ofMinutes(5), DedupOptions.topicCheckInterval(DedupOptions.load(new String[0], Map.of())));
        assertEquals(Duration.ZERO, DedupOptions.topicCheckInterval(DedupOptions.load(
                new String[] {"--dedup-topic-check-interval", "0"}, Map.of())));
        assertEquals(Duration.ofSeconds(30), DedupOptions.topicCheckInterval(DedupOptions.load(new String[0],
                Map.of("TAPLINE_DEDUP_TOPIC_CHECK_INTERVAL", "30s"))));
        for (String bad : new String[] {"-5m", "500ms"}) {
            String message = assertThrows(ConfigException.class, () -> DedupOptions.topicCheckInterval(
                    DedupOptions.load(new String[] {"--dedup-topic-check-interval=" + bad}, Map.of()))).getMessage();
            assertEquals("option --dedup-topic-check-interval: must be 0 (never) or at least 1s, got " + bad, message);
        }
    }

    @Test
    void shouldTurnNotReadyAfterAMinuteOfBrokerSilenceUnlessTurnedOff() {
        assertEquals(Duration.ofSeconds(60), DedupOptions.readyMaxBrokerSilence(DedupOptions.load(new String[0], Map.of())));
        assertEquals(Duration.ZERO, DedupOptions.readyMaxBrokerSilence(DedupOptions.load(
                new String[] {"--dedup-ready-max-broker-silence", "0"}, Map.of())));
        assertEquals(Duration.ofMinutes(3), DedupOptions.readyMaxBrokerSilence(DedupOptions.load(new String[0],
                Map.of("TAPLINE_DEDUP_READY_MAX_BROKER_SILENCE", "3m"))));
        for (String bad : new String[] {"-1m", "5s"}) {
            String message = assertThrows(ConfigException.class, () -> DedupOptions.readyMaxBrokerSilence(
                    DedupOptions.load(new String[] {"--dedup-ready-max-broker-silence=" + bad}, Map.of()))).getMessage();
            assertEquals("option --dedup-ready-max-broker-silence: must be 0 (never) or at least 10s, got " + bad, message);
        }
    }

    @Test
    void shouldLogThroughTaplinesLoggingSoTheLogOptionsApply() {
        assertTrue(DedupOptions.SPEC.options().containsKey(LogOptions.FORMAT));
        assertEquals(TaplineLoggerProvider.class, LoggerFactory.getILoggerFactory().getClass().getEnclosingClass(),
                "the component's jar binds SLF4J to Tapline's logging, and only to it");
    }
}
