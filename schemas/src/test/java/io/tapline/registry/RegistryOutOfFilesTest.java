package io.tapline.registry;

import io.tapline.avro.Interaction;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A registry call made while the process has no file descriptor left is a registry that gave no answer, as for any
 * socket that cannot be opened. The JDK 17 HTTP client reports that socket as an {@link InternalError}; thrown on as
 * it came, it ended the calling thread (the sidecar's only publisher, a stream thread) for a moment's shortage.
 */
class RegistryOutOfFilesTest {

    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void aCallWithoutAFileDescriptorLeftFailsAsNoAnswerAndTheNextOneSucceeds() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        try (RegistryStub stub = new RegistryStub()) {
            ProcessBuilder pb = new ProcessBuilder("bash", "-c", "ulimit -n 256 && exec \"$0\" \"$@\"", java.toString(),
                    "-cp", System.getProperty("java.class.path"), RegistryOutOfFilesTest.class.getName(), stub.url());
            Process child = pb.redirectErrorStream(true).start();
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), out);
            assertTrue(out.contains("no descriptors: SchemaRegistryException retriable"), "no answer, retriable: " + out);
            assertTrue(out.contains("descriptors back: registered"), "the next call works: " + out);
        }
    }

    /**
     * In the child: takes every descriptor left, calls the registry, gives them back, calls it again. The classes a
     * call needs are loaded first (loading one opens a file), by calls of another client on another subject.
     */
    public static void main(String[] args) throws Exception {
        Schema schema = Interaction.getClassSchema();
        new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, args[0]))).register("warm-value", schema);
        try {
            new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, "http://127.0.0.1:1",
                    RegistryConfig.MAX_RETRIES, 0))).register("warm-value", schema);
        } catch (SchemaRegistryException expected) {
            // nothing listens there
        }
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                RegistryConfig.URL, args[0], RegistryConfig.MAX_RETRIES, 0)));
        List<FileInputStream> held = new ArrayList<>();
        try {
            while (true) {
                held.add(new FileInputStream("/dev/null"));
            }
        } catch (IOException full) {
            // every descriptor is taken
        }
        String outcome;
        try {
            client.register("t-value", schema);
            outcome = "registered";
        } catch (SchemaRegistryException e) {
            outcome = "SchemaRegistryException " + (e.retriable() ? "retriable" : "not retriable") + ": " + e.getMessage();
        } catch (Throwable e) {
            outcome = "escaped: " + e;
        }
        for (FileInputStream f : held) {
            f.close();
        }
        System.out.println("no descriptors: " + outcome);
        client.register("t-value", schema);
        System.out.println("descriptors back: registered");
    }
}
