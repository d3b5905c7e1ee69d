package io.tapline.ops;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsTest {

    @Test
    void rendersCountersGaugesAndHistogramsInPrometheusFormat() {
        Metrics metrics = new Metrics();
        metrics.counter("tapline_dropped_total", "Dropped.", "reason", "queue_full").add(3);
        metrics.counter("tapline_dropped_total", "Dropped.", "reason", "producer_error").inc();
        metrics.gauge("tapline_queue_bytes", "Queue bytes.", () -> 1024);
        Metrics.Histogram latency = metrics.histogram("tapline_added_latency_seconds", "Latency.", new double[] {0.001, 0.01});
        latency.observe(0.0005);
        latency.observe(0.005);
        latency.observe(5);

        String text = metrics.scrape();
        assertTrue(text.contains("# TYPE tapline_dropped_total counter"), text);
        assertTrue(text.contains("tapline_dropped_total{reason=\"queue_full\"} 3"), text);
        assertTrue(text.contains("tapline_dropped_total{reason=\"producer_error\"} 1"), text);
        assertTrue(text.contains("tapline_queue_bytes 1024"), text);
        assertTrue(text.contains("tapline_added_latency_seconds_bucket{le=\"0.001\"} 1"), text);
        assertTrue(text.contains("tapline_added_latency_seconds_bucket{le=\"0.01\"} 2"), text);
        assertTrue(text.contains("tapline_added_latency_seconds_bucket{le=\"+Inf\"} 3"), text);
        assertTrue(text.contains("tapline_added_latency_seconds_count 3"), text);
    }

    @Test
    void aCountKeptElsewhereIsACounterReadWhenScraped() {
        Metrics metrics = new Metrics();
        long[] calls = {2};
        metrics.counter("tapline_calls_total", "Calls.", () -> calls[0]);
        calls[0] = 5;
        String text = metrics.scrape();
        assertTrue(text.contains("# TYPE tapline_calls_total counter\ntapline_calls_total 5\n"), text);
    }

    @Test
    void helpTextEscapesBackslashesAndLineFeedsAsTheTextFormatRequires() {
        Metrics metrics = new Metrics();
        metrics.counter("tapline_paths_total", "Paths like C:\\data\\n,\nper line.").inc();
        assertTrue(metrics.scrape().contains("# HELP tapline_paths_total Paths like C:\\\\data\\\\n,\\nper line.\n"),
                metrics.scrape());
    }

    @Test
    void labelValuesWithQuotesBackslashesLineBreaksAndAnyUnicodeKeepTheExpositionReadable() throws Exception {
        Metrics metrics = new Metrics();
        String[] hostile = {"/a\"b", "C:\\new\\n", "x\ny", "cr\r", "ls\u2028ps\u2029", "\"}{le=\"1\"} 9", "caf\u00e9 \ud83d\ude00",
            "nul\u0000", ""};
        for (int i = 0; i < hostile.length; i++) {
            metrics.counter("tapline_hostile_total", "Hostile.", "route", hostile[i]).add(i + 1);
            metrics.histogram("tapline_hostile_seconds", "Hostile.", new double[] {0.001, 0.5}, "route", hostile[i])
                    .observe(0.25);
        }
        ExpositionCheck check = served(metrics);
        for (int i = 0; i < hostile.length; i++) {
            assertEquals(i + 1, check.value("tapline_hostile_total", "route", hostile[i]), hostile[i]);
            assertEquals(1, check.value("tapline_hostile_seconds_count", "route", hostile[i]), hostile[i]);
        }
    }

    /**
     * A lone surrogate cannot be written in UTF-8: the management port wrote each as {@code ?}, so two label values
     * that differ only there were served as the same series twice.
     */
    @Test
    void labelValuesServedAlikeAreOneSeries() throws Exception {
        Metrics metrics = new Metrics();
        metrics.counter("tapline_odd_total", "Odd.", "route", "/a\ud800").inc();
        metrics.counter("tapline_odd_total", "Odd.", "route", "/a\udc00").add(2);
        metrics.counter("tapline_odd_total", "Odd.", "route", "/a\ud83d\ude00").add(4);
        ExpositionCheck check = served(metrics);
        assertEquals(3, check.value("tapline_odd_total", "route", "/a\ufffd"));
        assertEquals(4, check.value("tapline_odd_total", "route", "/a\ud83d\ude00"));
    }

    /** Prometheus reads a label set in any order: the same labels given in another order are the same series. */
    @Test
    void theSameLabelsInAnotherOrderAreTheSameSeries() throws Exception {
        Metrics metrics = new Metrics();
        metrics.counter("tapline_refused_total", "Refused.", "listener", "inbound", "status", "400").inc();
        metrics.counter("tapline_refused_total", "Refused.", "status", "400", "listener", "inbound").inc();
        assertEquals(2, served(metrics).value("tapline_refused_total", "listener", "inbound", "status", "400"));
    }

    /** Series the text format cannot hold (a label twice, a histogram's own le, a bucket bound twice) are refused. */
    @Test
    void labelsAndBucketsTheTextFormatCannotHoldAreRefused() {
        Metrics metrics = new Metrics();
        assertThrows(IllegalArgumentException.class, () -> metrics.counter("tapline_x_total", "X.", "a", "1", "a", "2"));
        assertThrows(IllegalArgumentException.class,
                () -> metrics.histogram("tapline_x_seconds", "X.", new double[] {0.1}, "le", "1"));
        for (double[] bounds : List.of(new double[] {0.1, 0.1}, new double[] {0.1, Double.POSITIVE_INFINITY},
                new double[] {Double.NaN})) {
            assertThrows(IllegalArgumentException.class, () -> metrics.histogram("tapline_y_seconds", "Y.", bounds),
                    Arrays.toString(bounds));
        }
    }

    @Test
    void numbersAreWrittenAsPrometheusReadsThemWhateverTheDefaultLocale() throws Exception {
        Locale before = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY);
        try {
            Metrics metrics = new Metrics();
            metrics.gauge("tapline_ratio", "Ratio.", () -> 2.0 / 3);
            metrics.gauge("tapline_big", "Big.", () -> 1234567.5);
            metrics.gauge("tapline_huge", "Huge.", () -> 1e17);
            metrics.gauge("tapline_unknown", "Not known.", () -> Double.NaN);
            Metrics.Histogram h = metrics.histogram("tapline_latency_seconds", "Latency.", Metrics.LATENCY_BUCKETS);
            h.observe(0.00003);
            h.observe(1.5);
            ExpositionCheck check = served(metrics);
            assertEquals(2.0 / 3, check.value("tapline_ratio"));
            assertEquals(1234567.5, check.value("tapline_big"));
            assertEquals(1e17, check.value("tapline_huge"));
            assertTrue(Double.isNaN(check.value("tapline_unknown")));
            assertEquals(1.50003, check.value("tapline_latency_seconds_sum"), 1e-12);
            assertEquals(1, check.value("tapline_latency_seconds_bucket", "le", "5.0E-5"));
            assertEquals(2, check.value("tapline_latency_seconds_bucket", "le", "+Inf"));
        } finally {
            Locale.setDefault(before);
        }
    }

    /** The exposition as the management port serves it, read by the strict checker. */
    private static ExpositionCheck served(Metrics metrics) throws IOException, InterruptedException {
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, metrics, () -> true)) {
            HttpResponse<byte[]> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", scrape.headers().firstValue("Content-Type").orElse(""));
            return ExpositionCheck.check(scrape.body());
        }
    }

    @Test
    void aScrapeDuringObservationsNeverShowsFewerObservationsInTotalThanInABucket() throws InterruptedException {
        Metrics metrics = new Metrics();
        Metrics.Histogram h = metrics.histogram("h_seconds", "h", new double[] {0.001});
        AtomicBoolean stop = new AtomicBoolean();
        Thread observer = new Thread(() -> {
            while (!stop.get()) {
                h.observe(0.0005);
            }
        });
        observer.start();
        try {
            for (int i = 0; i < 20_000; i++) {
                long bucket = -1;
                long inf = -1;
                long count = -1;
                for (String line : metrics.scrape().split("\n")) {
                    String[] parts = line.split(" ");
                    if (line.startsWith("h_seconds_bucket{le=\"0.001\"}")) {
                        bucket = Long.parseLong(parts[1]);
                    } else if (line.startsWith("h_seconds_bucket{le=\"+Inf\"}")) {
                        inf = Long.parseLong(parts[1]);
                    } else if (line.startsWith("h_seconds_count")) {
                        count = Long.parseLong(parts[1]);
                    }
                }
                assertTrue(inf >= bucket && count == inf, "scrape " + i + ": le=0.001 " + bucket + ", +Inf " + inf
                        + ", count " + count);
            }
        } finally {
            stop.set(true);
            observer.join();
        }
    }

    @Test
    void quantileUpperBoundComesFromTheBuckets() {
        Metrics.Histogram h = new Metrics().histogram("h", "h", new double[] {0.001, 0.01, 0.1});
        for (int i = 0; i < 99; i++) {
            h.observe(0.0002);
        }
        h.observe(0.05);
        assertEquals(0.001, h.quantileUpperBound(0.5));
        assertEquals(0.1, h.quantileUpperBound(1.0));
    }

    @Test
    void managementPortServesHealthReadinessAndMetrics() throws IOException, InterruptedException {
        Metrics metrics = new Metrics();
        metrics.counter("tapline_things_total", "Things.").inc();
        AtomicBoolean ready = new AtomicBoolean(false);
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, metrics, ready::get)) {
            HttpClient client = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port();
            assertEquals(200, get(client, base + "/healthy").statusCode());
            assertEquals(503, get(client, base + "/ready").statusCode());
            ready.set(true);
            assertEquals(200, get(client, base + "/ready").statusCode());
            HttpResponse<String> scrape = get(client, base + "/metrics");
            assertTrue(scrape.body().contains("tapline_things_total 1"), scrape.body());
            assertTrue(scrape.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        }
    }

    private static HttpResponse<String> get(HttpClient client, String url) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
