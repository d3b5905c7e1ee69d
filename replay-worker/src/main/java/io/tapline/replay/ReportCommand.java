package io.tapline.replay;

import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunEvent;
import io.tapline.avro.RunSummary;
import io.tapline.config.ConfigException;
import io.tapline.config.TaplineConfig;
import io.tapline.replay.report.HtmlReport;
import io.tapline.replay.report.JUnitReport;
import io.tapline.replay.report.RunReport;
import io.tapline.replay.report.TextReport;
import io.tapline.replay.run.AvroCodec;
import io.tapline.replay.run.KafkaSettings;
import io.tapline.replay.run.RunCoordinator;
import io.tapline.replay.run.RunResults;
import io.tapline.replay.run.RunTopics;
import io.tapline.topics.TaplineTopics;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** {@code tapline report}: renders a run's committed results; exit 1 when the gate fails, 3 when the run is unknown. */
public final class ReportCommand {

    /** Characters of the report buffered before they go out. */
    private static final int BUFFER = 64 * 1024;

    private final TaplineConfig config;
    private final PrintStream out;
    private final PrintStream diagnostics;

    /**
     * @param out         receives the report and nothing else (when there is no {@code --out})
     * @param diagnostics receives everything said about it: not found, where it was written, the gate's verdict
     */
    public ReportCommand(TaplineConfig config, PrintStream out, PrintStream diagnostics) {
        this.config = config;
        this.out = out;
        this.diagnostics = diagnostics;
    }

    public int run() {
        String runId = ReplayCommand.requireRun(config);
        FailOn gate = ReplayCommand.failOn(config);
        Duration timeout = ReplaySettings.positiveDuration(config, ReplayOptions.KAFKA_TIMEOUT);
        KafkaSettings kafka = ReplayCommand.kafka(config, false);
        RunTopics topics = new RunTopics(TaplineTopics.CASES, TaplineTopics.NOISE, config.getTopic(ReplayOptions.TOPIC_RESULTS),
                config.getTopic(ReplayOptions.TOPIC_RUNS), TaplineTopics.DLQ);
        TopicRoles.checkReport(config);
        Path file = outFile(config);
        AvroCodec codec = new AvroCodec(kafka.registry());
        RunCoordinator coordinator = new RunCoordinator(kafka, codec, topics, Clock.systemUTC(), timeout);
        Optional<RunEvent> summaryEvent = coordinator.summary(runId);
        Optional<Map<Integer, Long>> start = coordinator.resultsStart(runId);
        if (summaryEvent.isEmpty() && start.isEmpty()) {
            diagnostics.println("run " + runId + ": not found: no bounds and no summary in " + topics.runs());
            return ReplayCommand.EXIT_INCOMPLETE;
        }
        RunResults results = results(kafka, codec, topics.results(), runId, summaryEvent, start.orElse(Map.of()), timeout);
        if (summaryEvent.isEmpty() && results.size() == 0) {
            diagnostics.println("run " + runId + ": no results and no summary found in " + topics.results() + " / " + topics.runs());
            return ReplayCommand.EXIT_INCOMPLETE;
        }
        RunReport report = report(runId, summaryEvent, results);
        if (report.results().size() < report.summary().getTotal()) {
            diagnostics.println(missing(report, topics.results()));
        }
        return publish(report, config.get(ReplayOptions.FORMAT), file, "option --" + ReplayOptions.OUT
                + config.origin(ReplayOptions.OUT), gate, out, diagnostics);
    }

    /**
     * The {@code --out} file, or null for standard output, checked before Kafka is reached: a directory that does
     * not exist or cannot be written in would otherwise fail the report only after every result was read. An empty
     * value, however it was set, is refused: read as no {@code --out}, a CI script's {@code --out "$JUNIT"} with the
     * variable unset wrote the report into the job's log and left no file for the CI system to read.
     */
    static Path outFile(TaplineConfig config) {
        String value = config.get(ReplayOptions.OUT);
        if (value == null) {
            return null;
        }
        if (value.isBlank()) {
            throw new ConfigException(config.named(ReplayOptions.OUT) + ": the value is empty; give the report's file"
                    + " name, or leave the option out to write the report to standard output");
        }
        String flag = "option --" + ReplayOptions.OUT + config.origin(ReplayOptions.OUT) + ": ";
        Path file;
        try {
            file = Path.of(config.get(ReplayOptions.OUT));
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigException(flag + "'" + config.get(ReplayOptions.OUT) + "' is not a file name: " + e.getMessage(), e);
        }
        if (Files.isDirectory(file)) {
            throw new ConfigException(flag + file + " is a directory; name the report's file");
        }
        if (streamedInto(file)) {
            if (!Files.isWritable(file)) {
                throw new ConfigException(flag + "cannot write " + file + ": it is not writable");
            }
            return file;
        }
        Path dir = replaced(file).toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new ConfigException(flag + "cannot write " + file + ": no such directory: " + dir);
        }
        if (!Files.isWritable(dir)) {
            throw new ConfigException(flag + "cannot write " + file + ": directory " + dir + " is not writable");
        }
        return file;
    }

    /**
     * Whether the report is written straight into {@code file} rather than next to it and moved in place: a file that
     * exists and is not a regular file (a device such as {@code /dev/null} or {@code /dev/stdout} on a terminal, a named
     * pipe, the pipe of a shell's {@code >(...)}). Moved in place, the report replaced it with a regular file (run as
     * root, {@code --out /dev/null} replaced the machine's {@code /dev/null}), and a reader of the pipe got nothing.
     */
    static boolean streamedInto(Path file) {
        return Files.exists(file) && !Files.isRegularFile(file);
    }

    /**
     * The regular file a report written next to it and moved in place replaces: {@code file}, or the file a symbolic
     * link {@code file} names (the link is kept, as a shell's {@code >} keeps it; moved onto the link, the report
     * replaced the link itself). A link to no file yet, and a file that does not exist, are replaced as they are named.
     */
    static Path replaced(Path file) {
        if (Files.isSymbolicLink(file) && Files.exists(file)) {
            try {
                return file.toRealPath();
            } catch (IOException e) {
                return file; // gone meanwhile: written as named
            }
        }
        return file;
    }

    /**
     * Why a file could not be written: Java's message of a file system error that gives no reason is the path alone
     * ({@code /proc/x.xml.partial} for a directory that does not take files), so its kind is said before it.
     */
    static String why(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() == null && f.getFile() != null) {
            String kind = e instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : e instanceof java.nio.file.FileAlreadyExistsException ? "already exists"
                    : e.getClass().getSimpleName();
            return kind + ": " + f.getFile();
        }
        return e.getMessage();
    }

    /**
     * The run's committed results: a completed run's in the range its summary read, an unfinished one's from the
     * run's start ({@code start}, per partition number) on.
     */
    static RunResults results(KafkaSettings kafka, AvroCodec codec, String topic, String runId, Optional<RunEvent> summaryEvent,
                              Map<Integer, Long> start, Duration timeout) {
        Optional<RunSummary> recorded = summaryEvent.map(RunEvent::getSummary)
                .filter(s -> !s.getResultsEndOffsets().isEmpty());
        return recorded.isPresent()
                ? RunResults.load(kafka, codec, topic, runId, RunResults.byPartitionNumber(recorded.get().getResultsStartOffsets()),
                        RunResults.byPartitionNumber(recorded.get().getResultsEndOffsets()), timeout)
                : RunResults.load(kafka, codec, topic, runId, start, Map.of(), timeout);
    }

    /**
     * The report of a run: its results counted (each signature's traffic once), with the duration and candidate its
     * summary recorded; without a summary, a partial report (no duration, the candidate of its first result). When
     * fewer results are left than the summary counted (the results topic's retention deleted some), the summary's
     * counts are reported and gated on, not the remainder's: a run that failed must not pass when its results expire.
     */
    static RunReport report(String runId, Optional<RunEvent> summaryEvent, RunResults results) {
        RunSummary summary = results.summary(summaryEvent.map(e -> e.getSummary().getDurationMillis()).orElse(0L));
        if (summaryEvent.isPresent() && summary.getTotal() < summaryEvent.get().getSummary().getTotal()) {
            // Results the summary counted are gone (the results topic's retention): counted again, a run that failed
            // would pass. The counts, and so the gate, are the ones the run was decided on.
            summary = summaryEvent.get().getSummary();
        }
        List<ReplayResult> all = results.results();
        String candidate = summaryEvent.map(RunEvent::getCandidate)
                .orElse(all.isEmpty() ? "" : all.get(0).getCandidate());
        return new RunReport(runId, candidate, summary, all, summaryEvent.isPresent());
    }

    /** Says that some of a completed run's results are no longer in the results topic, and what is reported instead. */
    static String missing(RunReport report, String topic) {
        return "run " + report.runId() + ": " + (report.summary().getTotal() - report.results().size()) + " of the "
                + report.summary().getTotal() + " results its summary counted are no longer in " + topic
                + " (retention): the counts and the gate are the summary's, the cases listed are those still there";
    }

    private static void write(RunReport report, String format, Writer to) throws IOException {
        switch (format.toLowerCase(Locale.ROOT)) {
            case "junit" -> JUnitReport.write(report, to);
            case "html" -> HtmlReport.write(report, to);
            default -> TextReport.write(report, to);
        }
    }

    /**
     * Renders the report in {@code format} to {@code file}, or to {@code out} when there is none, and applies the
     * gate. {@code out} receives the report alone, in UTF-8 whatever its own charset, so
     * {@code report --format junit > junit.xml} is well-formed whatever the verdict and the locale; where the report
     * went and the gate's verdict go to {@code diagnostics}.
     *
     * @return {@link ReplayCommand#EXIT_GATE} when the gate fails, else {@link ReplayCommand#EXIT_OK}, or
     *         {@link ReplayCommand#EXIT_INCOMPLETE} when the run has no summary yet (the report is partial) or standard
     *         output did not take the report whole
     */
    static int publish(RunReport report, String format, Path file, FailOn gate, PrintStream out, PrintStream diagnostics) {
        return publish(report, format, file, "option --" + ReplayOptions.OUT, gate, out, diagnostics);
    }

    /** {@link #publish}, a file that cannot be written named as {@code outOption} (where {@code --out} was set). */
    static int publish(RunReport report, String format, Path file, String outOption, FailOn gate, PrintStream out,
                       PrintStream diagnostics) {
        String runId = report.runId();
        // UTF-8, as the XML declaration and the page's meta charset say, on standard output too: a PrintStream encodes
        // in the console's charset (ASCII under LANG=C, where every other character became '?'), so bytes go through.
        // The report is written as it is rendered, a case at a time, never held whole.
        if (file != null && streamedInto(file)) {
            // a device or a pipe: written into as it is, never replaced
            try (Writer w = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(file), StandardCharsets.UTF_8), BUFFER)) {
                write(report, format, w);
            } catch (IOException e) {
                throw new ConfigException(outOption + ": cannot write " + file + ": " + why(e), e);
            }
            diagnostics.println("run " + runId + ": report written to " + file);
        } else if (file != null) {
            // Written next to it, then moved in place: a report cut short (an error part way, a SIGTERM or SIGINT) never
            // replaces the file a CI job will read, a reader never sees half of one, and the partial file is removed.
            Path target = replaced(file);
            PartialFile partial = new PartialFile(target);
            try {
                try (partial) {
                    try (Writer w = new BufferedWriter(new OutputStreamWriter(partial.open(), StandardCharsets.UTF_8), BUFFER)) {
                        write(report, format, w);
                    }
                    partial.moveTo(target);
                }
            } catch (IOException e) {
                throw new ConfigException(outOption + ": cannot write " + file + ": " + why(e), e);
            }
            diagnostics.println("run " + runId + ": report written to " + file);
        } else {
            // not closed: that would close standard output
            Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), BUFFER);
            try {
                write(report, format, w);
                w.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e); // a PrintStream throws none: it sets its error flag
            }
            if (out.checkError()) {
                // the flag is all a PrintStream keeps of a failed write: read, a report lost is not a passed gate
                diagnostics.println("run " + runId + ": the report could not be written whole to standard output (a full"
                        + " disk, or a pipe whose reader is gone): no report, or part of one, reached it");
                return ReplayCommand.EXIT_INCOMPLETE;
            }
        }
        if (!report.complete()) {
            diagnostics.println("run " + runId + ": incomplete: no worker has written its summary yet, the report is partial");
        }
        // a partial report of a run that has not reached its cases yet is incomplete, not empty
        FailOn applied = report.complete() ? gate : gate.allowingEmpty();
        String violation = applied.violation(report.summary());
        if (violation != null && !report.complete() && !applied.settledByPart(report.summary())) {
            // a share of the traffic so far: the results still to come may bring it under the threshold
            diagnostics.println("run " + runId + ": over the gate so far, which the results still to come may change: " + violation);
            return ReplayCommand.EXIT_INCOMPLETE;
        }
        if (violation != null) {
            diagnostics.println("run " + runId + ": FAILED the gate: " + violation);
            return ReplayCommand.EXIT_GATE;
        }
        return report.complete() ? ReplayCommand.EXIT_OK : ReplayCommand.EXIT_INCOMPLETE;
    }
}
