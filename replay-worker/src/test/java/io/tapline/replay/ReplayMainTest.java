package io.tapline.replay;

import io.tapline.config.ConfigException;
import io.tapline.config.LogOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.logging.TaplineLoggerProvider;
import io.tapline.replay.run.MetadataTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplayMainTest {

    @Test
    void unknownSubcommandIsAUsageError() {
        assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"rewind"}));
    }

    @Test
    void helpWithoutASubcommandIsNoError() {
        // it used to be the usage error (exit 2, on standard error) that a missing subcommand is
        java.io.PrintStream before = System.out;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_OK, ReplayMain.run(new String[]{"--help"})));
            assertEquals("", err);
        } finally {
            System.setOut(before);
        }
        assertTrue(out.toString(java.nio.charset.StandardCharsets.UTF_8).startsWith("usage: replay-worker.jar replay"), out.toString());
        assertEquals(ReplayCommand.EXIT_OK, ReplayMain.run(new String[]{"-h"}));
        assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[0]));
    }

    @Test
    void anErrorOfTheJvmIsARunThatDidNotCompleteNotTheGatesVerdict() {
        // an Error leaving main (an OutOfMemoryError, a StackOverflowError) made the JVM exit 1, which CI reads as
        // regressions found by the gate; a StackOverflowError here, as an OutOfMemoryError would stop the test's JVM
        java.io.PrintStream before = System.out;
        System.setOut(new java.io.PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                throw new StackOverflowError("as deep as it goes");
            }
        }, true));
        try {
            for (String command : List.of("replay", "report")) {
                String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_INCOMPLETE,
                        ReplayMain.run(new String[]{command, "--help"})));
                assertEquals("tapline " + command + ": java.lang.StackOverflowError: as deep as it goes", err.strip());
            }
        } finally {
            System.setOut(before);
        }
    }

    @Test
    void aRegistryTruststoreThatCannotBeLoadedIsAUsageErrorNamingTheFlag() {
        // it ended as an error of the run (exit 3, "incomplete") when the registry client was made
        String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"replay", "--run",
                "r1", "--target", "http://candidate:8080", "--schema-registry-ssl-truststore-location",
                "/nonexistent/truststore.p12"})));
        assertTrue(err.contains("option --schema-registry-ssl-truststore-location: cannot load registry truststore "
                + "/nonexistent/truststore.p12"), err);
    }

    @Test
    void unknownFlagIsAUsageError() {
        // without --target the run is a usage error whatever else it holds: the message tells the two apart
        String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE,
                ReplayMain.run(new String[]{"replay", "--run", "r1", "--bogus", "1"})));
        assertTrue(err.contains("unknown option --bogus"), err);
    }

    @Test
    void helpAfterABadFlagIsStillHelp() {
        assertEquals(ReplayCommand.EXIT_OK, ReplayMain.run(new String[]{"replay", "--bogus", "--help"}));
        assertEquals(ReplayCommand.EXIT_OK, ReplayMain.run(new String[]{"report", "--format", "pdf", "-h"}));
    }

    @Test
    void missingTargetIsRefusedNeverDefaulted() {
        assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"replay", "--run", "r1"}));
        ConfigException e = assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget("", List.of()));
        assertTrue(e.getMessage().contains("--target"));
    }

    @Test
    void aTargetWhoseIpLiteralIsNoIpv6AddressIsRefusedAtStart() {
        // any mix of hex digits, ':' and '.' in brackets was taken, and every request to the candidate failed
        ConfigException e = assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget("http://[1::2::3]:8080", List.of()));
        assertEquals("option --target: 'http://[1::2::3]:8080' is not an http:// or https:// URL with a host, like"
                + " http://candidate:8080: invalid host '[1::2::3]': not an IPv6 address", e.getMessage());
        assertEquals("[::ffff:10.0.0.1]", ReplayCommand.checkTarget("http://[::ffff:10.0.0.1]:8080", List.of()).host());
    }

    @Test
    void productionTargetIsRefused() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ReplayCommand.checkTarget("http://Shop.Prod.internal:8080", List.of("shop.prod.internal")));
        assertTrue(e.getMessage().contains("production"));
        assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"replay", "--run", "r1", "--target",
                "http://shop.prod.internal", "--replay-production-targets", "shop.prod.internal"}));
    }

    @Test
    void productionTargetsMatchWhateverFormTheEntryOrTargetTakes() {
        List<String> listed = List.of("prod.example.com:8080", "https://billing.example.com", "[::1]");
        for (String target : List.of("http://prod.example.com:9090", "http://PROD.example.com.:8080/x",
                "http://billing.example.com", "https://billing.example.com:8443", "http://[::1]:8080")) {
            assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget(target, listed), target);
        }
        assertEquals("http://staging.example.com", ReplayCommand.checkTarget("http://staging.example.com", listed).toString());
        ConfigException bad = assertThrows(ConfigException.class,
                () -> ReplayCommand.checkTarget("http://staging.example.com", List.of("http://")));
        assertTrue(bad.getMessage().contains("--replay-production-targets"), bad.getMessage());
    }

    @Test
    void aProductionAddressIsRefusedHoweverTheTargetWritesIt() {
        // Each of these reaches the listed address: Netty reads leading zeros as decimal and connects to an IPv6
        // literal in any notation, an IPv4-mapped one over IPv4; inet_aton also reads 127.1, 0x7f.0.0.1, 2130706433.
        List<String> listed = List.of("127.0.0.1", "[::1]", "http://[2001:db8::5]:8443", "10.0.0.5");
        for (String target : List.of("http://127.000.000.001:8080", "http://127.0.0.01", "http://[::ffff:127.0.0.1]",
                "http://[::FFFF:7f00:1]:9090", "http://[0:0:0:0:0:ffff:127.0.0.1]", "http://[::127.0.0.1]",
                "http://[0:0:0:0:0:0:0:1]", "http://[0000::1]", "http://127.1", "http://0x7f.0.0.1", "http://2130706433",
                "http://0177.0.0.1", "http://[2001:DB8:0:0::5]", "http://[2001:0db8::0005]:80", "http://[::ffff:10.0.0.5]",
                "http://10.0.5", "http://10.5", "http://012.0.0.5", "http://0xa000005")) {
            ConfigException e = assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget(target, listed), target);
            assertTrue(e.getMessage().contains("production"), e.getMessage());
        }
        // an entry written in another form refuses the address too; a leading zero may be octal (inet_aton) or not
        for (String target : List.of("http://127.0.0.1", "http://177.0.0.1")) {
            assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget(target, List.of("0177.0.0.1")), target);
        }
        assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget("http://[::1]", List.of("0:0:0:0:0:0:0:1")));
        for (String target : List.of("http://127.0.0.2", "http://[::2]", "http://10.0.0.50", "http://[2001:db8::6]",
                "http://1270.0.0.1", "http://127.0.0.1.example.com", "http://0x7g.0.0.1")) {
            assertEquals(target, ReplayCommand.checkTarget(target, listed).toString());
        }
    }

    @Test
    void aProductionEntryThatIsARangeOrAPatternIsAnErrorNotTheHostItStartsWith() {
        // read as a host, 10.0.0.0/8 would refuse 10.0.0.0 alone and *.prod.example.com no host at all
        for (String[] entry : new String[][] {{"10.0.0.0/8", "http://10.1.2.3"}, {"*.prod.example.com", "http://shop.prod.example.com"},
                {"https://*.prod.example.com", "http://shop.prod.example.com"}, {"prod.example.com/shop", "http://staging.example.com"},
                {"[2001:db8::]/32", "http://[2001:db8::5]"}}) {
            ConfigException e = assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget(entry[1], List.of(entry[0])),
                    entry[0]);
            assertTrue(e.getMessage().contains("--replay-production-targets") && e.getMessage().contains("is not a host"),
                    e.getMessage());
        }
        // a URL keeps its path and query (they do not matter): the host is refused on every port and path
        assertThrows(ConfigException.class,
                () -> ReplayCommand.checkTarget("http://prod.example.com/v2", List.of("https://prod.example.com/shop?x=1")));
    }

    @Test
    void nonHttpTargetIsRefused() {
        assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget("ftp://x", List.of()));
        for (String[] bad : new String[][] {{"http://user:pw@candidate", "user info"}, {"http://candidate:0", "port '0'"},
                {"http://candidate/?debug=1", "has a query"}}) {
            String message = assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget(bad[0], List.of())).getMessage();
            assertTrue(message.contains("--target") && message.contains(bad[1]), message);
        }
        // a URL refused for its credentials is not quoted with them (the message goes to a console or a CI log)
        for (String message : new String[] {
                assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget("http://ci:s3cret@candidate", List.of())).getMessage(),
                assertThrows(ConfigException.class, () -> ReplayCommand.productionHost("http://ops:s3cret@shop/x y", "")).getMessage(),
                assertThrows(IllegalArgumentException.class,
                        () -> io.tapline.replay.mock.MockServerOptions.parseRoutes(List.of("inv=http://ops:s3cret@inventory"))).getMessage()}) {
            assertFalse(message.contains("s3cret"), message);
            assertTrue(message.contains("[hidden]@"), message);
        }
    }

    /**
     * The URL parser refused a space and the C0 controls only: a bidirectional control, an invisible character, a C1
     * control or any other character outside printable ASCII in the path, a fragment, a broken percent-escape and a
     * host no resolver looks up were taken, and the target reached every progress line, the run's record and every
     * report as it was.
     */
    @Test
    void aTargetThatCannotBeACandidateUrlIsRefusedAndShownWithCodes() {
        String[][] bad = {
                {"http://candidate:8080/\u202eipa", "character U+202E at index 22 is not printable ASCII (percent-encoded as UTF-8, it is %E2%80%AE)"},
                {"http://candidate:8080/api\u200b", "character U+200B at index 25"},
                {"http://candidate:8080/\ufeffapi", "character U+FEFF at index 22"},
                {"http://candidate:8080/a\u0085", "character U+0085 at index 23"},
                {"http://candidate:8080/caf\u00e9", "character U+00E9 at index 25 is not printable ASCII (percent-encoded as UTF-8, it is %C3%A9)"},
                {"http://candidate:8080/#top", "has a fragment ('#top'), which never reaches a server"},
                {"http://candidate:8080/api#", "has a fragment ('#')"},
                {"http://candidate:8080/a%zz", "'%zz' in the path is not a percent-escape"},
                {"http://candidate:8080/a%2", "'%2' in the path is not a percent-escape"},
                {"http://cand,idate:8080", "host 'cand,idate' is not a host name"},
                {"http://cand!date:8080", "host 'cand!date' is not a host name"},
                {"http://candidate:8080/a b", "a space or control character at index 23"},
                {"http://cand idate:8080", "a space or control character at index 11"},
                {"http://user:pass@candidate:8080", "user info"},
                {"ftp://candidate", "is not an http:// or https:// URL"},
                {"http://candidate:8080/?x=1", "has a query"},
                // a password written with an unencoded '/': host "ci", port 1234, "/5678@candidate" taken for a path
                {"http://ci:1234/5678@candidate", "'http://[hidden]@candidate' has an '@' in its path"}};
        for (String[] c : bad) {
            String target = c[0];
            String message = assertThrows(ConfigException.class, () -> ReplayCommand.checkTarget(target, List.of()), c[0])
                    .getMessage();
            assertTrue(message.startsWith("option --target: '") && message.contains(c[1]), message);
            assertNothingRaw(message);
            assertFalse(message.contains("pass@") || message.contains("5678"), message);
        }
        String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"replay", "--run", "r1",
                "--target", "http://candidate:8080/\u202e21\u200b"})));
        assertEquals("tapline replay: option --target: 'http://candidate:8080/\\u202e21\\u200b' is not a candidate URL: character"
                + " U+202E at index 22 is not printable ASCII (percent-encoded as UTF-8, it is %E2%80%AE); give scheme, host, port"
                + " and an optional base path, like http://candidate:8080 or http://[::1]:8080/api", err.strip());
    }

    /**
     * A registry URL no API path can follow is a usage error of replay and report alike, at start, before Kafka is
     * reached (none answers at 127.0.0.1:1). Before, a right-to-left override in it was taken: the command went on to
     * Kafka and exited 3 once --kafka-timeout had passed, and a fragment sent every registry call to the base path.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aRegistryUrlNoApiPathCanFollowIsAUsageErrorBeforeKafkaIsReached() {
        String[][] bad = {
                {"http://svc:s3cret@127.0.0.1:1/apis/\u202eccompat/v7", "'http://127.0.0.1:1/apis/\\u202eccompat/v7' is not a"
                        + " registry URL: character U+202E at index 24 is not printable ASCII (percent-encoded as UTF-8, it is %E2%80%AE)"},
                {"http://127.0.0.1:1/apis/ccompat/v7#top", "'http://127.0.0.1:1/apis/ccompat/v7#top' has a fragment ('#top'),"
                        + " which never reaches a server"}};
        for (String[] c : bad) {
            for (List<String> command : List.of(List.of("replay", "--run", "r1", "--target", "http://candidate:8080",
                    "--management-port", "-1"), List.of("report", "--run", "r1"))) {
                List<String> args = new java.util.ArrayList<>(command);
                args.addAll(List.of("--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-timeout", "2s",
                        "--schema-registry-url", c[0]));
                long start = System.nanoTime();
                String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(args.toArray(String[]::new)),
                        String.join(" ", args)));
                assertEquals("tapline " + command.get(0) + ": option --schema-registry-url: " + c[1] + "; give scheme, host,"
                        + " port and the registry API's base path, like http://registry:8081/apis/ccompat/v7", err.strip());
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2), "refused before Kafka was asked: " + err);
            }
        }
    }

    @Test
    void everyLegitimateTargetIsStillTaken() {
        for (String target : List.of("http://candidate:8080", "http://[::1]:8080", "http://[2001:db8::5]/base/",
                "https://candidate.staging.example.com:8443/api", "http://candidate_svc:8080", "http://10.0.0.5",
                "http://candidate:8080/a%20b/%E2%82%AC", "HTTP://Candidate.:8080/v1;v=2/~me", "http://candidate:8080/")) {
            assertEquals(target, ReplayCommand.checkTarget(target, List.of()).toString(), target);
        }
    }

    @Test
    void aDockerComposeNameIsATargetAndAProductionHostLikeAnyOther() {
        assertEquals("candidate_svc", ReplayCommand.checkTarget("http://candidate_svc:8080", List.of()).host());
        ConfigException e = assertThrows(ConfigException.class,
                () -> ReplayCommand.checkTarget("http://shop_web:8080", List.of("shop_web")));
        assertTrue(e.getMessage().contains("production"), e.getMessage());
    }

    @Test
    void badReportFormatIsAUsageError() {
        assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"report", "--run", "r1", "--format", "pdf"}));
    }

    @Test
    void aNegativeKafkaTimeoutOfReportIsAUsageError() {
        // it used to reach the Kafka consumer and exit 3 with its IllegalArgumentException, not naming the flag
        assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"report", "--run", "r1", "--kafka-timeout", "-1s",
                "--kafka-bootstrap-servers", "127.0.0.1:1", "--schema-registry-url", "http://127.0.0.1:1"}));
    }

    @Test
    void valuesThatFailedOnlyOnceKafkaWasReachedAreUsageErrorsAtStart(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        // each passed the checks at start: the run then failed once Kafka was reached (exit 3), or the report only
        // after every result was read (--out in a directory that does not exist)
        String[] kafka = {"--kafka-bootstrap-servers", "127.0.0.1:1", "--schema-registry-url", "http://127.0.0.1:1",
                "--kafka-timeout", "2s"};
        String[][] report = {
            {"--out", dir.resolve("missing/report.xml").toString()},
            {"--out", dir.toString()},
            {"--topic-results", ""},
            {"--topic-runs", "runs topic"},
        };
        String[][] replay = {
            {"--topic-cases", ""},
            {"--topic-noise", ".."},
            {"--request-timeout", "99999999999d"},
            {"--progress-interval", "9999999999999d"},
        };
        for (String[][] cases : new String[][][] {report, replay}) {
            List<String> command = cases == report ? List.of("report", "--run", "r1")
                    : List.of("replay", "--run", "r1", "--target", "http://candidate:8080");
            for (String[] bad : cases) {
                List<String> args = new java.util.ArrayList<>(command);
                args.addAll(List.of(kafka));
                args.addAll(List.of(bad));
                String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(args.toArray(String[]::new)),
                        String.join(" ", bad)));
                assertTrue(err.contains("option " + bad[0] + ":"), err);
            }
        }
    }

    /**
     * An empty {@code --out} (a CI script's {@code --out "$JUNIT"} with the variable unset) is a usage error naming the
     * option and where it was set, at start. Before, it was no {@code --out}: the report went to standard output, into
     * the job's log, and no file was left for the CI system to read.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void anEmptyOutIsAUsageErrorNamingTheOption(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("report.properties"), "out=\n");
        String[] kafka = {"--kafka-bootstrap-servers", "127.0.0.1:1", "--schema-registry-url", "http://127.0.0.1:1",
                "--kafka-timeout", "2s"};
        String[][] empty = {{"--out", ""}, {"--out="}, {"--out", " "}, {"--config", file.toString()}};
        for (String[] bad : empty) {
            List<String> args = new java.util.ArrayList<>(List.of("report", "--run", "r1"));
            args.addAll(List.of(kafka));
            args.addAll(List.of(bad));
            String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(args.toArray(String[]::new)),
                    String.join(" ", bad)));
            String origin = bad[0].equals("--config") ? " (set in " + file + ")" : "";
            assertEquals("tapline report: option --out" + origin + ": the value is empty; give the report's file name, or"
                    + " leave the option out to write the report to standard output\n", err.replace(System.lineSeparator(), "\n"));
        }
        TaplineConfig fromVariable = TaplineConfig.load(ReplayOptions.reportSpec(), new String[]{"--run", "r1"},
                Map.of("TAPLINE_OUT", ""));
        ConfigException e = assertThrows(ConfigException.class, () -> ReportCommand.outFile(fromVariable));
        assertTrue(e.getMessage().startsWith("option --out (set by TAPLINE_OUT): the value is empty"), e.getMessage());
        // without the option, standard output
        assertEquals(null, ReportCommand.outFile(TaplineConfig.load(ReplayOptions.reportSpec(), new String[]{"--run", "r1"},
                Map.of())));
    }

    /**
     * A {@code --mock-host} or {@code --management-host} no listener can open on passed the checks at start: the worker
     * reached Kafka first (here, a broker that is not there: exit 3 once --kafka-timeout had passed; with one, the
     * run's bounds were recorded) and failed only when it bound the listener. It is a usage error at start now.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aListenHostNoListenerCanOpenOnIsAUsageErrorBeforeKafkaIsReached() {
        String[][] bad = {
                {"--mock-host", "exa mple", "'exa mple' is not an IP address or a host name"},
                {"--mock-host", "::1]", "'::1]' is not an IPv6 address"},
                {"--mock-host", "host\u202e", "'host\\u202e' is not an IP address or a host name"},
                {"--mock-host", "", "'' is empty"},
                {"--management-host", "224.0.0.1", "'224.0.0.1' is not an address of this machine"}};
        for (String[] c : bad) {
            String[] args = {"replay", "--run", "r1", "--target", "http://127.0.0.1:1", "--kafka-bootstrap-servers",
                    "127.0.0.1:1", "--schema-registry-url", "http://127.0.0.1:1", "--kafka-timeout", "2s", c[0], c[1]};
            long start = System.nanoTime();
            String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(args), c[0] + " " + c[1]));
            assertTrue(err.startsWith("tapline replay: option " + c[0] + ": " + c[2]), err);
            assertTrue(System.nanoTime() - start < java.util.concurrent.TimeUnit.SECONDS.toNanos(2),
                    "refused before Kafka was asked: " + err);
        }
    }

    /**
     * A run id comes from CI: a branch name, a title pasted into a pipeline. One with what could rewrite a terminal or a
     * CI log is refused at the flag, as any character other than A-Z a-z 0-9 . _ - is, by replay and report alike, and
     * the refusal shows those characters as codes, as the reports show captured text. Before, it echoed the value as
     * it was: the escape sequence reached the terminal, the line break started a line the CI runner read as a
     * command, the right-to-left override reversed the rest of the message, the zero-width space was not seen.
     */
    @Test
    void aRunIdThatCouldRewriteTheTerminalIsRefusedAndShownWithCodes() {
        String run = "pr-7\u001b[2K\n::error::forged\u202e<script>\u200b";
        String shown = "pr-7\\u001b[2K\\n::error::forged\\u202e<script>\\u200b";
        for (String[] args : new String[][] {{"replay", "--run", run, "--target", "http://candidate:8080"}, {"report", "--run", run}}) {
            String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(args), args[0]));
            assertEquals("tapline " + args[0] + ": option --run: '" + shown + "' must be 1-200 characters of A-Z a-z 0-9 . _ -\n",
                    err.replace(System.lineSeparator(), "\n"));
        }
    }

    /**
     * Options naming one topic for two of the command's topics are a usage error, one line, exit 2, at once: the names
     * alone decide it, before any Kafka client is made, so no broker is waited for (none answers at 127.0.0.1:1).
     * Before, both commands took them: with no broker they exited 3 once --kafka-timeout had passed, and with one,
     * replay dead-lettered undecodable cases into the cases topic it reads, report read run events as results.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void optionsNamingOneTopicForTwoOfItsTopicsAreAUsageErrorAtOnceWithoutABroker() {
        long started = System.nanoTime();
        String replay = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"replay",
                "--run", "r1", "--target", "http://127.0.0.1:1", "--management-port", "-1",
                "--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-timeout", "20s", "--topic-dlq", "tapline.cases"})));
        assertEquals("tapline replay: option --topic-cases, --topic-dlq: topic tapline.cases holds cases and dead "
                + "letters: the worker would read the dead letters it writes as cases, and an undecodable case, "
                + "dead-lettered into the topic it is read from, would be read by the next run and dead-lettered again, "
                + "without end, and cases need it compacted, dead letters need it not compacted (fix: give --topic-dlq "
                + "a topic of its own)", replay.strip());
        String report = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"report",
                "--run", "r1", "--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-timeout", "20s",
                "--topic-runs", "tapline.results"})));
        assertEquals("tapline report: option --topic-results, --topic-runs: topic tapline.results holds results and "
                + "run events: the report would read run events as results and results as run events (fix: give "
                + "--topic-runs a topic of its own)", report.strip());
        long seconds = java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        assertTrue(seconds < 10, "refused after " + seconds + " s");
    }

    @Test
    void aKafkaTimeoutWithoutAUnitIsAUsageErrorSayingHowToWriteIt() {
        String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"report", "--run", "r1",
                "--kafka-timeout", "60", "--kafka-bootstrap-servers", "127.0.0.1:1", "--schema-registry-url", "http://127.0.0.1:1"})));
        assertEquals("tapline report: option --kafka-timeout: '60' has no unit; write it with one: 60ms, 60s, 60m, 60h or 60d",
                err.strip());
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aClientSettingTheKafkaClientWouldRefuseIsAUsageErrorNamingItsFlag() {
        // it used to reach Kafka first and exit 3 (run incomplete) with the client's exception, once its client was made
        String report = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"report",
                "--run", "r1", "--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-timeout", "2s",
                "--kafka.consumer.fetch.max.bytes=lots"})));
        assertEquals("tapline report: option --kafka.consumer.fetch.max.bytes: Invalid value lots for configuration "
                + "fetch.max.bytes: Not a number of type INT", report.strip());
        String replay = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(new String[]{"replay",
                "--run", "r1", "--target", "http://127.0.0.1:1", "--management-port", "-1",
                "--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-timeout", "2s", "--kafka.producer.acks=some"})));
        assertTrue(replay.strip().startsWith("tapline replay: option --kafka.producer.acks: Invalid value some"), replay);
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void anUnreachableBrokerIsNamedWithTheOptionThatSetsItAndStillExits3() {
        String expected = "option --kafka-bootstrap-servers: could not reach the Kafka bootstrap servers 127.0.0.1:1 within 2s "
                + "(--kafka-timeout): no broker answered for the metadata of topic tapline.runs; check the address and that "
                + "the brokers are up";
        String report = stderrOf(() -> assertEquals(ReplayCommand.EXIT_INCOMPLETE, ReplayMain.run(new String[]{"report",
                "--run", "r1", "--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-timeout", "2s"})));
        assertTrue(report.contains("tapline report: " + expected), report);
        String replay = stderrOf(() -> assertEquals(ReplayCommand.EXIT_INCOMPLETE, ReplayMain.run(new String[]{"replay",
                "--run", "r1", "--target", "http://127.0.0.1:1", "--management-port", "-1",
                "--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-timeout", "2s"})));
        assertTrue(replay.contains("tapline replay: " + expected), replay);
        assertFalse(replay.contains("Timeout expired while fetching topic metadata"), "the client's words alone say nothing: " + replay);
    }

    /**
     * A bootstrap list the Kafka clients cannot read was passed to them as given: replay and report exited 3 (run
     * incomplete) with the client's "Failed to construct kafka consumer", its reason left in a cause, after the
     * registry was asked for schemas; {@code :9092} reached the local host and {@code http://} was dropped unread.
     */
    @Test
    void aBootstrapListNotOfHostPortIsAUsageErrorNamingTheOptionWhereItWasSetAndTheForm() {
        String[][] bad = {
                {"localhost", "'localhost' is not host:port: no port"},
                {"host:notaport", "'host:notaport' is not host:port: port 'notaport' is not a number 1-65535"},
                {":9092", "':9092' is not host:port: no host"},
                {"", "must name at least one broker"},
                {"http://host:9092", "'http://host:9092' is not host:port: a URL; give host:port without 'http://'"}};
        for (String[] c : bad) {
            for (String[] args : new String[][] {
                    {"replay", "--run", "r1", "--target", "http://candidate:8080", "--kafka-bootstrap-servers", c[0]},
                    {"report", "--run", "r1", "--kafka-bootstrap-servers", c[0]}}) {
                String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(args), String.join(" ", args)));
                assertTrue(err.startsWith("tapline " + args[0] + ": option --kafka-bootstrap-servers: ") && err.contains(c[1])
                        && err.contains("expected host:port[,host:port...]"), err);
            }
        }
    }

    @Test
    void aBadBootstrapListFromTheEnvironmentOrFileSaysWhereItWasSet() {
        TaplineConfig config = TaplineConfig.load(ReplayOptions.reportSpec(), new String[]{"--run", "r1"},
                Map.of("TAPLINE_KAFKA_BOOTSTRAP_SERVERS", "kafka"));
        String message = assertThrows(ConfigException.class, () -> ReplayCommand.kafka(config, false)).getMessage();
        assertTrue(message.startsWith("option --kafka-bootstrap-servers (set by TAPLINE_KAFKA_BOOTSTRAP_SERVERS): 'kafka' is not"
                + " host:port: no port"), message);
    }

    @Test
    void aFailureIsShownWithTheReasonsItsCausesGive() {
        // a Kafka client's "Failed to construct kafka consumer" says why only in its cause: the line said nothing more
        java.io.PrintStream before = System.out;
        System.setOut(new java.io.PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                throw new org.apache.kafka.common.KafkaException("Failed to construct kafka consumer",
                        new org.apache.kafka.common.config.ConfigException("No resolvable bootstrap urls given in bootstrap.servers"));
            }
        }, true));
        try {
            String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_INCOMPLETE, ReplayMain.run(new String[]{"report", "--help"})));
            assertEquals("tapline report: org.apache.kafka.common.KafkaException: Failed to construct kafka consumer: "
                    + "No resolvable bootstrap urls given in bootstrap.servers", err.strip());
        } finally {
            System.setOut(before);
        }
    }

    /** Clears the screen, starts a GitHub Actions command line, reverses what follows, hides a character. */
    private static final String HOSTILE = "7\u001b[2J\n::error::x\u202e21\u200b";
    private static final String SHOWN = "7\\u001b[2J\\n::error::x\\u202e21\\u200b";

    @Test
    void anArgumentOrOptionValueIsShownWithCodesInEveryUsageError() {
        // before, each was echoed as given: the escape sequence reached the terminal, the line break started a line the
        // CI runner read as a command, the override reversed the message, the zero-width space hid in it
        String[][] cases = {
                {"replay", "--run", "r1", "--target", "http://candidate:8080", HOSTILE},
                {"report", "--run", "r1", HOSTILE},
                {"report", "--run", "r1", "--format", HOSTILE},
                {"report", "--run", "r1", "--kafka-timeout", HOSTILE},
                {"replay", "--run", "r1", "--" + HOSTILE},
                {"replay", "--run", "r1", "--target", "http://candidate:8080", "--management-port", "-1", "--workers", HOSTILE}};
        String[] expected = {
                "unexpected argument " + SHOWN + " (options start with --)",
                "unexpected argument " + SHOWN + " (options start with --)",
                "option --format: '" + SHOWN + "' is not allowed; allowed values: text, junit, html",
                "option --kafka-timeout: '" + SHOWN + "' is not a duration like 250ms, 30s, 5m, 24h or 7d",
                "unknown option --" + SHOWN + " for tapline replay",
                "option --workers: '" + SHOWN + "' is not a whole number"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = cases[i];
            String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_USAGE, ReplayMain.run(args), String.join(" ", args)));
            assertTrue(err.startsWith("tapline " + args[0] + ": " + expected[i]), err);
            assertEquals(1, err.strip().lines().count(), err);
            assertNothingRaw(err);
        }
    }

    @Test
    void aFailureQuotingAValueIsShownWithCodesToo() {
        // what a client or parser says may quote a value as it was given; here standard output fails with one
        java.io.PrintStream before = System.out;
        for (Throwable failure : List.of(new IllegalArgumentException("bad value " + HOSTILE), new StackOverflowError(HOSTILE))) {
            System.setOut(new java.io.PrintStream(new java.io.OutputStream() {
                @Override
                public void write(int b) {
                    if (failure instanceof Error e) {
                        throw e;
                    }
                    throw (RuntimeException) failure;
                }
            }, true));
            try {
                String err = stderrOf(() -> assertEquals(ReplayCommand.EXIT_INCOMPLETE,
                        ReplayMain.run(new String[]{"report", "--help"})));
                assertEquals("tapline report: " + failure.getClass().getName() + ": "
                        + (failure instanceof Error ? "" : "bad value ") + SHOWN, err.strip());
                assertNothingRaw(err);
            } finally {
                System.setOut(before);
            }
        }
    }

    @Test
    void unreachableBrokersAreShownWithCodes() {
        TaplineConfig config = TaplineConfig.load(ReplayOptions.reportSpec(), new String[]{"--run", "r1"},
                Map.of("TAPLINE_KAFKA_BOOTSTRAP_SERVERS", HOSTILE));
        String message = ReplayMain.unreachable(config, new MetadataTimeoutException("tapline.runs",
                new org.apache.kafka.common.errors.TimeoutException("Timeout expired while fetching topic metadata")));
        assertTrue(message.startsWith("option --kafka-bootstrap-servers (set by TAPLINE_KAFKA_BOOTSTRAP_SERVERS): could not "
                + "reach the Kafka bootstrap servers " + SHOWN + " within 60s"), message);
        assertNothingRaw(message);
    }

    private static void assertNothingRaw(String message) {
        for (char raw : new char[] {'\u001b', '\r', '\u202e', '\u200b'}) {
            assertFalse(message.indexOf(raw) >= 0, "raw U+" + Integer.toHexString(raw) + " in " + message);
        }
        assertFalse(message.strip().contains("\n"), message);
    }

    @Test
    void anUnreachableBrokerSetByTheEnvironmentSaysSo() {
        TaplineConfig config = TaplineConfig.load(ReplayOptions.reportSpec(), new String[]{"--run", "r1"},
                Map.of("TAPLINE_KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092"));
        String message = ReplayMain.unreachable(config, new MetadataTimeoutException("tapline.runs",
                new org.apache.kafka.common.errors.TimeoutException("Timeout expired while fetching topic metadata")));
        assertTrue(message.startsWith("option --kafka-bootstrap-servers (set by TAPLINE_KAFKA_BOOTSTRAP_SERVERS): could not "
                + "reach the Kafka bootstrap servers kafka.example:9092 within 60s (--kafka-timeout)"), message);
    }

    /** What {@code action} wrote to standard error. */
    static String stderrOf(Runnable action) {
        java.io.PrintStream before = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(before);
        }
        return captured.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void helpListsEveryReplayOption() {
        String help = ReplayOptions.replaySpec().help();
        for (String flag : List.of("--target", "--concurrency", "--rate", "--allow-live", "--mock-route", "--fail-on",
                "--replay-production-targets", "--propagation")) {
            assertTrue(help.contains(flag), flag);
        }
    }

    @Test
    void shouldLogThroughTaplinesLoggingSoTheLogOptionsApply() {
        assertTrue(ReplayOptions.replaySpec().options().containsKey(LogOptions.FORMAT));
        assertTrue(ReplayOptions.reportSpec().options().containsKey(LogOptions.LEVEL));
        assertEquals(TaplineLoggerProvider.class, LoggerFactory.getILoggerFactory().getClass().getEnclosingClass(),
                "the component's jar binds SLF4J to Tapline's logging, and only to it");
    }

    /**
     * Under the POSIX locale (no LANG, ASCII) a message quoting a value past ASCII is written in UTF-8, by replay and
     * report: Java 17 wrote it in the locale's charset, every such character as '?'. The value comes from a
     * {@code --config} file, read as UTF-8 whatever the locale.
     */
    @Test
    void aMessageIsWrittenInUtf8UnderThePosixLocale(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("replay.properties"), "rout\u00e9=1\n", StandardCharsets.UTF_8);
        for (String command : List.of("replay", "report")) {
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dfile.encoding=ANSI_X3.4-1968", "-cp", System.getProperty("java.class.path"), ReplayMain.class.getName(),
                    command, "--config", config.toString());
            pb.environment().keySet().removeIf(k -> k.startsWith("TAPLINE_") || k.equals("LANG") || k.startsWith("LC_"));
            pb.environment().put("LC_ALL", "C");
            Process child = pb.redirectErrorStream(true).start();
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), command + " did not exit: " + out);
            assertEquals(ReplayCommand.EXIT_USAGE, child.exitValue(), out);
            assertTrue(out.startsWith("tapline " + command + ": unknown key 'rout\u00e9' in config file " + config), out);
        }
    }
}
