package io.tapline.dedup;

import io.tapline.avro.Case;

/** What the decode step hands on: a signed interaction (as a draft case) or a dead letter. */
sealed interface Routed {

    /** A decoded, signed interaction, wrapped as a draft {@link Case} (slot -1, hits 1). */
    record Signed(Case draft) implements Routed {
    }

    /** An input record that could not be used; the original bytes, with the DLQ headers on the record. */
    record Dead(byte[] key, byte[] value) implements Routed {
    }
}
