package io.tapline.replay.compare;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.HttpResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * Compares a recorded response with the candidate's: status, headers, and the body by its kind
 * ({@link BodyComparator}: JSON structurally with JsonUnit, form fields, text normalised, binary by hash). A difference
 * whose recorded value was redacted at capture is judged with the redaction key, or not judged without it (see
 * {@link RedactedValues}). Stateless and thread-safe.
 */
public final class ResponseComparator {

    private final CompareOptions options;
    private final IgnoreRules rules;
    private final BodyComparator bodies;
    private final HeaderComparator headers;

    public ResponseComparator(CompareOptions options, IgnoreRules rules) {
        this(options, rules, new BodyComparator(options));
    }

    /** With {@code bodies} comparing the bodies (a test's, told the work it does). */
    ResponseComparator(CompareOptions options, IgnoreRules rules, BodyComparator bodies) {
        this.options = options;
        this.rules = rules;
        this.bodies = bodies;
        this.headers = HeaderComparator.forResponses(options);
    }

    /**
     * Compares {@code candidate} against {@code recorded} for a case of {@code route} ("METHOD /template") captured
     * from {@code service} (the ignore rules and learned noise of that service's route apply).
     */
    public Comparison compare(String service, String route, HttpResponse recorded, HttpResponse candidate) {
        return compare(ignores(service, route), recorded, candidate);
    }

    /**
     * The ignore rules and learned noise for cases of {@code route} ("METHOD /template") captured from
     * {@code service}, as they are now, for this comparison's array order (ignoring it, only the fields learned as
     * noisy in any order) and numeric tolerance (under one, only the fields whose learned variation exceeds it).
     */
    public IgnoreRules.Scope ignores(String service, String route) {
        return rules.scope(service, route, options.ignoreArrayOrder(), options.numericTolerance());
    }

    /** How values redacted at capture are judged in this run (before any case's substitutions). */
    public RedactedValues redacted() {
        return options.redacted();
    }

    /** Compares {@code candidate} against {@code recorded}, not counting the differences {@code ignores} names. */
    public Comparison compare(IgnoreRules.Scope ignores, HttpResponse recorded, HttpResponse candidate) {
        return compare(ignores, options.redacted(), recorded, candidate);
    }

    /**
     * Compares {@code candidate} against {@code recorded}, not counting the differences {@code ignores} names, and
     * judging values redacted at capture by {@code redacted} (the run's key and the case's substitutions).
     */
    public Comparison compare(IgnoreRules.Scope ignores, RedactedValues redacted, HttpResponse recorded,
                              HttpResponse candidate) {
        List<Difference> all = new ArrayList<>();
        if (recorded.getStatus() != candidate.getStatus()) {
            all.add(diff("status", DifferenceKind.STATUS, Integer.toString(recorded.getStatus()),
                    Integer.toString(candidate.getStatus())));
        }
        if (options.compareHeaders()) {
            headers.compare(recorded.getHeaders(), candidate.getHeaders(), all);
            compareBodilessLength(recorded, candidate, all);
        }
        List<String> notes = new ArrayList<>(1);
        // differences not counted; the body's include those of members left out of array elements before pairing them
        int ignored = 0;
        if (recorded.getTruncated()) {
            // Only a prefix was captured: judging the candidate's whole body against it would report a regression
            // that is the capture's. Status and headers are still compared.
            notes.add("response body not compared: the recorded body was truncated at capture ("
                    + Bodies.truncation(recorded) + ")");
        } else {
            List<String> bodyNotes = new ArrayList<>(0);
            ignored += bodies.compare(Bodies.bytes(recorded.getBody()), recorded.getContentEncoding(),
                    recorded.getContentType(), Bodies.bytes(candidate.getBody()), candidate.getContentEncoding(),
                    candidate.getContentType(), ignores::ignores, all, bodyNotes);
            bodyNotes.forEach(n -> notes.add("response body: " + n));
        }

        List<Difference> counted = new ArrayList<>(all.size());
        List<String> unjudged = new ArrayList<>();
        if (!all.isEmpty()) {
            for (Difference d : all) {
                if (ignores.ignores(d.getPath())) {
                    ignored++;
                    continue;
                }
                RedactedValues.Judgement j = redacted.judge(d);
                switch (j.outcome()) {
                    case DIFFERENT -> counted.add(j.difference());
                    case UNJUDGED -> {
                        ignored++;
                        unjudged.add(d.getPath());
                    }
                    case EQUAL -> {
                        // the candidate's plain value tokenises to production's token: no difference
                    }
                }
            }
        }
        if (!unjudged.isEmpty()) {
            notes.add(RedactedValues.note("response", unjudged));
        }
        return new Comparison(counted, ignored, notes);
    }

    /**
     * {@code Content-Length} is not compared where the body is (the body says more). An answer recorded with a length
     * but no body, and not truncated, was bodiless (a {@code HEAD} answer, a {@code 304}): there the length is the
     * only trace of the representation (RFC 9110 §8.6), and it is compared.
     */
    private static void compareBodilessLength(HttpResponse recorded, HttpResponse candidate, List<Difference> out) {
        if (recorded.getTruncated() || recorded.getBody().hasRemaining()) {
            return;
        }
        String expected = header(recorded, "content-length");
        if (expected == null || expected.trim().equals("0")) {
            return;
        }
        String actual = header(candidate, "content-length");
        if (actual == null || !actual.trim().equals(expected.trim())) {
            out.add(diff("header:content-length", DifferenceKind.HEADER, expected.trim(), actual == null ? null : actual.trim()));
        }
    }

    private static String header(HttpResponse r, String name) {
        for (io.tapline.avro.Header h : r.getHeaders()) {
            if (h.getName().equalsIgnoreCase(name)) {
                return h.getValue();
            }
        }
        return null;
    }

    private static Difference diff(String path, DifferenceKind kind, String expected, String actual) {
        return BodyComparator.diff(path, kind, expected, actual);
    }
}
