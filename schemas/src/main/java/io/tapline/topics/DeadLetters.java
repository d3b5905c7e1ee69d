package io.tapline.topics;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;

/**
 * Records that could not be processed go to the dead-letter topic unchanged (raw key and value bytes), with
 * headers saying where they came from and why they failed, so nothing is lost and they can be replayed.
 *
 * <p>The dead-letter topic takes {@link TaplineTopics#DLQ_MAX_BYTES}: a record as large as any Tapline topic takes
 * ({@link TaplineTopics#DERIVED_MAX_BYTES}), plus its error headers and what compression may add to incompressible
 * bytes. A record larger than that (another producer's, compressed into a topic's limit) could not be written at all,
 * and would stop its consumer; its dead letter carries the headers and a null value instead, with
 * {@value #VALUE_OMITTED} giving the value's size (the record stays at its source offset until retention removes it).
 */
public final class DeadLetters {

    public static final String SOURCE_TOPIC = "tapline.dlq.source.topic";
    public static final String SOURCE_PARTITION = "tapline.dlq.source.partition";
    public static final String SOURCE_OFFSET = "tapline.dlq.source.offset";
    public static final String ERROR = "tapline.dlq.error";
    public static final String COMPONENT = "tapline.dlq.component";
    /** Present when the value was too large to keep: its size in bytes. */
    public static final String VALUE_OMITTED = "tapline.dlq.value.omitted.bytes";

    /** Longest error text kept in a header. */
    public static final int MAX_ERROR_LENGTH = 2000;

    private DeadLetters() {
    }

    public static ProducerRecord<byte[], byte[]> record(String dlqTopic, ConsumerRecord<byte[], byte[]> source,
                                                        Throwable error, String component) {
        return record(dlqTopic, source.topic(), source.partition(), source.offset(), source.key(), source.value(),
                describe(error), component);
    }

    public static ProducerRecord<byte[], byte[]> record(String dlqTopic, String sourceTopic, int partition, long offset,
                                                        byte[] key, byte[] value, String reason, String component) {
        Headers headers = new RecordHeaders();
        headers.add(SOURCE_TOPIC, utf8(sourceTopic));
        headers.add(SOURCE_PARTITION, utf8(Integer.toString(partition)));
        headers.add(SOURCE_OFFSET, utf8(Long.toString(offset)));
        headers.add(ERROR, utf8(truncate(reason)));
        headers.add(COMPONENT, utf8(component));
        long size = (key == null ? 0L : key.length) + (value == null ? 0L : value.length);
        if (size > TaplineTopics.DERIVED_MAX_BYTES) {
            headers.add(VALUE_OMITTED, utf8(Integer.toString(value == null ? 0 : value.length)));
            return new ProducerRecord<>(dlqTopic, null, key, null, headers);
        }
        return new ProducerRecord<>(dlqTopic, null, key, value, headers);
    }

    /** The error class and message, and those of its causes, in one line. */
    public static String describe(Throwable error) {
        StringBuilder out = new StringBuilder();
        for (Throwable t = error; t != null && out.length() < MAX_ERROR_LENGTH; t = t.getCause()) {
            if (out.length() > 0) {
                out.append(" <- caused by ");
            }
            out.append(t.getClass().getName()).append(": ").append(t.getMessage());
            if (t.getCause() == t) {
                break;
            }
        }
        return out.toString();
    }

    public static String header(Headers headers, String name) {
        var header = headers.lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static String truncate(String reason) {
        String text = reason == null ? "unknown" : reason;
        return text.length() <= MAX_ERROR_LENGTH ? text : text.substring(0, MAX_ERROR_LENGTH) + "...";
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
