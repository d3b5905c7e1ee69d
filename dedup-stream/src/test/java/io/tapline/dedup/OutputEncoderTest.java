package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.logging.PeriodicWarning;
import io.tapline.registry.SchemaRegistryException;
import java.time.Duration;
import java.util.function.Supplier;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class OutputEncoderTest {

    private final DedupMetrics metrics = DedupMetrics.detached();

    private OutputEncoder<String> failingWith(Supplier<RuntimeException> failure) {
        return new OutputEncoder<>((topic, value) -> {
            if (value.equals("poison")) {
                throw failure.get();
            }
            return value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }, "tapline.cases", "case", metrics.unencodableCases, new PeriodicWarning(Duration.ofSeconds(10)));
    }

    @Test
    void aValueTheSerializerRefusesIsUnencodableAndTheRecordsFault() {
        OutputEncoder<String> encoder = failingWith(() -> new SerializationException("cannot encode io.tapline.avro.Case",
                new NullPointerException("null in a required field")));
        assertArrayEquals(new byte[] {'o', 'k'}, encoder.encode("c-0", "ok"));
        UnencodableOutputException e = assertThrows(UnencodableOutputException.class, () -> encoder.encode("c-1", "poison"));
        assertEquals("case c-1 cannot be encoded for tapline.cases", e.getMessage());
        assertTrue(e.getCause() instanceof SerializationException);
        assertTrue(RecordFailureHandler.recordAtFault(e), "dead-lettered, though its cause is a KafkaException");
        assertFalse(RecordFailureHandler.recordAtFault(e.getCause()));
    }

    /** Kafka Streams takes a ClassCastException out of a sink's serializer for a wrong serde and fails the thread. */
    @Test
    void aClassCastExceptionOfTheSerializerIsTheValuesToo() {
        OutputEncoder<String> encoder = failingWith(() -> new ClassCastException("java.lang.Integer cannot be cast"));
        UnencodableOutputException e = assertThrows(UnencodableOutputException.class, () -> encoder.encode("c", "poison"));
        assertTrue(e.getCause() instanceof ClassCastException);
    }

    /** A serializer's schema is its class's: a registry failure fails every value alike, and must fail the thread. */
    @Test
    void aRegistryFailureIsThrownAsItIs() {
        SerializationException outage = new SerializationException("cannot serialize",
                new SchemaRegistryException("unreachable", -1, -1, null));
        OutputEncoder<String> encoder = failingWith(() -> outage);
        assertSame(outage, assertThrows(SerializationException.class, () -> encoder.encode("c", "poison")));
    }

    @Test
    void removedValuesAreCounted() {
        OutputEncoder<String> encoder = failingWith(() -> new IllegalArgumentException("bad"));
        for (int i = 0; i < 3; i++) {
            int n = i;
            encoder.removed("c-" + n, assertThrows(UnencodableOutputException.class,
                    () -> encoder.encode("c-" + n, "poison")));
        }
        assertEquals(3, metrics.unencodableCases.value());
        assertEquals(0, metrics.unencodableNoiseProfiles.value());
    }
}
