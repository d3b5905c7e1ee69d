package io.tapline.config;

import io.tapline.registry.RegistryConfig;

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
                .option(URL, DEFAULT_URL, "Schema registry URL (Confluent REST API: Confluent, Apicurio /apis/ccompat/v7, Karapace, Redpanda).")
                .secret(USER_INFO, "", "Schema registry basic auth, user:password.")
                .option(TRUSTSTORE, "", "Truststore file (PKCS12) for a registry served over TLS.")
                .secret(TRUSTSTORE_PASSWORD, "", "Password of the registry truststore.");
    }

    /** The settings for {@link RegistryConfig#fromMap} (and Tapline's serde) from a component's configuration. */
    public static Map<String, Object> clientConfigs(TaplineConfig config) {
        Map<String, Object> out = new HashMap<>();
        out.put(RegistryConfig.URL, config.get(URL));
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
}
