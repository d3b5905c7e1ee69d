package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tapline.avro.Interaction;
import io.tapline.dedup.testing.FakeRegistry;
import io.tapline.dedup.testing.Interactions;
import io.tapline.ops.ExpositionCheck;
import io.tapline.ops.ManagementServer;
import io.tapline.ops.Metrics;
import io.tapline.registry.RegistryConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dedup job's {@code /metrics}, after hostile traffic, as a strict Prometheus scraper reads it. */
class DedupMetricsExpositionTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @TempDir
    Path stateDir;

    @Test
    void theManagementPortServesAStrictlyValidExpositionAfterHostileTraffic() throws Exception {
        Locale before = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY);
        Metrics registry = new Metrics();
        DedupMetrics metrics = new DedupMetrics(registry);
        DedupConfig config = DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7),
                Duration.ofSeconds(10));
        try (FakeRegistry schemas = new FakeRegistry()) {
            DedupSerdes serdes = DedupSerdes.registry(Map.of(RegistryConfig.URL, schemas.url()));
            try (TopologyTestDriver driver = new TopologyTestDriver(DedupTopology.build(config, serdes, metrics),
                         DedupTopology.streamsConfig("dedup-test", "dummy:9092", 1, 1, stateDir.toString(), Map.of()),
                         T0.plus(Duration.ofDays(60)));
                 ManagementServer server = ManagementServer.start("127.0.0.1", 0, registry, () -> true)) {
                scrapeAfterHostileTraffic(config, serdes, metrics, driver, server);
            }
        } finally {
            Locale.setDefault(before);
        }
    }

    private static void scrapeAfterHostileTraffic(DedupConfig config, DedupSerdes serdes, DedupMetrics metrics,
                                                  TopologyTestDriver driver, ManagementServer server) throws Exception {
        TestInputTopic<byte[], byte[]> input = driver.createInputTopic(config.inputTopic(), new ByteArraySerializer(),
                new ByteArraySerializer());
        String[] paths = {"/a\"b", "/c\\d\\n", "/e\nf", "/g\r\u2028h", "/caf\u00e9/\ud83d\ude00", "/\ud800x", "/{le=\"1\"} 9"};
        for (int i = 0; i < paths.length; i++) {
            Interaction interaction = Interactions.get(paths[i]).service("svc\"\\\n" + i).at(T0.plusSeconds(i))
                    .json("{\"n\":" + i + "}").build();
            input.pipeInput(new byte[] {1}, serdes.interaction().serializer().serialize(config.inputTopic(), interaction),
                    T0.plusSeconds(i));
        }
        input.pipeInput(new byte[] {1}, "not an interaction".getBytes(StandardCharsets.UTF_8), T0);
        driver.advanceWallClockTime(Duration.ofSeconds(30));

        HttpResponse<byte[]> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofByteArray());
        ExpositionCheck check = ExpositionCheck.check(scrape.body());
        assertEquals(paths.length, check.value("tapline_dedup_interactions_total"));
        assertEquals(1, check.value("tapline_dedup_dead_letters_total", "reason", "decode"));
        assertEquals(0, check.value("tapline_dedup_dead_letters_total", "reason", "processing"));
        assertEquals((double) paths.length / metrics.signatures(), check.value("tapline_dedup_ratio"));
    }
}
