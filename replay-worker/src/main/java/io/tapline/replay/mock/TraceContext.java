package io.tapline.replay.mock;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/** W3C Trace Context for replay: one trace id per (run, case), so the mock can find a call's case. */
public final class TraceContext {

    public static final String TRACEPARENT = "traceparent";
    public static final String TRACESTATE = "tracestate";

    private static final Pattern TRACEPARENT_FORMAT =
            Pattern.compile("^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$");

    private TraceContext() {
    }

    /** 32 lowercase hex: the first 16 bytes of SHA-256(runId '/' caseId). */
    public static String traceIdFor(String runId, String caseId) {
        return forCase(runId, caseId).traceId();
    }

    /** The trace id of a case ({@link #traceIdFor}) and the traceparent its replayed request carries. */
    public record CaseTrace(String traceId, String traceparent) {
    }

    /**
     * {@link #traceIdFor} and a sampled traceparent with that trace id, from one digest: the span id is the digest's
     * next 8 bytes (replay's only span; the mock reads the trace id alone).
     */
    public static CaseTrace forCase(String runId, String caseId) {
        byte[] d = sha256(runId + "/" + caseId);
        HexFormat hex = HexFormat.of();
        String traceId = hex.formatHex(d, 0, 16);
        return new CaseTrace(traceId, "00-" + traceId + "-" + hex.formatHex(d, 16, 24) + "-01");
    }

    /**
     * The trace of a case's request sent again on a new connection (the candidate ended a reused one without
     * answering): another trace id than {@link #forCase}'s, so that a dependency call the first attempt makes late is
     * late, never counted with the attempt whose answer is compared. The case ids dedup writes (a signature id and a
     * sample slot) hold no line feed, so no case's own trace is another's retry.
     */
    public static CaseTrace forRetry(String runId, String caseId) {
        return forCase(runId, caseId + "\nsent again");
    }

    /** The trace id of a traceparent header, or null when absent or malformed. */
    public static String traceIdOf(String traceparent) {
        if (traceparent == null) {
            return null;
        }
        var m = TRACEPARENT_FORMAT.matcher(traceparent.trim().toLowerCase(Locale.ROOT));
        return m.matches() ? m.group(1) : null;
    }

    /** One digest per thread: {@code MessageDigest.getInstance} looks the provider up on every call (once per case). */
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    });

    /** {@code digest} leaves the digest reset for the next call. */
    private static byte[] sha256(String s) {
        return SHA256.get().digest(s.getBytes(StandardCharsets.UTF_8));
    }
}
