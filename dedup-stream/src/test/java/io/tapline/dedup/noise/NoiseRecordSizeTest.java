package io.tapline.dedup.noise;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.avro.HttpResponse;
import io.tapline.avro.NoiseProfile;
import io.tapline.dedup.DedupOptions;
import io.tapline.topics.TaplineTopics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What noise learning writes must fit where it is written: a record over a topic's {@code max.message.bytes} fails
 * the task at every retry, and with it the job.
 */
class NoiseRecordSizeTest {

    /**
     * A JSON body of about 50 KB can name a long key over thousands of fields: every field's path repeats it. Its
     * fields go to the baselines store and, twice over, into the pair's observation on the by-route repartition.
     */
    @Test
    void aResponseKeepsBoundedFieldPathsWhateverItsShape() {
        StringBuilder body = new StringBuilder("{\"").append("k".repeat(4000)).append("\":{");
        for (int i = 0; i < 6000; i++) {
            body.append(i == 0 ? "" : ",").append('"').append(word(i)).append("\":1");
        }
        body.append("}}");
        HttpResponse response = HttpResponse.newBuilder().setStatus(200).setHeaders(List.of())
                .setBody(ByteBuffer.wrap(body.toString().getBytes(StandardCharsets.UTF_8)))
                .setContentType("application/json").build();
        ResponseFields fields = ResponseDiff.fields(response);
        long chars = fields.digests().keySet().stream().mapToLong(String::length).sum();
        assertTrue(fields.digests().size() > 100, "the fields within the bound are kept: " + fields.digests().size());
        assertTrue(chars <= ResponseDiff.MAX_FIELD_PATH_CHARS, "path characters kept: " + chars);
        assertTrue(ResponseFields.encode(fields).length < TaplineTopics.DERIVED_MAX_BYTES / 4,
                "a baseline: " + ResponseFields.encode(fields).length + " bytes");
    }

    /** The largest profile the options allow: every tracked field noisy, each path as long as is compared. */
    @Test
    void theLargestProfileFitsTheNoiseTopic() throws Exception {
        RouteNoise noise = RouteNoise.empty("shop", "GET /x");
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < DedupOptions.MAX_NOISE_FIELDS; i++) {
            String prefix = "$." + word(i) + ".";
            paths.add(prefix + "p".repeat(ResponseDiff.MAX_PATH_CHARS - prefix.length()));
        }
        NoiseObservation pair = new NoiseObservation("shop", "GET /x", paths, paths);
        for (int i = 0; i < 10; i++) {
            noise.add(pair, DedupOptions.MAX_NOISE_FIELDS, 0, 1000L + i);
        }
        NoiseProfile profile = noise.profile(NoiseRule.defaults(), Instant.EPOCH);
        assertTrue(profile.getFields().size() == DedupOptions.MAX_NOISE_FIELDS, "every field noisy");
        int size = profile.toByteBuffer().remaining() + 5; // the Confluent wire format's magic byte and schema id
        int limit = Integer.parseInt(TaplineTopics.NOISE_SPEC.configs().get("max.message.bytes"));
        assertTrue(size < limit, size + " bytes against the topic's " + limit);
        assertTrue(RouteNoise.encode(noise).length < TaplineTopics.DERIVED_MAX_BYTES, "the noise store's changelog");
    }

    private static String word(int i) {
        StringBuilder w = new StringBuilder();
        do {
            w.append((char) ('a' + i % 26));
            i /= 26;
        } while (i > 0);
        return w.append("x").toString();
    }
}
