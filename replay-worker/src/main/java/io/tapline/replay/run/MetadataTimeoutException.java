package io.tapline.replay.run;

import org.apache.kafka.common.errors.TimeoutException;

/**
 * No broker gave the metadata of a topic within the timeout: the bootstrap servers are unreachable (wrong address,
 * brokers down, another security protocol), since a reachable broker answers for a missing topic too. It is a Kafka
 * {@link TimeoutException}, so code that handles those handles it; the command names the option to fix.
 */
public final class MetadataTimeoutException extends TimeoutException {

    private static final long serialVersionUID = 1L;

    private final String topic;

    public MetadataTimeoutException(String topic, TimeoutException cause) {
        super("no metadata for topic " + topic + ": " + cause.getMessage(), cause);
        this.topic = topic;
    }

    /** The topic whose metadata was asked for. */
    public String topic() {
        return topic;
    }
}
