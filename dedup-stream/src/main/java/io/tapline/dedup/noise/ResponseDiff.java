package io.tapline.dedup.noise;

import com.fasterxml.jackson.databind.JsonNode;
import io.tapline.avro.CallKind;
import io.tapline.avro.Header;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.OutboundCall;
import io.tapline.json.StrictJson;
import io.tapline.dedup.signature.Bodies;
import io.tapline.dedup.signature.Shapes;
import io.tapline.noise.CallFields;
import io.tapline.signature.FormFields;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * Field-by-field comparison of what two identical requests led to: which paths were compared and which differed.
 * Response JSON bodies are flattened to paths ({@code $.items[*].id}); other bodies compare as one field {@code body};
 * headers compare as {@code header:<lower-case name>}. The requests the app sent its dependencies (headers and bodies)
 * compare too, named by {@link CallFields} ({@code call:POST payments /charges $.idempotencyKey}): a value the app
 * generates per request (an idempotency key, a timestamp) differs between identical requests just like a response's.
 * What was observed is first reduced to {@link ResponseFields} (a digest per field), which is also what is kept as the
 * baseline of a request between two comparisons.
 */
public final class ResponseDiff {

    /**
     * The paths compared in a pair, those that differed, those that differed with array order ignored (as the
     * replay worker compares under {@code --compare-array-order ignore}): a subset of {@code differing}; and of
     * {@code differing}, those whose values on both sides were numbers only, at the same positions, with the largest
     * difference between two of them at one position ({@link #spread}): the others' variation no numeric tolerance
     * absorbs.
     */
    public record Outcome(List<String> compared, List<String> differing, List<String> differingInAnyOrder,
                          Map<String, Double> numericSpreads) {
    }

    /**
     * Longer field paths (a JSON key of kilobytes) are not compared: the stores and the repartition topic write a path
     * in at most 64 KiB of modified UTF-8, and such a key is no field anyone would ignore.
     */
    static final int MAX_PATH_CHARS = 4096;

    /**
     * The field paths of one response (with its dependency requests) add up to at most this many characters; past it,
     * the fields are not compared. A path repeats every key above it, so a body of 50 KB can name a 4000-character
     * key over thousands of fields (24 MB of paths): its baseline and its pair's observation, which holds the paths of
     * both responses, would outgrow the store's changelog and the repartition topic and fail the task at every retry.
     */
    static final int MAX_FIELD_PATH_CHARS = 1 << 20;

    /**
     * A JSON field keeps its numbers ({@link ResponseFields#numbers()}) when it holds at most this many, each written
     * (with its position) in at most {@link #MAX_NUMBER_CHARS} characters, and only while the response's fields keep
     * at most {@link #MAX_NUMBERS} in all: the baseline of every request stores them. Beyond these, a field's
     * variation counts as not numeric, and its noise applies whatever the replay's tolerance, as before spreads were
     * learned.
     */
    static final int MAX_NUMBERS_PER_FIELD = 32;
    static final int MAX_NUMBERS = 256;
    /**
     * With numbers written plainly only ({@link #numberStart}), also keeps out numbers far from 1 either way, whose
     * difference with an ordinary one has as many digits ({@code 1e-999} is 1,001 characters as {@code Shapes}
     * writes it; {@code 1e1001}, written with its exponent, is no plain number).
     */
    static final int MAX_NUMBER_CHARS = 40;

    private ResponseDiff() {
    }

    /**
     * Request headers that change with every request without changing what is asked: tracing and request ids, the
     * client's clock, what proxies on the way added, connection framing. Every other header counts: two requests are
     * the same only from the same caller (its credential, a session, a tenant or account header of any name) for the
     * same representation ({@code Accept}, {@code Accept-Language}); a header that names the caller and is left out
     * would pair two users' {@code GET /me} and teach their per-user fields as noise. Credential values are
     * redaction tokens by now, which stay equal for one caller.
     */
    static final Set<String> PER_REQUEST_HEADERS = CallFields.union(CallFields.TRACE_HEADERS, Set.of("x-request-id",
            "x-correlation-id", "request-id", "x-amzn-trace-id", "x-cloud-trace-context", "uber-trace-id",
            "x-datadog-trace-id", "x-datadog-parent-id", "x-datadog-sampling-priority", "date", "x-forwarded-for",
            "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "forwarded", "x-real-ip", "via",
            "content-length", "connection", "keep-alive", "te", "transfer-encoding", "expect"));

    /**
     * Fingerprint of what makes two requests "the same request": method, authority, path, raw query, body bytes and
     * every header but the {@link #PER_REQUEST_HEADERS per-request ones} (names in any case, values in order); and
     * whether the body was captured whole.
     */
    public static long requestFingerprint(HttpRequest request) {
        MessageDigest sha = sha256();
        TreeMap<String, List<String>> caller = new TreeMap<>();
        for (Header h : request.getHeaders()) {
            String name = h.getName().toLowerCase(Locale.ROOT);
            if (!PER_REQUEST_HEADERS.contains(name)) {
                caller.computeIfAbsent(name, k -> new ArrayList<>()).add(h.getValue());
            }
        }
        caller.forEach((name, values) -> {
            sha.update(name.getBytes(StandardCharsets.UTF_8));
            for (String v : values) {
                sha.update((byte) 1);
                sha.update(v.getBytes(StandardCharsets.UTF_8));
            }
            sha.update((byte) 0);
        });
        sha.update(Objects.toString(request.getAuthority(), "").toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(request.getMethod().toUpperCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(request.getPath().getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(Objects.toString(request.getRawQuery(), "").getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(Bodies.bytes(request.getBody()));
        if (request.getTruncated()) {
            // Not the body that was sent (its prefix, or nothing for an encoding the capture could not undo): never
            // the same request as one captured whole (DedupProcessor does not pair two truncated ones either).
            sha.update(new byte[] {0, 't'});
        }
        return ByteBuffer.wrap(sha.digest()).getLong();
    }

    /** The response as noise compares it, with no dependency calls: {@link #fields(HttpResponse, List)}. */
    public static ResponseFields fields(HttpResponse response) {
        return fields(response, List.of());
    }

    /**
     * The response and the dependency requests as noise compares them: headers as {@code header:<lower-case
     * name>}, the body in the kind the replay worker compares it by ({@link #addBodyFields}: JSON flattened to paths,
     * values of one {@code [*]} path taken as an ordered list, a body that is one value the path {@code $}; a form
     * field by field; any other non-empty body as one field {@code body}); and each HTTP call's request headers and
     * body the same way under its {@link CallFields call name} ({@link #addCallFields}). Each field's values are
     * reduced to a digest.
     */
    public static ResponseFields fields(HttpResponse response, List<OutboundCall> calls) {
        MessageDigest sha = sha256();
        Values values = new Values();
        headers(response.getHeaders(), values);
        // A body the capture truncated is left out, as for dependency requests: its cut prefix does not parse, and as
        // one field "body" it would differ with any value in it and be learned as noise, while the replay worker
        // names every non-JSON or empty answer "body": a route would then ignore broken answers on every case.
        if (!response.getTruncated() && response.getBody() != null && response.getBody().hasRemaining()) {
            addBodyFields(Bodies.bytes(response.getBody()), response.getContentEncoding(), response.getContentType(),
                    path -> path, values);
        }
        addCallFields(calls, values);
        TreeMap<String, Long> digests = new TreeMap<>();
        TreeMap<String, Long> anyOrderDigests = new TreeMap<>();
        TreeMap<String, List<String>> numbers = new TreeMap<>();
        long pathChars = 0;
        int numbersKept = 0;
        for (Map.Entry<String, List<String>> field : values.ordered.entrySet()) {
            String path = field.getKey();
            if (path.length() <= MAX_PATH_CHARS && pathChars + path.length() <= MAX_FIELD_PATH_CHARS) {
                pathChars += path.length();
                digests.put(path, digest(sha, field.getValue()));
                List<String> anyOrder = values.anyOrder.get(path);
                anyOrder.sort(null);
                anyOrderDigests.put(path, digest(sha, anyOrder));
                List<String> v = field.getValue();
                if (numbersKept + v.size() <= MAX_NUMBERS && v.size() <= MAX_NUMBERS_PER_FIELD && allNumbers(v)
                        && inJson(path)) {
                    numbers.put(path, List.copyOf(v));
                    numbersKept += v.size();
                }
            }
        }
        return ResponseFields.wrap(digests, anyOrderDigests, numbers, true);
    }

    /** Whether each value is a number ({@link #numberStart}) written in at most {@link #MAX_NUMBER_CHARS}. */
    private static boolean allNumbers(List<String> values) {
        for (String v : values) {
            if (v.length() > MAX_NUMBER_CHARS || numberStart(v) < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Where the number starts in a value {@link Shapes#flatten} wrote, after its position ({@code 0,1,} before
     * {@code 10.5}: indexes, each followed by a comma); -1 when the value is no number written plainly. A number is
     * written by its decimal value, plainly ({@code -0.5}, {@code 1000}) unless its scale is beyond 1,000 either way
     * ({@code 1E+1001}, left out here: its difference with {@code 1} would be written digit by digit); every other
     * value starts otherwise (a string with a quote, a literal with a letter, an object, an array or a key of a map
     * by id with {@code \0}, a value below the depth limit with its canonical JSON's bracket or quote).
     */
    static int numberStart(String value) {
        int start = 0;
        while (true) {
            int digits = digits(value, start);
            if (digits > start && digits < value.length() && value.charAt(digits) == ',') {
                start = digits + 1;
            } else {
                break;
            }
        }
        int i = start < value.length() && value.charAt(start) == '-' ? start + 1 : start;
        int integer = digits(value, i);
        if (integer == i) {
            return -1;
        }
        if (integer < value.length() && value.charAt(integer) == '.') {
            int fraction = digits(value, integer + 1);
            return fraction > integer + 1 && fraction == value.length() ? start : -1;
        }
        return integer == value.length() ? start : -1;
    }

    /** The index past the ASCII digits of {@code s} from {@code from}. */
    private static int digits(String s, int from) {
        int i = from;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
        }
        return i;
    }

    /** Whether a field is a value of a JSON body: of the response ({@code $...}) or of a dependency request. */
    private static boolean inJson(String path) {
        if (path.startsWith("$")) {
            return true;
        }
        CallFields.CallField call = path.startsWith(CallFields.PREFIX) ? CallFields.parse(path) : null;
        return call != null && call.fieldPath().startsWith("$");
    }

    /**
     * A response's fields and their values, twice: values in order, each after its position among the elements of
     * the arrays above it ({@link Shapes#flatten}); and without array positions ({@link Shapes#flattenInAnyOrder}),
     * to be sorted, as the replay worker compares with array order ignored. Fields outside JSON bodies have the same
     * values in both. Both maps hold the same paths.
     */
    private static final class Values {

        final Map<String, List<String>> ordered = new TreeMap<>();
        final Map<String, List<String>> anyOrder = new TreeMap<>();

        void add(String field, String value) {
            ordered.computeIfAbsent(field, k -> new ArrayList<>()).add(value);
            anyOrder.computeIfAbsent(field, k -> new ArrayList<>()).add(value);
        }
    }

    /**
     * Adds the fields of the HTTP calls' requests: each header as {@code header:<lower-case name>} (values in order),
     * except the {@link CallFields#UNCOMPARED_HEADERS never compared}; the body in the kind the replay worker compares
     * it by ({@link #addBodyFields}): a form body field by field as {@code form:NAME}, a JSON body flattened to paths
     * ({@code $} for one value), any other non-empty body as one field {@code body}. Calls with one name (method, destination, route
     * template) add to the same fields, ordered by their bodies, so the order in which concurrent calls were captured
     * does not make a difference. Empty bodies add nothing; a body the capture truncated is left out, as the replay
     * worker does not compare it.
     */
    private static void addCallFields(List<OutboundCall> calls, Values values) {
        List<OutboundCall> http = new ArrayList<>(calls.size());
        for (OutboundCall c : calls) {
            if (c.getKind() == CallKind.HTTP && c.getRequest() != null) {
                http.add(c);
            }
        }
        if (http.isEmpty()) {
            return;
        }
        http.sort(Comparator.comparing(ResponseDiff::callName)
                .thenComparing(c -> c.getRequest().getBody(), Comparator.nullsFirst(Comparator.naturalOrder())));
        for (OutboundCall c : http) {
            String call = callName(c);
            HttpRequest request = c.getRequest();
            joined(request.getHeaders()).forEach((name, value) -> {
                if (!CallFields.UNCOMPARED_HEADERS.contains(name)) {
                    values.add(CallFields.field(call, CallFields.HEADER + name), value);
                }
            });
            if (!request.getTruncated() && request.getBody() != null && request.getBody().hasRemaining()) {
                addBodyFields(Bodies.bytes(request.getBody()), request.getContentEncoding(), request.getContentType(),
                        path -> CallFields.field(call, path), values);
            }
        }
    }

    /**
     * Adds a body's fields, named by {@code name} ({@code body}, {@code $.id}, {@code form:NAME}), in the kind the replay
     * worker compares that body by: JSON ({@link #comparedAsJson}) read strictly ({@link StrictJson}) and flattened to
     * paths ({@code $} for one value; nothing for whitespace only, which holds no value there, as an empty body); a
     * form body ({@code application/x-www-form-urlencoded}) field by field; any other body, and a JSON-typed one that is
     * not JSON so read, as one field {@code body}, text normalised as the replay worker compares it ({@link BodyText}),
     * and one in an encoding that cannot be undone by its bytes.
     */
    private static void addBodyFields(byte[] raw, String contentEncoding, String contentType,
                                      UnaryOperator<String> name, Values values) {
        byte[] body = Bodies.decode(raw, contentEncoding);
        if (body == null) {
            values.add(name.apply("body"), new String(raw, StandardCharsets.ISO_8859_1));
        } else if ("application/x-www-form-urlencoded".equals(Bodies.mediaType(contentType))) {
            FormFields.parse(new String(body, StandardCharsets.UTF_8).strip()).forEach((field, v) ->
                    v.forEach(value -> values.add(name.apply("form:" + field), value)));
        } else {
            boolean jsonKind = comparedAsJson(contentType, body);
            JsonNode json = jsonKind ? StrictJson.readExact(body) : null;
            if (json != null && !json.isMissingNode()) {
                Map<String, List<String>> paths = new TreeMap<>();
                Shapes.flatten(json, "$", paths, 0);
                paths.forEach((path, v) -> values.ordered.computeIfAbsent(name.apply(path), k -> new ArrayList<>())
                        .addAll(v));
                paths.clear();
                Shapes.flattenInAnyOrder(json, "$", paths, 0);
                paths.forEach((path, v) -> values.anyOrder.computeIfAbsent(name.apply(path), k -> new ArrayList<>())
                        .addAll(v));
            } else if (json == null) {
                values.add(name.apply("body"), BodyText.value(contentType, body, jsonKind));
            }
        }
    }

    /**
     * Whether the replay worker compares a body of this content type as JSON (its {@code Bodies.kindOf}): by the media
     * type, {@code application/json}, {@code text/json} or {@code +json}; without one, by its first byte past
     * whitespace and control characters opening an object or an array. A {@code text/plain} body that reads as JSON
     * is compared there as text, and named {@code body}: flattened here, its noise was learned under paths the
     * replay worker never names.
     */
    static boolean comparedAsJson(String contentType, byte[] body) {
        String media = Bodies.mediaType(contentType);
        if (media != null) {
            return media.equals("application/json") || media.equals("text/json") || media.endsWith("+json");
        }
        for (byte b : body) {
            if ((b & 0xFF) > ' ') {
                return b == '{' || b == '[';
            }
        }
        return false;
    }

    private static String callName(OutboundCall c) {
        return CallFields.call(c.getRequest().getMethod(), c.getDestination(), c.getRequest().getPath());
    }

    /**
     * Every field present in either, those whose values differ (or that only one of them has), and of those the ones
     * whose values differ with array order ignored too (all of them when a side was stored without
     * {@link ResponseFields#anyOrderDigests()}: not known, so counted as noise is in every order). Dependency request
     * fields are only compared when both sides hold them: a baseline stored before they were learned has none, and
     * would make every one of them look like it differed once.
     */
    public static Outcome compare(ResponseFields a, ResponseFields b) {
        TreeSet<String> compared = new TreeSet<>(a.digests().keySet());
        compared.addAll(b.digests().keySet());
        if (!a.callsCompared() || !b.callsCompared()) {
            compared.removeIf(path -> path.startsWith(CallFields.PREFIX));
        }
        List<String> differing = new ArrayList<>();
        List<String> differingInAnyOrder = new ArrayList<>();
        Map<String, Double> numericSpreads = new LinkedHashMap<>();
        boolean anyOrderKnown = a.anyOrderDigests() != null && b.anyOrderDigests() != null;
        for (String path : compared) {
            if (!Objects.equals(a.digests().get(path), b.digests().get(path))) {
                differing.add(path);
                if (!anyOrderKnown
                        || !Objects.equals(a.anyOrderDigests().get(path), b.anyOrderDigests().get(path))) {
                    differingInAnyOrder.add(path);
                }
                double spread = spread(a.numbers().get(path), b.numbers().get(path));
                if (spread > 0) {
                    numericSpreads.put(path, spread);
                }
            }
        }
        return new Outcome(new ArrayList<>(compared), differing, differingInAnyOrder, numericSpreads);
    }

    /**
     * How far a field's numbers varied between two answers, as the replay worker's numeric tolerance measures it
     * ({@code --compare-numeric-tolerance}: JsonUnit's {@code |a - b| <= T} on exact decimals, T the decimal value
     * of the option's double): the largest {@code |a - b|} of two numbers at one position, written as the smallest
     * double whose decimal value as {@code BigDecimal.valueOf} gives it is not below that difference
     * ({@link #roundedUp}); 0 when it is no numeric variation: a side without numbers, values in another number or
     * at other positions.
     */
    static double spread(List<String> a, List<String> b) {
        if (a == null || b == null || a.size() != b.size()) {
            return 0;
        }
        BigDecimal largest = BigDecimal.ZERO;
        for (int i = 0; i < a.size(); i++) {
            String x = a.get(i);
            String y = b.get(i);
            int xStart = numberStart(x);
            int yStart = numberStart(y);
            if (xStart < 0 || xStart != yStart || !x.regionMatches(0, y, 0, xStart)) {
                return 0;
            }
            BigDecimal difference = new BigDecimal(x.substring(xStart)).subtract(new BigDecimal(y.substring(yStart)))
                    .abs();
            largest = largest.max(difference);
        }
        return roundedUp(largest);
    }

    /**
     * The smallest double {@code d} with {@code BigDecimal.valueOf(d) >= exact} (infinity past the largest double).
     * {@code BigDecimal.valueOf} grows with the double, so for every double {@code t}, {@code d > t} exactly when
     * {@code exact > BigDecimal.valueOf(t)}: a replay comparing the published spread with its tolerance as doubles
     * decides as JsonUnit, which takes the tolerance as {@code BigDecimal.valueOf(t)}, decides on the exact numbers.
     */
    static double roundedUp(BigDecimal exact) {
        double d = exact.doubleValue();
        while (Double.isFinite(d) && BigDecimal.valueOf(d).compareTo(exact) < 0) {
            d = Math.nextUp(d);
        }
        while (Double.isFinite(d) && d > 0 && BigDecimal.valueOf(Math.nextDown(d)).compareTo(exact) >= 0) {
            d = Math.nextDown(d);
        }
        return d;
    }

    /**
     * The digest of a field's values, each by its length and its characters as they are: encoded as UTF-8, half of a
     * character written as two that stands alone (a string cut inside an emoji) became {@code ?}, and two such values
     * read alike here while the replay worker, comparing the strings, reports them changed.
     */
    private static long digest(MessageDigest sha, List<String> values) {
        for (String v : values) {
            ByteBuffer chars = ByteBuffer.allocate(4 + 2 * v.length()).putInt(v.length());
            for (int i = 0; i < v.length(); i++) {
                chars.putChar(v.charAt(i));
            }
            sha.update(chars.array());
        }
        return ByteBuffer.wrap(sha.digest()).getLong();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    private static void headers(List<Header> headers, Values out) {
        joined(headers).forEach((name, value) -> out.add(CallFields.HEADER + name, value));
    }

    /**
     * Header values by lower-case name, a name's values joined in order by {@code ", "}, as the replay worker compares
     * them: one header {@code a, b} and two headers {@code a} and {@code b} are one value there.
     */
    private static Map<String, String> joined(List<Header> headers) {
        Map<String, String> out = new TreeMap<>();
        for (Header h : headers) {
            out.merge(h.getName().toLowerCase(Locale.ROOT), h.getValue(), (a, b) -> a + ", " + b);
        }
        return out;
    }
}
