package io.tapline.replay.report;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.MockUsage;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunSummary;
import io.tapline.avro.Verdict;
import io.tapline.replay.FailOn;
import io.tapline.replay.run.RunResults;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportsTest {

    private static ReplayResult result(String caseId, String route, Verdict v, long weight, Difference... diffs) {
        return ReplayResult.newBuilder().setRunId("r1").setCaseId(caseId).setSignatureId("sig-" + caseId).setRoute(route)
                .setCandidate("http://c").setVerdict(v).setDifferences(List.of(diffs)).setIgnoredDifferences(0)
                .setMocks(MockUsage.newBuilder().build()).setRecordedLatencyMicros(1000).setCandidateLatencyMicros(2000)
                .setTrafficWeight(weight).setError(v == Verdict.ERROR ? "refused" : null).setWorker("w")
                .setCompletedAt(Instant.EPOCH).build();
    }

    private static RunReport report() {
        Difference price = Difference.newBuilder().setPath("$.price").setKind(DifferenceKind.CHANGED)
                .setExpected("<113>").setActual("226 & more").build();
        List<ReplayResult> results = List.of(
                result("a", "GET /items/{id}", Verdict.PASS, 90),
                result("b", "GET /items/{id}", Verdict.FAIL, 10, price),
                result("c", "POST /orders", Verdict.ERROR, 0),
                // a second result for the same case (same key): the later one wins, counted once
                result("a", "GET /items/{id}", Verdict.PASS, 90));
        RunResults rr = new RunResults(results);
        return new RunReport("r1", "http://c", rr.summary(1500), rr.results(), true);
    }

    @Test
    void summaryCountsEachCaseOnceAndWeighsFailuresByTraffic() {
        RunReport r = report();
        assertEquals(3, r.summary().getTotal());
        assertEquals(1, r.summary().getFailed());
        assertEquals(1, r.summary().getErrored());
        assertEquals(0.1, r.summary().getFailedTrafficShare(), 1e-9);
    }

    @Test
    void junitXmlHasOneTestcasePerCaseNamedByRouteWithTheDifferencesInTheFailure() throws Exception {
        String xml = JUnitReport.render(report());
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        NodeList cases = doc.getElementsByTagName("testcase");
        assertEquals(3, cases.getLength());
        Element failed = (Element) doc.getElementsByTagName("failure").item(0);
        assertTrue(failed.getAttribute("message").contains("CHANGED $.price: <113> -> 226 & more"), failed.getAttribute("message"));
        assertEquals("GET /items/{id}", ((Element) failed.getParentNode()).getAttribute("classname"));
        assertEquals(1, doc.getElementsByTagName("error").getLength());
    }

    @Test
    void htmlIsSelfContainedEscapedAndGroupedByRoute() {
        String html = HtmlReport.render(report());
        assertTrue(html.contains("&lt;113&gt;"));
        assertFalse(html.contains("<113>"));
        assertFalse(html.contains("<script"));
        assertFalse(html.contains("http://") && html.contains("<link"));
        assertTrue(html.indexOf("GET /items/{id}") < html.indexOf("POST /orders"));
    }

    @Test
    void textListsOnlyWhatDidNotPass() {
        String text = TextReport.render(report());
        assertTrue(text.contains("FAIL  GET /items/{id}  case b"));
        assertTrue(text.contains("ERROR  POST /orders  case c"));
        assertFalse(text.contains("case a"));
        assertTrue(text.contains("failed share of production traffic: 10.0% (10 of 100 requests)"), text);
    }

    @Test
    void inconclusiveCaseShowsItsReasonDifferencesAndNotesInEveryReport() throws Exception {
        Difference stock = Difference.newBuilder().setPath("$.stock").setKind(DifferenceKind.CHANGED)
                .setExpected("7").setActual("-1").build();
        String note = "dependency response of call:GET inventory /stock/5 was recorded truncated at capture"
                + " (19 of 40000 bytes kept) and served cut";
        ReplayResult skipped = ReplayResult.newBuilder(result("d", "GET /items/{id}", Verdict.SKIPPED, 5, stock))
                .setError("inconclusive, not judged a regression").setNotes(List.of(note)).build();
        RunResults rr = new RunResults(List.of(skipped));
        RunReport r = new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);
        String text = TextReport.render(r);
        assertTrue(text.contains("    note: " + note), text);
        assertTrue(text.contains("CHANGED $.stock: 7 -> -1"), text);
        assertTrue(HtmlReport.render(r).contains("note: " + note));
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(JUnitReport.render(r).getBytes(StandardCharsets.UTF_8)));
        Element s = (Element) doc.getElementsByTagName("skipped").item(0);
        assertEquals("inconclusive, not judged a regression", s.getAttribute("message"));
        assertTrue(s.getTextContent().contains("note: " + note), s.getTextContent());
        assertEquals(0, doc.getElementsByTagName("failure").getLength());
    }

    /**
     * A report of a run no worker has written the summary of yet is partial: the text report's heading and the page say
     * so, and the JUnit report too, in a property CI systems keep with the suite. Before, its testsuite read as a whole
     * run's.
     */
    @Test
    void theJunitReportOfAnIncompleteRunSaysSo() throws Exception {
        RunResults rr = new RunResults(List.of(result("a", "GET /items/{id}", Verdict.PASS, 90)));
        for (boolean complete : new boolean[] {true, false}) {
            RunReport r = new RunReport("r1", "http://c", rr.summary(0), rr.results(), complete);
            assertEquals(!complete, TextReport.render(r).contains("(INCOMPLETE: no summary written yet)"));
            assertEquals(!complete, HtmlReport.render(r).contains("<strong>Incomplete:</strong>"));
            Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                    .parse(new ByteArrayInputStream(JUnitReport.render(r).getBytes(StandardCharsets.UTF_8)));
            NodeList props = doc.getElementsByTagName("property");
            String value = null;
            for (int i = 0; i < props.getLength(); i++) {
                Element p = (Element) props.item(i);
                if (p.getAttribute("name").equals("complete")) {
                    value = p.getAttribute("value");
                }
            }
            assertEquals(Boolean.toString(complete), value);
        }
    }

    /**
     * An errored case keeps its notes (a request sent again on a new connection, a dependency response served cut):
     * the text and HTML reports show them, and so does the JUnit error's text, which CI systems show with it. Before,
     * the JUnit error was its message alone.
     */
    @Test
    void anErroredCaseShowsItsNotesInTheJunitReportAsInTheOthers() throws Exception {
        String note = "the candidate ended a reused keep-alive connection without answering: the request was sent again"
                + " on a new connection\n::error::x";
        ReplayResult errored = ReplayResult.newBuilder(result("e", "GET /items/{id}", Verdict.ERROR, 5))
                .setError("candidate did not answer on a new connection either").setNotes(List.of(note)).build();
        RunResults rr = new RunResults(List.of(errored, result("p", "GET /items/{id}", Verdict.ERROR, 5)));
        RunReport r = new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);
        String oneLine = TextReport.oneLine(note);
        assertTrue(TextReport.render(r).contains("    note: " + oneLine));
        assertTrue(HtmlReport.render(r).contains("<div>note: " + note + "</div>")); // line breaks kept
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(JUnitReport.render(r).getBytes(StandardCharsets.UTF_8)));
        NodeList errors = doc.getElementsByTagName("error");
        assertEquals(2, errors.getLength());
        Element e = (Element) errors.item(0);
        assertEquals("candidate did not answer on a new connection either", e.getAttribute("message"));
        assertTrue(e.getTextContent().contains("note: " + oneLine + "\n"), e.getTextContent());
        // an error without notes stays an empty element
        assertEquals("", ((Element) errors.item(1)).getTextContent());
    }

    /** A failed case whose captured data tries to break lines, move a terminal's cursor and issue CI commands. */
    private static RunReport hostileCase() {
        Difference body = Difference.newBuilder().setPath("body").setKind(DifferenceKind.CHANGED)
                .setExpected("line1\n::error::forged\r\nline3").setActual("ok\u001b[1A\u001b[2K").build();
        Difference key = Difference.newBuilder().setPath("$.a\n::warning::b\tc").setKind(DifferenceKind.MISSING)
                .setExpected("1\u007f\u0085\u2028").setActual(null).build();
        ReplayResult r = ReplayResult.newBuilder(result("case\u001b]0;x\u0007", "GET /x\n::error::route", Verdict.FAIL, 5, body, key))
                .setError("boom\r::error::err").setNotes(List.of("note\n::add-mask::n")).build();
        RunResults rr = new RunResults(List.of(r));
        return new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);
    }

    @Test
    void textKeepsEveryCapturedValueOnItsLineWithControlCharactersEscaped() {
        String text = TextReport.render(hostileCase());
        for (String line : text.split("\n", -1)) {
            assertFalse(line.strip().startsWith("::"), () -> "a line starts a CI command: " + line + "\n" + text);
        }
        assertFalse(text.chars().anyMatch(c -> c == '\r' || c == 0x1b || c == 0x7f || c == 0x85 || c == 0x07 || c == '\t'
                || c == 0x2028), text);
        assertTrue(text.contains("FAIL  GET /x\\n::error::route  case case\\u001b]0;x\\u0007  (signature"), text);
        assertTrue(text.contains("    error: boom\\r::error::err\n"), text);
        assertTrue(text.contains("    note: note\\n::add-mask::n\n"), text);
        assertTrue(text.contains("    CHANGED body: line1\\n::error::forged\\r\\nline3 -> ok\\u001b[1A\\u001b[2K\n"), text);
        assertTrue(text.contains("    MISSING $.a\\n::warning::b\\tc: 1\\u007f\\u0085\\u2028 -> (absent)\n"), text);
    }

    /**
     * GitHub Actions' runner reads {@code ##[error]...} anywhere in a line as a workflow command, so a CI log that shows
     * a report (or a JUnit failure a test reporter echoes) must not hold it: every format shows the {@code [} after
     * {@code ##} as its code.
     */
    @Test
    void noReportHoldsALegacyWorkflowCommand() throws Exception {
        Difference body = Difference.newBuilder().setPath("body ##[add-mask]p").setKind(DifferenceKind.CHANGED)
                .setExpected("ok ##[error]forged").setActual("##[set-output name=a]b").build();
        ReplayResult r = ReplayResult.newBuilder(result("c##[warning]w", "GET /x##[error]r", Verdict.FAIL, 5, body))
                .setNotes(List.of("note ##[error]n")).build();
        RunResults rr = new RunResults(List.of(r));
        RunReport report = new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);

        String text = TextReport.render(report);
        assertTrue(text.contains(
                "    CHANGED body ##\\u005badd-mask]p: ok ##\\u005berror]forged -> ##\\u005bset-output name=a]b\n"), text);
        for (String rendered : List.of(text, JUnitReport.render(report), HtmlReport.render(report))) {
            assertFalse(rendered.contains("##["), rendered);
        }
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(JUnitReport.render(report).getBytes(StandardCharsets.UTF_8)));
        assertTrue(((Element) doc.getElementsByTagName("failure").item(0)).getAttribute("message")
                .contains("ok ##\\u005berror]forged"));
    }

    @Test
    void junitAndHtmlStayWellFormedWithCapturedControlCharacters() throws Exception {
        RunReport report = hostileCase();
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(JUnitReport.render(report).getBytes(StandardCharsets.UTF_8)));
        Element failure = (Element) doc.getElementsByTagName("failure").item(0);
        assertTrue(failure.getAttribute("message").startsWith(
                "2 difference(s): CHANGED body: line1\\n::error::forged\\r\\nline3 -> ok\\u001b[1A\\u001b[2K; MISSING"),
                failure.getAttribute("message"));
        for (String line : failure.getTextContent().split("\n", -1)) {
            assertFalse(line.strip().startsWith("::"), () -> "a line of the failure starts a CI command: " + line);
        }
        assertEquals("GET /x\n::error::route", ((Element) failure.getParentNode()).getAttribute("classname"));
        String html = HtmlReport.render(report);
        // a page shows a body as it is, line breaks included; only what HTML cannot hold is left out
        assertTrue(html.contains("line1\n::error::forged\r\nline3"), html);
        assertFalse(html.chars().anyMatch(c -> c == 0x1b), html);
    }

    /** A case with 1,200 differences of which its result lists the first 200, as CaseReplayer caps them. */
    private static RunReport cappedCase(Integer differenceCount) {
        Difference[] listed = new Difference[200];
        for (int i = 0; i < listed.length; i++) {
            listed[i] = Difference.newBuilder().setPath("$.items[" + i + "]").setKind(DifferenceKind.EXTRA)
                    .setExpected(null).setActual("\"x\"").build();
        }
        ReplayResult r = ReplayResult.newBuilder(result("big", "GET /items", Verdict.FAIL, 5, listed))
                .setDifferenceCount(differenceCount)
                .setNotes(List.of("1,000 more difference(s) not listed: a result lists the first 200")).build();
        RunResults rr = new RunResults(List.of(r));
        return new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);
    }

    @Test
    void aCaseWithMoreDifferencesThanListedIsCountedInFullInEveryReport() throws Exception {
        RunReport report = cappedCase(1200);
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(JUnitReport.render(report).getBytes(StandardCharsets.UTF_8)));
        String message = ((Element) doc.getElementsByTagName("failure").item(0)).getAttribute("message");
        assertTrue(message.startsWith("1200 difference(s) (first 200 listed): EXTRA $.items[0]"), message);
        String text = TextReport.render(report);
        assertTrue(text.contains("\n    1200 difference(s) (first 200 listed)\n"), text);
        assertTrue(HtmlReport.render(report).contains("<div>1200 difference(s) (first 200 listed)</div>"));
    }

    @Test
    void aResultWithoutADifferenceCountIsCountedByItsList() throws Exception {
        // written by a worker from before the count existed
        RunReport report = cappedCase(null);
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(JUnitReport.render(report).getBytes(StandardCharsets.UTF_8)));
        String message = ((Element) doc.getElementsByTagName("failure").item(0)).getAttribute("message");
        assertTrue(message.startsWith("200 difference(s): EXTRA $.items[0]"), message);
        assertFalse(TextReport.render(report).contains("listed)"));
        assertFalse(HtmlReport.render(report).contains("listed)"));
    }

    private static ReplayResult sample(String signature, int slot, Verdict v, long hits) {
        Difference status = Difference.newBuilder().setPath("status").setKind(DifferenceKind.CHANGED)
                .setExpected("201").setActual("200").build();
        return ReplayResult.newBuilder(v == Verdict.FAIL
                        ? result(signature + "-" + slot, "GET /items/{id}", v, hits, status)
                        : result(signature + "-" + slot, "GET /items/{id}", v, hits))
                .setSignatureId(signature).build();
    }

    /** 3 samples of a signature with 100 hits (one failing) and one signature with 300 hits: 100 of 400 requests. */
    private static RunReport threeSamplesOfOneSignature() {
        RunResults rr = new RunResults(List.of(
                sample("s1", 0, Verdict.PASS, 100),
                sample("s1", 1, Verdict.FAIL, 100),
                sample("s1", 2, Verdict.PASS, 100),
                sample("s2", 0, Verdict.PASS, 300)));
        return new RunReport("r1", "http://c", rr.summary(1500), rr.results(), true);
    }

    @Test
    void signatureTrafficCountsOnceAndFailsWhenAnyOfItsSamplesFails() {
        RunSummary s = threeSamplesOfOneSignature().summary();
        assertEquals(4, s.getTotal());
        assertEquals(1, s.getFailed());
        assertEquals(400, s.getTrafficWeight());
        assertEquals(100, s.getFailedTrafficWeight());
        assertEquals(0.25, s.getFailedTrafficShare(), 1e-12);
    }

    @Test
    void signatureTrafficTakesTheLargestHitCountAmongItsSamples() {
        // samples of one signature written at different times carry the hit count of their time
        RunSummary s = new RunResults(List.of(
                sample("s1", 0, Verdict.PASS, 80),
                sample("s1", 1, Verdict.FAIL, 100),
                sample("s1", 2, Verdict.FAIL, 90),
                sample("s2", 0, Verdict.PASS, 300))).summary(0);
        assertEquals(400, s.getTrafficWeight());
        assertEquals(100, s.getFailedTrafficWeight());
    }

    @Test
    void everyReportAndTheGateUseTheSignatureWeights() throws Exception {
        RunReport r = threeSamplesOfOneSignature();
        String text = TextReport.render(r);
        assertTrue(text.contains("failed share of production traffic: 25.0% (100 of 400 requests)"), text);
        String html = HtmlReport.render(r);
        assertTrue(html.contains("<td>25.0%</td><td>100 of 400</td>"), html);
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(JUnitReport.render(r).getBytes(StandardCharsets.UTF_8)));
        NodeList props = doc.getElementsByTagName("property");
        for (int i = 0; i < props.getLength(); i++) {
            Element p = (Element) props.item(i);
            switch (p.getAttribute("name")) {
                case "failedTrafficShare" -> assertEquals(0.25, Double.parseDouble(p.getAttribute("value")), 1e-9);
                case "failedTrafficWeight" -> assertEquals("100", p.getAttribute("value"));
                case "trafficWeight" -> assertEquals("400", p.getAttribute("value"));
                default -> { }
            }
        }
        assertNull(FailOn.parse("share:0.25", true).violation(r.summary()));
        assertTrue(FailOn.parse("share:0.2", true).violation(r.summary()).contains("100 of 400 requests"));
    }

    /**
     * One failed request in ten million is a share of 1e-7, 0.00001 %: written as a plain decimal, as --fail-on takes
     * it, never in scientific notation (before: {@code 1.0e-05%}).
     */
    @Test
    void aTinyFailedShareIsWrittenAsAPlainDecimalInTheTextAndHtmlReports() {
        RunResults rr = new RunResults(List.of(
                sample("s1", 0, Verdict.FAIL, 1),
                sample("s2", 0, Verdict.PASS, 9_999_999)));
        RunReport r = new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);
        String text = TextReport.render(r);
        assertTrue(text.contains("failed share of production traffic: 0.000010% (1 of 10000000 requests)"), text);
        assertTrue(HtmlReport.render(r).contains("<td>0.000010%</td><td>1 of 10000000</td>"));
        assertEquals("0.00015%", TextReport.percent(1.5e-6));
        assertEquals("0.030%", TextReport.percent(3e-4));
        assertEquals("0.10%", TextReport.percent(0.00099996));
        assertEquals("25.0%", TextReport.percent(0.25));
        assertEquals("0.0%", TextReport.percent(0));
    }

    @Test
    void resultsWithoutASignatureIdCountAsTheirOwnSignature() {
        RunSummary s = new RunResults(List.of(
                ReplayResult.newBuilder(sample("x", 0, Verdict.FAIL, 10)).setSignatureId("").build(),
                ReplayResult.newBuilder(sample("x", 1, Verdict.PASS, 30)).setSignatureId("").build())).summary(0);
        assertEquals(40, s.getTrafficWeight());
        assertEquals(10, s.getFailedTrafficWeight());
    }

    /** How many rows of cases a page has under the heading of {@code route} (up to the next heading). */
    private static int rowsOf(String html, String route) {
        int start = html.indexOf("<h2><code>" + route + "</code>");
        int end = html.indexOf("<h2>", start + 1);
        String section = html.substring(start, end < 0 ? html.length() : end);
        return section.split("<tr><td class=\"path\">", -1).length - 1;
    }

    @Test
    void htmlShowsAtMostAHundredCasesPerRouteThoseThatDidNotPassFirstAndSaysHowManyMoreThereAre() {
        List<ReplayResult> results = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            // the failed cases sort last by id: a page cut in id order would show none of them
            Verdict v = i >= 990 ? Verdict.FAIL : i == 500 ? Verdict.ERROR : Verdict.PASS;
            results.add(result(String.format("c%04d", i), "GET /items/{id}", v, 10));
        }
        for (int i = 0; i < 150; i++) {
            results.add(result(String.format("o%04d", i), "POST /orders", Verdict.FAIL, 10));
        }
        results.add(result("h1", "GET /health", Verdict.PASS, 1));
        RunResults rr = new RunResults(results);
        String html = HtmlReport.render(new RunReport("r1", "http://c", rr.summary(0), rr.results(), true));

        assertTrue(html.contains("<h2><code>GET /items/{id}</code> (1000 cases, 11 not passed)</h2>"), html);
        assertEquals(100, rowsOf(html, "GET /items/{id}"));
        int firstPassed = html.indexOf(">c0000<");
        for (int i = 990; i < 1_000; i++) {
            int row = html.indexOf(String.format(">c%04d<", i));
            assertTrue(row > 0 && row < firstPassed, "failed case c" + i + " shown before the passed ones");
        }
        assertTrue(html.indexOf(">c0500<") < firstPassed, "the errored case shown before the passed ones");
        assertTrue(html.contains(">c0088<") && !html.contains(">c0089<"), "89 passed cases fill the route's 100 rows");
        assertTrue(html.contains("<p class=\"more\">900 more case(s) of this route not shown, all passed: the JUnit"
                + " report lists every case, the text report every case that did not pass.</p>"), html);

        assertEquals(100, rowsOf(html, "POST /orders"));
        assertTrue(html.contains("<p class=\"more\">50 more case(s) of this route not shown, 50 of them not passed: the"
                + " JUnit report lists every case, the text report every case that did not pass.</p>"), html);
        assertEquals(1, rowsOf(html, "GET /health"));
        assertEquals(2, html.split("class=\"more\"", -1).length - 1, "no line under a route shown whole");
        assertTrue(html.endsWith("</body></html>\n"));
    }

    /** Whether every character of {@code s} is one XML 1.0 can hold (its production Char). */
    private static boolean onlyXmlChars(String s) {
        return s.codePoints().allMatch(c -> c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF)
                || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF));
    }

    @Test
    void everyReportShowsLoneSurrogatesAsCodesAndKeepsPairedOnes() throws Exception {
        String emoji = new String(Character.toChars(0x1F600));
        String lone = "a" + (char) 0xD800 + "b" + (char) 0xDC00 + "c" + emoji.charAt(1) + emoji.charAt(0) + "d";
        String shown = "a\\ud800b\\udc00c\\ude00\\ud83dd";
        Difference d = Difference.newBuilder().setPath("$.s" + (char) 0xDBFF).setKind(DifferenceKind.CHANGED)
                .setExpected(lone).setActual("ok " + emoji).build();
        ReplayResult r = ReplayResult.newBuilder(result("case" + (char) 0xDFFF, "GET /x", Verdict.FAIL, 1, d))
                .setNotes(List.of("note " + (char) 0xD83D)).build();
        RunResults rr = new RunResults(List.of(r));
        RunReport report = new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);
        String xml = JUnitReport.render(report);
        assertTrue(onlyXmlChars(xml), xml);
        Document doc = parse(xml);
        Element failure = (Element) doc.getElementsByTagName("failure").item(0);
        assertTrue(failure.getAttribute("message").contains("CHANGED $.s\\udbff: " + shown + " -> ok " + emoji),
                failure.getAttribute("message"));
        assertTrue(failure.getTextContent().contains("note: note \\ud83d\n"), failure.getTextContent());
        assertEquals("GET /x [case\\udfff]", ((Element) failure.getParentNode()).getAttribute("name"));
        String html = HtmlReport.render(report);
        assertTrue(onlyXmlChars(html), html);
        assertTrue(html.contains(">" + shown + "<") && html.contains("ok " + emoji), html);
        String text = TextReport.render(report);
        assertTrue(text.contains("case case\\udfff  (signature sig-case\\udfff,"), text);
        assertTrue(text.contains("    CHANGED $.s\\udbff: " + shown + " -> ok " + emoji + "\n"), text);
    }

    @Test
    void junitAndHtmlShowCharactersXmlCannotHoldAsCodesSoThatValuesDifferingInThemReadDifferently() throws Exception {
        Difference body = Difference.newBuilder().setPath("body").setKind(DifferenceKind.CHANGED)
                .setExpected("ab").setActual("a" + (char) 0 + "b" + (char) 0xFFFE).build();
        List<ReplayResult> results = List.of(
                result("c1", "GET /x" + (char) 0xFFFF, Verdict.FAIL, 1, body),
                result("c1" + (char) 0x1B, "GET /x" + (char) 0xFFFF, Verdict.PASS, 1));
        RunResults rr = new RunResults(results);
        RunReport report = new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);
        String html = HtmlReport.render(report);
        assertTrue(onlyXmlChars(html), html);
        assertTrue(html.contains("<td class=\"exp\">ab</td><td class=\"act\">a\\u0000b\\ufffe</td>"), html);
        assertTrue(html.contains("<h2><code>GET /x\\uffff</code>"), html);
        assertTrue(html.contains(">c1<") && html.contains(">c1\\u001b<"), html);
        String xml = JUnitReport.render(report);
        assertTrue(onlyXmlChars(xml), xml);
        NodeList cases = parse(xml).getElementsByTagName("testcase");
        assertEquals(2, cases.getLength());
        Element first = (Element) cases.item(0);
        Element second = (Element) cases.item(1);
        assertEquals("GET /x\\uffff", first.getAttribute("classname"));
        assertEquals("GET /x\\uffff [c1]", first.getAttribute("name"));
        assertEquals("GET /x\\uffff [c1\\u001b]", second.getAttribute("name"));
        assertNotEquals(first.getAttribute("name"), second.getAttribute("name"));
    }

    @Test
    void everyReportShowsBidirectionalOverridesAndIsolatesAsCodes() throws Exception {
        // a right-to-left override shows 21 as 12, and in a heading reverses the counts after the route
        Difference n = Difference.newBuilder().setPath("$.n").setKind(DifferenceKind.CHANGED)
                .setExpected((char) 0x202E + "21").setActual("12").build();
        ReplayResult r = ReplayResult.newBuilder(result("c1", "GET /" + (char) 0x202E + "fdp.x", Verdict.FAIL, 1, n))
                .setNotes(List.of("note " + (char) 0x2067 + "a" + (char) 0x2069 + (char) 0x202A)).build();
        RunResults rr = new RunResults(List.of(r));
        RunReport report = new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);
        String route = "GET /\\u202efdp.x";
        String text = TextReport.render(report);
        String html = HtmlReport.render(report);
        String xml = JUnitReport.render(report);
        for (String rendered : List.of(text, html, xml)) {
            assertFalse(rendered.chars().anyMatch(c -> (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069)), rendered);
        }
        assertTrue(text.contains("FAIL  " + route + "  case c1"), text);
        assertTrue(text.contains("    note: note \\u2067a\\u2069\\u202a\n"), text);
        assertTrue(text.contains("    CHANGED $.n: \\u202e21 -> 12\n"), text);
        assertTrue(html.contains("<h2><code>" + route + "</code> (1 cases, 1 not passed)</h2>"), html);
        assertTrue(html.contains("<td class=\"exp\">\\u202e21</td><td class=\"act\">12</td>"), html);
        Element failure = (Element) parse(xml).getElementsByTagName("failure").item(0);
        assertEquals(route.replace('.', '\u2024'), ((Element) failure.getParentNode()).getAttribute("classname"));
        assertTrue(failure.getAttribute("message").endsWith("CHANGED $.n: \\u202e21 -> 12"), failure.getAttribute("message"));
    }

    /**
     * The invisible bidirectional marks (U+200E, U+200F, U+061C) are of Unicode's Bidi_Control characters, as the
     * overrides and isolates are: a right-to-left mark before an expected {@code 21} shows {@code CHANGED $.n: 21 -> 12}
     * as {@code CHANGED $.n: 12 <- 21}, with nothing seen that says why. Every report shows them as codes; before, they
     * reached the console, the page and the CI system's view as they were.
     */
    @Test
    void everyReportShowsBidirectionalMarksAsCodes() throws Exception {
        Difference n = Difference.newBuilder().setPath("$.n").setKind(DifferenceKind.CHANGED)
                .setExpected((char) 0x200F + "21").setActual("12" + (char) 0x200E).build();
        ReplayResult r = ReplayResult.newBuilder(result("c" + (char) 0x061C, "GET /n", Verdict.FAIL, 1, n))
                .setNotes(List.of("note " + (char) 0x200F)).build();
        RunResults rr = new RunResults(List.of(r));
        RunReport report = new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);
        String text = TextReport.render(report);
        String html = HtmlReport.render(report);
        String xml = JUnitReport.render(report);
        for (String rendered : List.of(text, html, xml)) {
            assertFalse(rendered.chars().anyMatch(c -> c == 0x200E || c == 0x200F || c == 0x061C), rendered);
        }
        assertTrue(text.contains("FAIL  GET /n  case c\\u061c  (signature"), text);
        assertTrue(text.contains("    CHANGED $.n: \\u200f21 -> 12\\u200e\n"), text);
        assertTrue(text.contains("    note: note \\u200f\n"), text);
        assertTrue(html.contains("<td class=\"exp\">\\u200f21</td><td class=\"act\">12\\u200e</td>"), html);
        Element failure = (Element) parse(xml).getElementsByTagName("failure").item(0);
        assertEquals("GET /n [c\\u061c]", ((Element) failure.getParentNode()).getAttribute("name"));
        assertTrue(failure.getAttribute("message").endsWith("CHANGED $.n: \\u200f21 -> 12\\u200e"), failure.getAttribute("message"));
    }

    /**
     * Characters drawn as nothing (zero-width space, non-joiner and joiner, word joiner, byte order mark, soft hyphen,
     * Mongolian vowel separator, Hangul filler, the tag characters) are shown as codes in every report, as the
     * bidirectional marks are: a value {@code ab} changed to {@code a}, U+200B, {@code b} reads {@code ab -> a}, the
     * code of U+200B, {@code b}, not {@code ab -> ab}. A joiner inside an emoji sequence is shown so too; a
     * variation selector (U+FE0F, in most emoji) is kept. Before, all of them reached the console, the page and the CI
     * system's view as they were.
     */
    @Test
    void everyReportShowsInvisibleCharactersAsCodesSoThatValuesDifferingInThemReadDifferently() throws Exception {
        String tagA = new String(Character.toChars(0xE0041));
        String family = new String(Character.toChars(0x1F468)) + (char) 0x200D + new String(Character.toChars(0x1F469));
        String heart = "" + (char) 0x2764 + (char) 0xFE0F;
        Difference n = Difference.newBuilder().setPath("$.n" + (char) 0x2060).setKind(DifferenceKind.CHANGED)
                .setExpected("ab").setActual("a" + (char) 0x200B + "b" + (char) 0x00AD).build();
        Difference emoji = Difference.newBuilder().setPath("$.e").setKind(DifferenceKind.CHANGED)
                .setExpected(family + heart).setActual((char) 0xFEFF + "x" + tagA + (char) 0x180E).build();
        ReplayResult r = ReplayResult.newBuilder(result("c" + (char) 0x200C, "GET /" + (char) 0x3164 + "z", Verdict.FAIL, 1, n, emoji))
                .setNotes(List.of("note " + (char) 0x200D)).build();
        RunResults rr = new RunResults(List.of(r));
        RunReport report = new RunReport("r1", "http://c", rr.summary(0), rr.results(), true);
        String text = TextReport.render(report);
        String html = HtmlReport.render(report);
        String xml = JUnitReport.render(report);
        for (String rendered : List.of(text, html, xml)) {
            assertFalse(rendered.codePoints().anyMatch(c -> (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF
                    || c == 0x00AD || c == 0x180E || c == 0x3164 || c == 0xE0041), rendered);
            assertTrue(rendered.contains(heart), "a variation selector is kept: " + rendered);
        }
        String route = "GET /\\u3164z";
        String shownFamily = new String(Character.toChars(0x1F468)) + "\\u200d" + new String(Character.toChars(0x1F469));
        assertTrue(text.contains("FAIL  " + route + "  case c\\u200c  (signature sig-c\\u200c,"), text);
        assertTrue(text.contains("    CHANGED $.n\\u2060: ab -> a\\u200bb\\u00ad\n"), text);
        assertTrue(text.contains("    CHANGED $.e: " + shownFamily + heart + " -> \\ufeffx\\udb40\\udc41\\u180e\n"), text);
        assertTrue(text.contains("    note: note \\u200d\n"), text);
        assertTrue(html.contains("<h2><code>" + route + "</code>"), html);
        assertTrue(html.contains(">c\\u200c<"), html);
        assertTrue(html.contains("<td class=\"exp\">ab</td><td class=\"act\">a\\u200bb\\u00ad</td>"), html);
        assertTrue(html.contains("<td class=\"exp\">" + shownFamily + heart + "</td><td class=\"act\">\\ufeffx\\udb40\\udc41\\u180e</td>"),
                html);
        assertTrue(html.contains("<div>note: note \\u200d</div>"), html);
        Element failure = (Element) parse(xml).getElementsByTagName("failure").item(0);
        assertEquals("GET /\\u3164z [c\\u200c]", ((Element) failure.getParentNode()).getAttribute("name"));
        assertEquals(route, ((Element) failure.getParentNode()).getAttribute("classname"));
        assertTrue(failure.getAttribute("message").contains("CHANGED $.n\\u2060: ab -> a\\u200bb\\u00ad; CHANGED $.e: "
                + shownFamily + heart + " -> \\ufeffx\\udb40\\udc41\\u180e"), failure.getAttribute("message"));
        assertTrue(failure.getTextContent().contains("note: note \\u200d\n"), failure.getTextContent());
    }

    /**
     * The run id is shown on one line as captured text is in the text report: {@code --run} refuses one with anything
     * but A-Z a-z 0-9 . _ -, yet a report renders whatever run it is given. Before, the text report's heading wrote it
     * as it was (an escape sequence to the terminal, a line break that split the heading), and the JUnit suite's name
     * and the page's title and heading, which showed its control characters as codes already, kept its line break.
     */
    @Test
    void everyReportShowsTheRunIdAsCapturedTextIsShown() throws Exception {
        String run = "pr-7\u001b[2K\n::error::forged\u202e<script>alert(1)</script>";
        String shown = "pr-7\\u001b[2K\\n::error::forged\\u202e<script>alert(1)</script>";
        RunResults rr = new RunResults(List.of(result("a", "GET /a", Verdict.PASS, 1)));
        RunReport report = new RunReport(run, "http://c", rr.summary(0), rr.results(), true);
        String text = TextReport.render(report);
        assertTrue(text.startsWith("Tapline replay run " + shown + "\ncandidate: http://c\n"), text);
        String html = HtmlReport.render(report);
        String xml = JUnitReport.render(report);
        for (String rendered : List.of(text, html, xml)) {
            assertFalse(rendered.chars().anyMatch(c -> c == 0x1b || c == 0x202e), rendered);
        }
        String escaped = shown.replace("<", "&lt;").replace(">", "&gt;");
        assertTrue(html.contains("<title>Tapline run " + escaped + "</title>"), html);
        assertTrue(html.contains("<h1>Tapline replay run " + escaped + "</h1>"), html);
        assertEquals(shown, property(parse(xml), "run"));
    }

    /**
     * The JUnit names a CI system tracks a case by do not change from run to run: GitLab keys each case by its suite's
     * name, classname and name (a failure is "new", "existing" or "fixed" by that key, and a case's recent failures are
     * counted by it), Jenkins by classname and name. Before, the suite was named {@code tapline replay RUN}, and CI
     * derives the run id from the commit: every failure of every pipeline read as new, and no case had a history. The
     * run id is a property of the suite.
     */
    @Test
    void junitNamesACaseAlikeInEveryRunAndTheRunIdIsAProperty() throws Exception {
        RunResults rr = new RunResults(List.of(result("a", "GET /items/{id}", Verdict.FAIL, 10)));
        List<List<String>> keys = new ArrayList<>();
        List<String> runs = new ArrayList<>();
        for (String run : List.of("3f2a9c1", "8be53811")) {
            Document doc = parse(JUnitReport.render(new RunReport(run, "http://c", rr.summary(0), rr.results(), true)));
            Element suite = (Element) doc.getElementsByTagName("testsuite").item(0);
            Element testcase = (Element) doc.getElementsByTagName("testcase").item(0);
            keys.add(List.of(((Element) doc.getDocumentElement()).getAttribute("name"), suite.getAttribute("name"),
                    testcase.getAttribute("classname"), testcase.getAttribute("name")));
            runs.add(property(doc, "run"));
        }
        assertEquals(keys.get(0), keys.get(1));
        assertEquals(List.of("tapline", "tapline replay", "GET /items/{id}", "GET /items/{id} [a]"), keys.get(0));
        assertEquals(List.of("3f2a9c1", "8be53811"), runs);
    }

    /**
     * Jenkins' JUnit plugin splits a testcase's classname at its last dot into a package and a class, and files a
     * classname without one as a class of the package {@code (root)}. A route's dots are written as U+2024 ONE DOT
     * LEADER in the classname, so every route is one class of {@code (root)} whatever it holds, and the classname still
     * reads as the route (GitLab shows it as it is); the name keeps the route as it is, and both are the same in every
     * run. Before, the classname was the route: {@code GET /v1.2/items} was class {@code 2/items} of a package
     * {@code GET /v1}, and {@code GET /files/{name}.json} class {@code json} of a package {@code GET /files/{name}}.
     */
    @Test
    void junitClassnamesGroupEachRouteAsOneClassForJenkinsAndReadAsTheRoute() throws Exception {
        String leader = String.valueOf((char) 0x2024);
        List<ReplayResult> results = List.of(
                result("c1", "GET /v1.2/items", Verdict.FAIL, 10),
                result("c2", "GET /v1.2/items", Verdict.PASS, 10),
                result("c3", "GET /files/{name}.json", Verdict.FAIL, 5),
                result("c4", "GET /items/{id}", Verdict.PASS, 5),
                result("c5", "GET /v1" + leader + "2/items", Verdict.PASS, 1));
        RunResults rr = new RunResults(results);
        Map<String, List<String>> keysByRun = new java.util.LinkedHashMap<>();
        for (String run : List.of("3f2a9c1", "8be53811")) {
            NodeList cases = parse(JUnitReport.render(new RunReport(run, "http://c", rr.summary(0), rr.results(), true)))
                    .getElementsByTagName("testcase");
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < cases.getLength(); i++) {
                Element c = (Element) cases.item(i);
                keys.add(c.getAttribute("classname") + " | " + c.getAttribute("name"));
            }
            keysByRun.put(run, keys);
        }
        List<String> keys = keysByRun.get("3f2a9c1");
        assertEquals(keys, keysByRun.get("8be53811"), "a case's classname and name are the same in every run");
        assertEquals(List.of(
                "GET /files/{name}" + leader + "json | GET /files/{name}.json [c3]",
                "GET /items/{id} | GET /items/{id} [c4]",
                "GET /v1" + leader + "2/items | GET /v1.2/items [c1]",
                "GET /v1" + leader + "2/items | GET /v1.2/items [c2]",
                "GET /v1\\u20242/items | GET /v1" + leader + "2/items [c5]"), keys);
        // as Jenkins files them: package before the classname's last dot, "(root)" without one; class after it
        Map<String, Set<String>> classesByPackage = new java.util.TreeMap<>();
        for (String key : keys) {
            String classname = key.substring(0, key.indexOf(" | "));
            int dot = classname.lastIndexOf('.');
            classesByPackage.computeIfAbsent(dot < 0 ? "(root)" : classname.substring(0, dot), k -> new TreeSet<>())
                    .add(classname.substring(dot + 1));
        }
        assertEquals(Map.of("(root)", Set.of("GET /files/{name}" + leader + "json", "GET /items/{id}",
                "GET /v1" + leader + "2/items", "GET /v1\\u20242/items")), classesByPackage, "one class per route");
    }

    /** The value of the suite's property {@code name}, null when it has none. */
    private static String property(Document doc, String name) {
        NodeList props = doc.getElementsByTagName("property");
        for (int i = 0; i < props.getLength(); i++) {
            Element p = (Element) props.item(i);
            if (p.getAttribute("name").equals(name)) {
                return p.getAttribute("value");
            }
        }
        return null;
    }

    @Test
    void junitMessagesAreOneLineOfAtMostAThousandCharacters() throws Exception {
        // a dependency call's URL is not cut where the difference is recorded
        String url = "call:GET inventory /stock?q=" + "a".repeat(100_000);
        Difference call = Difference.newBuilder().setPath(url).setKind(DifferenceKind.UNUSED_CALL)
                .setExpected("x").setActual(null).build();
        String emoji = new String(Character.toChars(0x1F600));
        List<ReplayResult> results = List.of(
                result("a", "GET /a", Verdict.FAIL, 1, call),
                ReplayResult.newBuilder(result("b", "GET /b", Verdict.ERROR, 1))
                        .setError("refused\n::error::forged " + "x".repeat(5_000)).build(),
                ReplayResult.newBuilder(result("c", "GET /c", Verdict.SKIPPED, 1))
                        .setError("set aside\r\n::warning::w").build(),
                ReplayResult.newBuilder(result("d", "GET /d", Verdict.ERROR, 1))
                        .setError("e".repeat(JUnitReport.MAX_MESSAGE - 1) + emoji + "tail").build());
        RunResults rr = new RunResults(results);
        String xml = JUnitReport.render(new RunReport("r1", "http://c", rr.summary(0), rr.results(), true));
        assertTrue(onlyXmlChars(xml));
        Document doc = parse(xml);
        Element failure = (Element) doc.getElementsByTagName("failure").item(0);
        String message = failure.getAttribute("message");
        assertEquals(JUnitReport.MAX_MESSAGE + 3, message.length(), message);
        assertTrue(message.startsWith("1 difference(s): UNUSED_CALL call:GET inventory /stock?q=aaa") && message.endsWith("a..."));
        assertTrue(failure.getTextContent().contains(url + ": x -> (absent)\n"), "the failure's text lists it whole");
        Element refused = (Element) doc.getElementsByTagName("error").item(0);
        assertEquals("refused\\n::error::forged " + "x".repeat(JUnitReport.MAX_MESSAGE - 25) + "...",
                refused.getAttribute("message"));
        Element skipped = (Element) doc.getElementsByTagName("skipped").item(0);
        assertEquals("set aside\\r\\n::warning::w", skipped.getAttribute("message"));
        Element cutBeforePair = (Element) doc.getElementsByTagName("error").item(1);
        assertEquals("e".repeat(JUnitReport.MAX_MESSAGE - 1) + "...", cutBeforePair.getAttribute("message"));
    }

    @Test
    void aJunitMessageIsNotCutInsideAnEscape() throws Exception {
        int max = JUnitReport.MAX_MESSAGE;
        List<ReplayResult> results = List.of(
                // ESC shown as its six-character code from position max - 3: the cut falls inside it
                ReplayResult.newBuilder(result("a", "GET /a", Verdict.ERROR, 1))
                        .setError("e".repeat(max - 3) + "\u001b" + "tail").build(),
                // a line feed shown as two characters from position max - 1
                ReplayResult.newBuilder(result("b", "GET /b", Verdict.ERROR, 1))
                        .setError("f".repeat(max - 1) + "\n" + "tail").build(),
                // a code that ends exactly at the cut is kept whole
                ReplayResult.newBuilder(result("c", "GET /c", Verdict.ERROR, 1))
                        .setError("g".repeat(max - 6) + "\u001b" + "tail").build());
        RunResults rr = new RunResults(results);
        Document doc = parse(JUnitReport.render(new RunReport("r1", "http://c", rr.summary(0), rr.results(), true)));
        assertEquals("e".repeat(max - 3) + "...", ((Element) doc.getElementsByTagName("error").item(0)).getAttribute("message"));
        assertEquals("f".repeat(max - 1) + "...", ((Element) doc.getElementsByTagName("error").item(1)).getAttribute("message"));
        assertEquals("g".repeat(max - 6) + "\\u001b...",
                ((Element) doc.getElementsByTagName("error").item(2)).getAttribute("message"));
    }

    /** Captured text with what XML has to escape, cannot hold or could read as markup, and a character outside the BMP. */
    private static final String HOSTILE_XML = "<a b=\"c\" d='e'>&amp; ]]> <![CDATA[x]]> <!-- x --> \u0000\u0008\u000b\u001b[2J\r\n\t"
            + "\u007f\u0085\u2028\u202e21 \ud83d\ude00 \ud800 \udc00 \ufffe\uffff \u200b\u00ad\ufeff \udb40\udc41";

    /** Reports of every shape a run has: passed, failed, errored, skipped, empty, incomplete, hostile captured text. */
    private static List<RunReport> reportsOfEveryShape() {
        Difference price = Difference.newBuilder().setPath("$.price").setKind(DifferenceKind.CHANGED)
                .setExpected("10").setActual("12").build();
        Difference hostile = Difference.newBuilder().setPath("$." + HOSTILE_XML).setKind(DifferenceKind.CHANGED)
                .setExpected(HOSTILE_XML).setActual(null).build();
        List<List<ReplayResult>> runs = List.of(
                List.of(result("a", "GET /a", Verdict.PASS, 3)),
                List.of(result("b", "GET /b", Verdict.FAIL, 3, price, price)),
                List.of(ReplayResult.newBuilder(result("c", "POST /c", Verdict.ERROR, 3))
                        .setNotes(List.of("the request was sent again on a new connection")).build(),
                        result("c2", "POST /c", Verdict.ERROR, 3)),
                List.of(ReplayResult.newBuilder(result("d", "GET /d", Verdict.SKIPPED, 3, price))
                        .setError("inconclusive, not judged a regression").setNotes(List.of("served cut")).build(),
                        result("d2", "GET /d", Verdict.SKIPPED, 3)),
                List.of(),
                List.of(ReplayResult.newBuilder(result("h" + HOSTILE_XML, "GET /" + HOSTILE_XML, Verdict.FAIL, 3, hostile))
                                .setNotes(List.of("note " + HOSTILE_XML)).build(),
                        ReplayResult.newBuilder(result("e" + HOSTILE_XML, "GET /" + HOSTILE_XML, Verdict.ERROR, 3))
                                .setError("error " + HOSTILE_XML).setNotes(List.of("note " + HOSTILE_XML)).build(),
                        ReplayResult.newBuilder(result("k" + HOSTILE_XML, "GET /" + HOSTILE_XML, Verdict.SKIPPED, 3, hostile))
                                .setError("skipped " + HOSTILE_XML).build(),
                        result("p" + HOSTILE_XML, "GET /" + HOSTILE_XML, Verdict.PASS, 3)));
        List<RunReport> reports = new ArrayList<>();
        for (List<ReplayResult> run : runs) {
            RunResults rr = new RunResults(run);
            reports.add(new RunReport("r1", "http://c", rr.summary(1_234_567), rr.results(), true));
        }
        RunResults partial = new RunResults(List.of(result("a", "GET /a", Verdict.PASS, 3)));
        reports.add(new RunReport("r1", "http://c", partial.summary(0), partial.results(), false));
        reports.add(new RunReport("r" + HOSTILE_XML, "http://c/" + HOSTILE_XML, partial.summary(0), partial.results(), true));
        return reports;
    }

    /**
     * Every shape of JUnit report keeps to what Jenkins' xUnit plugin (its junit-10 schema) and Maven Surefire's report
     * schema allow, as junit-report-rules.xsd sets out: the whole file, and its testsuite alone, as a reader of Surefire's
     * files takes it. Before, the root testsuites carried a skipped attribute, which junit-10 does not allow: the xUnit
     * plugin refuses such a file as not valid and skips it.
     */
    @Test
    void junitReportsOfEveryShapeFollowTheSchemasCiSystemsValidateThemAgainst() throws Exception {
        Schema schema;
        try (var xsd = ReportsTest.class.getResourceAsStream("/junit-report-rules.xsd")) {
            schema = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI).newSchema(new StreamSource(xsd));
        }
        for (RunReport report : reportsOfEveryShape()) {
            String xml = JUnitReport.render(report);
            Document doc = parse(xml);
            Element suite = (Element) doc.getElementsByTagName("testsuite").item(0);
            Document suiteAlone = DocumentBuilderFactory.newInstance().newDocumentBuilder().newDocument();
            suiteAlone.appendChild(suiteAlone.importNode(suite, true));
            for (Document d : List.of(doc, suiteAlone)) {
                try {
                    schema.newValidator().validate(new DOMSource(d));
                } catch (SAXException e) {
                    throw new AssertionError(e.getMessage() + "\n" + xml, e);
                }
            }
            assertEquals(report.results().size(), suite.getElementsByTagName("testcase").getLength());
            assertEquals(String.valueOf(report.summary().getSkipped()), suite.getAttribute("skipped"));
        }
    }

    /** {@code xml} parsed as a CI system would, without a doctype or external entities. */
    private static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setExpandEntityReferences(false);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    /** Markup and script in every field a report shows that comes from captured traffic or from the candidate. */
    private static final String[] MARKUP = {
        "<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>", "'><svg onload=alert(3)>", "</style><b>x</b>",
        "</td></tr></table><iframe src=javascript:alert(4)>", "<!-- ]]> -->", "`${alert(5)}`", "&lt;&amp;",
    };

    private static RunReport markupCase() {
        List<ReplayResult> results = new ArrayList<>();
        for (int i = 0; i < MARKUP.length; i++) {
            String m = MARKUP[i];
            Difference d = Difference.newBuilder().setPath("$." + m).setKind(DifferenceKind.CHANGED)
                    .setExpected(m).setActual("x" + m).build();
            Verdict v = Verdict.values()[i % Verdict.values().length];
            ReplayResult r = ReplayResult.newBuilder(result("case" + m, "GET /" + m, v, 1, d))
                    .setError(v == Verdict.PASS ? null : "error " + m).setNotes(List.of("note " + m))
                    .setCandidate("http://c/" + m).build();
            results.add(r);
        }
        RunResults rr = new RunResults(results);
        return new RunReport("r1", "http://c/" + MARKUP[1], rr.summary(0), rr.results(), true);
    }

    @Test
    void htmlTurnsNoCapturedTextIntoMarkup() {
        String html = HtmlReport.render(markupCase());
        Set<String> tags = new TreeSet<>();
        Matcher m = Pattern.compile("<(/?[A-Za-z!][^\\s>/]*)").matcher(html);
        while (m.find()) {
            tags.add(m.group(1).toLowerCase(Locale.ROOT));
        }
        Set<String> page = Set.of("!doctype", "html", "/html", "head", "/head", "meta", "title", "/title", "style",
                "/style", "body", "/body", "h1", "/h1", "h2", "/h2", "p", "/p", "strong", "/strong", "code", "/code", "table",
                "/table", "tr", "/tr", "th", "/th", "td", "/td", "div", "/div");
        assertTrue(page.containsAll(tags), () -> "tags not of the page: " + tags + "\n" + html);
        assertEquals(1, html.split("</style>", -1).length - 1, html);
        assertFalse(html.contains("<!--"), html);
        for (String markup : MARKUP) {
            assertTrue(html.contains(Xml.text(markup)), markup);
        }
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), html);
        assertTrue(html.contains("&amp;lt;&amp;amp;"), html);
    }

    /**
     * A value without a place to break (a dependency call's URL with its query, a token, a base64 body) is broken inside
     * its cell wherever it must be: the cells of expected and actual values and of a difference's path may wrap anywhere,
     * which also lets a table be narrower than such a value. Before, one URL of 300 characters made every table of the page wider than the window, and the
     * expected and actual values were out of sight, to the right (seen in a headless Chromium screenshot).
     */
    @Test
    void htmlBreaksValuesWithoutABreakInsideTheirCells() {
        String html = HtmlReport.render(report());
        String style = html.substring(html.indexOf("<style>") + "<style>".length(), html.indexOf("</style>"));
        // the expected and actual values and a difference's path; not the case id, verdict and kind, which read whole
        Matcher cells = Pattern.compile("(?m)^\\.exp,\\.act,td td\\.path\\{([^}]*)}").matcher(style);
        assertTrue(cells.find(), style);
        assertTrue(List.of(cells.group(1).split(";")).contains("overflow-wrap:anywhere"), style);
        assertTrue(html.contains("<td class=\"path\">$.price</td><td class=\"exp\">"), html);
    }

    @Test
    void htmlAllowsOnlyItsOwnStyleSheetThroughAContentSecurityPolicy() throws Exception {
        String html = HtmlReport.render(markupCase());
        String head = html.substring(0, html.indexOf("<title>"));
        Matcher csp = Pattern.compile("<meta http-equiv=\"Content-Security-Policy\" content=\"([^\"]*)\">").matcher(head);
        assertTrue(csp.find(), head);
        List<String> directives = List.of(csp.group(1).split(";\\s*"));
        String css = html.substring(html.indexOf("<style>") + "<style>".length(), html.indexOf("</style>"));
        String hash = Base64.getEncoder().encodeToString(
                MessageDigest.getInstance("SHA-256").digest(css.getBytes(StandardCharsets.UTF_8)));
        assertTrue(directives.contains("default-src 'none'"), csp.group(1));
        assertTrue(directives.contains("style-src 'sha256-" + hash + "'"), csp.group(1) + " for " + hash);
        assertTrue(directives.contains("base-uri 'none'") && directives.contains("form-action 'none'"), csp.group(1));
        assertFalse(csp.group(1).contains("unsafe") || csp.group(1).contains("script-src"), csp.group(1));
        assertFalse(html.contains(" style="), "a style attribute the policy refuses");
    }

    @Test
    void junitHoldsCapturedMarkupAsTextAndCountsItsTestcases() throws Exception {
        RunReport report = markupCase();
        Document doc = parse(JUnitReport.render(report));
        NodeList cases = doc.getElementsByTagName("testcase");
        assertEquals(report.results().size(), cases.getLength());
        for (int i = 0; i < cases.getLength(); i++) {
            Element c = (Element) cases.item(i);
            ReplayResult r = report.results().get(i);
            assertEquals(r.getRoute().replace('.', '\u2024'), c.getAttribute("classname"));
            assertEquals(r.getRoute() + " [" + r.getCaseId() + "]", c.getAttribute("name"));
            switch (r.getVerdict()) {
                case PASS -> assertEquals(0, c.getElementsByTagName("*").getLength());
                case FAIL -> {
                    Element f = (Element) c.getElementsByTagName("failure").item(0);
                    assertTrue(f.getAttribute("message").endsWith(TextReport.line(r.getDifferences().get(0))), f.getAttribute("message"));
                    assertTrue(f.getTextContent().contains("note: " + r.getNotes().get(0) + "\n"), f.getTextContent());
                }
                case ERROR -> assertEquals(r.getError(), ((Element) c.getElementsByTagName("error").item(0)).getAttribute("message"));
                case SKIPPED -> {
                    Element k = (Element) c.getElementsByTagName("skipped").item(0);
                    assertEquals(r.getError(), k.getAttribute("message"));
                    assertTrue(k.getTextContent().contains(TextReport.line(r.getDifferences().get(0)) + "\n"), k.getTextContent());
                }
            }
        }
        for (String suiteTag : new String[] {"testsuites", "testsuite"}) {
            Element suite = (Element) doc.getElementsByTagName(suiteTag).item(0);
            assertEquals(String.valueOf(cases.getLength()), suite.getAttribute("tests"));
            assertEquals(String.valueOf(doc.getElementsByTagName("failure").getLength()), suite.getAttribute("failures"));
            assertEquals(String.valueOf(doc.getElementsByTagName("error").getLength()), suite.getAttribute("errors"));
        }
        // the testsuite alone counts the skipped cases (junit-10 allows no skipped count on testsuites)
        assertEquals(String.valueOf(doc.getElementsByTagName("skipped").getLength()),
                ((Element) doc.getElementsByTagName("testsuite").item(0)).getAttribute("skipped"));
        assertFalse(doc.getDocumentElement().hasAttribute("skipped"));
        assertTrue(doc.getElementsByTagName("failure").getLength() > 0 && doc.getElementsByTagName("error").getLength() > 0
                && doc.getElementsByTagName("skipped").getLength() > 0);
        Element candidate = (Element) doc.getElementsByTagName("property").item(0);
        assertEquals("http://c/" + MARKUP[1], candidate.getAttribute("value"));
    }
}
