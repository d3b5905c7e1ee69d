package io.tapline.replay;

import io.tapline.config.ConfigSpec;
import io.tapline.config.LogOptions;
import io.tapline.config.RedactionOptions;
import io.tapline.config.RegistryOptions;
import io.tapline.replay.mock.MockMatcher;
import io.tapline.replay.mock.MockServerOptions;
import io.tapline.topics.TaplineTopics;

/** Config keys and specs of the {@code replay} and {@code report} commands (flags derive from keys). */
public final class ReplayOptions {

    public static final String RUN = "run";
    public static final String TARGET = "target";
    public static final String WORKERS = "workers";
    public static final String CONCURRENCY = "concurrency";
    public static final String RATE = "rate";
    public static final String BATCH_SIZE = "batch.size";
    public static final String REQUEST_TIMEOUT = "request.timeout";
    public static final String WORKER_ID = "worker.id";
    public static final String CANDIDATE_HEADER = "candidate.header";
    public static final String PROPAGATION = "propagation";
    public static final String PRODUCTION_TARGETS = "replay.production.targets";

    public static final String MOCK_HOST = "mock.host";
    public static final String MOCK_PORT = "mock.port";
    public static final String MOCK_ROUTE = "mock.route";
    public static final String MOCK_UNMATCHED_STATUS = "mock.unmatched.status";
    public static final String MOCK_MAX_HEADER_BYTES = "mock.max.header.bytes";
    public static final String MOCK_MIN_SCORE = "mock.min.score";
    public static final String MOCK_IGNORE = "mock.ignore";
    public static final String ALLOW_LIVE = "allow.live";

    public static final String IGNORE = "ignore";
    public static final String IGNORE_HEADERS = "compare.ignore.headers";
    public static final String COMPARE_HEADERS = "compare.headers";
    public static final String ARRAY_ORDER = "compare.array.order";
    public static final String NUMERIC_TOLERANCE = "compare.numeric.tolerance";
    public static final String USE_NOISE = "compare.learned.noise";
    public static final String REDACTION_KEY = RedactionOptions.KEY;

    public static final String FAIL_ON = "fail.on";
    public static final String FAIL_ON_ERRORS = "fail.on.errors";
    public static final String FAIL_ON_EMPTY = "fail.on.empty";
    public static final String FORMAT = "format";
    public static final String OUT = "out";
    public static final String PROGRESS_INTERVAL = "progress.interval";

    public static final String BOOTSTRAP = "kafka.bootstrap.servers";
    public static final String KAFKA_CONSUMER = "kafka.consumer.";
    public static final String KAFKA_PRODUCER = "kafka.producer.";
    public static final String KAFKA_TIMEOUT = "kafka.timeout";
    public static final String TOPIC_CASES = "topic.cases";
    public static final String TOPIC_NOISE = "topic.noise";
    public static final String TOPIC_RESULTS = "topic.results";
    public static final String TOPIC_RUNS = "topic.runs";
    public static final String TOPIC_DLQ = "topic.dlq";

    public static final String MANAGEMENT_HOST = "management.host";
    public static final String MANAGEMENT_PORT = "management.port";

    public static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9092";

    private ReplayOptions() {
    }

    private static ConfigSpec.Builder common(ConfigSpec.Builder b) {
        return RegistryOptions.declare(LogOptions.declare(b)
                .option(RUN, "", "Run id (required): 1-200 characters of A-Z a-z 0-9 . _ - (a commit SHA; a branch name with its other characters replaced). Workers started with the same run id share the run.")
                .option(BOOTSTRAP, DEFAULT_BOOTSTRAP, "Kafka bootstrap servers: host:port[,host:port...] (a name is resolved by the client, not at start)."))
                .option(KAFKA_TIMEOUT, "60s", "Timeout for reading the runs/noise/results topics and metadata.")
                .option(TOPIC_RESULTS, TaplineTopics.RESULTS, "Results topic; a topic of its own (exit 2 when another topic option names it too).")
                .option(TOPIC_RUNS, TaplineTopics.RUNS, "Run lifecycle topic (bounds, summaries); a topic of its own (exit 2 when another topic option names it too).")
                .prefix(KAFKA_CONSUMER, "Any Kafka consumer setting, passed through (e.g. --kafka.consumer.security.protocol=SSL).")
                .option(FAIL_ON, "any", "CI gate: " + FailOn.ALLOWED + ".")
                .option(FAIL_ON_ERRORS, "true", "Cases that could not be replayed fail the gate too.")
                .option(FAIL_ON_EMPTY, "true", "A run with no case (an empty cases topic, or the wrong one) fails the gate too.");
    }

    public static ConfigSpec replaySpec() {
        return common(ConfigSpec.builder("tapline replay",
                "Replay a run's cases against a candidate with recorded dependencies as mocks; join the run if it exists."))
                .option(TARGET, "", "Candidate base URL (required): http:// or https://, a host, an optional port and base path, e.g. http://candidate:8080 or http://[::1]:8080/api. Never defaulted.")
                .option(WORKERS, "1", "Worker threads in this process (each a consumer group member).")
                .option(CONCURRENCY, "16", "Cases in flight at once in this process (drops to 1 if the candidate does not propagate traceparent).")
                .option(RATE, "0", "Cases per second started by this process; 0 = unlimited.")
                .option(BATCH_SIZE, "500", "Cases per poll and per transaction.")
                .option(REQUEST_TIMEOUT, "30s", "Time the candidate has to answer one case.")
                .repeated(CANDIDATE_HEADER, "Header 'Name: value' set on every replayed request, replacing the recorded one (e.g. a test credential where the capture kept a redaction token). A flag that reads as several headers ('X-A: 1,X-B: 2') is refused: give each its own flag, and write a comma that belongs to a value as \\, (backslashes before a comma pair up as in the variable).")
                .option(WORKER_ID, "", "Worker id: 1-200 characters of A-Z a-z 0-9 . _ - (default: host name + pid, other characters of the name as _); names the transactional and client ids.")
                .choice(PROPAGATION, "auto", "Trace-context propagation of the candidate: auto (detect, fall back to one case at a time), required, none.",
                        "auto", "required", "none")
                .multi(PRODUCTION_TARGETS, "Hosts that are production: a --target on one of them is refused.")
                .option(MOCK_HOST, "127.0.0.1", "Mock server listen address.")
                .option(MOCK_PORT, "9190", "Mock server port: point the candidate's HTTP_PROXY / egress routes here. 0 = ephemeral.")
                .multi(MOCK_ROUTE, "Named dependency route name=url, as the sidecar's --egress declared it: a call to http://MOCK/name/rest is dependency 'name', path URL-path/rest, as the sidecar forwarded and recorded it; the URL's host is reached only with --allow-live.")
                .option(MOCK_UNMATCHED_STATUS, Integer.toString(MockServerOptions.DEFAULT_UNMATCHED_STATUS), "Status answered to an unmatched dependency call: a final one, 200..599.")
                .option(MOCK_MAX_HEADER_BYTES, Integer.toString(MockServerOptions.DEFAULT_MAX_HEADER_BYTES), "Longest request line and largest request head the mock takes from the candidate: a longer line is answered 414, a larger head 431, as the sidecar's egress answers them. Give it the sidecar's --proxy-max-header-bytes.")
                .option(MOCK_MIN_SCORE, Double.toString(MockMatcher.DEFAULT_MIN_SCORE), "Minimum match score (0..1] to answer a call from a recorded one (0.75: exact path and query; below it another id or query value may answer, reported as a difference).")
                .multi(MOCK_IGNORE, "Part of a dependency call whose value is generated per request (idempotency key, request id, timestamp) and not compared, so the call still matches its recording: 'DESTINATION query:NAME' (the parameter's value; its presence still counts), 'DESTINATION path:/payments/{*}/confirm' ({*}: any one segment), 'DESTINATION body:$.nonce' (a JSON path in the request body, $ for all of it), 'DESTINATION body:form:NAME' or 'DESTINATION header:NAME' (a request header, * for all); DESTINATION is a --mock-route name, host, host:port or * (any).")
                .multi(ALLOW_LIVE, "Host whose dependency calls are forwarded to the real service, on every port (nothing is by default): a host alone, as a call's URL names it (api.example.com, 10.0.0.5, [::1]).")
                .multi(IGNORE, "Ignore rule 'ROUTE PATH', e.g. 'GET /owners/{id} $.updatedAt' or '* header:x-build'.")
                .multi(IGNORE_HEADERS, "Extra header names never compared, in responses and in dependency requests (Date, Server, tracing, hop-by-hop already are).")
                .option(COMPARE_HEADERS, "true", "Compare response headers, and the request headers the candidate sends its dependencies.")
                .choice(ARRAY_ORDER, "strict", "JSON array order: strict or ignore.", "strict", "ignore")
                .option(NUMERIC_TOLERANCE, "0", "Absolute tolerance for JSON numbers (compared by exact decimal value; 0: equal values only, 10 = 10.0).")
                .option(USE_NOISE, "true", "Apply the noise learned by dedup-stream (topic.noise).")
                .secret(REDACTION_KEY, "", "The capture sidecar's --redaction-key (>= 16 bytes). With it, where production's value was redacted the candidate's is tokenised the same way and compared (a mismatch shows the candidate's token, never its value); without it such values are not judged. It also tokenises the candidate's values a result publishes, as the sidecar would (without it, a random per-process key does). Whoever holds the key can confirm guesses of redacted values: give it to replay only where the sidecar's key may go.")
                .with(RedactionOptions::declareRules)
                .option(TOPIC_CASES, TaplineTopics.CASES, "Cases topic; a topic of its own (exit 2 when another topic option names it too).")
                .option(TOPIC_NOISE, TaplineTopics.NOISE, "Learned noise topic; while learned noise is applied, a topic of its own (exit 2 when another topic option names it too).")
                .option(TOPIC_DLQ, TaplineTopics.DLQ, "Dead-letter topic for undecodable cases; a topic of its own (exit 2 when another topic option names it too).")
                .prefix(KAFKA_PRODUCER, "Any Kafka producer setting, passed through.")
                .option(PROGRESS_INTERVAL, "10s", "How often a progress line is printed.")
                .option(MANAGEMENT_HOST, "0.0.0.0", "Management server address (/healthy, /ready, /metrics).")
                .option(MANAGEMENT_PORT, "9403", "Management server port; -1 disables it.")
                .build();
    }

    public static ConfigSpec reportSpec() {
        return common(ConfigSpec.builder("tapline report", "Render a run's results as text, JUnit XML or HTML; exit 1 when the gate fails."))
                .choice(FORMAT, "text", "Report format.", "text", "junit", "html")
                // no default: an empty value (--out "$UNSET") is refused, not read as no --out
                .option(OUT, null, "Write the report to this file instead of standard output (an empty value is refused).")
                .build();
    }
}
