package io.tapline.replay.run;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/** Reads a topic, committed records only, between given offsets (by default from the beginning to the end offsets taken when it starts). */
public final class TopicReader {

    private TopicReader() {
    }

    /**
     * Calls {@code handler} for every committed record below the end offsets at start.
     *
     * @throws TimeoutException when the topic is not fully read within {@code timeout}
     */
    public static void readAll(Map<String, Object> consumerProps, String topic, Duration timeout,
                               Consumer<ConsumerRecord<byte[], byte[]>> handler) {
        readRange(consumerProps, topic, Map.of(), Map.of(), timeout, handler);
    }

    /**
     * Calls {@code handler} for every committed record from {@code from} up to (excluding) {@code to}, per partition
     * number. A partition missing from {@code from} is read from its beginning, one missing from {@code to} up to its
     * end offset when the read starts (a partition added since the offsets were taken is in neither). An offset below
     * the partition's log start (deleted by retention) reads from the log start; one beyond its end stops at the end.
     *
     * @return the offsets the read stopped at, per partition number
     * @throws TimeoutException when the range is not fully read within {@code timeout}
     */
    public static Map<Integer, Long> readRange(Map<String, Object> consumerProps, String topic, Map<Integer, Long> from,
                                               Map<Integer, Long> to, Duration timeout,
                                               Consumer<ConsumerRecord<byte[], byte[]>> handler) {
        Instant deadline = Instant.now().plus(timeout);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps);
        try {
            List<TopicPartition> partitions = partitions(consumer, topic, timeout);
            consumer.assign(partitions);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions, timeout));
            for (TopicPartition tp : partitions) {
                Long start = from.get(tp.partition());
                if (start == null) {
                    consumer.seekToBeginning(List.of(tp));
                } else {
                    consumer.seek(tp, start);
                }
                Long stop = to.get(tp.partition());
                if (stop != null) {
                    // Never wait for offsets beyond the end (a topic recreated since they were taken).
                    end.put(tp, Math.min(stop, end.get(tp)));
                }
            }
            while (!reached(consumer, end)) {
                if (Instant.now().isAfter(deadline)) {
                    throw new TimeoutException("reading " + topic + " did not reach its end offsets " + end + " within " + timeout);
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        handler.accept(r);
                    }
                }
            }
            Map<Integer, Long> stopped = new TreeMap<>();
            end.forEach((tp, offset) -> stopped.put(tp.partition(), offset));
            return stopped;
        } finally {
            closeNow(consumer);
        }
    }

    /**
     * Closes an assign-only reader without waiting: it has no group to leave and no offsets to commit, and a graceful
     * close waits for the fetch it sent after reaching the end, which the broker holds up to {@code fetch.max.wait.ms}
     * (500 ms) because no new data arrives.
     */
    static void closeNow(KafkaConsumer<?, ?> consumer) {
        consumer.close(CloseOptions.timeout(Duration.ZERO));
    }

    /**
     * Waits until every transaction that was open on {@code topic} when called has been committed or aborted:
     * the last stable offsets (read_committed end offsets) reach the high watermarks taken now. A reader started
     * afterwards sees every committed record written before the call, not only those below an open transaction.
     *
     * @throws TimeoutException when a transaction stays open beyond {@code timeout}
     */
    public static void awaitStable(Map<String, Object> consumerProps, String topic, Duration timeout) {
        Map<String, Object> uncommitted = new HashMap<>(consumerProps);
        // The high watermark includes records of transactions still open: the point the readers must reach.
        uncommitted.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        Map<TopicPartition, Long> highWatermarks;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(uncommitted)) {
            highWatermarks = c.endOffsets(partitions(c, topic, timeout), timeout);
        }
        Instant deadline = Instant.now().plus(timeout);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps)) {
            while (true) {
                Map<TopicPartition, Long> stable = c.endOffsets(highWatermarks.keySet(), timeout);
                boolean done = highWatermarks.entrySet().stream().allMatch(e -> stable.get(e.getKey()) >= e.getValue());
                if (done) {
                    return;
                }
                if (Instant.now().isAfter(deadline)) {
                    throw new TimeoutException("a transaction on " + topic + " stayed open for " + timeout
                            + " (last stable offsets " + stable + ", high watermarks " + highWatermarks + ")");
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TimeoutException("interrupted waiting for open transactions on " + topic);
                }
            }
        }
    }

    /**
     * @throws MetadataTimeoutException when no broker answers within {@code timeout}: the first call a command makes
     *                                   to Kafka, so an unreachable address shows here
     * @throws MissingTopicException     when the broker has no such topic
     */
    static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic, Duration timeout) {
        List<PartitionInfo> infos;
        try {
            infos = consumer.partitionsFor(topic, timeout);
        } catch (MetadataTimeoutException e) {
            throw e;
        } catch (TimeoutException e) {
            throw new MetadataTimeoutException(topic, e);
        }
        if (infos == null || infos.isEmpty()) {
            throw new MissingTopicException(topic);
        }
        List<TopicPartition> out = new ArrayList<>();
        for (PartitionInfo p : infos) {
            out.add(new TopicPartition(topic, p.partition()));
        }
        return out;
    }

    private static boolean reached(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
