package io.tapline.replay;

import io.tapline.avro.RunSummary;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The CI gate: when a run counts as failed. {@code any} (a failed case fails the run), {@code none} (never),
 * {@code count:N} (more than N failed cases), {@code share:X} (failed signatures weigh more than X of production
 * traffic, 0..1; each signature's hits count once however many of its samples were replayed, and a signature failed
 * when any of its cases failed: see {@code RunResults#summary}). Errored cases (could not be replayed) fail the run unless errors are tolerated.
 * A run with no case at all fails it unless that is allowed ({@code failOnEmpty}): the cases topic was empty, or not
 * the one dedup-stream writes, and a gate that passes such a run has tested nothing.
 */
public record FailOn(Kind kind, double threshold, boolean failOnErrors, boolean failOnEmpty) {

    /** A gate that fails an empty run. */
    public FailOn(Kind kind, double threshold, boolean failOnErrors) {
        this(kind, threshold, failOnErrors, true);
    }

    public enum Kind { ANY, NONE, COUNT, SHARE }

    public static final String ALLOWED = "any, none, count:N (N >= 0), share:X (0 <= X <= 1)";

    /** N of count:N and X of share:X are plain decimals: Java's own forms (0.5f, 0x1p-1, 1e-3, +3) are not. */
    private static final Pattern WHOLE = Pattern.compile("[0-9]+");
    private static final Pattern DECIMAL = Pattern.compile("[0-9]+(\\.[0-9]*)?|\\.[0-9]+");

    public static FailOn parse(String spec, boolean failOnErrors) {
        return parse(spec, failOnErrors, "");
    }

    /**
     * @param origin where a value not given as the flag came from, as {@code TaplineConfig#origin} says it
     *               ({@code " (set by TAPLINE_FAIL_ON)"}), named in the error; empty for a flag
     */
    public static FailOn parse(String spec, boolean failOnErrors, String origin) {
        return parse(spec, failOnErrors, true, origin);
    }

    /** As {@link #parse(String, boolean, String)}, {@code failOnEmpty} saying whether a run with no case fails. */
    public static FailOn parse(String spec, boolean failOnErrors, boolean failOnEmpty, String origin) {
        String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
        try {
            if (s.equals("any")) {
                return new FailOn(Kind.ANY, 0, failOnErrors, failOnEmpty);
            }
            if (s.equals("none")) {
                return new FailOn(Kind.NONE, 0, failOnErrors, failOnEmpty);
            }
            String number = s.length() > 6 ? s.substring(6).strip() : "";
            if (s.startsWith("count:") && WHOLE.matcher(number).matches()) {
                long n = Long.parseLong(number);
                if (n >= 0) {
                    return new FailOn(Kind.COUNT, n, failOnErrors, failOnEmpty);
                }
            }
            if (s.startsWith("share:") && DECIMAL.matcher(number).matches()) {
                double x = Double.parseDouble(number);
                if (x >= 0 && x <= 1) {
                    return new FailOn(Kind.SHARE, x, failOnErrors, failOnEmpty);
                }
            }
        } catch (NumberFormatException e) {
            // falls through to the error naming the allowed forms
        }
        throw new IllegalArgumentException("option --fail-on" + origin + ": '" + spec + "' is not one of " + ALLOWED);
    }

    /** This gate, letting a run with no case pass (a partial report, whose run may not have reached its cases yet). */
    public FailOn allowingEmpty() {
        return new FailOn(kind, threshold, failOnErrors, false);
    }

    /** Why the run fails the gate, or null when it passes. */
    public String violation(RunSummary s) {
        if (failOnEmpty && s.getTotal() == 0) {
            return "the run has no case: its cases topic held none below the run's bounds (an empty topic, or not the"
                    + " one dedup-stream writes), so nothing was tested (--fail-on-empty false lets such a run pass)";
        }
        if (failOnErrors && s.getErrored() > 0) {
            return s.getErrored() + " case(s) could not be replayed (errors)";
        }
        return switch (kind) {
            case NONE -> null;
            case ANY -> s.getFailed() > 0 ? s.getFailed() + " case(s) regressed (--fail-on any)" : null;
            case COUNT -> s.getFailed() > threshold
                    ? s.getFailed() + " case(s) regressed, more than " + (long) threshold + " (--fail-on count:" + (long) threshold + ")" : null;
            case SHARE -> s.getFailedTrafficShare() > threshold
                    ? String.format(Locale.ROOT, "regressions weigh %s of production traffic (%d of %d requests), more than %s (--fail-on share:%s)",
                    shareOver(s.getFailedTrafficShare(), threshold), s.getFailedTrafficWeight(), s.getTrafficWeight(),
                    plain(threshold), plain(threshold)) : null;
        };
    }

    /**
     * Whether a partial run that fails this gate ({@link #violation} of the results so far) fails it whatever its other
     * results are: failed and errored cases only add up, while the share of failed traffic falls when the results
     * still to come passed. Only a violation of {@code share:X} alone is not settled.
     */
    public boolean settledByPart(RunSummary s) {
        return kind != Kind.SHARE || (failOnErrors && s.getErrored() > 0);
    }

    /** A decimal as a user writes it: {@code 0.00001}, not {@code 1.0E-5}; {@code 0}, not {@code 0.0}. */
    static String plain(double x) {
        return BigDecimal.valueOf(x).stripTrailingZeros().toPlainString();
    }

    /**
     * A share over {@code threshold}, with four decimals or as many more as it takes to show it over the threshold
     * ({@code 0.00104} over {@code share:0.001}, where four decimals would read {@code 0.0010}).
     */
    static String shareOver(double share, double threshold) {
        BigDecimal t = BigDecimal.valueOf(threshold);
        BigDecimal exact = BigDecimal.valueOf(share);
        // from the threshold's own number of decimals on, rounding never shows a share over it as under it
        for (int digits = Math.max(4, t.stripTrailingZeros().scale()); digits < exact.scale(); digits++) {
            BigDecimal shown = exact.setScale(digits, RoundingMode.HALF_UP);
            if (shown.compareTo(t) > 0) {
                return shown.toPlainString();
            }
        }
        return exact.scale() < 4 ? exact.setScale(4, RoundingMode.UNNECESSARY).toPlainString() : exact.toPlainString();
    }
}
