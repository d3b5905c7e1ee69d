package io.tapline.sidecar;

import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.LogOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.logging.TaplineLoggerProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SidecarOptionsTest {

    static SidecarOptions load(Map<String, String> env, String... args) {
        return SidecarOptions.from(TaplineConfig.load(SidecarOptions.spec(), args, env));
    }

    @Test
    void shouldRefuseARegistryTruststoreThatCannotBeLoadedNamingTheFlag() {
        // it failed at the start after the options, "cannot start" with exit 1, naming the setting's key only
        ConfigException e = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://127.0.0.1:8081",
                "--schema-registry-ssl-truststore-location", "/nonexistent/truststore.p12"));
        assertTrue(e.getMessage().startsWith("option --schema-registry-ssl-truststore-location: cannot load registry "
                + "truststore /nonexistent/truststore.p12"), e.getMessage());
    }

    @Test
    void shouldDefaultToTheLocalStack() {
        SidecarOptions o = load(Map.of(), "--app", "http://127.0.0.1:8081");
        assertEquals("127.0.0.1:9092", o.bootstrapServers());
        assertEquals("http://127.0.0.1:8081/apis/ccompat/v7", o.registryUrl());
        assertEquals("tapline.interactions", o.topic());
        assertEquals(65536, o.captureMaxBodyBytes());
        assertEquals(8080, o.listen().port());
        assertEquals(Duration.ofMillis(100), o.outboundGrace());
        assertTrue(o.captureEnabled());
        assertEquals(100.0, o.samplingRatePercent());
    }

    /**
     * A bootstrap list the producer cannot read was passed to it as given: the sidecar exited 1 ("cannot start: Failed
     * to construct kafka producer: Invalid url in bootstrap.servers: localhost") once its listeners were up, naming no
     * option; {@code :9092} reached the local host and {@code http://} was dropped unread. Names are not resolved.
     */
    @Test
    void shouldRefuseABootstrapListNotOfHostPortNamingTheOptionAndWhereItWasSet() {
        for (String[] bad : new String[][] {{"localhost", "no port"}, {"host:notaport", "port 'notaport' is not a number 1-65535"},
                {":9092", "no host"}, {"", "must name at least one broker"}, {"http://host:9092", "a URL"}}) {
            String message = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://127.0.0.1:8081",
                    "--kafka-bootstrap-servers", bad[0]), bad[0]).getMessage();
            assertTrue(message.startsWith("option --kafka-bootstrap-servers: ") && message.contains(bad[1])
                    && message.contains("expected host:port[,host:port...]"), message);
        }
        String fromEnv = assertThrows(ConfigException.class, () -> load(Map.of("TAPLINE_KAFKA_BOOTSTRAP_SERVERS", "kafka"),
                "--app", "http://127.0.0.1:8081")).getMessage();
        assertTrue(fromEnv.startsWith("option --kafka-bootstrap-servers (set by TAPLINE_KAFKA_BOOTSTRAP_SERVERS): 'kafka' is not"
                + " host:port: no port"), fromEnv);
        assertEquals("kafka-0.not-yet-in-dns.invalid:9092,[::1]:9092", load(Map.of(), "--app", "http://127.0.0.1:8081",
                "--kafka-bootstrap-servers", "kafka-0.not-yet-in-dns.invalid:9092,[::1]:9092").bootstrapServers());
    }

    @Test
    void shouldReadFlagsEnvironmentAndFileWithFlagsWinning(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sidecar.properties");
        Files.writeString(file, "app=http://file:1\nservice=from-file\ncapture.max.body.bytes=100\nsampling.rate=10\n");
        SidecarOptions o = load(Map.of("TAPLINE_SERVICE", "from-env", "TAPLINE_CAPTURE_MAX_BODY_BYTES", "200",
                        "TAPLINE_KAFKA_PRODUCER_LINGER_MS", "7"),
                "--config", file.toString(), "--capture-max-body-bytes", "300", "--listen", "9000",
                "--egress", "inventory=http://inventory:8080/api", "--egress", "pay=http://pay:9090",
                "--sampling-route-cap", "get /owners/{id}=5", "--capture-outbound-grace", "250ms");
        assertEquals("http://file:1", o.app().toString());
        assertEquals("from-env", o.service(), "environment overrides the file");
        assertEquals(300, o.captureMaxBodyBytes(), "flags override the environment");
        assertEquals(10.0, o.samplingRatePercent());
        assertEquals(9000, o.listen().port());
        assertEquals("7", o.producerOverrides().get("linger.ms"));
        assertEquals(2, o.egressRoutes().size());
        assertEquals("/api", o.egressRoutes().get(0).basePath());
        assertEquals(5.0, o.routeCaps().get("GET /owners/{id}"));
        assertEquals(Duration.ofMillis(250), o.outboundGrace());
    }

    /**
     * An upstream that is one of the sidecar's own listeners sends every request round a loop: through the inbound
     * listener each hop adds Via and X-Forwarded-For until the head outgrows the limit (hundreds of hops, each an
     * upstream connection); an egress route to the egress listener sends calls back to it, and one whose path leads
     * to itself again goes round until the connection pool is spent. Refused at start instead.
     */
    @Test
    void shouldRefuseAnUpstreamThatIsTheSidecarsOwnListener() {
        String app = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://127.0.0.1:8080")).getMessage();
        assertTrue(app.contains("--app") && app.contains("own --listen") && app.contains("loop"), app);
        String viaLocalhost = assertThrows(ConfigException.class,
                () -> load(Map.of(), "--listen", "127.0.0.1:9000", "--app", "http://localhost:9000/base")).getMessage();
        assertTrue(viaLocalhost.contains("--app"), viaLocalhost);
        String egress = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://127.0.0.1:8081",
                "--egress", "inv=http://inventory:8080", "--egress", "self=http://127.0.0.1:15001/x")).getMessage();
        assertTrue(egress.contains("--egress self") && egress.contains("--egress-listen"), egress);
        String appToEgress = assertThrows(ConfigException.class,
                () -> load(Map.of(), "--app", "http://[::1]:15001")).getMessage();
        assertTrue(appToEgress.contains("--egress-listen"), appToEgress);
        // named with where the value was set, as every other refused value is
        String appFromEnv = assertThrows(ConfigException.class,
                () -> load(Map.of("TAPLINE_APP", "http://127.0.0.1:8080"))).getMessage();
        assertTrue(appFromEnv.startsWith("option --app (set by TAPLINE_APP): http://127.0.0.1:8080 is this sidecar's own"
                + " --listen"), appFromEnv);
        String egressFromEnv = assertThrows(ConfigException.class, () -> load(Map.of("TAPLINE_EGRESS",
                "self=http://127.0.0.1:15001/x"), "--app", "http://127.0.0.1:8081")).getMessage();
        assertTrue(egressFromEnv.startsWith("option --egress self (set by TAPLINE_EGRESS): "), egressFromEnv);
        // another host on the same port is not this sidecar, nor is the egress port once the egress listener is off
        assertEquals(8080, load(Map.of(), "--app", "http://shop:8080").app().port());
        assertEquals(15001, load(Map.of(), "--app", "http://127.0.0.1:15001", "--egress-listen", "off").app().port());
        String another = anotherAddressOfThisMachine(); // a listener's host is one of this machine's addresses
        org.junit.jupiter.api.Assumptions.assumeTrue(another != null, "this machine has no address but loopback");
        assertEquals(8080, load(Map.of(), "--listen", another + ":8080", "--app", "http://127.0.0.1:8080").app().port());
    }

    /** An IPv4 address of this machine's that is not loopback, null when it has none. */
    private static String anotherAddressOfThisMachine() {
        try {
            return java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces()).stream()
                    .flatMap(i -> java.util.Collections.list(i.getInetAddresses()).stream())
                    .filter(a -> a instanceof java.net.Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
                    .map(java.net.InetAddress::getHostAddress).findFirst().orElse(null);
        } catch (java.net.SocketException e) {
            return null;
        }
    }

    /**
     * A listener's host no listener can open on ({@code --listen}, {@code --egress-listen}, {@code --management-host})
     * was taken here: the sidecar made its Kafka producer and started publishing, then failed to bind the listener
     * (exit 1, "cannot start"). It is refused with the options now (exit 2), naming the flag and where it was set.
     */
    @Test
    void aListenHostNoListenerCanOpenOnIsRefusedWithTheOptions() {
        String notAHost = "' is not an IP address or a host name (labels of letters, digits, '-' and '_' separated by '.'";
        String[][] bad = {
                {"--listen", "exa mple:8080", "option --listen: 'exa mple" + notAHost},
                {"--listen", "host\u202e:8080", "option --listen: 'host\\u202e" + notAHost},
                {"--egress-listen", "[::1:15001", "option --egress-listen: '[::1:15001' is not PORT or HOST:PORT: an IPv6"},
                // read as host :: and port 1 before; ::1:8080 is itself an IPv6 address: a port follows brackets only
                {"--listen", "::1", "option --listen: '::1' is not PORT or HOST:PORT: an IPv6 host goes in brackets"},
                {"--egress-listen", "::1:15001", "option --egress-listen: '::1:15001' is not PORT or HOST:PORT: an "
                        + "IPv6 host goes in brackets, as [::1]:8080"},
                // in brackets with no port after them: said so, not that it goes in brackets
                {"--listen", "[::1]", "option --listen: '[::1]' is not PORT or HOST:PORT: an IPv6 host in brackets is "
                        + "followed by its port, as [::1]:8080"},
                // a multicast address: no interface of any machine has it
                {"--egress-listen", "224.0.0.1:15001", "option --egress-listen: '224.0.0.1' is not an address of this machine"},
                {"--management-host", "", "option --management-host: '' is empty"},
                {"--management-host", "exa mple", "option --management-host: 'exa mple" + notAHost}};
        for (String[] c : bad) {
            String message = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://127.0.0.1:8081",
                    c[0], c[1]), c[0] + " " + c[1]).getMessage();
            assertTrue(message.startsWith(c[2]), message);
        }
        String fromEnv = assertThrows(ConfigException.class, () -> load(Map.of("TAPLINE_MANAGEMENT_HOST", "exa mple"),
                "--app", "http://127.0.0.1:8081")).getMessage();
        assertTrue(fromEnv.startsWith("option --management-host (set by TAPLINE_MANAGEMENT_HOST): 'exa mple" + notAHost), fromEnv);
        SidecarOptions taken = load(Map.of(), "--app", "http://127.0.0.1:8081", "--listen", "[::1]:8080",
                "--egress-listen", "[::1]:15001", "--management-host", "::");
        assertEquals("::1", taken.listen().host());
        assertEquals(8080, taken.listen().port());
        assertEquals("::1", taken.egressListen().host());
        assertEquals("::", taken.managementHost());
    }

    @Test
    void theTwoListenersOnOneAddressAreRefusedNamingBoth() {
        // Vert.x shares a port between servers that ask for the same address: each connection would reach either listener
        String same = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://127.0.0.1:8081",
                "--listen", "127.0.0.1:9000", "--egress-listen", "9000")).getMessage();
        assertTrue(same.startsWith("option --egress-listen: 127.0.0.1:9000 is the address of --listen"), same);
        String v6 = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://127.0.0.1:8081",
                "--listen", "[::1]:9000", "--egress-listen", "[::1]:9000")).getMessage();
        // in brackets: ::1:9000 unbracketed is itself an IPv6 address
        assertTrue(v6.startsWith("option --egress-listen: [::1]:9000 is the address of --listen"), v6);
        String fromEnv = assertThrows(ConfigException.class, () -> load(Map.of("TAPLINE_EGRESS_LISTEN", "9000"), "--app",
                "http://127.0.0.1:8081", "--listen", "127.0.0.1:9000")).getMessage();
        assertTrue(fromEnv.startsWith("option --egress-listen (set by TAPLINE_EGRESS_LISTEN): 127.0.0.1:9000 is the "
                + "address of --listen"), fromEnv);
        String wildcard = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://127.0.0.1:8081",
                "--listen", "0.0.0.0:9000", "--egress-listen", "0.0.0.0:9000")).getMessage();
        assertTrue(wildcard.contains("--egress-listen") && wildcard.contains("--listen"), wildcard);
        // another port, port 0 on both (each drawn apart), or the egress listener off: no clash
        load(Map.of(), "--app", "http://127.0.0.1:8081", "--listen", "127.0.0.1:9000", "--egress-listen", "9001");
        load(Map.of(), "--app", "http://127.0.0.1:8081", "--listen", "0", "--egress-listen", "0");
        load(Map.of(), "--app", "http://127.0.0.1:8081", "--listen", "127.0.0.1:9000", "--egress-listen", "off");
    }

    @Test
    void shouldNameTheFlagAndWhatItAcceptsOnBadInput() {
        assertTrue(assertThrows(ConfigException.class, () -> load(Map.of())).getMessage().contains("--app"));
        assertTrue(assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--listen", "abc"))
                .getMessage().contains("--listen"));
        assertTrue(assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--sampling-rate", "150"))
                .getMessage().contains("0-100"));
        assertTrue(assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--egress", "nourl"))
                .getMessage().contains("NAME=URL"));
        assertTrue(assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--no-such-flag", "1"))
                .getMessage().contains("--no-such-flag"));
        // the error named the variable whether or not the key came from it
        assertEquals("option --redaction-key: the key must be at least 16 bytes", assertThrows(ConfigException.class,
                () -> load(Map.of(), "--app", "http://a", "--redaction-key", "short")).getMessage());
        assertEquals("option --redaction-key (set by TAPLINE_REDACTION_KEY): the key must be at least 16 bytes",
                assertThrows(ConfigException.class, () -> load(Map.of("TAPLINE_REDACTION_KEY", "short"), "--app", "http://a"))
                        .getMessage());
        assertTrue(assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "https://a"))
                .getMessage().contains("http://"));
        String transport = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--proxy-transport", "uring"))
                .getMessage();
        assertTrue(transport.contains("--proxy-transport") && transport.contains("native") && transport.contains("nio"), transport);
    }

    @Test
    void shouldRefuseAProducerSettingTheProducerWouldRefuseNamingItsFlag() {
        // before, the sidecar took it and failed when it created its producer: exit 1 with the client's stack trace
        assertEquals("option --kafka.producer.linger.ms: Invalid value abc for configuration linger.ms: Not a number of type LONG",
                assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--kafka.producer.linger.ms=abc"))
                        .getMessage());
        String acks = assertThrows(ConfigException.class,
                () -> load(Map.of("TAPLINE_KAFKA_PRODUCER_ACKS", "7"), "--app", "http://a")).getMessage();
        assertTrue(acks.startsWith("option --kafka.producer.acks (set by TAPLINE_KAFKA_PRODUCER_ACKS): Invalid value 7"), acks);
        assertEquals("5", load(Map.of(), "--app", "http://a", "--kafka.producer.linger.ms=5").producerOverrides().get("linger.ms"));
    }

    @Test
    void shouldRefuseNegativeAndOutOfRangeNumbersBeforeStartingWithTheFlagNamed() {
        // each of these used to be accepted: the sidecar then failed in Vert.x or the management server with a stack
        // trace (or hung with its producer thread alive), or silently ran with a nonsensical setting
        String[][] cases = {
            {"--proxy-connect-timeout", "-5s"},
            {"--proxy-connect-timeout", "0"},
            {"--capture-outbound-grace", "-1s"},
            {"--sampling-default-route-cap", "-3"},
            {"--proxy-max-request-body-bytes", "-10"},
            {"--proxy-event-loops", "-2"},
            {"--proxy-max-connections", "-1"},
            {"--management-port", "-7"},
            {"--management-port", "70000"},
            // these failed only once the sidecar started (Vert.x refused a negative idle timeout, the int its
            // milliseconds were cast to) or every capture was dropped (a topic the broker refuses)
            {"--proxy-idle-timeout", "30d"},
            {"--capture-outbound-grace", "9999999999999d"},
            {"--topic-interactions", "interactions topic"},
            {"--topic-unattributed", "a/b"},
            {"--management-port", "70000"},
        };
        for (String[] bad : cases) {
            String message = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", bad[0], bad[1]),
                    String.join(" ", bad)).getMessage();
            assertTrue(message.contains(bad[0]) && message.contains(bad[1]), message);
        }
        SidecarOptions zeros = load(Map.of(), "--app", "http://a", "--capture-outbound-grace", "0",
                "--sampling-default-route-cap", "0", "--proxy-max-request-body-bytes", "0", "--proxy-event-loops", "0",
                "--management-port", "0", "--proxy-max-connections", "0");
        assertEquals(Duration.ZERO, zeros.outboundGrace());
        assertEquals(0, zeros.maxConnections(), "0: from the file descriptor limit");
        assertEquals(0, zeros.managementPort());
    }

    @Test
    void shouldRefuseABoundOfOneConnectionWhileTheEgressListenerIsOn() {
        // one place cannot serve both listeners: inbound requests took it, and the app's calls through the egress
        // listener, which those requests wait on, were refused
        String message = assertThrows(ConfigException.class,
                () -> load(Map.of(), "--app", "http://a", "--proxy-max-connections", "1")).getMessage();
        assertEquals("option --proxy-max-connections: '1' must be 0 or >= 2 while the egress listener is on "
                + "(a place for each listener; --egress-listen off runs without it)", message);
        assertEquals(1, load(Map.of(), "--app", "http://a", "--proxy-max-connections", "1", "--egress-listen", "off")
                .maxConnections());
        assertEquals(2, load(Map.of(), "--app", "http://a", "--proxy-max-connections", "2").maxConnections());
    }

    @Test
    void shouldNameTheVariableOrFileThatSetABadValue(@TempDir Path dir) throws Exception {
        // the sidecar's container is configured by TAPLINE_* variables (deploy/k8s): the flag alone is not where to look
        Map<String, String> variables = Map.of("TAPLINE_LISTEN", "99999", "TAPLINE_EGRESS_LISTEN", "host:x",
                "TAPLINE_SAMPLING_RATE", "150", "TAPLINE_SAMPLING_DEFAULT_ROUTE_CAP", "-3", "TAPLINE_SAMPLING_ROUTE_CAP", "GET /a",
                "TAPLINE_PROXY_EVENT_LOOPS", "-2", "TAPLINE_PROXY_CONNECT_TIMEOUT", "0", "TAPLINE_MANAGEMENT_PORT", "70000",
                "TAPLINE_EGRESS", "inventory", "TAPLINE_CAPTURE_OUTBOUND_GRACE", "-1s");
        for (Map.Entry<String, String> variable : variables.entrySet()) {
            String message = assertThrows(ConfigException.class, () -> load(Map.of(variable.getKey(), variable.getValue()),
                    "--app", "http://a"), variable.getKey()).getMessage();
            assertTrue(message.contains("(set by " + variable.getKey() + "): "), message);
        }
        for (String egress : List.of("inventory=ftp://inventory", "inv entory=http://inventory")) {
            String message = assertThrows(ConfigException.class, () -> load(Map.of("TAPLINE_EGRESS", egress), "--app",
                    "http://a")).getMessage();
            assertTrue(message.startsWith("option --egress (set by TAPLINE_EGRESS): "), message);
        }
        assertEquals("option --app (set by TAPLINE_APP): 'https://a' is not an http:// URL (TLS to the app is not supported)",
                assertThrows(ConfigException.class, () -> load(Map.of("TAPLINE_APP", "https://a"))).getMessage());
        Path file = Files.writeString(dir.resolve("sidecar.properties"), "capture.max.pending=0\n");
        assertEquals("option --capture-max-pending (set in " + file + "): '0' must be > 0", assertThrows(ConfigException.class,
                () -> load(Map.of(), "--app", "http://a", "--config", file.toString())).getMessage());
        assertEquals("option --capture-max-pending: '0' must be > 0", assertThrows(ConfigException.class,
                () -> load(Map.of(), "--app", "http://a", "--capture-max-pending", "0")).getMessage());
    }

    @Test
    void aTopicNameWithSpaceAroundItIsTrimmedAsItWasBeforeTopicsWereChecked() {
        // a variable from a file or a manifest often ends in a newline: the sidecar trimmed it, then refused it (exit 2)
        SidecarOptions o = load(Map.of("TAPLINE_TOPIC_INTERACTIONS", "team.interactions\n",
                "TAPLINE_TOPIC_UNATTRIBUTED", " team.unattributed "), "--app", "http://a");
        assertEquals("team.interactions", o.topic());
        assertEquals("team.unattributed", o.unattributedTopic());
    }

    @Test
    void shouldNameARouteCapAsTheSidecarNamesRoutes() {
        SidecarOptions o = load(Map.of(), "--app", "http://a", "--sampling-route-cap", "get /owners/42/pets/=3");
        assertEquals(Map.of("GET /owners/{id}/pets", 3.0), o.routeCaps(), "the key a request of that route gets");
    }

    @Test
    void shouldRefuseARouteCapNoRequestCouldMatch() {
        // each was accepted and then never applied: no request has a route key without a method, or with {owner}
        for (String bad : List.of("/owners/{id}=5", "GET owners=5", "GET /owners/{owner}/pets=5", "GET /a=Infinity")) {
            String message = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--sampling-route-cap", bad),
                    bad).getMessage();
            assertTrue(message.contains("--sampling-route-cap") && message.contains(bad), message);
        }
    }

    /**
     * A route cap's path was checked for a method, a leading '/' and its placeholders' names alone: a stray brace, a
     * '*', text beside a placeholder were kept as literal text (a cap no request got), a query dropped (a cap for every
     * query), silently. Each is refused as dedup-stream refuses such a route template, in its words.
     */
    @Test
    void shouldRefuseARouteCapTheRouteTemplatesWouldNotReadAsWritten() {
        for (String[] bad : new String[][] {
                {"GET /b/{y=5", "route template '/b/{y' has an unbalanced brace in segment '{y'"},
                {"GET /files/*=5", "route template '/files/*' has segment '*' holding '*'"},
                {"GET /files/*.pdf=5", "route template '/files/*.pdf' has segment '*.pdf' holding '*'"},
                {"GET /files/{*}=5", "route template '/files/{*}' has placeholder '{*}', which is not a name"},
                {"GET /b/v{id}=5", "route template '/b/v{id}' has segment 'v{id}' that is not one placeholder alone"},
                {"GET /b/{}=5", "route template '/b/{}' has an empty placeholder '{}'"},
                {"GET /search?q=1=5", "route template '/search?q=1' holds '?'"},
                {"GET /cart;v=2=5", "route template '/cart;v=2' holds ';'"},
                {"GET /a b=5", "route template '/a b' holds a blank or control character"}}) {
            String message = assertThrows(ConfigException.class,
                    () -> load(Map.of(), "--app", "http://a", "--sampling-route-cap", bad[0]), bad[0]).getMessage();
            assertTrue(message.startsWith("option --sampling-route-cap: '" + bad[0] + "': " + bad[1]), message);
        }
        String fromEnv = assertThrows(ConfigException.class, () -> load(Map.of("TAPLINE_SAMPLING_ROUTE_CAP", "GET /a=1,GET /b/{y=5"),
                "--app", "http://a")).getMessage();
        assertTrue(fromEnv.startsWith("option --sampling-route-cap (set by TAPLINE_SAMPLING_ROUTE_CAP): 'GET /b/{y=5': "
                + "route template '/b/{y' has an unbalanced brace in segment '{y'"), fromEnv);
        // a route key holds a placeholder once per segment of its kind, and a cap may name a concrete path
        SidecarOptions o = load(Map.of(), "--app", "http://a", "--sampling-route-cap", "GET /owners/{id}/pets/{id}=2",
                "--sampling-route-cap", "post /v1/things:batch/=1");
        assertEquals(Map.of("GET /owners/{id}/pets/{id}", 2.0, "POST /v1/things:batch", 1.0), o.routeCaps());
    }

    @Test
    void shouldRefuseAStrayArgumentRatherThanIgnoreIt() {
        String message = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--listen", "8080", "9090"))
                .getMessage();
        assertTrue(message.contains("9090"), message);
    }

    @Test
    void shouldRefuseAnUpstreamUrlWhoseIpLiteralIsNoIpv6AddressAtStart() {
        // any mix of hex digits, ':' and '.' in brackets was taken: the sidecar started, and every request to such an
        // --app or --egress URL was answered 502 (Vert.x's client refuses it as it is asked)
        assertEquals("option --app: 'http://[1::2::3]:8080' is not an http://host[:port] URL: invalid host '[1::2::3]': not"
                + " an IPv6 address", assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://[1::2::3]:8080"))
                .getMessage());
        String egress = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--egress",
                "inv=http://[v1.x]/")).getMessage();
        assertTrue(egress.startsWith("option --egress") && egress.contains("invalid host '[v1.x]': an IPvFuture literal is not"
                + " supported"), egress);
        assertEquals("[::ffff:127.0.0.1]", load(Map.of(), "--app", "http://[::ffff:127.0.0.1]:8080").app().host());
    }

    @Test
    void shouldTakeHostNamesWithAnUnderscoreAsDockerComposeNamesThem() {
        SidecarOptions o = load(Map.of(), "--app", "http://shop_web:8080/", "--egress", "inventory=http://inventory_svc:9000/api/");
        assertEquals("shop_web", o.app().host());
        assertEquals(8080, o.app().port());
        assertEquals("", o.app().basePath());
        SidecarOptions.EgressRoute route = o.egressRoutes().get(0);
        assertEquals(new SidecarOptions.EgressRoute("inventory", "inventory_svc", 9000, "/api"), route);
        // a port with leading zeros is read by its value, however many (RFC 3986 3.2.3: port = *DIGIT), as the Host
        // line's port is; six digits were refused
        SidecarOptions padded = load(Map.of(), "--app", "http://shop:0008080", "--egress", "inv=http://inventory_svc:009000/api");
        assertEquals(8080, padded.app().port());
        assertEquals(new SidecarOptions.EgressRoute("inv", "inventory_svc", 9000, "/api"), padded.egressRoutes().get(0));
        for (String[] bad : new String[][] {{"http://user@shop:8080", "user info"}, {"http://shop:0", "port '0'"},
                {"http://shop:065536", "port '065536'"},
                {"http://shop:8080/?debug=1", "has a query"}, {"http://a..b", "invalid host"}}) {
            String message = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", bad[0])).getMessage();
            assertTrue(message.contains("--app") && message.contains(bad[1]), message);
        }
        // a URL refused for its credentials is not quoted with them (the message goes to a console or a CI log)
        for (String[] bad : new String[][] {{"--app", "http://ops:s3cret@shop:8080"}, {"--egress", "inv=http://ops:s3cret@inventory"},
                {"--egress", "ops:s3cret@inventory"}}) {
            String message = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", bad[0], bad[1])).getMessage();
            assertFalse(message.contains("s3cret"), message);
            assertTrue(message.contains("[hidden]@"), message);
        }
    }

    /**
     * An upstream URL an operator writes is held to what a client can send and a resolver can look up, as replay's
     * {@code --target} is ({@code HttpUrl.baseUrlProblem}): a bidirectional control or an invisible character in the
     * path was taken, shown in the start line and sent in front of every forwarded path; a fragment was dropped
     * unsaid; a broken percent-escape was forwarded as written; a host of RFC 3986's other characters names nothing a
     * resolver looks up. Each is refused at start, naming the option and where it was set, the value shown with codes.
     */
    @Test
    void anUpstreamUrlIsRefusedAtStartForWhatNoClientSendsNorResolverLooksUp(@TempDir Path dir) throws Exception {
        String[][] bad = {
                {"http://shop:8080/\u202eipa/", "'http://shop:8080/\\u202eipa/' is not a base URL to forward to: character U+202E"
                        + " at index 17 is not printable ASCII (percent-encoded as UTF-8, it is %E2%80%AE)"},
                {"http://shop:8080/api\u200b", "'http://shop:8080/api\\u200b' is not a base URL to forward to: character U+200B"
                        + " at index 20 is not printable ASCII (percent-encoded as UTF-8, it is %E2%80%8B)"},
                {"http://shop:8080/caf\u00e9", "'http://shop:8080/caf\u00e9' is not a base URL to forward to: character U+00E9"
                        + " at index 20 is not printable ASCII (percent-encoded as UTF-8, it is %C3%A9)"},
                {"http://shop:8080/#x", "'http://shop:8080/#x' has a fragment ('#x'), which never reaches a server"},
                {"http://shop:8080/a%zz", "'http://shop:8080/a%zz' is not a base URL to forward to: '%zz' in the path is"
                        + " not a percent-escape (% and two hex digits; %25 is a %)"},
                {"http://sh~op:8080", "'http://sh~op:8080' is not a base URL to forward to: host 'sh~op' is not a host name"
                        + " (letters, digits, '-', '.', '_') or an IP address"}};
        String advice = "; give scheme, host, port and an optional base path";
        for (String[] b : bad) {
            assertEquals("option --app: " + b[1] + advice,
                    assertThrows(ConfigException.class, () -> load(Map.of(), "--app", b[0]), b[0]).getMessage());
            assertEquals("option --app (set by TAPLINE_APP): " + b[1] + advice,
                    assertThrows(ConfigException.class, () -> load(Map.of("TAPLINE_APP", b[0])), b[0]).getMessage());
            assertEquals("option --egress: " + b[1] + advice, assertThrows(ConfigException.class,
                    () -> load(Map.of(), "--app", "http://a", "--egress", "inv=" + b[0]), b[0]).getMessage());
            Path file = Files.writeString(dir.resolve("sidecar.properties"), "egress=inv=" + b[0] + "\n");
            assertEquals("option --egress (set in " + file + "): " + b[1] + advice, assertThrows(ConfigException.class,
                    () -> load(Map.of(), "--app", "http://a", "--config", file.toString()), b[0]).getMessage());
        }
        // an escaped character, an escaped '#' and a base path without a trailing slash are what to give instead
        SidecarOptions o = load(Map.of(), "--app", "http://shop:8080/caf%C3%A9", "--egress", "inv=http://[::1]:9000/a%23b");
        assertEquals("/caf%C3%A9", o.app().basePath());
        assertEquals(new SidecarOptions.EgressRoute("inv", "[::1]", 9000, "/a%23b"), o.egressRoutes().get(0));
        // the setters an embedding calls check as the flags do
        assertThrows(ConfigException.class, () -> new SidecarOptions().app("http://shop:8080/#x"));
        assertThrows(ConfigException.class, () -> new SidecarOptions().addEgress("inv", "http://inv:8080/\u202e"));
    }

    @Test
    void shouldRunOnNioUnlessToldNative() {
        assertFalse(load(Map.of(), "--app", "http://a").nativeTransport());
        assertTrue(load(Map.of(), "--app", "http://a", "--proxy-transport", "native").nativeTransport());
        assertTrue(load(Map.of("TAPLINE_PROXY_TRANSPORT", "NATIVE"), "--app", "http://a").nativeTransport());
        assertFalse(load(Map.of("TAPLINE_PROXY_TRANSPORT", "native"), "--app", "http://a", "--proxy-transport", "nio").nativeTransport());
    }

    @Test
    void shouldReadTheRequestBufferAndRefuseOneLargerThanItsBudget() {
        SidecarOptions o = load(Map.of(), "--app", "http://a");
        assertEquals(64 * 1024, o.requestBufferBytes());
        assertEquals(32L << 20, o.requestBufferMaxBytes());
        assertEquals(0, load(Map.of(), "--app", "http://a", "--proxy-request-buffer-bytes", "0").requestBufferBytes());
        String message = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a",
                "--proxy-request-buffer-bytes", "2000000", "--proxy-request-buffer-max-bytes", "1000000")).getMessage();
        assertEquals("option --proxy-request-buffer-bytes: '2000000' is more than --proxy-request-buffer-max-bytes (1000000, "
                + "what all held bodies may take)", message);
        message = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a",
                "--proxy-request-buffer-bytes", "3000000000", "--proxy-request-buffer-max-bytes", "4000000000")).getMessage();
        assertEquals("option --proxy-request-buffer-bytes: '3000000000' is more than 67108864 (one body held in memory)", message);
        assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--proxy-request-buffer-max-bytes", "0"));
    }

    @Test
    void shouldReadTheTunnelIdleTimeout() {
        assertEquals(Duration.ofMinutes(5), load(Map.of(), "--app", "http://a").tunnelIdleTimeout());
        assertEquals(Duration.ofMinutes(30), load(Map.of("TAPLINE_PROXY_TUNNEL_IDLE_TIMEOUT", "30m"), "--app", "http://a").tunnelIdleTimeout());
        assertEquals(Duration.ZERO, load(Map.of(), "--app", "http://a", "--proxy-tunnel-idle-timeout", "0").tunnelIdleTimeout(), "0 = never");
        assertTrue(assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--proxy-tunnel-idle-timeout", "-1s"))
                .getMessage().contains(">= 0"));
    }

    @Test
    void shouldReadTheUpstreamKeepAliveTimeoutInWholeSeconds() {
        assertEquals(Duration.ofSeconds(3), load(Map.of(), "--app", "http://a").upstreamKeepAliveTimeout());
        assertEquals(Duration.ofSeconds(1), load(Map.of("TAPLINE_PROXY_UPSTREAM_KEEPALIVE_TIMEOUT", "1s"), "--app", "http://a")
                .upstreamKeepAliveTimeout());
        assertEquals(Duration.ZERO, load(Map.of(), "--app", "http://a", "--proxy-upstream-keepalive-timeout", "0")
                .upstreamKeepAliveTimeout(), "0 = never");
        // Vert.x counts it in whole seconds: 1500ms would silently be 1 s
        String bad = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a",
                "--proxy-upstream-keepalive-timeout", "1500ms")).getMessage();
        assertTrue(bad.contains("--proxy-upstream-keepalive-timeout") && bad.contains("whole number of seconds"), bad);
        assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--proxy-upstream-keepalive-timeout", "-1s"));
    }

    @Test
    void shouldReadTheDrainTimeout() {
        assertEquals(Duration.ofSeconds(10), load(Map.of(), "--app", "http://a").drainTimeout());
        assertEquals(Duration.ofSeconds(25), load(Map.of("TAPLINE_PROXY_DRAIN_TIMEOUT", "25s"), "--app", "http://a").drainTimeout());
        assertEquals(Duration.ZERO, load(Map.of(), "--app", "http://a", "--proxy-drain-timeout", "0").drainTimeout(), "0 = at once");
        String bad = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--proxy-drain-timeout", "-1s"))
                .getMessage();
        assertTrue(bad.contains("--proxy-drain-timeout") && bad.contains(">= 0"), bad);
    }

    @Test
    void shouldReadTheListenerTimeoutsAndKeepTheIdleTimeoutLongerThanTheUpstreamTimeout() {
        SidecarOptions defaults = load(Map.of(), "--app", "http://a");
        assertEquals(Duration.ofSeconds(75), defaults.idleTimeout());
        assertEquals(Duration.ofSeconds(10), defaults.headerTimeout());
        assertTrue(defaults.idleTimeout().compareTo(defaults.upstreamTimeout()) > 0, "the defaults pass their own check");

        SidecarOptions o = load(Map.of("TAPLINE_PROXY_HEADER_TIMEOUT", "500ms"), "--app", "http://a",
                "--proxy-idle-timeout", "2m", "--proxy-upstream-timeout", "90s");
        assertEquals(Duration.ofMinutes(2), o.idleTimeout());
        assertEquals(Duration.ofMillis(500), o.headerTimeout());
        assertEquals(Duration.ZERO, load(Map.of(), "--app", "http://a", "--proxy-header-timeout", "0").headerTimeout(), "0 = off");

        // An idle timeout that would cut a request still waiting on the app before its 504 is refused, naming both flags.
        String tooShort = assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a",
                "--proxy-idle-timeout", "30s", "--proxy-upstream-timeout", "60s")).getMessage();
        assertTrue(tooShort.contains("--proxy-idle-timeout") && tooShort.contains("--proxy-upstream-timeout"), tooShort);
        assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--proxy-upstream-timeout", "0"));
        assertEquals(Duration.ZERO, load(Map.of(), "--app", "http://a", "--proxy-upstream-timeout", "0", "--proxy-idle-timeout", "0").idleTimeout());
        assertTrue(assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--proxy-header-timeout", "-1s"))
                .getMessage().contains(">= 0"));
    }

    @Test
    void shouldRefuseATimeoutWithoutAUnitSayingHowToWriteIt() {
        assertEquals("option --proxy-upstream-timeout (set by TAPLINE_PROXY_UPSTREAM_TIMEOUT): '30' has no unit; "
                        + "write it with one: 30ms, 30s, 30m, 30h or 30d",
                assertThrows(ConfigException.class, () -> load(Map.of("TAPLINE_PROXY_UPSTREAM_TIMEOUT", "30"), "--app", "http://a"))
                        .getMessage());
        assertEquals("option --capture-outbound-grace: '100' has no unit; write it with one: 100ms, 100s, 100m, 100h or 100d",
                assertThrows(ConfigException.class, () -> load(Map.of(), "--app", "http://a", "--capture-outbound-grace", "100"))
                        .getMessage());
        assertEquals(Duration.ZERO, load(Map.of(), "--app", "http://a", "--proxy-upstream-timeout", "0", "--proxy-idle-timeout", "0")
                .upstreamTimeout(), "a bare 0 is still 0 = none");
        assertEquals(Map.of("linger.ms", "5"), load(Map.of(), "--app", "http://a", "--kafka.producer.linger.ms=5").producerOverrides(),
                "a Kafka client setting is passed through as Kafka reads it, in milliseconds");
    }

    @Test
    void shouldReadTheManagementTokenFromTheEnvironmentAndHideIt() {
        TaplineConfig c = TaplineConfig.load(SidecarOptions.spec(), new String[] {"--app", "http://a"},
                Map.of("TAPLINE_MANAGEMENT_TOKEN", "switch-token-123\n"));
        assertFalse(c.toString().contains("switch-token-123"), c.toString());
        assertEquals("switch-token-123", SidecarOptions.from(c).managementToken(), "a file's trailing newline is not part of it");
        assertNull(load(Map.of(), "--app", "http://a").managementToken(), "none by default");
    }

    @Test
    void shouldHideTheRedactionKeyWhenPrinted() {
        TaplineConfig c = TaplineConfig.load(SidecarOptions.spec(), new String[] {"--app", "http://a", "--redaction-key", "very-secret-key-material"}, Map.of());
        assertFalse(c.toString().contains("very-secret-key-material"));
        assertEquals("very-secret-key-material", SidecarOptions.from(c).redactionKey());
        assertNull(load(Map.of(), "--app", "http://a").redactionKey());
    }

    @Test
    void shouldDocumentEveryKeyInHelp() throws Exception {
        String help = SidecarOptions.spec().help();
        for (Field f : SidecarOptions.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && (f.getName().startsWith("KEY_") || f.getName().startsWith("PREFIX_"))) {
                String key = (String) f.get(null);
                // a pass-through prefix is shown as Kafka names its settings: --kafka.producer.<name>
                String flag = f.getName().startsWith("PREFIX_") ? "--" + key + "<name>" : "--" + key.replace('.', '-');
                assertTrue(help.contains(flag), f.getName() + " (" + flag + ") is missing from --help");
                assertTrue(help.contains(ConfigSpec.envVar(key)), "env var of " + key);
            }
        }
    }

    @Test
    void shouldTurnCaptureOffFromTheEnvironment() {
        assertFalse(load(Map.of("TAPLINE_CAPTURE_ENABLED", "false"), "--app", "http://a").captureEnabled());
    }

    @Test
    void shouldLogThroughTaplinesLoggingSoTheLogOptionsApply() {
        assertTrue(SidecarOptions.spec().options().containsKey(LogOptions.FORMAT));
        assertEquals(TaplineLoggerProvider.class, LoggerFactory.getILoggerFactory().getClass().getEnclosingClass(),
                "the component's jar binds SLF4J to Tapline's logging, and only to it");
    }
}
