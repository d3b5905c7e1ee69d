package io.tapline.config;

import io.tapline.registry.RegistryConfig;
import io.tapline.registry.RegistryConfigException;
import io.tapline.registry.SchemaRegistryClient;

import java.util.HashMap;
import java.util.Map;

/**
 * The schema registry options of every Tapline component, declared once so that they have the same names (and the
 * same {@code TAPLINE_SCHEMA_REGISTRY_*} environment variables) everywhere.
 */
public final class RegistryOptions {

    public static final String URL = RegistryConfig.URL;
    public static final String USER_INFO = "schema.registry.basic.auth.user.info";
    public static final String TRUSTSTORE = RegistryConfig.TRUSTSTORE_LOCATION;
    public static final String TRUSTSTORE_PASSWORD = RegistryConfig.TRUSTSTORE_PASSWORD;

    /** The Confluent-compatible API of the local stack's registry. */
    public static final String DEFAULT_URL = "http://127.0.0.1:8081/apis/ccompat/v7";

    private RegistryOptions() {
    }

    /** Adds the registry options to a component's spec. */
    public static ConfigSpec.Builder declare(ConfigSpec.Builder builder) {
        return builder
                .option(URL, DEFAULT_URL, "Schema registry URL (Confluent REST API: Confluent, Apicurio /apis/ccompat/v7, Karapace, Redpanda), "
                        + "or a comma-separated list of them, tried in turn when one gives no answer.")
                .secret(USER_INFO, "", "Schema registry basic auth, user:password (else credentials in the URL, user:password@host, are used).")
                .option(TRUSTSTORE, "", "Truststore file (PKCS12) for a registry served over TLS; one that cannot be "
                        + "loaded (missing, not a keystore, a wrong password) is refused at start.")
                .secret(TRUSTSTORE_PASSWORD, "", "Password of the registry truststore.");
    }

    /**
     * The settings for {@link RegistryConfig#fromMap} (and Tapline's serde) from a component's configuration.
     *
     * @throws ConfigException when the URL is not one the registry client can call ({@link #checkUrl})
     */
    public static Map<String, Object> clientConfigs(TaplineConfig config) {
        Map<String, Object> out = new HashMap<>();
        out.put(RegistryConfig.URL, checkUrl(config.get(URL), config.origin(URL)));
        if (config.has(USER_INFO)) {
            out.put(RegistryConfig.BASIC_AUTH_USER_INFO, config.get(USER_INFO));
        }
        if (config.has(TRUSTSTORE)) {
            out.put(RegistryConfig.TRUSTSTORE_LOCATION, config.get(TRUSTSTORE));
        }
        if (config.has(TRUSTSTORE_PASSWORD)) {
            out.put(RegistryConfig.TRUSTSTORE_PASSWORD, config.get(TRUSTSTORE_PASSWORD));
        }
        return out;
    }

    /**
     * {@code configs} (a component's {@link #clientConfigs}, perhaps with more settings), its truststore, when one is
     * set, loaded as the registry client loads it: a truststore that cannot be loaded (missing, not a keystore, a wrong
     * password) stops the component at start naming the option that set it ({@link #refusal}), a bad option (exit 2),
     * instead of failing later, when the client is made.
     */
    public static Map<String, Object> checked(TaplineConfig config, Map<String, Object> configs) {
        if (configs.containsKey(RegistryConfig.TRUSTSTORE_LOCATION)) {
            try {
                SchemaRegistryClient.loadTruststore(RegistryConfig.fromMap(configs));
            } catch (RegistryConfigException e) {
                throw refusal(config, e);
            }
        }
        return configs;
    }

    /**
     * The option that sets registry setting {@code key} in {@link #clientConfigs} ({@link #USER_INFO} for
     * {@value RegistryConfig#BASIC_AUTH_USER_INFO}, ...), or null when no option sets it.
     */
    public static String optionFor(String key) {
        return switch (key) {
            case RegistryConfig.URL -> URL;
            case RegistryConfig.BASIC_AUTH_USER_INFO -> USER_INFO;
            case RegistryConfig.TRUSTSTORE_LOCATION -> TRUSTSTORE;
            case RegistryConfig.TRUSTSTORE_PASSWORD -> TRUSTSTORE_PASSWORD;
            default -> null;
        };
    }

    /**
     * A refused registry setting as a component's bad option: naming the option that set it and where
     * ({@link TaplineConfig#named}), or, for a key no option sets, the registry's own message, which starts with the
     * key.
     */
    public static ConfigException refusal(TaplineConfig config, RegistryConfigException e) {
        String option = optionFor(e.key());
        return new ConfigException(option == null ? e.getMessage() : config.named(option) + ": " + e.reason(), e);
    }

    /**
     * Checks a registry URL (or a comma-separated list of them) at startup, so that a wrong one stops the component
     * with the option's name instead of failing each registry call. The check is the registry client's own,
     * {@link RegistryConfig#urlsRefusal}, so a serde configured through {@link RegistryConfig#fromMap} refuses the same
     * URLs: http or https with a valid host and port, a base URL the API's paths can follow (printable ASCII, no query,
     * no fragment, no broken percent-escape, a host a resolver looks up and the JDK client can call). Credentials in a
     * URL ({@code user:password@}, up to its last {@code @}) are allowed and left out of every message.
     *
     * @return {@code url}, unchanged
     */
    public static String checkUrl(String url) {
        return checkUrl(url, "");
    }

    /** {@link #checkUrl(String)}, an error naming where the URL was set ({@link TaplineConfig#origin}). */
    private static String checkUrl(String url, String origin) {
        String refusal = RegistryConfig.urlsRefusal(url);
        if (refusal != null) {
            throw new ConfigException("option " + ConfigSpec.flag(URL) + origin + ": " + refusal);
        }
        return url;
    }
}
