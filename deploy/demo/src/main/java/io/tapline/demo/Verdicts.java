package io.tapline.demo;

import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.Verdict;
import io.tapline.redaction.RedactionTokens;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** What the demo expects of each run, checked against the results the workers published. */
final class Verdicts {

    /** A regression planted in v2, and how its difference must look. */
    record Planted(String route, String description, Predicate<Difference> signature) {
    }

    static final List<Planted> PLANTED = List.of(
            new Planted("GET /products/{id}", "JSON field inStock renamed to in_stock",
                    d -> d.getPath().contains("inStock") || d.getPath().contains("in_stock")),
            new Planted("POST /orders", "status 201 changed to 200",
                    d -> d.getKind() == DifferenceKind.STATUS),
            new Planted("POST /orders", "reservation field qty sent as quantity",
                    d -> d.getPath().equals("call:POST inventory /reserve $.qty") && d.getKind() == DifferenceKind.MISSING),
            new Planted("GET /owners/{id}/orders", "extra outbound call to inventory /loyalty",
                    d -> d.getKind() == DifferenceKind.UNMATCHED_CALL),
            new Planted("GET /owners/{id}/orders", "another owner's contact (a redacted email)",
                    d -> d.getPath().equals("$.contact") && d.getKind() == DifferenceKind.CHANGED
                            && RedactionTokens.in(d.getExpected()) && RedactionTokens.in(d.getActual())));

    /**
     * Fields that differ on every call, in responses and in what the shop sends inventory; learned as noise, they must
     * never be reported.
     */
    static final List<String> NOISY_FIELDS = List.of("requestId", "servedAt", "orderId", "createdAt", "generatedAt",
            "idempotencyKey");

    private Verdicts() {
    }

    /**
     * Problems with a run in which nothing may fail: every failure is a false failure, and every value redacted at
     * capture must have been judged (the replay has the sidecar's key).
     */
    static List<String> checkAllPass(Collection<ReplayResult> results) {
        List<String> problems = new ArrayList<>();
        for (ReplayResult result : results) {
            if (result.getVerdict() != Verdict.PASS) {
                problems.add("false " + result.getVerdict() + " on " + result.getRoute() + " (" + result.getCaseId() + "): "
                        + result.getDifferences() + (result.getError() == null ? "" : " " + result.getError()));
            }
            result.getNotes().stream().filter(n -> n.contains("not judged")).findFirst().ifPresent(n ->
                    problems.add("redacted value not judged on " + result.getRoute() + ": " + n));
        }
        return problems;
    }

    /** Problems with the v2 run: each planted regression found, nothing else failing, no noisy field reported. */
    static List<String> checkPlanted(Collection<ReplayResult> results) {
        List<String> problems = new ArrayList<>();
        for (Planted planted : PLANTED) {
            boolean found = results.stream().anyMatch(r -> r.getRoute().equals(planted.route())
                    && r.getVerdict() == Verdict.FAIL && r.getDifferences().stream().anyMatch(planted.signature()));
            if (!found) {
                problems.add("planted regression not found: " + planted.route() + " — " + planted.description());
            }
        }
        for (ReplayResult result : results) {
            boolean plantedRoute = PLANTED.stream().anyMatch(p -> p.route().equals(result.getRoute()));
            if (result.getVerdict() != Verdict.PASS && !plantedRoute) {
                problems.add("false " + result.getVerdict() + " on " + result.getRoute() + ": " + result.getDifferences()
                        + (result.getError() == null ? "" : " " + result.getError()));
            }
            for (Difference difference : result.getDifferences()) {
                if (NOISY_FIELDS.stream().anyMatch(f -> difference.getPath().contains(f))) {
                    problems.add("noise reported as a difference on " + result.getRoute() + ": " + difference.getPath());
                }
                if (plain(difference.getExpected()) || plain(difference.getActual())) {
                    problems.add("a plain email published in a difference on " + result.getRoute() + ": "
                            + difference.getPath());
                }
            }
        }
        return problems;
    }

    /** True when a published value holds one of the demo's emails in clear (the capture and the replay redact them). */
    private static boolean plain(String value) {
        return value != null && value.contains("@example.com");
    }

    /**
     * Share of production traffic whose behaviour regressed, per failing route. A signature's traffic counts once
     * (its cases are samples of it and each carries the signature's hits); it counts as failed when any case failed.
     */
    static Map<String, Double> failedShareByRoute(Collection<ReplayResult> results) {
        Map<String, Long> hitsBySignature = new TreeMap<>();
        Map<String, String> routeBySignature = new TreeMap<>();
        Map<String, Boolean> failedBySignature = new TreeMap<>();
        for (ReplayResult result : results) {
            hitsBySignature.merge(result.getSignatureId(), result.getTrafficWeight(), Math::max);
            routeBySignature.put(result.getSignatureId(), result.getRoute());
            failedBySignature.merge(result.getSignatureId(), result.getVerdict() == Verdict.FAIL, Boolean::logicalOr);
        }
        long total = hitsBySignature.values().stream().mapToLong(Long::longValue).sum();
        Map<String, Double> shares = new TreeMap<>();
        if (total == 0) {
            return shares;
        }
        failedBySignature.forEach((signature, failed) -> {
            if (failed) {
                shares.merge(routeBySignature.get(signature), (double) hitsBySignature.get(signature) / total, Double::sum);
            }
        });
        return shares;
    }
}
