package io.tapline.registry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of a Schema Registry client, read from the same keys Confluent's serializers use so existing
 * client configurations carry over.
 */
public final class RegistryConfig {

    public static final String URL = "schema.registry.url";
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
    public static final String TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
    public static final String TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
    public static final String TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";
    public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";
    public static final String MAX_RETRIES = "schema.registry.max.retries";
    public static final String RETRY_BACKOFF_MS = "schema.registry.retry.backoff.ms";
    public static final String AUTO_REGISTER = "auto.register.schemas";
    public static final String CACHE_CAPACITY = "schema.registry.cache.capacity";

    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_RETRIES = 2;
    public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofMillis(200);
    public static final int DEFAULT_CACHE_CAPACITY = 1000;

    private final List<String> urls;
    private final String userInfo;
    private final String truststoreLocation;
    private final String truststorePassword;
    private final String truststoreType;
    private final Duration requestTimeout;
    private final int maxRetries;
    private final Duration retryBackoff;
    private final boolean autoRegister;
    private final int cacheCapacity;

    private RegistryConfig(Map<String, ?> configs) {
        Object rawUrl = configs.get(URL);
        if (rawUrl == null || rawUrl.toString().isBlank()) {
            throw new IllegalArgumentException("missing " + URL + " (the Confluent-compatible registry URL, e.g. "
                    + "http://127.0.0.1:8081/apis/ccompat/v7)");
        }
        this.urls = parseUrls(rawUrl.toString());
        this.userInfo = string(configs, BASIC_AUTH_USER_INFO, null);
        this.truststoreLocation = string(configs, TRUSTSTORE_LOCATION, null);
        this.truststorePassword = string(configs, TRUSTSTORE_PASSWORD, null);
        this.truststoreType = string(configs, TRUSTSTORE_TYPE, "PKCS12");
        this.requestTimeout = Duration.ofMillis(number(configs, REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT.toMillis()));
        this.maxRetries = (int) number(configs, MAX_RETRIES, DEFAULT_MAX_RETRIES);
        this.retryBackoff = Duration.ofMillis(number(configs, RETRY_BACKOFF_MS, DEFAULT_RETRY_BACKOFF.toMillis()));
        this.autoRegister = Boolean.parseBoolean(string(configs, AUTO_REGISTER, "true"));
        this.cacheCapacity = (int) number(configs, CACHE_CAPACITY, DEFAULT_CACHE_CAPACITY);
        if (maxRetries < 0 || cacheCapacity < 1 || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("invalid registry client settings: " + this);
        }
    }

    /** Reads the registry settings from a Kafka-client-style config map; other keys are ignored. */
    public static RegistryConfig fromMap(Map<String, ?> configs) {
        return new RegistryConfig(Objects.requireNonNull(configs, "configs"));
    }

    public static RegistryConfig of(String url) {
        return fromMap(Map.of(URL, url));
    }

    /** The entries of a comma-separated URL list, in order, each without a trailing {@code /}. */
    private static List<String> parseUrls(String list) {
        List<String> urls = new ArrayList<>();
        for (String entry : list.split(",")) {
            String url = entry.trim();
            while (url.endsWith("/")) {
                url = url.substring(0, url.length() - 1);
            }
            if (!url.isEmpty()) {
                urls.add(url);
            }
        }
        if (urls.isEmpty()) {
            throw new IllegalArgumentException(URL + ": no URL in '" + list + "'");
        }
        return List.copyOf(urls);
    }

    private static String string(Map<String, ?> configs, String key, String fallback) {
        Object v = configs.get(key);
        return v == null ? fallback : v.toString();
    }

    private static long number(Map<String, ?> configs, String key, long fallback) {
        Object v = configs.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": expected a whole number, got '" + v + "'", e);
        }
    }

    /**
     * The registry URLs, in the order given: calls go to one of them, and to the next when it gives no answer (a
     * cluster's instances behind no load balancer, say).
     */
    public List<String> urls() {
        return urls;
    }

    public String userInfo() {
        return userInfo;
    }

    public String truststoreLocation() {
        return truststoreLocation;
    }

    public String truststorePassword() {
        return truststorePassword;
    }

    public String truststoreType() {
        return truststoreType;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    public int maxRetries() {
        return maxRetries;
    }

    public Duration retryBackoff() {
        return retryBackoff;
    }

    public boolean autoRegister() {
        return autoRegister;
    }

    public int cacheCapacity() {
        return cacheCapacity;
    }

    /** Never shows credentials. */
    @Override
    public String toString() {
        return "RegistryConfig{urls=" + urls
                + ", basicAuth=" + (userInfo == null ? "none" : "[hidden]")
                + ", truststore=" + (truststoreLocation == null ? "default" : truststoreLocation)
                + ", truststorePassword=" + (truststorePassword == null ? "none" : "[hidden]")
                + ", requestTimeout=" + requestTimeout
                + ", maxRetries=" + maxRetries
                + ", autoRegister=" + autoRegister + "}";
    }
}
