package io.tapline.stack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;

/**
 * One Apache Kafka node in KRaft mode (broker and controller combined) running in a child JVM.
 * Everything about how the broker is configured, formatted and launched lives in this class, so a
 * Kafka upgrade touches this file only.
 *
 * <p>Layout of {@code dir}: {@code server.properties}, {@code log4j2.properties}, {@code kafka.log}
 * (broker log), {@code kafka.out} (JVM stdout/stderr) and {@code data/} (the log dir).
 */
public final class KafkaBroker {

    public static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(90);
    public static final int DEFAULT_PORT = 9092;

    static final int NODE_ID = 1;
    static final String MAIN_CLASS = "kafka.Kafka";
    static final String STORAGE_TOOL = "kafka.tools.StorageTool";
    /** Broker JVM heap: plenty for a development node, small enough for a 2-core laptop running tests. */
    static final List<String> JVM_OPTIONS = List.of("-Xms64m", "-Xmx512m",
            // One GC thread set, no concurrent GC threads competing with the tests for the CPUs.
            "-XX:+UseSerialGC",
            "-Djava.awt.headless=true");

    private final StackDistribution distribution;
    private final int port;
    private final int controllerPort;
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

    public KafkaBroker(StackDistribution distribution, int port, int controllerPort, Path dir) {
        Ports.requireValid("Kafka", port);
        Ports.requireValid("Kafka controller", controllerPort);
        this.distribution = distribution;
        this.port = port;
        this.controllerPort = controllerPort;
        this.dir = dir.toAbsolutePath();
    }

    public int port() {
        return port;
    }

    public int controllerPort() {
        return controllerPort;
    }

    public Path dir() {
        return dir;
    }

    public String bootstrapServers() {
        return bootstrapServers(port);
    }

    public static String bootstrapServers(int port) {
        return Ports.HOST + ":" + port;
    }

    public ChildProcess process() {
        return process;
    }

    /** The broker settings for one combined node; every non-default value says why. */
    static Map<String, String> serverProperties(int port, int controllerPort, Path logDir) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller"); // one JVM is the whole cluster
        p.put("node.id", Integer.toString(NODE_ID));
        // A static one-voter quorum: formatting needs no --standalone, and the controller port may change between runs.
        p.put("controller.quorum.voters", NODE_ID + "@" + Ports.HOST + ":" + controllerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("listeners", "PLAINTEXT://" + Ports.HOST + ":" + port + ",CONTROLLER://" + Ports.HOST + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + Ports.HOST + ":" + port); // loopback only: a local development node
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir.toString()); // under the stack's data directory
        p.put("offsets.topic.replication.factor", "1"); // one node: the default of 3 cannot be met
        p.put("transaction.state.log.replication.factor", "1"); // one node, and Streams exactly-once needs this topic
        p.put("transaction.state.log.min.isr", "1"); // one node
        p.put("share.coordinator.state.topic.replication.factor", "1"); // one node
        p.put("share.coordinator.state.topic.min.isr", "1"); // one node
        // Fewer internal partitions: the first consumer group or transaction is ready in a moment, not after creating 50.
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.num.partitions", "5");
        p.put("share.coordinator.state.topic.num.partitions", "5");
        p.put("group.initial.rebalance.delay.ms", "0"); // tests and demos should not wait 3 s for every first rebalance
        p.put("auto.create.topics.enable", "false"); // every topic is created deliberately with its settings
        p.put("num.network.threads", "2"); // a development node on 2 cores
        p.put("num.io.threads", "2"); // a development node on 2 cores
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(16 * 1024 * 1024)); // the default 128 MiB would take a quarter of the heap
        return p;
    }

    /** Broker logs go to {@code kafka.log} only; the console stays quiet. */
    static String log4jConfig(Path logFile) {
        return String.join("\n",
                "status = warn",
                "appender.file.type = File",
                "appender.file.name = file",
                "appender.file.fileName = " + logFile.toString().replace("\\", "/"),
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.file.ref = file",
                // The state change and request loggers are chatty at INFO and say nothing a developer needs.
                "logger.state.name = state.change.logger",
                "logger.state.level = WARN",
                "logger.request.name = kafka.request.logger",
                "logger.request.level = WARN",
                "");
    }

    private Path dataDir() {
        return dir.resolve("data");
    }

    private Path logFile() {
        return dir.resolve("kafka.log");
    }

    private Path outputFile() {
        return dir.resolve("kafka.out");
    }

    private Path serverPropertiesFile() {
        return dir.resolve("server.properties");
    }

    private Path log4jFile() {
        return dir.resolve("log4j2.properties");
    }

    /** The broker's log files, for error messages. */
    public List<Path> logFiles() {
        return List.of(logFile());
    }

    /**
     * Writes the config, formats the storage on first start, launches the broker and waits until it
     * answers a metadata request. Keeps the data of an earlier run in the same directory. A wait that fails (timed
     * out, or the calling thread interrupted) stops the broker it launched before it throws.
     *
     * @param detached see {@link ChildProcess#launch}
     */
    public synchronized ChildProcess start(boolean detached, Duration readyTimeout) {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("Kafka broker already running: " + process);
        }
        Ports.requireFree("Kafka", port);
        Ports.requireFree("Kafka controller", controllerPort);
        StackFiles.createDirectories(dataDir());
        StackFiles.writeString(serverPropertiesFile(),
                StackFiles.render(serverProperties(port, controllerPort, dataDir()), "written by Tapline's KafkaBroker"));
        StackFiles.writeString(log4jFile(), log4jConfig(logFile()));
        if (!Files.exists(dataDir().resolve("meta.properties"))) {
            format();
        }
        String marker = ChildProcess.newMarker();
        List<String> command = new ArrayList<>();
        command.add(StackDistribution.javaExecutable());
        command.addAll(JVM_OPTIONS);
        command.add("-Dlog4j2.configurationFile=" + log4jFile());
        command.add(ChildProcess.markerArgument(marker));
        command.add("-cp");
        command.add(distribution.kafkaClasspath());
        command.add(MAIN_CLASS);
        command.add(serverPropertiesFile().toString());
        synchronized (launching) {
            if (killed) {
                throw new StackException("Kafka broker not started: the stack is being stopped");
            }
            process = ChildProcess.launch("Kafka broker", command, marker, dir, outputFile(), logFiles(), detached);
        }
        process.awaitReadyOrStop(() -> awaitReady(readyTimeout));
        return process;
    }

    /** Stops the broker this object started (SIGTERM, then SIGKILL after the grace period). */
    public synchronized void stop() {
        if (process != null) {
            process.stop(ChildProcess.DEFAULT_GRACE);
        }
    }

    /** SIGKILL, for JVM shutdown hooks. */
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

    private void format() {
        String clusterId = Uuid.randomUuid().toString();
        List<String> command = new ArrayList<>();
        command.add(StackDistribution.javaExecutable());
        command.add("-Xmx256m"); // formatting writes two small files
        command.add("-Dlog4j2.configurationFile=" + log4jFile());
        command.add("-cp");
        command.add(distribution.kafkaClasspath());
        command.add(STORAGE_TOOL);
        command.add("format");
        command.add("--cluster-id");
        command.add(clusterId);
        command.add("--config");
        command.add(serverPropertiesFile().toString());
        command.add("--ignore-formatted");
        Path output = dir.resolve("format.out");
        try {
            Process tool = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            if (!tool.waitFor(2, TimeUnit.MINUTES)) {
                tool.destroyForcibly();
                throw new StackException("formatting Kafka storage in " + dataDir() + " timed out\n" + ChildProcess.tail(output, 30));
            }
            if (tool.exitValue() != 0) {
                throw new StackException("formatting Kafka storage in " + dataDir() + " failed (exit " + tool.exitValue()
                        + ")\n" + ChildProcess.tail(output, 30));
            }
        } catch (java.io.IOException e) {
            throw new StackException("could not run the Kafka storage tool: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("interrupted while formatting Kafka storage", e);
        }
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Ports.isListening(port, 500)) {
            checkAliveAndTime(deadline, timeout);
            sleep(200);
        }
        while (!isHealthy(port, Duration.ofSeconds(5))) {
            checkAliveAndTime(deadline, timeout);
            sleep(500);
        }
    }

    private void checkAliveAndTime(long deadline, Duration timeout) {
        if (!process.isAlive()) {
            throw new StackException("Kafka broker exited during startup (port " + port + ")\n" + process.logTail(40));
        }
        if (System.nanoTime() > deadline) {
            process.stop(Duration.ofSeconds(10));
            throw new StackException("Kafka broker on port " + port + " was not ready within " + timeout.toSeconds()
                    + " s; stopped it\n" + process.logTail(40));
        }
    }

    /** True when a broker at {@code 127.0.0.1:port} answers a metadata request with at least one live node. */
    public static boolean isHealthy(int port, Duration timeout) {
        if (!Ports.isListening(port, (int) Math.min(timeout.toMillis(), 2000))) {
            return false;
        }
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(port));
        // A health probe gives up quickly instead of retrying for the default minute.
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        try (Admin admin = Admin.create(config)) {
            return !admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()))
                    .nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS).isEmpty();
        } catch (ExecutionException | TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("interrupted while waiting for the stack", e);
        }
    }
}
