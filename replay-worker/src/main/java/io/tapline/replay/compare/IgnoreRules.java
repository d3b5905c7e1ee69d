package io.tapline.replay.compare;

import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which difference paths are not counted, per route: configured rules ({@code "GET /owners/{id} $.updatedAt"},
 * or {@code "* header:x-build"} for every route) plus the noise learned by dedup-stream ({@code tapline.noise}).
 * Thread-safe: noise profiles are replaced as the noise topic is read.
 */
public final class IgnoreRules {

    /** Route wildcard in a configured rule. */
    public static final String ANY_ROUTE = "*";

    private final Map<String, List<PathPattern>> configured;
    private final Map<String, List<PathPattern>> learned = new ConcurrentHashMap<>();

    private IgnoreRules(Map<String, List<PathPattern>> configured) {
        this.configured = configured;
    }

    public static IgnoreRules none() {
        return new IgnoreRules(Map.of());
    }

    /**
     * Parses rules of the form {@code ROUTE PATH} where ROUTE is {@code *} or {@code METHOD /template}.
     *
     * @throws IllegalArgumentException naming the malformed rule
     */
    public static IgnoreRules parse(List<String> rules) {
        Map<String, List<PathPattern>> byRoute = new ConcurrentHashMap<>();
        for (String rule : rules) {
            String r = rule.trim();
            if (r.isEmpty()) {
                continue;
            }
            int lastSpace = r.lastIndexOf(' ');
            if (lastSpace <= 0) {
                throw new IllegalArgumentException("ignore rule '" + rule
                        + "': expected '<METHOD /route/template> <path>' or '* <path>', e.g. 'GET /owners/{id} $.updatedAt'");
            }
            String route = r.substring(0, lastSpace).trim();
            String path = r.substring(lastSpace + 1);
            if (!route.equals(ANY_ROUTE) && !route.contains(" ")) {
                throw new IllegalArgumentException("ignore rule '" + rule
                        + "': route must be '*' or 'METHOD /template', got '" + route + "'");
            }
            byRoute.computeIfAbsent(route, k -> new ArrayList<>()).add(PathPattern.of(path));
        }
        return new IgnoreRules(byRoute);
    }

    /** Replaces the learned noise of one route (a null profile, i.e. a tombstone, removes it). */
    public void learn(String route, NoiseProfile profile) {
        if (profile == null) {
            learned.remove(route);
            return;
        }
        List<PathPattern> patterns = new ArrayList<>();
        for (NoisyField field : profile.getFields()) {
            patterns.add(PathPattern.of(field.getPath()));
        }
        learned.put(route, List.copyOf(patterns));
    }

    public int learnedRoutes() {
        return learned.size();
    }

    /** True when a difference at {@code path} of a case of {@code route} is not counted. */
    public boolean ignores(String route, String path) {
        return anyMatches(configured.get(ANY_ROUTE), path)
                || anyMatches(configured.get(route), path)
                || anyMatches(learned.get(route), path);
    }

    private static boolean anyMatches(List<PathPattern> patterns, String path) {
        if (patterns == null) {
            return false;
        }
        for (PathPattern p : patterns) {
            if (p.matches(path)) {
                return true;
            }
        }
        return false;
    }
}
