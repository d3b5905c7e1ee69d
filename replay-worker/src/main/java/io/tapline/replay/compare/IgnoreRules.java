package io.tapline.replay.compare;

import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;
import io.tapline.topics.TaplineTopics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which difference paths are not counted, per route: configured rules ({@code "GET /owners/{id} $.updatedAt"},
 * or {@code "* header:x-build"} for every route, on every service) plus the noise learned by dedup-stream
 * ({@code tapline.noise}) for the case's own service and route. A profile keyed by the route alone (written before
 * noise was learned per service, merging all services) is only a fallback for a service with no profile of its own
 * for the route; dedup-stream retires those. Thread-safe: noise profiles are replaced as the noise topic is read.
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

    /**
     * Replaces the learned noise under one {@code tapline.noise} key, {@link TaplineTopics#noiseKey service + route}
     * or a route alone (a null profile, i.e. a tombstone, removes it).
     */
    public void learn(String key, NoiseProfile profile) {
        if (profile == null) {
            learned.remove(key);
            return;
        }
        List<PathPattern> patterns = new ArrayList<>();
        for (NoisyField field : profile.getFields()) {
            patterns.add(PathPattern.of(field.getPath()));
        }
        learned.put(key, List.copyOf(patterns));
    }

    public int learnedRoutes() {
        return learned.size();
    }

    /** True when a difference at {@code path} does not count for a case of {@code service}'s {@code route}. */
    public boolean ignores(String service, String route, String path) {
        return scope(service, route).ignores(path);
    }

    /**
     * The rules for cases of {@code service}'s {@code route}, looked up once for all the differences of one comparison
     * (the learned noise as it is now: a profile read later applies to later comparisons).
     */
    public Scope scope(String service, String route) {
        List<PathPattern> noise = learned.get(TaplineTopics.noiseKey(service, route));
        if (noise == null) {
            noise = learned.get(route); // a profile from before noise was learned per service
        }
        return new Scope(configured.get(ANY_ROUTE), configured.get(route), noise);
    }

    /** The ignore rules of one service's route. Immutable, thread-safe. */
    public static final class Scope {

        private final List<PathPattern> anyRoute;
        private final List<PathPattern> route;
        private final List<PathPattern> noise;

        private Scope(List<PathPattern> anyRoute, List<PathPattern> route, List<PathPattern> noise) {
            this.anyRoute = anyRoute;
            this.route = route;
            this.noise = noise;
        }

        /** True when a difference at {@code path} does not count. */
        public boolean ignores(String path) {
            return anyMatches(anyRoute, path) || anyMatches(route, path) || anyMatches(noise, path);
        }
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
