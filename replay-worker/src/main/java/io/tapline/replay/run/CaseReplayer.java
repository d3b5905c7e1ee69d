package io.tapline.replay.run;

import io.tapline.avro.Case;
import io.tapline.avro.Difference;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.MockCall;
import io.tapline.avro.MockUsage;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.Verdict;
import io.tapline.http.UnreadableAnswer;
import io.tapline.http.UpstreamReads;
import io.tapline.logging.PeriodicWarning;
import io.tapline.replay.compare.Comparison;
import io.tapline.replay.compare.ResponseComparator;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.compare.RedactedValues;
import io.tapline.replay.mock.CaseMocks;
import io.tapline.replay.mock.MockMatcher;
import io.tapline.replay.mock.MockRegistry;
import io.tapline.replay.mock.TraceContext;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToIntFunction;

/**
 * Replays one case: registers its recorded calls with the mock under the case's trace id, sends the recorded
 * request to the candidate, compares the answer and the dependency usage, and builds the {@link ReplayResult}, with
 * the candidate's values in it redacted by the capture's rules.
 * Never fails its future: transport failures, and anything else that goes wrong with one case, become verdict ERROR.
 */
public final class CaseReplayer {

    private static final Logger log = LoggerFactory.getLogger(CaseReplayer.class);

    /**
     * The most differences one result lists; the rest are counted in a note. A candidate that answers a recorded
     * {@code []} with 200,000 items would otherwise make a result of several MB, over the results topic's record limit:
     * the transaction would abort on every retry and the run would never complete. 200 differences of at most
     * 512-character values stay well under 1 MB.
     */
    public static final int MAX_LISTED_DIFFERENCES = 200;

    /**
     * The most characters one result lists in its differences, notes and dependency calls together (a UTF-8 char is
     * at most 3 bytes: 768 KiB, under the results topic's 1 MiB record limit with room for the rest). Values are cut at
     * 512 characters, but a dependency call's URL is not (the mock takes request lines up to 64 KiB) and a candidate may
     * make up to {@link CaseMocks#MAX_CALLS_KEPT} calls: 300 unmatched calls with a 4 KiB query made a result of
     * ~2.9 MB, whose transaction aborted on every retry. What does not fit is counted, not listed.
     */
    static final int MAX_LISTED_CHARS = 256 * 1024;

    private final String runId;
    private final String worker;
    private final CandidateClient candidate;
    private final MockRegistry registry;
    private final MockMatcher matcher;
    private final ResponseComparator comparator;
    private final ResultRedaction published;
    private final Clock clock;
    /**
     * The warning, with its stack, about cases that could not be replayed (a bug, or a recording no decoder makes): at
     * most one every 10 s, with the count since the last; each such case's result says why.
     */
    private final PeriodicWarning notReplayed = new PeriodicWarning(Duration.ofSeconds(10));

    /** @param published redacts the candidate's values in the results (see {@link ResultRedaction}) */
    public CaseReplayer(String runId, String worker, CandidateClient candidate, MockRegistry registry,
                        MockMatcher matcher, ResponseComparator comparator, ResultRedaction published, Clock clock) {
        this.runId = runId;
        this.worker = worker;
        this.candidate = candidate;
        this.registry = registry;
        this.matcher = matcher;
        this.comparator = comparator;
        this.published = published;
        this.clock = clock;
    }

    /** Route of a case as the noise topic keys it: METHOD + space + route template. */
    public static String routeOf(Case c) {
        return c.getParts().getMethod().toUpperCase(Locale.ROOT) + " " + c.getParts().getRouteTemplate();
    }

    /**
     * Never fails, nor throws: whatever goes wrong while replaying the case (its recording cannot be read, its result
     * cannot be built) is this case's ERROR with the reason, its trace id unregistered, never its batch's failure.
     */
    public Future<ReplayResult> replay(Case c) {
        AtomicReference<Registered> registered = new AtomicReference<>();
        Future<ReplayResult> replayed;
        try {
            replayed = replayOnce(c, registered);
        } catch (RuntimeException | StackOverflowError e) {
            replayed = Future.failedFuture(e);
        }
        return replayed.recover(err -> {
            Registered r = registered.get();
            if (r != null) {
                registry.unregister(r.traceId(), r.mocks());
            }
            ReplayResult result = failed(c, "the case could not be replayed: " + err);
            long due = notReplayed.occurred();
            if (due > 0) {
                // the result holds the reason, not where it came from: the stack is here, once
                log.warn("case {} of run {} could not be replayed, its result is an ERROR: {} ({} such case(s) since the"
                        + " last warning, at most one every 10 s)", result.getCaseId(), runId, err, due, err);
            }
            return Future.succeededFuture(result);
        });
    }

    /** The mocks a replay registered, under its trace id. */
    private record Registered(String traceId, CaseMocks mocks) {
    }

    private Future<ReplayResult> replayOnce(Case c, AtomicReference<Registered> registered) {
        HttpRequest request = c.getSample().getRequest();
        if (request.getTruncated()) {
            return Future.succeededFuture(result(c, Verdict.SKIPPED, List.of(), 0, emptyUsage(), 0,
                    "request body was truncated at capture (" + request.getOriginalSize() + " bytes): cannot be replayed faithfully",
                    List.of()));
        }
        TraceContext.CaseTrace trace = TraceContext.forCase(runId, c.getCaseId());
        String traceId = trace.traceId();
        IgnoreRules.Scope ignores = comparator.ignores(c.getService(), routeOf(c));
        RedactedValues redacted = comparator.redacted().forCase(request.getHeaders(), candidate.headerOverrides());
        CaseMocks mocks = new CaseMocks(c.getCaseId(), c.getSample().getOutboundCalls(), matcher, ignores, redacted);
        try {
            registry.register(traceId, mocks);
        } catch (IllegalStateException e) {
            return Future.succeededFuture(result(c, Verdict.ERROR, List.of(), 0, emptyUsage(), 0, e.getMessage(), List.of()));
        }
        registered.set(new Registered(traceId, mocks));
        long start = System.nanoTime();
        // a live call of the case is due before the case is given up, so that its failure is in the result
        mocks.dueBy(start + candidate.timeout().toNanos());
        Future<CandidateClient.Answer> answer;
        try {
            answer = candidate.send(request, trace.traceparent());
        } catch (RuntimeException e) {
            // a recording the client cannot send (a method it does not know, say): this case's error, not the batch's
            registry.unregister(traceId, mocks);
            return Future.succeededFuture(result(c, Verdict.ERROR, List.of(), 0, mocks.usage(), 0,
                    "cannot send the recorded request: " + e, List.of()));
        }
        // A failure to build the result from the answer is not the candidate's failure to answer: it goes to replay()
        return answer.transform(ar -> {
            long micros = (System.nanoTime() - start) / 1000;
            registry.unregister(traceId, mocks);
            if (ar.failed() && ar.cause() instanceof CandidateClient.NoAnswerOnReusedConnection) {
                return sendAgain(c, ignores, redacted, mocks, ar.cause(), start, micros, registered);
            }
            if (ar.failed()) {
                return Future.succeededFuture(result(c, Verdict.ERROR, List.of(), 0, mocks.usage(), micros,
                        ar.cause() instanceof UnreadableAnswer unreadable
                                ? "candidate " + candidate.target() + " answered with bytes that cannot be read as HTTP: "
                                + unreadable.getMessage()
                                : ar.cause() instanceof CandidateClient.NoAnswerToJudge odd
                                ? "candidate " + candidate.target() + " " + odd.getMessage()
                                : "candidate " + candidate.target() + " did not answer: " + ar.cause(),
                        dependencyNotes(mocks)));
            }
            return Future.succeededFuture(judge(c, ignores, redacted, mocks, ar.result().response(), micros,
                    ar.result().notes()));
        });
    }

    /**
     * The case's request sent once more, on a new connection, after the candidate ended the reused keep-alive
     * connection it went on before answering (RFC 9110 9.2.2 allows a client to retry an idempotent request then).
     * The second attempt has mocks and a trace id of its own ({@link TraceContext#forRetry}): the result counts the
     * dependency calls of the attempt whose answer is compared, and a call the first makes late is late, attributed to
     * none. It has what is left of the case's {@code --request-timeout}, so a case never takes longer than before.
     * Not sent again: a request of a method that is not idempotent (POST, PATCH) whose first attempt made dependency
     * calls, which the candidate acted on and might act on twice; and a case with no time left. Those are the ERROR
     * they were.
     */
    private Future<ReplayResult> sendAgain(Case c, IgnoreRules.Scope ignores, RedactedValues redacted, CaseMocks first,
                                           Throwable cause, long start, long micros, AtomicReference<Registered> registered) {
        HttpRequest request = c.getSample().getRequest();
        String method = request.getMethod().toUpperCase(Locale.ROOT);
        int firstCalls = first.callsSeen();
        long left = candidate.timeout().toNanos() - (System.nanoTime() - start);
        String notSent = null;
        if (firstCalls > 0 && !UpstreamReads.idempotent(method)) {
            notSent = "not sent again: " + method + " is not idempotent, and the candidate made " + firstCalls
                    + " dependency call(s) for it, so it acted on the request and could act on it twice";
        } else if (left <= 0) {
            notSent = "not sent again: no time left of the request timeout";
        }
        if (notSent != null) {
            return Future.succeededFuture(result(c, Verdict.ERROR, List.of(), 0, first.usage(), micros,
                    "candidate " + candidate.target() + " did not answer: " + cause + "; " + notSent,
                    dependencyNotes(first)));
        }
        String note = "the candidate ended a reused keep-alive connection without answering (" + cause.getCause()
                + "): the request was sent again on a new connection"
                + (firstCalls > 0 ? "; the first attempt's " + firstCalls + " dependency call(s) are not counted" : "");
        TraceContext.CaseTrace trace = TraceContext.forRetry(runId, c.getCaseId());
        CaseMocks mocks = new CaseMocks(c.getCaseId(), c.getSample().getOutboundCalls(), matcher, ignores, redacted);
        mocks.dueBy(start + candidate.timeout().toNanos()); // the first attempt's deadline: the retry has what is left
        try {
            registry.register(trace.traceId(), mocks);
        } catch (IllegalStateException e) {
            return Future.succeededFuture(result(c, Verdict.ERROR, List.of(), 0, first.usage(), micros,
                    "candidate " + candidate.target() + " did not answer: " + cause + "; not sent again: " + e.getMessage(),
                    dependencyNotes(first)));
        }
        registered.set(new Registered(trace.traceId(), mocks));
        long again = System.nanoTime();
        Future<CandidateClient.Answer> answer;
        try {
            answer = candidate.sendOnNewConnection(request, trace.traceparent(), Duration.ofNanos(left));
        } catch (RuntimeException e) {
            registry.unregister(trace.traceId(), mocks);
            throw e;
        }
        return answer.transform(ar -> {
            // the answer time of the attempt whose answer is compared
            long answeredMicros = (System.nanoTime() - again) / 1000;
            registry.unregister(trace.traceId(), mocks);
            List<String> notes = new ArrayList<>();
            notes.add(note);
            if (ar.failed()) {
                notes.addAll(dependencyNotes(mocks));
                return Future.succeededFuture(result(c, Verdict.ERROR, List.of(), 0, mocks.usage(), answeredMicros,
                        (ar.cause() instanceof UnreadableAnswer unreadable
                                ? "candidate " + candidate.target() + " answered on a new connection with bytes that"
                                + " cannot be read as HTTP: " + unreadable.getMessage()
                                : ar.cause() instanceof CandidateClient.NoAnswerToJudge odd
                                ? "candidate " + candidate.target() + " on a new connection " + odd.getMessage()
                                : "candidate " + candidate.target() + " did not answer on a new connection either: "
                                + ar.cause()) + " (first: " + cause.getCause() + ")", notes));
            }
            notes.addAll(ar.result().notes());
            return Future.succeededFuture(judge(c, ignores, redacted, mocks, ar.result().response(), answeredMicros, notes));
        });
    }

    /** The result of a case the candidate answered: its answer and its dependency calls compared with the recording. */
    private ReplayResult judge(Case c, IgnoreRules.Scope ignores, RedactedValues redacted, CaseMocks mocks,
                               HttpResponse resp, long micros, List<String> attemptNotes) {
        Comparison cmp;
        try {
            cmp = comparator.compare(ignores, redacted, c.getSample().getResponse(), resp);
        } catch (RuntimeException | StackOverflowError e) {
            // the candidate answered; its answer is this case's error, not the candidate's failure to answer
            List<String> notes = new ArrayList<>(attemptNotes);
            notes.addAll(dependencyNotes(mocks));
            return result(c, Verdict.ERROR, List.of(), 0, mocks.usage(), micros,
                    "the answer could not be compared: " + e, notes);
        }
        List<Difference> diffs = new ArrayList<>(cmp.differences());
        diffs.addAll(mocks.differences());
        List<String> truncated = mocks.truncatedResponsesServed();
        List<String> notes = new ArrayList<>(attemptNotes);
        notes.addAll(cmp.notes());
        notes.addAll(truncated);
        notes.addAll(mocks.liveFailures());
        notes.addAll(mocks.notServed());
        notes.addAll(mocks.notes());
        int ignored = cmp.ignored() + mocks.ignoredDifferences();
        if (diffs.isEmpty()) {
            return result(c, Verdict.PASS, diffs, ignored, mocks.usage(), micros, null, notes);
        }
        if (!truncated.isEmpty()) {
            return result(c, Verdict.SKIPPED, diffs, ignored, mocks.usage(), micros,
                    inconclusive(diffs.size(), truncated), notes);
        }
        return result(c, Verdict.FAIL, diffs, ignored, mocks.usage(), micros, null, notes);
    }

    /**
     * What the mock served the candidate that may explain an answer it could not give or that differs: recorded
     * responses served cut, live calls that failed (answered 502 {@code live-failed}), recorded responses it could not
     * serve (answered 500 {@code error}).
     */
    private static List<String> dependencyNotes(CaseMocks mocks) {
        List<String> notes = new ArrayList<>(mocks.truncatedResponsesServed());
        notes.addAll(mocks.liveFailures());
        notes.addAll(mocks.notServed());
        return notes;
    }

    /**
     * An ERROR result with {@code reason}; when even that cannot be built from the case (what failed was reading it),
     * one that reads nothing of the case but its id.
     */
    private ReplayResult failed(Case c, String reason) {
        try {
            return result(c, Verdict.ERROR, List.of(), 0, emptyUsage(), 0, reason, List.of());
        } catch (RuntimeException e) {
            return bare(c.getCaseId(), "(unreadable case)", Verdict.ERROR, reason + "; its result: " + e);
        }
    }

    /**
     * Why a case with differences is not judged a regression: the candidate was served a dependency response whose
     * body the capture cut, as if it were whole, and a candidate parsing a cut body answers differently for that alone.
     */
    static String inconclusive(int differences, List<String> truncated) {
        return "inconclusive, not judged a regression: " + differences + " difference(s), but the candidate was served "
                + truncated.size() + " dependency response(s) recorded truncated at capture, cut (see notes): the"
                + " differences may come from the cut body";
    }

    /**
     * The result of a case whose latest version could not be decoded (it went to the dead-letter topic): SKIPPED with
     * the reason, so it is counted and shown in every report instead of silently missing from the run.
     */
    public ReplayResult undecodable(String caseId, String reason) {
        return bare(caseId, "(undecodable case)", Verdict.SKIPPED, reason);
    }

    /** A result that reads nothing of its case but the id. */
    private ReplayResult bare(String caseId, String route, Verdict verdict, String reason) {
        return ReplayResult.newBuilder()
                .setRunId(runId)
                .setCaseId(caseId)
                .setSignatureId("")
                .setRoute(route)
                .setCandidate(candidate.target().toString())
                .setVerdict(verdict)
                .setDifferences(List.of())
                .setDifferenceCount(0)
                .setIgnoredDifferences(0)
                .setMocks(emptyUsage())
                .setRecordedLatencyMicros(0)
                .setCandidateLatencyMicros(0)
                .setTrafficWeight(0)
                .setError(reason)
                .setWorker(worker)
                .setCompletedAt(clock.instant())
                .build();
    }

    private static int chars(String s) {
        return s == null ? 0 : s.length();
    }

    private static MockUsage emptyUsage() {
        return MockUsage.newBuilder().build();
    }

    private ReplayResult result(Case c, Verdict verdict, List<Difference> diffs, int ignored, MockUsage usage,
                                long candidateMicros, String error, List<String> notes) {
        int differenceCount = diffs.size();
        // Sized as published (redacted); then whole differences, notes and calls are left out, first to last, once
        // the characters they take would pass MAX_LISTED_CHARS: nothing is cut part way.
        List<Difference> listed = published.differences(
                diffs.size() > MAX_LISTED_DIFFERENCES ? diffs.subList(0, MAX_LISTED_DIFFERENCES) : diffs);
        MockUsage calls = published.usage(usage);
        notes = published.notes(notes);
        CharBudget budget = new CharBudget(MAX_LISTED_CHARS);
        int fitting = budget.take(listed, d -> chars(d.getPath()) + chars(d.getExpected()) + chars(d.getActual()));
        List<String> kept = new ArrayList<>();
        if (fitting < differenceCount) {
            kept.add(String.format(Locale.ROOT, "%,d more difference(s) not listed: a result lists the first %d",
                    differenceCount - fitting, fitting)
                    + (fitting < listed.size() ? String.format(Locale.ROOT, " (at most %d, within %,d characters)",
                    MAX_LISTED_DIFFERENCES, MAX_LISTED_CHARS) : ""));
            budget.spend(chars(kept.get(0)));
            listed = listed.subList(0, fitting);
        }
        int notesFitting = budget.take(notes, CaseReplayer::chars);
        List<MockCall> callList = calls.getCalls();
        int callsFitting = budget.take(callList,
                m -> chars(m.getMethod()) + chars(m.getDestination()) + chars(m.getPath()) + chars(m.getOutcome()));
        if (notesFitting < notes.size() || callsFitting < callList.size()) {
            kept.add(String.format(Locale.ROOT, "%,d more note(s) and %,d more dependency call(s) not listed (calls are"
                    + " counted in the mock usage): a result lists at most %,d characters of them",
                    notes.size() - notesFitting, callList.size() - callsFitting, MAX_LISTED_CHARS));
            calls = MockUsage.newBuilder(calls).setCalls(callList.subList(0, callsFitting)).build();
        }
        kept.addAll(0, notes.subList(0, notesFitting));
        notes = kept;
        return ReplayResult.newBuilder()
                .setRunId(runId)
                .setCaseId(c.getCaseId())
                .setSignatureId(c.getSignatureId())
                .setRoute(routeOf(c))
                .setCandidate(candidate.target().toString())
                .setVerdict(verdict)
                .setDifferences(listed)
                .setDifferenceCount(differenceCount)
                .setIgnoredDifferences(ignored)
                .setMocks(calls)
                .setRecordedLatencyMicros(c.getSample().getLatencyMicros())
                .setCandidateLatencyMicros(candidateMicros)
                .setTrafficWeight(c.getHits())
                .setError(error)
                .setWorker(worker)
                .setCompletedAt(clock.instant())
                .setNotes(notes)
                .build();
    }

    /** The characters a result has left for what it lists: whole items are taken, first to last, while they fit. */
    private static final class CharBudget {

        private int left;

        CharBudget(int chars) {
            this.left = chars;
        }

        /** How many of {@code items}, from the first, fit in what is left; their characters are taken from it. */
        <T> int take(List<T> items, ToIntFunction<T> size) {
            int fitting = 0;
            for (T item : items) {
                int chars = size.applyAsInt(item);
                if (chars > left) {
                    break;
                }
                left -= chars;
                fitting++;
            }
            return fitting;
        }

        void spend(int chars) {
            left -= chars;
        }
    }
}
