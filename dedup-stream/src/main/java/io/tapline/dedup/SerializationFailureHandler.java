package io.tapline.dedup;

import io.tapline.registry.SchemaRegistryException;
import io.tapline.topics.DeadLetters;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.errors.DefaultProductionExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;

/**
 * Kafka Streams' {@code production.exception.handler} for the dedup topology: a record whose output a sink cannot
 * serialize (a repartition record, say; cases and noise profiles are encoded by their steps, {@link OutputEncoder},
 * which judges a failure with {@link #recordAtFault}) is a dead letter, written in the task's transaction
 * ({@link RecordDeadLetters}, error {@code serializing the <key|value> for <topic> failed in <sink>: <class>:
 * <message>...}), and the stream goes on. Kafka Streams' default handler failed the stream thread on it, its
 * replacement read the same record and failed again, until the restart budget shut the job down. Kafka Streams does
 * not give this handler the step's input record: when it no longer holds the source record's bytes (a sink after a
 * sibling sink of the same forward; the dedup topology has none), the dead letter has neither key nor value.
 *
 * <p>Only the record's failures: a {@link RuntimeException} with no {@link Error}, no {@link KafkaException} other than
 * a {@link SerializationException}, and no {@link SchemaRegistryException} at all among its causes. A serializer's
 * schema is its record class's, not the record's, so any registry failure (unreachable, refusing access, even "subject
 * not found" when schemas are not registered automatically) would fail every record alike: dead-lettering them would
 * empty the pipeline into the dead-letter topic. Those, and a failure in a punctuation (a publication: no record to set
 * aside), fail the stream thread as before. A {@link ClassCastException} in a sink's serializer never reaches this
 * handler (Kafka Streams takes it for a wrong serde and fails the stream thread); {@link OutputEncoder} catches one of
 * the cases and noise serializers.
 *
 * <p>Errors of sending serialized records ({@link #handleError}) are left to {@link DefaultProductionExceptionHandler}:
 * retried when retriable, else the stream thread fails.
 */
public final class SerializationFailureHandler extends DefaultProductionExceptionHandler {

    static final String REASON_PREFIX = "serializing the ";

    private RecordDeadLetters deadLetters;

    public SerializationFailureHandler() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
        super.configure(configs);
        this.deadLetters = RecordDeadLetters.configured(configs);
    }

    @SuppressWarnings("rawtypes")
    @Override
    public Response handleSerializationError(ErrorHandlerContext context, ProducerRecord record, Exception exception,
                                             SerializationExceptionOrigin origin) {
        if (context.topic() == null || !recordAtFault(exception)) {
            return super.handleSerializationError(context, record, exception, origin);
        }
        String reason = REASON_PREFIX + origin.name().toLowerCase(Locale.ROOT) + " for " + record.topic()
                + " failed in " + context.processorNodeId() + ": " + DeadLetters.describe(exception);
        return Response.resume(List.of(deadLetters.deadLetter(context, reason)));
    }

    /**
     * Whether a serializer's {@code failure} is the record's: a {@link RuntimeException} with no {@link Error}, no
     * {@link KafkaException} but a {@link SerializationException}, and no {@link SchemaRegistryException} among its
     * causes.
     */
    static boolean recordAtFault(Throwable failure) {
        return failure instanceof RuntimeException && !RecordDeadLetters.anyCause(failure, t -> t instanceof Error
                || t instanceof SchemaRegistryException
                || t instanceof KafkaException && !(t instanceof SerializationException));
    }
}
