package io.tapline.replay.compare;

import io.tapline.avro.Difference;
import io.tapline.redaction.RedactionTokens;

import java.util.List;

/**
 * Differences the replay cannot judge: the capture replaced the recorded value by a keyed token
 * ({@code tapline:hmac:...}), so a candidate producing the plain value (an email from its database, a session
 * cookie) differs from the recording whether or not it is right. Such a difference is counted as ignored and named in
 * a note. A candidate that echoes a token it was sent still compares equal; a token against another token (two
 * different plain values) and a value missing altogether are still differences.
 */
public final class RedactedValues {

    private static final int MAX_PATHS_NAMED = 5;

    private RedactedValues() {
    }

    /** True when the recorded value holds a redaction token and the candidate's is present and holds none. */
    public static boolean unjudged(Difference d) {
        return RedactionTokens.in(d.getExpected()) && d.getActual() != null && !RedactionTokens.in(d.getActual());
    }

    /** The note for differences not judged: {@code what} says where they were ("response", a dependency call). */
    public static String note(String what, List<String> paths) {
        String named = String.join(", ", paths.subList(0, Math.min(paths.size(), MAX_PATHS_NAMED)))
                + (paths.size() > MAX_PATHS_NAMED ? ", ..." : "");
        return paths.size() + " " + what + " difference(s) not judged: the recorded value was redacted at capture ("
                + named + ")";
    }
}
