package io.tapline.dedup;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
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
 */
final class InternalPartitions {

    private static final Logger LOG = LoggerFactory.getLogger(InternalPartitions.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private InternalPartitions() {
    }

    /** {@code config} with its repartition topics pinned as the class says; as it was when already pinned. */
    static DedupConfig pin(DedupConfig config, Properties streamsConfig) {
        if (config.internalPartitions() > 0) {
            return config;
        }
        StreamsConfig streams = new StreamsConfig(streamsConfig);
        String repartition = streams.getString(StreamsConfig.APPLICATION_ID_CONFIG) + "-by-signature-repartition";
        try (Admin admin = Admin.create(streams.getAdminConfigs("tapline-dedup-partitions"))) {
            Integer existing = partitions(admin, repartition);
            if (existing != null) {
                LOG.info("repartition topics pinned at {} partitions, as {} has", existing, repartition);
                return config.withInternalPartitions(existing);
            }
            Integer input = partitions(admin, config.inputTopic());
            if (input != null) {
                LOG.info("repartition topics pinned at {} partitions, as {} has", input, config.inputTopic());
                return config.withInternalPartitions(input);
            }
            // no input topic: TopicCheck refused that at start when a broker answered it; otherwise Kafka Streams
            // says so itself
            return config;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn("cannot read the partitions of {} or {} ({}); the repartition topics follow the input's partitions, "
                    + "so set streams.partitions before adding partitions to {}", repartition, config.inputTopic(),
                    e.toString(), config.inputTopic());
            return config;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return config;
        }
    }

    /** The topic's partitions, or null when it does not exist. */
    private static Integer partitions(Admin admin, String topic) throws ExecutionException, InterruptedException, TimeoutException {
        try {
            Map<String, TopicDescription> d = admin.describeTopics(java.util.List.of(topic)).allTopicNames()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return d.get(topic).partitions().size();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return null;
            }
            throw e;
        }
    }
}
