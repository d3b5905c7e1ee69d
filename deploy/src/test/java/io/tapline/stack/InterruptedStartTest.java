package io.tapline.stack;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start of the broker or the registry whose thread is interrupted while it waits for the process to become ready (a
 * test's timeout, say) stops the process it started. The process is a small Java program that never becomes ready, put
 * where the broker's main class and the registry's runner jar are looked for, so no Kafka and no registry are run.
 */
class InterruptedStartTest {

    private static final String NEVER_READY = "package kafka;\n"
            + "public final class Kafka {\n"
            + "    public static void main(String[] args) throws Exception {\n"
            + "        System.out.println(\"started, never ready\");\n"
            + "        Thread.sleep(Long.MAX_VALUE);\n"
            + "    }\n"
            + "}\n";

    @Test
    void anInterruptedBrokerStartStopsTheBrokerItStarted(@TempDir Path dir) throws Exception {
        StackDistribution distribution = new StackDistribution(List.of(neverReadyJar(dir)), new Properties());
        Path kafkaDir = dir.resolve("kafka");
        // formatted before: the start goes straight to launching the broker
        Files.writeString(Files.createDirectories(kafkaDir.resolve("data")).resolve("meta.properties"), "version=1\n");
        KafkaBroker broker = new KafkaBroker(distribution, Ports.freePort(), Ports.freePort(), kafkaDir);
        interruptWhileWaitingForReady(() -> broker.start(false, Duration.ofMinutes(5)), broker::process,
                kafkaDir.resolve("kafka.out"));
    }

    @Test
    void anInterruptedRegistryStartStopsTheRegistryItStarted(@TempDir Path dir) throws Exception {
        Path jar = neverReadyJar(dir);
        Properties build = new Properties();
        build.setProperty("apicurio.dir", jar.getParent().toString());
        build.setProperty("apicurio.runner.jar", jar.getFileName().toString());
        Path registryDir = dir.resolve("registry");
        SchemaRegistry registry = new SchemaRegistry(new StackDistribution(List.of(), build), Ports.freePort(), registryDir);
        interruptWhileWaitingForReady(() -> registry.start(false, Duration.ofMinutes(5)), registry::process,
                registryDir.resolve("registry.log"));
    }

    /** Starts on another thread, interrupts it once the process runs, and checks what the start left behind. */
    private static void interruptWhileWaitingForReady(Runnable start, Supplier<ChildProcess> process, Path output)
            throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean interruptKept = new AtomicBoolean();
        Thread starter = new Thread(() -> {
            try {
                start.run();
            } catch (Throwable e) {
                failure.set(e);
            } finally {
                interruptKept.set(Thread.currentThread().isInterrupted());
            }
        }, "interrupted-start");
        starter.start();
        ChildProcess started = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            // the child can write its line before the start has stored the process it launched: wait for both
            while (!(Files.exists(output) && Files.readString(output).contains("started, never ready"))
                    || process.get() == null) {
                assertTrue(starter.isAlive(), "the start ended before the process ran: " + failure.get());
                assertTrue(System.nanoTime() < deadline, "the process did not start");
                Thread.sleep(20);
            }
            started = process.get();
            assertTrue(started.isAlive());
            starter.interrupt();
            starter.join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(starter.isAlive(), "the interrupted start did not return");
            assertTrue(failure.get() instanceof StackException && failure.get().getMessage().contains("stopped it"),
                    "the start fails, saying it stopped the process: " + failure.get());
            assertTrue(interruptKept.get(), "the interrupt is kept");
            assertFalse(started.isAlive(), started + " was left running by the interrupted start");
        } finally {
            starter.interrupt();
            if (started != null) {
                started.handle().ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /** A jar holding {@code kafka.Kafka}, a program that never becomes ready, also as its Main-Class. */
    private static Path neverReadyJar(Path dir) throws IOException {
        Path sources = Files.createDirectories(dir.resolve("src/kafka"));
        Path classes = Files.createDirectories(dir.resolve("classes"));
        Path source = Files.writeString(sources.resolve("Kafka.java"), NEVER_READY);
        int status = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), source.toString());
        assertTrue(status == 0, "javac failed with status " + status);
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "kafka.Kafka");
        Path jar = dir.resolve("never-ready.jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            out.putNextEntry(new JarEntry("kafka/Kafka.class"));
            out.write(Files.readAllBytes(classes.resolve("kafka/Kafka.class")));
            out.closeEntry();
        }
        return jar;
    }
}
