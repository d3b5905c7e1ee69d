package io.tapline.dedup;

import java.util.function.ToIntFunction;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A publication's walk over a task's store under a budget of writes: from the key the last publication stopped at to
 * the last key, then round from the first key to there, so that keys written at every publication cannot keep the
 * others waiting. The cases' publication ({@code dedup.publish.max.cases}) and the noise publication
 * ({@code dedup.publish.max.noise.profiles}) walk their stores so.
 */
final class StoreWalk {

    private StoreWalk() {
    }

    /**
     * Hands {@code write} each entry in that order until it has written {@code budget} (the sum of what it returns);
     * it stops at the first entry after that.
     *
     * @param from where the last walk stopped, or null to start at the first key
     * @return the key of the entry the walk stopped at, where the next one goes on; null when it read every entry
     */
    static <V> String from(KeyValueStore<String, V> store, String from, int budget, ToIntFunction<KeyValue<String, V>> write) {
        int written = 0;
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1 && from == null) {
                break;
            }
            try (KeyValueIterator<String, V> it = pass == 1 ? store.range(null, from)
                    : from == null ? store.all() : store.range(from, null)) {
                while (it.hasNext()) {
                    KeyValue<String, V> entry = it.next();
                    if (pass == 1 && entry.key.equals(from)) {
                        return null; // round to where this walk started
                    }
                    if (written >= budget) {
                        return entry.key;
                    }
                    written += write.applyAsInt(entry);
                }
            }
        }
        return null;
    }
}
