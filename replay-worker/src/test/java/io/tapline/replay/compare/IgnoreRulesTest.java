package io.tapline.replay.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.signature.RouteTemplates;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IgnoreRulesTest {

    /**
     * The route of a rule was checked for a space alone: a route dedup-stream writes no case with (a stray brace, a
     * wildcard, text beside a placeholder, a query) was taken and ignored nothing, silently. Each is refused in the words
     * of dedup-stream's refusal of such a template.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "GET /b/{y $.x| route template '/b/{y' has an unbalanced brace in segment '{y'",
            "GET /b/{} $.x| route template '/b/{}' has an empty placeholder '{}'",
            "GET /files/* $.x| route template '/files/*' has segment '*' holding '*'",
            "GET /files/{*} $.x| route template '/files/{*}' has placeholder '{*}', which is not a name",
            "GET /b/v{id} $.x| route template '/b/v{id}' has segment 'v{id}' that is not one placeholder alone",
            "GET /search?q=1 $.x| route template '/search?q=1' holds '?'",
            "GET /cart;v=2 $.x| route template '/cart;v=2' holds ';'",
            "GET /a b $.x| route template '/a b' holds a blank or control character",
            "GET owners $.x| route template 'owners' does not start with '/'",
    })
    void shouldRefuseARuleWhoseRouteTheRouteTemplatesWouldNotReadAsWritten(String rule, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IgnoreRules.parse(List.of("* header:x-build", rule)));
        assertTrue(e.getMessage().startsWith("ignore rule '" + rule + "': " + problem), e.getMessage());
    }

    @Test
    void shouldKeepMatchingTheRoutesDedupWritesIntoCases() {
        // the default rules write {id} once per id; dedup's own templates name their placeholders as they like
        String twoIds = "GET " + RouteTemplates.normalise("/owners/42/pets/7");
        IgnoreRules rules = IgnoreRules.parse(List.of(twoIds + " $.updatedAt", "POST /orders/{order-id}/lines/{line_no} $.at",
                "* header:x-build"));
        assertEquals("GET /owners/{id}/pets/{id}", twoIds);
        assertTrue(rules.ignores("shop", twoIds, "$.updatedAt"));
        assertTrue(rules.ignores("shop", "POST /orders/{order-id}/lines/{line_no}", "$.at"));
        assertTrue(rules.ignores("shop", "GET /", "header:x-build"));
        assertFalse(rules.ignores("shop", twoIds, "$.name"));
    }

    @Test
    void shouldNameARuleRouteAsDedupNamesACaseRoute() {
        // dedup-stream writes 'GET /products/{slug}' for its template '/products/{slug}/' and a request 'get ...':
        // a rule written with the template as configured, or a lower-case method, ignored nothing
        IgnoreRules rules = IgnoreRules.parse(List.of("GET /products/{slug}/ $.at", "get /owners/{id} $.ts", "GET //a//b $.x"));
        assertTrue(rules.ignores("shop", "GET /products/{slug}", "$.at"));
        assertTrue(rules.ignores("shop", "GET /owners/{id}", "$.ts"));
        assertTrue(rules.ignores("shop", "GET /a/b", "$.x"));
        assertTrue(IgnoreRules.parse(List.of("GET / $.x")).ignores("shop", "GET /", "$.x"));
    }
}
