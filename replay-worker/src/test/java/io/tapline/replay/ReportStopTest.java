package io.tapline.replay;

import io.tapline.avro.Difference;
import io.tapline.avro.ReplayResult;
import io.tapline.replay.report.RunReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@code report --out FILE} stopped by a signal while it writes the report ({@code FILE.partial}) removes the partial
 * file and leaves {@code FILE} as it was. The writer runs in a child JVM ({@link Writer}), stopped part way through
 * the report by SIGTERM (a CI job cancelled, a pod's termination) or SIGINT (Ctrl-C). Before, the JVM ended with the
 * partial file left next to the report.
 */
class ReportStopTest {

    @Test
    @Timeout(120)
    void aReportStoppedBySigtermOrSigintWhileItIsWrittenLeavesNoPartialFile(@TempDir Path dir) throws Exception {
        for (String signal : List.of("TERM", "INT")) {
            Path file = dir.resolve("junit-" + signal + ".xml");
            Files.writeString(file, "the previous report");
            Path partial = dir.resolve(file.getFileName() + ".partial");
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Writer.class.getName(), file.toString())
                    .redirectErrorStream(true).start();
            try {
                BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                StringBuilder seen = new StringBuilder();
                for (String line = lines.readLine(); !Writer.WRITING.equals(line); line = lines.readLine()) {
                    assertTrue(line != null, "the child ended before it wrote the report: " + seen);
                    seen.append(line).append('\n');
                }
                assertTrue(Files.exists(partial), "the report is being written to " + partial);
                Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(child.pid())).inheritIO().start();
                assertEquals(0, kill.waitFor(), "kill -" + signal);
                assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child did not stop on SIG" + signal);
                assertEquals(signal.equals("TERM") ? 143 : 130, child.exitValue(), "SIG" + signal);
                assertFalse(Files.exists(partial), "SIG" + signal + ": " + partial + " was left behind");
                assertEquals("the previous report", Files.readString(file), "SIG" + signal);
            } finally {
                child.destroyForcibly();
            }
        }
    }

    /**
     * Once the stop's hook has run, the partial file is gone and is neither made again nor moved in place: a write that
     * goes on while the JVM stops ends in an error, not in a file left behind or a report cut short put in place.
     */
    @Test
    void aStoppedPartialFileIsRemovedAndNeitherMadeNorMovedInPlaceAfterwards(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("junit.xml"), "the previous report");
        try (PartialFile partial = new PartialFile(file)) {
            partial.open().close();
            assertTrue(Files.exists(partial.path()));
            partial.stop();
            assertFalse(Files.exists(partial.path()));
            assertTrue(assertThrows(java.io.IOException.class, partial::open).getMessage().startsWith("stopped (SIGTERM or SIGINT)"));
            assertThrows(java.io.IOException.class, () -> partial.moveTo(file));
        }
        assertEquals("the previous report", Files.readString(file));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    /**
     * Writes a JUnit report of one failed case to {@code --out args[0]} as {@code report} does, and stops for good part
     * way through it (once its head is written to the partial file), saying {@link #WRITING} on standard output.
     */
    public static final class Writer {
        static final String WRITING = "writing the report";

        public static void main(String[] args) throws Exception {
            RunReport run = ReportCommandTest.failedRun(true);
            List<Difference> endless = new AbstractList<>() {
                @Override
                public Difference get(int index) {
                    throw new IndexOutOfBoundsException(index);
                }

                @Override
                public int size() {
                    // read as the case's failure is rendered: the report's head is in the partial file by now
                    System.out.println(WRITING);
                    System.out.flush();
                    try {
                        Thread.sleep(Long.MAX_VALUE);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return 0;
                }
            };
            ReplayResult stuck = ReplayResult.newBuilder(run.results().get(0)).setDifferences(endless).build();
            RunReport report = new RunReport(run.runId(), run.candidate(), run.summary(), List.of(stuck), true);
            System.exit(ReportCommand.publish(report, "junit", Path.of(args[0]), FailOn.parse("any", true), System.out,
                    System.err));
        }
    }
}
