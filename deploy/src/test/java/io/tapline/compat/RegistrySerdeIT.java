package io.tapline.compat;

import io.tapline.avro.Interaction;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryClient;
import io.tapline.registry.SchemaRegistryException;
import io.tapline.serde.TaplineAvroDeserializer;
import io.tapline.serde.TaplineAvroSerializer;
import io.tapline.stack.junit.TaplineStackExtension;
import io.tapline.stack.junit.TestStack;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tapline's serde and registry client against a real broker and a real registry (Apicurio, Confluent API). */
@ExtendWith(TaplineStackExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RegistrySerdeIT {

    @Test
    void interactionsRoundTripThroughTheBrokerAndRegistry(TestStack stack) {
        String topic = stack.createTopic("interactions", 3, Map.of());
        List<Interaction> sent = List.of(Samples.interaction("a"), Samples.interaction("b"), Samples.interaction("c"));
        try (KafkaProducer<String, Interaction> producer = new KafkaProducer<>(producerProps(stack))) {
            for (Interaction interaction : sent) {
                producer.send(new ProducerRecord<>(topic, interaction.getTraceId(), interaction));
            }
            producer.flush();
        }
        List<Interaction> received = new ArrayList<>();
        try (KafkaConsumer<String, Interaction> consumer = new KafkaConsumer<>(consumerProps(stack))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (received.size() < sent.size() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, Interaction> record : consumer.poll(Duration.ofMillis(500))) {
                    received.add(record.value());
                }
            }
        }
        received.sort((x, y) -> x.getId().compareTo(y.getId()));
        assertEquals(sent, received);
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.of(stack.registryUrl()));
        assertEquals(Interaction.getClassSchema(), registry.latest(topic + "-value"));
    }

    @Test
    void registryRejectsAnIncompatibleSchemaUnderFullTransitiveAndNamesTheSubject(TestStack stack) {
        SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.of(stack.registryUrl()));
        String subject = stack.uniqueName("evolving") + "-value";
        Schema v1 = SchemaBuilder.record("Evolving").namespace("io.tapline.test").fields()
                .requiredString("a").endRecord();
        Schema v2Compatible = SchemaBuilder.record("Evolving").namespace("io.tapline.test").fields()
                .requiredString("a").name("b").type().stringType().stringDefault("x").endRecord();
        Schema v3Breaking = SchemaBuilder.record("Evolving").namespace("io.tapline.test").fields()
                .requiredString("a").requiredString("c").endRecord();

        int id1 = registry.register(subject, v1);
        registry.setCompatibility(subject, "FULL_TRANSITIVE");
        assertTrue(registry.isCompatible(subject, v2Compatible));
        int id2 = registry.register(subject, v2Compatible);
        assertTrue(id2 != id1);
        assertFalse(registry.isCompatible(subject, v3Breaking));
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> registry.register(subject, v3Breaking));
        assertEquals(409, e.httpStatus(), e.getMessage());
        assertTrue(e.getMessage().contains(subject) && e.getMessage().contains(stack.registryUrl()), e.getMessage());
        assertEquals(v1, registry.schemaById(id1));
    }

    static Properties producerProps(TestStack stack) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, TaplineAvroSerializer.class);
        props.put(RegistryConfig.URL, stack.registryUrl());
        return props;
    }

    static Properties consumerProps(TestStack stack) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, stack.uniqueName("serde-it"));
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, TaplineAvroDeserializer.class);
        props.put(RegistryConfig.URL, stack.registryUrl());
        return props;
    }
}
