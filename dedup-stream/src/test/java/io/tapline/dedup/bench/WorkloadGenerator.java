package io.tapline.dedup.bench;

import io.tapline.avro.Interaction;
import io.tapline.dedup.signature.Signer;
import io.tapline.dedup.testing.Interactions;
import io.tapline.signature.RouteTemplates;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A realistic interaction mix: {@code routes} routes picked with Zipf-distributed popularity; each route has 1-4
 * behaviours (the normal answer, a 404, an answer with an extra field, a call to a dependency) with skewed weights;
 * JSON bodies of 0.5-4 KiB whose values (ids, names, timestamps) differ between captures. A fixed pool of concrete
 * interactions per behaviour is serialized once and sampled, so loading is bounded by the broker, not by Avro.
 */
final class WorkloadGenerator {

    private static final int PER_BEHAVIOUR = 16;
    private static final Instant T0 = Instant.now().minusSeconds(3600);

    private final int routes;
    private final double[] routeCdf;
    private final Random random;
    private final List<int[]> behaviourRanges = new ArrayList<>(); // per route: start index, behaviours
    private final List<Interaction> interactions = new ArrayList<>();
    private final List<byte[]> keys = new ArrayList<>();
    private int expectedSignatures;

    WorkloadGenerator(int routes, double zipf, Random random) {
        this.routes = routes;
        this.random = random;
        routeCdf = new double[routes];
        double sum = 0;
        for (int r = 0; r < routes; r++) {
            sum += 1.0 / Math.pow(r + 1, zipf);
            routeCdf[r] = sum;
        }
        for (int r = 0; r < routes; r++) {
            routeCdf[r] /= sum;
        }
        build();
    }

    private void build() {
        Signer signer = Signer.defaults();
        Set<String> signatures = new HashSet<>();
        for (int r = 0; r < routes; r++) {
            int behaviours = 1 + random.nextInt(4);
            int bodyBytes = 512 + random.nextInt(3584);
            behaviourRanges.add(new int[] {interactions.size(), behaviours});
            for (int b = 0; b < behaviours; b++) {
                for (int i = 0; i < PER_BEHAVIOUR; i++) {
                    Interaction interaction = concrete(r, b, bodyBytes, i);
                    signatures.add(signer.sign(interaction).id());
                    interactions.add(interaction);
                    keys.add((interaction.getService() + " " + RouteTemplates.routeKey(
                            interaction.getRequest().getMethod(), interaction.getRequest().getPath()))
                            .getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        expectedSignatures = signatures.size();
    }

    private Interaction concrete(int route, int behaviour, int bodyBytes, int i) {
        String method = route % 5 == 4 ? "POST" : "GET";
        int id = 1 + random.nextInt(100_000);
        String path = route % 3 == 0 ? "/api/r" + route + "/items/" + id
                : route % 3 == 1 ? "/api/r" + route + "/" + java.util.UUID.randomUUID() + "/detail"
                : "/api/r" + route + "/list";
        Interactions b = Interactions.request(method, path).at(T0.plusMillis(i))
                .query(route % 3 == 2 ? "page=" + (1 + i % 5) + "&size=20" : null);
        if (method.equals("POST")) {
            b.jsonRequest("{\"name\":\"n" + id + "\",\"amount\":" + (id % 1000) + "}");
        }
        switch (behaviour) {
            case 1 -> b.status(404).json("{\"error\":\"not found\",\"id\":" + id + "}");
            case 2 -> b.json(body(id, bodyBytes, true));
            case 3 -> b.json(body(id, bodyBytes, false)).call("GET", "inventory", "/stock/" + id, 200);
            default -> b.json(body(id, bodyBytes, false));
        }
        return b.responseHeader("Date", T0.plusSeconds(i).toString()).build();
    }

    private String body(int id, int bytes, boolean extra) {
        StringBuilder sb = new StringBuilder(bytes + 200);
        sb.append("{\"id\":").append(id).append(",\"name\":\"item ").append(random.nextInt(1_000_000))
                .append("\",\"updatedAt\":\"").append(T0.plusSeconds(random.nextInt(86_400))).append('"');
        if (extra) {
            sb.append(",\"discount\":").append(random.nextInt(50));
        }
        sb.append(",\"lines\":[");
        int n = 0;
        while (sb.length() < bytes) {
            if (n++ > 0) {
                sb.append(',');
            }
            sb.append("{\"sku\":\"SKU-").append(random.nextInt(1_000_000)).append("\",\"qty\":").append(random.nextInt(9))
                    .append(",\"price\":").append(random.nextInt(10_000) / 100.0)
                    .append(",\"note\":\"").append(Long.toHexString(random.nextLong())).append("\"}");
        }
        return sb.append("]}").toString();
    }

    List<byte[]> pool(Serializer<Interaction> serializer, String topic) {
        List<byte[]> out = new ArrayList<>(interactions.size());
        for (Interaction i : interactions) {
            out.add(serializer.serialize(topic, i));
        }
        return out;
    }

    /** Index into the pool of the next interaction: Zipf route, skewed behaviour, uniform concrete sample. */
    int next() {
        double u = random.nextDouble();
        int lo = 0;
        int hi = routes - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (routeCdf[mid] < u) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        int[] range = behaviourRanges.get(lo);
        double v = random.nextDouble();
        int behaviour = v < 0.85 || range[1] == 1 ? 0 : 1 + random.nextInt(range[1] - 1);
        return range[0] + behaviour * PER_BEHAVIOUR + random.nextInt(PER_BEHAVIOUR);
    }

    byte[] key(int index) {
        return keys.get(index);
    }

    int expectedSignatures() {
        return expectedSignatures;
    }
}
