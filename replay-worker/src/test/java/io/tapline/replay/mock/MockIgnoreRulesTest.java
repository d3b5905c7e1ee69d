package io.tapline.replay.mock;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MockIgnoreRulesTest {

    @Test
    void malformedRulesAreRefusedNamingTheRuleAndTheExpectedForm() {
        for (String rule : List.of(
                "idempotency_key",                        // no destination
                "payments idempotency_key",               // no part prefix
                "payments body:nonce",                    // not a JSON path
                "payments body:form:",                    // a form field without a name
                "payments body:",                         // nothing named
                "payments header:",                       // no header name
                "payments header:x request",              // not a header name
                "payments query:",                        // no name
                "payments query:key=abc",                 // a value, not a name
                "payments path:payments/{*}",             // not a path
                "payments path:/payments/{*}?x=1",        // a query in the path
                "payments path:/payments/42/confirm",     // no placeholder: ignores nothing
                "payments path:/payments/pay-{*}/confirm", // a placeholder inside a segment
                "http://payments query:key",              // a URL, not a dependency name
                "POST /payments/{*} query:key",           // the --ignore route syntax
                "payments body:$..nonce")) {              // JSONPath's any depth, not supported
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MockIgnoreRules.parse(List.of(rule)), rule);
            assertTrue(e.getMessage().startsWith("mock ignore rule '" + rule + "': "), e.getMessage());
            assertTrue(e.getMessage().endsWith(MockIgnoreRules.EXPECTED), e.getMessage());
        }
    }

    @Test
    void headerRulesIgnoreANamedHeaderOrEveryHeaderForTheirDestinationOnly() {
        MockIgnoreRules rules = MockIgnoreRules.parse(List.of("payments header:Idempotency-Key", "audit header:*"));
        MockIgnoreRules.Scope payments = rules.forDestination("payments");
        assertTrue(payments.ignoresHeader("idempotency-key"), "names are case-insensitive");
        assertFalse(payments.ignoresHeader("content-type"));
        assertTrue(rules.forDestination("audit").ignoresHeader("content-type"));
        assertFalse(rules.forDestination("inventory").ignoresHeader("idempotency-key"));
    }

    @Test
    void bodyRulesIgnoreAJsonPathAFormFieldOrTheWholeBodyForTheirDestinationOnly() {
        MockIgnoreRules rules = MockIgnoreRules.parse(List.of("payments body:$.nonce", "payments body:$.items[*].ts",
                "payments body:FORM:idempotency", "audit body:$"));
        MockIgnoreRules.Scope payments = rules.forDestination("payments");
        assertTrue(payments.hasBodyRules());
        assertTrue(payments.ignoresBody("$.nonce"));
        assertTrue(payments.ignoresBody("$.nonce.part"), "a pattern is a prefix");
        assertTrue(payments.ignoresBody("$.items[3].ts"));
        assertTrue(payments.ignoresBody("form:idempotency"));
        assertFalse(payments.ignoresBody("$.amount"));
        assertFalse(payments.ignoresBody("$.items[3].price"));
        assertFalse(payments.ignoresBody("body"), "only the whole-body rule ignores a whole-body difference");
        MockIgnoreRules.Scope audit = rules.forDestination("audit:8080");
        assertTrue(audit.ignoresBody("body"));
        assertTrue(audit.ignoresBody("$.anything"));
        assertTrue(audit.ignoresBody("form:x"));
        assertFalse(rules.forDestination("inventory").hasBodyRules());
        assertFalse(rules.forDestination("inventory").ignoresBody("$.nonce"));
    }

    @Test
    void blankRulesAreSkipped() {
        assertTrue(MockIgnoreRules.parse(List.of(" ", "")).isEmpty());
        assertFalse(MockIgnoreRules.parse(List.of("  payments   query:key ")).isEmpty());
    }

    @Test
    void aDestinationNamesARouteAHostOnAnyPortOrOneHostAndPort() {
        assertTrue(MockIgnoreRules.appliesTo("*", "anything:1234"));
        assertTrue(MockIgnoreRules.appliesTo("payments", "payments"));
        assertTrue(MockIgnoreRules.appliesTo("payments", "PAYMENTS"));
        assertTrue(MockIgnoreRules.appliesTo("api.local", "api.local:8080"));
        assertTrue(MockIgnoreRules.appliesTo("api.local:8080", "api.local:8080"));
        assertTrue(MockIgnoreRules.appliesTo("api.local:80", "api.local"));
        assertFalse(MockIgnoreRules.appliesTo("api.local:8080", "api.local:9090"));
        assertFalse(MockIgnoreRules.appliesTo("api.local:8080", "api.local"));
        assertFalse(MockIgnoreRules.appliesTo("api", "api.local:8080"));
        assertFalse(MockIgnoreRules.appliesTo("inventory", "payments"));
        assertTrue(MockIgnoreRules.appliesTo("[::1]", "[::1]:8080"));
    }
}
