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

    /** True when asking again may succeed: no answer, 5xx, or 429. */
    public boolean retriable() {
        return httpStatus < 0 || httpStatus >= 500 || httpStatus == 429;
    }
}
