package io.tapline.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class KafkaBrokerConfigTest {

    private final Map<String, String> config = KafkaBroker.serverProperties(19092, 19093, Path.of("/tmp/stack/data"));

    @Test
    void shouldRenderASingleCombinedKraftNodeOnLoopback() {
        assertEquals("broker,controller", config.get("process.roles"));
        assertEquals("1@127.0.0.1:19093", config.get("controller.quorum.voters"));
        assertEquals("PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093", config.get("listeners"));
        assertEquals("PLAINTEXT://127.0.0.1:19092", config.get("advertised.listeners"));
        assertEquals("/tmp/stack/data", config.get("log.dirs"));
    }

    @Test
    void shouldUseOneReplicaForInternalTopicsAndNoAutoCreation() {
        assertEquals("1", config.get("offsets.topic.replication.factor"));
        assertEquals("1", config.get("transaction.state.log.replication.factor"));
        assertEquals("1", config.get("transaction.state.log.min.isr"));
        assertEquals("0", config.get("group.initial.rebalance.delay.ms"));
        assertEquals("false", config.get("auto.create.topics.enable"));
    }

    @Test
    void shouldKeepTheBrokerHeapSmall() {
        assertTrue(KafkaBroker.JVM_OPTIONS.contains("-Xmx512m"), KafkaBroker.JVM_OPTIONS.toString());
    }

    @Test
    void shouldLogToAFileOnly() {
        String log4j = KafkaBroker.log4jConfig(Path.of("/tmp/stack/kafka.log"));
        assertTrue(log4j.contains("appender.file.fileName = /tmp/stack/kafka.log"), log4j);
        assertTrue(!log4j.contains("Console"), log4j);
    }

    @Test
    void shouldRenderPropertiesThatLoadBackUnchanged() throws Exception {
        var loaded = new java.util.Properties();
        loaded.load(new java.io.StringReader(StackFiles.render(config, "test")));
        assertEquals(config.size(), loaded.size());
        config.forEach((k, v) -> assertEquals(v, loaded.getProperty(k), k));
    }

    @Test
    void shouldStartTheRegistryOnLoopbackWithTheGivenPortAndMarker() {
        List<String> command = SchemaRegistry.command("java", Path.of("/x/runner.jar"), 18081, "m-1");
        assertTrue(command.contains("-Dquarkus.http.port=18081"), command.toString());
        assertTrue(command.contains("-Dquarkus.http.host=127.0.0.1"), command.toString());
        assertTrue(command.contains(ChildProcess.markerArgument("m-1")), command.toString());
        assertEquals(List.of("-jar", "/x/runner.jar"), command.subList(command.size() - 2, command.size()));
        assertEquals("http://127.0.0.1:18081/apis/ccompat/v7", SchemaRegistry.url(18081));
    }
}
