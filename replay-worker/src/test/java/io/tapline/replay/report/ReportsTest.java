package io.tapline.replay.report;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.MockUsage;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.Verdict;
import io.tapline.replay.run.RunResults;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportsTest {

    private static ReplayResult result(String caseId, String route, Verdict v, long weight, Difference... diffs) {
        return ReplayResult.newBuilder().setRunId("r1").setCaseId(caseId).setSignatureId("s").setRoute(route)
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
        assertTrue(text.contains("10.00%"));
    }
}
