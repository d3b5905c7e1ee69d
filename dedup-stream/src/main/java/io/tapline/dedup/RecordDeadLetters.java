package io.tapline.dedup;

import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.topics.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The dead letters of the dedup stream's exception handlers ({@link RecordFailureHandler} for a step that fails on a
 * record, {@link SerializationFailureHandler} for a record a sink cannot serialize): built from the handler's context,
 * counted and warned of. The handler returns the dead letter to Kafka Streams (KIP-1034), which sends it through the
 * task's own producer, in the task's exactly-once transaction, with the task's other output: committed with it, or
 * aborted with it and written again when the record is processed again.
 *
 * <p>A dead letter carries the record's own headers, then the {@link DeadLetters} headers (the record's topic,
 * partition and offset, component {@value DecodeProcessor#COMPONENT}, the reason), then {@value #BYTES} saying what its
 * key and value are:
 * <ul>
 *   <li>{@value #SOURCE}: the original key and value bytes of the task's input record, as Kafka Streams read them
 *       ({@code ErrorHandlerContext.sourceRawKey/sourceRawValue}): the interaction for the decode step, the internal
 *       repartition record for the dedup and noise steps;</li>
 *   <li>{@value #STEP_INPUT}: Kafka Streams no longer held those bytes, and the failing step's input record (a hit, a
 *       noise observation) encoded again with the serdes the topology reads it with; the reason begins
 *       {@value #BYTES_REENCODED};</li>
 *   <li>{@value #NONE}: neither (a sink's serialization failure, whose handler is not given the step's input; a step
 *       of Kafka Streams' own); no key nor value, the reason begins {@value #BYTES_NOT_KEPT}.</li>
 * </ul>
 * Kafka Streams 4.3 drops the bytes ({@code ProcessorRecordContext.freeRawRecord}, from {@code RecordCollectorImpl.send})
 * when a sink sends a record under the record context the failing step has: one that forwards its own input record to
 * a sink, or a sink after a sibling sink of the same forward. A step forwarding records it builds gets a context of its
 * own for them ({@code ProcessorContextImpl.forward}), as the dedup topology's steps do: their dead letters keep the
 * source bytes.
 */
final class RecordDeadLetters {

    /** The Streams setting holding this instance's {@link RecordDeadLetters}; see {@link DedupTopology#deadLetterRecordFailures}. */
    static final String CONFIG = "tapline.dedup.record.dead.letters";
    /** Header: what the dead letter's key and value are, {@value #SOURCE}, {@value #STEP_INPUT} or {@value #NONE}. */
    static final String BYTES = "tapline.dlq.bytes";
    static final String SOURCE = "source";
    static final String STEP_INPUT = "step-input";
    static final String NONE = "none";
    static final String BYTES_NOT_KEPT = "(record bytes not kept: the step had written output for it) ";
    static final String BYTES_REENCODED = "(record bytes not kept: the step's input record encoded again) ";
    /** Causes looked at, at most (a cycle of causes must not hang the stream thread). */
    private static final int MAX_CAUSES = 100;

    private final String dlqTopic;
    private final DedupMetrics metrics;
    private final Map<String, StepInput<?, ?>> stepInputs;

    /**
     * @param stepInputs per step (processor node id), how its input records are encoded when Kafka Streams no longer
     *                   holds their bytes
     */
    RecordDeadLetters(String dlqTopic, DedupMetrics metrics, Map<String, StepInput<?, ?>> stepInputs) {
        this.dlqTopic = dlqTopic;
        this.metrics = metrics;
        this.stepInputs = Map.copyOf(stepInputs);
    }

    /** The dedup topology's dead letters: its steps' inputs as {@link DedupTopology#build} reads them. */
    static RecordDeadLetters of(DedupConfig config, DedupMetrics metrics) {
        return new RecordDeadLetters(config.dlqTopic(), metrics, Map.of(
                DedupTopology.DECODE_STEP, new StepInput<>(byte[].class, byte[].class, Serdes.ByteArray().serializer(),
                        Serdes.ByteArray().serializer(), true),
                DedupTopology.DEDUP_STEP, new StepInput<>(String.class, Hit.class, Serdes.String().serializer(),
                        new HitSerde(config.hitFormat()).serializer(), false),
                DedupTopology.NOISE_STEP, new StepInput<>(String.class, NoiseObservation.class,
                        Serdes.String().serializer(), NoiseObservation.serde().serializer(), false)));
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

    /** {@link #deadLetter(ErrorHandlerContext, String, Record)} without the step's input record (a sink's failure). */
    ProducerRecord<byte[], byte[]> deadLetter(ErrorHandlerContext context, String reason) {
        return deadLetter(context, reason, null);
    }

    /**
     * The dead letter of the task's current record, set aside for {@code reason}, {@code input} being the failing
     * step's input record (null: not known): its bytes when Kafka Streams no longer holds the source record's. Counted
     * as {@code reason="processing"} and warned of (at most every 10 s, with the decode step's dead letters).
     */
    ProducerRecord<byte[], byte[]> deadLetter(ErrorHandlerContext context, String reason, Record<?, ?> input) {
        byte[] key = context.sourceRawKey();
        byte[] value = context.sourceRawValue();
        String bytes = SOURCE;
        String said = reason;
        if (key == null && value == null) {
            StepInput<?, ?> step = input == null ? null : stepInputs.get(context.processorNodeId());
            KeyValue<byte[], byte[]> encoded = step == null ? null : step.encode(context.topic(), input);
            if (encoded == null) {
                bytes = NONE;
                said = BYTES_NOT_KEPT + reason;
            } else {
                key = encoded.key;
                value = encoded.value;
                bytes = step.sourceBytes() ? SOURCE : STEP_INPUT;
                said = step.sourceBytes() ? reason : BYTES_REENCODED + reason;
            }
        }
        ProducerRecord<byte[], byte[]> layout = DeadLetters.record(dlqTopic, context.topic(), context.partition(),
                context.offset(), key, value, said, DecodeProcessor.COMPONENT);
        Headers headers = new RecordHeaders();
        if (context.headers() != null) {
            context.headers().forEach(headers::add);
        }
        layout.headers().forEach(headers::add);
        headers.add(BYTES, bytes.getBytes(StandardCharsets.UTF_8));
        metrics.processingDeadLetters.inc();
        DecodeProcessor.warnOfDeadLetter(metrics.deadLetterWarning, dlqTopic, context.topic(), context.partition(),
                context.offset(), said);
        return new ProducerRecord<>(layout.topic(), null, context.timestamp(), layout.key(), layout.value(), headers);
    }

    /**
     * How a step's input records are encoded: with the serializers of the topic they are read from, as their own
     * topic's records were written (a record of an earlier release's format comes out in this one's).
     *
     * @param sourceBytes whether that gives the source record's own bytes (a step reading the source as bytes)
     */
    record StepInput<K, V>(Class<K> keyType, Class<V> valueType, Serializer<K> keySerializer,
                           Serializer<V> valueSerializer, boolean sourceBytes) {

        /** {@code record}'s key and value encoded, or null when they are not of the step's types or do not encode. */
        KeyValue<byte[], byte[]> encode(String topic, Record<?, ?> record) {
            if (record.key() != null && !keyType.isInstance(record.key())
                    || record.value() != null && !valueType.isInstance(record.value())) {
                return null;
            }
            try {
                return KeyValue.pair(keySerializer.serialize(topic, keyType.cast(record.key())),
                        valueSerializer.serialize(topic, valueType.cast(record.value())));
            } catch (RuntimeException e) {
                return null; // not one the step's topic could hold: the dead letter says the bytes were not kept
            }
        }
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
