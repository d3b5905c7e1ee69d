package io.tapline.demo;

import io.tapline.registry.RegistryConfig;
import io.tapline.serde.AvroSerdes;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/** Reads Tapline's topics the way any downstream consumer would: committed data only, decoded with the registry. */
final class Topics {

    private final String bootstrap;
    private final String registryUrl;

    Topics(String bootstrap, String registryUrl) {
        this.bootstrap = bootstrap;
        this.registryUrl = registryUrl;
    }

    /** Sum of the committed end offsets of the topics: changes whenever anything new is written. */
    long endOffsets(List<String> topics) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            List<TopicPartition> partitions = topics.stream()
                    .flatMap(t -> consumer.partitionsFor(t, Duration.ofSeconds(10)).stream()
                            .map(p -> new TopicPartition(t, p.partition())))
                    .collect(Collectors.toList());
            return consumer.endOffsets(partitions, Duration.ofSeconds(10)).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** The latest value per key of a topic, read from the beginning to its current end; tombstones remove a key. */
    <T extends SpecificRecord> Map<String, T> latest(String topic, Class<T> type) {
        Map<String, T> out = new LinkedHashMap<>();
        try (KafkaConsumer<String, T> consumer = new KafkaConsumer<>(props(), new StringDeserializer(),
                AvroSerdes.serde(type, Map.of(RegistryConfig.URL, registryUrl), false).deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new DemoException("could not read " + topic + " to its end within 60 s");
                }
                for (ConsumerRecord<String, T> record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.value() == null) {
                        out.remove(record.key());
                    } else {
                        out.put(record.key(), record.value());
                    }
                }
            }
        }
        return out;
    }

    private Properties props() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        // Only what was committed counts: the dedup job and replay workers write transactionally.
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return props;
    }
}
