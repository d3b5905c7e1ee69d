package io.tapline.sidecar.impl;

import io.tapline.ops.ExpositionCheck;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.awaitCapturesSettled;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.options;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sidecar's {@code /metrics}, after hostile traffic on both listeners, as a strict Prometheus scraper reads it. */
@Timeout(60)
class SidecarMetricsExpositionTest {

    @Test
    void theManagementPortServesAStrictlyValidExpositionAfterHostileTraffic() throws Exception {
        Locale before = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY);
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl sidecar = SidecarImpl.start(options(origin).upstreamTimeout(Duration.ofMillis(500))
                     .outboundGrace(Duration.ofMillis(50)), producer, AVRO)) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String base = "http://127.0.0.1:" + sidecar.port();
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(base + "/items?marker=%22%5C%0A%E2%80%A8")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(504, http.send(HttpRequest.newBuilder(URI.create(base + "/slow")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            raw(sidecar.port(), "GET /a\"b\\c{le=\"1\"} HTTP/1.1\r\nHost: h\"\\\r\nX: \u00e9\r\n\r\n");
            raw(sidecar.port(), "NOT HTTP AT ALL\r\n\r\n");
            raw(sidecar.egressPort(), "GET http://no\"such\\route/x HTTP/1.1\r\nHost: no\"such\\route\r\n\r\n");
            raw(sidecar.egressPort(), "GET https://inv/x HTTP/1.1\r\nHost: inv\r\n\r\n");
            awaitCapturesSettled(sidecar);

            HttpResponse<byte[]> scrape = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + sidecar.managementPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", scrape.headers().firstValue("Content-Type").orElse(""));
            ExpositionCheck check = ExpositionCheck.check(scrape.body());
            assertEquals(1, check.value("tapline_sidecar_upstream_errors_total", "listener", "inbound", "status", "504"));
            assertTrue(check.value("tapline_sidecar_rejected_total", "listener", "inbound", "status", "400") >= 1);
            assertTrue(check.value("tapline_sidecar_rejected_total", "listener", "egress", "status", "400") >= 1);
            assertTrue(check.value("tapline_sidecar_proxy_added_seconds_count", "listener", "inbound") >= 1);
        } finally {
            Locale.setDefault(before);
        }
    }

    /** Sends {@code request} as it is and reads the answer's head. */
    private static void raw(int port, String request) throws IOException {
        try (Socket s = connect(port)) {
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            readUntil(s.getInputStream(), "\r\n\r\n");
        }
    }
}
