package io.tapline.demo;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.MockUsage;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.Verdict;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VerdictsTest {

    private static final String TOKEN_A = "tapline:hmac:00112233aabbccdd";
    private static final String TOKEN_B = "tapline:hmac:ffeeddccbbaa9988";

    private static ReplayResult result(String signature, int slot, String route, Verdict verdict, long hits,
                                       List<Difference> differences) {
        return ReplayResult.newBuilder().setRunId("r").setCaseId(signature + "-" + slot).setSignatureId(signature)
                .setRoute(route).setCandidate("c").setVerdict(verdict).setDifferences(differences)
                .setMocks(MockUsage.newBuilder().build()).setTrafficWeight(hits).setCompletedAt(Instant.EPOCH).build();
    }

    private static Difference diff(String path, DifferenceKind kind) {
        return new Difference(path, kind, "a", "b");
    }

    @Test
    void aSignatureTrafficCountsOnceWhateverItsSampleCount() {
        List<ReplayResult> results = List.of(
                result("s1", 0, "GET /products/{id}", Verdict.FAIL, 100, List.of(diff("$.inStock", DifferenceKind.MISSING))),
                result("s1", 1, "GET /products/{id}", Verdict.PASS, 100, List.of()),
                result("s1", 2, "GET /products/{id}", Verdict.PASS, 100, List.of()),
                result("s2", 0, "POST /orders", Verdict.PASS, 300, List.of()));
        assertEquals(Map.of("GET /products/{id}", 0.25), Verdicts.failedShareByRoute(results));
    }

    @Test
    void plantedRegressionsAreFoundAndNothingElseMayFail() {
        List<ReplayResult> found = List.of(
                result("s1", 0, "GET /products/{id}", Verdict.FAIL, 10, List.of(diff("$.inStock", DifferenceKind.MISSING))),
                result("s2", 0, "POST /orders", Verdict.FAIL, 10, List.of(diff("status", DifferenceKind.STATUS),
                        diff("call:POST inventory /reserve $.qty", DifferenceKind.MISSING))),
                result("s3", 0, "GET /owners/{id}/orders", Verdict.FAIL, 10,
                        List.of(diff("call:GET inventory /loyalty/3", DifferenceKind.UNMATCHED_CALL),
                                new Difference("$.contact", DifferenceKind.CHANGED, "\"" + TOKEN_A + "\"", "\"" + TOKEN_B + "\""))),
                result("s4", 0, "GET /health", Verdict.PASS, 10, List.of()));
        assertEquals(List.of(), Verdicts.checkPlanted(found));

        // the contact judged without the key would show the candidate's plain email: not the planted signature, a leak
        List<ReplayResult> plainContact = List.of(found.get(0), found.get(1),
                result("s3", 0, "GET /owners/{id}/orders", Verdict.FAIL, 10,
                        List.of(diff("call:GET inventory /loyalty/3", DifferenceKind.UNMATCHED_CALL),
                                new Difference("$.contact", DifferenceKind.CHANGED, "\"" + TOKEN_A + "\"", "\"owner4@example.com\""))));
        List<String> leak = Verdicts.checkPlanted(plainContact);
        assertEquals(2, leak.size(), leak.toString());
        assertTrue(leak.get(0).contains("another owner's contact"), leak.toString());
        assertTrue(leak.get(1).startsWith("a plain email published"), leak.toString());

        List<ReplayResult> withFalseFailureAndNoise = List.of(found.get(0), found.get(1), found.get(2),
                result("s4", 0, "GET /health", Verdict.FAIL, 10, List.of(diff("body", DifferenceKind.BODY))),
                result("s5", 0, "GET /products/{id}", Verdict.FAIL, 10, List.of(diff("$.servedAt", DifferenceKind.CHANGED))));
        List<String> problems = Verdicts.checkPlanted(withFalseFailureAndNoise);
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("false FAIL on GET /health")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("noise reported") && p.contains("$.servedAt")), problems.toString());

        List<String> missing = Verdicts.checkPlanted(List.of(found.get(0), found.get(1)));
        assertTrue(missing.stream().anyMatch(p -> p.contains("extra outbound call")), missing.toString());

        List<ReplayResult> statusOnly = List.of(found.get(0), found.get(2),
                result("s2", 0, "POST /orders", Verdict.FAIL, 10, List.of(diff("status", DifferenceKind.STATUS))));
        List<String> bodyMissed = Verdicts.checkPlanted(statusOnly);
        assertEquals(1, bodyMissed.size(), bodyMissed.toString());
        assertTrue(bodyMissed.get(0).contains("qty sent as quantity"), bodyMissed.toString());
    }

    @Test
    void anyFailureInTheSameVersionRunIsAFalseFailureAndEveryRedactedValueMustBeJudged() {
        assertEquals(List.of(), Verdicts.checkAllPass(List.of(result("s1", 0, "GET /x", Verdict.PASS, 1, List.of()))));
        assertEquals(1, Verdicts.checkAllPass(List.of(result("s1", 0, "GET /x", Verdict.ERROR, 1, List.of()))).size());
        ReplayResult unjudged = result("s1", 0, "GET /x", Verdict.PASS, 1, List.of());
        unjudged.setNotes(List.of("1 response difference(s) not judged: the recorded value was redacted at capture ($.contact)"));
        List<String> problems = Verdicts.checkAllPass(List.of(unjudged));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("redacted value not judged on GET /x"), problems.toString());
    }
}
