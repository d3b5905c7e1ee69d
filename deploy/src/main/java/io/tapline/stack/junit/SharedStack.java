package io.tapline.stack.junit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import io.tapline.stack.KafkaBroker;
import io.tapline.stack.Ports;
import io.tapline.stack.SchemaRegistry;
import io.tapline.stack.StackDistribution;
import io.tapline.stack.StackException;
import io.tapline.stack.StackTopics;
import io.tapline.topics.TopicSpec;

/** The one broker and registry of this test JVM, on free ports, with data in a temp dir. */
final class SharedStack implements TestStack, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SharedStack.class.getName());
    /** Attempts to start on fresh free ports when another process took a port between probe and bind. */
    private static final int PORT_RACE_ATTEMPTS = 3;
    private static final Duration TOPIC_TIMEOUT = Duration.ofSeconds(60);

    private static SharedStack instance;

    private final StackDistribution distribution = StackDistribution.fromBuild();
    private final Path root;
    private final String runId = UUID.randomUUID().toString().substring(0, 8);
    private final AtomicLong counter = new AtomicLong();
    private KafkaBroker broker;
    private SchemaRegistry registry;
    private Admin admin;
    private boolean closed;

    private SharedStack() {
        try {
            root = Files.createTempDirectory("tapline-stack-");
        } catch (java.io.IOException e) {
            throw new StackException("could not create a temp dir for the test stack: " + e.getMessage(), e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::killAndDelete, "tapline-stack-shutdown"));
    }

    /** One per JVM, even when several launcher sessions or root contexts ask for it. */
    static synchronized SharedStack instance() {
        if (instance == null || instance.closed) {
            instance = new SharedStack();
        }
        return instance;
    }

    @Override
    public synchronized String bootstrapServers() {
        return broker().bootstrapServers();
    }

    @Override
    public synchronized String registryUrl() {
        return registry().url();
    }

    @Override
    public String createTopic(String base, int partitions, Map<String, String> configs) {
        String name = uniqueName(base);
        StackTopics.create(admin(), List.of(new TopicSpec(name, partitions, configs, "test topic")), TOPIC_TIMEOUT);
        return name;
    }

    @Override
    public String uniqueName(String base) {
        return base + "-" + runId + "-" + counter.incrementAndGet();
    }

    @Override
    public synchronized Admin admin() {
        if (admin == null) {
            Properties config = new Properties();
            config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker().bootstrapServers());
            config.put(AdminClientConfig.CLIENT_ID_CONFIG, "tapline-test-stack"); // names the fixture in broker logs
            admin = Admin.create(config);
        }
        return admin;
    }

    @Override
    public synchronized void stopBroker() {
        broker().stop();
    }

    @Override
    public synchronized void startBroker() {
        KafkaBroker current = broker();
        if (current.process().isAlive()) {
            return;
        }
        current.start(false, KafkaBroker.DEFAULT_READY_TIMEOUT);
    }

    @Override
    public synchronized void freezeBroker() {
        signalBroker("-STOP");
    }

    @Override
    public synchronized void thawBroker() {
        signalBroker("-CONT");
    }

    private void signalBroker(String signal) {
        long pid = broker().process().pid();
        try {
            Process kill = new ProcessBuilder("kill", signal, Long.toString(pid)).redirectErrorStream(true).start();
            String output = new String(kill.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (kill.waitFor() != 0) {
                throw new StackException("kill " + signal + " " + pid + " (the Kafka broker) failed: " + output.strip());
            }
        } catch (java.io.IOException e) {
            throw new StackException("kill " + signal + " " + pid + " (the Kafka broker) failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("interrupted while signalling the Kafka broker (" + signal + ")");
        }
    }

    @Override
    public synchronized void stopRegistry() {
        registry().stop();
    }

    @Override
    public synchronized void startRegistry() {
        SchemaRegistry current = registry();
        if (current.process().isAlive()) {
            return;
        }
        current.start(false, SchemaRegistry.DEFAULT_READY_TIMEOUT);
    }

    private KafkaBroker broker() {
        ensureOpen();
        if (broker == null) {
            for (int attempt = 1; ; attempt++) {
                KafkaBroker candidate = new KafkaBroker(distribution, Ports.freePort(), Ports.freePort(),
                        root.resolve("kafka-" + attempt));
                LOG.log(System.Logger.Level.INFO, "starting test Kafka broker on " + candidate.bootstrapServers());
                try {
                    candidate.start(false, KafkaBroker.DEFAULT_READY_TIMEOUT);
                    broker = candidate;
                    break;
                } catch (StackException e) {
                    if (attempt >= PORT_RACE_ATTEMPTS || !lostPortRace(e)) {
                        throw e;
                    }
                    LOG.log(System.Logger.Level.WARNING, "another process took a port of the test broker, retrying: " + e.getMessage());
                }
            }
        }
        return broker;
    }

    private SchemaRegistry registry() {
        ensureOpen();
        if (registry == null) {
            for (int attempt = 1; ; attempt++) {
                SchemaRegistry candidate = new SchemaRegistry(distribution, Ports.freePort(), root.resolve("registry-" + attempt));
                LOG.log(System.Logger.Level.INFO, "starting test schema registry on " + candidate.url());
                try {
                    candidate.start(false, SchemaRegistry.DEFAULT_READY_TIMEOUT);
                    registry = candidate;
                    break;
                } catch (StackException e) {
                    if (attempt >= PORT_RACE_ATTEMPTS || !lostPortRace(e)) {
                        throw e;
                    }
                    LOG.log(System.Logger.Level.WARNING, "another process took the test registry's port, retrying: " + e.getMessage());
                }
            }
        }
        return registry;
    }

    private static boolean lostPortRace(StackException e) {
        String message = String.valueOf(e.getMessage());
        return e instanceof io.tapline.stack.PortInUseException || message.contains("Address already in use");
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the test stack was already closed at the end of the test run");
        }
    }

    /** End of the test run: stop gracefully, then delete the data. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        if (registry != null) {
            registry.stop();
        }
        if (broker != null) {
            broker.stop();
        }
        deleteRoot();
    }

    /** JVM shutdown: whatever is still running is killed at once; nothing outlives the test JVM. */
    private void killAndDelete() {
        KafkaBroker b = broker;
        SchemaRegistry r = registry;
        if (r != null) {
            r.kill();
        }
        if (b != null) {
            b.kill();
        }
        deleteRoot();
    }

    private void deleteRoot() {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not delete the test stack's data in " + root + ": " + e.getMessage());
        }
    }
}
