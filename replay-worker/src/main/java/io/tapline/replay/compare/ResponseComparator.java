package io.tapline.replay.compare;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.Header;
import io.tapline.avro.HttpResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Compares a recorded response with the candidate's: status, headers, and the body by its kind
 * ({@link BodyComparator}: JSON structurally with JsonUnit, form fields, text normalised, binary by hash). A difference
 * whose recorded value was redacted at capture is not judged (see {@link RedactedValues}). Stateless and thread-safe.
 */
public final class ResponseComparator {

    private final CompareOptions options;
    private final IgnoreRules rules;
    private final BodyComparator bodies;

    public ResponseComparator(CompareOptions options, IgnoreRules rules) {
        this.options = options;
        this.rules = rules;
        this.bodies = new BodyComparator(options);
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
            compareHeaders(recorded.getHeaders(), candidate.getHeaders(), all);
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

    private void compareHeaders(List<Header> recorded, List<Header> candidate, List<Difference> out) {
        Map<String, String> expected = headerMap(recorded);
        Map<String, String> actual = headerMap(candidate);
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String got = actual.get(e.getKey());
            if (got == null) {
                out.add(diff("header:" + e.getKey(), DifferenceKind.MISSING, e.getValue(), null));
            } else if (!got.equals(e.getValue())) {
                out.add(diff("header:" + e.getKey(), DifferenceKind.HEADER, e.getValue(), got));
            }
        }
        for (Map.Entry<String, String> e : actual.entrySet()) {
            if (!expected.containsKey(e.getKey())) {
                out.add(diff("header:" + e.getKey(), DifferenceKind.EXTRA, null, e.getValue()));
            }
        }
    }

    private Map<String, String> headerMap(List<Header> headers) {
        Map<String, String> map = new LinkedHashMap<>();
        for (Header h : headers) {
            String name = h.getName().toLowerCase(Locale.ROOT);
            if (!options.ignoresHeader(name)) {
                map.merge(name, h.getValue(), (a, b) -> a + ", " + b);
            }
        }
        return map;
    }

    private static Difference diff(String path, DifferenceKind kind, String expected, String actual) {
        return BodyComparator.diff(path, kind, expected, actual);
    }
}
