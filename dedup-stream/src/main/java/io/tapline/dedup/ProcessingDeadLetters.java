package io.tapline.dedup;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Where {@link RecordFailureHandler} writes its dead letters, and counts and warns of them: the dead-letter topic,
 * through a producer of its own, one for the instance, made at the first such dead letter and closed with the job.
 *
 * <p>A producer of its own because Kafka Streams 4.1 gives a processing exception handler no way to write inside the
 * task's transaction (it answers only continue or fail; KIP-1034's dead-letter records returned by the handler, which
 * Streams writes in the transaction, came with 4.2). So these dead letters are at least once, not exactly once: each is
 * acknowledged by the brokers before the stream goes on (or the stream thread fails, as before), and a task whose
 * transaction is aborted afterwards (a crash before the commit) processes the record again and, failing again, writes
 * a second dead letter with the same source topic, partition and offset headers.
 */
final class ProcessingDeadLetters implements AutoCloseable {

    /**
     * Longest wait for the brokers to take a dead letter once it is sent (the producer's delivery timeout).
     */
    static final Duration SEND_TIMEOUT = Duration.ofSeconds(5);
    /**
     * Longest wait of the send itself for the dead-letter topic's metadata (at the first dead letter, or after its
     * leader moved), before {@link #SEND_TIMEOUT} starts.
     */
    static final Duration METADATA_TIMEOUT = Duration.ofSeconds(2);
    /**
     * Longest a {@link #write} holds the stream thread: the metadata wait, then the delivery timeout, and a second for
     * the producer to report it. Within Kafka Streams' exactly-once transaction timeout (10 s by default), which a
     * longer wait of the stream thread would let expire (the task's producer fenced, its work done again).
     */
    static final Duration WRITE_TIMEOUT = METADATA_TIMEOUT.plus(SEND_TIMEOUT).plusSeconds(1);

    private final String dlqTopic;
    private final DedupMetrics metrics;
    private final Supplier<Producer<byte[], byte[]>> producers;
    private Producer<byte[], byte[]> producer;
    private boolean closed;

    ProcessingDeadLetters(String dlqTopic, DedupMetrics metrics, Supplier<Producer<byte[], byte[]>> producers) {
        this.dlqTopic = dlqTopic;
        this.metrics = metrics;
        this.producers = producers;
    }

    /** Dead letters written with a producer configured as Kafka Streams' own, from {@code streamsConfig}. */
    static ProcessingDeadLetters kafka(Properties streamsConfig, DedupConfig config, DedupMetrics metrics) {
        Map<String, Object> producerConfig = producerConfig(streamsConfig);
        return new ProcessingDeadLetters(config.dlqTopic(), metrics,
                () -> new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer()));
    }

    /**
     * Kafka Streams' producer settings (brokers, security, {@code producer.*} settings such as the request size and
     * compression), for one send awaited at once: nothing lingers, and a send that cannot complete within
     * {@link #SEND_TIMEOUT} fails.
     */
    static Map<String, Object> producerConfig(Properties streamsConfig) {
        StreamsConfig streams = new StreamsConfig(streamsConfig);
        Map<String, Object> producer = new HashMap<>(streams.getProducerConfigs(
                streams.getString(StreamsConfig.APPLICATION_ID_CONFIG) + "-dead-letters"));
        producer.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        // Each dead letter is acknowledged by every in-sync replica, once, before the stream goes on.
        producer.put(ProducerConfig.ACKS_CONFIG, "all");
        producer.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // Sent alone and awaited at once: batching would only delay it.
        producer.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        // Bounded, together, below the transaction timeout of the stream thread that waits for it (WRITE_TIMEOUT).
        producer.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) METADATA_TIMEOUT.toMillis());
        producer.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) SEND_TIMEOUT.toMillis() - 1000);
        producer.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) SEND_TIMEOUT.toMillis());
        return producer;
    }

    String dlqTopic() {
        return dlqTopic;
    }

    DedupMetrics metrics() {
        return metrics;
    }

    /**
     * Writes {@code deadLetter} and waits until the brokers have it. Throws when they have not within
     * {@link #WRITE_TIMEOUT} of the call, the send's own wait for metadata included, or when the job is closing.
     */
    void write(ProducerRecord<byte[], byte[]> deadLetter) throws InterruptedException, ExecutionException,
            TimeoutException {
        long deadline = System.nanoTime() + WRITE_TIMEOUT.toNanos();
        Producer<byte[], byte[]> used = producer();
        try {
            Future<RecordMetadata> sent = used.send(deadLetter);
            sent.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof RetriableException)) {
                discard(used);
            }
            throw e;
        } catch (KafkaException e) {
            discard(used);
            throw e;
        }
    }

    /**
     * Drops {@code failed}, unless dropped already, so that the next dead letter is written by a new producer: one that
     * failed otherwise than for a passing cause may be in a fatal error state (an authentication or authorization
     * failure as it got its producer id), in which it refuses every later send. Kafka Streams replaces its own producers
     * with the stream thread that failed; this one, the instance's, was kept, and every later dead letter failed its
     * stream thread until the restart budget stopped the job.
     */
    private synchronized void discard(Producer<byte[], byte[]> failed) {
        if (producer == failed) {
            producer = null;
            failed.close(Duration.ZERO);
        }
    }

    private synchronized Producer<byte[], byte[]> producer() {
        if (closed) {
            throw new IllegalStateException("the dead-letter producer is closed");
        }
        if (producer == null) {
            producer = producers.get();
        }
        return producer;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (producer != null) {
            producer.close(SEND_TIMEOUT);
        }
    }
}
