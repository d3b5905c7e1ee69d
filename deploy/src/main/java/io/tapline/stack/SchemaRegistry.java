package io.tapline.stack;

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
 * Apicurio Registry (in-memory storage) in a child JVM, serving the Confluent-compatible API at
 * {@code http://127.0.0.1:PORT/apis/ccompat/v7}. Its schemas live in memory: a restart empties it.
 * Layout of {@code dir}: {@code registry.log} (its console output).
 */
public final class SchemaRegistry {

    public static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(120);
    public static final int DEFAULT_PORT = 8081;
    public static final String CCOMPAT_PATH = "/apis/ccompat/v7";
    static final String HEALTH_PATH = "/health/ready";

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final StackDistribution distribution;
    private final int port;
    private final Path dir;
    /** Volatile: {@link #kill} reads it from a shutdown hook while {@link #start} may still be waiting. */
    private volatile ChildProcess process;
    /**
     * Held while the process is being launched, and by {@link #kill} to read it: a kill from a shutdown hook while a
     * start is launching waits for the launch (milliseconds) and takes the new process down, rather than missing it
     * and letting the JVM exit with it running.
     */
    private final Object launching = new Object();
    private boolean killed;

    public SchemaRegistry(StackDistribution distribution, int port, Path dir) {
        Ports.requireValid("Schema registry", port);
        this.distribution = distribution;
        this.port = port;
        this.dir = dir.toAbsolutePath();
    }

    public int port() {
        return port;
    }

    public String url() {
        return url(port);
    }

    /** The Confluent-compatible API base URL of a registry on {@code 127.0.0.1:port}. */
    public static String url(int port) {
        return "http://" + Ports.HOST + ":" + port + CCOMPAT_PATH;
    }

    public ChildProcess process() {
        return process;
    }

    public List<Path> logFiles() {
        return List.of();
    }

    private Path outputFile() {
        return dir.resolve("registry.log");
    }

    /** The registry's JVM command line; every system property says why it is set. */
    static List<String> command(String java, Path runnerJar, int port, String marker) {
        List<String> c = new ArrayList<>();
        c.add(java);
        c.add("-Xms32m");
        c.add("-Xmx512m"); // in-memory storage of a few test schemas
        c.add("-XX:+UseSerialGC"); // no concurrent GC threads competing with the tests on 2 cores
        c.add("-Djava.awt.headless=true");
        c.add(ChildProcess.markerArgument(marker));
        c.add("-Dquarkus.http.host=" + Ports.HOST); // loopback only: a local development registry
        c.add("-Dquarkus.http.port=" + port);
        c.add("-Dquarkus.oidc.tenant-enabled=false"); // no authentication, and never a call to a Keycloak server
        c.add("-Dquarkus.analytics.disabled=true"); // never phone home
        c.add("-Dquarkus.log.level=WARN"); // quiet: the startup banner and errors only
        c.add("-Dquarkus.log.category.\"io.quarkus.bootstrap.runner.Timing\".level=INFO"); // keep the "started in" line
        c.add("-jar");
        c.add(runnerJar.toString());
        return c;
    }

    /**
     * Launches the registry and waits until {@code /health/ready} answers 200. A wait that fails (timed out, or the
     * calling thread interrupted) stops the registry it launched before it throws.
     */
    public synchronized ChildProcess start(boolean detached, Duration readyTimeout) {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("Schema registry already running: " + process);
        }
        Ports.requireFree("Schema registry", port);
        StackFiles.createDirectories(dir);
        Path runnerJar = distribution.apicurioRunnerJar();
        String marker = ChildProcess.newMarker();
        synchronized (launching) {
            if (killed) {
                throw new StackException("Schema registry not started: the stack is being stopped");
            }
            process = ChildProcess.launch("Schema registry", command(StackDistribution.javaExecutable(), runnerJar, port, marker),
                    marker, dir, outputFile(), logFiles(), detached);
        }
        process.awaitReadyOrStop(() -> awaitReady(readyTimeout));
        return process;
    }

    public synchronized void stop() {
        if (process != null) {
            process.stop(ChildProcess.DEFAULT_GRACE);
        }
    }

    public void kill() {
        ChildProcess current;
        synchronized (launching) {
            killed = true;
            current = process;
        }
        if (current != null) {
            current.kill();
        }
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isHealthy(port, Duration.ofSeconds(2))) {
            if (!process.isAlive()) {
                throw new StackException("Schema registry exited during startup (port " + port + ")\n" + process.logTail(40));
            }
            if (System.nanoTime() > deadline) {
                process.stop(Duration.ofSeconds(10));
                throw new StackException("Schema registry on port " + port + " was not ready within " + timeout.toSeconds()
                        + " s; stopped it\n" + process.logTail(40));
            }
            KafkaBroker.sleep(300);
        }
    }

    /** True when a registry on {@code 127.0.0.1:port} reports ready. */
    public static boolean isHealthy(int port, Duration timeout) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + Ports.HOST + ":" + port + HEALTH_PATH))
                .timeout(timeout)
                .GET()
                .build();
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
