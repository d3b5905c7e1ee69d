package io.tapline.dedup;

import io.tapline.registry.SchemaRegistryException;
import io.tapline.serde.WireFormat;
import io.tapline.topics.DeadLetters;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Schema ids the registry answered "not found" for, each with the reason its record was dead-lettered, remembered
 * for {@link #REMEMBER_FOR}: records naming such an id within that time are dead-lettered with the same reason
 * without asking the registry again. A flood of another producer's records on the interactions topic then costs the
 * registry one call per distinct id and interval instead of one per record, while a registry node that had not yet
 * caught up with a new schema is asked again a few seconds later.
 *
 * <p>Only the registry's own "not found" (HTTP 404 with its error code for a missing subject, version or schema,
 * {@link SchemaRegistryException#notFoundCode}) is remembered: no answer, a refusal, a 5xx or a 404 from something
 * that is not the registry fail the task instead (the record is not at fault) and are asked again on the retry.
 *
 * <p>One instance serves the decode step of every task of a Kafka Streams instance, on all its threads: reads take
 * no lock. Threads that meet an id at the same moment, before the first answer, may each ask once. At most
 * {@link #MAX_IDS} ids are held; when full, expired ones go first, then the oldest. Times are the stream thread's
 * wall clock ({@code ProcessorContext.currentSystemTimeMs()}); an answer from the future (the clock set back) counts
 * as expired.
 *
 * <p>Not transactional state: a record dead-lettered from memory in a transaction that is then aborted may be
 * dead-lettered from memory again on the retry. That is an outcome the registry itself could have given within the
 * interval, and the reason says it was remembered.
 */
final class UnknownSchemaIds {

    /** How long the registry's "not found" for an id is taken as its answer for later records. */
    static final Duration REMEMBER_FOR = Duration.ofSeconds(5);
    /** Most ids remembered at once; each holds a reason of at most {@link DeadLetters#MAX_ERROR_LENGTH} characters. */
    static final int MAX_IDS = 1000;

    private final long rememberMillis;
    private final int capacity;
    private final Map<Integer, Answer> answers = new ConcurrentHashMap<>();

    UnknownSchemaIds(Duration rememberFor, int capacity) {
        if (rememberFor.isNegative() || rememberFor.isZero() || capacity < 1) {
            throw new IllegalArgumentException("need a positive time and capacity, got " + rememberFor + ", " + capacity);
        }
        this.rememberMillis = rememberFor.toMillis();
        this.capacity = capacity;
    }

    UnknownSchemaIds() {
        this(REMEMBER_FOR, MAX_IDS);
    }

    /** Whether the value is in the wire format, so that {@link #schemaId} can read its id. */
    static boolean framed(byte[] value) {
        return value.length >= WireFormat.HEADER_SIZE && value[0] == WireFormat.MAGIC_BYTE;
    }

    /** The schema id of a {@link #framed} value. */
    static int schemaId(byte[] value) {
        return ByteBuffer.wrap(value, 1, 4).getInt();
    }

    /** Whether the failure is the registry's answer that the schema is not there (not a transport or access error). */
    static boolean notFound(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SchemaRegistryException sre) {
                return sre.httpStatus() == 404 && SchemaRegistryException.notFoundCode(sre.errorCode());
            }
        }
        return false;
    }

    /**
     * The reason to dead-letter a record of this id with, when the registry answered "not found" for it less than
     * {@link #REMEMBER_FOR} before {@code nowMillis}: the first record's reason, saying that it was remembered. Null
     * when the registry is to be asked.
     */
    String reason(int id, long nowMillis) {
        Answer answer = answers.get(id);
        if (answer == null) {
            return null;
        }
        if (answer.expired(nowMillis, rememberMillis)) {
            answers.remove(id, answer);
            return null;
        }
        return answer.reason() + " (the registry's answer for schema id " + id + ", remembered for "
                + (rememberMillis % 1000 == 0 ? rememberMillis / 1000 + " s" : rememberMillis + " ms")
                + ": not asked again)";
    }

    /** Remembers that the registry answered "not found" for the id at {@code nowMillis}, with the record's reason. */
    synchronized void remember(int id, String reason, long nowMillis) {
        if (answers.size() >= capacity && !answers.containsKey(id)) {
            answers.values().removeIf(a -> a.expired(nowMillis, rememberMillis));
            if (answers.size() >= capacity) {
                answers.entrySet().stream().min(Comparator.comparingLong(e -> e.getValue().atMillis()))
                        .ifPresent(oldest -> answers.remove(oldest.getKey(), oldest.getValue()));
            }
        }
        String kept = reason.length() <= DeadLetters.MAX_ERROR_LENGTH ? reason
                : reason.substring(0, DeadLetters.MAX_ERROR_LENGTH) + "...";
        answers.put(id, new Answer(kept, nowMillis));
    }

    private record Answer(String reason, long atMillis) {

        boolean expired(long nowMillis, long rememberMillis) {
            long age = nowMillis - atMillis;
            return age < 0 || age >= rememberMillis;
        }
    }
}
