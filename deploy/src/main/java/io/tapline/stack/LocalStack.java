package io.tapline.stack;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import io.tapline.topics.TaplineTopics;

/**
 * The {@code up}, {@code down} and {@code status} operations of the local development stack,
 * whose processes outlive the CLI and are recorded in the data directory.
 */
public final class LocalStack {

    /** Exit code of {@code status} when something is not running or not healthy (as LSB init scripts use). */
    public static final int EXIT_NOT_RUNNING = 3;

    private static final Duration TOPIC_TIMEOUT = Duration.ofSeconds(60);

    private final StackDistribution distribution;
    private final Path dataDir;
    private final PrintStream out;

    public LocalStack(StackDistribution distribution, Path dataDir, PrintStream out) {
        this.distribution = distribution;
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.out = out;
    }

    private Path kafkaDir() {
        return dataDir.resolve("kafka");
    }

    private Path registryDir() {
        return dataDir.resolve("registry");
    }

    private ChildProcess kafkaProcess(StackState.Entry entry) {
        return StackState.process("Kafka broker", entry, List.of(kafkaDir().resolve("kafka.log"), kafkaDir().resolve("kafka.out")));
    }

    private ChildProcess registryProcess(StackState.Entry entry) {
        return StackState.process("Schema registry", entry, List.of(registryDir().resolve("registry.log")));
    }

    /** Starts the broker and the registry, creates Tapline's topics and prints the addresses. */
    public int up(int kafkaPort, int registryPort) {
        StackFiles.createDirectories(dataDir);
        StackState state = StackState.read(dataDir);
        boolean kafkaAlive = state.kafka().map(this::kafkaProcess).map(ChildProcess::isAlive).orElse(false);
        boolean registryAlive = state.registry().map(this::registryProcess).map(ChildProcess::isAlive).orElse(false);
        if (kafkaAlive && registryAlive) {
            out.println("tapline stack is already running (data dir " + dataDir + ")");
            printAddresses(state.kafka().get().port(), state.registry().get().port());
            return 0;
        }
        if (kafkaAlive || registryAlive) {
            throw new StackException("tapline stack is partly running (" + (kafkaAlive ? "Kafka" : "the registry")
                    + " only); run `tapline stack down` first");
        }
        Ports.requireFree("Kafka", kafkaPort);
        Ports.requireFree("Schema registry", registryPort);

        KafkaBroker kafka = new KafkaBroker(distribution, kafkaPort, Ports.freePort(), kafkaDir());
        SchemaRegistry registry = new SchemaRegistry(distribution, registryPort, registryDir());
        // The processes run detached from the terminal (a Ctrl-C there does not reach them) and are recorded only once
        // ready: until the stack is up, an `up` that is interrupted (Ctrl-C, SIGTERM) or fails takes down what it
        // started, so no broker or registry is left running that `tapline stack down` does not know of.
        Thread undo = new Thread(() -> {
            registry.kill();
            kafka.kill();
            new StackState(Optional.empty(), Optional.empty()).write(dataDir);
        }, "tapline-stack-up-interrupted");
        Runtime.getRuntime().addShutdownHook(undo);
        boolean up = false;
        try {
            out.println("starting Kafka " + distribution.kafkaVersion() + " (KRaft) on " + kafka.bootstrapServers() + " ...");
            ChildProcess kafkaProcess = kafka.start(true, KafkaBroker.DEFAULT_READY_TIMEOUT);
            StackState.Entry kafkaEntry = StackState.entryOf(kafkaProcess, kafkaPort);
            new StackState(Optional.of(kafkaEntry), Optional.empty()).write(dataDir);

            out.println("starting Apicurio Registry " + distribution.apicurioVersion() + " on port " + registryPort + " ...");
            ChildProcess registryProcess;
            try {
                registryProcess = registry.start(true, SchemaRegistry.DEFAULT_READY_TIMEOUT);
            } catch (StackException e) {
                throw new StackException(e.getMessage() + "\n(stopped the Kafka broker again)", e);
            }
            new StackState(Optional.of(kafkaEntry), Optional.of(StackState.entryOf(registryProcess, registryPort)))
                    .write(dataDir);

            out.println("creating topics ...");
            try (Admin admin = admin(kafkaPort)) {
                List<String> created = StackTopics.create(admin, TaplineTopics.all(), TOPIC_TIMEOUT);
                TaplineTopics.all().forEach(spec -> out.println("  " + spec.name() + " (" + spec.partitions()
                        + " partitions" + (created.contains(spec.name()) ? ", created" : ", exists") + ")"));
            }
            up = true;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(undo);
                if (!up) {
                    registry.stop();
                    kafka.stop();
                    new StackState(Optional.empty(), Optional.empty()).write(dataDir);
                }
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting (interrupted): the hook runs by itself
            }
        }
        out.println("tapline stack is up (data and logs in " + dataDir + ")");
        printAddresses(kafkaPort, registryPort);
        return 0;
    }

    private void printAddresses(int kafkaPort, int registryPort) {
        out.println("  Kafka bootstrap servers: " + KafkaBroker.bootstrapServers(kafkaPort));
        out.println("  Schema registry URL:     " + SchemaRegistry.url(registryPort));
    }

    /** Stops the processes recorded by {@code up}, and only those. */
    public int down() {
        StackState state = StackState.read(dataDir);
        if (state.kafka().isEmpty() && state.registry().isEmpty()) {
            out.println("tapline stack is not running (nothing recorded in " + StackState.file(dataDir) + ")");
            return 0;
        }
        state.registry().ifPresent(e -> stop(registryProcess(e)));
        state.kafka().ifPresent(e -> stop(kafkaProcess(e)));
        new StackState(Optional.empty(), Optional.empty()).write(dataDir);
        out.println("tapline stack is down (data kept in " + dataDir + ")");
        return 0;
    }

    private void stop(ChildProcess process) {
        if (process.stop(ChildProcess.DEFAULT_GRACE)) {
            out.println("stopped " + process);
        } else {
            out.println(process.name() + " was not running (pid " + process.pid() + " has exited or belongs to another process; left alone)");
        }
    }

    /** Prints each process's state, address and health; exit 0 only when both are running and healthy. */
    public int status() {
        // which stack this is: one started with another --data-dir is not seen here, and would read as stopped
        out.println("Local stack in " + dataDir);
        StackState state = StackState.read(dataDir);
        boolean kafkaOk = report("Kafka broker", state.kafka().map(this::kafkaProcess), state.kafka(),
                port -> KafkaBroker.bootstrapServers(port), port -> KafkaBroker.isHealthy(port, Duration.ofSeconds(5)));
        boolean registryOk = report("Schema registry", state.registry().map(this::registryProcess), state.registry(),
                port -> SchemaRegistry.url(port), port -> SchemaRegistry.isHealthy(port, Duration.ofSeconds(5)));
        return kafkaOk && registryOk ? 0 : EXIT_NOT_RUNNING;
    }

    private boolean report(String name, Optional<ChildProcess> process, Optional<StackState.Entry> entry,
                           java.util.function.IntFunction<String> address, java.util.function.IntPredicate healthy) {
        if (process.isEmpty() || !process.get().isAlive()) {
            out.println(name + ": stopped");
            return false;
        }
        int port = entry.get().port();
        boolean ok = healthy.test(port);
        out.println(name + ": running (pid " + process.get().pid() + "), " + address.apply(port) + ", "
                + (ok ? "healthy" : "NOT answering"));
        return ok;
    }

    private static Admin admin(int kafkaPort) {
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.bootstrapServers(kafkaPort));
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "tapline-stack"); // names the CLI in broker logs
        return Admin.create(config);
    }
}
