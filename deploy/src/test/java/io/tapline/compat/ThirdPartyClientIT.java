package io.tapline.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tapline.avro.Interaction;
import io.tapline.stack.junit.TaplineStackExtension;
import io.tapline.stack.junit.TestStack;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Wire-format compatibility with a third-party Confluent-format client: confluent-kafka-python's
 * AvroProducer/AvroConsumer (Debian's python3-confluent-kafka, installed by .ci/run) against the same real broker
 * and registry. Records written by Tapline decode there, and records written there decode in Tapline, field for field.
 */
@ExtendWith(TaplineStackExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ThirdPartyClientIT {

    private static final String PYTHON = "/usr/bin/python3";
    private static final Path PEER = Path.of("src/test/python/confluent_peer.py").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void requirePeer() throws IOException, InterruptedException {
        boolean available = Files.isExecutable(Path.of(PYTHON))
                && new ProcessBuilder(PYTHON, "-c", "import confluent_kafka.avro, avro, requests")
                .redirectErrorStream(true).start().waitFor() == 0;
        if (!available && System.getenv("CI") != null) {
            throw new IllegalStateException("python3-confluent-kafka, python3-avro and python3-requests are required "
                    + "for this test; .ci/run installs them");
        }
        assumeTrue(available, "skipped: install python3-confluent-kafka python3-avro python3-requests (Debian) to run "
                + "the third-party wire-format round trip");
    }

    @Test
    void confluentClientDecodesWhatTaplineWrote(TestStack stack) throws Exception {
        String topic = stack.createTopic("tapline-to-python", 1, Map.of());
        Interaction original = Samples.interaction("py-reads");
        try (KafkaProducer<String, Interaction> producer = new KafkaProducer<>(RegistrySerdeIT.producerProps(stack))) {
            // No key: the legacy AvroConsumer decodes keys as Avro too, and a plain string key is not.
            producer.send(new ProducerRecord<>(topic, null, original)).get(30, TimeUnit.SECONDS);
        }

        String output = run(PYTHON, PEER.toString(), "consume", stack.bootstrapServers(), stack.registryUrl(), topic, "1");
        JsonNode decoded = JSON.readTree(output.lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow(
                () -> new AssertionError("no record printed by the Python consumer: " + output)));
        assertEquals(JSON.readTree(toPeerJson(original).toString()), decoded);
    }

    @Test
    void taplineDecodesWhatTheConfluentClientWrote(TestStack stack, @TempDir Path dir) throws Exception {
        String topic = stack.createTopic("python-to-tapline", 1, Map.of());
        Interaction original = Samples.interaction("py-writes");
        Path schemaFile = dir.resolve("interaction.avsc");
        Path recordFile = dir.resolve("record.json");
        Files.writeString(schemaFile, Interaction.getClassSchema().toString(), StandardCharsets.UTF_8);
        Files.writeString(recordFile, toPeerJson(original).toString(), StandardCharsets.UTF_8);

        run(PYTHON, PEER.toString(), "produce", stack.bootstrapServers(), stack.registryUrl(), topic,
                schemaFile.toString(), recordFile.toString());

        List<Interaction> received = new ArrayList<>();
        try (KafkaConsumer<String, Interaction> consumer = new KafkaConsumer<>(RegistrySerdeIT.consumerProps(stack))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (received.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, Interaction> record : consumer.poll(Duration.ofMillis(500))) {
                    received.add(record.value());
                }
            }
        }
        assertEquals(List.of(original), received);
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(90, TimeUnit.SECONDS), "python peer did not finish");
        assertEquals(0, process.exitValue(), "python peer failed: " + output);
        return output;
    }

    /** The peer's JSON form of a record: bytes as {"$bytes": base64}, timestamps as {"$millis": n}. */
    static JsonNode toPeerJson(Object value) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (value == null) {
            return f.nullNode();
        }
        if (value instanceof GenericRecord record) {
            ObjectNode node = f.objectNode();
            for (Schema.Field field : record.getSchema().getFields()) {
                node.set(field.name(), toPeerJson(record.get(field.name())));
            }
            return node;
        }
        if (value instanceof List<?> list) {
            ArrayNode array = f.arrayNode();
            list.forEach(item -> array.add(toPeerJson(item)));
            return array;
        }
        if (value instanceof Map<?, ?> map) {
            ObjectNode node = f.objectNode();
            map.forEach((k, v) -> node.set(k.toString(), toPeerJson(v)));
            return node;
        }
        if (value instanceof ByteBuffer buffer) {
            byte[] bytes = new byte[buffer.remaining()];
            buffer.duplicate().get(bytes);
            return f.objectNode().put("$bytes", Base64.getEncoder().encodeToString(bytes));
        }
        if (value instanceof Instant instant) {
            return f.objectNode().put("$millis", instant.toEpochMilli());
        }
        if (value instanceof Integer i) {
            return f.numberNode(i);
        }
        if (value instanceof Long l) {
            return f.numberNode(l);
        }
        if (value instanceof Double d) {
            return f.numberNode(d);
        }
        if (value instanceof Boolean b) {
            return f.booleanNode(b);
        }
        return f.textNode(value.toString());
    }
}
