package io.tapline.topics;

import java.util.Map;
import java.util.Objects;

/**
 * A topic Tapline uses, with the settings it is created with.
 *
 * @param name       topic name
 * @param partitions partition count for a fresh local stack (production sizes are in the README)
 * @param configs    topic-level configs, e.g. {@code cleanup.policy=compact}
 * @param purpose    one line saying what flows through the topic and what its key is
 */
public record TopicSpec(String name, int partitions, Map<String, String> configs, String purpose) {

    public TopicSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(purpose, "purpose");
        if (partitions < 1) {
            throw new IllegalArgumentException("topic " + name + ": partitions must be >= 1, got " + partitions);
        }
        configs = Map.copyOf(configs);
    }

    /** The same topic under another name, e.g. a per-test unique name. */
    public TopicSpec withName(String newName) {
        return new TopicSpec(newName, partitions, configs, purpose);
    }
}
