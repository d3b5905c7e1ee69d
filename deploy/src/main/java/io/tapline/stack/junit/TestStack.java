package io.tapline.stack.junit;

import java.util.Map;

import org.apache.kafka.clients.admin.Admin;

/**
 * The real Kafka broker and schema registry shared by every test in the JVM; injected by
 * {@link TaplineStackExtension} into test methods, constructors and {@code @BeforeAll} methods.
 * Each part starts on first use. Give every test its own topics ({@link #createTopic}) and ids
 * ({@link #uniqueName}); never rely on what another test left behind.
 */
public interface TestStack {

    /** {@code "127.0.0.1:PORT"}; starts the broker on first use. */
    String bootstrapServers();

    /** {@code "http://127.0.0.1:PORT/apis/ccompat/v7"}; starts the registry on first use. */
    String registryUrl();

    /**
     * Creates a topic named {@code base} plus a unique suffix (one replica) and waits until every
     * partition has a leader.
     *
     * @return the created topic's name
     */
    String createTopic(String base, int partitions, Map<String, String> configs);

    /** {@code base} plus a suffix unique in this JVM and across runs; for application ids, group ids, run ids. */
    String uniqueName(String base);

    /** An admin client for the broker, shared by all tests: do not close it. */
    Admin admin();

    /** Stops the broker (SIGTERM, then SIGKILL); its port and data are kept for {@link #startBroker()}. */
    void stopBroker();

    /** Starts the broker again on the same port with the same data and waits until it is ready. */
    void startBroker();

    /**
     * Freezes the broker (SIGSTOP): its connections stay open and nothing answers, as in a network partition or a long
     * VM pause, unlike {@link #stopBroker()}, whose connections are refused. {@link #thawBroker()} ends it; call it in
     * a {@code finally}, as the stack's own stop cannot stop a frozen broker gracefully.
     */
    void freezeBroker();

    /** Lets a frozen broker go on (SIGCONT). */
    void thawBroker();

    /** Stops the registry; its port is kept. Its storage is in memory: a restart forgets all schemas. */
    void stopRegistry();

    /** Starts the registry again on the same port and waits until it is ready. */
    void startRegistry();
}
