package io.tapline.replay;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.OutboundCall;
import io.tapline.config.ConfigException;
import io.tapline.config.TaplineConfig;
import io.tapline.http.HttpUrl;
import io.tapline.redaction.RedactionKey;
import io.tapline.registry.RegistryConfig;
import io.tapline.replay.mock.MockIgnoreRules;
import io.tapline.replay.mock.MockRequest;
import io.tapline.replay.run.Propagation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplaySettingsTest {

    private static ReplaySettings parse(String... extra) {
        List<String> args = new ArrayList<>(List.of("--run", "r1", "--target", "http://candidate:8080"));
        args.addAll(List.of(extra));
        return ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(), args.toArray(String[]::new), Map.of()));
    }

    private static String error(String... extra) {
        return assertThrows(ConfigException.class, () -> parse(extra)).getMessage();
    }

    @Test
    void defaultsAreSafeAndLocal() {
        ReplaySettings s = parse();
        assertEquals(HttpUrl.parse("http://candidate:8080"), s.target());
        assertEquals(1, s.workers());
        assertEquals(Propagation.Mode.AUTO, s.propagation());
        assertTrue(s.mock().allowLive().isEmpty(), "nothing is forwarded live by default");
        assertEquals(502, s.mock().unmatchedStatus());
        assertEquals(16384, s.mock().maxHeaderBytes(), "the sidecar's default --proxy-max-header-bytes");
        assertEquals("127.0.0.1:9092", s.kafka().bootstrapServers());
        assertEquals("tapline.cases", s.topics().cases());
    }

    @Test
    void aWorkerIdHoldsWhatARunIdHoldsAndARefusedOneIsShownWithCodes() {
        // before, any value was taken into the transactional and client ids and every log line naming the worker
        assertEquals("w0", parse("--worker-id", "w0").workerId());
        assertEquals("tapline-replay-7d9f8b6c5-x2x9q.pod_1", parse("--worker-id", "tapline-replay-7d9f8b6c5-x2x9q.pod_1").workerId());
        assertEquals("a".repeat(200), parse("--worker-id", "a".repeat(200)).workerId());
        for (String bad : List.of("a".repeat(201), "pod 1", "pod/1", "pod:1", "pöd")) {
            assertEquals("option --worker-id: '" + bad + "' must be 1-200 characters of A-Z a-z 0-9 . _ -", error("--worker-id", bad));
        }
        assertEquals("option --worker-id: 'w0\\u001b[2J\\n::error::x\\u202e21\\u200b' must be 1-200 characters of "
                + "A-Z a-z 0-9 . _ -", error("--worker-id", "w0\u001b[2J\n::error::x\u202e21\u200b"));
        String fromEnv = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"}, Map.of("TAPLINE_WORKER_ID", "w 0")))).getMessage();
        assertEquals("option --worker-id (set by TAPLINE_WORKER_ID): 'w 0' must be 1-200 characters of A-Z a-z 0-9 . _ -", fromEnv);
    }

    /**
     * A host the mock server or the management server cannot listen on was taken here and failed only when the
     * listener was bound: after the Kafka clients had started and the run's bounds were recorded. It is refused with
     * the options now, naming the flag and where it was set, the value shown with codes.
     */
    @Test
    void aListenHostNoListenerCanOpenOnIsRefusedWithTheOptions() {
        String notAHost = "' is not an IP address or a host name (labels of letters, digits, '-' and '_' separated by '.'";
        assertTrue(error("--mock-host", "exa mple").startsWith("option --mock-host: 'exa mple" + notAHost), error("--mock-host", "exa mple"));
        assertTrue(error("--mock-host", "host\u202e").startsWith("option --mock-host: 'host\\u202e" + notAHost),
                error("--mock-host", "host\u202e"));
        assertTrue(error("--mock-host", "::1]").startsWith("option --mock-host: '::1]' is not an IPv6 address"));
        assertTrue(error("--mock-host", "").startsWith("option --mock-host: '' is empty"));
        assertTrue(error("--mock-host", "127.0.0.1:9190").startsWith("option --mock-host: '127.0.0.1:9190' is host:port"));
        // a multicast address: no interface of any machine has it
        assertTrue(error("--management-host", "224.0.0.1").startsWith("option --management-host: '224.0.0.1' is not an "
                + "address of this machine"), error("--management-host", "224.0.0.1"));
        String fromEnv = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"}, Map.of("TAPLINE_MOCK_HOST", "exa mple"))))
                .getMessage();
        assertTrue(fromEnv.startsWith("option --mock-host (set by TAPLINE_MOCK_HOST): 'exa mple" + notAHost), fromEnv);
        // taken: addresses of this machine, and the host of a management server that is off
        assertEquals("::1", parse("--mock-host", "::1").mock().host());
        assertEquals("[::1]", parse("--mock-host", "[::1]").mock().host());
        assertEquals("127.0.0.1", parse("--management-host", "127.0.0.1").managementHost());
        assertEquals("exa mple", parse("--management-host", "exa mple", "--management-port", "-1").managementHost());
    }

    @Test
    void theDefaultWorkerIdIsOneTheFlagWouldTakeWhateverTheHostIsNamed() {
        assertTrue(parse().workerId().matches(ReplaySettings.ID_CHARACTERS), parse().workerId());
        assertTrue(parse().workerId().endsWith("-" + ProcessHandle.current().pid()), parse().workerId());
        assertEquals("replay-7f9c.tapline.svc.cluster.local-4194304",
                ReplaySettings.defaultWorkerId("replay-7f9c.tapline.svc.cluster.local", 4194304));
        assertEquals("fe80__1_eth0-12", ReplaySettings.defaultWorkerId("fe80::1%eth0", 12)); // an IPv6 address
        assertEquals("localhost-12", ReplaySettings.defaultWorkerId("", 12));
        String fqdn = String.join(".", "h".repeat(63), "h".repeat(63), "h".repeat(63), "h".repeat(61)); // 253, the most DNS has
        String longest = ReplaySettings.defaultWorkerId(fqdn, Long.MAX_VALUE);
        assertEquals(200, longest.length(), longest);
        assertTrue(longest.endsWith("-" + Long.MAX_VALUE) && longest.matches(ReplaySettings.ID_CHARACTERS), longest);
    }

    /**
     * Options naming one topic for two of the worker's topics are refused from the names alone, naming the options, the
     * topic, what it would hold, why, and the option to move. Before, each was taken: a dead-letter topic naming the
     * cases topic sent an undecodable case into the compacted topic it is read from, to be read by the next run and
     * dead-lettered again; a runs topic naming the results topic put run events among the results, under one registry
     * subject with them.
     */
    @Test
    void optionsNamingOneTopicForTwoOfTheWorkersTopicsAreRefusedNamingThemTheTopicAndWhy() {
        assertEquals("option --topic-cases, --topic-dlq: topic tapline.cases holds cases and dead letters: the worker "
                + "would read the dead letters it writes as cases, and an undecodable case, dead-lettered into the topic "
                + "it is read from, would be read by the next run and dead-lettered again, without end, and cases need "
                + "it compacted, dead letters need it not compacted (fix: give --topic-dlq a topic of its own)",
                error("--topic-dlq", "tapline.cases"));
        assertEquals("option --topic-results, --topic-runs: topic tapline.results holds results and run events: the "
                + "worker would read the run events it writes as results and the results it writes as run events, and "
                + "the Avro schemas of results and run events would share the topic's one registry subject, "
                + "tapline.results-value, whose compatibility check (BACKWARD by default) refuses the one registered "
                + "second (fix: give --topic-runs a topic of its own)", error("--topic-runs", "tapline.results"));
        assertEquals("option --topic-cases, --topic-noise: topic tapline.cases holds cases and noise profiles: the "
                + "worker would read noise profiles as cases and cases as noise profiles (fix: give --topic-noise a "
                + "topic of its own)", error("--topic-noise", "tapline.cases"));
        // where each option was set is said, and every shared topic is named in the one line
        String both = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(
                ReplayOptions.replaySpec(), new String[] {"--run", "r1", "--target", "http://candidate:8080",
                        "--topic-results", "shared", "--topic-noise", "other"},
                Map.of("TAPLINE_TOPIC_RUNS", "shared", "TAPLINE_TOPIC_DLQ", "other")))).getMessage();
        assertTrue(both.startsWith("option --topic-noise, --topic-dlq (set by TAPLINE_TOPIC_DLQ): topic other holds "
                + "noise profiles and dead letters: "), both);
        assertTrue(both.contains("; option --topic-results, --topic-runs (set by TAPLINE_TOPIC_RUNS): topic shared "
                + "holds results and run events: "), both);
        assertEquals(1, both.lines().count(), both);
    }

    /** Whichever two of the five topic options name one topic, the worker refuses it, naming both. */
    @Test
    void everyPairOfTheWorkersTopicOptionsNamingOneTopicIsRefused() {
        List<String> options = List.of("--topic-cases", "--topic-noise", "--topic-results", "--topic-runs", "--topic-dlq");
        for (int i = 0; i < options.size(); i++) {
            for (int j = i + 1; j < options.size(); j++) {
                String message = error(options.get(i), "shared", options.get(j), "shared");
                assertTrue(message.startsWith("option " + options.get(i) + ", " + options.get(j) + ": topic shared "
                        + "holds "), message);
                assertTrue(message.endsWith("(fix: give " + options.get(j) + " a topic of its own)"), message);
            }
        }
        assertEquals("option --topic-cases, --topic-noise, --topic-results, --topic-runs, --topic-dlq: topic shared "
                + "holds cases, noise profiles, results, run events and dead letters: ",
                error("--topic-cases", "shared", "--topic-noise", "shared", "--topic-results", "shared",
                        "--topic-runs", "shared", "--topic-dlq", "shared").replaceAll("(?<=dead letters: ).*", ""));
    }

    /**
     * The noise topic is read only to apply learned noise: without it, the option names no topic of the worker, and
     * sharing it with another harms nothing. The project's topics, distinct, are taken.
     */
    @Test
    void theNoiseTopicSharesWithNothingWhenLearnedNoiseIsNotApplied() {
        assertEquals("tapline.cases", parse("--compare-learned-noise", "false", "--topic-noise", "tapline.cases")
                .topics().noise());
        assertEquals("tapline.dlq", parse("--compare-learned-noise", "false", "--topic-noise", "tapline.dlq")
                .topics().noise());
        assertEquals("tapline.runs", parse().topics().runs());
    }

    @Test
    void flagsAndEnvironmentStyleListsAreParsed() {
        ReplaySettings s = parse("--mock-route", "inventory=http://inventory:8080", "--mock-route", "pricing=http://pricing",
                "--allow-live", "pricing", "--ignore", "GET /items/{id} $.ts", "--compare-array-order", "ignore",
                "--kafka.consumer.session.timeout.ms=6000", "--concurrency", "8",
                "--candidate-header", "Authorization: Bearer test");
        assertEquals(HttpUrl.parse("http://inventory:8080"), s.mock().routes().get("inventory"));
        assertTrue(s.mock().liveAllowed("PRICING"));
        assertTrue(s.ignoreRules().ignores("shop", "GET /items/{id}", "$.ts"));
        assertTrue(s.compare().ignoreArrayOrder());
        assertEquals("6000", s.kafka().consumerOverrides().get("session.timeout.ms"));
        assertEquals(8, s.concurrency());
        assertEquals(Map.of("Authorization", "Bearer test"), s.candidateHeaders());
    }

    /**
     * Each of these matched no dependency call and was taken without a word (the README called a host:port or URL
     * entry one that "matches nothing"); the hostile one was printed as given in the line listing the live hosts.
     */
    @Test
    void anAllowLiveEntryThatCanMatchNoCallIsRefusedNamingWhy() {
        String[][] bad = {
                {"api.example.com:443", "'api.example.com:443' is host:port, which matches no call"},
                {"https://api.example.com", "'https://api.example.com' is a URL, not a host"},
                {"http://ops:s3cret@api", "'http://[hidden]@api' is a URL, not a host"},
                {"*.example.com", "'*.example.com' is a pattern, which matches no host (list each host)"},
                {"::1", "'::1' is an IPv6 address without brackets, which matches no call (write it [::1], as a URL does)"},
                {"api.example.com/v1", "'api.example.com/v1' is more than a host (a path, query or fragment), which matches no call"},
                {"api example", "'api example' is not a host name (letters, digits, '-', '.', '_') or an IP address"},
                {"a;b", "'a;b' is not a host name"},
                {"api\u202e.com", "'api\\u202e.com' is not a host name"},
                {"api\u200b", "'api\\u200b' is not a host name"}};
        for (String[] c : bad) {
            String message = error("--allow-live", c[0]);
            assertTrue(message.startsWith("option --allow-live: " + c[1]) && message.endsWith("; give each host alone, as a"
                    + " dependency call's URL names it (api.example.com, 10.0.0.5, [::1]): its calls are forwarded on every port"),
                    message);
        }
        String fromEnv = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"}, Map.of("TAPLINE_ALLOW_LIVE", "pricing,pricing:8080"))))
                .getMessage();
        assertTrue(fromEnv.startsWith("option --allow-live (set by TAPLINE_ALLOW_LIVE): 'pricing:8080' is host:port"), fromEnv);
        ReplaySettings s = parse("--allow-live", "pricing", "--allow-live", "api.example.com.", "--allow-live", "[::1]",
                "--allow-live", "10.0.0.5", "--allow-live", "inventory_svc");
        for (String host : List.of("pricing", "api.example.com.", "[::1]", "10.0.0.5", "inventory_svc")) {
            assertTrue(s.mock().liveAllowed(host), host);
        }
    }

    @Test
    void aMockRouteIsReadAsTheSidecarsEgressIsItsNameAndQueryIncluded() {
        // a name the sidecar refuses matched no recorded call and was printed as given in the mock's start line; a query
        // was dropped without a word
        assertTrue(error("--mock-route", "inv entory=http://inventory:8080").contains("route name 'inv entory' may use letters,"
                + " digits, '.', '_' and '-' only"), error("--mock-route", "inv entory=http://inventory:8080"));
        assertTrue(error("--mock-route", "inv\u202e=http://inventory:8080").contains("route name 'inv\\u202e'"),
                error("--mock-route", "inv\u202e=http://inventory:8080"));
        assertTrue(error("--mock-route", "inventory=http://inventory:8080/api?v=2").startsWith("option --mock-route: mock route"
                + " 'inventory=http://inventory:8080/api?v=2': url has a query"), error("--mock-route", "inventory=http://inventory:8080/api?v=2"));
        ReplaySettings s = parse("--mock-route", "inventory.v2_b-1=http://inventory_svc:8080/api/");
        assertEquals("/api", s.mock().routes().get("inventory.v2_b-1").basePath());
    }

    @Test
    void anUnmatchedStatusThatIsNotAFinalAnswerIsRefused() {
        // A 1xx is an interim answer: the candidate's client would read it and wait for a final one that never comes
        // (a 100 or 103), or take its connection as switched to another protocol (a 101).
        for (String interim : List.of("100", "101", "103", "199")) {
            String e = error("--mock-unmatched-status", interim);
            assertTrue(e.startsWith("option --mock-unmatched-status: unmatched status must be a final HTTP"
                    + " status 200..599, got " + interim), e);
        }
        assertEquals(200, parse("--mock-unmatched-status", "200").mock().unmatchedStatus());
        assertEquals(599, parse("--mock-unmatched-status", "599").mock().unmatchedStatus());
    }

    @Test
    void aCandidateHeaderOrARegexKeepsItsCommas() {
        ReplaySettings s = parse("--candidate-header", "Accept: a, b", "--candidate-header", "X-Sig: a=1, b=2",
                "--redaction-regex", "zip=\\d{5,9}");
        assertEquals(Map.of("Accept", "a, b", "X-Sig", "a=1, b=2"), s.candidateHeaders());
        assertEquals("\"zip " + RedactionKey.of("sidecar-key-0123456789").token("123456") + "\"", published(
                parse("--redaction-key", "sidecar-key-0123456789", "--redaction-regex", "zip=\\d{5,9}",
                        "--redaction-emails", "false"), "$.note", "\"zip 123456\"").getActual());
        ReplaySettings fromEnv = ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"},
                Map.of("TAPLINE_CANDIDATE_HEADER", "Accept: a\\, b,X-Id: 7")));
        assertEquals(Map.of("Accept", "a, b", "X-Id", "7"), fromEnv.candidateHeaders());
    }

    @Test
    void aCandidateHeaderFlagHoldingSeveralHeadersIsRefusedNotSentAsOne() {
        // Once comma-separated in one flag, as the help said: read whole, it would be one header X-A with the value
        // '1,X-B: 2', and X-B never sent, without a word. The error names the headers, never their values.
        String several = error("--candidate-header", "X-A: secret-1,X-B: secret-2");
        assertTrue(several.startsWith("option --candidate-header: holds 2 headers separated by commas (X-A, X-B)"), several);
        assertFalse(several.contains("secret"), several);
        // a comma that belongs to a value is written \, in a flag too, and sent as a comma
        assertEquals(Map.of("X-Forwarded-For", "10.0.0.1, fe80::1"),
                parse("--candidate-header", "X-Forwarded-For: 10.0.0.1\\, fe80::1").candidateHeaders());
        assertEquals(Map.of("Accept", "text/html, application/json;q=0.9"),
                parse("--candidate-header", "Accept: text/html, application/json;q=0.9").candidateHeaders());
    }

    @Test
    void aCandidateHeaderFlagPairsBackslashesBeforeACommaAsTheVariableDoes() {
        // Two backslashes before a comma: in the variable a backslash ending a header, then the next header. As a flag
        // it was one header whose value held the next one (X-B never sent); now it is refused, as in the variable.
        String twoBackslashes = "X-Path: C:\\\\,X-B: secret-2";
        assertEquals(Map.of("X-Path", "C:\\", "X-B", "secret-2"), fromEnvironment(twoBackslashes));
        String refused = error("--candidate-header", twoBackslashes);
        assertTrue(refused.startsWith("option --candidate-header: holds 2 headers separated by commas (X-Path, X-B)"), refused);
        assertFalse(refused.contains("secret"), refused);
        // Three: a backslash and a comma within one header, in the variable and as a flag alike (was two backslashes).
        String threeBackslashes = "X-Path: C:\\\\\\,X-B: 2";
        assertEquals(Map.of("X-Path", "C:\\,X-B: 2"), fromEnvironment(threeBackslashes));
        assertEquals(fromEnvironment(threeBackslashes), parse("--candidate-header", threeBackslashes).candidateHeaders());
        // One: a comma; backslashes not before a comma are kept.
        String one = "X-Path: a\\\\b\\,c";
        assertEquals(Map.of("X-Path", "a\\\\b,c"), fromEnvironment(one));
        assertEquals(fromEnvironment(one), parse("--candidate-header", one).candidateHeaders());
        // A flag is one header, commas included: two backslashes before a comma not followed by a Name: are a backslash
        // and a comma of its value.
        assertEquals(Map.of("X-Path", "C:\\, D"), parse("--candidate-header", "X-Path: C:\\\\, D").candidateHeaders());
    }

    private static Map<String, String> fromEnvironment(String value) {
        return ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"},
                Map.of("TAPLINE_CANDIDATE_HEADER", value))).candidateHeaders();
    }

    @Test
    void theRegistryOptionsAreTheOtherComponentsOnesTruststoreIncluded(@org.junit.jupiter.api.io.TempDir
                                                                         java.nio.file.Path dir) throws Exception {
        // a truststore that loads: one that does not is refused at start (ReplayMainTest)
        String store = dir.resolve("registry.p12").toString();
        java.security.KeyStore empty = java.security.KeyStore.getInstance("PKCS12");
        empty.load(null, null);
        try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(java.nio.file.Path.of(store))) {
            empty.store(out, "changeit".toCharArray());
        }
        ReplaySettings fromEnv = ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"},
                Map.of("TAPLINE_SCHEMA_REGISTRY_URL", "https://registry:8081",
                        "TAPLINE_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "u:p",
                        "TAPLINE_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION", store,
                        "TAPLINE_SCHEMA_REGISTRY_SSL_TRUSTSTORE_PASSWORD", "changeit")));
        assertEquals(Map.of(RegistryConfig.URL, "https://registry:8081", RegistryConfig.BASIC_AUTH_USER_INFO, "u:p",
                RegistryConfig.TRUSTSTORE_LOCATION, store,
                RegistryConfig.TRUSTSTORE_PASSWORD, "changeit"), fromEnv.kafka().registry());
    }

    @Test
    void mockIgnoreRulesFromFlagsAndTheEnvironmentReachTheMatcher() {
        OutboundCall charge = Fixtures.call("payments", "POST", "/v1/charges", "idempotency_key=prod", null, Fixtures.json(201, "{}"));
        MockRequest fresh = new MockRequest("POST", "payments", "/v1/charges", "idempotency_key=replay", null, null);
        assertFalse(parse().matcher().accepts(parse().matcher().score(fresh, charge)));
        assertEquals(1.0, parse("--mock-ignore", "payments query:idempotency_key").matcher().score(fresh, charge));
        ReplaySettings fromEnv = ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"},
                Map.of("TAPLINE_MOCK_IGNORE", "inventory path:/stock/{*},payments query:idempotency_key")));
        assertEquals(1.0, fromEnv.matcher().score(fresh, charge));
    }

    @Test
    void badValuesNameTheirFlag() {
        assertTrue(error("--concurrency", "0").contains("--concurrency"));
        assertTrue(error("--ignore", "$.ts").contains("--ignore"));
        assertTrue(error("--mock-route", "inventory=ftp://x").contains("--mock-route"));
        assertTrue(error("--mock-min-score", "1.5").contains("--mock-min-score"));
        assertTrue(error("--rate", "-1").contains("--rate"));
        assertTrue(error("--fail-on", "often").contains("--fail-on"));
        assertTrue(error("--propagation", "maybe").contains("--propagation"));
        assertTrue(error("--candidate-header", "no-separator").contains("--candidate-header"));
        // a route dedup-stream's --dedup-route-templates would refuse as a template: taken, and it ignored nothing
        assertEquals("option --ignore: ignore rule 'GET /b/{y $.x': route template '/b/{y' has an unbalanced brace in "
                + "segment '{y': a placeholder is a whole segment, {name}", error("--ignore", "GET /b/{y $.x"));
        String ignoreFromEnv = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(
                ReplayOptions.replaySpec(), new String[] {"--run", "r1", "--target", "http://candidate:8080"},
                Map.of("TAPLINE_IGNORE", "* header:x-build,GET /files/* $.x")))).getMessage();
        assertTrue(ignoreFromEnv.startsWith("option --ignore (set by TAPLINE_IGNORE): ignore rule 'GET /files/* $.x': "
                + "route template '/files/*' has segment '*' holding '*'"), ignoreFromEnv);
        String mockIgnore = error("--mock-ignore", "payments idempotency_key");
        assertTrue(mockIgnore.startsWith("option --mock-ignore: mock ignore rule 'payments idempotency_key'"), mockIgnore);
        assertTrue(mockIgnore.endsWith(MockIgnoreRules.EXPECTED), mockIgnore);
        // NaN passes a "< 0" check: a NaN rate never starts a case, a NaN minimum score matches nothing.
        assertTrue(error("--rate", "NaN").contains("--rate"));
        assertTrue(error("--mock-min-score", "NaN").contains("--mock-min-score"));
        assertTrue(error("--compare-numeric-tolerance", "NaN").contains("--compare-numeric-tolerance"));
        assertTrue(error("--progress-interval", "0s").contains("--progress-interval"));
        assertTrue(error("--request-timeout", "0s").contains("--request-timeout"));
        String key = error("--redaction-key", "too-short");
        assertTrue(key.startsWith("option --redaction-key: redaction key must be at least 16 bytes"), key);
        String fromEnv = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"}, Map.of("TAPLINE_REDACTION_KEY", "too-short"))))
                .getMessage();
        assertTrue(fromEnv.startsWith("option --redaction-key (set by TAPLINE_REDACTION_KEY): redaction key must be"), fromEnv);
        assertFalse(key.contains("too-short"), "a secret is never echoed: " + key);
    }

    @Test
    void aValueOutOfRangeSetByTheEnvironmentOrTheFileSaysWhereItCameFrom(@TempDir Path dir) throws Exception {
        // a flag on the line leads the user to it; a variable of a CI job or a key of the file does not
        String[] line = {"--run", "r1", "--target", "http://candidate:8080"};
        Map<String, String> variables = Map.of("TAPLINE_WORKERS", "0", "TAPLINE_RATE", "-1", "TAPLINE_REQUEST_TIMEOUT", "0",
                "TAPLINE_MOCK_PORT", "70000", "TAPLINE_COMPARE_NUMERIC_TOLERANCE", "-1", "TAPLINE_IGNORE", "$.ts",
                "TAPLINE_MOCK_IGNORE", "payments idempotency_key", "TAPLINE_MOCK_MIN_SCORE", "2",
                "TAPLINE_CANDIDATE_HEADER", "no-separator");
        variables = new java.util.HashMap<>(variables);
        variables.put("TAPLINE_MOCK_ROUTE", "inventory=ftp://inventory");
        variables.put("TAPLINE_MOCK_UNMATCHED_STATUS", "700");
        variables.put("TAPLINE_MOCK_MAX_HEADER_BYTES", "0");
        for (Map.Entry<String, String> variable : variables.entrySet()) {
            String e = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(
                    ReplayOptions.replaySpec(), line, Map.of(variable.getKey(), variable.getValue())))).getMessage();
            assertTrue(e.contains("(set by " + variable.getKey() + "): "), e);
        }
        String run = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--target", "http://candidate:8080"}, Map.of("TAPLINE_RUN", "run 7")))).getMessage();
        assertEquals("option --run (set by TAPLINE_RUN): 'run 7' must be 1-200 characters of A-Z a-z 0-9 . _ -", run);
        Path file = Files.writeString(dir.resolve("replay.properties"), "workers=0\n");
        String fromFile = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(
                ReplayOptions.replaySpec(), new String[] {"--run", "r1", "--target", "http://candidate:8080", "--config",
                        file.toString()}, Map.of()))).getMessage();
        assertEquals("option --workers (set in " + file + "): '0' is not a whole number >= 1", fromFile);
        assertEquals("option --workers: '0' is not a whole number >= 1", error("--workers", "0"));
        // the value as written, not as a double reads it ('-1.0', 'Infinity')
        assertEquals("option --rate: '-1' is not a number >= 0 (0 = unlimited)", error("--rate", "-1"));
        assertEquals("option --rate: '1e999' is not a number >= 0 (0 = unlimited)", error("--rate", "1e999"));
        assertEquals("option --compare-numeric-tolerance: '-0.5' is not a number >= 0", error("--compare-numeric-tolerance", "-0.5"));
        assertEquals("option --mock-max-header-bytes: '0' is not a whole number >= 1", error("--mock-max-header-bytes", "0"));
    }

    @Test
    void theMocksHeadLimitIsSetByItsFlagItsVariableOrTheFile(@TempDir Path dir) throws Exception {
        // given the sidecar's --proxy-max-header-bytes, as the other mock options are given the sidecar's settings
        assertEquals(32768, parse("--mock-max-header-bytes", "32768").mock().maxHeaderBytes());
        assertEquals(65536, ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"},
                Map.of("TAPLINE_MOCK_MAX_HEADER_BYTES", "65536"))).mock().maxHeaderBytes());
        Path file = Files.writeString(dir.resolve("replay.properties"), "mock.max.header.bytes=8192\n");
        assertEquals(8192, ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(), new String[] {"--run", "r1",
                "--target", "http://candidate:8080", "--config", file.toString()}, Map.of())).mock().maxHeaderBytes());
    }

    @Test
    void aTargetOrProductionListSetByTheEnvironmentSaysWhereItCameFrom() {
        // the replay Job's manifest sets both as variables (deploy/k8s)
        String target = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1"}, Map.of("TAPLINE_TARGET", "candidate:8080/x?y=1")))).getMessage();
        assertTrue(target.startsWith("option --target (set by TAPLINE_TARGET): "), target);
        String listed = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1"}, Map.of("TAPLINE_TARGET", "http://shop.prod:8080",
                        "TAPLINE_REPLAY_PRODUCTION_TARGETS", "shop.prod")))).getMessage();
        assertEquals("option --target (set by TAPLINE_TARGET): host shop.prod is listed in --replay-production-targets"
                + " (set by TAPLINE_REPLAY_PRODUCTION_TARGETS) as production; replay refuses it", listed);
        String entry = assertThrows(ConfigException.class, () -> ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"},
                Map.of("TAPLINE_REPLAY_PRODUCTION_TARGETS", "10.0.0.0/8")))).getMessage();
        assertTrue(entry.startsWith("option --replay-production-targets (set by TAPLINE_REPLAY_PRODUCTION_TARGETS): '10.0.0.0/8'"),
                entry);
    }

    @Test
    void aBadGateSetByTheEnvironmentSaysWhereItCameFrom() {
        // TAPLINE_FAIL_ON is how the README's CI job gives both steps one gate
        for (var spec : List.of(ReplayOptions.replaySpec(), ReplayOptions.reportSpec())) {
            TaplineConfig config = TaplineConfig.load(spec, new String[] {"--run", "r1"},
                    Map.of("TAPLINE_FAIL_ON", "share:1%"));
            String e = assertThrows(ConfigException.class, () -> ReplayCommand.failOn(config)).getMessage();
            assertEquals("option --fail-on (set by TAPLINE_FAIL_ON): 'share:1%' is not one of " + FailOn.ALLOWED, e);
        }
        assertEquals("option --fail-on: 'often' is not one of " + FailOn.ALLOWED, error("--fail-on", "often"));
    }

    @Test
    void theSidecarsRedactionKeyComesFromAFlagOrTheEnvironment() {
        assertFalse(parse().compare().redacted().hasKey(), "without a key redacted values are not judged");
        assertTrue(parse("--redaction-key", "sidecar-key-0123456789").compare().redacted().hasKey());
        ReplaySettings fromEnv = ReplaySettings.from(TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[] {"--run", "r1", "--target", "http://candidate:8080"},
                Map.of("TAPLINE_REDACTION_KEY", "sidecar-key-0123456789")));
        assertTrue(fromEnv.compare().redacted().hasKey());
    }

    @Test
    void theSidecarsRedactionRulesAndKeyRedactWhatResultsPublish() {
        RedactionKey key = RedactionKey.of("sidecar-key-0123456789");
        ReplaySettings s = parse("--redaction-key", "sidecar-key-0123456789", "--redaction-regex", "ssn=\\d{3}-\\d{2}-\\d{4}",
                "--redaction-fields", "nickname", "--redaction-emails", "false");
        Difference ssn = published(s, "$.note", "\"ssn 123-45-6789, ann@example.com\"");
        assertEquals("\"ssn " + key.token("123-45-6789") + ", ann@example.com\"", ssn.getActual(), "emails off, as configured");
        assertEquals("\"" + key.token("Bo") + "\"", published(s, "$.nickname", "\"Bo\"").getActual());
        // without a key: a random one, so the same value gets a token no capture has
        String unkeyed = published(parse(), "$.email", "\"ann@example.com\"").getActual();
        assertTrue(unkeyed.matches("\"tapline:hmac:[0-9a-f]{16}\""), unkeyed);
        assertFalse(unkeyed.contains(key.token("ann@example.com")), unkeyed);
        String regex = error("--redaction-regex", "ssn=(");
        assertTrue(regex.startsWith("option --redaction-regex: 'ssn=(' has an invalid regex"), regex);
        assertTrue(error("--redaction-regex", "no-name").contains("is not NAME=REGEX"));
    }

    @Test
    void portsOutOfRangeAreRefusedNamingTheFlagBeforeAnythingConnects() {
        // these used to pass parsing and fail only after Kafka was read, in the mock or management server
        for (String[] bad : new String[][] {{"--mock-port", "-5", "0-65535"}, {"--mock-port", "70000", "0-65535"},
                {"--management-port", "-5", "-1-65535 (-1 disables it)"}, {"--management-port", "70000", "-1-65535"}}) {
            String message = error(bad[0], bad[1]);
            assertTrue(message.contains(bad[0]) && message.contains("'" + bad[1] + "'") && message.contains(bad[2]), message);
        }
        assertEquals(-1, parse("--management-port", "-1").managementPort());
        assertEquals(0, parse("--mock-port", "0").mock().port());
    }

    private static Difference published(ReplaySettings s, String path, String actual) {
        return s.published().differences(List.of(Difference.newBuilder().setPath(path).setKind(DifferenceKind.EXTRA)
                .setExpected(null).setActual(actual).build())).get(0);
    }
}
