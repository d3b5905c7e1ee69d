package io.tapline.registry;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of a Schema Registry client, read from the same keys Confluent's serializers use so existing
 * client configurations carry over.
 *
 * <p>A registry URL may carry credentials ({@code http://user:password@host:8081}, Confluent's
 * {@code basic.auth.credentials.source=URL}). They are taken out of the URL: sent as basic auth to that URL, and never
 * shown, since the URLs appear in logs and error messages (which reach the dead-letter topic's headers).
 */
public final class RegistryConfig {

    public static final String URL = "schema.registry.url";
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
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
    /** The basic-auth {@code user:password} to send to each of {@link #urls}, by index; null for none. */
    private final List<String> userInfos;
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
        List<String> given = parseUrls(rawUrl.toString());
        String configuredUserInfo = string(configs, BASIC_AUTH_USER_INFO, "");
        boolean credentialsFromUrl = credentialsFromUrl(string(configs, BASIC_AUTH_CREDENTIALS_SOURCE, null),
                configuredUserInfo.isEmpty());
        this.urls = given.stream().map(RegistryConfig::withoutUserInfo).toList();
        List<String> userInfos = new ArrayList<>();
        for (String url : given) {
            String userInfo = credentialsFromUrl ? userInfo(url) : configuredUserInfo;
            userInfos.add(userInfo == null || userInfo.isEmpty() ? null : userInfo);
        }
        this.userInfos = Collections.unmodifiableList(userInfos);
        this.truststoreLocation = string(configs, TRUSTSTORE_LOCATION, null);
        this.truststorePassword = string(configs, TRUSTSTORE_PASSWORD, null);
        this.truststoreType = string(configs, TRUSTSTORE_TYPE, "PKCS12");
        this.requestTimeout = Duration.ofMillis(number(configs, REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT.toMillis(), 1));
        this.maxRetries = (int) number(configs, MAX_RETRIES, DEFAULT_MAX_RETRIES, 0);
        this.retryBackoff = Duration.ofMillis(number(configs, RETRY_BACKOFF_MS, DEFAULT_RETRY_BACKOFF.toMillis(), 0));
        this.autoRegister = Boolean.parseBoolean(string(configs, AUTO_REGISTER, "true"));
        this.cacheCapacity = (int) number(configs, CACHE_CAPACITY, DEFAULT_CACHE_CAPACITY, 1);
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

    /**
     * Whether the credentials come from the URLs: when {@value #BASIC_AUTH_CREDENTIALS_SOURCE} says {@code URL}, or
     * when it is not given and neither is {@value #BASIC_AUTH_USER_INFO}.
     */
    private static boolean credentialsFromUrl(String source, boolean noUserInfo) {
        if (source == null || source.isBlank()) {
            return noUserInfo;
        }
        return switch (source.trim().toUpperCase(Locale.ROOT)) {
            case "URL" -> true;
            case "USER_INFO" -> false;
            default -> throw new IllegalArgumentException(BASIC_AUTH_CREDENTIALS_SOURCE + ": '" + source
                    + "' is not supported; use URL (credentials in " + URL + ") or USER_INFO (" + BASIC_AUTH_USER_INFO + ")");
        };
    }

    /** The URL without its user info: {@code http://host:8081} for {@code http://user:password@host:8081}. */
    public static String withoutUserInfo(String url) {
        int at = userInfoEnd(url);
        return at < 0 ? url : url.substring(0, url.indexOf("://") + 3) + url.substring(at + 1);
    }

    /** The URL's user info, percent-decoded, or null when it has none. */
    private static String userInfo(String url) {
        int at = userInfoEnd(url);
        if (at < 0) {
            return null;
        }
        String userInfo = url.substring(url.indexOf("://") + 3, at);
        try {
            return URLDecoder.decode(userInfo.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return userInfo; // a '%' not starting an escape: taken as written
        }
    }

    /** Index of the {@code @} that ends the URL's user info, or -1 when it has none. */
    private static int userInfoEnd(String url) {
        int sep = url.indexOf("://");
        if (sep < 0) {
            return -1;
        }
        // The last '@': a password pasted unencoded may hold '/', '?' or '#' (base64 does), and a registry's URL
        // holds no '@' after its authority, so nothing before the last one is shown or dialled.
        int at = url.lastIndexOf('@');
        return at >= sep + 3 ? at : -1;
    }

    private static String string(Map<String, ?> configs, String key, String fallback) {
        Object v = configs.get(key);
        return v == null ? fallback : v.toString();
    }

    /**
     * A whole number from {@code min} to {@link Integer#MAX_VALUE}: a value out of that range is refused here, not
     * truncated to an int, and a negative backoff is not left to fail each retry once the registry is down.
     */
    private static long number(Map<String, ?> configs, String key, long fallback, long min) {
        Object v = configs.get(key);
        if (v == null) {
            return fallback;
        }
        long n;
        try {
            n = v instanceof Number number ? number.longValue() : Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": expected a whole number, got '" + v + "'", e);
        }
        if (n < min || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(key + ": expected a whole number from " + min + " to "
                    + Integer.MAX_VALUE + ", got '" + v + "'");
        }
        return n;
    }

    /**
     * The registry URLs, in the order given: calls go to one of them, and to the next when it gives no answer (a
     * cluster's instances behind no load balancer, say).
     */
    public List<String> urls() {
        return urls;
    }

    /** The basic-auth {@code user:password} to send to the URL at {@code index} in {@link #urls()}, or null for none. */
    public String userInfo(int index) {
        return userInfos.get(index);
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
                + ", basicAuth=" + (userInfos.stream().allMatch(Objects::isNull) ? "none" : "[hidden]")
                + ", truststore=" + (truststoreLocation == null ? "default" : truststoreLocation)
                + ", truststorePassword=" + (truststorePassword == null ? "none" : "[hidden]")
                + ", requestTimeout=" + requestTimeout
                + ", maxRetries=" + maxRetries
                + ", autoRegister=" + autoRegister + "}";
    }
}
