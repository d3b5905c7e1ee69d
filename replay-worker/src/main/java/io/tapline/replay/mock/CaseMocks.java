package io.tapline.replay.mock;

import io.tapline.avro.CallKind;
import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.MockCall;
import io.tapline.avro.MockUsage;
import io.tapline.avro.OutboundCall;
import io.tapline.redaction.RedactionTokens;
import io.tapline.replay.compare.Bodies;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.compare.RedactedValues;

import java.util.ArrayList;
import java.util.List;

/**
 * The recorded dependency calls of one case during its replay, and how the candidate used them.
 * Thread-safe: the mock server's event loop answers while the worker reads the usage afterwards.
 */
public final class CaseMocks {

    /** Calls recorded per case are bounded by the capture; this bounds what one replay may add. */
    public static final int MAX_CALLS_KEPT = 1000;

    private final String caseId;
    private final List<OutboundCall> recorded;
    /** {@link #recorded} as the matcher scores them, in the same order. */
    private final List<MockMatcher.Recording> recordings;
    private final int[] uses;
    private final MockMatcher matcher;
    /** The case's learned noise, for the values the app generates in the requests it sends. */
    private final IgnoreRules.Scope noise;
    /** How values redacted at capture are judged in what the candidate sends. */
    private final RedactedValues redacted;
    private final List<MockCall> calls = new ArrayList<>();
    private final List<Difference> differences = new ArrayList<>();
    /** Recorded calls whose truncated response body was served cut, in the order first served. */
    private final List<String> truncatedServed = new ArrayList<>();
    /** What could not be compared in the calls' requests, and why. */
    private final List<String> notes = new ArrayList<>();
    /** Live calls that failed, answered 502 {@code live-failed}, and why, in the order they failed. */
    private final List<String> liveFailed = new ArrayList<>();
    /** Matched calls whose recorded answer the mock could not serve, answered 500 {@code error}, and why. */
    private final List<String> notServed = new ArrayList<>();
    /** The case's trace id was unregistered: its result is built from what was noted by then ({@link #finished}). */
    private boolean finished;
    /** When the case's request is given up ({@link System#nanoTime}), 0 when not known ({@link #dueBy}). */
    private volatile long deadlineNanos;
    private int matched;
    private int unmatched;
    /** Calls attributed to the case in all: answered, forwarded live or refused ({@link #callsSeen}). */
    private int seen;
    private int ignoredDifferences;

    /** Without learned noise: every difference in a request the candidate sends counts unless a rule ignores it. */
    public CaseMocks(String caseId, List<OutboundCall> recorded, MockMatcher matcher) {
        this(caseId, recorded, matcher, IgnoreRules.Scope.NONE, RedactedValues.UNKEYED);
    }

    /**
     * @param noise    the ignore rules of the case's service and route, whose learned noise of dependency requests
     *                 ({@link IgnoreRules.Scope#callNoise}) is not counted in what the candidate sends
     * @param redacted how recorded values redacted at capture are judged (the run's key, the case's substitutions)
     */
    public CaseMocks(String caseId, List<OutboundCall> recorded, MockMatcher matcher, IgnoreRules.Scope noise,
                     RedactedValues redacted) {
        this.caseId = caseId;
        this.noise = noise;
        this.redacted = redacted;
        List<OutboundCall> http = new ArrayList<>(recorded.size());
        List<MockMatcher.Recording> recordings = new ArrayList<>(recorded.size());
        for (OutboundCall c : recorded) {
            if (c.getKind() == CallKind.HTTP) {
                http.add(c);
                recordings.add(new MockMatcher.Recording(c, callNoise(c)));
            } else if (c.getKind() == CallKind.TUNNEL) {
                // not served (TLS is not intercepted), so a candidate that makes it is refused: say why in the result
                note("call:CONNECT " + c.getDestination() + " is not replayed: production reached it through a TLS tunnel,"
                        + " which replay does not intercept (route HTTPS dependencies through a named route over plain HTTP)");
            }
        }
        this.recorded = http;
        this.recordings = recordings;
        this.uses = new int[this.recorded.size()];
        this.matcher = matcher;
    }

    public String caseId() {
        return caseId;
    }

    /**
     * Says when the case's request is given up ({@link System#nanoTime} then: its start plus the request timeout), so
     * that the answer of a live call of the case is due before it, and its failure noted before the result is built.
     */
    public void dueBy(long deadlineNanos) {
        this.deadlineNanos = deadlineNanos;
    }

    /** When the case's request is given up ({@link System#nanoTime}), 0 when not said ({@link #dueBy}). */
    public long deadlineNanos() {
        return deadlineNanos;
    }

    /**
     * Picks the recorded call that answers {@code call}: the best score at or above the minimum; on a tie, a call
     * not used yet, then the earliest recorded. Records the outcome (matched, or unmatched as a difference). A call
     * answered from a recorded call that already answered one (the candidate makes the call more often than production
     * did) is answered from it again, so the candidate proceeds, and reported as an {@code EXTRA} difference. A call
     * answered from a recorded call with another target (a lower {@code --mock-min-score} accepted another id or
     * query value) is matched and reported as a {@code CHANGED} difference: the mock never guesses silently. The
     * call's body and headers are compared with the answering recording's request ({@link #compareRequest}).
     */
    public synchronized MockAnswer answer(MockRequest call) {
        seen++;
        MockMatcher.PreparedCall prepared = matcher.prepare(call, redacted);
        Best found = best(prepared);
        int best = found.index();
        MockMatcher.Match bestMatch = found.match();
        double bestScore = bestMatch.score();
        if (best >= 0 && matcher.accepts(bestScore)) {
            boolean extra = uses[best] > 0;
            uses[best]++;
            matched++;
            note(call, extra ? "extra" : "matched", bestScore);
            if (extra) {
                // Production made this call fewer times: answer from the recording so the candidate goes on, and say so.
                difference(call.describe(), DifferenceKind.EXTRA, null, call.describe()
                        + " (extra call, answered again from the recording of " + describe(recorded.get(best)) + ")");
            }
            if (!bestMatch.sameTarget()) {
                difference(call.describe(), DifferenceKind.CHANGED,
                        describe(recorded.get(best)) + " (answered from it, score " + bestScore + ")", call.describe());
            }
            OutboundCall answering = recorded.get(best);
            noteUnjudgedTarget(answering);
            compareRequest(prepared, recordings.get(best), answering);
            if (answering.getResponse() != null && answering.getResponse().getTruncated()) {
                String note = "dependency response of " + describe(answering) + " was recorded truncated at capture ("
                        + Bodies.truncation(answering.getResponse()) + ") and served cut";
                addOnce(truncatedServed, note);
            }
            return new MockAnswer(answering, bestScore);
        }
        unmatched++;
        note(call, "unmatched", bestScore);
        difference(call.describe(), DifferenceKind.UNMATCHED_CALL,
                best >= 0 ? describe(recorded.get(best)) + " (score " + bestScore + ")" : null, call.describe());
        return new MockAnswer(null, bestScore);
    }

    /**
     * A body that differs from the recording's only in values learned as noise for the call (an idempotency key, a
     * timestamp the app generates per request) ranks as equal, so among several recorded calls to one endpoint the
     * one production made with the same payload answers, not the first recorded.
     */
    private MockMatcher.Match withLearnedNoise(MockMatcher.PreparedCall call, int i, MockMatcher.Match m) {
        if (m.score() == 0 || m.sameBody()) {
            return m;
        }
        IgnoreRules.CallNoise learned = recordings.get(i).noise;
        if (learned.isEmpty()) {
            return m;
        }
        for (Difference d : matcher.bodyDifferences(call, recordings.get(i)).differences()) {
            if (!learned.ignores(d.getPath())) {
                return m;
            }
        }
        return m.withSameBody();
    }

    private IgnoreRules.CallNoise callNoise(OutboundCall call) {
        return noise.callNoise(call.getRequest().getMethod(), call.getDestination(), call.getRequest().getPath());
    }

    /**
     * Reports how the body and the headers the candidate sent differ from what production sent the dependency in the
     * answering recording: each difference named by the recorded call and its path in the body or its header
     * ({@code call:POST payments /charges $.amount}, {@code call:POST payments /charges header:idempotency-key}),
     * values named by a {@code --mock-ignore} rule or by the route's learned noise (values that differed between
     * identical production requests) left out and counted as ignored. A recorded value redacted at capture is judged
     * with the redaction key, and without it not judged (counted as ignored, named in a note); a request body the
     * capture truncated is not compared (a note says so).
     */
    private void compareRequest(MockMatcher.PreparedCall call, MockMatcher.Recording recording, OutboundCall answering) {
        String name = describe(answering);
        report(recording, name, "request headers of " + name, matcher.headerDifferences(call, recording));
        if (answering.getRequest().getTruncated()) {
            note("request body of " + name + " not compared: it was recorded truncated at capture ("
                    + Bodies.truncation(answering.getRequest()) + ")");
            return;
        }
        report(recording, name, "request body of " + name, matcher.bodyDifferences(call, recording));
    }

    /** @param name the answering recording as differences name it; {@code what} the part compared, for notes */
    private void report(MockMatcher.Recording answering, String name, String what, MockMatcher.CallDifferences found) {
        ignoredDifferences += found.ignored();
        IgnoreRules.CallNoise learned = answering.noise;
        List<String> unjudged = new ArrayList<>();
        for (Difference d : found.differences()) {
            if (learned.ignores(d.getPath())) {
                ignoredDifferences++;
                continue;
            }
            RedactedValues.Judgement j = redacted.judge(d);
            switch (j.outcome()) {
                case DIFFERENT -> difference(name + " " + d.getPath(), d.getKind(), d.getExpected(), j.difference().getActual());
                case UNJUDGED -> {
                    ignoredDifferences++;
                    unjudged.add(d.getPath());
                }
                case EQUAL -> {
                    // the candidate sent the plain value production sent: no difference
                }
            }
        }
        if (!unjudged.isEmpty()) {
            note(RedactedValues.note(what, unjudged));
        }
        found.notes().forEach(n -> note(what + ": " + n));
    }

    /**
     * Without the redaction key, a recorded path or query value the capture redacted ({@code api_key=<token>}) matches
     * any value the candidate sends there: the note says the match did not judge it.
     */
    private void noteUnjudgedTarget(OutboundCall answering) {
        if (redacted.hasKey()) {
            return;
        }
        HttpRequest r = answering.getRequest();
        if (RedactionTokens.in(r.getPath()) || r.getRawQuery() != null && RedactionTokens.in(r.getRawQuery())) {
            note("path and query of " + describe(answering) + " matched without judging the values redacted at capture"
                    + " (no --redaction-key)");
        }
    }

    private void note(String note) {
        addOnce(notes, note);
    }

    private static void addOnce(List<String> list, String note) {
        if (!list.contains(note) && list.size() < MAX_CALLS_KEPT) {
            list.add(note);
        }
    }

    private void difference(String path, DifferenceKind kind, String expected, String actual) {
        if (differences.size() < MAX_CALLS_KEPT) {
            differences.add(Difference.newBuilder().setPath(path).setKind(kind).setExpected(expected).setActual(actual)
                    .build());
        }
    }

    /** The best-scoring recording for a call ({@code index} -1 when there is none); on a tie an unused one. */
    private record Best(int index, MockMatcher.Match match) {
    }

    /**
     * Targets (path and query) are scored first, bodies (the costly part: JSON may be parsed and compared, for
     * {@code body:} rules and learned noise in full) only of the recordings whose best possible score reaches the
     * best target's: the others score strictly below the winner whatever their body, so they can neither win nor tie
     * (another id or query value, 0.70 at most, when a recording has the call's exact target, 0.75). The winner is the
     * one scoring every recording would choose.
     */
    private Best best(MockMatcher.PreparedCall prepared) {
        MockMatcher.Target[] targets = new MockMatcher.Target[recordings.size()];
        double floor = 0;
        for (int i = 0; i < targets.length; i++) {
            targets[i] = matcher.target(prepared, recordings.get(i));
            if (targets[i] != null) {
                floor = Math.max(floor, targets[i].floor());
            }
        }
        int best = -1;
        MockMatcher.Match bestMatch = MockMatcher.NONE;
        for (int i = 0; i < recordings.size(); i++) {
            MockMatcher.Target target = targets[i];
            if (target == null || target.ceiling() < floor - 1e-9) {
                continue; // scores 0 (never chosen), or below the winner whatever its body
            }
            MockMatcher.Match m = withLearnedNoise(prepared, i, matcher.match(prepared, recordings.get(i), target));
            double s = m.score();
            double bestScore = bestMatch.score();
            boolean better = s > bestScore + 1e-9
                    || (best >= 0 && Math.abs(s - bestScore) < 1e-9 && uses[best] > 0 && uses[i] == 0);
            if (better) {
                best = i;
                bestMatch = m;
            }
        }
        return new Best(best, bestMatch);
    }

    /**
     * Notes a call forwarded to a real dependency because {@code --allow-live} named its host. When it is a call
     * production made (a recording matches it), that recording counts as used, not as a call the candidate skipped,
     * and what the candidate sent is compared with it as for a mocked call; the answer came from the real dependency.
     */
    public synchronized void live(MockRequest call) {
        seen++;
        MockMatcher.PreparedCall prepared = matcher.prepare(call, redacted);
        Best found = best(prepared);
        double score = found.match().score();
        if (found.index() >= 0 && matcher.accepts(score)) {
            uses[found.index()]++;
            noteUnjudgedTarget(recorded.get(found.index()));
            compareRequest(prepared, recordings.get(found.index()), recorded.get(found.index()));
        }
        note(call, "live", found.index() >= 0 ? score : 0);
    }

    /**
     * Notes a live call of the candidate ({@code METHOD target}, counted by {@link #live}) that failed ({@code why}: the
     * dependency refused the connection, did not answer in time, answered with bytes that are not HTTP...), for which
     * the candidate was answered 502 {@code live-failed}: its record says only {@code live}. False, and not noted, once
     * the case has finished ({@link #finished}).
     */
    public synchronized boolean liveFailed(String call, String why) {
        if (finished) {
            return false;
        }
        addOnce(liveFailed, "the candidate's call " + call + " was forwarded live and failed; it was answered 502"
                + " live-failed: " + why);
        return true;
    }

    /**
     * Notes a call of the candidate ({@code METHOD target}) that matched a recording whose answer the mock's server
     * refused to write ({@code why}: a header name with a space, a value with a control character, a status that is
     * no status code), for which the candidate was answered 500 {@code error}: its record says only {@code matched}.
     * Not noted once the case has finished ({@link #finished}).
     */
    public synchronized void notServed(String call, String why) {
        if (!finished) {
            addOnce(notServed, "the candidate's call " + call + " matched a recorded answer the mock could not serve; it"
                    + " was answered 500 error: " + why);
        }
    }

    /**
     * Notes on the matched calls whose recorded answer could not be served ({@link #notServed}): the candidate got a
     * 500 from the mock, not the recording. Empty when none was.
     */
    public synchronized List<String> notServed() {
        return List.copyOf(notServed);
    }

    /**
     * The case's trace id is unregistered ({@link MockRegistry#unregister}), before its result is built from what was
     * noted: a live call that fails later is not noted here ({@link #liveFailed} says so), where no result would read
     * it, but by the mock's warning.
     */
    synchronized void finished() {
        finished = true;
    }

    /** Notes a {@code CONNECT} of the candidate to {@code authority} that the mock refused with {@code status}. */
    public synchronized void tunnelRefused(String authority, int status) {
        seen++;
        note("the candidate's CONNECT " + authority + " was answered " + status
                + ": replay does not intercept TLS tunnels (route HTTPS dependencies through a named route over plain HTTP)");
    }

    /** Notes a call of the candidate ({@code METHOD target}) answered 413 for a body over {@code limit} bytes. */
    public synchronized void bodyTooLarge(String call, int limit) {
        seen++;
        note("the candidate's call " + call + " was answered 413 and not matched: its body is over the mock's limit of "
                + limit + " bytes");
    }

    /**
     * Notes a call of the candidate ({@code METHOD target}) refused with {@code status} for {@code reason}, as the
     * sidecar's egress refuses it: it reached no dependency in production either.
     */
    public synchronized void refused(String call, int status, String reason) {
        seen++;
        note("the candidate's call " + call + " was answered " + status + " and not matched, as the sidecar refuses it: "
                + reason);
    }

    private void note(MockRequest call, String outcome, double score) {
        if (calls.size() < MAX_CALLS_KEPT) {
            String path = call.path() + (call.rawQuery() == null || call.rawQuery().isEmpty() ? "" : "?" + call.rawQuery());
            calls.add(MockCall.newBuilder().setMethod(call.method()).setDestination(call.destination()).setPath(path)
                    .setOutcome(outcome).setScore(score).build());
        }
    }

    /** Usage so far, with every recorded call the candidate did not make listed as unused. */
    public synchronized MockUsage usage() {
        List<MockCall> all = new ArrayList<>(calls);
        int unused = 0;
        for (int i = 0; i < recorded.size(); i++) {
            if (uses[i] == 0) {
                unused++;
                OutboundCall c = recorded.get(i);
                String q = c.getRequest().getRawQuery();
                all.add(MockCall.newBuilder().setMethod(c.getRequest().getMethod()).setDestination(c.getDestination())
                        .setPath(c.getRequest().getPath() + (q == null || q.isEmpty() ? "" : "?" + q))
                        .setOutcome("unused").setScore(0).build());
            }
        }
        return MockUsage.newBuilder().setMatched(matched).setUnmatched(unmatched).setUnused(unused).setCalls(all).build();
    }

    /** Unmatched calls and unused recorded calls as differences. */
    public synchronized List<Difference> differences() {
        List<Difference> out = new ArrayList<>(differences);
        for (int i = 0; i < recorded.size(); i++) {
            if (uses[i] == 0) {
                String d = describe(recorded.get(i));
                out.add(Difference.newBuilder().setPath(d).setKind(DifferenceKind.UNUSED_CALL).setExpected(d)
                        .setActual(null).build());
            }
        }
        return out;
    }

    /**
     * Notes on recorded responses served with a body truncated at capture: the candidate got a cut body as if it were
     * whole, so differences in its answer may be the capture's doing rather than a regression. Empty when none was.
     */
    public synchronized List<String> truncatedResponsesServed() {
        return List.copyOf(truncatedServed);
    }

    /**
     * Notes on the live calls that failed ({@link #liveFailed}): the candidate got a 502 from the mock, not the
     * dependency's answer. Empty when none did.
     */
    public synchronized List<String> liveFailures() {
        return List.copyOf(liveFailed);
    }

    /** What could not be compared in the bodies the candidate sent, and why; empty when everything was. */
    public synchronized List<String> notes() {
        return List.copyOf(notes);
    }

    /** Differences in the bodies the candidate sent that a rule ignores or that could not be judged. */
    public synchronized int ignoredDifferences() {
        return ignoredDifferences;
    }

    public synchronized int callsMade() {
        return matched + unmatched;
    }

    /**
     * Every call of the candidate the mock saw for this case: answered from a recording or unmatched, forwarded live
     * ({@code --allow-live}), or refused (a {@code CONNECT}, a body over the limit, a request the sidecar refuses).
     * Any of them says the candidate worked on the case's request.
     */
    public synchronized int callsSeen() {
        return seen;
    }

    private static String describe(OutboundCall c) {
        String q = c.getRequest().getRawQuery();
        return "call:" + c.getRequest().getMethod() + " " + c.getDestination() + " " + c.getRequest().getPath()
                + (q == null || q.isEmpty() ? "" : "?" + q);
    }
}
