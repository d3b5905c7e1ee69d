package io.tapline.demo;

import io.tapline.stack.ChildProcess;
import io.tapline.stack.StackDistribution;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Tapline component run the way production runs it: {@code java -jar <module>.jar [options]} in its own JVM,
 * its output in a log file. A watchdog kills it if the demo's JVM dies, so nothing outlives the demo.
 */
final class Component implements AutoCloseable {

    private final String name;
    private final ChildProcess process;
    private final Path log;

    private Component(String name, ChildProcess process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    static Component start(String name, Path jar, List<String> args, Path workDir) {
        String marker = ChildProcess.newMarker();
        List<String> command = new ArrayList<>();
        command.add(StackDistribution.javaExecutable());
        command.add("-Xmx384m");
        command.add("-XX:+UseSerialGC");
        command.add(ChildProcess.markerArgument(marker));
        command.add("-jar");
        command.add(jar.toString());
        command.addAll(args);
        Path log = workDir.resolve(name + ".log");
        return new Component(name, ChildProcess.launch(name, command, marker, workDir, log, List.of(), false,
                Command::withoutTaplineVariables), log);
    }

    Path log() {
        return log;
    }

    /** Waits until the component's management port answers {@code /ready} with 200. */
    void awaitReady(int managementPort, Duration timeout) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new DemoException(name + " exited during start-up; its log ends with:\n" + process.logTail(30));
            }
            try {
                HttpResponse<Void> response = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + managementPort + "/ready")).timeout(Duration.ofSeconds(1)).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DemoException("interrupted while waiting for " + name);
            }
            sleep(200);
        }
        throw new DemoException(name + " was not ready within " + timeout.toSeconds() + " s; its log ends with:\n"
                + process.logTail(30));
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.stop(Duration.ofSeconds(10));
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DemoException("interrupted");
        }
    }
}
