package io.tapline.registry;

import io.tapline.http.HttpUrl;
import io.tapline.text.ShownText;

import java.net.URI;
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
 *
 * <p>The URLs are checked as every component checks its {@code --schema-registry-url} ({@link #urlsRefusal}), so a
 * serde configured by another program through Kafka's {@code configure} refuses what the components refuse. Every
 * refusal, of the URLs or of another setting, is a {@link RegistryConfigException}: Kafka's {@code ConfigException},
 * as a Kafka serde's bad setting is, naming the key.
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

    /** The Confluent-compatible API of the local stack's registry: what a refusal gives as an example. */
    private static final String EXAMPLE_URL = "http://127.0.0.1:8081/apis/ccompat/v7";

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
        Object value = configs.get(URL);
        // a list, as Confluent's serdes take this LIST setting too (its toString() "[a, b]" read as one URL was refused)
        String rawUrl = value instanceof List<?> list
                ? String.join(",", list.stream().map(String::valueOf).toList()) : value == null ? null : value.toString();
        if (rawUrl == null || rawUrl.isBlank()) {
            throw new RegistryConfigException(URL, "missing; give the Confluent-compatible registry URL, e.g. " + EXAMPLE_URL);
        }
        String refusal = urlsRefusal(rawUrl);
        if (refusal != null) {
            throw new RegistryConfigException(URL, refusal);
        }
        List<String> given = parseUrls(rawUrl);
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
        this.autoRegister = bool(configs, AUTO_REGISTER, true);
        this.cacheCapacity = (int) number(configs, CACHE_CAPACITY, DEFAULT_CACHE_CAPACITY, 1);
    }

    /**
     * Reads the registry settings from a Kafka-client-style config map; other keys are ignored.
     *
     * @throws RegistryConfigException (Kafka's {@code ConfigException}) when {@value #URL} is missing or is not a URL,
     *                                  or list of them, the registry client can call ({@link #urlsRefusal}), or when
     *                                  another setting is not a number, out of range or not supported; the message is
     *                                  the key and why, and quotes a URL only without its credentials and no password
     *                                  or user info
     */
    public static RegistryConfig fromMap(Map<String, ?> configs) {
        return new RegistryConfig(Objects.requireNonNull(configs, "configs"));
    }

    public static RegistryConfig of(String url) {
        return fromMap(Map.of(URL, url));
    }

    /**
     * The entries of a comma-separated URL list that {@link #urlsRefusal} took, in order, each without a trailing
     * {@code /}.
     */
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
        return List.copyOf(urls);
    }

    /**
     * Why {@code list}, a registry URL or a comma-separated list of them, is not one the registry client can call, or
     * null when it is: each URL must be http or https, with a valid host and port. Each is a base URL the client puts
     * the API's paths after ({@code /subjects/...}, {@code /schemas/ids/...}), so it is held to what
     * {@link HttpUrl#baseUrlProblem} asks of one, as replay's {@code --target} and the sidecar's {@code --app} are:
     * printable ASCII (a right-to-left override or a zero-width space would be shown in every registry error), no query
     * and no fragment (the API's paths would be written into them, and every call sent to the base path), no broken
     * percent-escape, a host a resolver looks up. The client is the JDK's, which reads URLs with {@link URI} and so
     * cannot call a host whose name holds an {@code _} (a Docker Compose service name, say); that is refused too, with
     * what to do instead. Credentials in a URL ({@code user:password@}, ending at its last {@code @}) are allowed, sent
     * as basic auth as they are written (percent-escapes decoded), and left out of the reason; when a list with an
     * {@code @} in it cannot be read, no part of it is quoted. Empty items of a list are skipped, as the client skips
     * them.
     *
     * <p>The one check of a registry URL: the components' {@code --schema-registry-url} (as {@code RegistryOptions}
     * names it) and the serde's {@value #URL} ({@link #fromMap}).
     *
     * @return the reason, to follow the name of the setting and {@code ": "}; it may quote a URL as given (without its
     *         credentials), so it is to be shown as {@link ShownText#oneLine} shows text
     */
    public static String urlsRefusal(String list) {
        // Every item is read before any is quoted: a ',' in a password splits it, and the item before the ',' may read
        // as a URL (http://svc:8081/x#y of http://svc:8081/x#y,z@registry) that is all password; the item after it
        // reads as none, and then nothing is quoted.
        List<HttpUrl> parsedUrls = new ArrayList<>();
        for (String entry : list.split(",")) {
            if (entry.isBlank()) {
                continue; // an empty item ("a,,b", "a, "), which parseUrls skips too
            }
            String u = withoutUserInfo(entry.trim());
            try {
                parsedUrls.add(HttpUrl.parse(u));
            } catch (IllegalArgumentException e) {
                if (list.contains("@")) {
                    // Credentials in it: a ',' in a password splits it, so no part of the value is quoted.
                    return "not an http:// or https:// URL (or list of them); characters ',', '@', '/', '?' and '#' in a "
                            + "user name or password must be percent-encoded (%2C, %40, %2F, %3F, %23)";
                }
                return "'" + u + "' is not an http:// or https:// URL: " + e.getMessage();
            }
        }
        if (parsedUrls.isEmpty()) {
            return "no URL given; e.g. " + EXAMPLE_URL;
        }
        for (HttpUrl parsed : parsedUrls) {
            String u = parsed.toString(); // without its user info
            String refusal = parsed.baseUrlRefusal("a registry URL");
            if (refusal != null) {
                return "'" + u + "' " + refusal + "; give scheme, host, port and the registry API's base path, like "
                        + "http://registry:8081/apis/ccompat/v7";
            }
            boolean jdkReadsHost;
            try {
                jdkReadsHost = URI.create(u).getHost() != null;
            } catch (IllegalArgumentException e) {
                jdkReadsHost = false;
            }
            if (!jdkReadsHost) {
                return "'" + u + "': the registry client (the JDK's HTTP client) cannot call host '" + parsed.host()
                        + "' or this path; give the registry a host name without '_' (a DNS alias or network alias) or "
                        + "its address";
            }
        }
        return null;
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
            default -> throw new RegistryConfigException(BASIC_AUTH_CREDENTIALS_SOURCE, "'" + source
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
    /**
     * A boolean setting as Kafka reads one: a {@link Boolean}, or {@code true} or {@code false} in any case; anything
     * else refused ({@code Boolean.parseBoolean} read {@code yes} as false, turning registration off without a word).
     */
    private static boolean bool(Map<String, ?> configs, String key, boolean fallback) {
        Object v = configs.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String text = v.toString().trim();
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(text);
        }
        throw new RegistryConfigException(key, "expected true or false, got '" + v + "'");
    }

    private static long number(Map<String, ?> configs, String key, long fallback, long min) {
        Object v = configs.get(key);
        if (v == null) {
            return fallback;
        }
        long n;
        try {
            n = v instanceof Number number ? number.longValue() : Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new RegistryConfigException(key, "expected a whole number, got '" + v + "'", e);
        }
        if (n < min || n > Integer.MAX_VALUE) {
            throw new RegistryConfigException(key, "expected a whole number from " + min + " to "
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
