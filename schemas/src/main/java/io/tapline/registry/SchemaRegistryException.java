package io.tapline.registry;

/** A registry call failed. The message names the subject (or schema id) and the registry URL. */
public class SchemaRegistryException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The registry's {@code error_code}s for "not there": subject (40401), version (40402), schema (40403). */
    private static final int SUBJECT_NOT_FOUND = 40401;
    private static final int SCHEMA_NOT_FOUND = 40403;

    private final int httpStatus;
    private final int errorCode;
    private final boolean registryAnswer;
    private final boolean interrupted;

    /** A failure with the registry's answer (its HTTP status and {@code error_code}), or with no answer (status -1). */
    public SchemaRegistryException(String message, int httpStatus, int errorCode, Throwable cause) {
        this(message, httpStatus, errorCode, true, false, cause);
    }

    private SchemaRegistryException(String message, int httpStatus, int errorCode, boolean registryAnswer,
                                    boolean interrupted, Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
        this.registryAnswer = registryAnswer;
        this.interrupted = interrupted;
    }

    /**
     * A success whose body is not the registry API's JSON (an SSO sign-in page, a proxy's page): whatever answered is
     * not a schema registry, or not only one.
     */
    public static SchemaRegistryException notRegistryAnswer(String message, int httpStatus) {
        return new SchemaRegistryException(message, httpStatus, -1, false, false, null);
    }

    /**
     * A call whose thread was interrupted (asked to stop) before the registry answered: no answer, and no failure of
     * the registry either, so not {@link #retriable()}. {@code cause} is null when the thread was interrupted before
     * the call began.
     */
    public static SchemaRegistryException interrupted(String message, InterruptedException cause) {
        return new SchemaRegistryException(message, -1, -1, false, true, cause);
    }

    /** HTTP status of the registry's answer, or -1 when no answer arrived. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The registry's {@code error_code} (e.g. 40401 subject not found, 409 incompatible), or -1. */
    public int errorCode() {
        return errorCode;
    }

    /** Whether {@code errorCode} is the registry's "subject, version or schema not found". */
    public static boolean notFoundCode(int errorCode) {
        return errorCode >= SUBJECT_NOT_FOUND && errorCode <= SCHEMA_NOT_FOUND;
    }

    /**
     * True when the registry answered and the schema itself is the problem: a 404 with the registry's error code for a
     * missing subject, version or schema (40401–40403), or a registry's JSON answer that is not a usable Avro schema.
     * A record naming such a schema id can be set aside (dead-lettered). False for failures of the registry or of
     * access to it (no answer, 401, 403, 408, 5xx, 429...), and for answers from something that is not the registry
     * (a 404 without such an error code, a success that is not JSON, as from a wrong URL, an ingress's default
     * backend or a sign-in page), which are no record's fault: setting records aside for them would dead-letter good
     * data.
     */
    public boolean schemaProblem() {
        if (httpStatus == 404) {
            return notFoundCode(errorCode);
        }
        return registryAnswer && httpStatus >= 200 && httpStatus < 300;
    }

    /**
     * Whether a record whose decoding failed with {@code failure} is itself at fault and may be set aside: true
     * unless a registry failure that is not a {@link #schemaProblem() schema problem} caused it (the registry
     * unreachable, refusing access or not a registry at all, when every record would fail the same way).
     */
    public static boolean recordAtFault(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SchemaRegistryException sre) {
                return sre.schemaProblem();
            }
        }
        return true;
    }

    /** True when the calling thread was interrupted before the registry answered. */
    public boolean interrupted() {
        return interrupted;
    }

    /** True when asking again may succeed: no answer, 5xx, or 429; never when the call was interrupted. */
    public boolean retriable() {
        return !interrupted && (httpStatus < 0 || httpStatus >= 500 || httpStatus == 429);
    }
}
