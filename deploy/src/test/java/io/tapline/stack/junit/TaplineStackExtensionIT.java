package io.tapline.stack.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TaplineStackExtension.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TaplineStackExtensionIT {

    private static TestStack injectedBeforeAll;

    @BeforeAll
    static void setUp(TestStack stack) {
        injectedBeforeAll = stack;
    }

    @Test
    void shouldInjectTheSameStackIntoBeforeAllAndTests(TestStack stack) {
        assertTrue(injectedBeforeAll == stack, "one stack per JVM");
    }

    @Test
    void shouldProduceAndConsumeARecord(TestStack stack) {
        String topic = stack.createTopic("roundtrip", 3, Map.of("cleanup.policy", "compact"));
        produce(stack, topic, "k1", "v1");
        assertEquals(List.of("k1=v1"), consume(stack, topic, 1));
    }

    @Test
    void shouldGiveEveryTopicAndNameAUniqueSuffix(TestStack stack) {
        assertNotEquals(stack.uniqueName("app"), stack.uniqueName("app"));
        String a = stack.createTopic("same", 1, Map.of());
        String b = stack.createTopic("same", 1, Map.of());
        assertNotEquals(a, b);
        assertTrue(a.startsWith("same-"), a);
    }

    @Test
    void shouldRegisterASchemaAndReadItBackThroughTheCcompatApi(TestStack stack) throws Exception {
        assertTrue(stack.registryUrl().matches("http://127\\.0\\.0\\.1:\\d+/apis/ccompat/v7"), stack.registryUrl());
        HttpClient http = HttpClient.newHttpClient();
        String subject = stack.uniqueName("interaction") + "-value";
        String schema = "{\"type\":\"record\",\"name\":\"Ping\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"}]}";
        String body = "{\"schema\":\"" + schema.replace("\"", "\\\"") + "\"}";
        HttpResponse<String> registered = http.send(HttpRequest.newBuilder(URI.create(stack.registryUrl() + "/subjects/" + subject + "/versions"))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, registered.statusCode(), registered.body());
        String id = registered.body().replaceAll("\\D+", "");
        HttpResponse<String> byId = http.send(HttpRequest.newBuilder(URI.create(stack.registryUrl() + "/schemas/ids/" + id)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, byId.statusCode(), byId.body());
        assertTrue(byId.body().contains("Ping"), byId.body());
        HttpResponse<String> latest = http.send(HttpRequest.newBuilder(URI.create(stack.registryUrl() + "/subjects/" + subject + "/versions/latest"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, latest.statusCode(), latest.body());
        assertTrue(latest.body().contains("\"subject\":\"" + subject + "\""), latest.body());
    }

    @Test
    void shouldRestartBrokerOnSamePortKeepingItsData(TestStack stack) {
        String topic = stack.createTopic("restart", 1, Map.of());
        produce(stack, topic, "before", "restart");
        String bootstrap = stack.bootstrapServers();

        stack.stopBroker();
        stack.startBroker();

        assertEquals(bootstrap, stack.bootstrapServers());
        produce(stack, topic, "after", "restart");
        assertEquals(List.of("before=restart", "after=restart"), consume(stack, topic, 2));
    }

    @Test
    void shouldRestartRegistryOnSamePort(TestStack stack) throws Exception {
        String url = stack.registryUrl();
        stack.stopRegistry();
        stack.startRegistry();
        assertEquals(url, stack.registryUrl());
        HttpResponse<String> subjects = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/subjects")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, subjects.statusCode());
    }

    private static void produce(TestStack stack, String topic, String key, String value) {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("produce to " + topic + " failed", e);
        }
    }

    private static List<String> consume(TestStack stack, String topic, int count) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, stack.uniqueName("it-group"));
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"); // read what the test produced before subscribing
        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (seen.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    seen.add(record.key() + "=" + record.value());
                }
            }
        }
        return seen;
    }
}
