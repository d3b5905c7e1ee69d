package io.tapline.dedup;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long the job's Kafka clients have gone without an answer from any broker: {@code
 * tapline_dedup_broker_silence_seconds}, and what {@code /ready} reads to answer 503 past {@code
 * dedup.ready.max.broker.silence}.
 *
 * <p>Kafka Streams stays {@code RUNNING} while its brokers do not answer (a frozen broker, a network partition), and
 * none of its states or of its clients' {@code *-seconds-ago} metrics tells that apart from a healthy idle job: the
 * consumer's {@code last-poll-seconds-ago} counts the stream thread's own calls, which go on returning nothing, and
 * the coordinator's {@code last-heartbeat-seconds-ago} counts heartbeats sent, not answered. What does tell it is
 * each client's {@code response-total} (its network layer's count of responses received, from any broker): a
 * connected consumer has a fetch answered at least every {@code fetch.max.wait.ms} (500 ms) and a heartbeat every
 * {@code heartbeat.interval.ms} (3 s) whether or not records arrive, so an idle job's counts keep rising, and a
 * job whose brokers do not answer has every count standing still.
 *
 * <p>The counts are read from {@link KafkaStreams#metrics()} when the gauge or {@code /ready} is read (the management
 * server's threads, never a stream thread), and the silence is the time since the first read that saw a client's
 * count rise (or since the first read after Kafka Streams was started, while none has). It is therefore late by at
 * most the time between two reads. Each client is followed by its {@code client-id}: a stream thread replaced by a new one brings a new consumer whose
 * count starts again at 0, which is not an answer. Memory: one count per client of the job.
 */
final class BrokerSilence {

    private static final Logger LOG = LoggerFactory.getLogger(BrokerSilence.class);

    static final String SILENCE = "tapline_dedup_broker_silence_seconds";
    /**
     * The default of {@code dedup.ready.max.broker.silence}: twice the clients' {@code request.timeout.ms} (30 s), so
     * that one request that times out and its retry do not make the job unready, and well above the 3 s a connected
     * job waits at most for an answer; a 30 s broker freeze, which the job rides out by itself, does not reach it.
     */
    static final Duration DEFAULT_MAX = Duration.ofSeconds(60);
    static final String RESPONSE_TOTAL = "response-total";
    /** The client-level groups of Kafka's network layer (per-node groups, {@code consumer-node-metrics}, left out). */
    static final Set<String> CLIENT_GROUPS = Set.of("consumer-metrics", "producer-metrics", "admin-client-metrics");

    /** The job's clients' metrics, or null while Kafka Streams is not started (not made, or {@code CREATED}). */
    private final Supplier<Map<MetricName, ? extends Metric>> metrics;
    private final LongSupplier nanoTime;
    /** Readiness fails past this; zero: never. */
    private final Duration max;
    /** Last count read per client ({@code group/client-id}). */
    private final Map<String, Double> counts = new HashMap<>();
    /** {@link #nanoTime} of the last read that saw an answer, or of the first read after Kafka Streams started. */
    private long heardAt;
    private boolean started;
    /** Whether the last read found the silence past {@link #max} (logged once per change). */
    private boolean tooLong;

    /** Reads the metrics of the {@link KafkaStreams} {@code streams} gives (null before it is made). */
    static BrokerSilence of(Supplier<KafkaStreams> streams, LongSupplier nanoTime, Duration max) {
        return new BrokerSilence(() -> {
            KafkaStreams s = streams.get();
            return s == null || s.state() == KafkaStreams.State.CREATED ? null : s.metrics();
        }, nanoTime, max);
    }

    BrokerSilence(Supplier<Map<MetricName, ? extends Metric>> metrics, LongSupplier nanoTime, Duration max) {
        this.metrics = metrics;
        this.nanoTime = nanoTime;
        this.max = max;
    }

    /** The silence, in seconds: 0 before Kafka Streams is started. */
    double seconds() {
        return nanos() / 1e9;
    }

    /**
     * Whether the brokers have been silent for longer than {@code dedup.ready.max.broker.silence} (never with that
     * at 0): {@code /ready} then answers 503.
     */
    boolean tooLong() {
        return !max.isZero() && nanos() > max.toNanos();
    }

    private synchronized long nanos() {
        Map<MetricName, ? extends Metric> read = metrics.get();
        if (read == null) {
            return 0; // not made or not started yet: its clients ask no broker
        }
        long now = nanoTime.getAsLong();
        if (heard(read) || !started) {
            heardAt = now;
            started = true;
        }
        long silence = now - heardAt;
        boolean past = !max.isZero() && silence > max.toNanos();
        if (past != tooLong) {
            tooLong = past;
            if (past) {
                // tenths: whole seconds cut down read "for 60 s (more than ..., 60 s)" at a silence of 60.9 s
                LOG.warn("no broker has answered this job's Kafka clients for {} s (more than "
                        + "dedup.ready.max.broker.silence, {} s): /ready answers 503 until one does; Kafka Streams "
                        + "waits for them itself", tenths(silence), tenths(max.toNanos()));
            } else {
                LOG.info("the brokers answer again: /ready follows the Kafka Streams state again");
            }
        }
        return silence;
    }

    /** {@code nanos} in seconds with one decimal, cut down ({@code 60.96} s reads {@code 60.9}), never above it. */
    static String tenths(long nanos) {
        long t = nanos / 100_000_000;
        return t / 10 + "." + t % 10;
    }

    /** Whether a client's response count rose since the last read; keeps the counts read and forgets gone clients. */
    private boolean heard(Map<MetricName, ? extends Metric> read) {
        boolean heard = false;
        Map<String, Double> now = new HashMap<>();
        for (Map.Entry<MetricName, ? extends Metric> e : read.entrySet()) {
            MetricName name = e.getKey();
            if (name.name().equals(RESPONSE_TOTAL) && CLIENT_GROUPS.contains(name.group())
                    && e.getValue().metricValue() instanceof Number n && n.doubleValue() >= 0) {
                String client = name.group() + "/" + name.tags().getOrDefault("client-id", "");
                double count = n.doubleValue();
                now.put(client, count);
                // A client not seen before counts from 0: made after the last read, all it counts came since. A
                // count below the last is a new client under the old one's id (a replaced stream thread may get the
                // index of the one it replaces), made since the last read too.
                if (count > 0 && count != counts.getOrDefault(client, 0.0)) {
                    heard = true;
                }
            }
        }
        counts.clear();
        counts.putAll(now);
        return heard;
    }
}
