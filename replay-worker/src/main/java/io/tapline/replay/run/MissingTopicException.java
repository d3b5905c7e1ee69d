package io.tapline.replay.run;

/**
 * A reachable broker says a topic the command needs does not exist: not created (the stack or the deploy manifests
 * create them), or named wrong by an option. The command names the option that names it.
 */
public final class MissingTopicException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final String topic;

    public MissingTopicException(String topic) {
        super("topic " + topic + " does not exist (create it with ./tapline stack up or the deploy manifests)");
        this.topic = topic;
    }

    /** The topic that does not exist. */
    public String topic() {
        return topic;
    }
}
