package io.tapline.replay.compare;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.json.JsonCanonical;
import io.tapline.json.StrictJson;
import io.tapline.redaction.Redactor;
import io.tapline.signature.TextBodies;
import net.javacrumbs.jsonunit.core.Configuration;
import net.javacrumbs.jsonunit.core.Option;
import net.javacrumbs.jsonunit.core.internal.Diff;
import net.javacrumbs.jsonunit.core.listener.DifferenceContext;
import net.javacrumbs.jsonunit.core.listener.DifferenceListener;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.IntPredicate;
import java.util.function.LongConsumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Compares a recorded HTTP body with the candidate's, after content decoding, by the recorded body's kind: JSON
 * structurally with JsonUnit (paths {@code $.items[2].id}), form fields one by one ({@code form:NAME}), text
 * normalised and binary by hash (path {@code body}). Used for responses and for the requests a candidate sends its
 * dependencies. Stateless and thread-safe.
 */
public final class BodyComparator {

    /** JsonUnit treats this placeholder in expected values as "ignore"; make it one no real body contains. */
    private static final String NO_PLACEHOLDER = "\u0000tapline-no-ignore-placeholder\u0000";
    private static final int MAX_RENDERED_CHARS = 512;
    /** Jackson's {@code Unrecognized token '...'}: the token is a run of identifier characters, never a quote. */
    private static final Pattern UNRECOGNIZED_TOKEN = Pattern.compile("^Unrecognized token '[^']*'");
    /** Element pairs above which an array pair is compared as a multiset when array order is ignored. */
    static final long MAX_UNORDERED_PAIRS = 10_000;
    /**
     * Element pairs JsonUnit may try for one body with array order ignored, at every nesting level
     * ({@link #elementPairs}): arrays of 50 rows of 50 numbers each, every number changed, took 1.2 s, 100 x 100 25 s.
     * This many took about 0.2 s.
     */
    static final long MAX_BODY_PAIRS = 1_000_000;

    /** Arrays and objects nested deeper than this make a body not JSON here, compared as text. */
    static final int MAX_NESTING_DEPTH = StrictJson.MAX_NESTING_DEPTH;

    private final CompareOptions options;
    /**
     * Told, for each JsonUnit comparison made to count the members left out of array elements ({@link #leftOutDifferences}),
     * the element pairs it may try (an upper bound: the elements of the arrays in one value, multiplied by those in
     * the other, and the pair itself when the two are array elements). Tests read the work done with it.
     */
    private final LongConsumer leftOutWork;
    /**
     * Told, for each body JsonUnit compares with array order ignored, the element pairs it may try
     * ({@link #elementPairs}: at every nesting level). Tests read the work done with it.
     */
    private final LongConsumer jsonUnitWork;
    private static final LongConsumer NO_WORK = pairs -> {
    };
    /**
     * Strict about what a lenient reading would let pass: content after the first value (a body written twice) and a
     * key repeated in one object (the second value silently winning) make a body not JSON; so does nesting deeper than
     * {@link #MAX_NESTING_DEPTH}.
     */
    private static final ObjectMapper STRICT = JsonMapper.builder(StrictJson.factory())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // Decimals exactly, not as the nearest double (12345678901234567.89 and .88 differ), and with their
            // scale, so a difference shows 2.50 as the body wrote it, not 2.5.
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .build();

    public BodyComparator(CompareOptions options) {
        this(options, NO_WORK);
    }

    /** @param leftOutWork told the element pairs of each JsonUnit comparison counting left-out members */
    BodyComparator(CompareOptions options, LongConsumer leftOutWork) {
        this(options, leftOutWork, NO_WORK);
    }

    /**
     * @param leftOutWork  told the element pairs of each JsonUnit comparison counting left-out members
     * @param jsonUnitWork told the element pairs JsonUnit may try comparing each body with array order ignored
     */
    BodyComparator(CompareOptions options, LongConsumer leftOutWork, LongConsumer jsonUnitWork) {
        this.options = options;
        this.leftOutWork = leftOutWork;
        this.jsonUnitWork = jsonUnitWork;
    }

    /**
     * Adds to {@code out} the differences between the recorded body and the candidate's. Each body is decoded by its
     * own content encoding first; when one cannot be decoded the raw bytes are compared by hash. {@code ignored} names
     * the paths whose differences will not be counted (ignore rules and learned noise; null: none). With array order
     * ignored, the members such a path names inside array elements are left out of both bodies before elements are
     * paired: two elements that differ only there are one element in another order, not a {@code MISSING} and an
     * {@code EXTRA} element that no rule for a field inside them reaches. What such members differ in between the
     * elements paired is not added to {@code out} but counted: the differences they would have had compared in place,
     * all at paths {@code ignored} names. {@code notes} gets what was compared otherwise than asked and why (array
     * elements too costly to pair in any order), each to be read after the name of the body ({@code response body:
     * ...}).
     *
     * @return how many differences the members left out before pairing had between paired elements (0 when array
     *         order is compared or nothing was left out)
     */
    public int compare(byte[] recorded, String recordedEncoding, String recordedType,
                       byte[] candidate, String candidateEncoding, String candidateType, Predicate<String> ignored,
                       List<Difference> out, List<String> notes) {
        byte[] expected;
        byte[] actual;
        try {
            expected = Bodies.decode(recorded, recordedEncoding);
            actual = Bodies.decode(candidate, candidateEncoding);
        } catch (IOException e) {
            String e1 = Bodies.sha256(recorded);
            String a1 = Bodies.sha256(candidate);
            if (!e1.equals(a1)) {
                out.add(diff("body", DifferenceKind.BODY, e1, a1 + " (" + e.getMessage() + ")"));
            }
            return 0;
        }
        if (Arrays.equals(expected, actual)) {
            return 0; // equal decoded bytes are equal under every kind of comparison (JSON, form, text, hash)
        }
        String type = recordedType != null ? recordedType : candidateType;
        switch (Bodies.kindOf(type, expected)) {
            case JSON -> {
                return compareJson(expected, actual, ignored, out, notes);
            }
            case FORM -> compareForm(expected, actual, out);
            case TEXT -> compareAsText(expected, TextBodies.charsetOf(recordedType), actual,
                    TextBodies.charsetOf(candidateType), out);
            case BINARY -> {
                String e = Bodies.sha256(expected);
                String a = Bodies.sha256(actual);
                if (!e.equals(a)) {
                    out.add(diff("body", DifferenceKind.BODY, e, a));
                }
            }
        }
        return 0;
    }

    /**
     * A body as JSON, read as {@link #compare} reads it: strictly (content after the first value, a key repeated in one
     * object) and with decimals exact. Null when it is empty or not JSON so read.
     */
    public static JsonNode readJson(byte[] body) {
        if (body.length == 0) {
            return null;
        }
        try {
            return value(body);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Whether two JSON values are equal as {@link #compare} finds them without a tolerance: object members in any
     * order, array elements in order, numbers by their decimal value ({@code 5}, {@code 5.0} and {@code 5e0} alike).
     * Jackson's own equality tells {@code 5} from {@code 5.0}, as its node types differ.
     */
    public static boolean sameJson(JsonNode a, JsonNode b) {
        return a.equals(SAME_VALUE, b);
    }

    /** Whether two texts are equal as {@link #compare} finds them: each read in its charset, then normalised. */
    public static boolean sameText(byte[] a, Charset aCharset, byte[] b, Charset bCharset) {
        String ta = TextBodies.text(a, aCharset);
        String tb = TextBodies.text(b, bCharset);
        return ta != null && tb != null && TextBodies.normalise(ta).equals(TextBodies.normalise(tb));
    }

    private static final Comparator<JsonNode> SAME_VALUE = (x, y) -> {
        if (x.isNumber() && y.isNumber()) {
            return x.decimalValue().compareTo(y.decimalValue());
        }
        return x.equals(y) ? 0 : 1;
    };

    /** @return the differences of members left out before pairing array elements ({@link #compare}) */
    private int compareJson(byte[] expectedBytes, byte[] actualBytes, Predicate<String> ignored,
                            List<Difference> out, List<String> notes) {
        JsonNode expected;
        try {
            expected = value(expectedBytes);
        } catch (IOException e) {
            compareAsText(expectedBytes, StandardCharsets.UTF_8, actualBytes, StandardCharsets.UTF_8, out);
            return 0;
        }
        JsonNode actual;
        try {
            actual = value(actualBytes);
        } catch (IOException e) {
            out.add(diff("body", DifferenceKind.BODY, render(new String(expectedBytes, StandardCharsets.UTF_8)),
                    "not JSON (" + parseFailure(e) + "): " + render(new String(actualBytes, StandardCharsets.UTF_8))));
            return 0;
        }
        if (expected == null || actual == null) {
            if (expected != actual) {
                out.add(diff("body", DifferenceKind.BODY, expected == null ? "" : render(expected.toString()),
                        actual == null ? "" : render(actual.toString())));
            }
            return 0;
        }
        if (containsToken(expectedBytes)) {
            actual = options.redacted().redactKeys(expected, actual);
        }
        if (expected.equals(actual)) {
            // Jackson's deep equality (object members in any order, same value types): JsonUnit would find nothing,
            // and array-order or numeric tolerance only make it more lenient. Skips its diff for passing cases.
            return 0;
        }
        List<Difference> found = new ArrayList<>();
        List<Leftovers> handedBack = new ArrayList<>();
        boolean standIns = hasStandIn(expected) || hasStandIn(actual);
        Map<JsonNode, JsonNode> originals = standIns ? new IdentityHashMap<>() : Map.of();
        if (standIns) {
            expected = withStandIns(expected.deepCopy(), originals);
            actual = withStandIns(actual.deepCopy(), originals);
        }
        int leftOut = 0;
        if (options.ignoreArrayOrder()) {
            // copies: the large arrays matched here are cut down to their unmatched elements before JsonUnit sees them
            JsonNode whole = expected;
            JsonNode wholeActual = actual;
            expected = expected.deepCopy();
            actual = actual.deepCopy();
            if (ignored != null) {
                Set<JsonNode> cutExpected = withoutIgnoredInElements(expected, ignored);
                Set<JsonNode> cutActual = withoutIgnoredInElements(actual, ignored);
                if (!cutExpected.isEmpty() || !cutActual.isEmpty()) {
                    leftOut = leftOutDifferences(whole, wholeActual, expected, actual, cutExpected, cutActual);
                }
            }
            List<String> unpaired = new ArrayList<>();
            long[] budget = {MAX_BODY_PAIRS};
            matchLargeUnorderedArrays(expected, actual, "$", budget, found, handedBack, unpaired);
            if (jsonUnitWork != NO_WORK) { // a test's: a walk of both bodies otherwise done for nothing
                jsonUnitWork.accept(elementPairs(expected, actual));
            }
            if (!unpaired.isEmpty()) {
                notes.add(unpairedNote(unpaired));
            }
        }
        JsonNode e = expected;
        JsonNode a = actual;
        Set<String> named = new HashSet<>();
        DifferenceListener listener = (net.javacrumbs.jsonunit.core.listener.Difference d, DifferenceContext ctx) ->
                found.add(toDifference(d, e, a, originals, named));
        Diff.create(e, a, "body", "", jsonUnit(listener)).similar();
        for (Difference d : found) {
            for (Leftovers l : handedBack) {
                l.renumber(d);
            }
        }
        out.addAll(found);
        return leftOut;
    }

    /** JsonUnit's configuration for this comparison's options, reporting each difference to {@code listener}. */
    private Configuration jsonUnit(DifferenceListener listener) {
        Configuration config = Configuration.empty()
                .withIgnorePlaceholder(NO_PLACEHOLDER)
                .withDifferenceListener(listener);
        if (options.ignoreArrayOrder()) {
            config = config.withOptions(Option.IGNORING_ARRAY_ORDER);
        }
        // A tolerance, even 0, makes JsonUnit compare numbers by value (10, 10.0 and 1e1 are one number, as in
        // JSON); without one it compares their types and scales (10 vs 10.0, 1.0 vs 1.00 would differ).
        return config.withTolerance(options.numericTolerance());
    }

    /**
     * The JSON value of a body, or null when it holds none: empty, or whitespace only (an empty answer ended by a line
     * break), which Jackson reads as a missing node that JsonUnit cannot compare. A number whose scale no decimal
     * holds ({@code 1e-2147483648}, valid JSON) makes the body not JSON: Jackson throws a NumberFormatException for it,
     * not a parse error, and the case was an ERROR.
     */
    private static JsonNode value(byte[] body) throws IOException {
        JsonNode n;
        try {
            n = body.length == 0 ? null : STRICT.readTree(body);
        } catch (NumberFormatException e) {
            throw new JsonParseException(null, e.getMessage());
        }
        return n == null || n.isMissingNode() ? null : n;
    }

    /**
     * Numbers whose scale is beyond this either way (only an exponent writes them: a plain decimal Jackson reads has at
     * most 1,000 characters) are not handed to JsonUnit as numbers: it subtracts two numbers that differ, digit by
     * digit, to word its message, and {@code 1e9999999} against {@code 1} (ten characters of JSON) held the event loop
     * for 10 s, {@code 1e999999999} threw. Two numbers within this scale subtract in well under a millisecond.
     */
    static final int MAX_NUMBER_SCALE = 10_000;

    /**
     * Whether JsonUnit is not handed this value as it is: a number beyond {@link #MAX_NUMBER_SCALE}, or a string it
     * would read as one of its placeholders ({@code ${json-unit.any-string}}, {@code #{json-unit.regex}...}: a
     * recorded one let any value pass, or matched the candidate's against a regular expression from the recording)
     * or that starts as a stand-in does.
     */
    private static boolean needsStandIn(JsonNode n) {
        if (n.isTextual()) {
            String s = n.textValue();
            return !s.isEmpty() && (s.charAt(0) == STAND_IN
                    || (s.charAt(0) == '$' || s.charAt(0) == '#') && s.startsWith("{json-unit.", 1));
        }
        return n.isBigDecimal() && Math.abs((long) n.decimalValue().scale()) > MAX_NUMBER_SCALE;
    }

    private static boolean hasStandIn(JsonNode root) {
        ArrayDeque<JsonNode> todo = new ArrayDeque<>();
        todo.push(root);
        while (!todo.isEmpty()) {
            JsonNode n = todo.pop();
            if (needsStandIn(n)) {
                return true;
            }
            if (n.isContainerNode()) {
                n.elements().forEachRemaining(todo::push);
            }
        }
        return false;
    }

    /**
     * {@code root} (a copy) with each value {@link #needsStandIn} replaced by a stand-in JsonUnit compares as the value
     * is compared. A number beyond {@link #MAX_NUMBER_SCALE}: its value as text (equal values, equal text; it differs
     * from every other number), or, under a numeric tolerance, 0 for one too small to be told from 0 (below 1e-10000,
     * under any tolerance a double can hold). A string: itself after the stand-in mark, which JsonUnit reads as plain
     * text (a string starting with the mark gets it too, so no string stands in for another). {@code originals} gets
     * each stand-in's value, which differences show.
     */
    private JsonNode withStandIns(JsonNode root, Map<JsonNode, JsonNode> originals) {
        if (needsStandIn(root)) {
            return standIn(root, originals);
        }
        ArrayDeque<JsonNode> todo = new ArrayDeque<>();
        todo.push(root);
        while (!todo.isEmpty()) {
            JsonNode n = todo.pop();
            if (n instanceof ObjectNode o) {
                for (var it = o.fields(); it.hasNext(); ) {
                    var member = it.next();
                    if (needsStandIn(member.getValue())) {
                        member.setValue(standIn(member.getValue(), originals));
                    } else if (member.getValue().isContainerNode()) {
                        todo.push(member.getValue());
                    }
                }
            } else if (n instanceof ArrayNode a) {
                for (int i = 0; i < a.size(); i++) {
                    if (needsStandIn(a.get(i))) {
                        a.set(i, standIn(a.get(i), originals));
                    } else if (a.get(i).isContainerNode()) {
                        todo.push(a.get(i));
                    }
                }
            }
        }
        return root;
    }

    private JsonNode standIn(JsonNode value, Map<JsonNode, JsonNode> originals) {
        // a new node each time, so that each stand-in maps back to its own value; its text is no string a body holds
        JsonNode standIn;
        if (value.isTextual()) {
            standIn = new TextNode(STAND_IN + "tapline-text:" + value.textValue());
        } else {
            BigDecimal number = value.decimalValue();
            standIn = options.numericTolerance() > 0 && number.scale() > 0
                    ? new DecimalNode(BigDecimal.ZERO)
                    : new TextNode(STAND_IN + "tapline-number:" + number.stripTrailingZeros());
        }
        originals.put(standIn, value);
        return standIn;
    }

    /** The first character of a stand-in's text. */
    private static final char STAND_IN = 0;

    private static final byte[] TOKEN_PREFIX = io.tapline.redaction.RedactionTokens.PREFIX.getBytes(StandardCharsets.US_ASCII);

    /** Whether a recorded body holds a redaction token anywhere: only then can one of its keys be one. */
    private static boolean containsToken(byte[] body) {
        byte first = TOKEN_PREFIX[0];
        outer:
        for (int i = 0, last = body.length - TOKEN_PREFIX.length; i <= last; i++) {
            if (body[i] != first) {
                continue;
            }
            for (int j = 1; j < TOKEN_PREFIX.length; j++) {
                if (body[i + j] != TOKEN_PREFIX[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * Removes from {@code root} (a copy) every object member inside an array element whose path {@code ignored} names,
     * so that elements are paired without it when array order is ignored. Members outside arrays are kept: there
     * nothing is paired, and their differences are found, then not counted.
     *
     * @return the containers of {@code root} that a member was removed from or from below (by identity; empty when
     *         none was)
     */
    private static Set<JsonNode> withoutIgnoredInElements(JsonNode root, Predicate<String> ignored) {
        record Node(JsonNode node, String path, boolean inElement, Node parent) {
        }
        Set<JsonNode> cut = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> todo = new ArrayDeque<>();
        todo.push(new Node(root, "$", false, null));
        while (!todo.isEmpty()) {
            Node n = todo.pop();
            if (n.node() instanceof ObjectNode o) {
                List<String> dropped = null;
                for (var it = o.fields(); it.hasNext(); ) {
                    var member = it.next();
                    String path = JsonPaths.member(n.path(), member.getKey());
                    if (n.inElement() && ignored.test(path)) {
                        if (dropped == null) {
                            dropped = new ArrayList<>();
                        }
                        dropped.add(member.getKey());
                    } else if (member.getValue().isContainerNode()) {
                        todo.push(new Node(member.getValue(), path, n.inElement(), n));
                    }
                }
                if (dropped != null) {
                    o.remove(dropped);
                    // it and the containers above it, each once: one already there has those above it there too
                    Node up = n;
                    while (up != null && cut.add(up.node())) {
                        up = up.parent();
                    }
                }
            } else if (n.node() instanceof ArrayNode a) {
                for (int i = 0; i < a.size(); i++) {
                    if (a.get(i).isContainerNode()) {
                        todo.push(new Node(a.get(i), n.path() + "[" + i + "]", true, n));
                    }
                }
            }
        }
        return cut;
    }

    /**
     * How many differences the members {@link #withoutIgnoredInElements} left out have between the elements paired
     * without them: as many as JsonUnit finds comparing each such member of a paired element with the same member
     * of its pair (one when only one of them has it), as a comparison in place would have found and not counted.
     * Elements are paired as the comparison pairs them ({@link #pairs}); an element left unpaired is one
     * {@code MISSING} or {@code EXTRA} difference, and nothing inside it counts. Only containers a member was left out
     * of or below are walked. JsonUnit, which tries every element of an array against every element of the other
     * side's, is handed at most {@link #MAX_UNORDERED_PAIRS} element pairs for the whole body, to pair elements at
     * every array on the way ({@link #pairs}) and to compare the members left out ({@link #differencesBetween})
     * together: a member past that which differs counts as one difference (a trace of 1,500 spans in each element held
     * the worker's event loop for seconds, where left out it cost nothing), and elements not paired by JsonUnit by
     * then count nothing (three lists of 100 rows equal only in any order took 15,150 JsonUnit comparisons to pair,
     * up to 10,000 at each array, besides the comparison's own).
     *
     * @param expected    the recorded value before members were left out
     * @param kept        {@code expected} with them left out
     * @param cutExpected the containers of {@code kept} something was left out of or below; {@code cutActual} the
     *                    candidate's
     */
    private int leftOutDifferences(JsonNode expected, JsonNode actual, JsonNode kept, JsonNode keptActual,
                                   Set<JsonNode> cutExpected, Set<JsonNode> cutActual) {
        record Pair(JsonNode expected, JsonNode actual, JsonNode kept, JsonNode keptActual) {
        }
        int count = 0;
        long[] budget = {MAX_UNORDERED_PAIRS};
        ArrayDeque<Pair> todo = new ArrayDeque<>();
        todo.push(new Pair(expected, actual, kept, keptActual));
        while (!todo.isEmpty()) {
            Pair p = todo.pop();
            if (!cutExpected.contains(p.kept()) && !cutActual.contains(p.keptActual())) {
                continue; // nothing left out here: JsonUnit compares all of it
            }
            if (p.expected().isObject() && p.actual().isObject()) {
                Set<String> names = new LinkedHashSet<>();
                p.expected().fieldNames().forEachRemaining(names::add);
                p.actual().fieldNames().forEachRemaining(names::add);
                for (String name : names) {
                    JsonNode e = p.expected().get(name);
                    JsonNode a = p.actual().get(name);
                    boolean outE = e != null && !p.kept().has(name);
                    boolean outA = a != null && !p.keptActual().has(name);
                    if (outE || outA) {
                        // left out on a side that has it; where the other side kept it, JsonUnit reports that member
                        if ((outE || e == null) && (outA || a == null)) {
                            count += differencesBetween(e, a, budget);
                        }
                    } else if (e != null && a != null && sameKindOfContainer(e, a)) {
                        todo.push(new Pair(e, a, p.kept().get(name), p.keptActual().get(name)));
                    }
                }
            } else if (p.expected().isArray() && p.actual().isArray()) {
                for (int[] pair : pairs(p.expected(), p.actual(), p.kept(), p.keptActual(), cutExpected, cutActual,
                        budget)) {
                    JsonNode e = p.expected().get(pair[0]);
                    JsonNode a = p.actual().get(pair[1]);
                    if (sameKindOfContainer(e, a)) {
                        todo.push(new Pair(e, a, p.kept().get(pair[0]), p.keptActual().get(pair[1])));
                    }
                }
            }
        }
        return count;
    }

    private static boolean sameKindOfContainer(JsonNode a, JsonNode b) {
        return a.isObject() && b.isObject() || a.isArray() && b.isArray();
    }

    /**
     * The differences JsonUnit finds between two values (one when only one is there), with this comparison's options;
     * one when the array elements inside them, multiplied, are more than the element pairs left in {@code budget}
     * (an upper bound of the pairs JsonUnit may try with array order ignored), which they are taken from otherwise.
     */
    private int differencesBetween(JsonNode expected, JsonNode actual, long[] budget) {
        if (expected == null || actual == null) {
            return 1;
        }
        if (sameJson(expected, actual)) {
            return 0;
        }
        if (!expected.isContainerNode() || !actual.isContainerNode()) {
            // one difference, as JsonUnit finds between two values of which one is no container, unless a tolerance
            // makes two numbers equal (a stand-in number beyond the scale is text: it differs from every number)
            boolean withinTolerance = expected.isNumber() && actual.isNumber() && options.numericTolerance() > 0
                    && expected.decimalValue().subtract(actual.decimalValue()).abs()
                    .compareTo(BigDecimal.valueOf(options.numericTolerance())) <= 0;
            return withinTolerance ? 0 : 1;
        }
        long elementPairs = (long) arrayElements(expected) * arrayElements(actual);
        if (elementPairs > budget[0]) {
            return 1;
        }
        budget[0] -= elementPairs;
        leftOutWork.accept(elementPairs);
        int[] count = {0};
        Diff.create(expected, actual, "body", "", jsonUnit((d, ctx) -> count[0]++)).similar();
        return count[0];
    }

    /**
     * An upper bound of the element pairs JsonUnit may try comparing two values with array order ignored: it tries
     * every element of an array against every element of the other side's array at the same place, and, for each
     * such pair, does the same with the arrays inside them. So, for each place (object members by name, the elements
     * of an array as one place, {@code $.items[*].tags}), the elements of all arrays there in one value multiplied by
     * those in the other, summed over the places. Linear in the size of the values.
     */
    static long elementPairs(JsonNode expected, JsonNode actual) {
        Map<String, Long> inExpected = arrayElementsByPlace(expected);
        Map<String, Long> inActual = arrayElementsByPlace(actual);
        long pairs = 0;
        for (Map.Entry<String, Long> e : inExpected.entrySet()) {
            Long a = inActual.get(e.getKey());
            if (a != null) {
                pairs += e.getValue() * a; // at most 8 MiB of elements a side: no overflow
            }
        }
        return pairs;
    }

    /** The elements of the arrays at each place in {@code root} ({@link #elementPairs}). */
    private static Map<String, Long> arrayElementsByPlace(JsonNode root) {
        record At(JsonNode node, String place) {
        }
        Map<String, Long> elements = new HashMap<>();
        ArrayDeque<At> todo = new ArrayDeque<>();
        todo.push(new At(root, "$"));
        while (!todo.isEmpty()) {
            At at = todo.pop();
            if (at.node() instanceof ArrayNode a) {
                if (!a.isEmpty()) {
                    elements.merge(at.place(), (long) a.size(), Long::sum);
                    String inside = at.place() + "[*]";
                    for (JsonNode n : a) {
                        if (n.isContainerNode()) {
                            todo.push(new At(n, inside));
                        }
                    }
                }
            } else if (at.node() instanceof ObjectNode o) {
                for (var it = o.fields(); it.hasNext(); ) {
                    var member = it.next();
                    if (member.getValue().isContainerNode()) {
                        todo.push(new At(member.getValue(), JsonPaths.member(at.place(), member.getKey())));
                    }
                }
            }
        }
        return elements;
    }

    /** The elements of every array in {@code value}, nested ones included. */
    private static long arrayElements(JsonNode value) {
        long n = 0;
        ArrayDeque<JsonNode> todo = new ArrayDeque<>();
        todo.push(value);
        while (!todo.isEmpty()) {
            JsonNode node = todo.pop();
            if (node.isArray()) {
                n += node.size();
            }
            if (node.isContainerNode()) {
                node.elements().forEachRemaining(todo::push);
            }
        }
        return n;
    }

    /**
     * The elements of an array pair paired as the comparison with array order ignored pairs them, by their
     * {@code kept} values (ignored members left out): equal elements, then, when one element is left on each side,
     * those two. Among elements equal so, one equal in full ({@code expected} and {@code actual}, nothing left out) to
     * an element of the other side is paired with it first. Equal values pair in linear time, each element's
     * {@link JsonCanonical} text built once (a kept element nothing was left out of or below is its value: its text is
     * not built again). Then, when the elements left have pairs within {@link #MAX_UNORDERED_PAIRS} (as
     * {@link #matchLargeUnorderedArrays} hands them to JsonUnit), those JsonUnit finds equal (within the tolerance,
     * arrays inside them in any order) pair too, each comparison taking its element pairs from {@code budget}, the
     * body's ({@link #differencesBetween}): the pair itself and the elements of the arrays in one, multiplied by those
     * in the other. When a comparison needs more than is left, pairing by JsonUnit stops there, and the elements not
     * paired by then count nothing, as an element left unpaired does (what they differ in goes uncounted).
     *
     * @param cutExpected the containers of {@code kept} something was left out of or below; {@code cutActual} the
     *                    candidate's
     * @return {@code {expected index, actual index}} of each pair
     */
    private List<int[]> pairs(JsonNode expected, JsonNode actual, JsonNode kept, JsonNode keptActual,
                              Set<JsonNode> cutExpected, Set<JsonNode> cutActual, long[] budget) {
        int[] partner = new int[expected.size()];
        Arrays.fill(partner, -1);
        boolean[] taken = new boolean[actual.size()];
        String[] whole = canonical(expected);
        String[] wholeActual = canonical(actual);
        pairEqualValues(whole, wholeActual, partner, taken);
        IntPredicate expectedOpen = i -> partner[i] < 0;
        IntPredicate actualOpen = j -> !taken[j];
        pairEqualValues(keptCanonical(kept, whole, cutExpected, expectedOpen),
                keptCanonical(keptActual, wholeActual, cutActual, actualOpen), partner, taken);
        if ((long) count(partner.length, expectedOpen) * count(taken.length, actualOpen) <= MAX_UNORDERED_PAIRS) {
            if (count(partner.length, expectedOpen) > 0 && count(taken.length, actualOpen) > 0
                    && (options.numericTolerance() > 0 || holdsArray(kept, expectedOpen)
                    || holdsArray(keptActual, actualOpen))) {
                pairAsJsonUnitFindsEqual(kept, keptActual, partner, taken, budget);
            }
            if (count(partner.length, expectedOpen) == 1 && count(taken.length, actualOpen) == 1) {
                pairWhere(partner, taken, (i, j) -> true); // JsonUnit compares the one element left on each side
            }
        }
        List<int[]> pairs = new ArrayList<>();
        for (int i = 0; i < partner.length; i++) {
            if (partner[i] >= 0) {
                pairs.add(new int[]{i, partner[i]});
            }
        }
        return pairs;
    }

    /**
     * Pairs each unpaired expected element, in order, with the first unpaired actual one JsonUnit finds equal to it
     * (equal values are paired already), failing at the first difference; each comparison takes its element pairs
     * from {@code budget}, and pairing stops at the first one that needs more than is left.
     */
    private void pairAsJsonUnitFindsEqual(JsonNode kept, JsonNode keptActual, int[] partner, boolean[] taken,
                                          long[] budget) {
        Configuration quiet = jsonUnit(Configuration.dummyDifferenceListener()).withOptions(Option.FAIL_FAST);
        long[] insideActual = new long[taken.length];
        for (int j = 0; j < taken.length; j++) {
            insideActual[j] = taken[j] ? 0 : arrayElements(keptActual.get(j));
        }
        for (int i = 0; i < partner.length; i++) {
            if (partner[i] >= 0) {
                continue;
            }
            long inside = arrayElements(kept.get(i));
            for (int j = 0; j < taken.length; j++) {
                if (taken[j]) {
                    continue;
                }
                long elementPairs = 1 + inside * insideActual[j];
                if (elementPairs > budget[0]) {
                    return;
                }
                budget[0] -= elementPairs;
                leftOutWork.accept(elementPairs);
                if (Diff.create(kept.get(i), keptActual.get(j), "body", "", quiet).similar()) {
                    partner[i] = j;
                    taken[j] = true;
                    break;
                }
            }
        }
    }

    /** Pairs each unpaired expected element, in order, with the first unpaired actual one {@code fits}. */
    private static void pairWhere(int[] partner, boolean[] taken, BiPredicate<Integer, Integer> fits) {
        for (int i = 0; i < partner.length; i++) {
            if (partner[i] >= 0) {
                continue;
            }
            for (int j = 0; j < taken.length; j++) {
                if (!taken[j] && fits.test(i, j)) {
                    partner[i] = j;
                    taken[j] = true;
                    break;
                }
            }
        }
    }

    /** The {@link JsonCanonical} text of each element of {@code array}. */
    private static String[] canonical(JsonNode array) {
        String[] texts = new String[array.size()];
        for (int i = 0; i < texts.length; i++) {
            texts[i] = JsonCanonical.of(array.get(i));
        }
        return texts;
    }

    /**
     * The {@link JsonCanonical} text of each element of {@code kept} that {@code wanted} (null for the others): that
     * of its {@code whole} value when nothing was left out of it or below ({@code cut}), which it then equals.
     */
    private static String[] keptCanonical(JsonNode kept, String[] whole, Set<JsonNode> cut, IntPredicate wanted) {
        String[] texts = new String[whole.length];
        for (int i = 0; i < texts.length; i++) {
            if (wanted.test(i)) {
                texts[i] = cut.contains(kept.get(i)) ? JsonCanonical.of(kept.get(i)) : whole[i];
            }
        }
        return texts;
    }

    /** Pairs unpaired elements whose {@link JsonCanonical} texts are equal (JSON values equal), in linear time. */
    private static void pairEqualValues(String[] expected, String[] actual, int[] partner, boolean[] taken) {
        Map<String, ArrayDeque<Integer>> byValue = new HashMap<>();
        for (int j = 0; j < taken.length; j++) {
            if (!taken[j]) {
                byValue.computeIfAbsent(actual[j], k -> new ArrayDeque<>()).add(j);
            }
        }
        for (int i = 0; i < partner.length; i++) {
            if (partner[i] < 0) {
                ArrayDeque<Integer> same = byValue.get(expected[i]);
                if (same != null && !same.isEmpty()) {
                    partner[i] = same.poll();
                    taken[partner[i]] = true;
                }
            }
        }
    }

    /** Whether an element of {@code array} that is {@code open} (not paired) holds an array (whose order JsonUnit ignores). */
    private static boolean holdsArray(JsonNode array, IntPredicate open) {
        for (int i = 0; i < array.size(); i++) {
            if (open.test(i) && holdsArray(array.get(i))) {
                return true;
            }
        }
        return false;
    }

    private static boolean holdsArray(JsonNode value) {
        ArrayDeque<JsonNode> todo = new ArrayDeque<>();
        todo.push(value);
        while (!todo.isEmpty()) {
            JsonNode n = todo.pop();
            if (n.isArray()) {
                return true;
            }
            if (n.isObject()) {
                n.elements().forEachRemaining(todo::push);
            }
        }
        return false;
    }

    /** How many of the indexes {@code 0..n-1} are {@code open}. */
    private static int count(int n, IntPredicate open) {
        int count = 0;
        for (int i = 0; i < n; i++) {
            count += open.test(i) ? 1 : 0;
        }
        return count;
    }

    /**
     * The unmatched elements of a large array pair, handed back to JsonUnit: {@code expected[i]} and {@code actual[i]}
     * are the indexes in the original arrays of the {@code i}-th element left on each side.
     */
    private record Leftovers(String path, int[] expected, int[] actual) {

        /** Gives a difference inside these leftovers the index its element has in the original array. */
        void renumber(Difference d) {
            String p = d.getPath();
            if (!p.startsWith(path + "[")) {
                return;
            }
            int close = p.indexOf(']', path.length() + 1);
            if (close < 0) {
                return;
            }
            int i;
            try {
                i = Integer.parseInt(p.substring(path.length() + 1, close));
            } catch (NumberFormatException e) {
                return;
            }
            int[] map = d.getKind() == DifferenceKind.EXTRA ? actual : expected;
            if (i >= 0 && i < map.length) {
                d.setPath(path + "[" + map[i] + "]" + p.substring(close + 1));
            }
        }
    }

    /**
     * Ignoring array order, JsonUnit pairs elements by trying every expected one against every actual one: a pair of
     * arrays of 1,000 and 10,000 elements took 8 s, on the worker's event loop. And it does so again inside each pair
     * it tries, for the arrays the elements hold: 100 rows of 100 numbers a side, every number changed, took 25 s.
     * An array pair found at the same object path on both sides (or at the root) goes to JsonUnit as it is when its
     * elements have at most {@link #MAX_UNORDERED_PAIRS} pairs and, with the arrays inside them ({@link #elementPairs}),
     * no more than are left of the body's {@link #MAX_BODY_PAIRS} ({@code budget}, taken in the recorded body's order).
     * Otherwise it is first matched here as a multiset, by exact JSON value in linear time, and only the elements left
     * unmatched on each side stay in the (copied) trees. When few are left (both bounds again), JsonUnit pairs them as
     * usual, so a changed element gives path-level differences that ignore rules and learned noise apply to, at its
     * original index. When more are left, each is one {@code MISSING} or {@code EXTRA} difference at {@code path[*]}
     * (a rule for a field inside the elements cannot apply to a whole element then), and the arrays are emptied;
     * {@code unpaired} gets a line on each such array that only the arrays inside its elements made too costly.
     */
    private void matchLargeUnorderedArrays(JsonNode e, JsonNode a, String path, long[] budget, List<Difference> out,
                                           List<Leftovers> handedBack, List<String> unpaired) {
        if (e.isObject() && a.isObject()) {
            var fields = e.fieldNames();
            while (fields.hasNext()) {
                String name = fields.next();
                JsonNode ev = e.get(name);
                JsonNode av = a.get(name);
                if (av != null && ev.isContainerNode() && av.isContainerNode()) {
                    if (ev.isArray() && av.isArray()) {
                        ArrayNode[] left = withinBounds(ev, av, JsonPaths.member(path, name), budget, out,
                                handedBack, unpaired);
                        if (left != null) {
                            ((ObjectNode) e).set(name, left[0]);
                            ((ObjectNode) a).set(name, left[1]);
                        }
                    } else {
                        matchLargeUnorderedArrays(ev, av, JsonPaths.member(path, name), budget, out, handedBack,
                                unpaired);
                    }
                }
            }
        } else if (e.isArray() && a.isArray() && path.equals("$")) {
            ArrayNode[] left = withinBounds(e, a, "$", budget, out, handedBack, unpaired);
            if (left != null) {
                ((ArrayNode) e).removeAll().addAll(left[0]);
                ((ArrayNode) a).removeAll().addAll(left[1]);
            }
        }
        // elements of an array are paired by JsonUnit, not by position: arrays inside them are counted with it
    }

    /**
     * Null when JsonUnit may pair this array pair's elements as they are (its element pairs, nested ones included,
     * are then taken from {@code budget}); else the elements left to it after {@link #matchAsMultisets}.
     */
    private ArrayNode[] withinBounds(JsonNode expected, JsonNode actual, String path, long[] budget,
                                     List<Difference> out, List<Leftovers> handedBack, List<String> unpaired) {
        if ((long) expected.size() * actual.size() <= MAX_UNORDERED_PAIRS) {
            long pairs = elementPairs(expected, actual);
            if (pairs <= budget[0]) {
                budget[0] -= pairs;
                return null;
            }
        }
        return matchAsMultisets(expected, actual, path, budget, out, handedBack, unpaired);
    }

    /** Matches equal elements; returns the unmatched ones of each side, or two empty arrays when it reported them. */
    private ArrayNode[] matchAsMultisets(JsonNode expected, JsonNode actual, String path, long[] budget,
                                         List<Difference> out, List<Leftovers> handedBack, List<String> unpaired) {
        Map<String, Integer> counts = new HashMap<>();
        List<String> expectedKeys = new ArrayList<>(expected.size());
        for (JsonNode n : expected) {
            String k = JsonCanonical.of(n);
            expectedKeys.add(k);
            counts.merge(k, 1, Integer::sum);
        }
        List<Integer> extra = new ArrayList<>();
        for (int i = 0; i < actual.size(); i++) {
            if (!take(counts, JsonCanonical.of(actual.get(i)))) {
                extra.add(i);
            }
        }
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < expectedKeys.size(); i++) { // in the recorded order
            if (take(counts, expectedKeys.get(i))) {
                missing.add(i);
            }
        }
        ArrayNode leftExpected = JsonNodeFactory.instance.arrayNode();
        ArrayNode leftActual = JsonNodeFactory.instance.arrayNode();
        if ((long) missing.size() * extra.size() <= MAX_UNORDERED_PAIRS) {
            missing.forEach(i -> leftExpected.add(expected.get(i)));
            extra.forEach(i -> leftActual.add(actual.get(i)));
            long pairs = elementPairs(leftExpected, leftActual);
            if (pairs <= budget[0]) {
                budget[0] -= pairs;
                handedBack.add(new Leftovers(path, missing.stream().mapToInt(Integer::intValue).toArray(),
                        extra.stream().mapToInt(Integer::intValue).toArray()));
                return new ArrayNode[]{leftExpected, leftActual};
            }
            unpaired.add(String.format(Locale.ROOT, "the %,d and %,d elements of %s unequal in any order were not"
                            + " paired (with the arrays inside them, up to %,d element pairs to try, over the body's"
                            + " bound of %,d): each is one MISSING or EXTRA difference at %s[*]", missing.size(),
                    extra.size(), path, pairs, MAX_BODY_PAIRS, path));
            leftExpected.removeAll();
            leftActual.removeAll();
        }
        for (int i : missing) {
            out.add(diff(path + "[*]", DifferenceKind.MISSING, renderNode(expected.get(i), null), null));
        }
        for (int i : extra) {
            out.add(diff(path + "[*]", DifferenceKind.EXTRA, null, renderNode(actual.get(i), null)));
        }
        return new ArrayNode[]{leftExpected, leftActual};
    }

    /** At most this many arrays are named in the note on arrays whose elements were not paired. */
    private static final int MAX_NAMED_UNPAIRED = 3;

    /** The note on arrays whose elements were not paired ({@link #matchLargeUnorderedArrays}). */
    private static String unpairedNote(List<String> unpaired) {
        String named = String.join("; ", unpaired.subList(0, Math.min(unpaired.size(), MAX_NAMED_UNPAIRED)));
        String more = unpaired.size() > MAX_NAMED_UNPAIRED
                ? String.format(Locale.ROOT, "; and %,d array(s) more", unpaired.size() - MAX_NAMED_UNPAIRED) : "";
        return named + more;
    }

    /** Takes one of {@code key} from the counts; false when there is none left. */
    private static boolean take(Map<String, Integer> counts, String key) {
        Integer c = counts.get(key);
        if (c == null) {
            return false;
        }
        if (c == 1) {
            counts.remove(key);
        } else {
            counts.put(key, c - 1);
        }
        return true;
    }

    /** Field by field: a field's values in order, whatever the order of the fields. */
    private static void compareForm(byte[] expectedBytes, byte[] actualBytes, List<Difference> out) {
        Map<String, List<String>> expected = Bodies.formFields(expectedBytes);
        Map<String, List<String>> actual = Bodies.formFields(actualBytes);
        for (Map.Entry<String, List<String>> e : expected.entrySet()) {
            List<String> got = actual.get(e.getKey());
            if (got == null) {
                out.add(diff("form:" + e.getKey(), DifferenceKind.MISSING, values(e.getValue()), null));
            } else if (!got.equals(e.getValue())) {
                out.add(diff("form:" + e.getKey(), DifferenceKind.CHANGED, values(e.getValue()), values(got)));
            }
        }
        for (Map.Entry<String, List<String>> a : actual.entrySet()) {
            if (!expected.containsKey(a.getKey())) {
                out.add(diff("form:" + a.getKey(), DifferenceKind.EXTRA, null, values(a.getValue())));
            }
        }
    }

    private static String values(List<String> values) {
        return render(values.size() == 1 ? values.get(0) : String.join(", ", values));
    }

    /**
     * Each body read in its own charset, then normalised: the same text sent in another charset is equal. A body that
     * is not valid text in its charset is compared by hash (its bytes differ from the other's, or it would not be
     * here): a lenient reading would turn different invalid bytes into the same replacement characters.
     */
    private static void compareAsText(byte[] expected, Charset expectedCharset, byte[] actual, Charset actualCharset,
                                      List<Difference> out) {
        String e = TextBodies.text(expected, expectedCharset);
        String a = TextBodies.text(actual, actualCharset);
        if (e == null || a == null) {
            out.add(diff("body", DifferenceKind.BODY, textOrHash(e, expected, expectedCharset),
                    textOrHash(a, actual, actualCharset)));
            return;
        }
        String en = TextBodies.normalise(e);
        String an = TextBodies.normalise(a);
        if (!en.equals(an)) {
            out.add(diff("body", DifferenceKind.BODY, render(en), render(an)));
        }
    }

    private static String textOrHash(String text, byte[] body, Charset charset) {
        return text != null ? render(TextBodies.normalise(text))
                : Bodies.sha256(body) + " (not " + (charset == null ? "text in a known charset" : charset.name() + " text") + ")";
    }

    /**
     * @param originals the values {@link #withStandIns} replaced, by their stand-ins
     * @param named     the paths of the differences found so far in this comparison (JsonUnit reports each once, so
     *                  two of its differences with one path are at two members that read alike)
     */
    private Difference toDifference(net.javacrumbs.jsonunit.core.listener.Difference d, JsonNode expectedRoot,
                                    JsonNode actualRoot, Map<JsonNode, JsonNode> originals, Set<String> named) {
        boolean extra = d.getType() == net.javacrumbs.jsonunit.core.listener.Difference.Type.EXTRA;
        String rawPath = extra ? d.getActualPath() : d.getExpectedPath();
        // Where JsonUnit's path reads as several members (a member "a.b" and "b" in "a"), one it can be and that no
        // difference found before is at: a value missing on the other side, or one the other side holds another value
        // at (when both paths are one)
        boolean onePath = Objects.equals(d.getExpectedPath(), d.getActualPath());
        Predicate<String> fits = switch (d.getType()) {
            case MISSING -> p -> JsonPaths.at(actualRoot, p) == null;
            case EXTRA -> p -> JsonPaths.at(expectedRoot, p) == null;
            case DIFFERENT -> p -> {
                JsonNode x = JsonPaths.at(expectedRoot, p);
                JsonNode y = JsonPaths.at(actualRoot, p);
                return !onePath || x != null && y != null && !x.equals(y);
            };
        };
        String path = JsonPaths.fromJsonUnit(extra ? actualRoot : expectedRoot, rawPath,
                fits.and(p -> !named.contains(p)));
        JsonNode e = extra ? null : JsonPaths.at(expectedRoot, path);
        JsonNode a = extra || onePath ? JsonPaths.at(actualRoot, path)
                : JsonPaths.resolve(actualRoot, d.getActualPath() != null ? d.getActualPath() : rawPath);
        if (rawPath == null || rawPath.isEmpty()) {
            int empty = JsonPaths.emptyNamesAtRoot(expectedRoot, actualRoot); // members "" share the root's path
            path = "$" + "['']".repeat(empty);
            e = JsonPaths.emptyNamesDown(expectedRoot, empty);
            a = JsonPaths.emptyNamesDown(actualRoot, empty);
        }
        e = e == null ? null : originals.getOrDefault(e, e);
        a = a == null ? null : originals.getOrDefault(a, a);
        DifferenceKind kind = switch (d.getType()) {
            case EXTRA -> DifferenceKind.EXTRA;
            case MISSING -> DifferenceKind.MISSING;
            case DIFFERENT -> (e != null && a != null && e.getNodeType() != a.getNodeType())
                    ? DifferenceKind.TYPE_CHANGED : DifferenceKind.CHANGED;
        };
        named.add(path);
        String expected = kind == DifferenceKind.EXTRA ? null : renderNode(e, d.getExpected());
        String actual = kind == DifferenceKind.MISSING ? null : renderNode(a, d.getActual());
        return diff(path, kind, expected, actual);
    }

    private String renderNode(JsonNode node, Object fallback) {
        if (node != null) {
            try {
                return render(loneSurrogatesEscaped(STRICT.writeValueAsString(node)));
            } catch (JsonProcessingException ex) {
                return render(loneSurrogatesEscaped(node.toString()));
            }
        }
        return fallback == null ? null : render(String.valueOf(fallback));
    }

    /**
     * JSON text with each half of a character written as two that stands alone (a string cut inside an emoji) as its
     * JSON escape: written as UTF-8, as a result is, every such half became "?", so two strings that differ only in
     * one read the same in the result.
     */
    static String loneSurrogatesEscaped(String json) {
        StringBuilder out = null;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            boolean paired = Character.isHighSurrogate(c)
                    ? i + 1 < json.length() && Character.isLowSurrogate(json.charAt(i + 1))
                    : i > 0 && Character.isHighSurrogate(json.charAt(i - 1));
            if (Character.isSurrogate(c) && !paired) {
                if (out == null) {
                    out = new StringBuilder(json.length() + 8).append(json, 0, i);
                }
                out.append(String.format("\\u%04x", (int) c));
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? json : out.toString();
    }

    /**
     * Why a body is not JSON, as Jackson says it, without the text it quotes of the body: an unquoted value
     * ({@code {"password": hunter2}}) is named {@code Unrecognized token 'hunter2'}, and a result publishes the body
     * redacted by where each value sits, which a message apart from it cannot be. The body shown after it holds the
     * value, redacted when its name says so. Not {@code Unrecognized token:}, which the text rules would read as a
     * token's name before its value.
     */
    static String parseFailure(IOException e) {
        String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        return why == null ? e.getClass().getSimpleName() : UNRECOGNIZED_TOKEN.matcher(why).replaceFirst("Unrecognized value");
    }

    /**
     * A value as a difference shows it: whole up to 512 characters, else its start, ended at its last whole word (a
     * secret the cut went through would match no redaction rule, and be shown in part), and its length.
     */
    static String render(String s) {
        return s.length() <= MAX_RENDERED_CHARS ? s
                : s.substring(0, Redactor.wholeWordsEnd(s, MAX_RENDERED_CHARS)) + "...(" + s.length() + " chars)";
    }

    static Difference diff(String path, DifferenceKind kind, String expected, String actual) {
        return Difference.newBuilder().setPath(path).setKind(kind).setExpected(expected).setActual(actual).build();
    }
}
