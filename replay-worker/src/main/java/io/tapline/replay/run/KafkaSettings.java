package io.tapline.replay.run;

import io.tapline.topics.TaplineTopics;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Kafka connection settings of a replay process: bootstrap servers, the schema registry configs, and the
 * pass-through {@code kafka.consumer.*} / {@code kafka.producer.*} overrides (applied last, so operators win).
 * Clients use byte arrays; values are (de)serialized by Tapline's Avro serde explicitly so a bad record can be
 * sent to the dead-letter topic instead of failing the poll.
 */
public record KafkaSettings(String bootstrapServers, Map<String, Object> registry, Map<String, Object> consumerOverrides,
                            Map<String, Object> producerOverrides) {

    public KafkaSettings {
        registry = Map.copyOf(registry);
        consumerOverrides = Map.copyOf(consumerOverrides);
        producerOverrides = Map.copyOf(producerOverrides);
    }

    /** A consumer reading committed data only; {@code groupId} null for an assign-only reader. */
    public Map<String, Object> consumer(String groupId, String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        // Results of an aborted replay transaction (a killed worker) must never be seen or counted.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // Offsets are committed inside the producer's transaction, never by the consumer itself.
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // A new run starts from the first case of the compacted topic.
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        if (groupId != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        }
        p.putAll(consumerOverrides);
        return p;
    }

    /**
     * An admin client's settings: the bootstrap servers and those of the {@code kafka.consumer.*} overrides an admin
     * client knows (security.protocol, ssl.*, sasl.*, timeouts), so it reaches the brokers as the consumers do;
     * consumer-only ones (max.poll.records, ...) are left out, an admin client would warn of each.
     */
    public Map<String, Object> admin(String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        consumerOverrides.forEach((key, value) -> {
            if (AdminClientConfig.configNames().contains(key)) {
                p.put(key, value);
            }
        });
        return p;
    }

    /** A producer; transactional when {@code transactionalId} is given. */
    public Map<String, Object> producer(String transactionalId, String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        // Results carry differences and mock usage: compress the batches.
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        // A dead letter is the raw case it sets aside (as large as the cases topic allows) plus its error headers.
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TaplineTopics.DLQ_MAX_BYTES);
        if (transactionalId != null) {
            // Results and the consumed offsets commit atomically: one result per case even if a worker dies.
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
            // A killed worker's open transaction blocks read_committed readers of the results until it is aborted;
            // batches commit in well under a second, so 30 s (default 60 s) bounds that wait.
            p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
        }
        p.putAll(producerOverrides);
        return p;
    }

    /**
     * The {@code transaction.timeout.ms} of the replay workers' transactional producers ({@link #producer}): Tapline's
     * 30 s, or a {@code kafka.producer.transaction.timeout.ms} override, which may be a number or its text.
     */
    public Duration transactionTimeout() {
        Object value = producer("tapline-replay", "tapline-replay").get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG);
        Object millis = ConfigDef.parseType(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, value, ConfigDef.Type.INT);
        return Duration.ofMillis(((Number) millis).longValue());
    }
}
