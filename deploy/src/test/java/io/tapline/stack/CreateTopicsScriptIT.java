package io.tapline.stack;

import io.tapline.stack.junit.TaplineStackExtension;
import io.tapline.stack.junit.TestStack;
import io.tapline.topics.TaplineTopics;
import io.tapline.topics.TopicSpec;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code deploy/k8s/topics/create-topics.sh}, the way to create Tapline's topics without Strimzi, run against a real
 * broker with Kafka's own {@code kafka-topics.sh} and {@code kafka-configs.sh} (their main classes from the same
 * Kafka version, behind two-line wrappers on {@code KAFKA_BIN}). It must create every topic with the partitions and
 * configs the code declares, and a second run must converge a topic whose configs were changed by hand.
 */
@ExtendWith(TaplineStackExtension.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class CreateTopicsScriptIT {

    private static final Path SCRIPT = Path.of("k8s/topics/create-topics.sh").toAbsolutePath();

    @Test
    void scriptCreatesEveryTopicWithTheCodesSettingsAndConvergesOnASecondRun(TestStack stack, @TempDir Path bin)
            throws Exception {
        writeTool(bin, "kafka-topics.sh", "org.apache.kafka.tools.TopicCommand");
        writeTool(bin, "kafka-configs.sh", "kafka.admin.ConfigCommand");
        Map<String, String> env = Map.of(
                "BOOTSTRAP", stack.bootstrapServers(),
                "KAFKA_BIN", bin.toString(),
                "REPLICATION", "1",
                "PARTITIONS_INTERACTIONS", "3");

        String first = run(env);
        for (TopicSpec spec : TaplineTopics.all()) {
            assertTrue(first.contains("topic " + spec.name() + ": ready"), "the script reports " + spec.name() + "\n" + first);
        }
        assertTopicsMatchTheCode(stack);

        // An operator changed a setting by hand; the script is idempotent and puts the declared one back.
        ConfigResource noise = new ConfigResource(ConfigResource.Type.TOPIC, TaplineTopics.NOISE);
        stack.admin().incrementalAlterConfigs(Map.of(noise, List.of(
                new AlterConfigOp(new ConfigEntry("min.cleanable.dirty.ratio", "0.5"), AlterConfigOp.OpType.SET))))
                .all().get(30, TimeUnit.SECONDS);
        assertEquals("0.5", configs(stack, TaplineTopics.NOISE).get("min.cleanable.dirty.ratio").value());

        run(env);
        assertTopicsMatchTheCode(stack);
    }

    /** Every topic of the code exists with the script's partition count and the code's configs on the broker. */
    private static void assertTopicsMatchTheCode(TestStack stack) throws Exception {
        List<String> names = TaplineTopics.all().stream().map(TopicSpec::name).toList();
        Map<String, TopicDescription> described = stack.admin().describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
        List<String> problems = new ArrayList<>();
        for (TopicSpec spec : TaplineTopics.all()) {
            int expectedPartitions = spec.name().equals(TaplineTopics.INTERACTIONS) ? 3 : scriptDefaultPartitions(spec);
            int partitions = described.get(spec.name()).partitions().size();
            if (partitions != expectedPartitions) {
                problems.add(spec.name() + ": " + partitions + " partitions, expected " + expectedPartitions);
            }
            Map<String, ConfigEntry> actual = configs(stack, spec.name());
            for (Map.Entry<String, String> want : spec.configs().entrySet()) {
                ConfigEntry got = actual.get(want.getKey());
                if (got == null || !want.getValue().equals(got.value())
                        || got.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) {
                    problems.add(spec.name() + ": " + want.getKey() + " = " + (got == null ? "absent" : got.value()
                            + " (" + got.source() + ")") + ", expected " + want.getValue() + " set on the topic");
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /** The script's own default: 12 for the keyed, partitioned topics, 1 for the rest (as TaplineTopics' 6 or 1). */
    private static int scriptDefaultPartitions(TopicSpec spec) {
        return spec.partitions() > 1 ? 12 : 1;
    }

    private static Map<String, ConfigEntry> configs(TestStack stack, String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = stack.admin().describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
        return config.entries().stream().collect(Collectors.toMap(ConfigEntry::name, e -> e, (a, b) -> a, HashMap::new));
    }

    /** A stand-in for Kafka's bin/ wrapper: the tool's main class on this test's classpath. */
    private static void writeTool(Path bin, String name, String mainClass) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String script = "#!/bin/sh\nexec '" + java + "' -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp '" + System.getProperty("java.class.path") + "' "
                + mainClass + " \"$@\"\n";
        Path tool = bin.resolve(name);
        Files.writeString(tool, script, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static String run(Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process process = pb.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(3, TimeUnit.MINUTES), "create-topics.sh finished");
        assertEquals(0, process.exitValue(), "create-topics.sh exit status\n" + output);
        return output;
    }
}
