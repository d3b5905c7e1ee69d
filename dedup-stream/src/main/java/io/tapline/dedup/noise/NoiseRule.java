package io.tapline.dedup.noise;

/**
 * When a response field counts as noise, in the spirit of Diffy's relative and absolute thresholds. With {@code d}
 * the identical-request pairs in which the field differed, {@code c} the pairs in which it was present and
 * {@code n} all pairs compared for the route, the field is noisy when
 * <ul>
 *   <li>{@code c >= minPairs}: enough evidence (one pair proves little);</li>
 *   <li>{@code d / c >= relative}: it differs in a clear share of the pairs where it appears (a timestamp differs
 *       in ~100%, a field that changed once because the data changed between two captures in far fewer);</li>
 *   <li>{@code d / n >= absolute}: and in a non-negligible share of all the route's pairs, so a field of a rare
 *       response variant does not mark the route from a couple of pairs.</li>
 * </ul>
 */
public record NoiseRule(double relative, double absolute, long minPairs) {

    public static final double DEFAULT_RELATIVE = 0.2;
    public static final double DEFAULT_ABSOLUTE = 0.05;
    public static final long DEFAULT_MIN_PAIRS = 2;

    public NoiseRule {
        if (relative < 0 || relative > 1 || absolute < 0 || absolute > 1 || minPairs < 1) {
            throw new IllegalArgumentException("noise thresholds must be shares in [0,1] and min pairs >= 1, got "
                    + relative + ", " + absolute + ", " + minPairs);
        }
    }

    public static NoiseRule defaults() {
        return new NoiseRule(DEFAULT_RELATIVE, DEFAULT_ABSOLUTE, DEFAULT_MIN_PAIRS);
    }

    public boolean isNoisy(long differing, long compared, long routePairs) {
        if (compared < minPairs || compared == 0 || routePairs == 0) {
            return false;
        }
        return (double) differing / compared >= relative && (double) differing / routePairs >= absolute;
    }
}
