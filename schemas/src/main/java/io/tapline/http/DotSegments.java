package io.tapline.http;

/**
 * Dot segments ({@code ..}) in what follows a named egress route's name, which the sidecar's egress puts after the
 * route's base path ({@code /dep/rest} to {@code http://dep:8080/api} is {@code /api/rest}) and the replay mock maps
 * the same way. A {@code ..} there that climbs above the start would take the call out of the base path at a
 * dependency that resolves dot segments ({@code /dep/../admin} is {@code /api/../admin}, that is {@code /admin}), and
 * the recorded path would not be the one the dependency served. Such a target is refused by both (400). The sidecar's
 * inbound listener reads a client's target the same way when {@code --app} has a base path, which it goes after.
 *
 * <p>Read as the most lenient server would read it, so that no reading of the path climbs where this one does not:
 * <ul>
 *   <li>segments are separated by {@code /}, {@code \} (Windows servers, Node's URL parser) and their percent-encoded
 *       forms {@code %2F} and {@code %5C} (servers that decode before resolving);</li>
 *   <li>a segment is {@code ..} when it is two dots, each {@code .} or {@code %2E}, before any {@code ;} (path
 *       parameters, which Tomcat cuts off first: {@code ..;x} is {@code ..} to it);</li>
 *   <li>an empty segment and {@code .} go nowhere (slashes merged, as nginx and Envoy's {@code merge_slashes} do, so
 *       {@code //..} climbs);</li>
 *   <li>the path ends at {@code ?}; a {@code #} does not end it (a fragment is no part of a request target, and a
 *       server may read one as path).</li>
 * </ul>
 * Dot segments that stay below the start ({@code /a/../b}) are left to the dependency: forwarded and recorded as sent.
 */
public final class DotSegments {

    private DotSegments() {
    }

    /**
     * Whether {@code target} (a route's rest: a path, then perhaps {@code ?} and a query) has a {@code ..} that climbs
     * above its start. One pass over the path, no allocation.
     */
    public static boolean climb(String target) {
        return climb(target, 0);
    }

    /**
     * Whether what follows {@code from} in {@code target} has a {@code ..} that climbs above {@code from}: the sidecar's
     * inbound listener reads the client's target after {@code --app}'s base path this way, in the one string it
     * forwards. One pass over the path from there, no allocation.
     */
    public static boolean climb(String target, int from) {
        int n = target.length();
        int depth = 0;
        int start = from;
        int i = from;
        while (true) {
            boolean end = i >= n || target.charAt(i) == '?';
            int separator = end ? 0 : separator(target, i, n);
            if (end || separator > 0) {
                int dots = dots(target, start, i);
                if (dots == 2) {
                    if (--depth < 0) {
                        return true;
                    }
                } else if (dots < 0) {
                    depth++;
                }
                if (end) {
                    return false;
                }
                i += separator;
                start = i;
            } else {
                i++;
            }
        }
    }

    /** The length of the segment separator at {@code i}: {@code /}, {@code \}, {@code %2F}, {@code %5C}; 0 if none. */
    private static int separator(String s, int i, int n) {
        char c = s.charAt(i);
        if (c == '/' || c == '\\') {
            return 1;
        }
        if (c == '%' && i + 2 < n) {
            char a = s.charAt(i + 1);
            char b = s.charAt(i + 2);
            if (a == '2' && (b == 'f' || b == 'F') || a == '5' && (b == 'c' || b == 'C')) {
                return 3;
            }
        }
        return 0;
    }

    /**
     * What the segment {@code s[from, to)} is, read before its first {@code ;}: 0 when empty or {@code .}, 2 when
     * {@code ..} (each dot {@code .} or {@code %2E}), -1 for any other segment.
     */
    private static int dots(String s, int from, int to) {
        int dots = 0;
        int i = from;
        while (i < to) {
            char c = s.charAt(i);
            if (c == ';') {
                break;
            }
            if (c == '.') {
                i++;
            } else if (c == '%' && i + 2 < to && s.charAt(i + 1) == '2' && (s.charAt(i + 2) == 'e' || s.charAt(i + 2) == 'E')) {
                i += 3;
            } else {
                return -1;
            }
            if (++dots > 2) {
                return -1;
            }
        }
        return dots == 1 ? 0 : dots;
    }
}
