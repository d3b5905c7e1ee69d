package io.tapline.registry;

/** A registry call failed. The message names the subject (or schema id) and the registry URL. */
public class SchemaRegistryException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int httpStatus;
    private final int errorCode;

    public SchemaRegistryException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

    /** HTTP status of the registry's answer, or -1 when no answer arrived. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The registry's {@code error_code} (e.g. 40401 subject not found, 409 incompatible), or -1. */
    public int errorCode() {
        return errorCode;
    }

    /**
     * True when the registry answered and the schema itself is the problem: the id or subject is not there (404), or
     * the answer is not a usable Avro schema. A record naming such a schema id can be set aside (dead-lettered).
     * False for failures of the registry or of access to it (no answer, 401, 403, 408, 5xx, 429...), which are no
     * record's fault: setting records aside for them would dead-letter good data.
     */
    public boolean schemaProblem() {
        return httpStatus == 404 || (httpStatus >= 200 && httpStatus < 300);
    }

    /**
     * Whether a record whose decoding failed with {@code failure} is itself at fault and may be set aside: true
     * unless a registry failure that is not a {@link #schemaProblem() schema problem} caused it (the registry
     * unreachable or refusing access, when every record would fail the same way).
     */
    public static boolean recordAtFault(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SchemaRegistryException sre) {
                return sre.schemaProblem();
            }
        }
        return true;
    }

    /** True when asking again may succeed: no answer, 5xx, or 429. */
    public boolean retriable() {
        return httpStatus < 0 || httpStatus >= 500 || httpStatus == 429;
    }
}
