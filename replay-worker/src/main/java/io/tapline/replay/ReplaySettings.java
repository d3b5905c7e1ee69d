package io.tapline.replay;

import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.ListenHost;
import io.tapline.config.RedactionOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.http.HttpUrl;
import io.tapline.redaction.RedactionKey;
import io.tapline.redaction.Redactor;
import io.tapline.replay.compare.CompareOptions;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.compare.RedactedValues;
import io.tapline.replay.mock.MockIgnoreRules;
import io.tapline.replay.mock.MockMatcher;
import io.tapline.replay.mock.MockServerOptions;
import io.tapline.replay.run.KafkaSettings;
import io.tapline.replay.run.Propagation;
import io.tapline.replay.run.ResultRedaction;
import io.tapline.replay.run.RunTopics;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code replay} command's options, parsed and validated: every bad value is a {@link ConfigException} naming
 * its flag, raised before anything connects to Kafka or the candidate; so are topic options naming one topic for two
 * of the worker's topics ({@link TopicRoles}).
 *
 * @param ignoreRules the configured ignore rules; learned noise is added to them once the noise topic is read
 * @param published   redacts the candidate's values in what a result publishes: the redaction rules, with the
 *                    sidecar's key when given, else a random per-process key
 */
public record ReplaySettings(String runId, HttpUrl target, int workers, int concurrency, int batchSize, double rate,
                             Duration requestTimeout, Duration kafkaTimeout, Propagation.Mode propagation, FailOn failOn,
                             IgnoreRules ignoreRules, boolean useLearnedNoise, CompareOptions compare,
                             MockServerOptions mock, MockMatcher matcher, String workerId, RunTopics topics,
                             KafkaSettings kafka, Duration progressInterval, String managementHost, int managementPort,
                             Map<String, String> candidateHeaders, ResultRedaction published) {

    public static ReplaySettings from(TaplineConfig config) {
        String runId = ReplayCommand.requireRun(config);
        HttpUrl target = ReplayCommand.checkTarget(config);
        IgnoreRules rules;
        MockServerOptions mock;
        MockMatcher matcher;
        try {
            rules = IgnoreRules.parse(config.getList(ReplayOptions.IGNORE));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("option --ignore" + config.origin(ReplayOptions.IGNORE) + ": " + e.getMessage(), e);
        }
        port(config, ReplayOptions.MOCK_PORT, 0, "0 = ephemeral");
        int managementPort = port(config, ReplayOptions.MANAGEMENT_PORT, -1, "-1 disables it");
        // checked here, before any Kafka client: a host a listener cannot open on failed only when it was bound, after
        // the run's bounds were recorded (a disabled management server's host is not used)
        String mockHost = ListenHost.check(config, ReplayOptions.MOCK_HOST);
        String managementHost = managementPort < 0 ? config.get(ReplayOptions.MANAGEMENT_HOST)
                : ListenHost.check(config, ReplayOptions.MANAGEMENT_HOST);
        Map<String, HttpUrl> mockRoutes;
        try {
            mockRoutes = MockServerOptions.parseRoutes(config.getList(ReplayOptions.MOCK_ROUTE));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("option --mock-route" + config.origin(ReplayOptions.MOCK_ROUTE) + ": " + e.getMessage(), e);
        }
        int unmatchedStatus = config.getInt(ReplayOptions.MOCK_UNMATCHED_STATUS);
        Duration requestTimeout = positiveDuration(config, ReplayOptions.REQUEST_TIMEOUT);
        int maxHeaderBytes = positiveInt(config, ReplayOptions.MOCK_MAX_HEADER_BYTES);
        try {
            mock = new MockServerOptions(mockHost, config.getInt(ReplayOptions.MOCK_PORT),
                    mockRoutes, allowLive(config), unmatchedStatus,
                    MockServerOptions.DEFAULT_MAX_BODY_BYTES, requestTimeout, maxHeaderBytes);
        } catch (IllegalArgumentException e) { // the status: the timeout and the head limit are positive
            throw new ConfigException("option --mock-unmatched-status" + config.origin(ReplayOptions.MOCK_UNMATCHED_STATUS)
                    + ": " + e.getMessage(), e);
        }
        MockIgnoreRules mockIgnores;
        try {
            mockIgnores = MockIgnoreRules.parse(config.getList(ReplayOptions.MOCK_IGNORE));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("option --mock-ignore" + config.origin(ReplayOptions.MOCK_IGNORE) + ": " + e.getMessage(), e);
        }
        double tolerance = config.getDouble(ReplayOptions.NUMERIC_TOLERANCE);
        if (!(tolerance >= 0) || Double.isInfinite(tolerance)) { // also refuses NaN
            throw new ConfigException("option --compare-numeric-tolerance" + config.origin(ReplayOptions.NUMERIC_TOLERANCE)
                    + ": '" + config.get(ReplayOptions.NUMERIC_TOLERANCE) + "' is not a number >= 0");
        }
        Set<String> ignoredHeaders = new HashSet<>(CompareOptions.DEFAULT_IGNORED_HEADERS);
        ignoredHeaders.addAll(config.getList(ReplayOptions.IGNORE_HEADERS));
        RedactionKey key = redactionKey(config);
        Redactor.Rules redactionRules = RedactionOptions.rules(config);
        CompareOptions compare = new CompareOptions("ignore".equalsIgnoreCase(config.get(ReplayOptions.ARRAY_ORDER)),
                tolerance, ignoredHeaders, config.getBoolean(ReplayOptions.COMPARE_HEADERS),
                RedactedValues.keyed(key, redactionRules));
        ResultRedaction published = new ResultRedaction(new Redactor(key == null ? RedactionKey.random() : key,
                redactionRules));
        try {
            matcher = new MockMatcher(config.getDouble(ReplayOptions.MOCK_MIN_SCORE), mockIgnores, compare);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("option --mock-min-score" + config.origin(ReplayOptions.MOCK_MIN_SCORE) + ": " + e.getMessage(), e);
        }
        double rate = config.getDouble(ReplayOptions.RATE);
        if (!(rate >= 0) || Double.isInfinite(rate)) { // also refuses NaN
            throw new ConfigException("option --rate" + config.origin(ReplayOptions.RATE) + ": '" + config.get(ReplayOptions.RATE)
                    + "' is not a number >= 0 (0 = unlimited)");
        }
        RunTopics topics = new RunTopics(config.getTopic(ReplayOptions.TOPIC_CASES), config.getTopic(ReplayOptions.TOPIC_NOISE),
                config.getTopic(ReplayOptions.TOPIC_RESULTS), config.getTopic(ReplayOptions.TOPIC_RUNS),
                config.getTopic(ReplayOptions.TOPIC_DLQ));
        TopicRoles.checkReplay(config);
        return new ReplaySettings(runId, target,
                positiveInt(config, ReplayOptions.WORKERS), positiveInt(config, ReplayOptions.CONCURRENCY),
                positiveInt(config, ReplayOptions.BATCH_SIZE), rate,
                positiveDuration(config, ReplayOptions.REQUEST_TIMEOUT), positiveDuration(config, ReplayOptions.KAFKA_TIMEOUT),
                Propagation.parse(config.get(ReplayOptions.PROPAGATION)), ReplayCommand.failOn(config),
                rules, config.getBoolean(ReplayOptions.USE_NOISE), compare, mock, matcher,
                workerId(config),
                topics, ReplayCommand.kafka(config, true), positiveDuration(config, ReplayOptions.PROGRESS_INTERVAL),
                managementHost, managementPort,
                candidateHeaders(config), published);
    }

    /** The sidecar's redaction key, or null when none is given. */
    private static RedactionKey redactionKey(TaplineConfig config) {
        String key = config.has(ReplayOptions.REDACTION_KEY) ? config.get(ReplayOptions.REDACTION_KEY) : "";
        if (key.isEmpty()) {
            return null;
        }
        try {
            return RedactionKey.of(key);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("option --redaction-key" + config.origin(ReplayOptions.REDACTION_KEY) + ": "
                    + e.getMessage() + " (it must be the capture sidecar's key)", e);
        }
    }

    /**
     * A comma that separates, followed by what reads as the next header's {@code Name:}: in a flag, the list of headers
     * one flag held when headers were comma-separated everywhere ({@code 'X-A: 1,X-B: 2'}). The backslashes before the
     * comma pair up as {@link ConfigSpec#split} reads them in a variable or the file: an even run ({@code ,} or
     * {@code \\,}) leaves the comma a separator, an odd one ({@code \,}, {@code \\\,}) escapes it, so a flag is refused
     * exactly when the same text in {@code TAPLINE_CANDIDATE_HEADER} would be several headers.
     */
    private static final Pattern NEXT_HEADER = Pattern.compile("(?<!\\\\)(?:\\\\\\\\)*,\\s*([A-Za-z][A-Za-z0-9-]*)\\s*:");

    /**
     * {@code Name: value} (or {@code Name=value}) per header. A flag is one header, commas included, {@code \,}
     * written for a comma too (backslashes before a comma pair up as in a variable: {@link ConfigSpec#unescapeCommas});
     * one that reads as several headers separated by commas is refused, naming them (not their values), rather than
     * sent as one header whose value holds the others. A variable or the file holds a comma-separated list, already
     * split.
     */
    private static Map<String, String> candidateHeaders(TaplineConfig config) {
        Map<String, String> out = new LinkedHashMap<>();
        boolean fromFlags = config.origin(ReplayOptions.CANDIDATE_HEADER).isEmpty();
        for (String given : config.getList(ReplayOptions.CANDIDATE_HEADER)) {
            String h = given;
            if (fromFlags) {
                List<String> others = NEXT_HEADER.matcher(given).results().map(m -> m.group(1)).toList();
                if (!others.isEmpty()) {
                    int colon = given.indexOf(':');
                    String first = colon > 0 ? given.substring(0, colon).trim() : "?";
                    throw new ConfigException("option --candidate-header: holds " + (others.size() + 1) + " headers"
                            + " separated by commas (" + first + ", " + String.join(", ", others) + "); give each header"
                            + " its own --candidate-header (write a comma that belongs to a value as \\,; backslashes before"
                            + " a comma pair up as in TAPLINE_CANDIDATE_HEADER, \\\\, being a backslash and the separator)");
                }
                h = ConfigSpec.unescapeCommas(given);
            }
            int colon = h.indexOf(':');
            int sep = colon > 0 ? colon : h.indexOf('=');
            if (sep <= 0 || h.substring(0, sep).isBlank()) {
                throw new ConfigException("option --candidate-header" + config.origin(ReplayOptions.CANDIDATE_HEADER) + ": '" + h
                        + "' is not 'Name: value'");
            }
            out.put(h.substring(0, sep).trim(), h.substring(sep + 1).trim());
        }
        return out;
    }

    /**
     * The {@code --allow-live} hosts, each a host as a dependency call's URL names it: a name of letters, digits,
     * {@code - . _} or an IP address, an IPv6 one in brackets ({@code [::1]}), as {@link MockServerOptions#liveAllowed}
     * compares it with a call's host. Anything else matched no call and was taken without a word: a {@code host:port},
     * a URL, an IPv6 address without brackets, a pattern; and it was printed as given in the line that lists the hosts
     * live calls go to. Such an entry is refused, named, and shown with codes.
     */
    static Set<String> allowLive(TaplineConfig config) {
        Set<String> hosts = new HashSet<>();
        for (String entry : config.getList(ReplayOptions.ALLOW_LIVE)) {
            String problem = liveHostProblem(entry);
            if (problem != null) {
                throw new ConfigException("option --allow-live" + config.origin(ReplayOptions.ALLOW_LIVE) + ": '"
                        + HttpUrl.shown(entry) + "' " + problem + "; give each host alone, as a dependency call's URL names it"
                        + " (api.example.com, 10.0.0.5, [::1]): its calls are forwarded on every port");
            }
            hosts.add(entry);
        }
        return hosts;
    }

    private static String liveHostProblem(String entry) {
        if (entry.contains("://")) {
            return "is a URL, not a host";
        }
        if (entry.indexOf('*') >= 0) {
            return "is a pattern, which matches no host (list each host)";
        }
        if (!entry.startsWith("[") && entry.indexOf(':') != entry.lastIndexOf(':')) {
            return "is an IPv6 address without brackets, which matches no call (write it [" + entry + "], as a URL does)";
        }
        String notAHost = "is not a host name (letters, digits, '-', '.', '_') or an IP address";
        HttpUrl url;
        try {
            url = HttpUrl.parse("http://" + entry);
        } catch (IllegalArgumentException e) {
            return notAHost;
        }
        if (url.portGiven()) {
            return "is host:port, which matches no call";
        }
        if (!url.host().equals(entry)) {
            return "is more than a host (a path, query or fragment), which matches no call";
        }
        return url.baseUrlProblem() == null ? null : notAHost;
    }

    /** A port number from {@code min} (0 or -1, with its meaning in {@code lowest}) to 65535. */
    private static int port(TaplineConfig config, String key, int min, String lowest) {
        int v = config.getInt(key);
        if (v < min || v > 65535) {
            throw new ConfigException("option " + ConfigSpec.flag(key) + config.origin(key) + ": '" + config.get(key) + "' is not a port "
                    + min + "-65535 (" + lowest + ")");
        }
        return v;
    }

    static Duration positiveDuration(TaplineConfig config, String key) {
        Duration d = config.getDuration(key);
        if (d.isZero() || d.isNegative()) {
            throw new ConfigException("option " + ConfigSpec.flag(key) + config.origin(key) + ": '" + config.get(key)
                    + "' is not a duration > 0");
        }
        return d;
    }

    private static int positiveInt(TaplineConfig config, String key) {
        int v = config.getInt(key);
        if (v < 1) {
            throw new ConfigException("option " + ConfigSpec.flag(key) + config.origin(key) + ": '" + v + "' is not a whole number >= 1");
        }
        return v;
    }

    /** What a run id and a worker id may hold: they are written as they are wherever they are used. */
    static final String ID_CHARACTERS = "[A-Za-z0-9._-]{1,200}";

    /**
     * The value of {@code key}, a run id or a worker id, held to {@link #ID_CHARACTERS}: refused naming its flag, where
     * it was set, and what is allowed (the value shown with codes, as any value a {@link ConfigException} quotes).
     */
    static String plainId(TaplineConfig config, String key) {
        String id = config.get(key);
        if (!id.matches(ID_CHARACTERS)) {
            throw new ConfigException("option " + ConfigSpec.flag(key) + config.origin(key) + ": '" + id
                    + "' must be 1-200 characters of A-Z a-z 0-9 . _ -");
        }
        return id;
    }

    /**
     * The worker id: {@code --worker-id}, 1-200 characters of {@code A-Z a-z 0-9 . _ -} as the run id is
     * ({@link #plainId}), else {@link #defaultWorkerId}. It names the Kafka transactional id
     * ({@code tapline-replay-RUN-ID}, the one a replacement worker with the same id fences) and client ids, and is
     * printed as it is in log lines and errors; before, any value was taken, an escape sequence or a line break in it
     * reaching every log line that named the worker.
     */
    static String workerId(TaplineConfig config) {
        if (!config.has(ReplayOptions.WORKER_ID)) {
            return defaultWorkerId(localHostName(), ProcessHandle.current().pid());
        }
        return plainId(config, ReplayOptions.WORKER_ID);
    }

    /**
     * The worker id when none is given: the host name with any character outside {@code A-Z a-z 0-9 . _ -} (the
     * {@code :} and {@code %} of an IPv6 address the name may be) as {@code _}, cut so that a {@code -} and the
     * process id follow within the 200 characters {@code --worker-id} takes (a fully qualified name may have 253).
     */
    static String defaultWorkerId(String host, long pid) {
        String suffix = "-" + pid;
        String name = host == null || host.isEmpty() ? "localhost" : host.replaceAll("[^A-Za-z0-9._-]", "_");
        return name.substring(0, Math.min(name.length(), 200 - suffix.length())) + suffix;
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
