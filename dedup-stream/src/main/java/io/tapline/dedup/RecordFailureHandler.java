package io.tapline.dedup;

import io.tapline.registry.SchemaRegistryException;
import io.tapline.topics.DeadLetters;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Kafka Streams' {@code processing.exception.handler} (KIP-1033) for the dedup topology: a record on which a processing
 * step fails with an exception of Tapline's own code (a bug, or input the code does not expect) is a dead letter, and
 * the stream goes on with the next record. Without it the stream thread failed, its replacement read the same record
 * and failed again, until the restart budget shut the job down: one record stopped dedup for every service.
 *
 * <p>Only the record's failures are dead-lettered: a {@link RuntimeException} with no {@link KafkaException} (thus no
 * {@code StreamsException}, {@code ProcessorStateException}, {@code TaskMigratedException}, {@code
 * SerializationException}) and no {@link Error} among its causes, and no failure of the schema registry that is not the
 * record's ({@link SchemaRegistryException#recordAtFault}); or the record's case that the cases topic's serializer
 * cannot encode ({@link UnencodableOutputException}, thrown before the case is stored). Other failures, and failures
 * in a punctuation (no record to set aside), fail the stream thread as before: dead-lettering every record while a
 * disk is full or the registry is down would empty the pipeline into the dead-letter topic.
 *
 * <p>The dead letter ({@link RecordDeadLetters}, error {@code processing failed in <step>: <class>: <message>...}) is
 * returned to Kafka Streams (KIP-1034), which writes it in the task's transaction. It carries the source record's bytes,
 * or, when Kafka Streams no longer holds them, the failing step's input record encoded again (header
 * {@value RecordDeadLetters#BYTES}).
 */
public final class RecordFailureHandler implements ProcessingExceptionHandler {

    static final String REASON_PREFIX = "processing failed in ";

    private RecordDeadLetters deadLetters;

    public RecordFailureHandler() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
        this.deadLetters = RecordDeadLetters.configured(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        if (record == null || context.topic() == null || !recordAtFault(exception)) {
            return Response.fail(); // a punctuation, or a failure of Kafka, state or the registry
        }
        String reason = REASON_PREFIX + context.processorNodeId() + ": " + DeadLetters.describe(exception);
        return Response.resume(List.of(deadLetters.deadLetter(context, reason, record)));
    }

    /**
     * Whether a processing step's {@code failure} is the record's: a {@link RuntimeException} with no
     * {@link KafkaException} nor {@link Error} among its causes, and no registry failure that is not the record's; or
     * its output (a case) that the output topic's serializer cannot encode ({@link UnencodableOutputException}).
     */
    static boolean recordAtFault(Throwable failure) {
        if (failure instanceof UnencodableOutputException) {
            return true; // its cause, a SerializationException, was judged the record's when it was thrown
        }
        return failure instanceof RuntimeException
                && !RecordDeadLetters.anyCause(failure, t -> t instanceof KafkaException || t instanceof Error)
                && SchemaRegistryException.recordAtFault(failure);
    }
}
