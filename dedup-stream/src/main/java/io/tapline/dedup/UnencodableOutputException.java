package io.tapline.dedup;

/**
 * A case or noise profile its topic's serializer cannot encode, for a reason of that value alone
 * ({@link SerializationFailureHandler#recordAtFault}): thrown by {@link OutputEncoder} where the step writing it can
 * still act on it. In a record's processing it makes {@link RecordFailureHandler} dead-letter the record (its cause, a
 * {@code SerializationException}, would otherwise read as a failure of Kafka); in a publication the value is removed.
 */
final class UnencodableOutputException extends RuntimeException {

    UnencodableOutputException(String message, Throwable cause) {
        super(message, cause);
    }
}
