package io.tapline.replay;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.MockUsage;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunEvent;
import io.tapline.avro.RunSummary;
import io.tapline.avro.Verdict;
import io.tapline.replay.report.RunReport;
import io.tapline.replay.report.TextReport;
import io.tapline.replay.run.RunResults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportCommandTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();

    static RunReport failedRun(boolean complete) {
        Difference price = Difference.newBuilder().setPath("$.price").setKind(DifferenceKind.CHANGED)
                .setExpected("113").setActual("226").build();
        ReplayResult failed = ReplayResult.newBuilder().setRunId("r1").setCaseId("c1").setSignatureId("s1")
                .setRoute("GET /items/{id}").setCandidate("http://c").setVerdict(Verdict.FAIL).setDifferences(List.of(price))
                .setIgnoredDifferences(0).setMocks(MockUsage.newBuilder().build()).setRecordedLatencyMicros(1)
                .setCandidateLatencyMicros(1).setTrafficWeight(10).setError(null).setWorker("w")
                .setCompletedAt(Instant.EPOCH).build();
        RunResults results = new RunResults(List.of(failed));
        return new RunReport("r1", "http://c", results.summary(1000), results.results(), complete);
    }

    private int publish(RunReport report, String format, Path file) {
        return ReportCommand.publish(report, format, file, FailOn.parse("any", true),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(diagnostics, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String diagnostics() {
        return diagnostics.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aCompletedRunIsReportedWithTheDurationAndCandidateItsSummaryRecorded() {
        RunReport run = failedRun(true);
        RunEvent completed = RunEvent.newBuilder().setRunId("r1").setCandidate("http://cand:8080")
                .setAt(Instant.parse("2024-05-01T10:01:30Z")).setBounds(null)
                .setSummary(RunSummary.newBuilder(run.summary()).setDurationMillis(90_000).build()).build();
        RunReport report = ReportCommand.report("r1", Optional.of(completed), new RunResults(run.results()));
        assertTrue(report.complete());
        assertEquals(90_000, report.summary().getDurationMillis());
        assertEquals(1, report.summary().getFailed());
        assertEquals("http://cand:8080", report.candidate());
        assertTrue(TextReport.render(report).contains("duration: 90.0 s"));

        RunReport partial = ReportCommand.report("r1", Optional.empty(), new RunResults(run.results()));
        assertFalse(partial.complete());
        assertEquals(0, partial.summary().getDurationMillis());
        assertEquals("http://c", partial.candidate(), "the candidate of its first result");
    }

    @Test
    void aCompletedRunWhoseResultsExpiredIsGatedOnItsSummaryNotOnWhatIsLeft() {
        RunReport run = failedRun(true);
        RunEvent completed = RunEvent.newBuilder().setRunId("r1").setCandidate("http://c")
                .setAt(Instant.parse("2024-05-01T10:01:30Z")).setBounds(null)
                .setSummary(RunSummary.newBuilder(run.summary()).setDurationMillis(90_000).build()).build();
        // 30 days later the results topic's retention has deleted the run's results; its summary is still there.
        RunReport report = ReportCommand.report("r1", Optional.of(completed), new RunResults(List.of()));
        assertEquals(1, report.summary().getTotal());
        assertEquals(1, report.summary().getFailed());
        assertEquals(ReplayCommand.EXIT_GATE, publish(report, "text", null), "the run failed, and still does");
        assertTrue(diagnostics().contains("FAILED the gate"), diagnostics());
        assertEquals("run r1: 1 of the 1 results its summary counted are no longer in tapline.results (retention): the"
                + " counts and the gate are the summary's, the cases listed are those still there",
                ReportCommand.missing(report, "tapline.results"));
    }

    @Test
    void aJUnitReportOnStandardOutputIsWellFormedWhenTheGateFailsAndTheVerdictGoesToDiagnostics() throws Exception {
        assertEquals(ReplayCommand.EXIT_GATE, publish(failedRun(true), "junit", null));
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(1, doc.getElementsByTagName("failure").getLength());
        assertFalse(out().contains("FAILED the gate"), out());
        assertTrue(diagnostics().startsWith("run r1: FAILED the gate: "), diagnostics());
    }

    @Test
    void anHtmlReportOnStandardOutputEndsWithThePage() {
        assertEquals(ReplayCommand.EXIT_GATE, publish(failedRun(true), "html", null));
        assertTrue(out().startsWith("<!DOCTYPE html>"), out());
        assertTrue(out().endsWith("</body></html>\n"), out());
        assertTrue(diagnostics().contains("FAILED the gate"), diagnostics());
    }

    @Test
    void aReportWrittenToAFileLeavesStandardOutputEmpty(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("junit.xml");
        assertEquals(ReplayCommand.EXIT_GATE, publish(failedRun(true), "junit", file));
        assertEquals("", out());
        DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
        assertTrue(Files.readString(file).contains("<failure"));
        assertTrue(diagnostics().contains("run r1: report written to " + file), diagnostics());
        assertTrue(diagnostics().contains("run r1: FAILED the gate"), diagnostics());
    }

    @Test
    void aFileThatCannotBeWrittenIsNamedWithWhereOutWasSet(@TempDir Path dir) throws Exception {
        // said "option --out" even when TAPLINE_OUT or a --config file had set it, as no other refused value is
        Path file = dir.resolve("junit.xml");
        Files.createDirectory(dir.resolve("junit.xml.partial")); // where the report is written before it is moved
        String message = assertThrows(io.tapline.config.ConfigException.class, () -> ReportCommand.publish(
                failedRun(true), "junit", file, "option --out (set by TAPLINE_OUT)", FailOn.parse("any", true),
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()))).getMessage();
        assertTrue(message.startsWith("option --out (set by TAPLINE_OUT): cannot write " + file + ": "), message);
    }

    /**
     * A file that cannot be made says why, not only which: Java's message of a missing directory (a {@code /proc} path,
     * one removed after the start's check) is the path alone, and the error read {@code cannot write X: X.partial}.
     */
    @Test
    void aFileThatCannotBeMadeSaysWhy(@TempDir Path dir) {
        Path file = dir.resolve("gone").resolve("junit.xml");
        String message = assertThrows(io.tapline.config.ConfigException.class, () -> publish(failedRun(true), "junit", file))
                .getMessage();
        assertEquals("option --out: cannot write " + file + ": no such file or directory: " + file + ".partial", message);
    }

    @Test
    void aReportThatFailsPartWayLeavesTheOutFileAsItWas(@TempDir Path dir) throws Exception {
        // A CI job reads --out whatever the exit code: a report cut short must not be left there for it to ingest.
        Path file = dir.resolve("junit.xml");
        Files.writeString(file, "the previous report");
        RunReport good = failedRun(true);
        ReplayResult broken = ReplayResult.newBuilder(good.results().get(0)).setCaseId("c2").build();
        broken.setDifferences(null); // rendering throws on this case, after the first was written
        RunReport report = new RunReport("r1", "http://c", good.summary(), List.of(good.results().get(0), broken), true);
        for (String format : new String[] {"text", "junit", "html"}) {
            assertThrows(RuntimeException.class, () -> publish(report, format, file), format);
            assertEquals("the previous report", Files.readString(file), format);
            try (var files = Files.list(dir)) {
                assertEquals(List.of(file), files.toList(), format + ": nothing else left behind");
            }
        }
        assertEquals(ReplayCommand.EXIT_GATE, publish(good, "junit", file));
        assertTrue(Files.readString(file).contains("<failure"), "a complete report replaces it");
    }

    /**
     * A {@code --out} that is a named pipe (as a shell's {@code >(gzip > r.gz)} or a log shipper's FIFO is) gets the report
     * written into it, and stays a pipe. Before, the report was written next to it and moved in place: the pipe was
     * replaced by a regular file holding the report, and its reader got nothing (run as root, {@code --out /dev/null}
     * replaced the machine's {@code /dev/null} the same way).
     */
    @Test
    void aReportToANamedPipeIsWrittenIntoItAndThePipeKept(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("junit.fifo");
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        } catch (java.io.IOException e) {
            mkfifo = null;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo != null && mkfifo.waitFor() == 0, "no mkfifo on this system");
        java.util.concurrent.CompletableFuture<String> read = new java.util.concurrent.CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                read.complete(Files.readString(fifo));
            } catch (Exception e) {
                read.completeExceptionally(e);
            }
        }, "fifo-reader");
        reader.setDaemon(true); // left waiting on a pipe nobody writes when the report replaces it
        reader.start();
        assertEquals(ReplayCommand.EXIT_GATE, publish(failedRun(true), "junit", fifo));
        assertFalse(Files.isRegularFile(fifo), "replaced by a regular file");
        assertTrue(read.get(10, java.util.concurrent.TimeUnit.SECONDS).endsWith("</testsuites>\n"));
        assertTrue(diagnostics().contains("run r1: report written to " + fifo), diagnostics());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(fifo), files.toList(), "nothing left beside it");
        }
    }

    /**
     * A {@code --out} that is a symbolic link (a {@code latest.xml} a CI job reads) keeps the link: the report replaces
     * the file it names, as a shell's {@code >} writes through it. Before, the link itself was replaced by the report.
     */
    @Test
    void aReportToASymbolicLinkReplacesTheFileItNamesAndKeepsTheLink(@TempDir Path dir) throws Exception {
        Path reports = Files.createDirectory(dir.resolve("reports"));
        Path real = Files.writeString(reports.resolve("run-1.xml"), "the previous report");
        Path link = Files.createSymbolicLink(dir.resolve("latest.xml"), real);
        assertEquals(ReplayCommand.EXIT_GATE, publish(failedRun(true), "junit", link));
        assertTrue(Files.isSymbolicLink(link), "the link was replaced");
        assertTrue(Files.readString(real).contains("<failure"), Files.readString(real));
        try (var files = Files.list(reports)) {
            assertEquals(List.of(real), files.toList(), "nothing left beside it");
        }
    }

    /**
     * A report that standard output does not take whole ({@code > junit.xml} on a full disk, a pipe whose reader is
     * gone) is not a passed gate: exit 3, saying so. A PrintStream throws no error, it only notes one, and before, the
     * note was not read: the command exited 0 with no report, or half of one, where CI reads it.
     */
    @Test
    void aReportStandardOutputDoesNotTakeWholeExitsIncompleteSayingSo() {
        OutputStream full = new OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                throw new java.io.IOException("No space left on device");
            }
        };
        for (String format : List.of("text", "junit", "html")) {
            diagnostics.reset();
            int exit = ReportCommand.publish(failedRun(true), format, null, FailOn.parse("none", true),
                    new PrintStream(full, true, StandardCharsets.UTF_8), new PrintStream(diagnostics, true, StandardCharsets.UTF_8));
            assertEquals(ReplayCommand.EXIT_INCOMPLETE, exit, format);
            assertEquals("run r1: the report could not be written whole to standard output (a full disk, or a pipe whose"
                    + " reader is gone): no report, or part of one, reached it\n", diagnostics(), format);
        }
    }

    /**
     * A partial report's share of failed traffic is not the run's: the results still to come can bring it under
     * {@code --fail-on share:X}, so a partial report over it is incomplete (exit 3, saying the share so far), not a
     * failed gate. Failed and errored cases only add up, so a partial report over {@code any}, {@code count:N} or with
     * errors has failed the gate already (exit 1). Before, a partial report over a share exited 1: a CI job reporting
     * before the run's end (or polling until the exit is not 3) failed a run that would pass.
     */
    @Test
    void aPartialReportOverAShareIsIncompleteAndOneOverACountHasFailedTheGate() {
        int exit = ReportCommand.publish(failedRun(false), "text", null, FailOn.parse("share:0.5", true),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(diagnostics, true, StandardCharsets.UTF_8));
        assertEquals(ReplayCommand.EXIT_INCOMPLETE, exit, diagnostics());
        assertFalse(diagnostics().contains("FAILED"), diagnostics());
        assertTrue(diagnostics().contains("run r1: over the gate so far, which the results still to come may change: "
                + "regressions weigh 1.0000 of production traffic (10 of 10 requests), more than 0.5 (--fail-on share:0.5)"),
                diagnostics());
        for (String gate : List.of("any", "count:0")) {
            diagnostics.reset();
            assertEquals(ReplayCommand.EXIT_GATE, ReportCommand.publish(failedRun(false), "text", null, FailOn.parse(gate, true),
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(diagnostics, true, StandardCharsets.UTF_8)), gate);
            assertTrue(diagnostics().contains("run r1: FAILED the gate: "), diagnostics());
        }
        // the whole run's share is final
        assertEquals(ReplayCommand.EXIT_GATE, ReportCommand.publish(failedRun(true), "text", null, FailOn.parse("share:0.5", true),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(diagnostics, true, StandardCharsets.UTF_8)));
    }

    /** A failed case whose route and values are not ASCII. */
    static RunReport nonAsciiRun() {
        Difference name = Difference.newBuilder().setPath("$.name").setKind(DifferenceKind.CHANGED)
                .setExpected("caf" + (char) 0xE9).setActual(new String(Character.toChars(0x1F600)) + (char) 0x4E2D).build();
        ReplayResult failed = ReplayResult.newBuilder().setRunId("r1").setCaseId("c1").setSignatureId("s1")
                .setRoute("GET /caf" + (char) 0xE9 + "/{id}").setCandidate("http://c").setVerdict(Verdict.FAIL)
                .setDifferences(List.of(name)).setIgnoredDifferences(0).setMocks(MockUsage.newBuilder().build())
                .setRecordedLatencyMicros(1).setCandidateLatencyMicros(1).setTrafficWeight(10).setError(null).setWorker("w")
                .setCompletedAt(Instant.EPOCH).build();
        RunResults results = new RunResults(List.of(failed));
        return new RunReport("r1", "http://c", results.summary(1000), results.results(), true);
    }

    @Test
    void aReportOnStandardOutputIsUtf8WhateverTheConsoleEncoding() throws Exception {
        for (String format : List.of("junit", "html", "text")) {
            out.reset();
            // System.out under LANG=C (ASCII) or a Latin-1 locale: the XML declaration and the page still say UTF-8
            ReportCommand.publish(nonAsciiRun(), format, null, FailOn.parse("none", true),
                    new PrintStream(out, true, StandardCharsets.ISO_8859_1), new PrintStream(diagnostics, true, StandardCharsets.UTF_8));
            String decoded = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(out.toByteArray())).toString();
            assertTrue(decoded.contains("caf" + (char) 0xE9), decoded);
            assertTrue(decoded.contains(new String(Character.toChars(0x1F600)) + (char) 0x4E2D), decoded);
            assertTrue(decoded.contains("GET /caf" + (char) 0xE9 + "/{id}"), decoded);
        }
        out.reset();
        ReportCommand.publish(nonAsciiRun(), "junit", null, FailOn.parse("none", true),
                new PrintStream(out, true, StandardCharsets.ISO_8859_1), new PrintStream(diagnostics, true, StandardCharsets.UTF_8));
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(out.toByteArray()));
        assertEquals("GET /caf" + (char) 0xE9 + "/{id}",
                ((Element) doc.getElementsByTagName("testcase").item(0)).getAttribute("classname"));
    }

    /** 20,000 cases on one route, every tenth failed with a difference. */
    static RunReport largeRun() {
        Difference price = Difference.newBuilder().setPath("$.price").setKind(DifferenceKind.CHANGED)
                .setExpected("113").setActual("226").build();
        List<ReplayResult> results = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            boolean failed = i % 10 == 0;
            results.add(ReplayResult.newBuilder().setRunId("r1").setCaseId(String.format("case-%05d", i)).setSignatureId("s" + i)
                    .setRoute("GET /items/{id}").setCandidate("http://c").setVerdict(failed ? Verdict.FAIL : Verdict.PASS)
                    .setDifferences(failed ? List.of(price) : List.of()).setIgnoredDifferences(0)
                    .setMocks(MockUsage.newBuilder().build()).setRecordedLatencyMicros(1).setCandidateLatencyMicros(1)
                    .setTrafficWeight(10).setError(null).setWorker("w").setCompletedAt(Instant.EPOCH).build());
        }
        RunResults rr = new RunResults(results);
        return new RunReport("r1", "http://c", rr.summary(1000), rr.results(), true);
    }

    /** Standard output that keeps what it is given and notes the largest piece written to it at once. */
    static final class Pieces extends OutputStream {
        final ByteArrayOutputStream all = new ByteArrayOutputStream();
        int largest;

        @Override
        public void write(int b) {
            all.write(b);
            largest = Math.max(largest, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            all.write(b, off, len);
            largest = Math.max(largest, len);
        }
    }

    /** A result that notes how much of the report had reached standard output when it was rendered. */
    static final class Noting extends ReplayResult {
        final Pieces stdout;
        long writtenBefore = -1;

        Noting(ReplayResult copied, Pieces stdout) {
            for (int i = 0; i < copied.getSchema().getFields().size(); i++) {
                put(i, copied.get(i));
            }
            this.stdout = stdout;
        }

        @Override
        public Verdict getVerdict() {
            if (writtenBefore < 0) {
                writtenBefore = stdout.all.size();
            }
            return super.getVerdict();
        }
    }

    @Test
    void aLargeReportGoesToStandardOutputAsItIsRenderedNotBuiltWholeFirst() throws Exception {
        RunReport large = largeRun();
        // (the HTML page shows at most 100 cases a route: 31 KB here)
        for (String format : List.of("junit", "text")) {
            Pieces stdout = new Pieces();
            // the last case rendered (sorted by route, then case id) notes what was written before it
            List<ReplayResult> results = new ArrayList<>(large.results());
            Noting last = new Noting(results.get(results.size() - 1), stdout);
            results.set(results.size() - 1, last);
            RunReport run = new RunReport(large.runId(), large.candidate(), large.summary(), results, true);
            assertTrue(run.results().get(run.results().size() - 1) == last, "rendered last");
            ReportCommand.publish(run, format, null, FailOn.parse("none", true), new PrintStream(stdout, false, StandardCharsets.UTF_8),
                    new PrintStream(diagnostics, true, StandardCharsets.UTF_8));
            assertTrue(stdout.all.size() > 200_000, format + ": " + stdout.all.size() + " bytes");
            // rendered whole first, the report went out in one piece of its full size (2.2 MB for JUnit); a
            // PrintStream cuts a string printed whole into 8 KB pieces though, so: most of it is out before the last case
            assertTrue(stdout.largest <= 64 * 1024, format + ": a piece of " + stdout.largest + " bytes");
            assertTrue(last.writtenBefore > stdout.all.size() / 2,
                    format + ": " + last.writtenBefore + " of " + stdout.all.size() + " bytes written before the last case");
            if (format.equals("junit")) {
                Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                        .parse(new ByteArrayInputStream(stdout.all.toByteArray()));
                assertEquals(20_000, doc.getElementsByTagName("testcase").getLength());
                assertEquals(2_000, doc.getElementsByTagName("failure").getLength());
            }
        }
    }

    @Test
    void aTextReportWithALoneSurrogateShowsItAsACodeInAFile(@TempDir Path dir) throws Exception {
        // not left to the encoder, which wrote '?' (as String.getBytes does): 'a?b' could be those three characters
        Difference d = Difference.newBuilder().setPath("$.s").setKind(DifferenceKind.CHANGED)
                .setExpected("a" + (char) 0xD800 + "b").setActual("c").build();
        ReplayResult failed = ReplayResult.newBuilder().setRunId("r1").setCaseId("c1").setSignatureId("s1")
                .setRoute("GET /x").setCandidate("http://c").setVerdict(Verdict.FAIL).setDifferences(List.of(d))
                .setIgnoredDifferences(0).setMocks(MockUsage.newBuilder().build()).setRecordedLatencyMicros(1)
                .setCandidateLatencyMicros(1).setTrafficWeight(10).setError(null).setWorker("w")
                .setCompletedAt(Instant.EPOCH).build();
        RunResults rr = new RunResults(List.of(failed));
        Path file = dir.resolve("report.txt");
        assertEquals(ReplayCommand.EXIT_GATE, publish(new RunReport("r1", "http://c", rr.summary(0), rr.results(), true), "text", file));
        assertTrue(Files.readString(file).contains("CHANGED $.s: a\\ud800b -> c"), Files.readString(file));
    }

    /**
     * The report of a complete run with no case fails the gate (exit 1, saying why); a partial one with no result yet is
     * incomplete (exit 3), not empty: its workers may not have reached their cases.
     */
    @Test
    void aCompleteRunWithNoCaseFailsTheGateAndAPartialOneIsIncomplete() {
        RunResults none = new RunResults(List.of());
        assertEquals(ReplayCommand.EXIT_GATE, publish(new RunReport("r1", "http://c", none.summary(0), none.results(), true),
                "text", null));
        assertTrue(diagnostics().contains("FAILED the gate: the run has no case"), diagnostics());
        diagnostics.reset();
        assertEquals(ReplayCommand.EXIT_INCOMPLETE, publish(new RunReport("r1", "http://c", none.summary(0), none.results(),
                false), "text", null));
        assertFalse(diagnostics().contains("FAILED"), diagnostics());
    }

    @Test
    void aPartialReportSaysSoOnDiagnosticsAndExitsIncompleteWhenTheGatePasses() throws Exception {
        int exit = ReportCommand.publish(failedRun(false), "junit", null, FailOn.parse("none", true),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(diagnostics, true, StandardCharsets.UTF_8));
        assertEquals(ReplayCommand.EXIT_INCOMPLETE, exit);
        DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(out.toByteArray()));
        assertTrue(diagnostics().contains("run r1: incomplete"), diagnostics());
    }
}
