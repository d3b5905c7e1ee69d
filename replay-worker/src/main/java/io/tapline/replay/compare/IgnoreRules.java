package io.tapline.replay.compare;

import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;
import io.tapline.noise.CallFields;
import io.tapline.signature.RouteTemplates;
import io.tapline.topics.TaplineTopics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Which difference paths are not counted, per route: configured rules ({@code "GET /owners/{id} $.updatedAt"},
 * or {@code "* header:x-build"} for every route, on every service) plus the noise learned by dedup-stream
 * ({@code tapline.noise}) for the case's own service and route. A profile keyed by the route alone (written before
 * noise was learned per service, merging all services) is only a fallback for a service with no profile of its own
 * for the route; dedup-stream retires those. Learned noise also names fields of the requests the app sent its
 * dependencies ({@link CallFields}: {@code call:POST payments /charges $.idempotencyKey}, {@code ... header:NAME}); those
 * apply to what the candidate sends the mocks ({@link Scope#callNoise}), not to the response. A run that ignores array
 * order ({@code --compare-array-order ignore}) applies only the fields learned as noisy in any order
 * ({@link NoisyField#getNoisyInAnyOrder()}): a field that only differed because list elements came in another order is
 * compared there, as such a run does not report a reordering. A run with a numeric tolerance
 * ({@code --compare-numeric-tolerance T}) applies only the fields whose learned variation it would report: those
 * without a {@link NoisyField#getNumericSpread() numeric spread} (some variation was not a number's, or the profile was
 * written before spreads were learned) and those whose spread exceeds {@code T} (the tolerance counts {@code |a - b| <=
 * T} as equal, and a spread of at most {@code T} is a number that only varied within it). Thread-safe: noise profiles
 * are replaced as the noise topic is read.
 */
public final class IgnoreRules {

    /** Route wildcard in a configured rule. */
    public static final String ANY_ROUTE = "*";

    private final Map<String, List<PathPattern>> configured;
    private final Map<String, Profile> learned = new ConcurrentHashMap<>();

    /**
     * The noise of one profile, for one array order.
     *
     * @param response patterns of response fields
     * @param calls    per call ({@code call:POST payments /charges}), patterns of its request's fields (body paths,
     *                 {@code header:NAME})
     */
    private record Learned(List<PathPattern> response, Map<String, List<PathPattern>> calls) {

        static final Learned NONE = new Learned(List.of(), Map.of());

        /** The fields of a profile that {@code applies} to. */
        static Learned of(List<NoisyField> fields, Predicate<NoisyField> applies) {
            List<PathPattern> response = new ArrayList<>();
            Map<String, List<PathPattern>> calls = new HashMap<>();
            for (NoisyField field : fields) {
                if (!applies.test(field)) {
                    continue;
                }
                CallFields.CallField call = CallFields.parse(field.getPath());
                if (call == null) {
                    response.add(PathPattern.of(field.getPath()));
                } else {
                    calls.computeIfAbsent(call.call(), k -> new ArrayList<>()).add(PathPattern.of(call.fieldPath()));
                }
            }
            calls.replaceAll((call, patterns) -> List.copyOf(patterns));
            return new Learned(List.copyOf(response), Map.copyOf(calls));
        }
    }

    /** A profile's noise under one numeric tolerance, as array order is compared and as it is with order ignored. */
    private record Within(double tolerance, Learned ordered, Learned anyOrder) {

        static Within of(List<NoisyField> fields, double tolerance) {
            return new Within(tolerance, Learned.of(fields, field -> beyond(field, tolerance)),
                    Learned.of(fields, field -> field.getNoisyInAnyOrder() && beyond(field, tolerance)));
        }

        Learned in(boolean ignoringArrayOrder) {
            return ignoringArrayOrder ? anyOrder : ordered;
        }
    }

    /**
     * Whether a numeric tolerance would report the variation {@code field} was learned from: its spread is not known
     * (not all numeric, or not learned) or exceeds {@code tolerance}. Spreads are written so that comparing the two
     * doubles tells exactly whether the decimal difference exceeds the decimal value of the tolerance
     * ({@link NoisyField#getNumericSpread()}).
     */
    static boolean beyond(NoisyField field, double tolerance) {
        Double spread = field.getNumericSpread();
        return spread == null || spread > tolerance;
    }

    /**
     * A profile's noise without a tolerance ({@code exact}: every field, the spreads all exceed 0) and under the
     * tolerance last asked for ({@code tolerant}: a run has one; another is computed when asked for).
     */
    private static final class Profile {

        private final List<NoisyField> fields;
        private final Within exact;
        private final boolean spreads;
        private volatile Within tolerant;

        Profile(NoiseProfile profile) {
            this.fields = List.copyOf(profile.getFields());
            this.exact = Within.of(fields, 0);
            this.spreads = fields.stream().anyMatch(field -> field.getNumericSpread() != null);
        }

        Learned in(boolean ignoringArrayOrder, double numericTolerance) {
            if (numericTolerance <= 0 || !spreads) {
                return exact.in(ignoringArrayOrder);
            }
            Within within = tolerant;
            if (within == null || within.tolerance() != numericTolerance) {
                within = Within.of(fields, numericTolerance);
                tolerant = within;
            }
            return within.in(ignoringArrayOrder);
        }
    }

    private IgnoreRules(Map<String, List<PathPattern>> configured) {
        this.configured = configured;
    }

    public static IgnoreRules none() {
        return new IgnoreRules(Map.of());
    }

    /**
     * Parses rules of the form {@code ROUTE PATH} where ROUTE is {@code *} or {@code METHOD /template}, the template
     * as dedup-stream writes a case's route ({@link RouteTemplates#requireRoute}: a placeholder is a whole segment,
     * {@code {name}}; no wildcard, query or blank). The route is named as a case's is
     * ({@link RouteTemplates#templateRoute}): the method upper-cased, empty segments and a trailing slash dropped.
     *
     * @throws IllegalArgumentException naming the malformed rule, and for a malformed template what is wrong in the
     *                                  words of dedup-stream's {@code --dedup-route-templates}
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
            if (!route.equals(ANY_ROUTE)) {
                int sp = route.indexOf(' ');
                if (sp < 0) {
                    throw new IllegalArgumentException("ignore rule '" + rule
                            + "': route must be '*' or 'METHOD /template', got '" + route + "'");
                }
                try {
                    // as dedup-stream checks a template: '/b/{y' or '/files/*' named no route a case has
                    RouteTemplates.requireRoute(route.substring(sp + 1));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("ignore rule '" + rule + "': " + e.getMessage(), e);
                }
                // as dedup-stream writes a case's route: 'get /owners/{id}/' is 'GET /owners/{id}'
                route = RouteTemplates.templateRoute(route.substring(0, sp), route.substring(sp + 1));
            }
            PathPattern pattern;
            try {
                pattern = PathPattern.written(path);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ignore rule '" + rule + "': " + e.getMessage(), e);
            }
            byRoute.computeIfAbsent(route, k -> new ArrayList<>()).add(pattern);
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
        learned.put(key, new Profile(profile));
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
     * (the learned noise as it is now: a profile read later applies to later comparisons), with array order compared.
     */
    public Scope scope(String service, String route) {
        return scope(service, route, false);
    }

    /**
     * {@link #scope(String, String)} for a comparison that ignores array order ({@code ignoringArrayOrder}) or not:
     * ignoring it, only the fields learned as noisy in any order apply.
     */
    public Scope scope(String service, String route, boolean ignoringArrayOrder) {
        return scope(service, route, ignoringArrayOrder, 0);
    }

    /**
     * {@link #scope(String, String, boolean)} for a comparison under a numeric tolerance ({@code numericTolerance}, 0
     * for none): under one, only the fields whose learned variation exceeds it apply ({@link #beyond}).
     */
    public Scope scope(String service, String route, boolean ignoringArrayOrder, double numericTolerance) {
        Profile noise = learned.get(TaplineTopics.noiseKey(service, route));
        if (noise == null) {
            noise = learned.get(route); // a profile from before noise was learned per service
        }
        return new Scope(configured.get(ANY_ROUTE), configured.get(route),
                noise == null ? Learned.NONE : noise.in(ignoringArrayOrder, numericTolerance));
    }

    /** The ignore rules of one service's route. Immutable, thread-safe. */
    public static final class Scope {

        /** No rule and no noise: every difference counts. */
        public static final Scope NONE = new Scope(null, null, Learned.NONE);

        private final List<PathPattern> anyRoute;
        private final List<PathPattern> route;
        private final Learned noise;

        private Scope(List<PathPattern> anyRoute, List<PathPattern> route, Learned noise) {
            this.anyRoute = anyRoute;
            this.route = route;
            this.noise = noise;
        }

        /** True when a difference at {@code path} of the response does not count. */
        public boolean ignores(String path) {
            return anyMatches(anyRoute, path) || anyMatches(route, path) || anyMatches(noise.response(), path);
        }

        /**
         * The fields learned as noise in the request of a call recorded as {@code method destination path}: values
         * the app generates per request, which differed between identical production requests.
         */
        public CallNoise callNoise(String method, String destination, String path) {
            if (noise.calls().isEmpty()) {
                return CallNoise.NONE;
            }
            List<PathPattern> fields = noise.calls().get(CallFields.call(method, destination, path));
            return fields == null ? CallNoise.NONE : new CallNoise(fields);
        }
    }

    /** The noise learned in the requests of one recorded call. */
    public record CallNoise(List<PathPattern> fields) {

        public static final CallNoise NONE = new CallNoise(List.of());

        public boolean isEmpty() {
            return fields.isEmpty();
        }

        /**
         * True when the field at {@code field} ({@code $.idempotencyKey}, {@code form:nonce}, {@code body},
         * {@code header:idempotency-key}) is noise.
         */
        public boolean ignores(String field) {
            return anyMatches(fields, field);
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
