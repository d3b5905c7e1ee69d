package io.tapline.dedup.testing;

import io.tapline.avro.Interaction;
import java.time.Instant;
import java.util.function.Supplier;
import org.apache.avro.Schema;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * An interaction serde on which the dedup stream's own code fails for chosen records: the decode step gets, for an
 * interaction of service {@value #SERVICE}, an interaction whose {@code startedAt} throws, so the step fails for that
 * record after decoding and signing it, as a bug or input the code does not expect would.
 */
public final class PoisonedInteractions {

    /** The service whose interactions the decode step fails on. */
    public static final String SERVICE = "poisoned";

    private PoisonedInteractions() {
    }

    /** {@code real}, with a deserializer that hands the interactions of service {@value #SERVICE} throwing {@code failure}. */
    public static Serde<Interaction> failingWith(Serde<Interaction> real, Supplier<RuntimeException> failure) {
        Deserializer<Interaction> poisoning = new Deserializer<>() {
            @Override
            public Interaction deserialize(String topic, byte[] data) {
                return poisoned(real.deserializer().deserialize(topic, data));
            }

            @Override
            public Interaction deserialize(String topic, Headers headers, byte[] data) {
                return poisoned(real.deserializer().deserialize(topic, headers, data));
            }

            private Interaction poisoned(Interaction decoded) {
                if (decoded == null || !SERVICE.equals(decoded.getService())) {
                    return decoded;
                }
                Interaction poisoned = new Interaction() {
                    @Override
                    public Instant getStartedAt() {
                        throw failure.get();
                    }
                };
                for (Schema.Field field : Interaction.getClassSchema().getFields()) {
                    poisoned.put(field.pos(), decoded.get(field.pos()));
                }
                return poisoned;
            }
        };
        return Serdes.serdeFrom(real.serializer(), poisoning);
    }
}
