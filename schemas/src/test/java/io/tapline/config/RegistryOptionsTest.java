package io.tapline.config;

import io.tapline.registry.RegistryConfig;
import io.tapline.text.ShownText;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegistryOptionsTest {

    private static final ConfigSpec SPEC = RegistryOptions.declare(ConfigSpec.builder("tapline x", "x")).build();

    @Test
    void neverShowsAPasswordPastedUnencoded() {
        // a base64 secret holds '/' (and may hold '+' and '='); '#' and '?' are as likely in a password
        for (String password : new String[] {"Zm9v/YmFy", "Zm9v#YmFy", "Zm9v?YmFy"}) {
            String url = "http://svc:" + password + "@registry:8081/apis/ccompat/v7";
            TaplineConfig config = TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_SCHEMA_REGISTRY_URL", url));
            assertFalse(config.toString().contains("YmFy"), "effective configuration: " + config);
            assertEquals(url, RegistryOptions.checkUrl(url), "accepted");
            RegistryConfig registry = RegistryConfig.of(url);
            assertEquals(List.of("http://registry:8081/apis/ccompat/v7"), registry.urls());
            assertEquals("svc:" + password, registry.userInfo(0));
            assertFalse(registry.toString().contains("YmFy"), registry.toString());
        }
        // a ',' splits the list: refused without quoting any part of it
        ConfigException e = assertThrows(ConfigException.class,
                () -> RegistryOptions.checkUrl("http://svc:qx7,zk9@registry:8081"));
        assertFalse(e.getMessage().contains("qx7") || e.getMessage().contains("zk9"), e.getMessage());
        assertTrue(e.getMessage().contains("percent-encoded"), e.getMessage());
        // the item before the ',' may read as a URL that is all user and password: it is not quoted either
        for (String password : new String[] {"8081/qx7%zz,zk9", "8081/qx7#zk,zk9", "8081/qx7\u202e,zk9"}) {
            String message = assertThrows(ConfigException.class,
                    () -> RegistryOptions.checkUrl("http://svc:" + password + "@registry:8081"), password).getMessage();
            assertFalse(message.contains("qx7") || message.contains("zk9"), message);
            assertTrue(message.contains("percent-encoded"), message);
        }
    }

    @Test
    void aBadUrlSetByTheEnvironmentNamesTheVariable() {
        // every manifest of deploy/k8s sets it so: the flag alone sent the reader to a command line there is none of
        TaplineConfig config = TaplineConfig.load(SPEC, new String[0],
                Map.of("TAPLINE_SCHEMA_REGISTRY_URL", "http://schema_registry:8081"));
        String message = assertThrows(ConfigException.class, () -> RegistryOptions.clientConfigs(config)).getMessage();
        assertTrue(message.startsWith("option --schema-registry-url (set by TAPLINE_SCHEMA_REGISTRY_URL): "
                + "'http://schema_registry:8081': the registry client"), message);
        TaplineConfig flag = TaplineConfig.load(SPEC, new String[] {"--schema-registry-url", "registry:8081"}, Map.of());
        message = assertThrows(ConfigException.class, () -> RegistryOptions.clientConfigs(flag)).getMessage();
        assertTrue(message.startsWith("option --schema-registry-url: 'registry:8081' is not"), message);
    }

    @Test
    void mapsTheSameEnvironmentVariablesToTheClientSettings() {
        TaplineConfig config = TaplineConfig.load(SPEC, new String[0], Map.of(
                "TAPLINE_SCHEMA_REGISTRY_URL", "https://registry:8081",
                "TAPLINE_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "svc:pw",
                "TAPLINE_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION", "/etc/ts.p12",
                "TAPLINE_SCHEMA_REGISTRY_SSL_TRUSTSTORE_PASSWORD", "ts-pass-42"));
        RegistryConfig registry = RegistryConfig.fromMap(RegistryOptions.clientConfigs(config));
        assertEquals(List.of("https://registry:8081"), registry.urls());
        assertEquals("svc:pw", registry.userInfo(0));
        assertEquals("/etc/ts.p12", registry.truststoreLocation());
        assertEquals("ts-pass-42", registry.truststorePassword());
        assertFalse(config.toString().contains("svc:pw"), config.toString());
        assertFalse(config.toString().contains("ts-pass-42"), config.toString());
    }

    @Test
    void defaultsToTheLocalStack() {
        TaplineConfig config = TaplineConfig.load(SPEC, new String[0], Map.of());
        assertEquals(Map.of(RegistryConfig.URL, RegistryOptions.DEFAULT_URL), RegistryOptions.clientConfigs(config));
    }

    @Test
    void refusesAUrlTheRegistryClientCannotCallAtStartupNamingTheFlag() {
        assertEquals("http://a:1/apis/ccompat/v7,https://b", RegistryOptions.checkUrl("http://a:1/apis/ccompat/v7,https://b"));
        for (String[] bad : new String[][] {{"registry:8081", "not an http:// or https:// URL"},
                {"http://a:1,registry:8081", "'registry:8081' is not an http"},
                {"http://schema_registry:8081", "host 'schema_registry'"}, {"http://r:0", "port '0'"}}) {
            ConfigException e = assertThrows(ConfigException.class, () -> RegistryOptions.checkUrl(bad[0]), bad[0]);
            assertTrue(e.getMessage().startsWith("option --schema-registry-url: ") && e.getMessage().contains(bad[1]), e.getMessage());
        }
        TaplineConfig config = TaplineConfig.load(SPEC, new String[] {"--schema-registry-url", "http://schema_registry:8081"}, Map.of());
        assertThrows(ConfigException.class, () -> RegistryOptions.clientConfigs(config));
    }

    /**
     * A registry URL is a base URL the client puts each API path after ({@code /subjects/...}, {@code /schemas/ids/...}),
     * so it is held to what {@code HttpUrl.baseUrlProblem} asks of one, as replay's {@code --target} and the sidecar's
     * {@code --app} are. Before, a right-to-left override, a zero-width space or an {@code é} in the path was taken (and
     * shown as it is in every registry error); a fragment or a query was taken, and every API path was then written
     * into it, so each call went to the base path; a broken percent-escape and a host of RFC 3986's other characters
     * were refused as hosts with {@code _} are, with advice about {@code _}. Each is refused at start now, naming the
     * option and where it was set, the value shown with codes and without the credentials it was given with.
     */
    @Test
    void refusesAUrlNoRegistryPathCanFollowNamingWhereItWasSet() {
        String advice = "; give scheme, host, port and the registry API's base path, like http://registry:8081/apis/ccompat/v7";
        // what is given, how the message quotes it (with codes, without credentials), what it says is wrong
        String[][] bad = {
                {"http://registry:8081/apis/\u202eccompat/v7", "http://registry:8081/apis/\\u202eccompat/v7",
                        "is not a registry URL: character U+202E at index 26 is not printable ASCII (percent-encoded as UTF-8, it is %E2%80%AE)"},
                {"http://registry:8081/apis/ccompat/v7\u200b", "http://registry:8081/apis/ccompat/v7\\u200b",
                        "is not a registry URL: character U+200B at index 36 is not printable ASCII (percent-encoded as UTF-8, it is %E2%80%8B)"},
                {"https://registry/caf\u00e9", "https://registry/caf\u00e9",
                        "is not a registry URL: character U+00E9 at index 20 is not printable ASCII (percent-encoded as UTF-8, it is %C3%A9)"},
                {"http://registry:8081/apis/ccompat/v7#top", "http://registry:8081/apis/ccompat/v7#top",
                        "has a fragment ('#top'), which never reaches a server"},
                {"http://registry:8081/apis/ccompat/v7?tenant=a", "http://registry:8081/apis/ccompat/v7?tenant=a", "has a query"},
                {"http://registry:8081/apis/%zz", "http://registry:8081/apis/%zz",
                        "is not a registry URL: '%zz' in the path is not a percent-escape (% and two hex digits; %25 is a %)"},
                {"http://regi~stry:8081", "http://regi~stry:8081",
                        "is not a registry URL: host 'regi~stry' is not a host name (letters, digits, '-', '.', '_') or an IP address"},
                // credentials are taken out before the URL is quoted
                {"http://svc:s3cret@registry:8081/apis/\u202e", "http://registry:8081/apis/\\u202e",
                        "is not a registry URL: character U+202E at index 26"},
                {"https://svc:s3cret@registry/#x", "https://registry/#x", "has a fragment ('#x')"},
                {"http://registry:8081,http://registry-2:8081/apis?x", "http://registry-2:8081/apis?x", "has a query"}};
        for (String[] b : bad) {
            String url = b[0];
            String shown = "'" + b[1] + "' " + b[2];
            String flag = assertThrows(ConfigException.class, () -> RegistryOptions.clientConfigs(
                    TaplineConfig.load(SPEC, new String[] {"--schema-registry-url", url}, Map.of())), url).getMessage();
            assertTrue(flag.startsWith("option --schema-registry-url: " + shown) && flag.endsWith(advice), flag);
            String env = assertThrows(ConfigException.class, () -> RegistryOptions.clientConfigs(
                    TaplineConfig.load(SPEC, new String[0], Map.of("TAPLINE_SCHEMA_REGISTRY_URL", url))), url).getMessage();
            assertTrue(env.startsWith("option --schema-registry-url (set by TAPLINE_SCHEMA_REGISTRY_URL): " + shown), env);
            assertFalse(flag.contains("s3cret") || env.contains("s3cret"), flag);
            assertTrue(flag.chars().noneMatch(ShownText::shownAsCode), "shown with codes: " + flag);
        }
    }

    @Test
    void takesEveryRegistryUrlAClientCanCall() {
        for (String url : List.of("http://127.0.0.1:8081/apis/ccompat/v7", "https://registry.example.com/apis/ccompat/v7/",
                "http://[::1]:8081", "http://registry:8081/tenants/a%20b/%E2%82%AC", "https://Registry.example.com.:8443/v1;v=2/~me",
                "http://svc:s3cret@registry:8081/apis/ccompat/v7", "http://svc:p\u00e9%zz#?@registry:8081",
                "http://a:8081, https://b:8443/apis/ccompat/v7")) {
            assertEquals(url, RegistryOptions.checkUrl(url), url);
        }
        // a password with characters no URL may hold as such is still sent as written, percent-escapes decoded
        RegistryConfig registry = RegistryConfig.of("http://svc:p\u00e9%zz#?@registry:8081");
        assertEquals(List.of("http://registry:8081"), registry.urls());
        assertEquals("svc:p\u00e9%zz#?", registry.userInfo(0));
    }

    @Test
    void takesAListWithAnEmptyItemAsTheRegistryClientDoes() {
        TaplineConfig config = TaplineConfig.load(SPEC, new String[0], Map.of(
                "TAPLINE_SCHEMA_REGISTRY_URL", "http://a:8081,, http://b:8081, "));
        RegistryConfig registry = RegistryConfig.fromMap(RegistryOptions.clientConfigs(config));
        assertEquals(List.of("http://a:8081", "http://b:8081"), registry.urls());

        for (String none : new String[] {"", " , "}) {
            ConfigException e = assertThrows(ConfigException.class, () -> RegistryOptions.checkUrl(none), "'" + none + "'");
            assertTrue(e.getMessage().startsWith("option --schema-registry-url: "), e.getMessage());
        }
    }

    @Test
    void acceptsCredentialsInTheUrlAndNeverShowsThem() {
        assertEquals("http://svc:s3cret@registry:8081/apis/ccompat/v7",
                RegistryOptions.checkUrl("http://svc:s3cret@registry:8081/apis/ccompat/v7"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> RegistryOptions.checkUrl("http://registry:8081,http://svc:s3cret@schema_registry:8081"));
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
        assertTrue(e.getMessage().contains("'http://schema_registry:8081'"), e.getMessage());

        TaplineConfig config = TaplineConfig.load(SPEC, new String[0], Map.of(
                "TAPLINE_SCHEMA_REGISTRY_URL", "http://svc:s3cret@registry:8081,http://svc:ab@s3cret@registry-2:8081"));
        assertFalse(config.toString().contains("s3cret"), config.toString());
        assertTrue(config.toString().contains("registry-2:8081"), config.toString());
        RegistryConfig registry = RegistryConfig.fromMap(RegistryOptions.clientConfigs(config));
        assertEquals(List.of("http://registry:8081", "http://registry-2:8081"), registry.urls());
    }
}
