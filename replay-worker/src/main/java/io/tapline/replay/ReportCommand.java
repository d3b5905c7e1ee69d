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

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code tapline report}: renders a run's committed results; exit 1 when the gate fails, 3 when the run is unknown. */
public final class ReportCommand {

    private final TaplineConfig config;
    private final PrintStream out;

    public ReportCommand(TaplineConfig config, PrintStream out) {
        this.config = config;
        this.out = out;
    }

    public int run() {
        String runId = ReplayCommand.requireRun(config);
        FailOn gate = ReplayCommand.failOn(config);
        Duration timeout = config.getDuration(ReplayOptions.KAFKA_TIMEOUT);
        KafkaSettings kafka = ReplayCommand.kafka(config, false);
        AvroCodec codec = new AvroCodec(kafka.registry());
        RunTopics topics = new RunTopics(TaplineTopics.CASES, TaplineTopics.NOISE, config.get(ReplayOptions.TOPIC_RESULTS),
                config.get(ReplayOptions.TOPIC_RUNS), TaplineTopics.DLQ);
        RunCoordinator coordinator = new RunCoordinator(kafka, codec, topics, Clock.systemUTC(), timeout);
        Optional<RunEvent> summaryEvent = coordinator.summary(runId);
        Optional<Map<Integer, Long>> start = coordinator.resultsStart(runId);
        if (summaryEvent.isEmpty() && start.isEmpty()) {
            out.println("run " + runId + ": not found: no bounds and no summary in " + topics.runs());
            return ReplayCommand.EXIT_INCOMPLETE;
        }
        // A completed run's report reads the range its summary read; an unfinished one from the run's start on.
        Optional<RunSummary> recorded = summaryEvent.map(RunEvent::getSummary)
                .filter(s -> !s.getResultsEndOffsets().isEmpty());
        RunResults results = recorded.isPresent()
                ? RunResults.load(kafka, codec, topics.results(), runId,
                        RunResults.byPartitionNumber(recorded.get().getResultsStartOffsets()),
                        RunResults.byPartitionNumber(recorded.get().getResultsEndOffsets()), timeout)
                : RunResults.load(kafka, codec, topics.results(), runId, start.orElse(Map.of()), Map.of(), timeout);
        if (summaryEvent.isEmpty() && results.size() == 0) {
            out.println("run " + runId + ": no results and no summary found in " + topics.results() + " / " + topics.runs());
            return ReplayCommand.EXIT_INCOMPLETE;
        }
        RunSummary summary = summaryEvent.map(RunEvent::getSummary)
                .map(s -> results.summary(s.getDurationMillis()))
                .orElseGet(() -> results.summary(0));
        List<ReplayResult> all = results.results();
        String candidate = summaryEvent.map(RunEvent::getCandidate)
                .orElse(all.isEmpty() ? "" : all.get(0).getCandidate());
        RunReport report = new RunReport(runId, candidate, summary, all, summaryEvent.isPresent());
        String rendered = switch (config.get(ReplayOptions.FORMAT).toLowerCase(java.util.Locale.ROOT)) {
            case "junit" -> JUnitReport.render(report);
            case "html" -> HtmlReport.render(report);
            default -> TextReport.render(report);
        };
        if (config.has(ReplayOptions.OUT)) {
            Path path = Path.of(config.get(ReplayOptions.OUT));
            try {
                Files.writeString(path, rendered, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ConfigException("option --out: cannot write " + path + ": " + e.getMessage(), e);
            }
            out.println("run " + runId + ": report written to " + path);
        } else {
            out.print(rendered);
        }
        String violation = gate.violation(summary);
        if (violation != null) {
            out.println("run " + runId + ": FAILED the gate: " + violation);
            return ReplayCommand.EXIT_GATE;
        }
        return summaryEvent.isPresent() ? ReplayCommand.EXIT_OK : ReplayCommand.EXIT_INCOMPLETE;
    }
}
