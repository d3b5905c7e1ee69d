package io.tapline.stack;

/** A port the stack needs is taken by another process. */
public final class PortInUseException extends StackException {

    private static final long serialVersionUID = 1L;

    private final int port;

    public PortInUseException(String what, String host, int port) {
        super(what + " port " + port + " is already in use on " + host
                + " (another process is listening on it); stop that process or choose another port");
        this.port = port;
    }

    public int port() {
        return port;
    }
}
