package io.tapline.replay.compare;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.Header;
import io.tapline.noise.CallFields;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Compares two header lists by name (any case), a name's values joined in order: {@code MISSING}, {@code EXTRA} or a
 * changed value ({@code HEADER}) at {@code header:<lower-case name>}, names in the ignored set left out. Immutable,
 * thread-safe.
 */
public final class HeaderComparator {

    private final Set<String> ignored;

    private HeaderComparator(Set<String> ignored) {
        this.ignored = Set.copyOf(ignored);
    }

    /** For responses: every header except {@link CompareOptions#ignoredHeaders()}. */
    public static HeaderComparator forResponses(CompareOptions options) {
        return new HeaderComparator(options.ignoredHeaders());
    }

    /**
     * For the requests a candidate sends its dependencies: every header except {@link CompareOptions#ignoredHeaders()}
     * and those never compared in a dependency call ({@link CallFields#UNCOMPARED_HEADERS}: the connection, proxy,
     * client and trace).
     */
    public static HeaderComparator forDependencyRequests(CompareOptions options) {
        Set<String> ignored = new HashSet<>(options.ignoredHeaders());
        ignored.addAll(CallFields.UNCOMPARED_HEADERS);
        return new HeaderComparator(ignored);
    }

    /** Adds to {@code out} how the candidate's headers differ from the recorded ones. */
    public void compare(List<Header> recorded, List<Header> candidate, List<Difference> out) {
        Map<String, String> expected = byName(recorded);
        Map<String, String> actual = byName(candidate);
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String got = actual.get(e.getKey());
            if (got == null) {
                out.add(BodyComparator.diff(CallFields.HEADER + e.getKey(), DifferenceKind.MISSING, e.getValue(), null));
            } else if (!got.equals(e.getValue())) {
                out.add(BodyComparator.diff(CallFields.HEADER + e.getKey(), DifferenceKind.HEADER, e.getValue(), got));
            }
        }
        for (Map.Entry<String, String> e : actual.entrySet()) {
            if (!expected.containsKey(e.getKey())) {
                out.add(BodyComparator.diff(CallFields.HEADER + e.getKey(), DifferenceKind.EXTRA, null, e.getValue()));
            }
        }
    }

    private Map<String, String> byName(List<Header> headers) {
        Map<String, String> map = new LinkedHashMap<>();
        for (Header h : headers) {
            String name = h.getName().toLowerCase(Locale.ROOT);
            if (!ignored.contains(name)) {
                map.merge(name, h.getValue(), (a, b) -> a + ", " + b);
            }
        }
        return map;
    }
}
