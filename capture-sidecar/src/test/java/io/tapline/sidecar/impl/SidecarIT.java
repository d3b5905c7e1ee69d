package io.tapline.sidecar.impl;

import io.tapline.avro.Attribution;
import io.tapline.avro.Interaction;
import io.tapline.avro.OutboundCall;
import io.tapline.registry.RegistryConfig;
import io.tapline.serde.TaplineAvroDeserializer;
import io.tapline.sidecar.Sidecar;
import io.tapline.sidecar.SidecarOptions;
import io.tapline.stack.junit.TaplineStackExtension;
import io.tapline.stack.junit.TestStack;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sidecar against a real KRaft broker and a real schema registry, with real HTTP clients and origins on loopback. */
@ExtendWith(TaplineStackExtension.class)
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class SidecarIT {

    static TestOrigin origin;
    static HttpClient http;

    @BeforeAll
    static void setUp(TestStack stack) throws Exception {
        stack.bootstrapServers();
        stack.registryUrl();
        origin = new TestOrigin();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void tearDown() {
        origin.close();
    }

    static SidecarOptions options(TestStack stack, String topic) {
        return new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0).management("127.0.0.1", 0)
                .app("http://127.0.0.1:" + origin.port()).service("shop").instance("it-1")
                .addEgress("inv", "http://127.0.0.1:" + origin.port())
                .redactionKey("it-redaction-key-0123456789")
                .outboundGrace(Duration.ofMillis(100))
                .bootstrapServers(stack.bootstrapServers()).registryUrl(stack.registryUrl()).topic(topic)
                .unattributedTopic(stack.createTopic("unattributed", 1, Map.of()))
                // fail fast in tests: an outage turns into counted drops within seconds
                .producerOverride("delivery.timeout.ms", 6000).producerOverride("request.timeout.ms", 3000)
                .producerOverride("linger.ms", 5);
    }

    static Sidecar start(SidecarOptions o) throws Exception {
        Sidecar s = Sidecar.start(o);
        origin.egressPort = s.egressPort();
        return s;
    }

    static List<ConsumerRecord<String, Interaction>> consume(TestStack stack, String topic, int atLeast, Duration within) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, stack.uniqueName("sidecar-it"));
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(RegistryConfig.URL, stack.registryUrl());
        List<ConsumerRecord<String, Interaction>> out = new ArrayList<>();
        try (KafkaConsumer<String, Interaction> consumer = new KafkaConsumer<>(c, new StringDeserializer(), deserializer(stack))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + within.toNanos();
            while (out.size() < atLeast && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    static TaplineAvroDeserializer<Interaction> deserializer(TestStack stack) {
        TaplineAvroDeserializer<Interaction> d = new TaplineAvroDeserializer<>();
        d.configure(Map.of(RegistryConfig.URL, stack.registryUrl()), false);
        return d;
    }

    /** Sum of a metric's series: {@code name} sums all labels, {@code name{labels}} picks one series. */
    static long counter(Sidecar s, String series) {
        boolean exact = series.contains("{");
        return s.metrics().scrape().lines().filter(l -> !l.startsWith("#"))
                .filter(l -> {
                    String name = l.substring(0, l.lastIndexOf(' '));
                    return exact ? name.equals(series) : name.equals(series) || name.startsWith(series + "{");
                })
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    static HttpResponse<String> send(Sidecar s, HttpRequest.Builder b, String path) throws Exception {
        return http.send(b.uri(URI.create("http://127.0.0.1:" + s.port() + path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldPublishDecodableInteractionsWithTheirOutboundCallsAttributed(TestStack stack) throws Exception {
        String topic = stack.createTopic("interactions", 3, Map.of());
        try (Sidecar s = start(options(stack, topic))) {
            // one request alone, without trace propagation: attributed as the sole request in flight
            assertEquals(200, send(s, HttpRequest.newBuilder(), "/call?marker=solo").statusCode());
            Thread.sleep(300);
            // many concurrent requests whose app propagates traceparent: exact attribution
            int n = 30;
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/call?marker=p" + k))
                        .header("X-Propagate", "yes").build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (int k = 0; k < n; k++) {
                assertEquals("{\"marker\":\"p" + k + "\"}", calls.get(k).get(30, TimeUnit.SECONDS).body());
            }
            List<ConsumerRecord<String, Interaction>> recs = consume(stack, topic, n + 1, Duration.ofSeconds(60));
            assertEquals(n + 1, recs.size());
            int traced = 0;
            for (ConsumerRecord<String, Interaction> r : recs) {
                Interaction i = r.value();
                assertEquals("shop GET /call", r.key());
                assertEquals(1, i.getOutboundCalls().size(), i.getRequest().getRawQuery());
                OutboundCall c = i.getOutboundCalls().get(0);
                assertEquals(i.getRequest().getRawQuery(), c.getRequest().getRawQuery(), "the call is this request's own");
                if (i.getRequest().getRawQuery().equals("marker=solo")) {
                    assertEquals(Attribution.SOLE_IN_FLIGHT, c.getAttribution());
                } else {
                    assertEquals(Attribution.TRACE_CONTEXT, c.getAttribution());
                    traced++;
                }
            }
            assertEquals(n, traced);
            Map<Integer, Long> partitions = new HashMap<>();
            recs.forEach(r -> partitions.merge(r.partition(), 1L, Long::sum));
            assertEquals(1, partitions.size(), "one route's traffic stays on one partition");
            assertEquals(n + 1, counter(s, "tapline_sidecar_published_total"));
        }
    }

    @Test
    void shouldLeakNoPlantedSecretIntoAnyTopic(TestStack stack) throws Exception {
        String topic = stack.createTopic("interactions-secrets", 3, Map.of());
        List<String> secrets = List.of("Sup3rSecretBearer", "c00kie-sess-value", "apikey-hdr-1234", "query-passw0rd", "query-t0ken-abc",
                "qapikey-987", "json-passw0rd", "nested-s3cret", "4111111111111111", "5500 0000 0000 0004", "jane.doe@example.com",
                "form-passw0rd", "form-t0ken", "378282246310005", "outbound-bearer-xyz", "resp-cookie-val",
                // query tokens without '=' (inbound and, forwarded by /call, outbound)
                "sk_live_valueless42", "valueless.jane@example.com",
                // percent-encoded path segments, encoded and decoded
                "pct.jane%40example.com", "pct.jane@example.com", "6011%2D1111%2D1111%2D1117", "6011-1111-1111-1117", "6011111111111117",
                // URLs in header values: Referer (inbound and outbound request), Location (response)
                "ref-t0ken-s3cret", "ref.jane%40example.com", "ref.jane@example.com", "loc-t0ken-s3cret",
                // object and array values of sensitive names in a body cut by the capture cap
                "trunc-arr-t0ken", "trunc-obj-passw0rd",
                // multipart/form-data: a sensitive field, an email in a text part
                "mp-passw0rd", "mp.jane@example.com",
                // JSON object keys: a map keyed by email, and by card number
                "key.jane@example.com", "4012888888881881",
                // newline-delimited JSON, a reset link in a JSON string, W3C baggage, a JSON body in UTF-16
                "ndjson-passw0rd", "url-t0ken-s3cret", "bag.jane%40example.com", "bag.jane@example.com", "bag-sess-1",
                // XML by element and attribute names
                "xml-passw0rd", "xml-api-k3y",
                // a session in the path (also kept out of the record key) and a pair after a ';' in the query
                "js-sess-s3cret", "semi-t0ken-s3cret",
                // a card number and an email cut by the capture cap before they are whole (their starts)
                "4000 0566", "cutcap.ja",
                // a value after a sensitive name in free text (a log line posted as text/plain)
                "txt-passw0rd", "logfmt s3cret",
                // a TRACE answer echoing the request's header lines (message/http), a HAR-like {name, value} header list
                "trace-c00kie-val", "trace-auth-user", "trace-qt0ken", "har-apik3y-val", "har-c00kie-val",
                new String("utf16-passw0rd".getBytes(StandardCharsets.UTF_16LE), StandardCharsets.ISO_8859_1),
                // and the same value as text: a UTF-16 body written back as UTF-8 unredacted must not pass either
                "utf16-passw0rd");
        try (Sidecar s = start(options(stack, topic).redactionRegex("stripe", "sk_live_[0-9A-Za-z]+"))) {
            send(s, HttpRequest.newBuilder().header("Authorization", "Bearer Sup3rSecretBearer").header("Cookie", "sid=c00kie-sess-value")
                    .header("X-Api-Key", "apikey-hdr-1234"), "/hello?password=query-passw0rd&token=query-t0ken-abc&api_key=qapikey-987");
            String json = "{\"user\":\"jane\",\"password\":\"json-passw0rd\",\"profile\":{\"client_secret\":\"nested-s3cret\","
                    + "\"card\":\"4111111111111111\",\"backup\":\"5500 0000 0000 0004\",\"contact\":\"jane.doe@example.com\"},"
                    + "\"visitsByUser\":{\"key.jane@example.com\":3},\"limitsByCard\":{\"4012888888881881\":{\"eur\":100}}}";
            assertTrue(send(s, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofString(json)).header("content-type", "application/json"),
                    "/echo").body().contains("json-passw0rd"), "the app and the client see the real values");
            send(s, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofString(
                    "password=form-passw0rd&token=form-t0ken&amex=378282246310005&mail=jane.doe%40example.com"))
                    .header("content-type", "application/x-www-form-urlencoded"), "/echo");
            send(s, HttpRequest.newBuilder().header("X-Outbound-Auth", "Bearer outbound-bearer-xyz").header("X-Propagate", "1"),
                    "/call?marker=jane.doe@example.com&password=query-passw0rd");
            send(s, HttpRequest.newBuilder().header("X-Set-Cookie", "sid=resp-cookie-val; Path=/; HttpOnly")
                    .header("X-Auth-Session", "resp-cookie-val"), "/echo");
            assertEquals("{\"marker\":\"v\"}", send(s, HttpRequest.newBuilder().header("X-Propagate", "1")
                            .header("Referer", "https://shop.example/checkout/ref.jane%40example.com?session_token=ref-t0ken-s3cret&step=2"),
                    "/call?sk_live_valueless42&valueless.jane@example.com&marker=v").body());
            send(s, HttpRequest.newBuilder(), "/hello/users/pct.jane%40example.com/cards/6011%2D1111%2D1111%2D1117");
            assertEquals("/next?access_token=loc-t0ken-s3cret", send(s, HttpRequest.newBuilder()
                    .header("X-Location", "/next?access_token=loc-t0ken-s3cret"), "/echo").headers().firstValue("Location").orElseThrow());
            String cut = "{\"tokens\":[\"trunc-arr-t0ken\"],\"password\":{\"old\":\"trunc-obj-passw0rd\"},\"pad\":\"" + "A".repeat(70_000) + "\"}";
            assertEquals(cut.length(), send(s, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofString(cut))
                    .header("content-type", "application/json"), "/echo").body().length(), "a body over the capture cap");
            String multipart = "--tapline-it\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nmp-passw0rd\r\n"
                    + "--tapline-it\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nwrite to mp.jane@example.com\r\n"
                    + "--tapline-it\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    + "\u0001\u0002binary\r\n--tapline-it--\r\n";
            send(s, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofString(multipart))
                    .header("content-type", "multipart/form-data; boundary=tapline-it"), "/echo");
            String ndjson = "{\"index\":{}}\n{\"password\":\"ndjson-passw0rd\",\"next\":\"https://shop.example/reset?token=url-t0ken-s3cret\"}\n";
            send(s, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofString(ndjson)).header("content-type", "application/x-ndjson")
                    .header("baggage", "user.email=bag.jane%40example.com,session_id=bag-sess-1"), "/echo");
            send(s, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofByteArray(
                    "{\"password\":\"utf16-passw0rd\"}".getBytes(StandardCharsets.UTF_16LE)))
                    .header("content-type", "application/json; charset=utf-16le"), "/echo");
            send(s, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofString(
                    "<login api_key=\"xml-api-k3y\"><user>ann</user><wsse:Password>xml-passw0rd</wsse:Password></login>"))
                    .header("content-type", "text/xml"), "/echo");
            send(s, HttpRequest.newBuilder(), "/hello;jsessionid=js-sess-s3cret?a=1;token=semi-t0ken-s3cret");
            int cap = SidecarOptions.DEFAULT_CAPTURE_MAX_BODY_BYTES;
            for (String cutSecret : List.of("4000 0566 5566 5556", "cutcap.jane@example.com")) {
                String text = "x".repeat(cap - 10) + " " + cutSecret + " and more text";
                send(s, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofString(text)).header("content-type", "text/plain"), "/echo");
            }
            send(s, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofString(
                    "level=warn msg=\"login retried\" user=ann password=txt-passw0rd api_secret=\"logfmt s3cret\"\n"))
                    .header("content-type", "text/plain"), "/echo");
            HttpResponse<String> trace = send(s, HttpRequest.newBuilder().method("TRACE", HttpRequest.BodyPublishers.noBody())
                    .header("Cookie", "sid=trace-c00kie-val").header("X-Auth-User", "trace-auth-user"), "/debug?token=trace-qt0ken");
            assertTrue(trace.body().contains("sid=trace-c00kie-val"), "the client gets the app's echo as it was: " + trace.body());
            String har = "{\"log\":{\"entries\":[{\"request\":{\"headers\":[{\"name\":\"X-Api-Key\",\"value\":\"har-apik3y-val\"},"
                    + "{\"name\":\"Cookie\",\"value\":\"sid=har-c00kie-val\"},{\"name\":\"Accept\",\"value\":\"*/*\"}]}}]}}";
            send(s, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.ofString(har)).header("content-type", "application/json"), "/echo");
            List<ConsumerRecord<String, Interaction>> published = consume(stack, topic, 19, Duration.ofSeconds(60));
            assertEquals(19, published.size(), () -> published.stream().map(r -> r.value().getRequest().getPath()).toList()
                    + " " + s.metrics().scrape().lines().filter(l -> l.startsWith("tapline_sidecar_dropped_total")).toList());
        }
        // scan the raw bytes (keys, values, headers) of every topic on the broker
        List<String> topics = new ArrayList<>(stack.admin().listTopics().names().get(30, TimeUnit.SECONDS));
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, stack.uniqueName("secret-scan"));
        long scanned = 0;
        Map<String, Long> scannedPerTopic = new HashMap<>();
        List<String> found = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (String t : topics) {
                consumer.partitionsFor(t, Duration.ofSeconds(30)).forEach(p -> tps.add(new TopicPartition(t, p.partition())));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    scanned++;
                    scannedPerTopic.merge(r.topic(), 1L, Long::sum);
                    List<byte[]> parts = new ArrayList<>();
                    parts.add(r.key());
                    parts.add(r.value());
                    for (Header h : r.headers()) {
                        parts.add(h.key().getBytes(StandardCharsets.UTF_8));
                        parts.add(h.value());
                    }
                    for (byte[] part : parts) {
                        if (part == null) {
                            continue;
                        }
                        String text = new String(part, StandardCharsets.ISO_8859_1);
                        for (String secret : secrets) {
                            if (text.contains(secret)) {
                                found.add(secret + " in " + r.topic());
                            }
                        }
                    }
                }
            }
            List<TopicPartition> unread = tps.stream().filter(tp -> consumer.position(tp) < end.get(tp)).toList();
            assertTrue(unread.isEmpty(), "the scan ran out of time before the end of " + unread);
        }
        assertTrue(scanned >= 10, "scanned " + scanned + " records of " + topics);
        // the scan must have read the very records the secrets were planted in, not only other tests' topics
        assertTrue(scannedPerTopic.getOrDefault(topic, 0L) >= 19, () -> "records scanned per topic: " + scannedPerTopic);
        assertTrue(found.isEmpty(), "secrets found: " + found);
    }

    /** Drives steady traffic through the sidecar from a few threads, counting non-200 answers and errors. */
    static final class Load implements AutoCloseable {
        final AtomicLong ok = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicBoolean running = new AtomicBoolean(true);
        final ExecutorService pool = Executors.newFixedThreadPool(4);
        final List<Future<?>> workers = new ArrayList<>();

        Load(Sidecar s) {
            for (int w = 0; w < 4; w++) {
                workers.add(pool.submit(() -> {
                    while (running.get()) {
                        try {
                            HttpResponse<String> r = send(s, HttpRequest.newBuilder(), "/hello?w=1");
                            (r.statusCode() == 200 && r.body().equals("hello") ? ok : failed).incrementAndGet();
                            Thread.sleep(5);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    }
                }));
            }
        }

        @Override
        public void close() throws Exception {
            running.set(false);
            for (Future<?> f : workers) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdownNow();
        }
    }

    static void awaitCondition(String what, Duration within, java.util.function.BooleanSupplier ok) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!ok.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    @Test
    void shouldKeepServingWhenTheBrokerStopsAndResumePublishingAfterItReturns(TestStack stack) throws Exception {
        String topic = stack.createTopic("interactions-outage", 3, Map.of());
        try (Sidecar s = start(options(stack, topic))) {
            Load load = new Load(s);
            try {
                awaitCondition("first publications", Duration.ofSeconds(30), () -> counter(s, "tapline_sidecar_published_total") > 20);
                stack.stopBroker();
                long okAtStop = load.ok.get();
                try {
                    awaitCondition("drops counted during the outage", Duration.ofSeconds(60),
                            () -> counter(s, "tapline_sidecar_dropped_total") - counter(s, "tapline_sidecar_dropped_total{reason=\"sampled_out\"}") > 0);
                    Thread.sleep(2000);
                    assertTrue(load.ok.get() > okAtStop + 50, "traffic kept flowing while the broker was down: " + (load.ok.get() - okAtStop));
                } finally {
                    stack.startBroker();
                }
                long publishedAtRestart = counter(s, "tapline_sidecar_published_total");
                awaitCondition("publishing resumed after the broker came back", Duration.ofSeconds(120),
                        () -> counter(s, "tapline_sidecar_published_total") > publishedAtRestart + 50);
            } finally {
                load.close();
            }
            assertEquals(0, load.failed.get(), "no proxied request failed");
            assertTrue(load.ok.get() > 100);
            assertTrue(counter(s, "tapline_sidecar_dropped_total{reason=\"producer_error\"}")
                    + counter(s, "tapline_sidecar_dropped_total{reason=\"queue_full\"}") > 0, s.metrics().scrape());
        }
    }

    /**
     * A frozen broker (SIGSTOP: its connections stay open and nothing answers, as in a partition), unlike a stopped
     * one whose connections are refused: once the produce requests in flight time out, each send waits max.block.ms
     * for metadata and fails on the calling thread. Its captures are then dropped at once as broker_unavailable, one
     * send tried after each back-off, and publishing resumes on its own once the broker answers.
     */
    @Test
    void shouldDropCapturesAsBrokerUnavailableWhileTheBrokerIsFrozenAndResumeAfterwards(TestStack stack) throws Exception {
        String topic = stack.createTopic("interactions-frozen", 3, Map.of());
        try (Sidecar s = start(options(stack, topic))) {
            Load load = new Load(s);
            try {
                awaitCondition("first publications", Duration.ofSeconds(30), () -> counter(s, "tapline_sidecar_published_total") > 20);
                stack.freezeBroker();
                long okAtFreeze = load.ok.get();
                try {
                    awaitCondition("captures dropped as broker_unavailable", Duration.ofSeconds(60),
                            () -> counter(s, "tapline_sidecar_dropped_total{reason=\"broker_unavailable\"}") > 0);
                    long unavailable = counter(s, "tapline_sidecar_dropped_total{reason=\"broker_unavailable\"}");
                    Thread.sleep(2000);
                    assertTrue(load.ok.get() > okAtFreeze + 50, "traffic kept flowing while the broker was frozen: " + (load.ok.get() - okAtFreeze));
                    assertTrue(counter(s, "tapline_sidecar_dropped_total{reason=\"broker_unavailable\"}") > unavailable + 50,
                            "the captures of the outage go on being dropped at once: " + s.metrics().scrape());
                } finally {
                    stack.thawBroker();
                }
                long publishedAtThaw = counter(s, "tapline_sidecar_published_total");
                awaitCondition("publishing resumed after the broker answered again", Duration.ofSeconds(60),
                        () -> counter(s, "tapline_sidecar_published_total") > publishedAtThaw + 50);
            } finally {
                load.close();
            }
            assertEquals(0, load.failed.get(), "no proxied request failed");
            assertEquals(0, counter(s, "tapline_sidecar_dropped_total{reason=\"in_flight_full\"}"), s.metrics().scrape());
            // every capture accounted for: published, or dropped for a reason of the outage
            awaitCondition("captured = published + producer_error + broker_unavailable", Duration.ofSeconds(30),
                    () -> counter(s, "tapline_sidecar_captured_total") == counter(s, "tapline_sidecar_published_total")
                            + counter(s, "tapline_sidecar_dropped_total{reason=\"producer_error\"}")
                            + counter(s, "tapline_sidecar_dropped_total{reason=\"broker_unavailable\"}"));
        }
    }

    @Test
    void shouldKeepServingWhileTheRegistryIsDownAndPublishOnceItIsBack(TestStack stack) throws Exception {
        String topic = stack.createTopic("interactions-noregistry", 3, Map.of());
        stack.stopRegistry();
        Sidecar s;
        Load load;
        try {
            s = start(options(stack, topic));
            load = new Load(s);
            awaitCondition("serialization drops while the registry is down", Duration.ofSeconds(30),
                    () -> counter(s, "tapline_sidecar_dropped_total{reason=\"serialization\"}") > 10);
            assertEquals(0, counter(s, "tapline_sidecar_published_total"));
        } finally {
            stack.startRegistry();
        }
        try (s) {
            try {
                awaitCondition("publishing after the registry came back", Duration.ofSeconds(60),
                        () -> counter(s, "tapline_sidecar_published_total") > 20);
            } finally {
                load.close();
            }
            assertEquals(0, load.failed.get(), "no proxied request failed");
            List<ConsumerRecord<String, Interaction>> recs = consume(stack, topic, 20, Duration.ofSeconds(30));
            assertTrue(recs.size() >= 20);
            assertEquals("/hello", recs.get(0).value().getRequest().getPath());
        }
    }
}
