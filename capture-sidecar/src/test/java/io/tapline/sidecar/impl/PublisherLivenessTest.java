package io.tapline.sidecar.impl;

import io.tapline.logging.TaplineLogging;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The publisher thread dying: logged through Tapline's logger, /healthy fails so the pod restarts, the proxy serves on. */
@Timeout(60)
class PublisherLivenessTest {

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void aPublisherThreadKilledByAnErrorIsLoggedAndFailsLivenessWhileTheProxyServesOn() throws Exception {
        AtomicBoolean broken = new AtomicBoolean();
        Serializer<SpecificRecord> serializer = (topic, record) -> {
            if (broken.get()) {
                // what a jar replaced under a running process does: no RuntimeException, so no capture-level catch
                throw new NoClassDefFoundError("org/apache/avro/io/BinaryEncoder");
            }
            return SidecarProxyTest.AVRO.serialize(topic, record);
        };
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl sidecar = SidecarImpl.start(SidecarProxyTest.options(origin),
                     new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), serializer)) {
            assertEquals(200, get(sidecar.managementPort(), "/healthy").statusCode());

            broken.set(true);
            assertEquals(200, get(sidecar.port(), "/hello").statusCode());
            HttpResponse<String> healthy = awaitStatus(sidecar.managementPort(), "/healthy", 503);
            assertTrue(healthy.body().startsWith("unhealthy: the capture publisher thread stopped: "
                    + "java.lang.NoClassDefFoundError: org/apache/avro/io/BinaryEncoder"), healthy.body());
            assertEquals(200, get(sidecar.managementPort(), "/ready").statusCode(), "still ready: the proxy fails open");

            HttpResponse<String> proxied = get(sidecar.port(), "/hello");
            assertEquals(200, proxied.statusCode(), "requests are still proxied");
            assertEquals("hello", proxied.body());
            SidecarProxyTest.awaitMetric(sidecar, "tapline_sidecar_queue_items", 1);

            TaplineLogging.flush(Duration.ofSeconds(10));
            String log = logged.toString(StandardCharsets.UTF_8);
            assertTrue(log.contains("[tapline-publisher] ERROR io.tapline.sidecar.impl.CapturePublisher - the capture publisher "
                    + "thread stopped: java.lang.NoClassDefFoundError: org/apache/avro/io/BinaryEncoder"), log);
        } finally {
            TaplineLogging.output(System.err);
        }
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> awaitStatus(int port, String path, int status) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        HttpResponse<String> r = get(port, path);
        while (r.statusCode() != status && System.nanoTime() < deadline) {
            Thread.sleep(50);
            r = get(port, path);
        }
        return r;
    }
}
