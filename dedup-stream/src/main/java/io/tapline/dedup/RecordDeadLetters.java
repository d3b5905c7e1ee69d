package io.tapline.dedup;

import io.tapline.topics.DeadLetters;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;

/**
 * The dead letters of the dedup stream's exception handlers ({@link RecordFailureHandler} for a step that fails on a
 * record, {@link SerializationFailureHandler} for a record a sink cannot serialize): built from the handler's context,
 * counted and warned of. The handler returns the dead letter to Kafka Streams (KIP-1034), which sends it through the
 * task's own producer, in the task's exactly-once transaction, with the task's other output: committed with it, or
 * aborted with it and written again when the record is processed again.
 *
 * <p>A dead letter carries the record's own headers, then the {@link DeadLetters} headers (the record's topic,
 * partition and offset, component {@value DecodeProcessor#COMPONENT}, the reason), and the original key and value
 * bytes of the task's input record (the interaction for the decode step, the internal repartition record for the dedup
 * and noise steps). Kafka Streams drops those bytes once the record's processing has sent a record to a topic (a case,
 * a repartition record; a store's changelog record does not count): then the dead letter has neither key nor value,
 * and its reason says so.
 */
final class RecordDeadLetters {

    /** The Streams setting holding this instance's {@link RecordDeadLetters}; see {@link DedupTopology#deadLetterRecordFailures}. */
    static final String CONFIG = "tapline.dedup.record.dead.letters";
    static final String BYTES_NOT_KEPT = "(record bytes not kept: the step had written output for it) ";
    /** Causes looked at, at most (a cycle of causes must not hang the stream thread). */
    private static final int MAX_CAUSES = 100;

    private final String dlqTopic;
    private final DedupMetrics metrics;

    RecordDeadLetters(String dlqTopic, DedupMetrics metrics) {
        this.dlqTopic = dlqTopic;
        this.metrics = metrics;
    }

    /** The instance's dead letters from a handler's {@code configs}, put there by {@link DedupTopology#deadLetterRecordFailures}. */
    static RecordDeadLetters configured(Map<String, ?> configs) {
        Object value = configs.get(CONFIG);
        if (!(value instanceof RecordDeadLetters configured)) {
            throw new ConfigException(CONFIG, value, "the dedup stream's exception handlers are set up with "
                    + "DedupTopology.deadLetterRecordFailures");
        }
        return configured;
    }

    String dlqTopic() {
        return dlqTopic;
    }

    /**
     * The dead letter of the task's current record, set aside for {@code reason}; counted as
     * {@code reason="processing"} and warned of (at most every 10 s, with the decode step's dead letters).
     */
    ProducerRecord<byte[], byte[]> deadLetter(ErrorHandlerContext context, String reason) {
        byte[] key = context.sourceRawKey();
        byte[] value = context.sourceRawValue();
        String said = key == null && value == null ? BYTES_NOT_KEPT + reason : reason;
        ProducerRecord<byte[], byte[]> layout = DeadLetters.record(dlqTopic, context.topic(), context.partition(),
                context.offset(), key, value, said, DecodeProcessor.COMPONENT);
        Headers headers = new RecordHeaders();
        if (context.headers() != null) {
            context.headers().forEach(headers::add);
        }
        layout.headers().forEach(headers::add);
        metrics.processingDeadLetters.inc();
        DecodeProcessor.warnOfDeadLetter(metrics.deadLetterWarning, dlqTopic, context.topic(), context.partition(),
                context.offset(), said);
        return new ProducerRecord<>(layout.topic(), null, context.timestamp(), layout.key(), layout.value(), headers);
    }

    /** Whether {@code failure} or one of its causes (at most {@value #MAX_CAUSES}, a cycle ends the walk) is {@code kind}. */
    static boolean anyCause(Throwable failure, Predicate<Throwable> kind) {
        Throwable t = failure;
        for (int i = 0; t != null && i < MAX_CAUSES; i++, t = t.getCause() == t ? null : t.getCause()) {
            if (kind.test(t)) {
                return true;
            }
        }
        return false;
    }
}
