package io.tapline.demo;

import io.tapline.config.ConfigSpec;
import io.tapline.stack.StackDistribution;
import io.tapline.text.ShownText;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A Tapline command that runs to completion ({@code replay}, {@code report}) in its own JVM. Its output goes to a log
 * file and, line by line with a prefix, to the console, so the run's progress is visible. Processes still running
 * when the demo stops (Ctrl-C, failure) are destroyed by {@link #destroyAll}.
 */
final class Command {

    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    private Command() {
    }

    record Result(int exitCode, List<String> output) {
    }

    /**
     * Leaves the demo's {@code TAPLINE_*} variables out of a child's environment: the demo configures its children
     * by their flags alone, and a variable exported for production (a sampling rate, a security protocol) would
     * otherwise change or break them. The demo's own options are read from them, as every command's are.
     */
    static void withoutTaplineVariables(Map<String, String> environment) {
        environment.keySet().removeIf(name -> name.startsWith(ConfigSpec.ENV_PREFIX));
    }

    static Result run(String label, Path jar, List<String> args, Path log, PrintStream console, Duration timeout) {
        List<String> command = new ArrayList<>(List.of(StackDistribution.javaExecutable(), "-Xmx384m", "-XX:+UseSerialGC",
                "-jar", jar.toString()));
        command.addAll(args);
        Process process;
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            withoutTaplineVariables(builder.environment());
            process = builder.start();
        } catch (IOException e) {
            throw new DemoException("could not start " + label + ": " + e.getMessage());
        }
        RUNNING.add(process);
        List<String> output = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter file = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                output.add(line);
                file.println(line);
                if (console != null) {
                    console.println("    " + label + " | " + line);
                }
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new DemoException(label + " did not finish within " + timeout.toSeconds() + " s (log: "
                        + ShownText.oneLine(log.toString()) + ")");
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            throw new DemoException("reading the output of " + label + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new DemoException("interrupted while running " + label);
        } finally {
            RUNNING.remove(process);
        }
    }

    static void destroyAll() {
        RUNNING.forEach(Process::destroyForcibly);
    }
}
