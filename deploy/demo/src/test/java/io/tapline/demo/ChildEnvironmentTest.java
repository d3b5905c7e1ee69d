package io.tapline.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo's children (components and commands) are configured by the demo alone: a {@code TAPLINE_*} variable the
 * demo was started with (a sampling rate, a security protocol exported for production) does not reach them.
 */
class ChildEnvironmentTest {

    /** A variable that is not Tapline's, which the children keep. */
    static final String KEPT = "DEMO_TEST_KEPT";

    @Test
    void theDemosChildrenDoNotInheritTaplineVariables(@TempDir Path dir) throws Exception {
        Path jar = probeJar(dir.resolve("probe.jar"));
        // the demo's JVM is started with the variables set, as `./tapline demo` in a shell that exported them
        ProcessBuilder builder = new ProcessBuilder(java(), "-cp", System.getProperty("java.class.path"),
                Parent.class.getName(), jar.toString(), dir.toString()).redirectErrorStream(true);
        builder.environment().put("TAPLINE_SAMPLING_RATE", "7");
        builder.environment().put("TAPLINE_KAFKA_PRODUCER_SECURITY_PROTOCOL", "SSL");
        builder.environment().put(KEPT, "yes");
        Process parent = builder.start();
        String output = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(parent.waitFor(120, TimeUnit.SECONDS), "the parent did not finish");
        assertEquals(0, parent.exitValue(), output);
        assertTrue(output.contains("command: [" + KEPT + "=yes, END]"), output);
        assertTrue(output.contains("component: [" + KEPT + "=yes, END]"), output);
    }

    /** Stands for the demo: starts the probe as a command and as a component and prints what each printed. */
    public static final class Parent {
        public static void main(String[] args) throws Exception {
            Path jar = Path.of(args[0]);
            Path dir = Path.of(args[1]);
            Command.Result result = Command.run("probe", jar, List.of(), dir.resolve("command.log"), null, Duration.ofSeconds(60));
            System.out.println("command: " + result.output());
            try (Component component = Component.start("probe", jar, List.of(), dir)) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!(Files.exists(component.log()) && Files.readString(component.log()).contains("END"))
                        && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                System.out.println("component: " + Files.readAllLines(component.log()));
            }
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** A jar whose main class is {@link PrintTaplineVariables}, which needs nothing else. */
    private static Path probeJar(Path jar) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, PrintTaplineVariables.class.getName());
        String entry = PrintTaplineVariables.class.getName().replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest);
             InputStream in = PrintTaplineVariables.class.getClassLoader().getResourceAsStream(entry)) {
            out.putNextEntry(new JarEntry(entry));
            in.transferTo(out);
            out.closeEntry();
        }
        return jar;
    }
}
