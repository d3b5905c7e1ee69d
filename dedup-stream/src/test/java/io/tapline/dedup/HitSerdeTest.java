package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tapline.avro.Case;
import io.tapline.dedup.noise.ResponseDiff;
import io.tapline.dedup.testing.Interactions;
import io.tapline.dedup.testing.LegacyFormats;
import java.time.Instant;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class HitSerdeTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private final HitSerde serde = new HitSerde(DedupConfig.HitFormat.COMPACT);

    @Test
    void shouldWriteACountedHitIn17Bytes() {
        byte[] bytes = serde.serializer().serialize("t", Hit.counted(123, -5));
        assertEquals(17, bytes.length);
        Hit hit = serde.deserializer().deserialize("t", bytes);
        assertEquals(123, hit.at());
        assertEquals(-5, hit.requestFingerprint());
        assertNull(hit.draft());
    }

    @Test
    void shouldRoundTripAWholeHit() {
        Case draft = draft();
        Hit hit = serde.deserializer().deserialize("t", serde.serializer().serialize("t", new Hit(9, 77, draft)));
        assertEquals(9, hit.at());
        assertEquals(77, hit.requestFingerprint());
        assertEquals(draft, hit.draft());
    }

    @Test
    void shouldReadAPreviousVersionsDraftCaseAsAWholeHit() {
        Case draft = draft();
        Hit hit = serde.deserializer().deserialize("t", LegacyFormats.draftCaseBytes(draft));
        assertEquals(T0.toEpochMilli(), hit.at());
        assertEquals(ResponseDiff.requestFingerprint(draft.getSample().getRequest()), hit.requestFingerprint());
        assertEquals(draft, hit.draft());
    }

    @Test
    void shouldRefuseBytesInNoKnownFormat() {
        for (byte[] bad : new byte[][] {{}, {7, 1, 2}, {HitSerde.COUNTED, 0, 0}, new byte[18], {HitSerde.WHOLE,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}}) {
            if (bad.length == 18) {
                bad[0] = HitSerde.COUNTED;
            }
            assertThrows(SerializationException.class, () -> serde.deserializer().deserialize("t", bad));
        }
        assertNull(serde.deserializer().deserialize("t", null));
        assertArrayEquals(null, serde.serializer().serialize("t", null));
    }

    private static Case draft() {
        return LegacyFormats.draftCase(Interactions.get("/owners/1").at(T0).json("{\"id\":1}").build(), T0);
    }
}
