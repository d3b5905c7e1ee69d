package io.tapline.replay.bench;

import io.tapline.avro.Case;
import io.tapline.avro.OutboundCall;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryClient;
import io.tapline.replay.Fixtures;
import io.tapline.serde.TaplineAvroSerializer;
import io.tapline.testing.BenchArgs;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Cases and a candidate for memory soaks of the replay worker (deploy/README.md, Replay worker memory). Two commands:
 *
 * <pre>
 * replay-worker/bench/soak-load.sh write --bootstrap H:P --registry URL [--cases 70000] [--from 0] [--seed 7]
 *     [--topic tapline.cases]
 * replay-worker/bench/soak-load.sh candidate --mock-port P [--port 8081] [--seed 7] [--event-loops 2]
 * </pre>
 *
 * {@code write} writes cases {@code from}..{@code from+cases-1} (Confluent wire format against the registry), each
 * {@code POST /api/orders/{i}} with a JSON body of 2-8 KiB answered 200 with a JSON body of 4-32 KiB (sizes uniform,
 * about 23 KiB per case in all), and one recorded dependency call, {@code GET inventory /stock/{i}} (a named route).
 * {@code candidate} serves those cases as the production service would behind the replay worker: it reads the request
 * body, calls {@code http://127.0.0.1:<mock-port>/inventory/stock/{i}} (the worker's mock, with
 * {@code --mock-route inventory=http://inventory:8080}) propagating the {@code traceparent} it received, and answers
 * the recorded response rebuilt from {@code i} and the seed, with its first member moved to the end (equal JSON,
 * unequal bytes, so every case is compared structurally), or 502 when the mock did not answer 200. Both commands
 * must be given the same {@code --seed}. Every case passes when the candidate and the mock work.
 */
public final class SoakLoad {

    private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
    private static final int MAX_BODY = 32 * 1024;

    private SoakLoad() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: SoakLoad write|candidate --option value ...");
        }
        Map<String, String> o = BenchArgs.parse(args, 1);
        long seed = Long.parseLong(o.getOrDefault("seed", "7"));
        switch (args[0]) {
            case "write" -> write(o, seed);
            case "candidate" -> candidate(o, seed);
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }

    /** JSON object lines shared by every body, cut to each body's size: building JSON would dominate otherwise. */
    static String filler(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder(MAX_BODY + 200);
        int n = 0;
        while (sb.length() < MAX_BODY) {
            sb.append(n++ > 0 ? "," : "").append("{\"sku\":\"SKU-").append(random.nextInt(1_000_000))
                    .append("\",\"qty\":").append(random.nextInt(9)).append(",\"price\":")
                    .append(random.nextInt(10_000) / 100.0).append(",\"note\":\"")
                    .append(Long.toHexString(random.nextLong())).append("\"}");
        }
        return sb.toString();
    }

    /** Members of case {@code i}'s response, built from {@code i} and the seed alone: the writer's and the candidate's. */
    record Answer(String id, String rest) {

        static Answer of(int i, long seed, String lines) {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + i);
            int size = 4096 + r.nextInt(MAX_BODY - 4096);
            String head = "\"status\":\"accepted\",\"total\":" + r.nextInt(100_000) / 100.0 + ",\"updatedAt\":\""
                    + T0.plusSeconds(r.nextInt(86_400)) + "\",\"lines\":[";
            int cut = lines.indexOf("},{", Math.max(0, size - head.length()));
            return new Answer("\"id\":" + i, head + (cut < 0 ? lines : lines.substring(0, cut + 1)) + "]");
        }

        String recorded() {
            return "{" + id + "," + rest + "}";
        }

        String candidate() {
            return "{" + rest + "," + id + "}";
        }
    }

    /** Case {@code i}'s request body: 2-8 KiB of JSON. */
    static String requestBody(int i, long seed, String lines) {
        SplittableRandom r = new SplittableRandom(~(seed * 1_000_003L + i));
        int size = 2048 + r.nextInt(6 * 1024);
        String head = "{\"customer\":\"c" + r.nextInt(1_000_000) + "\",\"lines\":[";
        int cut = lines.indexOf("},{", Math.max(0, size - head.length()));
        return head + lines.substring(0, cut + 1) + "]}";
    }

    private static void write(Map<String, String> o, long seed) throws Exception {
        String bootstrap = BenchArgs.require(o, "bootstrap");
        String registry = BenchArgs.require(o, "registry");
        String topic = o.getOrDefault("topic", "tapline.cases");
        int cases = Integer.parseInt(o.getOrDefault("cases", "70000"));
        int from = Integer.parseInt(o.getOrDefault("from", "0"));
        String lines = filler(seed);
        TaplineAvroSerializer<Case> serializer = new TaplineAvroSerializer<>(
                new SchemaRegistryClient(RegistryConfig.of(registry)), false);
        AtomicLong failed = new AtomicLong();
        long bytes = 0;
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = from; i < from + cases; i++) {
                OutboundCall inventory = Fixtures.call("inventory", "GET", "/stock/" + i, null, null,
                        Fixtures.json(200, "{\"sku\":" + i + ",\"stock\":" + (i % 50) + "}"));
                Case c = Fixtures.caseOf("order-" + i,
                        Fixtures.request("POST", "shop:8080", "/api/orders/" + i, null, requestBody(i, seed, lines)),
                        Fixtures.json(200, Answer.of(i, seed, lines).recorded()), List.of(inventory), 1 + i % 7);
                byte[] value = serializer.serialize(topic, c);
                bytes += value.length;
                producer.send(new ProducerRecord<>(topic, c.getCaseId().getBytes(StandardCharsets.UTF_8), value),
                        (m, e) -> {
                            if (e != null && failed.getAndIncrement() == 0) {
                                e.printStackTrace();
                            }
                        });
            }
            producer.flush();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("wrote cases %d..%d to %s: %,d MiB of values, %,d B mean, in %.0f s; failed %d%n", from,
                from + cases - 1, topic, bytes >> 20, bytes / Math.max(1, cases), seconds, failed.get());
        if (failed.get() > 0) {
            System.exit(1);
        }
    }

    private static void candidate(Map<String, String> o, long seed) throws Exception {
        int port = Integer.parseInt(o.getOrDefault("port", "8081"));
        String inventory = "http://127.0.0.1:" + BenchArgs.require(o, "mock-port") + "/inventory";
        String lines = filler(seed);
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(
                Integer.parseInt(o.getOrDefault("event-loops", "2"))));
        HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(64));
        AtomicLong served = new AtomicLong();
        AtomicLong bad = new AtomicLong();
        vertx.createHttpServer().requestHandler(req -> req.body().onComplete(body -> handle(req, client, inventory,
                seed, lines, served, bad))).listen(port, "127.0.0.1").await();
        System.out.printf("candidate on 127.0.0.1:%d, dependency inventory at %s%n", port, inventory);
        vertx.setPeriodic(10_000, t -> System.out.printf("%s served %,d, of them %,d not from a recording%n",
                Instant.now(), served.get(), bad.get()));
        new CountDownLatch(1).await();
    }

    private static void handle(HttpServerRequest req, HttpClientAgent client, String inventory, long seed, String lines,
                               AtomicLong served, AtomicLong bad) {
        served.incrementAndGet();
        String path = req.path();
        if (path.equals("/health")) {
            req.response().end("ok");
            return;
        }
        if (!path.startsWith("/api/orders/")) {
            bad.incrementAndGet();
            req.response().setStatusCode(404).end();
            return;
        }
        int i = Integer.parseInt(path.substring("/api/orders/".length()));
        RequestOptions call = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(inventory + "/stock/" + i);
        String traceparent = req.getHeader("traceparent");
        if (traceparent != null) {
            call.putHeader("traceparent", traceparent);
        }
        client.request(call).compose(r -> r.send().compose(resp -> resp.body().map(b -> resp.statusCode())))
                .onComplete(ar -> {
                    if (ar.succeeded() && ar.result() == 200) {
                        req.response().putHeader("content-type", "application/json")
                                .end(Answer.of(i, seed, lines).candidate());
                    } else {
                        bad.incrementAndGet();
                        req.response().setStatusCode(502).end();
                    }
                });
    }
}
