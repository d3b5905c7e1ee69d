package io.tapline.replay;

import io.tapline.avro.MockUsage;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.Verdict;
import io.tapline.ops.ExpositionCheck;
import io.tapline.ops.ManagementServer;
import io.tapline.ops.Metrics;
import io.tapline.replay.run.ReplayWorker;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The replay worker's {@code /metrics}, as a strict Prometheus scraper reads it. */
class ReplayMetricsTest {

    private static ReplayResult result(String runId, String caseId, Verdict verdict, long candidateMicros) {
        return ReplayResult.newBuilder().setRunId(runId).setCaseId(caseId).setRoute("GET /a\"b\\c\n{id}")
                .setCandidate("http://c").setVerdict(verdict).setCandidateLatencyMicros(candidateMicros)
                .setMocks(MockUsage.newBuilder().build()).setCompletedAt(Instant.EPOCH).build();
    }

    @Test
    void theManagementPortServesAStrictlyValidExpositionWhateverTheRunAndCaseIds() throws Exception {
        Locale before = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY);
        try {
            Metrics metrics = new Metrics();
            ReplayWorker.ResultListener listener = ReplayCommand.registerMetrics(metrics, () -> 3, () -> 7, () -> 5, () -> 2,
                    () -> 4, () -> true);
            String[] ids = {"r\"1", "r\\n", "r\n2", "caf\u00e9 \ud83d\ude00", "\ud800"};
            for (String id : ids) {
                listener.committed(result(id, id, Verdict.PASS, 1_500));
                listener.committed(result(id, id + "-f", Verdict.FAIL, 250_000));
                listener.committed(result(id, id + "-e", Verdict.ERROR, 12_000_000));
            }
            ExpositionCheck check = served(metrics);
            assertEquals(ids.length, check.value("tapline_replay_cases_total", "verdict", "PASS"));
            assertEquals(ids.length, check.value("tapline_replay_cases_total", "verdict", "FAIL"));
            assertEquals(ids.length, check.value("tapline_replay_cases_total", "verdict", "ERROR"));
            assertEquals(0, check.value("tapline_replay_cases_total", "verdict", "SKIPPED"));
            assertEquals(3 * ids.length, check.value("tapline_replay_candidate_seconds_count"));
            assertEquals(ids.length, check.value("tapline_replay_candidate_seconds_bucket", "le", "0.0025"));
            assertEquals(2 * ids.length, check.value("tapline_replay_candidate_seconds_bucket", "le", "10"));
            assertEquals(ids.length * 12.2515, check.value("tapline_replay_candidate_seconds_sum"), 1e-9);
            assertEquals(3, check.value("tapline_replay_in_flight"));
            assertEquals(7, check.value("tapline_replay_mock_live_calls_total"));
            assertEquals(5, check.value("tapline_replay_mock_live_failed_unnoted_total"));
            assertEquals(2, check.value("tapline_replay_mock_unattributable_calls_total"));
            assertEquals(4, check.value("tapline_replay_candidate_retries_total"));
        } finally {
            Locale.setDefault(before);
        }
    }

    /**
     * A case the candidate was never sent (a request truncated at capture, an undecodable case, a request the client
     * cannot send) has no answer time: its result carries 0. Before, it was observed as a 0 s answer, and a run with
     * many such cases showed the candidate answering in under 50 µs at the median.
     */
    @Test
    void aCaseTheCandidateWasNeverSentIsCountedButAddsNoAnswerTime() throws Exception {
        Metrics metrics = new Metrics();
        ReplayWorker.ResultListener listener = ReplayCommand.registerMetrics(metrics, () -> 0, () -> 0, () -> 0, () -> 0,
                () -> 0, () -> true);
        listener.committed(result("r", "answered", Verdict.PASS, 200_000));
        listener.committed(result("r", "timed-out", Verdict.ERROR, 30_000_000));
        listener.committed(result("r", "truncated", Verdict.SKIPPED, 0));
        listener.committed(result("r", "unsendable", Verdict.ERROR, 0));
        ExpositionCheck check = served(metrics);
        assertEquals(1, check.value("tapline_replay_cases_total", "verdict", "SKIPPED"));
        assertEquals(2, check.value("tapline_replay_cases_total", "verdict", "ERROR"));
        assertEquals(2, check.value("tapline_replay_candidate_seconds_count"));
        assertEquals(0, check.value("tapline_replay_candidate_seconds_bucket", "le", "0.1"));
        assertEquals(1, check.value("tapline_replay_candidate_seconds_bucket", "le", "0.25"));
        assertEquals(30.2, check.value("tapline_replay_candidate_seconds_sum"), 1e-9);
    }

    /**
     * {@code tapline_replay_ready} says what {@code /ready} answers, read when scraped from the same condition: 0 while
     * the process has no worker yet or a worker has not had its first assignment, 1 once every worker has. Without it a
     * dashboard could not tell a replay pod that is up but not replaying (still joining its group) from one that is.
     */
    @Test
    void theReadyGaugeShowsWhatReadyAnswersWhenScraped() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        // the run's own condition, before its workers exist
        BooleanSupplier noWorkerYet = ReplayCommand.readiness(new CopyOnWriteArrayList<ReplayWorker>());
        Metrics starting = new Metrics();
        ReplayCommand.registerMetrics(starting, () -> 0, () -> 0, () -> 0, () -> 0, () -> 0, noWorkerYet);
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, starting, noWorkerYet)) {
            assertEquals(503, get(http, server, "/ready").statusCode(), "no worker yet: not ready");
            assertEquals(0, scrape(http, server).value("tapline_replay_ready"));
        }
        // read at each scrape, not at registration: it follows the condition both ways
        AtomicBoolean assigned = new AtomicBoolean();
        Metrics metrics = new Metrics();
        ReplayCommand.registerMetrics(metrics, () -> 0, () -> 0, () -> 0, () -> 0, () -> 0, assigned::get);
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, metrics, assigned::get)) {
            assertEquals(503, get(http, server, "/ready").statusCode());
            assertEquals(0, scrape(http, server).value("tapline_replay_ready"));
            assigned.set(true);
            assertEquals(200, get(http, server, "/ready").statusCode());
            assertEquals(1, scrape(http, server).value("tapline_replay_ready"));
            assigned.set(false);
            assertEquals(503, get(http, server, "/ready").statusCode());
            assertEquals(0, scrape(http, server).value("tapline_replay_ready"));
        }
    }

    private static HttpResponse<byte[]> get(HttpClient http, ManagementServer server, String path)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static ExpositionCheck scrape(HttpClient http, ManagementServer server) throws IOException, InterruptedException {
        return ExpositionCheck.check(get(http, server, "/metrics").body());
    }

    private static ExpositionCheck served(Metrics metrics) throws IOException, InterruptedException {
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, metrics, () -> true)) {
            HttpResponse<byte[]> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofByteArray());
            return ExpositionCheck.check(scrape.body());
        }
    }
}
