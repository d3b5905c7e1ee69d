package io.tapline.dedup;

import io.tapline.dedup.noise.NoiseObservation;

/**
 * What the dedup step emits: a case (or a tombstone) keyed by case id, or a noise observation keyed by service and
 * route ({@link io.tapline.topics.TaplineTopics#noiseKey}).
 */
sealed interface Emitted {

    /**
     * A case record, {@code value} the case as the cases topic's serializer wrote it ({@link OutputEncoder}); null is a
     * tombstone.
     */
    record CaseOut(byte[] value) implements Emitted {
    }

    record NoiseOut(NoiseObservation observation) implements Emitted {
    }
}
