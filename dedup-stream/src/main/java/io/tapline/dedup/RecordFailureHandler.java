package io.tapline.dedup;

import io.tapline.registry.SchemaRegistryException;
import io.tapline.topics.DeadLetters;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' {@code processing.exception.handler} (KIP-1033) for the dedup topology: a record on which a processing
 * step fails with an exception of Tapline's own code (a bug, or input the code does not expect) is a dead letter, and
 * the stream goes on with the next record. Without it the stream thread failed, its replacement read the same record
 * and failed again, until the restart budget shut the job down: one record stopped dedup for every service.
 *
 * <p>Only the record's failures are dead-lettered: a {@link RuntimeException} with no {@link KafkaException} (thus no
 * {@code StreamsException}, {@code ProcessorStateException}, {@code TaskMigratedException}, {@code
 * SerializationException}) and no {@link Error} among its causes, and no failure of the schema registry that is not the
 * record's ({@link SchemaRegistryException#recordAtFault}). Those, and failures in a punctuation (no record to set
 * aside), fail the stream thread as before: dead-lettering every record while a disk is full or the registry is down
 * would empty the pipeline into the dead-letter topic.
 *
 * <p>The dead letter carries the record's own headers, then the {@link DeadLetters} headers (the record's topic,
 * partition and offset, component {@value DecodeProcessor#COMPONENT}, the error as {@code processing failed in <step>:
 * <class>: <message>...}), and the original key and value bytes of the task's input record (the interaction for the
 * decode step, the internal repartition record for the dedup and noise steps). Kafka Streams drops those bytes once the
 * step has written output for the record (a record forwarded to a topic, a write to an uncached store's changelog):
 * then the dead letter has neither key nor value, and its error says so.
 *
 * <p>Kafka Streams 4.1 gives this handler no way to write inside the task's transaction, so it writes through
 * {@link ProcessingDeadLetters}' own producer, at least once, and goes on only once the brokers have the dead letter;
 * when they do not, it fails the stream thread as before. With Kafka Streams 4.2 this becomes
 * {@code Response.resume(List.of(deadLetter))}, written by Streams in the transaction (KIP-1034).
 */
public final class RecordFailureHandler implements ProcessingExceptionHandler {

    /** The Streams setting holding this instance's {@link ProcessingDeadLetters}; see {@link DedupTopology#deadLetterRecordFailures}. */
    static final String DEAD_LETTERS_CONFIG = "tapline.dedup.processing.dead.letters";
    static final String REASON_PREFIX = "processing failed in ";
    /** Causes looked at, at most (a cycle of causes must not hang the stream thread). */
    private static final int MAX_CAUSES = 100;
    private static final Logger LOG = LoggerFactory.getLogger(RecordFailureHandler.class);

    private ProcessingDeadLetters deadLetters;

    public RecordFailureHandler() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
        Object value = configs.get(DEAD_LETTERS_CONFIG);
        if (!(value instanceof ProcessingDeadLetters configured)) {
            throw new ConfigException(DEAD_LETTERS_CONFIG, value, "the dedup stream's processing exception handler is "
                    + "set up with DedupTopology.deadLetterRecordFailures");
        }
        this.deadLetters = configured;
    }

    @Override
    public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        if (record == null || context.topic() == null || !recordAtFault(exception)) {
            return ProcessingHandlerResponse.FAIL; // a punctuation, or a failure of Kafka, state or the registry
        }
        String reason = REASON_PREFIX + context.processorNodeId() + ": " + DeadLetters.describe(exception);
        byte[] key = context.sourceRawKey();
        byte[] value = context.sourceRawValue();
        if (key == null && value == null) {
            reason = "(record bytes not kept: the step had written output for it) " + reason;
        }
        ProducerRecord<byte[], byte[]> layout = DeadLetters.record(deadLetters.dlqTopic(), context.topic(),
                context.partition(), context.offset(), key, value, reason, DecodeProcessor.COMPONENT);
        Headers headers = new RecordHeaders();
        if (context.headers() != null) {
            context.headers().forEach(headers::add);
        }
        layout.headers().forEach(headers::add);
        try {
            deadLetters.write(new ProducerRecord<>(layout.topic(), null, context.timestamp(), layout.key(),
                    layout.value(), headers));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ProcessingHandlerResponse.FAIL;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.atError().setCause(e).log("cannot write the dead letter of the record at {}-{}@{} on which {} failed; "
                    + "failing the stream thread", context.topic(), context.partition(), context.offset(),
                    context.processorNodeId());
            return ProcessingHandlerResponse.FAIL;
        }
        deadLetters.metrics().processingDeadLetters.inc();
        DecodeProcessor.warnOfDeadLetter(deadLetters.metrics().deadLetterWarning, deadLetters.dlqTopic(),
                context.topic(), context.partition(), context.offset(), reason);
        return ProcessingHandlerResponse.CONTINUE;
    }

    /**
     * Whether a processing step's {@code failure} is the record's: a {@link RuntimeException} with no
     * {@link KafkaException} nor {@link Error} among its causes, and no registry failure that is not the record's.
     */
    static boolean recordAtFault(Throwable failure) {
        if (!(failure instanceof RuntimeException)) {
            return false;
        }
        Throwable t = failure;
        for (int i = 0; t != null && i < MAX_CAUSES; i++, t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof KafkaException || t instanceof Error) {
                return false;
            }
        }
        return SchemaRegistryException.recordAtFault(failure);
    }
}
