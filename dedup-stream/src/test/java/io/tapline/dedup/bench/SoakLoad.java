package io.tapline.dedup.bench;

import io.tapline.avro.Interaction;
import io.tapline.dedup.DedupSerdes;
import io.tapline.dedup.signature.Signer;
import io.tapline.dedup.testing.Interactions;
import io.tapline.registry.RegistryConfig;
import io.tapline.signature.RouteTemplates;
import io.tapline.testing.BenchArgs;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A sustained load for memory soaks of a running dedup job: writes interactions to its input topic for a given
 * time, each a fresh one (own ids, names, timestamps), so the state keeps growing. {@code routes} routes, each
 * with {@code shapes} response shapes (an extra top-level field named after the shape, in letters), about
 * routes x shapes distinct signatures picked uniformly; JSON response bodies of {@code min-kib}..{@code max-kib}.
 *
 * <pre>
 * dedup-stream/bench/soak-load.sh --bootstrap H:P --registry URL [--minutes 25] [--rate 0] [--routes 2000]
 *     [--shapes 250] [--seed 11] [--min-kib 2] [--max-kib 8] [--partitions 0] [--retention-ms 0]
 *     [--topic tapline.interactions]
 * </pre>
 * {@code --partitions N} first adds partitions to the topic up to N (before the job's first start: its repartition
 * topics take the input's count then); {@code --retention-ms} sets the topic's retention, to keep a long soak's
 * input from filling the disk. {@code --rate 0} sends as fast as the broker takes it. A load restarted with the same
 * {@code --seed} sends the same routes and shapes in the same order: give a restart another seed.
 */
public final class SoakLoad {

    private static final Instant T0 = Instant.now().minusSeconds(3600);

    private SoakLoad() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = BenchArgs.parse(args, 0);
        String bootstrap = BenchArgs.require(o, "bootstrap");
        String registry = BenchArgs.require(o, "registry");
        String topic = o.getOrDefault("topic", "tapline.interactions");
        double minutes = Double.parseDouble(o.getOrDefault("minutes", "25"));
        int rate = Integer.parseInt(o.getOrDefault("rate", "0"));
        int routes = Integer.parseInt(o.getOrDefault("routes", "2000"));
        int shapes = Integer.parseInt(o.getOrDefault("shapes", "250"));
        int minBytes = Integer.parseInt(o.getOrDefault("min-kib", "2")) * 1024;
        int maxBytes = Integer.parseInt(o.getOrDefault("max-kib", "8")) * 1024;
        int partitions = Integer.parseInt(o.getOrDefault("partitions", "0"));
        long retentionMs = Long.parseLong(o.getOrDefault("retention-ms", "0"));

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            int now = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
            if (partitions > now) {
                admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(partitions))).all().get();
                System.out.printf("%s: %d -> %d partitions%n", topic, now, partitions);
            }
            if (retentionMs > 0) {
                admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic), List.of(
                        new AlterConfigOp(new ConfigEntry("retention.ms", Long.toString(retentionMs)),
                                AlterConfigOp.OpType.SET)))).all().get();
                System.out.printf("%s: retention.ms=%d%n", topic, retentionMs);
            }
        }

        Serializer<Interaction> serializer = DedupSerdes.registry(Map.of(RegistryConfig.URL, registry))
                .interaction().serializer();
        Random random = new Random(Long.parseLong(o.getOrDefault("seed", "11")));
        // Filler lines of the response bodies, cut to each body's size: building JSON dominates otherwise.
        StringBuilder filler = new StringBuilder(maxBytes + 200);
        int n = 0;
        while (filler.length() < maxBytes) {
            filler.append(n++ > 0 ? "," : "").append("{\"sku\":\"SKU-").append(random.nextInt(1_000_000))
                    .append("\",\"qty\":").append(random.nextInt(9)).append(",\"price\":")
                    .append(random.nextInt(10_000) / 100.0).append(",\"note\":\"")
                    .append(Long.toHexString(random.nextLong())).append("\"}");
        }
        String lines = filler.toString();

        Signer signer = Signer.defaults();
        Set<String> sample = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            sample.add(signer.sign(interaction(random, routes, shapes, minBytes, maxBytes, lines)).id());
        }
        System.out.printf("%d routes x %d shapes; %d distinct signatures in a sample of 2000%n", routes, shapes,
                sample.size());

        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long sent = 0;
        long bytes = 0;
        long start = System.nanoTime();
        long end = start + (long) (minutes * 60e9);
        long nextReport = start + 10_000_000_000L;
        long lastSent = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), new ByteArraySerializer(), new ByteArraySerializer())) {
            while (true) {
                long t = System.nanoTime();
                if (t >= end) {
                    break;
                }
                if (rate > 0 && sent >= (t - start) / 1e9 * rate) {
                    Thread.sleep(1);
                    continue;
                }
                Interaction interaction = interaction(random, routes, shapes, minBytes, maxBytes, lines);
                byte[] value = serializer.serialize(topic, interaction);
                byte[] key = (interaction.getService() + " " + RouteTemplates.routeKey(
                        interaction.getRequest().getMethod(), interaction.getRequest().getPath()))
                        .getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(topic, key, value), (m, e) -> {
                    if (e == null) {
                        acked.incrementAndGet();
                    } else if (failed.getAndIncrement() == 0) {
                        e.printStackTrace();
                    }
                });
                sent++;
                bytes += value.length;
                if (t >= nextReport) {
                    System.out.printf("%s sent %,d (%,.0f/s over the last 10 s), acked %,d, failed %,d, avg value %,d B%n",
                            Instant.now(), sent, (sent - lastSent) / ((t - nextReport + 10e9) / 1e9), acked.get(),
                            failed.get(), bytes / sent);
                    lastSent = sent;
                    nextReport = t + 10_000_000_000L;
                }
            }
            producer.flush();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("done: %,d interactions (%,d MiB of values) in %.0f s = %,.0f/s; acked %,d, failed %,d%n",
                sent, bytes >> 20, seconds, sent / seconds, acked.get(), failed.get());
    }

    /** A fresh interaction: route and shape uniform, ids and values random, body of minBytes..maxBytes. */
    static Interaction interaction(Random random, int routes, int shapes, int minBytes, int maxBytes, String lines) {
        int route = random.nextInt(routes);
        int shape = random.nextInt(shapes);
        int id = 1 + random.nextInt(1_000_000);
        String method = route % 5 == 4 ? "POST" : "GET";
        String path = route % 2 == 0 ? "/api/res" + route + "/items/" + id : "/api/res" + route + "/list";
        Interactions b = Interactions.request(method, path).service("shop-" + (route % 8))
                .at(T0.plusMillis(random.nextInt(3_600_000)))
                .query(route % 2 == 1 ? "page=" + (1 + id % 5) + "&size=20" : null);
        if (method.equals("POST")) {
            b.jsonRequest("{\"name\":\"n" + id + "\",\"amount\":" + (id % 1000) + "}");
        }
        int size = minBytes + random.nextInt(Math.max(1, maxBytes - minBytes));
        String head = "{\"id\":" + id + ",\"attr_" + letters(shape) + "\":" + random.nextInt(100) + ",\"name\":\"item "
                + random.nextInt(1_000_000) + "\",\"updatedAt\":\"" + T0.plusSeconds(random.nextInt(86_400))
                + "\",\"lines\":[";
        int cut = lines.indexOf("},{", Math.max(0, size - head.length()));
        String body = head + (cut < 0 ? lines : lines.substring(0, cut + 1)) + "]}";
        if (shape % 7 == 3) {
            b.json(body).call("GET", "inventory", "/stock/" + id, 200);
        } else {
            b.json(body);
        }
        return b.responseHeader("Date", T0.plusSeconds(random.nextInt(86_400)).toString()).build();
    }

    /** The shape's number in letters: a JSON shape reads digits in a key as a number ({@code attr#}). */
    private static String letters(int n) {
        StringBuilder sb = new StringBuilder();
        do {
            sb.append((char) ('a' + n % 26));
            n /= 26;
        } while (n > 0);
        return sb.toString();
    }
}
