package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tapline.avro.Case;
import io.tapline.avro.NoiseProfile;
import io.tapline.dedup.testing.FakeRegistry;
import io.tapline.dedup.testing.Interactions;
import io.tapline.dedup.testing.LegacyFormats;
import io.tapline.registry.RegistryConfig;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DedupSerdesTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /**
     * The output schemas are registered at start on the client the serializers use: a registry that goes away after the
     * start does not fail the first case or noise profile. Registered on a client of its own, the first publication of
     * each asked the registry again, and a registry outage failed the stream thread there, at every restart.
     */
    @Test
    void shouldEncodeOutputsWithTheIdsRegisteredAtStartWhileTheRegistryIsDown() throws Exception {
        DedupConfig config = DedupConfig.defaults();
        try (FakeRegistry registry = new FakeRegistry()) {
            DedupSerdes serdes = DedupSerdes.registered(Map.of(RegistryConfig.URL, registry.url(),
                    RegistryConfig.MAX_RETRIES, "0"), config);
            registry.answerNothing(true); // the registry goes away after the start

            Case sample = LegacyFormats.draftCase(Interactions.get("/owners/1").at(T0).build(), T0);
            byte[] caseBytes = serdes.cases().serializer().serialize(config.casesTopic(), sample);
            NoiseProfile profile = NoiseProfile.newBuilder().setService("shop").setRoute("GET /owners/{id}")
                    .setUpdatedAt(T0).build();
            byte[] noiseBytes = serdes.noise().serializer().serialize(config.noiseTopic(), profile);

            // the ids the registry gave at start: the fake numbers schemas from 1, in the order registered
            assertArrayEquals(new byte[] {0, 0, 0, 0, 1}, Arrays.copyOf(caseBytes, 5));
            assertArrayEquals(new byte[] {0, 0, 0, 0, 2}, Arrays.copyOf(noiseBytes, 5));
            assertEquals(sample, serdes.cases().deserializer().deserialize(config.casesTopic(), caseBytes));
        }
    }
}
