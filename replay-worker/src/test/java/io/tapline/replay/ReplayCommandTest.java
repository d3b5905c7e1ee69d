package io.tapline.replay;

import io.tapline.avro.RunEvent;
import io.tapline.avro.RunSummary;
import io.tapline.config.ConfigException;
import io.tapline.logging.TaplineLogging;
import io.tapline.replay.mock.MockRegistry;
import io.tapline.replay.mock.MockServerOptions;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.tapline.replay.ReplayCommand.EXIT_GATE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplayCommandTest {

    /**
     * A stop (SIGTERM: the shutdown hook calls {@code stop}) that comes before the run's workers exist, while its bounds
     * are read or its noise loaded, ends the run there: no worker is started to replay cases that the process is about
     * to be killed in the middle of, and Kafka is not even asked.
     */
    @Test
    void aStopBeforeTheWorkersStartEndsTheRunWithoutStartingThem() throws Exception {
        io.tapline.config.TaplineConfig config = io.tapline.config.TaplineConfig.load(ReplayOptions.replaySpec(),
                new String[]{"--run", "r1", "--target", "http://127.0.0.1:1", "--management-port", "-1",
                        "--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-timeout", "2s"}, Map.of());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ReplayCommand command = new ReplayCommand(config, new PrintStream(out, true, StandardCharsets.UTF_8));
        command.stop(Duration.ZERO);
        assertEquals(ReplayCommand.EXIT_INCOMPLETE, command.run());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("run r1: asked to stop before its workers started"),
                out.toString(StandardCharsets.UTF_8));
    }

    private static final Instant START = Instant.parse("2024-05-01T10:00:00Z");

    /** A summary event of run r1 as {@code RunCoordinator.summaryEvent} makes one. */
    private static RunEvent summaryOf(long total) {
        return RunEvent.newBuilder().setRunId("r1").setCandidate("http://c").setAt(START.plusSeconds(90)).setBounds(null)
                .setSummary(RunSummary.newBuilder().setTotal(total).setPassed(total).setFailed(0).setErrored(0)
                        .setSkipped(0).setDurationMillis(90_000).build())
                .build();
    }

    /**
     * The runs topic as a list: what is recorded, what comes while a worker waits, what is written, and how many of
     * this worker's records another process takes over (each then written by that one when {@code takerWrites}).
     */
    private static final class Ledger implements ReplayCommand.SummaryLedger {
        final List<RunEvent> recorded = new java.util.ArrayList<>();
        /** Written by another worker while this one waits. */
        RunEvent arriving;
        final List<Duration> waits = new java.util.ArrayList<>();
        final List<RunEvent> written = new java.util.ArrayList<>();
        int takenOver;
        RunEvent takerWrites;

        @Override
        public Optional<RunEvent> await(Duration wait) {
            waits.add(wait);
            if (arriving != null) {
                recorded.add(arriving);
            }
            return last();
        }

        @Override
        public Optional<RunEvent> record(RunEvent summary) {
            if (takenOver > 0) {
                takenOver--;
                arriving = takerWrites;
                return Optional.empty();
            }
            if (!recorded.isEmpty()) {
                return last();
            }
            written.add(summary);
            recorded.add(summary);
            return Optional.of(summary);
        }

        private Optional<RunEvent> last() {
            return recorded.isEmpty() ? Optional.empty() : Optional.of(recorded.get(recorded.size() - 1));
        }
    }

    private static RunEvent settle(RunEvent computed, boolean writer, Ledger ledger, ByteArrayOutputStream out) {
        return ReplayCommand.settleSummary("r1", computed, writer, Duration.ofSeconds(60), ledger,
                new PrintStream(out, true, StandardCharsets.UTF_8));
    }

    @Test
    void theWorkerThatOwnedTheFirstPartitionWritesTheSummaryOnceWithoutWaiting() {
        Ledger ledger = new Ledger();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RunEvent computed = summaryOf(31);
        assertSame(computed, settle(computed, true, ledger, out));
        assertEquals(List.of(computed), ledger.written);
        assertEquals(List.of(), ledger.waits, "the writer does not wait for anyone");
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theOtherWorkersWaitForTheSummaryAndReportItWithoutWritingASecondOne() {
        Ledger ledger = new Ledger();
        ledger.arriving = summaryOf(31);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RunEvent reported = settle(summaryOf(31), false, ledger, out);
        assertSame(ledger.arriving, reported, "reported from the summary the writer recorded");
        assertEquals(List.of(), ledger.written, "one summary for the run, not one per worker");
        assertEquals(List.of(Duration.ofSeconds(60)), ledger.waits);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aWorkerWhoseWaitEndsWithoutASummaryWritesItItselfAndSaysSo() {
        // the writer died, or failed, between seeing the run complete and writing its summary
        Ledger ledger = new Ledger();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RunEvent computed = summaryOf(31);
        assertSame(computed, settle(computed, false, ledger, out));
        assertEquals(List.of(computed), ledger.written, "the summary is not lost with its writer");
        assertEquals("run r1: note: the worker that owned the run's first partition wrote no summary within 60 s; this"
                + " one writes it\n", out.toString(StandardCharsets.UTF_8).replace("\r\n", "\n"));
    }

    @Test
    void aWriterThatFindsTheSummaryRecordedAlreadyReportsItAndWritesNone() {
        // the first partition moved to this worker after another owner of it had written the summary
        Ledger ledger = new Ledger();
        RunEvent first = summaryOf(31);
        ledger.recorded.add(first);
        assertSame(first, settle(summaryOf(31), true, ledger, new ByteArrayOutputStream()));
        assertEquals(List.of(), ledger.written);
    }

    @Test
    void aWriterWhoseWriteAnotherTakesOverReportsThatOnesSummaryAndWritesNone() {
        // two owners of the first partition, after a rebalance at completion: the other fenced this one's write
        Ledger ledger = new Ledger();
        ledger.takenOver = 1;
        ledger.takerWrites = summaryOf(31);
        RunEvent reported = settle(summaryOf(31), true, ledger, new ByteArrayOutputStream());
        assertSame(ledger.takerWrites, reported);
        assertEquals(List.of(), ledger.written, "one summary for the run");
        assertEquals(List.of(Duration.ofSeconds(60)), ledger.waits, "it waits for the other's summary");
    }

    @Test
    void aWriteTakenOverByAProcessThatThenDiesIsWrittenAgain() {
        Ledger ledger = new Ledger();
        ledger.takenOver = 2;
        RunEvent computed = summaryOf(31);
        assertSame(computed, settle(computed, true, ledger, new ByteArrayOutputStream()));
        assertEquals(List.of(computed), ledger.written, "the summary is not lost with the process that took over");
        assertEquals(2, ledger.waits.size());
    }

    @Test
    void aWriteTakenOverEveryTimeWithoutASummaryComingIsAnErrorThatSaysSo() {
        Ledger ledger = new Ledger();
        ledger.takenOver = ReplayCommand.SUMMARY_ATTEMPTS;
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> settle(summaryOf(31), true, ledger, new ByteArrayOutputStream()));
        assertEquals("run r1: its summary was not recorded: 3 times another process took its write over, and recorded"
                + " none within 60 s", e.getMessage());
        assertEquals(List.of(), ledger.written);
    }

    @Test
    void theReportAtTheEndOfARunGoesToTheConsoleAsItIsRenderedNotBuiltWholeFirst() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int[] largest = {0};
        PrintStream console = new PrintStream(bytes, false, StandardCharsets.UTF_8) {
            @Override
            public void print(String s) {
                largest[0] = Math.max(largest[0], s.length());
                super.print(s);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                largest[0] = Math.max(largest[0], len);
                super.write(b, off, len);
            }
        };
        assertEquals(EXIT_GATE, ReplayCommand.conclude(ReportCommandTest.largeRun(), FailOn.parse("any", true), console));
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(printed.startsWith("Tapline replay run r1\n"), printed);
        assertTrue(printed.contains("\nFAIL  GET /items/{id}  case case-19990  (signature s19990, 10 requests)\n"), printed);
        assertTrue(printed.endsWith("run r1: FAILED the gate: 2000 case(s) regressed (--fail-on any)\n"), printed);
        // rendered whole first, the 2,000 failed cases were printed as one string of ~210,000 characters
        assertTrue(largest[0] <= 64 * 1024, "printed a string of " + largest[0] + " characters or bytes");
    }

    /**
     * The text report and the verdict at the end of a run that standard output does not take whole (a full disk, a pipe
     * whose reader is gone: {@code replay ... | head -1}) exit 3 whatever the gate says, as {@code report} does for its
     * report, and standard error says so with the verdict. Before, the write's failure, which a PrintStream only notes,
     * was not read: the command exited 0 or 1 as the gate said, with the report and the verdict lost.
     */
    @Test
    void aConsoleThatDoesNotTakeTheReportAndVerdictWholeExitsIncompleteWhateverTheGateSays() {
        for (int accepted : new int[] {0, 40}) { // a full disk; a reader gone after the first line (head -1)
            for (String failOn : List.of("none", "any")) {
                java.io.OutputStream closing = new java.io.OutputStream() {
                    private int written;

                    @Override
                    public void write(int b) throws java.io.IOException {
                        if (++written > accepted) {
                            throw new java.io.IOException("Broken pipe");
                        }
                    }
                };
                PrintStream console = new PrintStream(closing, true, StandardCharsets.UTF_8);
                int[] exit = {-1};
                String err = ReplayMainTest.stderrOf(() -> exit[0] = ReplayCommand.conclude(ReportCommandTest.nonAsciiRun(),
                        FailOn.parse(failOn, true), console));
                assertEquals(ReplayCommand.EXIT_INCOMPLETE, exit[0], failOn + ", " + accepted + " bytes taken");
                String verdict = failOn.equals("any") ? "FAILED the gate: 1 case(s) regressed (--fail-on any)" : "passed the gate";
                assertEquals("run r1: the console output could not be written whole to standard output (a full disk, or a"
                        + " pipe whose reader is gone): the text report and the verdict may not have reached it; the run "
                        + verdict + "\n", err.replace(System.lineSeparator(), "\n"));
            }
        }
        // a console that takes it all: the gate's exit code, nothing on standard error
        for (String failOn : List.of("none", "any")) {
            int[] exit = {-1};
            String err = ReplayMainTest.stderrOf(() -> exit[0] = ReplayCommand.conclude(ReportCommandTest.nonAsciiRun(),
                    FailOn.parse(failOn, true), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
            assertEquals(failOn.equals("any") ? EXIT_GATE : ReplayCommand.EXIT_OK, exit[0], failOn);
            assertEquals("", err);
        }
    }

    /**
     * The report printed at the end of a run is UTF-8 whatever the console's encoding, as {@code report}'s is: under
     * LANG=C Java's standard output is ASCII, and every other character was printed as {@code ?}, so a value changed
     * from {@code café} to {@code cafè} read {@code caf? -> caf?}.
     */
    @Test
    void theReportAtTheEndOfARunIsUtf8WhateverTheConsoleEncoding() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream ascii = new PrintStream(bytes, true, StandardCharsets.US_ASCII);
        assertEquals(EXIT_GATE, ReplayCommand.conclude(ReportCommandTest.nonAsciiRun(), FailOn.parse("any", true), ascii));
        String printed = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        assertTrue(printed.contains("FAIL  GET /caf" + (char) 0xE9 + "/{id}  case c1"), printed);
        assertTrue(printed.contains(": caf" + (char) 0xE9 + " -> " + new String(Character.toChars(0x1F600)) + (char) 0x4E2D + "\n"),
                printed);
        assertTrue(printed.endsWith("run r1: FAILED the gate: 1 case(s) regressed (--fail-on any)\n"), printed);
    }

    /**
     * A mock or management host that is not an address of this machine was reported as the port's fault ("option
     * --mock-port: cannot listen on 192.0.2.1:9190"), which sent the operator to change a value that was right.
     */
    @Test
    void aListenHostThatIsNotThisMachinesIsReportedAsTheHostOption() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            MockServerOptions options = new MockServerOptions("192.0.2.1", 0, Map.of(), Set.of(), 502, 1024);
            ConfigException mock = assertThrows(ConfigException.class,
                    () -> ReplayCommand.startMock(config(new String[0], Map.of()), vertx, options, new MockRegistry()));
            assertTrue(mock.getMessage().startsWith("option --mock-host: cannot listen on 192.0.2.1:0: "), mock.getMessage());
        } finally {
            vertx.close().await();
        }
        ConfigException management = assertThrows(ConfigException.class,
                () -> ReplayCommand.startManagement(config(new String[0], Map.of()), "192.0.2.1", 0, new io.tapline.ops.Metrics(), () -> true));
        assertTrue(management.getMessage().startsWith("option --management-host: cannot listen on 192.0.2.1:0: "),
                management.getMessage());
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            ConfigException port = assertThrows(ConfigException.class, () -> ReplayCommand.startManagement(config(new String[0], Map.of()), "127.0.0.1",
                    taken.getLocalPort(), new io.tapline.ops.Metrics(), () -> true));
            assertTrue(port.getMessage().startsWith("option --management-port: cannot listen on 127.0.0.1:" + taken.getLocalPort()),
                    port.getMessage());
        }
    }

    @Test
    void aMockPortInUseIsReportedAsTheMockPortNotTheManagementPort() throws Exception {
        Vertx vertx = Vertx.vertx();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            MockServerOptions options = new MockServerOptions("127.0.0.1", port, Map.of(), Set.of(), 502, 1024);
            ConfigException e = assertThrows(ConfigException.class,
                    () -> ReplayCommand.startMock(config(new String[0], Map.of()), vertx, options, new MockRegistry()));
            assertTrue(e.getMessage().startsWith("option --mock-port: cannot listen on 127.0.0.1:" + port + ": "), e.getMessage());
            assertFalse(e.getMessage().contains("management"), e.getMessage());
        } finally {
            vertx.close().await();
        }
    }

    /**
     * A listener that cannot open names where its option was set, as every other bad value of replay does: a port taken
     * or a host not of this machine, set by a {@code TAPLINE_*} variable or a {@code --config} file, was named only as
     * {@code option --mock-port}, and the flag was nowhere on the command line to change.
     */
    @Test
    void aListenerThatCannotOpenNamesWhereItsOptionWasSet(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        Vertx vertx = Vertx.vertx();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            io.tapline.config.TaplineConfig byEnv = config(new String[0], Map.of("TAPLINE_MOCK_HOST", "127.0.0.1",
                    "TAPLINE_MOCK_PORT", Integer.toString(port), "TAPLINE_MANAGEMENT_PORT", Integer.toString(port)));
            MockServerOptions options = new MockServerOptions("127.0.0.1", port, Map.of(), Set.of(), 502, 1024);
            ConfigException mock = assertThrows(ConfigException.class,
                    () -> ReplayCommand.startMock(byEnv, vertx, options, new MockRegistry()));
            assertTrue(mock.getMessage().startsWith("option --mock-port (set by TAPLINE_MOCK_PORT): cannot listen on 127.0.0.1:"
                    + port + ": "), mock.getMessage());
            ConfigException management = assertThrows(ConfigException.class, () -> ReplayCommand.startManagement(byEnv,
                    "127.0.0.1", port, new io.tapline.ops.Metrics(), () -> true));
            assertTrue(management.getMessage().startsWith("option --management-port (set by TAPLINE_MANAGEMENT_PORT):"
                    + " cannot listen on 127.0.0.1:" + port + ": "), management.getMessage());

            java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("replay.properties"),
                    "mock.host=192.0.2.1\nmanagement.host=192.0.2.1\n");
            io.tapline.config.TaplineConfig inFile = config(new String[]{"--config", file.toString()}, Map.of());
            MockServerOptions elsewhere = new MockServerOptions("192.0.2.1", 0, Map.of(), Set.of(), 502, 1024);
            ConfigException host = assertThrows(ConfigException.class,
                    () -> ReplayCommand.startMock(inFile, vertx, elsewhere, new MockRegistry()));
            assertTrue(host.getMessage().startsWith("option --mock-host (set in " + file + "): cannot listen on 192.0.2.1:0: "),
                    host.getMessage());
            ConfigException managementHost = assertThrows(ConfigException.class, () -> ReplayCommand.startManagement(inFile,
                    "192.0.2.1", 0, new io.tapline.ops.Metrics(), () -> true));
            assertTrue(managementHost.getMessage().startsWith("option --management-host (set in " + file
                    + "): cannot listen on 192.0.2.1:0: "), managementHost.getMessage());
        } finally {
            vertx.close().await();
        }
    }

    /** The replay command's options as {@code args} and {@code env} give them; the required ones given as flags. */
    private static io.tapline.config.TaplineConfig config(String[] args, Map<String, String> env) {
        List<String> all = new java.util.ArrayList<>(List.of("--run", "r1", "--target", "http://127.0.0.1:1"));
        all.addAll(List.of(args));
        return io.tapline.config.TaplineConfig.load(ReplayOptions.replaySpec(), all.toArray(String[]::new), env);
    }

    @Test
    void aVertxCloseThatNeverEndsIsGivenUpAtItsBoundWithAWarningSoTheRunStillExits() {
        // A close hook whose promise is never completed: before, the end of a run waited for Vert.x's close without a
        // bound, and the process never exited with its run's exit code.
        Vertx vertx = Vertx.vertx();
        java.util.concurrent.atomic.AtomicReference<io.vertx.core.Completable<Void>> hook = new java.util.concurrent.atomic.AtomicReference<>();
        ((io.vertx.core.internal.VertxInternal) vertx).addCloseHook(hook::set);
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        try {
            boolean closed = assertTimeoutPreemptively(Duration.ofSeconds(30),
                    () -> ReplayCommand.closeVertx(vertx, Duration.ofMillis(200)));
            assertFalse(closed, "the close is reported as not done");
        } finally {
            TaplineLogging.flush(Duration.ofSeconds(10));
            TaplineLogging.output(System.err);
            if (hook.get() != null) {
                hook.get().succeed(); // lets the event loops stop
            }
        }
        String log = logged.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("Vert.x (the dependency mock, the candidate's connections, the event loops) did not close"
                + " within 200 ms"), log);
    }
}
