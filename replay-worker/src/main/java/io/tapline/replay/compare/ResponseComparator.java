package io.tapline.replay.compare;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.HttpResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * Compares a recorded response with the candidate's: status, headers, and the body by its kind
 * ({@link BodyComparator}: JSON structurally with JsonUnit, form fields, text normalised, binary by hash). A difference
 * whose recorded value was redacted at capture is not judged (see {@link RedactedValues}). Stateless and thread-safe.
 */
public final class ResponseComparator {

    private final CompareOptions options;
    private final IgnoreRules rules;
    private final BodyComparator bodies;
    private final HeaderComparator headers;

    public ResponseComparator(CompareOptions options, IgnoreRules rules) {
        this.options = options;
        this.rules = rules;
        this.bodies = new BodyComparator(options);
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
     * {@code service}, as they are now.
     */
    public IgnoreRules.Scope ignores(String service, String route) {
        return rules.scope(service, route);
    }

    /** Compares {@code candidate} against {@code recorded}, not counting the differences {@code ignores} names. */
    public Comparison compare(IgnoreRules.Scope ignores, HttpResponse recorded, HttpResponse candidate) {
        List<Difference> all = new ArrayList<>();
        if (recorded.getStatus() != candidate.getStatus()) {
            all.add(diff("status", DifferenceKind.STATUS, Integer.toString(recorded.getStatus()),
                    Integer.toString(candidate.getStatus())));
        }
        if (options.compareHeaders()) {
            headers.compare(recorded.getHeaders(), candidate.getHeaders(), all);
        }
        List<String> notes = new ArrayList<>(1);
        if (recorded.getTruncated()) {
            // Only a prefix was captured: judging the candidate's whole body against it would report a regression
            // that is the capture's. Status and headers are still compared.
            notes.add("response body not compared: the recorded body was truncated at capture ("
                    + Bodies.truncation(recorded) + ")");
        } else {
            bodies.compare(Bodies.bytes(recorded.getBody()), recorded.getContentEncoding(), recorded.getContentType(),
                    Bodies.bytes(candidate.getBody()), candidate.getContentEncoding(), candidate.getContentType(), all);
        }

        List<Difference> counted = new ArrayList<>(all.size());
        int ignored = 0;
        List<String> redacted = new ArrayList<>();
        if (!all.isEmpty()) {
            for (Difference d : all) {
                if (ignores.ignores(d.getPath())) {
                    ignored++;
                } else if (RedactedValues.unjudged(d)) {
                    ignored++;
                    redacted.add(d.getPath());
                } else {
                    counted.add(d);
                }
            }
        }
        if (!redacted.isEmpty()) {
            notes.add(RedactedValues.note("response", redacted));
        }
        return new Comparison(counted, ignored, notes);
    }

    private static Difference diff(String path, DifferenceKind kind, String expected, String actual) {
        return BodyComparator.diff(path, kind, expected, actual);
    }
}
