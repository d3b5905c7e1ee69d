package io.tapline.dedup;

import io.tapline.topics.DeadLetters;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many partitions the {@code by-signature} and {@code by-route} repartition topics get when
 * {@code streams.partitions} is 0. Kafka Streams sizes a repartition topic as its input when it first creates it, and
 * afterwards refuses to run ("Existing internal topic ... has invalid partitions") once partitions were added to
 * {@code tapline.interactions}: the only way back would be a reset, losing every store. So the job pins them at start:
 * at the partitions the existing {@code by-signature} topic has, or, on a first start, at the input's. Adding
 * partitions to the input then only adds decode tasks, which hold no state.
 *
 * <p>Both counts come from the start-up {@link TopicCheck}, which describes the {@code by-signature} topic with the
 * job's own topics, in the same call and under the same deadline: no second admin client and no wait of its own.
 * Before, this asked the brokers again with 30 s to answer, so brokers that were down held the start for the check's
 * 15 s and then 30 s more. Brokers that did not answer the check leave the topics unpinned, and the start goes on, as
 * it did after the 30 s: Kafka Streams then sizes them as the input, which is what pinning gives too, unless partitions
 * were added to the input since they were made.
 */
final class InternalPartitions {

    private static final Logger LOG = LoggerFactory.getLogger(InternalPartitions.class);

    private InternalPartitions() {
    }

    /**
     * The {@code by-signature} repartition topic whose partitions {@link #pin} reads; null when {@code config} has
     * its count already ({@code streams.partitions} set), so the check need not describe it.
     */
    static String repartitionTopic(DedupConfig config, Properties streamsConfig) {
        if (config.internalPartitions() > 0) {
            return null;
        }
        return new StreamsConfig(streamsConfig).getString(StreamsConfig.APPLICATION_ID_CONFIG) + "-by-signature-repartition";
    }

    /**
     * {@code config} with its repartition topics pinned as the class says, from the topic check's answer; as it was
     * when already pinned, or when the check could not tell the partitions of {@code repartition} or of the input.
     */
    static DedupConfig pin(DedupConfig config, String repartition, TopicCheck.Result check) {
        if (config.internalPartitions() > 0 || repartition == null) {
            return config;
        }
        Integer existing = check.partitions().get(repartition);
        if (existing != null) {
            LOG.info("repartition topics pinned at {} partitions, as {} has", existing, repartition);
            return config.withInternalPartitions(existing);
        }
        Integer input = check.partitions().get(config.inputTopic());
        if (input != null && check.unknown().contains(repartition)) {
            LOG.info("repartition topics pinned at {} partitions, as {} has", input, config.inputTopic());
            return config.withInternalPartitions(input);
        }
        if (check.unknown().contains(config.inputTopic())) {
            // no input topic: TopicCheck refused that at start
            return config;
        }
        Throwable why = check.failures().containsKey(repartition) ? check.failures().get(repartition)
                : check.failures().get(config.inputTopic());
        LOG.warn("cannot read the partitions of {} or {} ({}); the repartition topics follow the input's partitions, "
                + "so set streams.partitions before adding partitions to {}", repartition, config.inputTopic(),
                why == null ? "no answer" : DeadLetters.describe(why), config.inputTopic());
        return config;
    }
}
