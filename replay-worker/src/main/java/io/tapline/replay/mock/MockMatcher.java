package io.tapline.replay.mock;

import com.fasterxml.jackson.databind.JsonNode;
import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.Header;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.OutboundCall;
import io.tapline.noise.CallFields;
import io.tapline.redaction.PercentEncoding;
import io.tapline.redaction.RedactionTokens;
import io.tapline.replay.compare.Bodies;
import io.tapline.replay.compare.BodyComparator;
import io.tapline.replay.compare.CompareOptions;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.compare.RedactedValues;
import io.tapline.replay.compare.HeaderComparator;
import io.tapline.signature.RouteTemplates;
import io.tapline.signature.TextBodies;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Scores how well a candidate's outbound call matches a recorded one. Method and destination must be equal,
 * and the path must at least share the route template; the rest adds up to an explicit score in [0, 1]:
 * <pre>
 *   path      every segment equal 0.40 | same route template, a concrete segment (an id) differs 0.10
 *   query     same parameters and values 0.35 | same parameter names 0.05 | else 0
 *   body      equal bytes or equal as the body comparison finds it (its array order and numeric tolerance
 *             options, values a --mock-ignore body rule names aside) 0.25 | else 0
 *             (the case's {@link CaseMocks} also counts a body equal but for values learned as noise)
 * </pre>
 * The request's target (concrete path segments and query values) weighs more than its body: the default minimum
 * (0.75) is an exact path and query, with the body only ranking recorded calls, so a call asking for another id
 * ({@code /items/42} where production asked {@code /items/17}) is not answered from the other id's recording even
 * when neither has a body or a query. A lower minimum may accept such a call; {@link Match#sameTarget()} then says the
 * answer came from a call with another target, which the mocks report as a difference. Values a
 * {@link MockIgnoreRules} rule names as generated per request (a query parameter, path segments at a placeholder) are
 * not compared: a call differing from its recording only there is the same target, scores as exact and is no
 * difference. A path segment or query value the capture redacted to a token is equal when the case's
 * {@link RedactedValues} judges the call's value not different (its token with the key; not judgeable without it).
 * Stateless, thread-safe.
 */
public final class MockMatcher {

    public static final double PATH_EXACT = 0.40;
    public static final double PATH_TEMPLATE = 0.10;
    public static final double QUERY_EXACT = 0.35;
    public static final double QUERY_NAMES = 0.05;
    public static final double BODY_EQUAL = 0.25;
    /**
     * Default minimum: an exact path and query (the body may differ). Every score with another path segment or query
     * value stays below it: {@code PATH_TEMPLATE + QUERY_EXACT + BODY_EQUAL} and {@code PATH_EXACT + QUERY_NAMES +
     * BODY_EQUAL} are 0.70.
     */
    public static final double DEFAULT_MIN_SCORE = PATH_EXACT + QUERY_EXACT;

    /** No match: method, destination or route template differ. */
    static final Match NONE = new Match(0, false, false);

    /**
     * How a call matches a recorded one.
     *
     * @param score      the explicit score (see the class comment), 0 when method, destination or route differ
     * @param sameTarget true when every path segment and every query parameter value is equal (order and encoding
     *                   of the query aside, values ignored by a {@code --mock-ignore} rule too): the recorded call
     *                   asked the dependency for the same thing
     * @param sameBody   true when the body scored as equal
     */
    public record Match(double score, boolean sameTarget, boolean sameBody) {

        /** This match with its body counted as equal (it differs only in values that do not count). */
        Match withSameBody() {
            return sameBody || score == 0 ? this : new Match(Math.round((score + BODY_EQUAL) * 100) / 100.0, sameTarget, true);
        }
    }

    private final double minScore;
    /** How often a call's body was scored against a recording's (the costly part of matching: may parse JSON). */
    private final AtomicLong bodiesScored = new AtomicLong();
    private final MockIgnoreRules ignores;
    private final BodyComparator bodies;
    /** Null when headers are not compared. */
    private final HeaderComparator headers;
    /**
     * Arrays compared as multisets or numbers within a tolerance: a body equal only under these options is equal as
     * the comparison finds it, which {@link #sameBody} (arrays in order, numbers exact) does not see.
     */
    private final boolean lenientBodies;

    public MockMatcher(double minScore) {
        this(minScore, MockIgnoreRules.none());
    }

    /** @param ignores the call parts whose values are generated per request and not compared ({@code --mock-ignore}) */
    public MockMatcher(double minScore, MockIgnoreRules ignores) {
        this(minScore, ignores, CompareOptions.defaults());
    }

    /**
     * @param compare how a call's body is compared with its recording's (array order, numeric tolerance), and its
     *                headers: whether, and which names are never compared
     */
    public MockMatcher(double minScore, MockIgnoreRules ignores, CompareOptions compare) {
        if (!(minScore > 0 && minScore <= 1)) { // also refuses NaN
            throw new IllegalArgumentException("minimum match score must be in (0, 1], got " + minScore);
        }
        this.minScore = minScore;
        this.ignores = Objects.requireNonNull(ignores, "ignores");
        this.bodies = new BodyComparator(compare);
        this.headers = compare.compareHeaders() ? HeaderComparator.forDependencyRequests(compare) : null;
        this.lenientBodies = compare.ignoreArrayOrder() || compare.numericTolerance() > 0;
    }

    public double minScore() {
        return minScore;
    }

    /** How many times a call's body has been scored against a recording's, since this matcher was made. */
    long bodiesScored() {
        return bodiesScored.get();
    }

    /** Score of {@code call} against {@code recorded}: 0 when method, destination or route differ. */
    public double score(MockRequest call, OutboundCall recorded) {
        return match(call, recorded).score();
    }

    /**
     * The score of {@code call} against {@code recorded} and whether both ask for the same path and query values
     * (values ignored by a rule for the call's destination count as equal).
     */
    public Match match(MockRequest call, OutboundCall recorded) {
        return match(prepare(call), new Recording(recorded));
    }

    /** {@code call} ready to be scored against every recorded call of its case: what depends on it alone, done once. */
    PreparedCall prepare(MockRequest call) {
        return prepare(call, RedactedValues.UNKEYED);
    }

    /** The same, with recorded path and query values the capture redacted judged by {@code redacted}. */
    PreparedCall prepare(MockRequest call, RedactedValues redacted) {
        return new PreparedCall(call, ignores.forDestination(call.destination()), redacted);
    }

    /** The same as {@link #match(MockRequest, OutboundCall)}, with each side's own work done once. */
    Match match(PreparedCall call, Recording recorded) {
        Target target = target(call, recorded);
        return target == null ? NONE : match(call, recorded, target);
    }

    /**
     * How a call's target (path and query) fits a recorded one's, the part of a match that reads no body.
     *
     * @param score      the path's and query's share of the score, not rounded
     * @param sameTarget every path segment and query value equal (see {@link Match#sameTarget()})
     */
    record Target(double score, boolean sameTarget) {

        /** The score the match has at least: its body can only add to it. */
        double floor() {
            return Math.round(score * 100) / 100.0;
        }

        /**
         * More than the score the match can reach with any body, counted equal by the matcher or by learned noise
         * ({@link Match#withSameBody()}): rounding adds at most 0.005 each time.
         */
        double ceiling() {
            return score + BODY_EQUAL + 0.01;
        }
    }

    /** The target part of {@link #match(PreparedCall, Recording)}: null when method, destination or route differ. */
    Target target(PreparedCall call, Recording recorded) {
        MockRequest request = call.request;
        if (!request.method().equalsIgnoreCase(recorded.method)) {
            return null;
        }
        if (!call.destination.equals(recorded.destination)) {
            return null;
        }
        // Recorded as the dependency received it, or (older sidecars) as the app sent it, route name in front: the
        // closer wins, so a dependency path that starts with its route's name (/payments/7 on route payments) is not cut.
        PathFit fit = pathFit(call, recorded.path);
        if (fit != PathFit.EXACT && recorded.withoutRoute != null) {
            // the legacy recording mapped as the route forwarded it to: its base path, then what followed the name
            PathFit legacy = pathFit(call, new PathForm(request.routeBase() + recorded.withoutRoute));
            fit = legacy.compareTo(fit) > 0 ? legacy : fit;
        }
        if (fit == PathFit.NONE) {
            return null;
        }
        boolean samePath = fit == PathFit.EXACT;
        double score = samePath ? PATH_EXACT : PATH_TEMPLATE;
        Map<String, List<String>> q1 = call.query;
        Map<String, List<String>> q2 = recorded.query();
        boolean sameQuery = q1.equals(q2) || call.ignores.sameQuery(q1, q2) || sameRedactedQuery(call, recorded);
        if (sameQuery) {
            score += QUERY_EXACT;
        } else if (q1.keySet().equals(q2.keySet())) {
            score += QUERY_NAMES;
        }
        return new Target(score, samePath && sameQuery);
    }

    /** The match of a call whose {@code target} fits: the body scored on top of it. */
    Match match(PreparedCall call, Recording recorded, Target target) {
        bodiesScored.incrementAndGet();
        boolean bodyEqual = sameBody(call, recorded)
                || ((call.ignores.hasBodyRules() || lenientBodies) && bodyDifferences(call, recorded).differences().isEmpty())
                || sameRedactedBody(call, recorded);
        double score = target.score() + (bodyEqual ? BODY_EQUAL : 0);
        return new Match(Math.round(score * 100) / 100.0, target.sameTarget(), bodyEqual);
    }

    /** How a call's path fits a recorded one, worst first. */
    private enum PathFit { NONE, TEMPLATE, EXACT }

    private static PathFit pathFit(PreparedCall call, PathForm recorded) {
        if (call.path.path.equals(recorded.path)
                || (call.ignores.hasPathRules() && call.ignores.samePath(call.path.segments(), recorded.segments()))
                || sameRedactedPath(call, recorded)) {
            return PathFit.EXACT;
        }
        return call.path.template().equals(recorded.template()) ? PathFit.TEMPLATE : PathFit.NONE;
    }

    /**
     * Whether the call's query is the recorded one but for values the capture redacted ({@code api_key=<token>}, an
     * email in a value): the same names, each value equal or, where the recording holds a token, the call's value
     * judged not different by the case's {@link RedactedValues} (equal with the key; not judgeable without it).
     */
    private static boolean sameRedactedQuery(PreparedCall call, Recording recording) {
        Map<String, List<String>> q1 = call.query;
        Map<String, List<String>> q2 = recording.query();
        if (!recording.redactedQuery() || !q1.keySet().equals(q2.keySet())) {
            return false;
        }
        for (Map.Entry<String, List<String>> e : q2.entrySet()) {
            List<String> recorded = e.getValue();
            List<String> sent = q1.get(e.getKey());
            if (recorded.size() != sent.size()) {
                return false;
            }
            for (int i = 0; i < recorded.size(); i++) {
                if (!sameOrRedacted(call.redacted, recorded.get(i), sent.get(i))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The same for path segments (an email or a card number in a path, which the capture redacts). */
    private static boolean sameRedactedPath(PreparedCall call, PathForm recorded) {
        if (!RedactionTokens.in(recorded.path)) {
            return false;
        }
        String[] a = call.path.segments();
        String[] r = recorded.segments();
        if (a.length != r.length) {
            return false;
        }
        for (int i = 0; i < r.length; i++) {
            // the capture tokenised the decoded segment (ann%40example.com as ann@example.com): judge it so too
            if (!sameOrRedacted(call.redacted, r[i], a[i])
                    && !((r[i].indexOf('%') >= 0 || a[i].indexOf('%') >= 0) && sameOrRedacted(call.redacted,
                            PercentEncoding.decodePathSegment(r[i]), PercentEncoding.decodePathSegment(a[i])))) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameOrRedacted(RedactedValues redacted, String recorded, String sent) {
        if (recorded.equals(sent)) {
            return true;
        }
        if (!RedactionTokens.in(recorded)) {
            return false;
        }
        Difference d = Difference.newBuilder().setPath("").setKind(DifferenceKind.CHANGED).setExpected(recorded)
                .setActual(sent).build();
        return redacted.judge(d).outcome() != RedactedValues.Outcome.DIFFERENT;
    }

    /** True when a score is high enough to answer from the recorded call. */
    public boolean accepts(double score) {
        return score + 1e-9 >= minScore;
    }

    /**
     * The path of a recorded named-route call without the route name in front. Older sidecars recorded the path the
     * app sent to their egress listener ({@code /inventory/stock/42} for route {@code inventory}, also
     * {@code /payments/v1/charges} for a route to {@code http://pay:8080/api}), while the mock maps the call to the
     * path its route forwards it to (the route's base path, then what follows the name); current sidecars record that
     * path, which may itself start with the route's name, so {@link #match} tries the recorded path both as is and as
     * the route would have forwarded it.
     */
    static String withoutRoutePrefix(String path, String destination) {
        String prefix = "/" + destination;
        if (path.equals(prefix)) {
            return "/";
        }
        return path.startsWith(prefix + "/") ? path.substring(prefix.length()) : path;
    }

    static boolean sameDestination(String a, String b) {
        return stripDefaultPort(a).equals(stripDefaultPort(b));
    }

    private static String stripDefaultPort(String destination) {
        String d = destination.toLowerCase(Locale.ROOT);
        return d.endsWith(":80") ? d.substring(0, d.length() - 3) : d;
    }

    /** Query parameters, decoded, names sorted, values in order. */
    static Map<String, List<String>> query(String rawQuery) {
        return new TreeMap<>(Bodies.formFields(rawQuery));
    }

    /**
     * How a part of a call (its body, its headers) differs from a recorded request's.
     *
     * @param differences paths as {@link BodyComparator} and {@link HeaderComparator} name them, without those a
     *                    {@code --mock-ignore} rule for the call's destination ignores
     * @param ignored     how many such rules left out; of a body, also those that rules or learned noise left out of
     *                    array elements before pairing them ({@link BodyComparator#compare}), which are not listed
     * @param notes       what was compared otherwise than asked and why, to be read after the part's name (array
     *                    elements too costly to pair in any order)
     */
    record CallDifferences(List<Difference> differences, int ignored, List<String> notes) {

        static final CallDifferences NONE = new CallDifferences(List.of(), 0, List.of());

        CallDifferences(List<Difference> differences, int ignored) {
            this(differences, ignored, List.of());
        }
    }

    /**
     * How the call's body differs from the recorded request's; computed once per recording for a call, whether for
     * ranking (body rules, learned noise) or for reporting.
     */
    CallDifferences bodyDifferences(PreparedCall call, Recording recorded) {
        if (sameBody(call, recorded)) {
            return CallDifferences.NONE;
        }
        return call.bodyDifferences.computeIfAbsent(recorded, r -> compareBodies(call, r));
    }

    /**
     * The body comparison, told which paths a {@code --mock-ignore} body rule or the recording's learned noise names
     * (as a response's comparison is told its ignore rules): with array order ignored, what they name inside array
     * elements is left out before the elements are paired.
     */
    private CallDifferences compareBodies(PreparedCall call, Recording recorded) {
        List<Difference> all = new ArrayList<>();
        boolean rules = call.ignores.hasBodyRules();
        boolean noise = !recorded.noise.isEmpty();
        Predicate<String> ignored = !rules && !noise ? null
                : path -> rules && call.ignores.ignoresBody(path) || noise && recorded.noise.ignores(path);
        List<String> notes = new ArrayList<>(0);
        int leftOut = bodies.compare(recorded.body(), recorded.request.getContentEncoding(),
                recorded.request.getContentType(), call.request.body(), call.request.contentEncoding(),
                call.request.contentType(), ignored, all, notes);
        int before = all.size();
        if (rules) {
            all.removeIf(d -> call.ignores.ignoresBody(d.getPath()));
        }
        return new CallDifferences(all, leftOut + before - all.size(), List.copyOf(notes));
    }

    /**
     * How a call's headers differ from a recorded request's ({@code header:<lower-case name>}), without the names a
     * {@code --mock-ignore} header rule for the call's destination ignores, nor those never compared
     * ({@link HeaderComparator#forDependencyRequests}). Nothing when headers are not compared, or when the recording
     * holds no header at all (headers were not captured: a capture always has at least {@code Host}).
     */
    CallDifferences headerDifferences(PreparedCall call, Recording recorded) {
        List<Header> recordedHeaders = recorded.request.getHeaders();
        if (headers == null || recordedHeaders.isEmpty()) {
            return CallDifferences.NONE;
        }
        List<Difference> all = new ArrayList<>();
        headers.compare(recordedHeaders, call.request.headers(), all);
        int before = all.size();
        all.removeIf(d -> call.ignores.ignoresHeader(d.getPath().substring(CallFields.HEADER.length())));
        return new CallDifferences(all, before - all.size());
    }

    /**
     * Equal bytes, else both non-empty and equal as the body comparison finds them ({@link BodyComparator}, by the
     * body's kind: JSON read strictly with numbers by value, so {@code 5} and {@code 5.0} are one amount while a body
     * written twice, a repeated key or two decimals one double apart are not equal; form fields in any order; text
     * normalised, each in its charset); each side decoded by its
     * {@code Content-Encoding} first (a candidate that gzips what it sends its dependencies sends the same request as
     * the recording, stored decoded). Equal here is no difference in {@link #bodyDifferences}.
     */
    private static boolean sameBody(PreparedCall call, Recording recorded) {
        byte[] a = call.decodedBody();
        byte[] b = recorded.decodedBody();
        if (Arrays.equals(a, b)) {
            return true;
        }
        if (a.length == 0 || b.length == 0) {
            return false;
        }
        String recordedType = recorded.request.getContentType();
        String callType = call.request.contentType();
        return switch (Bodies.kindOf(recordedType != null ? recordedType : callType, b)) {
            case JSON -> {
                JsonNode ja = call.json();
                JsonNode jb = ja == null ? null : recorded.json();
                yield jb != null && BodyComparator.sameJson(jb, ja);
            }
            case FORM -> Bodies.formFields(b).equals(Bodies.formFields(a)); // field order aside, values in order
            case TEXT -> BodyComparator.sameText(b, TextBodies.charsetOf(recordedType), a, TextBodies.charsetOf(callType));
            default -> false; // compared by hash: equal only as bytes
        };
    }

    /**
     * Whether the call's body is the recorded one but for what the capture redacted (an email in a value or used as a
     * key, a card number): with the sidecar's key every difference left is a plain value that tokenises to the
     * recorded token. Without the key nothing can be told, and the body does not count as equal.
     */
    private boolean sameRedactedBody(PreparedCall call, Recording recorded) {
        if (!call.redacted.hasKey() || !recorded.redactedBody()) {
            return false;
        }
        for (Difference d : bodyDifferences(call, recorded).differences()) {
            if (call.redacted.judge(d).outcome() != RedactedValues.Outcome.EQUAL) {
                return false;
            }
        }
        return true;
    }

    /** {@code body} decoded by {@code contentEncoding}; the bytes themselves when they do not decode (compared so). */
    private static byte[] decoded(byte[] body, String contentEncoding) {
        try {
            return Bodies.decode(body, contentEncoding);
        } catch (IOException e) {
            return body;
        }
    }

    /** The JSON tree of a non-empty body, read as the body comparison reads it; null when it is not JSON. */
    private static JsonNode json(byte[] body) {
        return BodyComparator.readJson(body);
    }

    /** A path with its route template and its segments for path rules, each computed when first needed. */
    private static final class PathForm {

        final String path;
        private String template;
        private String[] segments;

        PathForm(String path) {
            this.path = path;
        }

        String template() {
            if (template == null) {
                template = RouteTemplates.normalise(path);
            }
            return template;
        }

        String[] segments() {
            if (segments == null) {
                segments = MockIgnoreRules.segments(path);
            }
            return segments;
        }
    }

    /**
     * A candidate's call with what scoring it needs of it alone: computed once, whatever the recorded calls it is
     * scored against. Its JSON body is parsed when first needed. Not thread-safe: one thread scores one call.
     */
    static final class PreparedCall {

        final MockRequest request;
        final String destination;
        final PathForm path;
        final Map<String, List<String>> query;
        final MockIgnoreRules.Scope ignores;
        /** How recorded values the capture redacted are judged in this call's path and query. */
        final RedactedValues redacted;
        /** The body differences from each recording it was compared with ({@link #bodyDifferences}). */
        private final Map<Recording, CallDifferences> bodyDifferences = new IdentityHashMap<>();
        private byte[] decoded;
        private boolean parsed;
        private JsonNode json;

        private PreparedCall(MockRequest request, MockIgnoreRules.Scope ignores, RedactedValues redacted) {
            this.request = request;
            this.destination = stripDefaultPort(request.destination());
            this.path = new PathForm(request.path());
            this.query = query(request.rawQuery());
            this.ignores = ignores;
            this.redacted = redacted;
        }


        /** The body decoded by the call's {@code Content-Encoding}; as sent when it does not decode. */
        byte[] decodedBody() {
            if (decoded == null) {
                decoded = MockMatcher.decoded(request.body(), request.contentEncoding());
            }
            return decoded;
        }

        JsonNode json() {
            if (!parsed) {
                json = MockMatcher.json(decodedBody());
                parsed = true;
            }
            return json;
        }
    }

    /**
     * A recorded call with what scoring needs of it alone, kept while its case replays: each part computed when first
     * needed, then reused for every call scored against it. Not thread-safe: {@link CaseMocks} scores under its lock.
     */
    static final class Recording {

        final String method;
        final String destination;
        final PathForm path;
        /** The recorded path without the route name in front, null when it does not start with it. */
        final String withoutRoute;
        final HttpRequest request;
        /** The fields of its request learned as noise of the case's route ({@link IgnoreRules.Scope#callNoise}). */
        final IgnoreRules.CallNoise noise;
        private Map<String, List<String>> query;
        private Boolean redactedQuery;
        private Boolean redactedBody;
        private byte[] body;
        private byte[] decoded;
        private boolean parsed;
        private JsonNode json;

        Recording(OutboundCall recorded) {
            this(recorded, IgnoreRules.CallNoise.NONE);
        }

        /** @param noise the fields of its request learned as noise, for the case being replayed */
        Recording(OutboundCall recorded, IgnoreRules.CallNoise noise) {
            this.request = recorded.getRequest();
            this.noise = noise;
            this.method = request.getMethod();
            this.destination = stripDefaultPort(recorded.getDestination());
            this.path = new PathForm(request.getPath());
            String without = withoutRoutePrefix(request.getPath(), recorded.getDestination());
            this.withoutRoute = without.equals(request.getPath()) ? null : without;
        }

        Map<String, List<String>> query() {
            if (query == null) {
                query = MockMatcher.query(request.getRawQuery());
            }
            return query;
        }

        /** Whether the recorded body holds a redaction token. */
        boolean redactedBody() {
            if (redactedBody == null) {
                redactedBody = RedactionTokens.in(new String(decodedBody(), java.nio.charset.StandardCharsets.ISO_8859_1));
            }
            return redactedBody;
        }

        /** Whether the recorded query holds a redaction token. */
        boolean redactedQuery() {
            if (redactedQuery == null) {
                redactedQuery = query().values().stream().flatMap(List::stream).anyMatch(RedactionTokens::in);
            }
            return redactedQuery;
        }

        byte[] body() {
            if (body == null) {
                body = Bodies.bytes(request.getBody());
            }
            return body;
        }

        /** The body decoded by the recorded {@code Content-Encoding} (usually none: stored decoded); else as stored. */
        byte[] decodedBody() {
            if (decoded == null) {
                decoded = MockMatcher.decoded(body(), request.getContentEncoding());
            }
            return decoded;
        }

        JsonNode json() {
            if (!parsed) {
                json = MockMatcher.json(decodedBody());
                parsed = true;
            }
            return json;
        }
    }
}
