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
                "payments body:$.nonce",                  // bodies are not compared, nothing to ignore
                "payments header:x-request-id",           // headers never count
                "payments query:",                        // no name
                "payments query:key=abc",                 // a value, not a name
                "payments path:payments/{*}",             // not a path
                "payments path:/payments/{*}?x=1",        // a query in the path
                "payments path:/payments/42/confirm",     // no placeholder: ignores nothing
                "payments path:/payments/pay-{*}/confirm", // a placeholder inside a segment
                "http://payments query:key",              // a URL, not a dependency name
                "POST /payments/{*} query:key")) {        // the --ignore route syntax
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MockIgnoreRules.parse(List.of(rule)), rule);
            assertTrue(e.getMessage().startsWith("mock ignore rule '" + rule + "': "), e.getMessage());
            assertTrue(e.getMessage().endsWith(MockIgnoreRules.EXPECTED), e.getMessage());
        }
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
