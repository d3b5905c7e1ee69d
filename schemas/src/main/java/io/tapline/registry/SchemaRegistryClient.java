package io.tapline.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client of the subset of the Confluent Schema Registry REST API that Tapline needs: register, look up,
 * get by id and check compatibility. Works with every registry speaking that API (Confluent, Apicurio's
 * {@code /apis/ccompat/v7}, Karapace, Redpanda).
 *
 * <p>Calls block the calling thread (never call it from an event loop). Ids and schemas are cached in bounded
 * LRU caches, so a steady-state serializer makes no registry call at all; so is the registry's answer that an id
 * names no usable Avro schema, so that a deserializer fed records of such an id asks once per id, not per record.
 * Each attempt waits at most the request timeout for the whole answer, body included, and reads at most
 * {@value #MAX_ANSWER_BYTES} bytes of it. Failed calls are retried a bounded number of times when the failure is
 * retriable (no answer in time, 5xx, 429); an interrupted call is not, and ends at once with its thread's interrupt
 * status set. Thread-safe.
 */
public final class SchemaRegistryClient {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryClient.class);
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longest part of a non-registry answer's body quoted in an error message. */
    private static final int MAX_EXCERPT = 200;
    /**
     * Most bytes of an answer read: a schema is a few KiB, and Jackson refuses a string over 20 million characters
     * anyway. Past it the answer is dropped as no answer, so a URL streaming without end (a misdirected one) costs the
     * process this much memory, not all it has.
     */
    static final int MAX_ANSWER_BYTES = 16 << 20;
    private static final String NOT_A_REGISTRY = "the URL may not point at a schema registry (Apicurio serves the "
            + "Confluent API under /apis/ccompat/v7), or a proxy or sign-in page answered for it";

    private final RegistryConfig config;
    private final HttpClient http;
    /** The {@code Authorization} header for each configured URL, by index; null for none. */
    private final List<String> authorizations;
    /** Keyed by the schema object itself: Avro caches a schema's hash, so a hit renders nothing. */
    private final Map<SubjectSchema, Integer> idsBySubjectAndSchema;
    private final Map<Integer, Schema> schemasById;
    /**
     * Why the schema of an id is not usable Avro (another schema type, a text Avro cannot parse), from the registry's
     * answer: kept as the schemas are, for an id always names the same schema.
     */
    private final Map<Integer, Unusable> unusableById;
    /** Index in the configured URLs of the registry that answered last: calls start there. */
    private final AtomicInteger current = new AtomicInteger();

    /**
     * Loads the configured truststore, if one is, as a client does when it is made, without making one (its HTTP
     * client and selector thread): a component checks it at start ({@code RegistryOptions.checked}).
     *
     * @throws RegistryConfigException naming the key when the truststore cannot be loaded
     */
    public static void loadTruststore(RegistryConfig config) {
        if (config.truststoreLocation() != null) {
            sslContext(config);
        }
    }

    /**
     * A client of the configured registries; the truststore, if one is configured, is loaded here.
     *
     * @throws RegistryConfigException (Kafka's {@code ConfigException}) naming the key when the truststore cannot be
     *                                 loaded, so that a serde's {@code configure} refuses it as a bad setting
     */
    public SchemaRegistryClient(RegistryConfig config) {
        this.config = config;
        HttpClient.Builder builder = HttpClient.newBuilder()
                .connectTimeout(config.requestTimeout())
                .version(HttpClient.Version.HTTP_1_1);
        if (config.truststoreLocation() != null) {
            builder.sslContext(sslContext(config));
        }
        this.http = builder.build();
        List<String> authorizations = new ArrayList<>();
        for (int i = 0; i < config.urls().size(); i++) {
            String userInfo = config.userInfo(i);
            authorizations.add(userInfo == null ? null
                    : "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8)));
        }
        this.authorizations = Collections.unmodifiableList(authorizations);
        this.idsBySubjectAndSchema = lru(config.cacheCapacity());
        this.schemasById = lru(config.cacheCapacity());
        this.unusableById = lru(config.cacheCapacity());
    }

    public RegistryConfig config() {
        return config;
    }

    /** Registers the schema under the subject (idempotent) and returns its global id. Cached. */
    public int register(String subject, Schema schema) {
        SubjectSchema cacheKey = new SubjectSchema(subject, schema);
        Integer cached = idsBySubjectAndSchema.get(cacheKey);
        if (cached != null) {
            return cached;
        }
        Answer answer;
        try {
            answer = call("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema),
                    "register schema " + schema.getFullName() + " under subject " + subject);
        } catch (SchemaRegistryException e) {
            if (e.httpStatus() != 409) {
                throw e;
            }
            // 409 means incompatible, but some registries (Apicurio) also answer it when another client registered
            // the same schema at the same moment. If the schema is there now, that client won the race.
            return lookUpAfterConflict(subject, schema, e);
        }
        int id = answer.json().path("id").asInt(-1);
        if (id < 0) {
            throw new SchemaRegistryException("registry " + answer.registry() + " answered register for subject "
                    + subject + " without an id: " + answer.json(), 200, -1, null);
        }
        idsBySubjectAndSchema.put(cacheKey, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    private int lookUpAfterConflict(String subject, Schema schema, SchemaRegistryException conflict) {
        try {
            return lookUp(subject, schema);
        } catch (SchemaRegistryException notThere) {
            if (notThere.interrupted()) {
                throw notThere; // no answer about the schema: the thread was asked to stop
            }
            throw conflict;
        }
    }

    /** Returns the id of a schema already registered under the subject, without registering it. Cached. */
    public int lookUp(String subject, Schema schema) {
        SubjectSchema cacheKey = new SubjectSchema(subject, schema);
        Integer cached = idsBySubjectAndSchema.get(cacheKey);
        if (cached != null) {
            return cached;
        }
        Answer answer = call("POST", "/subjects/" + encode(subject), schemaBody(schema),
                "look up schema " + schema.getFullName() + " under subject " + subject);
        int id = answer.json().path("id").asInt(-1);
        if (id < 0) {
            throw new SchemaRegistryException("registry " + answer.registry() + " answered look-up in subject "
                    + subject + " without an id: " + answer.json(), 200, -1, null);
        }
        idsBySubjectAndSchema.put(cacheKey, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    /**
     * Fetches the schema with the given global id. Cached; schemas by id never change. An id whose schema is not a
     * usable Avro schema (a PROTOBUF or JSON one, a text Avro cannot parse) fails with the same exception message at
     * every call, from the registry's first answer: that answer never changes either.
     */
    public Schema schemaById(int id) {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        Unusable unusable = unusableById.get(id);
        if (unusable != null) {
            throw unusable.failure();
        }
        Answer answer = call("GET", "/schemas/ids/" + id, null, "fetch schema id " + id);
        String text = answer.json().path("schema").asText(null);
        if (text == null) {
            throw new SchemaRegistryException("registry " + answer.registry() + " returned no schema for id " + id,
                    200, -1, null);
        }
        String type = answer.json().path("schemaType").asText("AVRO");
        if (!"AVRO".equalsIgnoreCase(type)) {
            throw unusable(id, new Unusable("schema id " + id + " in registry " + answer.registry() + " is " + type
                    + ", not AVRO", null));
        }
        Schema schema;
        try {
            schema = new Schema.Parser().parse(text);
        } catch (RuntimeException e) {
            throw unusable(id, new Unusable("schema id " + id + " in registry " + answer.registry()
                    + " is not a usable Avro schema: " + e.getMessage() + references(answer.json()), e));
        }
        schemasById.put(id, schema);
        return schema;
    }

    /**
     * The schemas a schema text names by reference, for the message of a text that does not parse alone: the client
     * fetches no referenced schema (Tapline's contracts use none), so their types are undefined to it.
     */
    private static String references(JsonNode answer) {
        JsonNode references = answer.path("references");
        if (!references.isArray() || references.isEmpty()) {
            return "";
        }
        List<String> named = new ArrayList<>();
        for (JsonNode reference : references) {
            named.add(reference.path("name").asText("?") + " (subject " + reference.path("subject").asText("?")
                    + " version " + reference.path("version").asText("?") + ")");
        }
        return "; it references " + excerpt(String.join(", ", named))
                + ", and the registry client does not fetch referenced schemas";
    }

    /** Asks whether the schema is compatible with the subject's registered versions under its compatibility level. */
    public boolean isCompatible(String subject, Schema schema) {
        Answer answer = call("POST", "/compatibility/subjects/" + encode(subject) + "/versions/latest",
                schemaBody(schema), "check compatibility of " + schema.getFullName() + " with subject " + subject);
        return answer.json().path("is_compatible").asBoolean(false);
    }

    /** Sets the subject's compatibility level, e.g. FULL_TRANSITIVE. */
    public void setCompatibility(String subject, String level) {
        ObjectNode body = JSON.createObjectNode().put("compatibility", level);
        call("PUT", "/config/" + encode(subject), body.toString(), "set compatibility " + level + " on subject " + subject);
    }

    /** The latest registered schema of the subject. Not cached: it changes. */
    public Schema latest(String subject) {
        Answer answer = call("GET", "/subjects/" + encode(subject) + "/versions/latest", null,
                "fetch latest version of subject " + subject);
        return new Schema.Parser().parse(answer.json().path("schema").asText());
    }

    /**
     * Makes the call, retrying retriable failures. An interrupt (a stream thread or a producer closed at shutdown) ends
     * the call at once, in a request or in the backoff between two, with the interrupt status kept: it is no failure to
     * retry, and the thread has been asked to stop.
     */
    private Answer call(String method, String path, String body, String what) {
        SchemaRegistryException last = null;
        for (int attempt = 0; attempt <= config.maxRetries(); attempt++) {
            if (attempt > 0) {
                backOff(config.retryBackoff().toMillis() * attempt, what, last);
            } else if (Thread.currentThread().isInterrupted()) {
                throw interrupted("interrupted before trying to " + what, null);
            }
            try {
                return once(method, path, body, what);
            } catch (SchemaRegistryException e) {
                if (!e.retriable()) {
                    throw e;
                }
                last = e;
                LOG.debug("registry call failed (attempt {} of {}): {}", attempt + 1, config.maxRetries() + 1,
                        e.getMessage());
            }
        }
        throw last;
    }

    /**
     * One attempt: asks the registry URLs in turn, starting from the one that answered last, until one answers (as
     * Confluent's client does). An HTTP error is an answer too: only no answer moves on to the next URL.
     */
    private Answer once(String method, String path, String body, String what) {
        List<String> urls = config.urls();
        int start = current.get();
        List<String> unanswered = new ArrayList<>();
        IOException failure = null;
        for (int i = 0; i < urls.size(); i++) {
            int index = (start + i) % urls.size();
            String url = urls.get(index);
            HttpResponse<String> response;
            try {
                response = send(request(method, index, path, body));
            } catch (IOException e) {
                unanswered.add(url + " (" + describe(e) + ")");
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
                continue;
            } catch (InterruptedException e) {
                throw interrupted("interrupted while trying to " + what + " at " + url, e);
            }
            if (index != start) {
                LOG.warn("registry gave no answer at {}; now using {}", String.join(", ", unanswered), url);
                current.set(index);
            }
            return new Answer(url, json(response, url, what));
        }
        throw new SchemaRegistryException("cannot " + what + ": registry unreachable at " + String.join(", ", unanswered),
                -1, -1, failure);
    }

    private HttpRequest request(String method, int urlIndex, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(config.urls().get(urlIndex) + path))
                .timeout(config.requestTimeout())
                .header("Accept", CONTENT_TYPE + ", application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            request.header("Content-Type", CONTENT_TYPE);
        }
        String authorization = authorizations.get(urlIndex);
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return request.build();
    }

    /**
     * The socket the JDK client could not open, as the {@link IOException} it is: JDK 17's client reports a socket it
     * cannot open (no file descriptor left: {@code Too many open files}) as an {@link InternalError} around it. No
     * answer, then, retried and failed over like an unreachable registry; thrown on as an error it ended the calling
     * thread (the sidecar's publisher, a stream thread) for a shortage that passes. Any other internal error is thrown
     * as it is.
     */
    private static IOException socketNotOpened(InternalError e) {
        if (e.getCause() instanceof IOException io) {
            return io;
        }
        throw e;
    }

    /** The JSON of a successful answer; a failure for any other answer. */
    private static JsonNode json(HttpResponse<String> response, String url, String what) {
        int status = response.statusCode();
        JsonNode json = registryJson(response.body());
        if (status / 100 == 2) {
            if (json == null && status != 204) {
                throw SchemaRegistryException.notRegistryAnswer("cannot " + what + ": " + url
                        + " answered HTTP " + status + " with "
                        + response.headers().firstValue("Content-Type").orElse("no Content-Type")
                        + " instead of the registry's JSON (" + excerpt(response.body()) + "); " + NOT_A_REGISTRY, status);
            }
            return json == null ? JSON.createObjectNode() : json;
        }
        int code = json == null ? -1 : json.path("error_code").asInt(-1);
        String message = json == null ? excerpt(response.body()) : json.path("message").asText(excerpt(response.body()));
        boolean notARegistryNotFound = status == 404 && !SchemaRegistryException.notFoundCode(code);
        throw new SchemaRegistryException("cannot " + what + ": registry " + url + " answered HTTP "
                + status + (code >= 0 ? " error_code " + code : "") + ": " + message
                + (notARegistryNotFound ? "; " + NOT_A_REGISTRY : "") + redirect(response), status, code, null);
    }

    /**
     * Where a redirect leads, for the error message: the client follows none, since the basic-auth credentials would go
     * with it to another host, and a registry that moved is best configured where it now is.
     */
    private static String redirect(HttpResponse<String> response) {
        if (response.statusCode() / 100 != 3) {
            return "";
        }
        String location = response.headers().firstValue("Location").map(l -> excerpt(RegistryConfig.withoutUserInfo(l)))
                .orElse("nowhere (no Location)");
        return "; it redirects to " + location + ", and the registry client follows no redirect: set the registry URL to "
                + "where it leads";
    }

    private static String describe(IOException e) {
        String name = e.getClass().getSimpleName();
        return e.getMessage() == null ? name : name + ": " + e.getMessage();
    }

    /**
     * Sends the request and waits at most the request timeout for the whole answer. The JDK client's own request
     * timeout ends once the headers arrive, so a registry stalling in the middle of its body would otherwise hold the
     * calling thread (a publisher, a stream thread) for good, past every retry.
     *
     * @throws HttpTimeoutException when the answer is not complete in time; like every {@link IOException} here (an
     *                              answer over {@link #MAX_ANSWER_BYTES} too), the registry gave no answer
     */
    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        CompletableFuture<HttpResponse<String>> answer;
        try {
            answer = http.sendAsync(request, info -> new BoundedText(MAX_ANSWER_BYTES,
                    info.headers().firstValueAsLong("Content-Length").orElse(-1)));
        } catch (InternalError e) {
            throw socketNotOpened(e);
        }
        try {
            return answer.get(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            answer.cancel(true);
            throw new HttpTimeoutException("no complete answer within " + config.requestTimeout().toMillis() + " ms");
        } catch (InterruptedException e) {
            answer.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof InternalError error) {
                throw socketNotOpened(error);
            }
            if (cause instanceof Error error) {
                throw error;
            }
            // Anything else is an answer the HTTP client could not read (a proxy's 'Content-Length: abc', say): no
            // answer from a registry, retried and failed over like one, never the record's fault.
            throw new IOException("unreadable answer: " + cause, cause);
        }
    }

    /** The answer's body as the registry API's JSON object, or null when it is not one (empty, HTML, text...). */
    private static JsonNode registryJson(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            JsonNode json = JSON.readTree(text);
            return json != null && json.isObject() ? json : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The start of a body that is not the registry's JSON (a proxy's HTML page, say), on one line. */
    private static String excerpt(String body) {
        String line = body == null ? "" : body.strip().replaceAll("\\s+", " ");
        if (line.isEmpty()) {
            return "empty body";
        }
        return line.length() <= MAX_EXCERPT ? line : line.substring(0, MAX_EXCERPT) + "...";
    }

    private static String schemaBody(Schema schema) {
        // schemaType is omitted: AVRO is the API's default and older registries reject the field.
        return JSON.createObjectNode().put("schema", schema.toString()).toString();
    }

    private static String encode(String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static void backOff(long millis, String what, SchemaRegistryException last) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            SchemaRegistryException failure = interrupted("interrupted while waiting to try again to " + what, e);
            failure.addSuppressed(last);
            throw failure;
        }
    }

    /** The failure of a call its thread was interrupted in, the interrupt status set again. Not retriable. */
    private static SchemaRegistryException interrupted(String message, InterruptedException cause) {
        Thread.currentThread().interrupt();
        return SchemaRegistryException.interrupted(message, cause);
    }

    private record SubjectSchema(String subject, Schema schema) {
    }

    private SchemaRegistryException unusable(int id, Unusable unusable) {
        unusableById.put(id, unusable);
        return unusable.failure();
    }

    /** The registry's answer that an id's schema is not usable Avro: the failure's message and cause. */
    private record Unusable(String message, Throwable cause) {

        /** A new exception at each call, with that call's stack trace. */
        SchemaRegistryException failure() {
            return new SchemaRegistryException(message, 200, -1, cause);
        }
    }

    /** A registry's successful answer, and the URL of the registry that gave it. */
    private record Answer(String registry, JsonNode json) {
    }

    /**
     * An answer's body as UTF-8 text (the registry API's JSON), failed with an {@link IOException} once it passes
     * {@code limit} bytes, or at once when its {@code Content-Length} says it will; the connection is then dropped.
     */
    private static final class BoundedText implements HttpResponse.BodySubscriber<String> {

        private final int limit;
        private final long declaredLength;
        private final CompletableFuture<String> text = new CompletableFuture<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        BoundedText(int limit, long declaredLength) {
            this.limit = limit;
            this.declaredLength = declaredLength;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            if (declaredLength > limit) {
                tooLarge();
                return;
            }
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                if (text.isDone()) {
                    return;
                }
                if (bytes.size() + (long) buffer.remaining() > limit) {
                    tooLarge();
                    return;
                }
                byte[] chunk = new byte[buffer.remaining()];
                buffer.get(chunk);
                bytes.writeBytes(chunk);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            text.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            text.complete(bytes.toString(StandardCharsets.UTF_8));
        }

        @Override
        public CompletionStage<String> getBody() {
            return text;
        }

        private void tooLarge() {
            subscription.cancel();
            text.completeExceptionally(new IOException("answer larger than " + (limit >> 20)
                    + " MiB, the most the registry client reads"));
        }
    }

    private static <K, V> Map<K, V> lru(int capacity) {
        return Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > capacity;
            }
        });
    }

    /**
     * The TLS context trusting the configured truststore.
     *
     * @throws RegistryConfigException naming {@value RegistryConfig#TRUSTSTORE_TYPE} when the JVM has no keystore of
     *                                 that type, else {@value RegistryConfig#TRUSTSTORE_LOCATION} when the file cannot
     *                                 be read or loaded (missing, not a keystore, a wrong password); the password is
     *                                 never quoted
     */
    private static SSLContext sslContext(RegistryConfig config) {
        KeyStore store;
        try {
            store = KeyStore.getInstance(config.truststoreType());
        } catch (KeyStoreException e) {
            throw new RegistryConfigException(RegistryConfig.TRUSTSTORE_TYPE, "'" + config.truststoreType()
                    + "' is not a keystore type this JVM supports; give PKCS12 (the default) or JKS", e);
        }
        String location = config.truststoreLocation();
        // a path the JVM cannot read (a NUL in it) is an InvalidPathException, an IllegalArgumentException
        try (InputStream in = Files.newInputStream(Path.of(location))) {
            char[] password = config.truststorePassword() == null ? null : config.truststorePassword().toCharArray();
            store.load(in, password);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException | InvalidPathException e) {
            throw new RegistryConfigException(RegistryConfig.TRUSTSTORE_LOCATION, "cannot load registry truststore "
                    + location + ": " + e.getMessage(), e);
        }
    }
}
