package io.tapline.demo;

/** The demo cannot go on; the message says which step failed and where its log is. */
final class DemoException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    DemoException(String message) {
        super(message);
    }
}
