package io.tapline.signature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouteTemplatesTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "/owners/42, /owners/{id}",
            "/owners/42/pets/7, /owners/{id}/pets/{id}",
            "/pets/3F2504E0-4F89-11D3-9A0C-0305E82C3301, /pets/{uuid}",
            "/reports/2024-05-01, /reports/{date}",
            "/reports/2024-05-01T10:15:30Z, /reports/{date}",
            "/users/jane.doe@example.com/orders, /users/{email}/orders",
            "/blobs/5d41402abc4b2a76b9719d911017c592, /blobs/{hex}",
            "/commits/1a2b3c4d, /commits/{hex}",
            "/sessions/dGhpc0lzQVRva2VuMTIz, /sessions/{token}",
            // redacted at capture: an email segment, a token of letters only
            "/users/tapline:hmac:cba36a5aed83a187/orders, /users/{token}/orders",
            "/users/tapline:hmac:abcdefabcdefabcd, /users/{token}",
            "/users/tapline:hmac:abc, /users/tapline:hmac:abc",
            "/api/v2/owners, /api/v2/owners",
            "/owners/, /owners",
            "//owners//42, /owners/{id}",
            "'', /",
            "/, /",
            "/owners/42?x=1, /owners/{id}",
    })
    void shouldNormaliseIdsToPlaceholders(String path, String expected) {
        assertEquals(expected, RouteTemplates.normalise(path));
    }

    @Test
    void shouldClassifyEverySegmentAsTheRegexRulesAloneWould() {
        // the word fast path must never change a verdict: compare with the rules run in order, on random segments
        // drawn from the characters that decide them (digits, hex letters, '@', '-', '.', ':'), a digit-free UUID
        // included
        java.util.regex.Pattern[] rules = {
                java.util.regex.Pattern.compile("[-+]?\\d+"),
                java.util.regex.Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
                java.util.regex.Pattern.compile("\\d{4}-\\d{2}-\\d{2}([Tt ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([Zz]|[+-]\\d{2}:?\\d{2})?)?"),
                java.util.regex.Pattern.compile("[^@/\\s]+@[^@/\\s]+\\.[A-Za-z]{2,}"),
                java.util.regex.Pattern.compile("(?=.*\\d)[0-9a-fA-F]{8,}"),
                java.util.regex.Pattern.compile("(?=.*\\d)(?=.*[A-Za-z])[A-Za-z0-9_\\-+=]{16,}")};
        String[] names = {"{id}", "{uuid}", "{date}", "{email}", "{hex}", "{token}"};
        String alphabet = "0123456789abcdefABCDEFxyz@-.:_+=T ";
        java.util.Random random = new java.util.Random(42);
        List<String> segments = new java.util.ArrayList<>(List.of("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "owners", "x@y.io"));
        for (int i = 0; i < 200_000; i++) {
            StringBuilder b = new StringBuilder();
            int length = random.nextInt(5) == 0 ? 36 : 1 + random.nextInt(24);
            for (int j = 0; j < length; j++) {
                b.append(alphabet.charAt(random.nextInt(random.nextBoolean() ? 16 : alphabet.length())));
            }
            segments.add(b.toString());
        }
        for (String segment : segments) {
            String expected = segment;
            for (int r = 0; r < rules.length; r++) {
                if (rules[r].matcher(segment).matches()) {
                    expected = names[r];
                    break;
                }
            }
            assertEquals(expected, RouteTemplates.classify(segment), segment);
        }
    }

    @ParameterizedTest(name = "{0} stays literal")
    @CsvSource({"/owners/new", "/api/v1", "/static/logo.png", "/owners/deadbeefcafe-x", "/feed/abcdefab",
            "/docs/getting-started-with-kafka"})
    void shouldKeepWordsAndVersionsLiteral(String path) {
        assertEquals(path, RouteTemplates.normalise(path));
    }

    @Test
    void shouldBuildRouteKeyWithUpperCaseMethod() {
        assertEquals("GET /owners/{id}", RouteTemplates.routeKey("get", "/owners/42"));
        assertEquals("POST /owners", RouteTemplates.routeKey("POST", "/owners/"));
        // a record key is plain text: a session a servlet container put in the path is no part of the route
        assertEquals("GET /cart/items/{id}", RouteTemplates.routeKey("GET", "/cart;jsessionid=AB12CD9/items;v=2/42"));
    }

    @Test
    void shouldPreferConfiguredTemplatesOverSegmentRules() {
        RouteTemplates routes = RouteTemplates.withTemplates(List.of("/owners/{owner}/pets", "/files/{name}"));
        assertEquals("/owners/{owner}/pets", routes.template("/owners/george/pets"));
        assertEquals("/owners/{owner}/pets", routes.template("/owners/42/pets"));
        assertEquals("/files/{name}", routes.template("/files/report.pdf"));
        assertEquals("/owners/{id}", routes.template("/owners/42"));
        assertEquals("GET /files/{name}", routes.route("GET", "/files/a.txt"));
    }

    @Test
    void shouldRejectTemplateWithoutLeadingSlash() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RouteTemplates.withTemplates(List.of("owners/{id}")));
        assertEquals("route template 'owners/{id}' does not start with '/'", e.getMessage());
    }

    /**
     * Only the leading '/' was checked: every template below was taken, its odd part read as literal text (a segment
     * no request holds, so the template matched nothing), as a placeholder matching any one segment whatever it said,
     * or dropped, without a word.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "/b/{y| has an unbalanced brace in segment '{y'",
            "/b/y}| has an unbalanced brace in segment 'y}'",
            "/b/{y}}| has an unbalanced brace in segment '{y}}'",
            "/b/{}| has an empty placeholder '{}'",
            "/b/x{}| has an empty placeholder '{}'",
            "/b/{x}/c/{x}| names placeholder '{x}' twice",
            "/b/{x}/c/{X}/d/{x}| names placeholder '{x}' twice",
            "/files/{*}| has placeholder '{*}', which is not a name",
            "/files/{*path}| has placeholder '{*path}', which is not a name",
            "/orders/{id:[0-9]+}| has placeholder '{id:[0-9]+}', which is not a name",
            "/b/{{x}}| has segment '{{x}}' that is not one placeholder alone",
            "/b/v{x}| has segment 'v{x}' that is not one placeholder alone",
            "/b/{x}.json| has segment '{x}.json' that is not one placeholder alone",
            "/b/{x}{y}| has segment '{x}{y}' that is not one placeholder alone",
            "/files/*| has segment '*' holding '*'",
            "/files/**| has segment '**' holding '*'",
            "/files/*.pdf| has segment '*.pdf' holding '*'",
            "/b/{x}?q=1| holds '?'",
            "/b/{x}#top| holds '#'",
            "/cart;v=2/{x}| holds ';'",
    })
    void shouldRefuseATemplateTheMatcherWouldNotReadAsWritten(String template, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RouteTemplates.withTemplates(List.of("/ok/{a}", template)));
        assertTrue(e.getMessage().startsWith("route template '" + template + "' " + problem), e.getMessage());
    }

    @Test
    void shouldRefuseABlankOrControlCharacterInATemplate() {
        for (String template : List.of("/b/{x} ", "/b/{x }", "/b c/{x}", "/b/{x}\t", "/b/\u0000{x}")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> RouteTemplates.withTemplates(List.of(template)), template);
            assertTrue(e.getMessage().startsWith("route template '" + template + "' holds a blank or control character"),
                    e.getMessage());
        }
    }

    @Test
    void shouldTakeWellFormedTemplates() {
        RouteTemplates routes = RouteTemplates.withTemplates(List.of("/", "/products/{slug}/", "/orders/{order-id}/lines/{line_no}",
                "/v1.2/files/{file.name}", "/owners/{owner}/pets/{id}", "/caf\u00e9/{n\u00e4me}"));
        assertEquals("/products/{slug}", routes.template("/products/red-shirt"));
        assertEquals("/orders/{order-id}/lines/{line_no}", routes.template("/orders/ab/lines/7"));
        assertEquals("/v1.2/files/{file.name}", routes.template("/v1.2/files/a.txt"));
        assertEquals("/owners/{owner}/pets/{id}", routes.template("/owners/george/pets/9"));
        assertEquals("/", routes.template("/"));
    }

    /**
     * A route named in another option (a sidecar route cap, a replay ignore rule) is checked as a template is, in the
     * same words: a route key holds the same placeholder once per segment of its kind, so a name may come twice there.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "/b/{y| has an unbalanced brace in segment '{y'",
            "/b/{}| has an empty placeholder '{}'",
            "/b/v{x}| has segment 'v{x}' that is not one placeholder alone",
            "/files/{*}| has placeholder '{*}', which is not a name",
            "/files/*| has segment '*' holding '*'",
            "/b/{x}?q=1| holds '?'",
            "/cart;v=2| holds ';'",
            "/b c| holds a blank or control character",
            "b/{x}| does not start with '/'",
    })
    void shouldRefuseARouteTheMatcherWouldNotReadAsWrittenInTheWordsOfATemplate(String route, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RouteTemplates.requireRoute(route));
        assertTrue(e.getMessage().startsWith("route template '" + route + "' " + problem), e.getMessage());
        IllegalArgumentException asTemplate = assertThrows(IllegalArgumentException.class,
                () -> RouteTemplates.withTemplates(List.of(route)));
        assertEquals(asTemplate.getMessage(), e.getMessage());
    }

    @Test
    void shouldTakeEveryRouteTheDefaultRulesAndConfiguredTemplatesWrite() {
        for (String path : List.of("/owners/42/pets/7", "/", "/users/jane.doe@example.com/orders/2024-05-01",
                "/blobs/5d41402abc4b2a76b9719d911017c592/dGhpc0lzQVRva2VuMTIz")) {
            RouteTemplates.requireRoute(RouteTemplates.normalise(path));
        }
        RouteTemplates.requireRoute("/owners/{id}/pets/{id}");
        RouteTemplates.requireRoute("/orders/{order-id}/lines/{line_no}");
        RouteTemplates.requireRoute("/owners/42/pets/");
        assertThrows(IllegalArgumentException.class, () -> RouteTemplates.withTemplates(List.of("/owners/{id}/pets/{id}")),
                "a configured template still names each placeholder once");
    }

    @Test
    void shouldNameATemplatesRouteAsAConfiguredTemplateWritesIt() {
        assertEquals("GET /products/{slug}", RouteTemplates.templateRoute("get", "/products/{slug}/"));
        assertEquals(RouteTemplates.withTemplates(List.of("/products/{slug}/")).route("get", "/products/red"),
                RouteTemplates.templateRoute("get", "/products/{slug}/"));
        assertEquals("GET /owners/42/{id}", RouteTemplates.templateRoute("GET", "//owners/42/{id}"), "segments as written");
        assertEquals("DELETE /", RouteTemplates.templateRoute("delete", "/"));
    }
}
