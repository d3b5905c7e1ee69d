package io.tapline.dedup;

import io.tapline.config.ConfigException;
import io.tapline.config.ListenHost;
import io.tapline.config.LogOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.logging.StandardStreams;
import io.tapline.ops.ManagementServer;
import io.tapline.ops.Metrics;
import io.tapline.registry.SchemaRegistryException;
import io.tapline.text.ShownText;
import io.tapline.topics.DeadLetters;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code tapline dedup [options]}: parses options, starts the stream and the management port, waits. */
public final class DedupMain {

    private static final Logger LOG = LoggerFactory.getLogger(DedupMain.class);
    /** Failed stream threads replaced per window before giving up. */
    private static final int RESTARTS = 5;
    private static final Duration RESTART_WINDOW = Duration.ofMinutes(5);
    /** Within the 60 s a pod is given to stop (deploy/k8s): commit, close the stores, leave the group. */
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private DedupMain() {
    }

    /**
     * Says why the job does not start, on standard error, as {@code tapline dedup: WHAT} on one line: what it quotes
     * (a value as given, a client's or the file system's words about it) shown as {@link ShownText#oneLine} shows it,
     * so that a control, bidirectional or invisible character in an option reaches no terminal or CI log as itself.
     */
    private static void say(String what) {
        System.err.println("tapline dedup: " + ShownText.oneLine(what));
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        StandardStreams.useUtf8(); // before anything is written: the locale's charset may be ASCII
        TaplineConfig config;
        try {
            config = DedupOptions.load(args, System.getenv());
            LogOptions.apply(config);
            if (config.helpRequested()) {
                System.out.println(DedupOptions.SPEC.help());
                return;
            }
            config.getInt(DedupOptions.MANAGEMENT_PORT);
        } catch (ConfigException e) {
            say(e.getMessage());
            System.err.println("run with --help to list every option");
            System.exit(2);
            return;
        }
        DedupConfig topology;
        Map<String, Object> registryConfigs;
        Properties streamsConfig;
        Duration topicCheckInterval;
        Duration maxBrokerSilence;
        try {
            topology = DedupOptions.topology(config);
            topicCheckInterval = DedupOptions.topicCheckInterval(config);
            maxBrokerSilence = DedupOptions.readyMaxBrokerSilence(config);
            registryConfigs = DedupOptions.registry(config);
            streamsConfig = DedupOptions.streams(config);
        } catch (ConfigException | IllegalArgumentException e) {
            say(e.getMessage());
            System.exit(2);
            return;
        }
        // Options naming one topic for things it cannot hold together (the input and an output, dead letters and
        // cases) contradict each other as flags do: refused from the names, before a broker is asked or waited for.
        String shared = TopicCheck.shared(config);
        if (shared != null) {
            say(shared);
            System.exit(2);
            return;
        }
        LOG.info("starting {}", config);
        // Bound first, as a flag is checked: a port another process holds (or a host not of this machine) stops the
        // start naming its flag, before anything is registered or a client is made.
        Metrics registry = new Metrics();
        AtomicReference<KafkaStreams> running = new AtomicReference<>();
        // Kafka Streams' state, input lag and broker silence, read as /ready reads them: CREATED until the job is made
        BrokerSilence silence = StreamsGauges.register(registry, topology.inputTopic(), running::get, maxBrokerSilence);
        ManagementServer management;
        try {
            // ready: RUNNING, and a broker answered within dedup.ready.max.broker.silence
            management = startManagement(config, registry, () -> StreamsGauges.ready(running.get(), silence));
        } catch (ConfigException e) {
            say(e.getMessage());
            System.exit(2);
            return;
        }
        // From here on the management port's thread keeps the JVM up: a failure to start exits, never escapes main.
        // The topics are checked before anything is registered: a topic that does not exist, a cases topic that is
        // not compacted or a dead-letter topic that is, is a setting to fix, as a bad flag is (TopicCheck: brokers
        // that do not answer are logged and the start goes on). The same answer gives the partitions the repartition
        // topics are pinned at.
        String repartition = InternalPartitions.repartitionTopic(topology, streamsConfig);
        TopicCheck.Result topics;
        try {
            topics = TopicCheck.check(config, streamsConfig, repartition);
        } catch (RuntimeException e) {
            // the admin client made of the job's settings cannot be made: Kafka Streams' clients could not be either
            say("cannot start: " + DeadLetters.describe(e));
            System.exit(1);
            return;
        }
        if (topics.refusal() != null) {
            say(topics.refusal());
            System.exit(2);
            return;
        }
        DedupSerdes serdes;
        try {
            serdes = DedupSerdes.registered(registryConfigs, topology);
        } catch (SchemaRegistryException e) {
            say("cannot register output schemas: " + e.getMessage());
            System.exit(1);
            return;
        } catch (RuntimeException e) {
            say("cannot register output schemas: " + DeadLetters.describe(e));
            System.exit(1);
            return;
        }
        KafkaStreams streams;
        TopicWatch watch;
        try {
            topology = InternalPartitions.pin(topology, repartition, topics);
            DedupMetrics metrics = new DedupMetrics(registry);
            DedupTopology.deadLetterRecordFailures(streamsConfig, topology, metrics);
            streams = new KafkaStreams(
                    DedupTopology.build(topology, serdes, metrics), streamsConfig);
            // the settings checked above, again every interval while the job runs: a change is logged, not refused
            watch = TopicWatch.start(config, streamsConfig, registry, topics, topicCheckInterval);
        } catch (RuntimeException e) {
            // Kafka Streams or a client it makes refused to start: a state directory that cannot be created, no broker
            // host that resolves. One line, as for a bad flag; the stack trace of Kafka's constructors says no more.
            say("cannot start: " + DeadLetters.describe(e));
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        RestartBudget restarts = new RestartBudget(RESTARTS, RESTART_WINDOW, System::nanoTime);
        streams.setUncaughtExceptionHandler(threadFailures(restarts));
        streams.setStateListener((now, before) -> {
            LOG.info("streams state {} -> {}", before, now);
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                stopped.countDown();
            }
        });
        running.set(streams);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (watch != null) {
                watch.close(); // does not wait: its thread is a daemon, a describe in flight is abandoned
            }
            // Leave the group on the way out: otherwise this instance's partitions stay assigned to it until the
            // session timeout (45 s), and a rolling restart stalls them at every step. A stream thread that fails
            // leaves it too (Kafka Streams does that by itself).
            streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(CLOSE_TIMEOUT));
            management.close();
        }, "tapline-dedup-shutdown"));
        streams.start();
        LOG.info("management port {}", management.port());
        stopped.await();
        management.close();
        if (watch != null) {
            watch.close();
        }
        System.exit(streams.state() == KafkaStreams.State.ERROR ? 1 : 0);
    }

    /**
     * What a failed stream thread gets: replaced while the restart budget lasts, else the client shuts down. Each
     * failure is one line naming the cause chain (class: message of each); its stack trace goes with it, and Kafka
     * Streams' own lines about the same exception (the task's, the client's replacing the thread) refer to the one
     * trace written rather than write it again (Tapline's logger writes a throwable logged again as a reference).
     */
    static StreamsUncaughtExceptionHandler threadFailures(RestartBudget restarts) {
        return e -> {
            if (restarts.tryRestart()) {
                LOG.error("stream thread failed; replacing it (exactly-once: it resumes from the last commit): {}",
                        DeadLetters.describe(e), e);
                return StreamThreadExceptionResponse.REPLACE_THREAD;
            }
            LOG.error("stream threads failed {} times within {}; shutting down: {}", RESTARTS, RESTART_WINDOW,
                    DeadLetters.describe(e), e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        };
    }

    /**
     * Serves /healthy, /ready and /metrics, or a {@code ConfigException} naming the flag at fault: the host when it is
     * not an address of this machine (or does not resolve), else the port (another process holds it).
     */
    static ManagementServer startManagement(TaplineConfig config, Metrics registry, BooleanSupplier ready) {
        String host = config.get(DedupOptions.MANAGEMENT_HOST);
        int port = config.getInt(DedupOptions.MANAGEMENT_PORT);
        try {
            return ManagementServer.start(host, port, registry, ready);
        } catch (IOException | RuntimeException e) {
            throw ListenHost.cannotListen(config, DedupOptions.MANAGEMENT_HOST, DedupOptions.MANAGEMENT_PORT, host, port, e);
        }
    }
}
