package io.tapline.config;

import io.tapline.http.HttpUrl;
import io.tapline.registry.RegistryConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
                .option(TRUSTSTORE, "", "Truststore file (PKCS12) for a registry served over TLS.")
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
     * Checks a registry URL (or a comma-separated list of them) at startup, so that a wrong one stops the component
     * with the option's name instead of failing each registry call: http or https, with a valid host and port. Each is
     * a base URL the registry client puts the API's paths after ({@code /subjects/...}, {@code /schemas/ids/...}), so it
     * is held to what {@link HttpUrl#baseUrlProblem} asks of one, as replay's {@code --target} and the sidecar's
     * {@code --app} are: printable ASCII (a right-to-left override or a zero-width space would be shown in every
     * registry error), no query and no fragment (the API's paths would be written into them, and every call sent to the
     * base path), no broken percent-escape, a host a resolver looks up. The registry client is the JDK's, which reads
     * URLs with {@link java.net.URI} and so cannot call a host whose name holds an {@code _} (a Docker Compose service
     * name, say); that is refused here too, with what to do instead. Credentials in a URL ({@code user:password@}) are
     * allowed, sent as basic auth as they are written (percent-escapes decoded), and left out of every message. Empty
     * items of a list are skipped, as the registry client skips them.
     *
     * @return {@code url}, unchanged
     */
    public static String checkUrl(String url) {
        return checkUrl(url, "");
    }

    /** {@link #checkUrl(String)}, an error naming where the URL was set ({@link TaplineConfig#origin}). */
    private static String checkUrl(String url, String origin) {
        String option = "option " + ConfigSpec.flag(URL) + origin;
        // Every item is read before any is quoted: a ',' in a password splits it, and the item before the ',' may read
        // as a URL (http://svc:8081/x#y of http://svc:8081/x#y,z@registry) that is all password; the item after it
        // reads as none, and then nothing is quoted.
        List<HttpUrl> parsedUrls = new ArrayList<>();
        for (String entry : url.split(",")) {
            if (entry.isBlank()) {
                continue; // an empty item ("a,,b", "a, "), which the registry client skips too
            }
            String u = RegistryConfig.withoutUserInfo(entry.trim());
            try {
                parsedUrls.add(HttpUrl.parse(u));
            } catch (IllegalArgumentException e) {
                if (url.contains("@")) {
                    // Credentials in it: a ',' in a password splits it, so no part of the value is quoted.
                    throw new ConfigException(option + ": not an http:// or https:// URL (or "
                            + "list of them); characters ',', '@', '/', '?' and '#' in a user name or password must be "
                            + "percent-encoded (%2C, %40, %2F, %3F, %23)");
                }
                throw new ConfigException(option + ": '" + u + "' is not an http:// or https:// URL: "
                        + e.getMessage());
            }
        }
        if (parsedUrls.isEmpty()) {
            throw new ConfigException(option + ": no URL given; e.g. " + DEFAULT_URL);
        }
        for (HttpUrl parsed : parsedUrls) {
            String u = parsed.toString(); // without its user info
            String refusal = parsed.baseUrlRefusal("a registry URL");
            if (refusal != null) {
                throw new ConfigException(option + ": '" + u + "' " + refusal + "; give scheme, host, port and the "
                        + "registry API's base path, like http://registry:8081/apis/ccompat/v7");
            }
            boolean jdkReadsHost;
            try {
                jdkReadsHost = java.net.URI.create(u).getHost() != null;
            } catch (IllegalArgumentException e) {
                jdkReadsHost = false;
            }
            if (!jdkReadsHost) {
                throw new ConfigException(option + ": '" + u + "': the registry client (the JDK's HTTP "
                        + "client) cannot call host '" + parsed.host() + "' or this path; give the registry a host name without '_' "
                        + "(a DNS alias or network alias) or its address");
            }
        }
        return url;
    }
}
