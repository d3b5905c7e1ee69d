package io.tapline.registry;

import io.tapline.avro.Interaction;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.FileInputStream;
import java.io.IOException;
import java.lang.ref.Reference;
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
     * call needs are loaded first (loading one opens a file), by calls of other clients on another subject.
     *
     * <p>The call shows what a call without a descriptor does only if every descriptor is still taken while it runs,
     * and the HTTP client's own threads close descriptors whenever they come to it: the socket of the refused
     * connection is closed by its client's selector thread a moment after the call failed, and the selector thread of
     * a client the GC collected closes that client's selector and idle connection up to a few seconds later. So the
     * clients are held to the end (none is collected), and a call is taken as the answer only if no descriptor came
     * free while it ran; otherwise it is made again, by a new client (no idle connection, nothing cached).
     */
    public static void main(String[] args) throws Exception {
        Schema schema = Interaction.getClassSchema();
        List<SchemaRegistryClient> clients = new ArrayList<>();
        clients.add(new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, args[0]))));
        clients.get(0).register("warm-value", schema);
        clients.add(new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, "http://127.0.0.1:1",
                RegistryConfig.MAX_RETRIES, 0))));
        try {
            clients.get(1).register("warm-value", schema);
        } catch (SchemaRegistryException expected) {
            // nothing listens there
        }
        SchemaRegistryClient client = null;
        String outcome = null;
        for (int attempt = 1; outcome == null && attempt <= ATTEMPTS; attempt++) {
            client = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                    RegistryConfig.URL, args[0], RegistryConfig.MAX_RETRIES, 0)));
            clients.add(client);
            List<FileInputStream> held = new ArrayList<>();
            takeEveryDescriptor(held);
            String result;
            try {
                client.register("t-value", schema);
                result = "registered";
            } catch (SchemaRegistryException e) {
                result = "SchemaRegistryException " + (e.retriable() ? "retriable" : "not retriable") + ": " + e.getMessage();
            } catch (Throwable e) {
                result = "escaped: " + e;
            }
            // a call that registered opened its socket, so a descriptor had come free; one free now came free too
            boolean freed = result.equals("registered") || takeEveryDescriptor(held) > 0;
            for (FileInputStream f : held) {
                f.close();
            }
            if (freed) {
                System.out.println("attempt " + attempt + ": a descriptor came free during the call (" + result + ")");
            } else {
                outcome = result;
            }
        }
        System.out.println("no descriptors: " + (outcome == null
                ? "no call was made with every descriptor taken, in " + ATTEMPTS + " attempts" : outcome));
        client.register("t-value", schema);
        System.out.println("descriptors back: registered");
        Reference.reachabilityFence(clients);
    }

    /** Calls made at most until one runs with every descriptor taken from start to end. */
    private static final int ATTEMPTS = 5;

    /** Opens descriptors into {@code held} until none is left; returns how many it opened. */
    private static int takeEveryDescriptor(List<FileInputStream> held) {
        int taken = 0;
        try {
            while (true) {
                held.add(new FileInputStream("/dev/null"));
                taken++;
            }
        } catch (IOException full) {
            return taken;
        }
    }
}
