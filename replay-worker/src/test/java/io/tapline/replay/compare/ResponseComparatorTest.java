package io.tapline.replay.compare;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.Header;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;
import io.tapline.signature.TextBodies;
import io.tapline.topics.TaplineTopics;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

import static io.tapline.replay.Fixtures.json;
import static io.tapline.replay.Fixtures.response;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResponseComparatorTest {

    private static final String SERVICE = "shop";
    private static final String ROUTE = "GET /items/{id}";
    private final ResponseComparator strict = new ResponseComparator(CompareOptions.defaults(), IgnoreRules.none());

    private static Difference only(Comparison c) {
        assertEquals(1, c.differences().size(), () -> "differences: " + c.differences());
        return c.differences().get(0);
    }

    @Test
    void identicalJsonWithDifferentKeyOrderIsTheSame() {
        Comparison c = strict.compare(SERVICE, ROUTE, json(200, "{\"a\":1,\"b\":\"x\"}"), json(200, "{\"b\":\"x\",\"a\":1}"));
        assertTrue(c.same(), () -> c.differences().toString());
    }

    @Test
    void changedStatusIsReported() {
        Difference d = only(strict.compare(SERVICE, ROUTE, json(200, "{}"), json(500, "{}")));
        assertEquals(DifferenceKind.STATUS, d.getKind());
        assertEquals("200", d.getExpected());
        assertEquals("500", d.getActual());
    }

    @Test
    void changedJsonValueCarriesPathExpectedAndActual() {
        Difference d = only(strict.compare(SERVICE, ROUTE, json(200, "{\"items\":[{\"price\":10}]}"),
                json(200, "{\"items\":[{\"price\":12}]}")));
        assertEquals(DifferenceKind.CHANGED, d.getKind());
        assertEquals("$.items[0].price", d.getPath());
        assertEquals("10", d.getExpected());
        assertEquals("12", d.getActual());
    }

    @Test
    void typeChangeMissingAndExtraFieldsAreTold() {
        Comparison c = strict.compare(SERVICE, ROUTE, json(200, "{\"id\":7,\"name\":\"a\"}"), json(200, "{\"id\":\"7\",\"extra\":true}"));
        assertEquals(3, c.differences().size(), c.differences()::toString);
        assertTrue(c.differences().stream().anyMatch(d -> d.getKind() == DifferenceKind.TYPE_CHANGED && d.getPath().equals("$.id")));
        assertTrue(c.differences().stream().anyMatch(d -> d.getKind() == DifferenceKind.MISSING && d.getPath().equals("$.name")
                && d.getActual() == null));
        assertTrue(c.differences().stream().anyMatch(d -> d.getKind() == DifferenceKind.EXTRA && d.getPath().equals("$.extra")
                && d.getExpected() == null));
    }

    @Test
    void arrayOrderMattersUnlessConfiguredOtherwise() {
        HttpResponse a = json(200, "[1,2,3]");
        HttpResponse b = json(200, "[3,2,1]");
        assertTrue(!strict.compare(SERVICE, ROUTE, a, b).same());
        ResponseComparator loose = new ResponseComparator(
                new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true), IgnoreRules.none());
        assertTrue(loose.compare(SERVICE, ROUTE, a, b).same());
    }

    @Test
    @org.junit.jupiter.api.Timeout(60) // JsonUnit's pairing of these arrays would run for minutes
    void aLargeArrayIgnoringOrderIsComparedAsAMultisetInLinearTime() {
        ResponseComparator loose = new ResponseComparator(
                new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true), IgnoreRules.none());
        int n = 20_000; // 400 million element pairs for JsonUnit's pairing
        StringBuilder recorded = new StringBuilder("{\"total\":" + n + ",\"items\":[");
        StringBuilder candidate = new StringBuilder("{\"total\":" + n + ",\"items\":[");
        for (int i = 0; i < n; i++) {
            recorded.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"price\":10,\"tags\":[\"a\"]}");
            int j = n - 1 - i; // reversed, members in another order, 10 written as 10.0, one element changed
            candidate.append(i == 0 ? "" : ",").append("{\"price\":").append(j == 7 ? "11" : "10.0")
                    .append(",\"tags\":[\"a\"],\"id\":").append(j).append('}');
        }
        recorded.append("]}");
        candidate.append("]}");
        Comparison r = loose.compare(SERVICE, ROUTE, json(200, recorded.toString()), json(200, candidate.toString()));
        // the one element left on each side is paired as JsonUnit pairs, at its index in the recorded array
        assertEquals(List.of("CHANGED $.items[7].price 10 -> 11"), r.differences().stream()
                .map(d -> d.getKind() + " " + d.getPath() + " " + d.getExpected() + " -> " + d.getActual()).toList());
        // so a rule for a field inside the elements still applies to it (101 x 101 elements: over the bound)
        IgnoreRules rules = IgnoreRules.parse(List.of(ROUTE + " $.items[*].updatedAt"));
        ResponseComparator ruled = new ResponseComparator(
                new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true), rules);
        assertTrue(ruled.compare(SERVICE, ROUTE, json(200, stamped(101, 5)), json(200, stamped(101, -1))).same());
        // many elements left on both sides: each is a whole-element difference, and pairing them stays bounded
        List<Difference> many = loose.compare(SERVICE, ROUTE, json(200, stamped(200, -2)), json(200, stamped(200, -3))).differences();
        assertEquals(400, many.size());
        assertTrue(many.stream().allMatch(d -> d.getPath().equals("$.items[*]")), many.get(0)::toString);
        // a small array is still paired by JsonUnit, with path-level differences
        Difference small = only(loose.compare(SERVICE, ROUTE, json(200, "{\"items\":[{\"id\":1,\"p\":1},{\"id\":2,\"p\":2}]}"),
                json(200, "{\"items\":[{\"id\":2,\"p\":2},{\"id\":1,\"p\":5}]}")));
        assertEquals(DifferenceKind.CHANGED, small.getKind());
    }

    /**
     * {@code {"items":[{"id":i,"updatedAt":"a"}...]}}; element {@code changed} gets "b" ({@code -1}: none), every
     * element gets its own stamp with {@code -2} / {@code -3} (two different sets).
     */
    private static String stamped(int n, int changed) {
        StringBuilder b = new StringBuilder("{\"items\":[");
        for (int i = 0; i < n; i++) {
            String ts = changed == -2 ? "x" + i : changed == -3 ? "y" + i : i == changed ? "b" : "a";
            b.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"updatedAt\":\"").append(ts).append("\"}");
        }
        return b.append("]}").toString();
    }

    @Test
    void aBodilessAnswersContentLengthIsComparedAndABodysIsNot() {
        // a HEAD answer (or a 304): the length is all there is of the representation
        HttpResponse head = response(200, "application/json", new byte[0], null, new Header("Content-Length", "48213"));
        assertTrue(strict.compare(SERVICE, ROUTE, head,
                response(200, "application/json", new byte[0], null, new Header("content-length", "48213"))).same());
        Difference d = only(strict.compare(SERVICE, ROUTE, head,
                response(200, "application/json", new byte[0], null, new Header("Content-Length", "0"))));
        assertEquals("header:content-length", d.getPath());
        assertEquals("48213", d.getExpected());
        assertEquals("0", d.getActual());
        // with a body, the body is compared and its length is not
        assertTrue(strict.compare(SERVICE, ROUTE, json(200, "{\"a\":1}"), json(200, "{ \"a\" : 1 }")).same());
    }

    @Test
    void numericToleranceAbsorbsSmallDifferences() {
        ResponseComparator tolerant = new ResponseComparator(
                new CompareOptions(false, 0.01, CompareOptions.DEFAULT_IGNORED_HEADERS, true), IgnoreRules.none());
        assertTrue(tolerant.compare(SERVICE, ROUTE, json(200, "{\"p\":1.000}"), json(200, "{\"p\":1.005}")).same());
        assertEquals(1, tolerant.compare(SERVICE, ROUTE, json(200, "{\"p\":1.0}"), json(200, "{\"p\":1.5}")).differences().size());
    }

    @Test
    void numbersAreComparedByTheirDecimalValueNotADoubleApproximation() {
        Difference d = only(strict.compare(SERVICE, ROUTE, json(200, "{\"total\":12345678901234567.89}"),
                json(200, "{\"total\":12345678901234567.88}")));
        assertEquals("$.total", d.getPath());
        assertEquals("12345678901234567.89", d.getExpected());
        assertEquals("12345678901234567.88", d.getActual());
        assertEquals(1, strict.compare(SERVICE, ROUTE, json(200, "[0.1]"), json(200, "[0.10000000000000001]"))
                .differences().size(), "the same double, not the same number");
        for (String[] same : new String[][] {{"1.0", "1.00"}, {"1e2", "100.0"}, {"2.50", "2.5E0"}, {"10", "10.0"},
                {"10", "1e1"}, {"-0", "0.0"},
                {"123456789012345678901234567890", "123456789012345678901234567890"}}) {
            Comparison c = strict.compare(SERVICE, ROUTE, json(200, "{\"p\":" + same[0] + "}"),
                    json(200, "{\"p\":" + same[1] + "}"));
            assertTrue(c.same(), () -> same[0] + " vs " + same[1] + ": " + c.differences());
        }
        Difference beside = only(strict.compare(SERVICE, ROUTE, json(200, "{\"p\":1.0,\"q\":1}"),
                json(200, "{\"p\":1.00,\"q\":2}")));
        assertEquals("$.q", beside.getPath(), "1.0 and 1.00 stay equal beside a real difference");
        Difference decimal = only(strict.compare(SERVICE, ROUTE, json(200, "{\"p\":2.50}"), json(200, "{\"p\":2.51}")));
        assertEquals("2.50", decimal.getExpected(), "shown as written");
    }

    @Test
    void learnedNoiseIsNotCountedButTallied() {
        IgnoreRules rules = IgnoreRules.none();
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), NoiseProfile.newBuilder().setService(SERVICE).setRoute(ROUTE)
                .setComparedPairs(10).setUpdatedAt(Instant.EPOCH)
                .setFields(List.of(new NoisyField("$.items[*].generatedAt", 9L, 10L, true, null, null))).build());
        ResponseComparator c = new ResponseComparator(CompareOptions.defaults(), rules);
        Comparison result = c.compare(SERVICE, ROUTE, json(200, "{\"items\":[{\"generatedAt\":1,\"price\":1}]}"),
                json(200, "{\"items\":[{\"generatedAt\":2,\"price\":1}]}"));
        assertTrue(result.same(), result.differences()::toString);
        assertEquals(1, result.ignored());
        // another route does not inherit the noise
        assertEquals(1, c.compare(SERVICE, "GET /other", json(200, "{\"items\":[{\"generatedAt\":1}]}"),
                json(200, "{\"items\":[{\"generatedAt\":2}]}")).differences().size());
    }

    @Test
    void ignoringArrayOrderNoiseInsideElementsDoesNotMakeThemMissingAndExtra() {
        // Every item carries a stamp generated per answer, learned as noise (and one configured rule, on another route)
        IgnoreRules rules = IgnoreRules.parse(List.of("GET /carts/{id} $.items[*].at"));
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), profile(SERVICE, "$.items[*].at", "$.items[*].updatedAt"));
        ResponseComparator loose = new ResponseComparator(
                new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true), rules);
        HttpResponse recorded = json(200, "{\"items\":[{\"id\":1,\"at\":\"t1\"},{\"id\":2,\"at\":\"t1\"}]}");
        HttpResponse restamped = json(200, "{\"items\":[{\"id\":2,\"at\":\"t2\"},{\"id\":1,\"at\":\"t2\"}]}");
        // Before, no element equalled another and each was MISSING and EXTRA at $.items[0], $.items[1]: paths the
        // noise $.items[*].at does not cover. With array order compared the stamps are CHANGED, and ignored.
        for (String route : List.of(ROUTE, "GET /carts/{id}")) {
            Comparison c = loose.compare(SERVICE, route, recorded, restamped);
            assertTrue(c.same(), () -> route + ": " + c.differences());
        }
        assertTrue(new ResponseComparator(CompareOptions.defaults(), rules)
                .compare(SERVICE, ROUTE, recorded, json(200, "{\"items\":[{\"id\":1,\"at\":\"t2\"},{\"id\":2,\"at\":\"t2\"}]}"))
                .same());
        // what the stamps are beside is still compared
        assertEquals(List.of("$.items[1].id"), paths(loose.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"items\":[{\"id\":3,\"at\":\"t2\"},{\"id\":1,\"at\":\"t2\"}]}"))));
        // and a large array (150 x 150 elements, over the bound) is matched as a multiset the same way
        assertTrue(loose.compare(SERVICE, ROUTE, json(200, stamped(150, -2)), json(200, stamped(150, -3))).same());
    }

    @Test
    void ignoringArrayOrderMembersLeftOutOfElementsCountAsIgnoredWhereThePairedElementsDiffer() {
        IgnoreRules rules = IgnoreRules.none();
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), profile(SERVICE, "$.items[*].at", "$.items[*].meta",
                "$.items[*].lines[*].at"));
        ResponseComparator loose = new ResponseComparator(
                new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true), rules);
        ResponseComparator ordered = new ResponseComparator(CompareOptions.defaults(), rules);
        HttpResponse recorded = json(200, "{\"items\":[{\"id\":1,\"at\":\"t1\"},{\"id\":2,\"at\":\"t1\"}]}");

        // Both stamps changed: with array order compared that is two differences, ignored; in any order the same two,
        // each between the elements paired (id 1 with id 1), not zero because the stamps were left out before pairing
        Comparison inOrder = ordered.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"items\":[{\"id\":1,\"at\":\"t2\"},{\"id\":2,\"at\":\"t2\"}]}"));
        assertEquals(2, inOrder.ignored());
        Comparison anyOrder = loose.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"items\":[{\"id\":2,\"at\":\"t2\"},{\"id\":1,\"at\":\"t2\"}]}"));
        assertTrue(anyOrder.same(), anyOrder.differences()::toString);
        assertEquals(2, anyOrder.ignored());

        // only what differs between paired elements counts: id 2 kept its stamp, and id 1's is missing (one, as
        // MISSING would be in order)
        assertEquals(1, loose.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"items\":[{\"id\":2,\"at\":\"t1\"},{\"id\":1,\"at\":\"t2\"}]}")).ignored());
        assertEquals(1, loose.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"items\":[{\"id\":2,\"at\":\"t1\"},{\"id\":1}]}")).ignored());
        assertEquals(0, loose.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"items\":[{\"id\":2,\"at\":\"t1\"},{\"id\":1,\"at\":\"t1\"}]}")).ignored());
        // an element equal in full to one of the other side is paired with it, not with its twin of another stamp
        assertEquals(0, loose.compare(SERVICE, ROUTE,
                json(200, "{\"items\":[{\"id\":1,\"at\":\"t1\"},{\"id\":1,\"at\":\"t2\"}]}"),
                json(200, "{\"items\":[{\"id\":1,\"at\":\"t2\"},{\"id\":1,\"at\":\"t1\"}]}")).ignored());
        // a left-out object counts each value that differs in it, as in order
        assertEquals(2, loose.compare(SERVICE, ROUTE,
                json(200, "{\"items\":[{\"id\":1,\"meta\":{\"a\":1,\"b\":1,\"c\":1}},{\"id\":2}]}"),
                json(200, "{\"items\":[{\"id\":2},{\"id\":1,\"meta\":{\"a\":2,\"b\":2,\"c\":1}}]}")).ignored());

        // the one element left on each side is paired and compared: its stamp counts beside its changed id
        Comparison changed = loose.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"items\":[{\"id\":3,\"at\":\"t2\"},{\"id\":1,\"at\":\"t1\"}]}"));
        assertEquals(List.of("$.items[1].id"), paths(changed));
        assertEquals(1, changed.ignored());
        // elements left unpaired are whole MISSING and EXTRA differences: nothing inside them is counted
        Comparison unpaired = loose.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"items\":[{\"id\":3,\"at\":\"t2\"},{\"id\":4,\"at\":\"t2\"}]}"));
        assertEquals(4, unpaired.differences().size(), unpaired.differences()::toString);
        assertEquals(0, unpaired.ignored());

        // arrays inside elements are paired in turn; and a large array (over the bound) is matched the same way
        assertEquals(1, loose.compare(SERVICE, ROUTE,
                json(200, "{\"items\":[{\"id\":1,\"lines\":[{\"id\":5,\"at\":\"t1\"},{\"id\":6,\"at\":\"t1\"}]}]}"),
                json(200, "{\"items\":[{\"id\":1,\"lines\":[{\"id\":6,\"at\":\"t1\"},{\"id\":5,\"at\":\"t2\"}]}]}")).ignored());
        // elements equal only as the comparison finds them (arrays inside in another order, numbers within the
        // tolerance) are paired as it pairs them
        assertEquals(2, loose.compare(SERVICE, ROUTE,
                json(200, "{\"items\":[{\"id\":1,\"lines\":[{\"id\":5,\"at\":\"t1\"},{\"id\":6}]},"
                        + "{\"id\":2,\"lines\":[{\"id\":7,\"at\":\"t1\"},{\"id\":8}]}]}"),
                json(200, "{\"items\":[{\"id\":2,\"lines\":[{\"id\":8},{\"id\":7,\"at\":\"t2\"}]},"
                        + "{\"id\":1,\"lines\":[{\"id\":6},{\"id\":5,\"at\":\"t2\"}]}]}")).ignored());
        ResponseComparator tolerant = new ResponseComparator(
                new CompareOptions(true, 0.01, CompareOptions.DEFAULT_IGNORED_HEADERS, true), rules);
        Comparison withinTolerance = tolerant.compare(SERVICE, ROUTE,
                json(200, "{\"items\":[{\"id\":1,\"p\":1.000,\"at\":5.0},{\"id\":2,\"p\":2.0,\"at\":5.0}]}"),
                json(200, "{\"items\":[{\"id\":2,\"p\":2.001,\"at\":5.001},{\"id\":1,\"p\":1.001,\"at\":6}]}"));
        assertTrue(withinTolerance.same(), withinTolerance.differences()::toString);
        assertEquals(1, withinTolerance.ignored(), "5.0 and 5.001 are one number within 0.01, 5.0 and 6 are not");
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), profile(SERVICE, "$.items[*].updatedAt"));
        Comparison large = loose.compare(SERVICE, ROUTE, json(200, stamped(150, -2)), json(200, stamped(150, -3)));
        assertTrue(large.same(), large.differences()::toString);
        assertEquals(150, large.ignored());
        assertEquals(1, loose.compare(SERVICE, ROUTE, json(200, stamped(150, -1)), json(200, stamped(150, 7))).ignored());
    }

    @Test
    void ignoringArrayOrderMembersLeftOutOfElementsAreCountedWithinABoundOfElementPairs() {
        // Each item carries a trace of 1,500 spans, learned as noise. Left out before pairing, a trace cost nothing;
        // counting its differences in any order had JsonUnit try every span against every other (2.25 million pairs
        // a trace, seconds on the worker's event loop). Past the bound, a left-out member that differs counts as one.
        IgnoreRules rules = IgnoreRules.none();
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), profile(SERVICE, "$.items[*].trace"));
        ResponseComparator loose = new ResponseComparator(
                new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true), rules);
        StringBuilder recorded = new StringBuilder("{\"items\":[");
        StringBuilder candidate = new StringBuilder("{\"items\":[");
        for (int item = 0; item < 4; item++) {
            recorded.append(item == 0 ? "" : ",").append("{\"id\":").append(item).append(",\"trace\":[");
            candidate.append(item == 0 ? "" : ",").append("{\"id\":").append(3 - item).append(",\"trace\":[");
            for (int span = 0; span < 1500; span++) {
                recorded.append(span == 0 ? "" : ",").append("{\"span\":").append(span).append(",\"t\":")
                        .append(span * 7).append('}');
                candidate.append(span == 0 ? "" : ",").append("{\"span\":").append(span).append(",\"t\":")
                        .append(span * 7 + 1).append('}');
            }
            recorded.append("]}");
            candidate.append("]}");
        }
        long started = System.nanoTime();
        Comparison c = loose.compare(SERVICE, ROUTE, json(200, recorded.append("]}").toString()),
                json(200, candidate.append("]}").toString()));
        long millis = (System.nanoTime() - started) / 1_000_000;
        assertTrue(c.same(), c.differences()::toString);
        assertEquals(4, c.ignored(), "one a paired item's trace");
        assertTrue(millis < 5_000, millis + " ms");
    }

    /** {@code {"items":[{"id":"k0","v":[...]},...]}}: {@code items} elements of {@code numbers} numbers each. */
    private static String itemsHoldingNumbers(int items, int numbers, int shift) {
        StringBuilder b = new StringBuilder("{\"items\":[");
        for (int i = 0; i < items; i++) {
            b.append(i == 0 ? "" : ",").append("{\"id\":\"k").append(i).append("\",\"v\":[");
            for (int n = 0; n < numbers; n++) {
                b.append(n == 0 ? "" : ",").append(i * 100_000 + n * 7 + shift);
            }
            b.append("]}");
        }
        return b.append("]}").toString();
    }

    @Test
    void ignoringArrayOrderTheElementPairsOfArraysInsideElementsAreBoundedForTheBody() {
        // 20 items of 100 numbers, every number changed: JsonUnit may try each item against each (400 pairs, within
        // the bound of one array pair) and, for each such pair, each number against each (10,000): 4,000,400 element
        // pairs (arrays of arrays of 100 x 100 such numbers took 25 s, on the event loop). Over the body's bound, the
        // items equal in any order are paired in linear time and the others are whole MISSING and EXTRA elements.
        CompareOptions options = new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true);
        long[] elementPairs = {0};
        ResponseComparator loose = new ResponseComparator(options, IgnoreRules.none(),
                new BodyComparator(options, pairs -> {
                }, pairs -> elementPairs[0] += pairs));
        String recorded = itemsHoldingNumbers(20, 100, 0);
        String candidate = itemsHoldingNumbers(20, 100, 1);
        candidate = candidate.substring(0, candidate.indexOf("{\"id\":\"k5\""))
                + recorded.substring(recorded.indexOf("{\"id\":\"k5\""), recorded.indexOf(",{\"id\":\"k6\""))
                + candidate.substring(candidate.indexOf(",{\"id\":\"k6\""));
        Comparison c = loose.compare(SERVICE, ROUTE, json(200, recorded), json(200, candidate));
        assertTrue(elementPairs[0] <= 1_000_000, elementPairs[0] + " element pairs"); // the body's bound
        assertEquals(38, c.differences().size(), c.differences()::toString);
        assertEquals(19, c.differences().stream()
                .filter(d -> d.getKind() == DifferenceKind.MISSING && d.getPath().equals("$.items[*]")).count());
        assertEquals(19, c.differences().stream()
                .filter(d -> d.getKind() == DifferenceKind.EXTRA && d.getPath().equals("$.items[*]")).count());
        assertEquals(List.of("response body: the 19 and 19 elements of $.items unequal in any order were not paired"
                + " (with the arrays inside them, up to 3,610,361 element pairs to try, over the body's bound of"
                + " 1,000,000): each is one MISSING or EXTRA difference at $.items[*]"), c.notes());

        // under the bound, JsonUnit pairs them as before: the differences are inside the elements, with no note
        elementPairs[0] = 0;
        Comparison small = loose.compare(SERVICE, ROUTE, json(200, itemsHoldingNumbers(4, 10, 0)),
                json(200, itemsHoldingNumbers(4, 10, 0).replace("[300000,", "[300001,")));
        assertEquals(16 + 16 * 100, elementPairs[0]);
        assertTrue(small.notes().isEmpty(), small.notes()::toString);
        Difference d = only(small);
        assertEquals(DifferenceKind.CHANGED, d.getKind());
        assertEquals("$.items[3].v[0]", d.getPath());
    }

    @Test
    void ignoringArrayOrderPairingElementsToCountMembersLeftOutSharesTheBodysBoundOfElementPairs() {
        // Three lists of 100 rows, each row's stamp learned as noise and each row's pair of codes in the other order:
        // equal only as JsonUnit finds them, the rows were paired by trying each against every row of the other side
        // (in reverse order, 5,050 comparisons a list) before their stamps were counted, up to 10,000 comparisons at
        // every array, on top of what the comparison itself spends. Now they draw on the body's one bound.
        IgnoreRules rules = IgnoreRules.none();
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE),
                profile(SERVICE, "$.north[*].at", "$.south[*].at", "$.east[*].at"));
        CompareOptions options = new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true);
        long[] comparisons = {0};
        long[] elementPairs = {0};
        ResponseComparator loose = new ResponseComparator(options, rules, new BodyComparator(options, pairs -> {
            comparisons[0]++;
            elementPairs[0] += pairs;
        }));
        StringBuilder recorded = new StringBuilder("{");
        StringBuilder candidate = new StringBuilder("{");
        for (String list : List.of("north", "south", "east")) {
            String open = (list.equals("north") ? "" : ",") + "\"" + list + "\":[";
            recorded.append(open);
            candidate.append(open);
            for (int row = 0; row < 100; row++) {
                int back = 99 - row;
                recorded.append(row == 0 ? "" : ",").append("{\"id\":").append(row).append(",\"codes\":[")
                        .append(row).append(',').append(row + 1000).append("],\"at\":\"t1\"}");
                candidate.append(row == 0 ? "" : ",").append("{\"id\":").append(back).append(",\"codes\":[")
                        .append(back + 1000).append(',').append(back).append("],\"at\":\"t2\"}");
            }
            recorded.append(']');
            candidate.append(']');
        }
        Comparison c = loose.compare(SERVICE, ROUTE, json(200, recorded.append('}').toString()),
                json(200, candidate.append('}').toString()));
        assertTrue(c.same(), c.differences()::toString);
        assertTrue(c.ignored() > 0 && c.ignored() <= 300, "at most one a paired row's stamp: " + c.ignored());
        assertTrue(comparisons[0] <= BodyComparator.MAX_UNORDERED_PAIRS, comparisons[0] + " JsonUnit comparisons");
        assertTrue(elementPairs[0] <= BodyComparator.MAX_UNORDERED_PAIRS, elementPairs[0] + " element pairs");
    }

    @Test
    void ignoringArrayOrderAFieldNoisyOnlyInArrayOrderIsCompared() {
        // dedup-stream learned the skus and quantities as noise because the items come in either order, the stamps
        // because they change on every answer: only the stamps are noise to a replay that ignores the order.
        IgnoreRules rules = IgnoreRules.none();
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), NoiseProfile.newBuilder().setService(SERVICE).setRoute(ROUTE)
                .setComparedPairs(10).setUpdatedAt(Instant.EPOCH).setFields(List.of(
                        new NoisyField("$.items[*].at", 10L, 10L, true, 10L, null),
                        new NoisyField("$.items[*].qty", 5L, 10L, false, 0L, null),
                        new NoisyField("$.items[*].sku", 5L, 10L, false, 0L, null))).build());
        HttpResponse recorded = json(200, "{\"items\":[{\"sku\":\"a\",\"qty\":1,\"at\":1},{\"sku\":\"b\",\"qty\":2,\"at\":1}]}");
        HttpResponse regressed = json(200, "{\"items\":[{\"sku\":\"b\",\"qty\":3,\"at\":2},{\"sku\":\"a\",\"qty\":1,\"at\":2}]}");
        ResponseComparator loose = new ResponseComparator(
                new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true), rules);
        assertEquals(List.of("$.items[1].qty"), paths(loose.compare(SERVICE, ROUTE, recorded, regressed)),
                "b's quantity 2 -> 3 is a regression there");
        assertTrue(loose.compare(SERVICE, ROUTE, recorded, json(200,
                "{\"items\":[{\"sku\":\"b\",\"qty\":2,\"at\":2},{\"sku\":\"a\",\"qty\":1,\"at\":2}]}")).same());
        // Comparing array order, the order makes every sku and quantity noise: the same answer passes, as it did.
        assertTrue(new ResponseComparator(CompareOptions.defaults(), rules).compare(SERVICE, ROUTE, recorded, regressed)
                .same());
        // A profile written before dedup-stream learned this (noisy in every order) applies in any order, as before.
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), profile(SERVICE, "$.items[*].at", "$.items[*].qty",
                "$.items[*].sku"));
        assertTrue(loose.compare(SERVICE, ROUTE, recorded, regressed).same());
    }

    private static NoisyField spread(String path, Double numericSpread, boolean noisyInAnyOrder) {
        return NoisyField.newBuilder().setPath(path).setDifferingPairs(10L).setComparedPairs(10L)
                .setNoisyInAnyOrder(noisyInAnyOrder).setNumericSpread(numericSpread).build();
    }

    @Test
    void underANumericToleranceANoisyNumberThatVariedWithinItIsCompared() {
        // dedup-stream learned $.total as noise because it varied by 0.000002 at most between identical production
        // requests (floating point), $.fee and $.tax by 0.1 and one double more; $.at is text. A run with a
        // tolerance of 0.1 does not report such variations, so it compares those fields.
        IgnoreRules rules = IgnoreRules.none();
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), NoiseProfile.newBuilder().setService(SERVICE).setRoute(ROUTE)
                .setComparedPairs(10).setUpdatedAt(Instant.EPOCH).setFields(List.of(
                        spread("$.at", null, true), spread("$.fee", 0.1, true),
                        spread("$.tax", Math.nextUp(0.1), true), spread("$.total", 2.0E-6, true))).build());
        ResponseComparator tolerant = new ResponseComparator(
                new CompareOptions(false, 0.1, CompareOptions.DEFAULT_IGNORED_HEADERS, true), rules);
        HttpResponse recorded = json(200, "{\"at\":\"t1\",\"total\":10.000001,\"fee\":1.0,\"tax\":1.0}");
        assertEquals(List.of("$.total"), paths(tolerant.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"at\":\"t2\",\"total\":20,\"fee\":1.1,\"tax\":1.1}"))),
                "a total of 20 is a regression there; the fee's 1.1 is within the tolerance, as it was in production");
        assertTrue(tolerant.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"at\":\"t2\",\"total\":10.000002,\"fee\":1.0,\"tax\":1.0}")).same());
        // The tolerance is absolute and inclusive (|a - b| <= 0.1 is equal): a spread of 0.1 is within it, one
        // double above it is not, and that field stays noise.
        assertEquals(List.of("$.fee"), paths(tolerant.compare(SERVICE, ROUTE, recorded,
                json(200, "{\"at\":\"t2\",\"total\":10.000001,\"fee\":2,\"tax\":2}"))));
        // Without a tolerance every learned field applies, as before.
        assertTrue(new ResponseComparator(CompareOptions.defaults(), rules).compare(SERVICE, ROUTE, recorded,
                json(200, "{\"at\":\"t2\",\"total\":20,\"fee\":2,\"tax\":2}")).same());
        // Ignoring array order too, a field applies only when it is noisy in any order and beyond the tolerance.
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), NoiseProfile.newBuilder().setService(SERVICE).setRoute(ROUTE)
                .setComparedPairs(10).setUpdatedAt(Instant.EPOCH).setFields(List.of(
                        spread("$.items[*].at", null, false), spread("$.items[*].qty", 1.0, true),
                        spread("$.items[*].total", 2.0E-6, true))).build());
        ResponseComparator loose = new ResponseComparator(
                new CompareOptions(true, 0.1, CompareOptions.DEFAULT_IGNORED_HEADERS, true), rules);
        assertEquals(List.of("$.items[0].at", "$.items[0].total"), paths(loose.compare(SERVICE, ROUTE,
                json(200, "{\"items\":[{\"at\":1,\"qty\":1,\"total\":10.000001}]}"),
                json(200, "{\"items\":[{\"at\":2,\"qty\":2,\"total\":20}]}"))));
        // A profile written before dedup-stream learned spreads applies whole under a tolerance, as before.
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), profile(SERVICE, "$.at", "$.fee", "$.tax", "$.total"));
        assertTrue(tolerant.compare(SERVICE, ROUTE, recorded, json(200, "{\"at\":\"t2\",\"total\":20,\"fee\":2,\"tax\":2}"))
                .same());
    }

    @Test
    void learnedNoiseAppliesToItsOwnServiceWithARouteWideProfileOnlyAsFallback() {
        String body1 = "{\"generatedAt\":1,\"price\":1}";
        String body2 = "{\"generatedAt\":2,\"price\":2}";
        IgnoreRules rules = IgnoreRules.none();
        // Written before noise was learned per service: keyed by the route alone, every service merged.
        rules.learn(ROUTE, profile("", "$.generatedAt", "$.price"));
        rules.learn(TaplineTopics.noiseKey("catalog", ROUTE), profile("catalog", "$.price"));
        rules.learn(TaplineTopics.noiseKey("pricing", ROUTE), profile("pricing", "$.generatedAt"));
        ResponseComparator c = new ResponseComparator(CompareOptions.defaults(), rules);

        assertEquals(List.of("$.generatedAt"), paths(c.compare("catalog", ROUTE, json(200, body1), json(200, body2))));
        assertEquals(List.of("$.price"), paths(c.compare("pricing", ROUTE, json(200, body1), json(200, body2))),
                "a field noisy in catalog is a regression in pricing");
        assertEquals(List.of(), paths(c.compare("legacy-only", ROUTE, json(200, body1), json(200, body2))),
                "a service without a profile of its own falls back on the route-wide one");

        rules.learn(ROUTE, null); // dedup-stream retires the route-wide profile with a tombstone
        assertEquals(List.of("$.generatedAt", "$.price"),
                paths(c.compare("legacy-only", ROUTE, json(200, body1), json(200, body2))));
    }

    @Test
    void learnedNoiseOfAMapKeyedByIdAppliesToEveryId() {
        // dedup-stream writes a map keyed by id as one field per member path, the id as the placeholder of its kind
        IgnoreRules rules = IgnoreRules.none();
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), profile(SERVICE, "$.bySku.{id}.stamp"));
        ResponseComparator c = new ResponseComparator(CompareOptions.defaults(), rules);
        assertEquals(List.of("$.bySku.1018.qty"), paths(c.compare(SERVICE, ROUTE,
                json(200, "{\"bySku\":{\"1017\":{\"qty\":5,\"stamp\":1},\"1018\":{\"qty\":5,\"stamp\":1}}}"),
                json(200, "{\"bySku\":{\"1017\":{\"qty\":5,\"stamp\":2},\"1018\":{\"qty\":6,\"stamp\":2}}}"))));
        // ids that change between identical requests: the map itself is noise, and everything under it
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), profile(SERVICE, "$.bySku.{id}", "$.{date}"));
        assertEquals(List.of(), paths(c.compare(SERVICE, ROUTE, json(200, "{\"bySku\":{\"1017\":{\"qty\":5}}}"),
                json(200, "{\"bySku\":{\"2017\":{\"qty\":5}}}"))));
        // a placeholder stands for keys of its kind only: beside dates, a word key stays compared
        assertEquals(List.of("$.total"), paths(c.compare(SERVICE, ROUTE,
                json(200, "{\"2026-11-21\":3,\"total\":3}"), json(200, "{\"2026-11-22\":4,\"total\":4}"))));
    }

    @Test
    void aKeyHoldingDotsIsOneMemberOfItsPath() {
        // an email, a timestamp with fractions, an IP address: keys JsonUnit would join with dots as they are
        IgnoreRules rules = IgnoreRules.none();
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE),
                profile(SERVICE, "$.byUser.{email}.lastSeen", "$.at.{date}", "$.hosts.10.0.0.1.checkedAt"));
        ResponseComparator c = new ResponseComparator(CompareOptions.defaults(), rules);
        Comparison found = c.compare(SERVICE, ROUTE,
                json(200, "{\"byUser\":{\"ann@example.com\":{\"lastSeen\":1,\"visits\":3}},"
                        + "\"at\":{\"2026-11-22T10:00:00.125Z\":1},\"hosts\":{\"10.0.0.1\":{\"checkedAt\":1,\"up\":true}}}"),
                json(200, "{\"byUser\":{\"ann@example.com\":{\"lastSeen\":2,\"visits\":\"3\"}},"
                        + "\"at\":{\"2026-11-22T10:00:00.125Z\":2},\"hosts\":{\"10.0.0.1\":{\"checkedAt\":2,\"up\":false}}}"));
        assertEquals(List.of("$.byUser['ann@example.com'].visits", "$.hosts['10.0.0.1'].up"), paths(found),
                "learned noise applies to keys holding dots; what is not noise is reported at the key it is under");
        Difference visits = found.differences().stream().filter(d -> d.getPath().contains("visits")).findFirst().orElseThrow();
        assertEquals(DifferenceKind.TYPE_CHANGED, visits.getKind());
        assertEquals("3", visits.getExpected());
        assertEquals("\"3\"", visits.getActual());
    }

    @Test
    void aDifferenceIsNamedByTheMemberItIsAtWhereJsonUnitsPathReadsAsTwo() {
        // JsonUnit writes "a.b" both for the member "a.b" and for "b" in "a": the change is in the one whose values
        // differ (before: "$.a.b: 1 -> 1", and a rule for $.a.b hid the change of "a.b")
        Difference d = only(strict.compare(SERVICE, ROUTE, json(200, "{\"a.b\":1,\"a\":{\"b\":1}}"),
                json(200, "{\"a.b\":2,\"a\":{\"b\":1}}")));
        assertEquals("$['a.b'] CHANGED 1 -> 2", d.getPath() + " " + d.getKind() + " " + d.getExpected() + " -> "
                + d.getActual());
        assertEquals(List.of("$.a.b"), paths(strict.compare(SERVICE, ROUTE, json(200, "{\"a.b\":1,\"a\":{\"b\":1}}"),
                json(200, "{\"a.b\":1,\"a\":{\"b\":2}}"))));
        // both changed: two differences with one JsonUnit path, one at each member
        assertEquals(List.of("$.a.b", "$['a.b']"), paths(strict.compare(SERVICE, ROUTE,
                json(200, "{\"a.b\":1,\"a\":{\"b\":1}}"), json(200, "{\"a.b\":2,\"a\":{\"b\":2}}"))));
        // missing and extra: the member the other side lacks
        Difference missing = only(strict.compare(SERVICE, ROUTE, json(200, "{\"a.b\":1,\"a\":{\"b\":1}}"),
                json(200, "{\"a\":{\"b\":1}}")));
        assertEquals("$['a.b'] MISSING", missing.getPath() + " " + missing.getKind());
        Difference extra = only(strict.compare(SERVICE, ROUTE, json(200, "{\"a\":{\"b\":1}}"),
                json(200, "{\"a.b\":1,\"a\":{\"b\":1}}")));
        assertEquals("$['a.b'] EXTRA", extra.getPath() + " " + extra.getKind());
    }

    @Test
    void learnedNoiseOfAMemberNamedEmptyAppliesToThatMemberOnly() {
        // dedup-stream writes a member named "" with nothing after its dot: "$." for one of the root, "$..stamp" for a
        // field in it. Read with the empty name left out, "$." ignored every difference of the body, and "$..stamp"
        // the root's own stamp
        IgnoreRules rules = IgnoreRules.none();
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), profile(SERVICE, "$..stamp", "$.meta."));
        ResponseComparator c = new ResponseComparator(CompareOptions.defaults(), rules);
        Comparison found = c.compare(SERVICE, ROUTE,
                json(200, "{\"\":{\"stamp\":1},\"stamp\":1,\"meta\":{\"\":1,\"v\":1},\"n\":1}"),
                json(200, "{\"\":{\"stamp\":2},\"stamp\":2,\"meta\":{\"\":2,\"v\":2},\"n\":2}"));
        assertEquals(List.of("$.meta.v", "$.n", "$.stamp"), paths(found));
        assertEquals(2, found.ignored());
        rules.learn(TaplineTopics.noiseKey(SERVICE, ROUTE), profile(SERVICE, "$."));
        assertEquals(List.of("$.n"), paths(c.compare(SERVICE, ROUTE, json(200, "{\"\":1,\"n\":1}"),
                json(200, "{\"\":2,\"n\":2}"))));
    }

    @Test
    void aKeyRedactedAtCaptureIsComparedWithTheCandidatesKeyRedactedTheSameWay() {
        io.tapline.redaction.RedactionKey key = io.tapline.redaction.RedactionKey.of("sidecar-key-0123456789");
        String ann = key.token("ann@example.com");
        String card = key.token("4111111111111111");
        // the capture redacted the keys of maps keyed by email and by card number
        HttpResponse recorded = json(200, "{\"byUser\":{\"" + ann + "\":{\"visits\":3}},\"limits\":{\"" + card + "\":5},\"n\":1}");
        HttpResponse same = json(200, "{\"byUser\":{\"ann@example.com\":{\"visits\":3}},\"limits\":{\"4111111111111111\":5},\"n\":1}");
        HttpResponse changed = json(200, "{\"byUser\":{\"ann@example.com\":{\"visits\":4}},\"limits\":{\"4111111111111111\":5},\"n\":2}");
        HttpResponse otherUser = json(200, "{\"byUser\":{\"bob@example.com\":{\"visits\":3}},\"limits\":{\"4111111111111111\":5},\"n\":1}");
        RedactedValues keyed = RedactedValues.keyed(key);
        ResponseComparator withKey = new ResponseComparator(
                new CompareOptions(false, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true, keyed), IgnoreRules.none());
        assertTrue(withKey.compare(SERVICE, ROUTE, recorded, same).same());
        Comparison c = withKey.compare(SERVICE, ROUTE, recorded, changed);
        assertEquals(List.of("$.byUser." + ann + ".visits", "$.n"), paths(c), "members under redacted keys are compared");
        Comparison other = withKey.compare(SERVICE, ROUTE, recorded, otherUser);
        assertEquals(java.util.stream.Stream.of("$.byUser." + ann, "$.byUser." + key.token("bob@example.com")).sorted().toList(), paths(other),
                "another user's entry: missing and extra, named by tokens only");
        assertFalse(other.differences().toString().contains("bob@example.com"));

        // without the sidecar's key the candidate's keys become tokens of this process: not judged, and never shown
        ResponseComparator noKey = new ResponseComparator(CompareOptions.defaults(), IgnoreRules.none());
        Comparison unjudged = noKey.compare(SERVICE, ROUTE, recorded, changed);
        assertEquals(List.of("$.n"), paths(unjudged));
        assertEquals(4, unjudged.ignored(), "byUser and limits, each missing once and extra once");
        assertTrue(unjudged.notes().get(0).contains("not judged"), unjudged.notes()::toString);
        assertFalse(unjudged.notes().toString().contains("ann@example.com"));

        // a recording without redacted keys (an older capture) is compared with the candidate's keys as they are
        assertTrue(withKey.compare(SERVICE, ROUTE, same, same).same());
        assertEquals(List.of("$.byUser['ann@example.com'].visits", "$.n"),
                paths(withKey.compare(SERVICE, ROUTE, same, changed)));
    }

    private static NoiseProfile profile(String service, String... noisy) {
        return NoiseProfile.newBuilder().setService(service).setRoute(ROUTE).setComparedPairs(10)
                .setUpdatedAt(Instant.EPOCH)
                .setFields(Arrays.stream(noisy).map(p -> new NoisyField(p, 9L, 10L, true, null, null)).toList()).build();
    }

    private static List<String> paths(Comparison c) {
        return c.differences().stream().map(Difference::getPath).sorted().toList();
    }

    @Test
    void configuredIgnoreRulesApplyPerRouteAndEverywhere() {
        IgnoreRules rules = IgnoreRules.parse(List.of("GET /items/{id} $.ts", "* header:x-build"));
        ResponseComparator c = new ResponseComparator(CompareOptions.defaults(), rules);
        Comparison r = c.compare(SERVICE, ROUTE, json(200, "{\"ts\":1}", new Header("X-Build", "1")),
                json(200, "{\"ts\":2}", new Header("X-Build", "2")));
        assertTrue(r.same(), r.differences()::toString);
        assertEquals(2, r.ignored());
    }

    @Test
    void aRecordedValueRedactedAtCaptureIsNotJudgedAndANoteNamesIt() {
        String token = "tapline:hmac:00112233aabbccdd";
        Comparison c = strict.compare(SERVICE, ROUTE,
                json(200, "{\"email\":\"" + token + "\",\"name\":\"Ann\",\"ref\":\"" + token + "\"}",
                        new Header("Set-Cookie", token)),
                json(200, "{\"email\":\"ann@example.com\",\"name\":\"Bob\"}",
                        new Header("Set-Cookie", "session=s-42; HttpOnly")));
        assertEquals(List.of("$.name", "$.ref"), paths(c), "a redacted value missing altogether is still a difference");
        assertEquals(2, c.ignored());
        assertEquals(List.of("2 response difference(s) not judged: the recorded value was redacted at capture"
                + " (header:set-cookie, $.email)"), c.notes());
        // the candidate echoing the token it was sent is equal; another token is another value
        assertTrue(strict.compare(SERVICE, ROUTE, json(200, "{\"email\":\"" + token + "\"}"),
                json(200, "{\"email\":\"" + token + "\"}")).same());
        assertEquals(List.of("$.email"), paths(strict.compare(SERVICE, ROUTE, json(200, "{\"email\":\"" + token + "\"}"),
                json(200, "{\"email\":\"tapline:hmac:ffeeddccbbaa9988\"}"))));
    }

    @Test
    void formBodiesAreComparedFieldByField() {
        String form = "application/x-www-form-urlencoded";
        Comparison c = strict.compare(SERVICE, ROUTE,
                response(200, form, "a=1&b=x+y&c=3".getBytes(StandardCharsets.UTF_8), null),
                response(200, form, "b=x%20y&a=2&d=4".getBytes(StandardCharsets.UTF_8), null));
        assertEquals(List.of("form:a", "form:c", "form:d"), paths(c));
        assertEquals(List.of(DifferenceKind.CHANGED, DifferenceKind.MISSING, DifferenceKind.EXTRA),
                c.differences().stream().map(Difference::getKind).toList());
    }

    @Test
    void dateServerAndTracingHeadersAreIgnoredOthersCompared() {
        Comparison c = strict.compare(SERVICE, ROUTE,
                json(200, "{}", new Header("Date", "Mon"), new Header("Server", "v1"), new Header("traceparent", "a"),
                        new Header("Cache-Control", "no-store"), new Header("Content-Length", "2")),
                json(200, "{}", new Header("Date", "Tue"), new Header("Server", "v2"), new Header("traceparent", "b"),
                        new Header("Cache-Control", "max-age=60")));
        Difference d = only(c);
        assertEquals("header:cache-control", d.getPath());
        assertEquals(DifferenceKind.HEADER, d.getKind());
    }

    @Test
    void everyHopByHopHeaderIsIgnored() {
        // RFC 9110 7.6.1's list: TE, Trailer and Upgrade were compared while the rest of it was not
        Comparison c = strict.compare(SERVICE, ROUTE,
                json(200, "{}", new Header("Connection", "keep-alive"), new Header("Keep-Alive", "timeout=5"),
                        new Header("Trailer", "Server-Timing"), new Header("Upgrade", "h2c"), new Header("TE", "trailers"),
                        new Header("Transfer-Encoding", "chunked"), new Header("Proxy-Connection", "keep-alive"),
                        new Header("Cache-Control", "no-store")),
                json(200, "{}", new Header("Cache-Control", "max-age=60")));
        Difference d = only(c);
        assertEquals("header:cache-control", d.getPath());
    }

    @Test
    void gzipBodiesAreComparedDecoded() throws IOException {
        byte[] gz = gzip("{\"a\":1}");
        Comparison c = strict.compare(SERVICE, ROUTE, response(200, "application/json", gz, "gzip"),
                response(200, "application/json", "{ \"a\" : 1 }".getBytes(StandardCharsets.UTF_8), null));
        assertTrue(c.same(), c.differences()::toString);
    }

    @Test
    void textBodiesAreNormalisedBeforeComparison() {
        Comparison same = strict.compare(SERVICE, ROUTE, response(200, "text/plain", "a  \r\nb\r\n".getBytes(StandardCharsets.UTF_8), null),
                response(200, "text/plain", "a\nb".getBytes(StandardCharsets.UTF_8), null));
        assertTrue(same.same(), same.differences()::toString);
        Difference d = only(strict.compare(SERVICE, ROUTE, response(200, "text/plain", "a".getBytes(StandardCharsets.UTF_8), null),
                response(200, "text/plain", "b".getBytes(StandardCharsets.UTF_8), null)));
        assertEquals(DifferenceKind.BODY, d.getKind());
    }

    /** A value shown cut short must not show a secret in part: cut, it would match no redaction rule. */
    @Test
    void aLongValueIsShownCutAtItsLastWholeWord() {
        String start = "x".repeat(500) + " write to ";
        String text = start + "jane.doe@example.com or call 4111 1111 1111 1111 " + "y".repeat(600);
        Difference d = only(strict.compare(SERVICE, ROUTE, response(200, "text/plain", "other".getBytes(StandardCharsets.UTF_8), null),
                response(200, "text/plain", text.getBytes(StandardCharsets.UTF_8), null)));
        assertEquals(start + "...(" + text.length() + " chars)", d.getActual());
        String card = "z".repeat(498) + " card 4111 1111 1111 1111 and more" + "y".repeat(600);
        Difference c = only(strict.compare(SERVICE, ROUTE, response(200, "text/plain", "other".getBytes(StandardCharsets.UTF_8), null),
                response(200, "text/plain", card.getBytes(StandardCharsets.UTF_8), null)));
        assertEquals("z".repeat(498) + " card ...(" + card.length() + " chars)", c.getActual());
        // a cut that falls between two words keeps the last one
        String between = "z".repeat(505) + " abcdef" + " more".repeat(200);
        Difference b = only(strict.compare(SERVICE, ROUTE, response(200, "text/plain", "other".getBytes(StandardCharsets.UTF_8), null),
                response(200, "text/plain", between.getBytes(StandardCharsets.UTF_8), null)));
        assertEquals(between.substring(0, 512) + "...(" + between.length() + " chars)", b.getActual());
    }

    @Test
    void binaryBodiesAreComparedByHash() {
        Difference d = only(strict.compare(SERVICE, ROUTE, response(200, "image/png", new byte[]{1, 2, 3}, null),
                response(200, "image/png", new byte[]{1, 2, 4}, null)));
        assertTrue(d.getExpected().startsWith("sha256:"));
        assertTrue(strict.compare(SERVICE, ROUTE, response(200, "image/png", new byte[]{1, 2}, null),
                response(200, "image/png", new byte[]{1, 2}, null)).same());
    }

    @Test
    void truncatedRecordedBodyIsNotJudgedAndTheComparisonSaysSo() {
        HttpResponse recorded = HttpResponse.newBuilder(json(200, "{\"a\":")).setTruncated(true).setOriginalSize(7).build();
        Comparison c = strict.compare(SERVICE, ROUTE, recorded, json(200, "{\"a\":1}"));
        assertTrue(c.same(), () -> c.differences().toString());
        assertEquals(List.of("response body not compared: the recorded body was truncated at capture (5 of 7 bytes kept)"),
                c.notes());
        // status (and headers) are still judged
        assertEquals(DifferenceKind.STATUS, only(strict.compare(SERVICE, ROUTE, recorded, json(500, "{\"a\":1}"))).getKind());
    }

    @Test
    void completeRecordedBodyLeavesNoNote() {
        assertEquals(List.of(), strict.compare(SERVICE, ROUTE, json(200, "{}"), json(200, "{}")).notes());
    }

    @Test
    void invalidCandidateJsonIsABodyDifference() {
        Difference d = only(strict.compare(SERVICE, ROUTE, json(200, "{\"a\":1}"), json(200, "oops")));
        assertEquals(DifferenceKind.BODY, d.getKind());
        assertTrue(d.getActual().startsWith("not JSON"));
    }

    @Test
    void whyAnAnswerIsNotJsonDoesNotQuoteAValueOfIt() {
        // Jackson names an unquoted value in its message: a result redacts the body by where each value sits, which
        // it cannot do for a copy in the message, so {"password": hunter2} published hunter2 there
        Difference d = only(strict.compare(SERVICE, ROUTE, json(200, "{\"a\":1}"), json(200, "{\"password\": hunter2}")));
        assertEquals(DifferenceKind.BODY, d.getKind());
        assertTrue(d.getActual().startsWith("not JSON (Unrecognized value: was expecting"), d.getActual());
        assertTrue(d.getActual().endsWith("): {\"password\": hunter2}"), d.getActual());
        assertEquals(1, d.getActual().split("hunter2", -1).length - 1, "the value once, in the body: " + d.getActual());
    }

    @Test
    void aNumberWhoseExponentNoDecimalHoldsMakesABodyNotJsonRatherThanTheCaseAnError() {
        // valid JSON whose scale does not fit a BigDecimal: Jackson threw NumberFormatException, not a parse error, and
        // the case ended as an ERROR ("the answer could not be compared")
        Difference d = only(strict.compare(SERVICE, ROUTE, json(200, "{\"n\":0}"), json(200, "{\"n\":1e-2147483648}")));
        assertEquals(DifferenceKind.BODY, d.getKind());
        assertTrue(d.getActual().startsWith("not JSON ("), d.getActual());
        // a recording holding one is compared as text
        assertEquals(List.of(), strict.compare(SERVICE, ROUTE, json(200, "{\"n\":1e-2147483648}"),
                json(200, "{\"n\":1e-2147483648}\n")).differences());
        assertEquals(null, BodyComparator.readJson("[0.1e-2147483647]".getBytes(StandardCharsets.UTF_8)),
                "the mock reads a dependency request holding one as not JSON");
    }

    @Test
    void aBodyWrittenTwiceOrWithARepeatedKeyIsNotTheRecordedJson() {
        Difference twice = only(strict.compare(SERVICE, ROUTE, json(200, "{\"ok\":true}"), json(200, "{\"ok\":true}{\"ok\":true}")));
        assertEquals(DifferenceKind.BODY, twice.getKind());
        assertTrue(twice.getActual().startsWith("not JSON (Trailing token"), twice.getActual());
        Difference repeated = only(strict.compare(SERVICE, ROUTE, json(200, "{\"id\":2}"), json(200, "{\"id\":1,\"id\":2}")));
        assertTrue(repeated.getActual().startsWith("not JSON (Duplicate field 'id'"), repeated.getActual());
        assertEquals(List.of(), strict.compare(SERVICE, ROUTE, json(200, "{\"ok\":true}"), json(200, "{\"ok\": true}\n")).differences(),
                "trailing whitespace is not content");
    }

    @Test
    void ignoredHeaderSetIsCaseInsensitive() {
        CompareOptions o = new CompareOptions(false, 0, Set.of("X-Request-Id"), true);
        assertTrue(o.ignoresHeader("x-request-id"));
    }

    private static byte[] gzip(String s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    @Test
    void textNormalisationDropsTrailingWhitespaceButKeepsLeadingIndentation() {
        assertEquals("a\nb", TextBodies.normalise("a  \r\nb\n\n"));
        assertEquals("    indented", TextBodies.normalise("    indented\n"));
    }

    @Test
    void textIsReadInTheCharsetItsContentTypeNames() {
        String latin1 = "text/plain; charset=ISO-8859-1";
        Difference d = only(strict.compare(SERVICE, ROUTE,
                response(200, latin1, "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1), null),
                response(200, latin1, "caf\u00e8".getBytes(StandardCharsets.ISO_8859_1), null)));
        assertEquals("caf\u00e9", d.getExpected());
        assertEquals("caf\u00e8", d.getActual());
        Comparison recharset = strict.compare(SERVICE, ROUTE,
                response(200, "text/plain; charset=utf-8", "caf\u00e9".getBytes(StandardCharsets.UTF_8), null),
                response(200, "text/plain;charset=\"iso-8859-1\"", "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1), null));
        assertTrue(recharset.differences().stream().noneMatch(x -> x.getPath().equals("body")),
                () -> "the same text in another charset: " + recharset.differences());
    }

    @Test
    void bytesThatAreNotTextInTheirCharsetAreComparedByHash() {
        byte[] a = {'a', (byte) 0xff};
        byte[] b = {'a', (byte) 0xfe};
        Difference d = only(strict.compare(SERVICE, ROUTE, response(200, "text/plain", a, null),
                response(200, "text/plain", b, null)));
        assertEquals(DifferenceKind.BODY, d.getKind());
        assertEquals(Bodies.sha256(a) + " (not UTF-8 text)", d.getExpected());
        assertEquals(Bodies.sha256(b) + " (not UTF-8 text)", d.getActual());
        Difference unknown = only(strict.compare(SERVICE, ROUTE, response(200, "text/plain; charset=x-no-such", a, null),
                response(200, "text/plain", "a".getBytes(StandardCharsets.UTF_8), null)));
        assertEquals(Bodies.sha256(a) + " (not text in a known charset)", unknown.getExpected());
        assertEquals("a", unknown.getActual());
    }

    @Test
    void numbersWrittenWithAHugeExponentAreComparedByValueWithoutWritingThemOut() {
        // JsonUnit subtracts two numbers that differ to word its message: 1e999999999 - 1 threw (BigInteger overflow),
        // 1e9999999 - 1 held the event loop for seconds
        HttpResponse recorded = json(200, "{\"big\":1e999999999,\"tiny\":1e-999999999,\"same\":1e999999999,"
                + "\"mid\":1e9999999,\"text\":\"x\"}");
        HttpResponse candidate = json(200, "{\"big\":1,\"tiny\":0,\"same\":10E+999999998,\"mid\":1,"
                + "\"text\":1e999999999}");
        Comparison c = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(2),
                () -> strict.compare(SERVICE, ROUTE, recorded, candidate));
        assertEquals(List.of("$.big CHANGED 1E+999999999 -> 1", "$.tiny CHANGED 1E-999999999 -> 0",
                        "$.mid CHANGED 1E+9999999 -> 1", "$.text TYPE_CHANGED \"x\" -> 1E+999999999"),
                c.differences().stream().map(d -> d.getPath() + " " + d.getKind() + " " + d.getExpected() + " -> "
                        + d.getActual()).sorted(java.util.Comparator.comparing(s -> List.of("$.big", "$.tiny", "$.mid",
                        "$.text").indexOf(s.substring(0, s.indexOf(' '))))).toList());

        // under a tolerance a number too small to tell from 0 is within it; a huge one never is
        ResponseComparator tolerant = new ResponseComparator(
                new CompareOptions(false, 0.01, CompareOptions.DEFAULT_IGNORED_HEADERS, true), IgnoreRules.none());
        Comparison t = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(2),
                () -> tolerant.compare(SERVICE, ROUTE, json(200, "{\"big\":1e999999999,\"tiny\":1e-999999999}"),
                        json(200, "{\"big\":1,\"tiny\":0.005}")));
        assertEquals(List.of("$.big"), t.differences().stream().map(Difference::getPath).toList());
        // and the same numbers compare equal whatever the array order option
        ResponseComparator loose = new ResponseComparator(
                new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true), IgnoreRules.none());
        assertTrue(loose.compare(SERVICE, ROUTE, json(200, "[1e999999999,2,1e-999999999]"),
                json(200, "[2,1.0E-999999999,1E+999999999]")).same());
    }

    @Test
    void aJsonBodyOfWhitespaceOnlyIsNoValueAsAnEmptyOneIs() {
        // some servers end an empty JSON answer with a line break: it held no value, and JsonUnit threw on it
        assertTrue(strict.compare(SERVICE, ROUTE, json(200, "\n"), json(200, "")).same());
        assertTrue(strict.compare(SERVICE, ROUTE, json(200, " "), json(200, "\r\n")).same());
        Difference d = only(strict.compare(SERVICE, ROUTE, json(200, "\r\n"), json(200, "{\"id\":7}")));
        assertEquals("body", d.getPath());
        assertEquals("", d.getExpected());
        assertEquals("{\"id\":7}", d.getActual());
        Difference back = only(strict.compare(SERVICE, ROUTE, json(200, "[1]"), json(200, " \n")));
        assertEquals("body", back.getPath());
        assertEquals("[1]", back.getExpected());
        assertEquals("", back.getActual());
    }

    @Test
    void recordedStringsThatReadAsJsonUnitPlaceholdersAreComparedAsText() {
        // production content is compared, never taken as one of JsonUnit's matchers: "${json-unit.any-string}" let
        // any string pass, "${json-unit.regex}..." matched the candidate's value against a regular expression from the
        // recording (one that does not compile failed the case, one that backtracks held the event loop)
        String nul = "\\" + "u0000"; // the JSON escape of the character stand-ins start with
        String recorded = "{\"any\":\"${json-unit.any-string}\",\"num\":\"#{json-unit.any-number}\","
                + "\"re\":\"${json-unit.regex}a.*\",\"bad\":\"${json-unit.regex}[\",\"el\":[\"${json-unit.ignore-element}\",1],"
                + "\"same\":\"${json-unit.any-string}\",\"nul\":\"" + nul + "tapline-text:${json-unit.any-string}\"}";
        String answered = "{\"any\":\"x\",\"num\":5,\"re\":\"abc\",\"bad\":\"[\",\"el\":[9,1],"
                + "\"same\":\"${json-unit.any-string}\",\"nul\":\"${json-unit.any-string}\"}";
        Comparison c = strict.compare(SERVICE, ROUTE, json(200, recorded), json(200, answered));
        assertEquals(List.of("$.any CHANGED \"${json-unit.any-string}\" -> \"x\"",
                        "$.bad CHANGED \"${json-unit.regex}[\" -> \"[\"",
                        "$.el[0] TYPE_CHANGED \"${json-unit.ignore-element}\" -> 9",
                        "$.nul CHANGED \"" + nul + "tapline-text:${json-unit.any-string}\" -> \"${json-unit.any-string}\"",
                        "$.num TYPE_CHANGED \"#{json-unit.any-number}\" -> 5",
                        "$.re CHANGED \"${json-unit.regex}a.*\" -> \"abc\""),
                c.differences().stream().map(d -> d.getPath() + " " + d.getKind() + " " + d.getExpected() + " -> "
                        + d.getActual()).sorted().toList());
        // the same with array order ignored, where large arrays are first matched as multisets
        ResponseComparator loose = new ResponseComparator(
                new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true), IgnoreRules.none());
        String many = ",1".repeat(200);
        Comparison l = loose.compare(SERVICE, ROUTE, json(200, "[\"${json-unit.any-string}\"" + many + "]"),
                json(200, "[\"x\"" + many + "]"));
        assertEquals(List.of("$[0] CHANGED \"${json-unit.any-string}\" -> \"x\""), l.differences().stream()
                .map(d -> d.getPath() + " " + d.getKind() + " " + d.getExpected() + " -> " + d.getActual()).toList());
        assertTrue(loose.compare(SERVICE, ROUTE, json(200, "[\"${json-unit.any-string}\"" + many + "]"),
                json(200, "[1,\"${json-unit.any-string}\"" + ",1".repeat(199) + "]")).same());
    }

    @Test
    void aDifferenceUnderAMemberNamedEmptyAtTheRootIsNamedWithThatMember() {
        // JsonUnit writes no name for a member "" of the root: its differences read as the root's or a sibling's
        List<String> found = strict.compare(SERVICE, ROUTE,
                json(200, "{\"\":{\"t\":1,\"\":{\"\":1},\"gone\":1},\"u\":1}"),
                json(200, "{\"\":{\"t\":2,\"\":{\"\":2},\"new\":1},\"u\":1}")).differences().stream()
                .map(d -> d.getPath() + " " + d.getKind() + " " + d.getExpected() + " -> " + d.getActual()).sorted().toList();
        assertEquals(List.of("$[''].gone MISSING 1 -> null", "$[''].new EXTRA null -> 1", "$[''].t CHANGED 1 -> 2",
                "$[''][''][''] CHANGED 1 -> 2"), found);
        Difference extra = only(strict.compare(SERVICE, ROUTE, json(200, "{}"), json(200, "{\"\":{\"a\":1}}")));
        assertEquals("$['']", extra.getPath());
        assertEquals(DifferenceKind.EXTRA, extra.getKind());
        assertEquals("{\"a\":1}", extra.getActual());
        Difference missing = only(strict.compare(SERVICE, ROUTE, json(200, "{\"\":{\"\":[1]}}"), json(200, "{\"\":{}}")));
        assertEquals("$['']['']", missing.getPath());
        assertEquals(DifferenceKind.MISSING, missing.getKind());
        assertEquals("[1]", missing.getExpected());
        // so a rule for a "t" of the root does not hide it
        ResponseComparator ruled = new ResponseComparator(CompareOptions.defaults(),
                IgnoreRules.parse(List.of("* $.t")));
        assertEquals(List.of("$[''].t"), paths(ruled.compare(SERVICE, ROUTE, json(200, "{\"\":{\"t\":1}}"),
                json(200, "{\"\":{\"t\":2}}"))));
    }

    @Test
    void jsonNestedDeeperThanTheComparisonTakesIsComparedAsText() {
        // JsonUnit's recursion with the path lookup of a difference overflowed a thread's stack from about 400 levels
        int depth = BodyComparator.MAX_NESTING_DEPTH;
        ResponseComparator loose = new ResponseComparator(
                new CompareOptions(true, 0, CompareOptions.DEFAULT_IGNORED_HEADERS, true), IgnoreRules.none());
        for (ResponseComparator c : List.of(strict, loose)) {
            String within = "[".repeat(depth - 1) + "{\"a\":%d}" + "]".repeat(depth - 1);
            assertEquals("$" + "[0]".repeat(depth - 1) + ".a",
                    only(c.compare(SERVICE, ROUTE, json(200, within.formatted(1)), json(200, within.formatted(2)))).getPath());
            String deeper = "[".repeat(depth) + "{\"a\":%d}" + "]".repeat(depth);
            Difference d = only(c.compare(SERVICE, ROUTE, json(200, deeper.formatted(1)), json(200, deeper.formatted(2))));
            assertEquals("body", d.getPath());
            assertEquals(DifferenceKind.BODY, d.getKind());
            Difference answered = only(c.compare(SERVICE, ROUTE, json(200, "{\"a\":1}"), json(200, deeper.formatted(1))));
            assertEquals("body", answered.getPath());
            assertTrue(answered.getActual().startsWith("not JSON (Document nesting depth (" + (depth + 1)
                    + ") exceeds the maximum allowed (" + depth), answered.getActual());
        }
    }

    @Test
    void aLoneSurrogateInAValueIsShownEscapedSoTwoOfThemStayApartInTheResult() throws IOException {
        // a string cut inside a character written as two (an emoji cut by a JavaScript substring): written as UTF-8,
        // which a result is, each of them was "?", so the result showed the change as "x?" -> "x?"
        String u = "\\" + "u"; // a JSON escape, built so
        Difference d = only(strict.compare(SERVICE, ROUTE, json(200, "{\"s\":\"x" + u + "d83d\"}"),
                json(200, "{\"s\":\"x" + u + "d83e\"}")));
        assertEquals("\"x" + u + "d83d\"", d.getExpected());
        assertEquals("\"x" + u + "d83e\"", d.getActual());
        Difference published = Difference.fromByteBuffer(d.toByteBuffer());
        assertFalse(published.getExpected().toString().equals(published.getActual().toString()));
        assertTrue(strict.compare(SERVICE, ROUTE, json(200, "{\"s\":\"x" + u + "d83d\"}"),
                json(200, "{\"s\":\"x" + u + "D83D\"}")).same());
        // a whole pair is a character like any other, shown as it is
        Difference pair = only(strict.compare(SERVICE, ROUTE, json(200, "{\"s\":\"" + u + "d83d" + u + "de00\"}"),
                json(200, "{\"s\":\"x\"}")));
        assertEquals("\"" + new String(Character.toChars(0x1F600)) + "\"", pair.getExpected());
    }
}
