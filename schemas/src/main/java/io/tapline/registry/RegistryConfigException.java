package io.tapline.registry;

import io.tapline.text.ShownText;
import org.apache.kafka.common.config.ConfigException;

/**
 * A registry setting refused, by {@link RegistryConfig#fromMap} or by the {@link SchemaRegistryClient} it configures
 * (a truststore that cannot be loaded): Kafka's {@link ConfigException}, as a Kafka serde's bad setting is. The message
 * is the key, {@code ": "} and why, on one line with codes ({@link ShownText#oneLine}); it never quotes a password or
 * a user info. A component that took the setting from one of its own options names that option instead, from
 * {@link #key} and {@link #reason}.
 */
public final class RegistryConfigException extends ConfigException {

    private static final long serialVersionUID = 1L;

    private final String key;
    private final String reason;

    public RegistryConfigException(String key, String reason) {
        super(ShownText.oneLine(key + ": " + reason));
        this.key = key;
        this.reason = ShownText.oneLine(reason);
    }

    public RegistryConfigException(String key, String reason, Throwable cause) {
        this(key, reason);
        initCause(cause);
    }

    /** The registry setting refused ({@link RegistryConfig#URL}, {@link RegistryConfig#MAX_RETRIES}, ...). */
    public String key() {
        return key;
    }

    /** Why, without the key: what follows {@code ": "} in the message. */
    public String reason() {
        return reason;
    }
}
