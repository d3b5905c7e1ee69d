package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tapline.registry.RegistryConfig;
import java.lang.reflect.Field;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.internals.InternalTopicConfig;
import org.apache.kafka.streams.processor.internals.InternalTopologyBuilder;
import org.junit.jupiter.api.Test;

/**
 * Kafka Streams sizes a repartition topic as its sub-topology's input when it first creates it and afterwards refuses
 * to run once the input has more partitions ("Existing internal topic ... has invalid partitions"): adding partitions
 * to the interactions topic stopped the job until a reset. With {@code --streams-partitions} the two repartition
 * topics keep their count whatever the input has. What Streams creates and checks is read from the topology it
 * builds (no public API shows it; the refusal itself needs a broker).
 */
class InternalPartitionsTest {

    @Test
    void shouldPinBothRepartitionTopicsToTheConfiguredCount() throws Exception {
        DedupConfig config = DedupOptions.topology(DedupOptions.load(new String[] {"--streams-partitions", "12"}, Map.of()));
        assertEquals(Map.of("dedup-test-by-signature-repartition", Optional.of(12),
                "dedup-test-by-route-repartition", Optional.of(12)), repartitionTopics(config));
    }

    @Test
    void shouldFollowTheInputTopicByDefault() throws Exception {
        assertEquals(Map.of("dedup-test-by-signature-repartition", Optional.empty(),
                "dedup-test-by-route-repartition", Optional.empty()), repartitionTopics(DedupConfig.defaults()));
    }

    private static final String REPARTITION = "dedup-test-by-signature-repartition";

    private static TopicCheck.Result check(Map<String, Integer> partitions, Set<String> unknown,
                                           Map<String, Throwable> failures) {
        return new TopicCheck.Result(null, partitions, unknown, failures, List.of(), Set.of(), null);
    }

    /** The pinning reads the start-up topic check's answer: the repartition topic's own count when it exists. */
    @Test
    void shouldPinAtTheCountTheRepartitionTopicHas() {
        DedupConfig config = DedupConfig.defaults();
        assertEquals(12, InternalPartitions.pin(config, REPARTITION,
                check(Map.of(REPARTITION, 12, config.inputTopic(), 24), Set.of(), Map.of())).internalPartitions());
    }

    @Test
    void shouldPinAtTheInputsCountOnAFirstStart() {
        DedupConfig config = DedupConfig.defaults();
        assertEquals(24, InternalPartitions.pin(config, REPARTITION,
                check(Map.of(config.inputTopic(), 24), Set.of(REPARTITION), Map.of())).internalPartitions());
    }

    /**
     * Brokers that did not answer the check (or would not describe the repartition topic): left unpinned at once, as
     * after the pinning's own 30 s wait before; the input's count alone does not say the repartition topic is new.
     */
    @Test
    void shouldLeaveTheTopicsUnpinnedWhenTheCheckHadNoAnswer() {
        DedupConfig config = DedupConfig.defaults();
        TimeoutException timeout = new TimeoutException("no answer within 15 s");
        assertEquals(0, InternalPartitions.pin(config, REPARTITION, check(Map.of(), Set.of(),
                Map.of(REPARTITION, timeout, config.inputTopic(), timeout))).internalPartitions());
        assertEquals(0, InternalPartitions.pin(config, REPARTITION, check(Map.of(config.inputTopic(), 24), Set.of(),
                Map.of(REPARTITION, new TopicAuthorizationException(Set.of(REPARTITION))))).internalPartitions());
    }

    /** streams.partitions set: the check need not describe the repartition topic, and the count is kept. */
    @Test
    void shouldKeepAConfiguredCount() throws Exception {
        DedupConfig config = DedupOptions.topology(DedupOptions.load(new String[] {"--streams-partitions", "6"}, Map.of()));
        Properties props = DedupTopology.streamsConfig("dedup-test", "dummy:9092", 1, 1,
                System.getProperty("java.io.tmpdir"), Map.of());
        assertNull(InternalPartitions.repartitionTopic(config, props));
        assertEquals(REPARTITION, InternalPartitions.repartitionTopic(DedupConfig.defaults(), props));
        assertEquals(6, InternalPartitions.pin(config, null, check(Map.of(config.inputTopic(), 24), Set.of(), Map.of()))
                .internalPartitions());
    }

    /** Each repartition topic's enforced partition count; empty where Streams derives it from the input. */
    private static Map<String, Optional<Integer>> repartitionTopics(DedupConfig config) throws Exception {
        DedupSerdes serdes = DedupSerdes.registry(Map.of(RegistryConfig.URL, "http://127.0.0.1:1"));
        Topology topology = DedupTopology.build(config, serdes, DedupMetrics.detached());
        Field field = Topology.class.getDeclaredField("internalTopologyBuilder");
        field.setAccessible(true);
        InternalTopologyBuilder builder = (InternalTopologyBuilder) field.get(topology);
        builder.rewriteTopology(new StreamsConfig(DedupTopology.streamsConfig("dedup-test", "dummy:9092", 1, 1,
                System.getProperty("java.io.tmpdir"), Map.of())));
        Map<String, Optional<Integer>> out = new TreeMap<>();
        for (InternalTopologyBuilder.TopicsInfo info : builder.subtopologyToTopicsInfo().values()) {
            for (InternalTopicConfig topic : info.repartitionSourceTopics.values()) {
                out.put(topic.name(), topic.hasEnforcedNumberOfPartitions() ? topic.numberOfPartitions() : Optional.empty());
            }
        }
        return out;
    }
}
