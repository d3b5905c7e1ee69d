package io.tapline.dedup;

/** What the decode step hands on: a signed interaction (as a draft case) or a dead letter. */
sealed interface Routed {

    /** A decoded, signed interaction: its hit on its signature, with the interaction when the dedup step needs it. */
    record Signed(Hit hit) implements Routed {
    }

    /** An input record that could not be used; the original bytes, with the DLQ headers on the record. */
    record Dead(byte[] key, byte[] value) implements Routed {
    }
}
