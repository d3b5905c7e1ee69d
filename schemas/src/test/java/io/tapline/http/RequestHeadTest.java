package io.tapline.http;

import io.tapline.text.ShownText;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class RequestHeadTest {

    private static final HostAndPort STALE = HostAndPort.create("stale.example", -1);

    @Test
    void shouldNameNoAuthorityForAnAbsoluteFormTargetThatDoesNotParseRatherThanTheHostLines() {
        // RFC 9112 3.2.2: the target's authority replaces the Host line. One that does not parse named the Host line's
        // host, another than the target named (bank.example@evil.example is evil.example to a reader of URLs)
        for (String target : List.of("http://bank.example@evil.example/x", "http://other.example:99999/x", "http:///x",
                "http://a..b/x", "HTTP://u:p@other.example/")) {
            assertNull(RequestHead.authority(target, STALE), target);
        }
        assertEquals(HostAndPort.create("other.example", 9), RequestHead.authority("http://other.example:9/x", STALE));
        assertEquals(HostAndPort.create("other.example", -1), RequestHead.authority("HTTP://other.example/x", STALE));
        assertEquals(HostAndPort.create("other.example", 42017), RequestHead.authority("http://other.example:042017/x", STALE),
                "a zero-padded port as the Host line's h:042017 is read: by its value");
        assertSame(STALE, RequestHead.authority("/x", STALE), "an origin-form target names the Host line's");
        assertSame(STALE, RequestHead.authority("*", STALE));
        assertNull(RequestHead.authority("/x", null), "an HTTP/1.0 request without Host names none");
    }

    @Test
    void shouldTakeAHostLineNamingAnyIpv6LiteralAndRefuseOneNamingNone() {
        // Vert.x's parser of the Host line cannot read an IPv6 literal with an IPv4 part (RFC 3986 ls32), which curl,
        // Python and Java send for http://[::ffff:127.0.0.1]:8080/: it was refused 400 "invalid Host header"
        for (String host : List.of("[::ffff:127.0.0.1]:8080", "[::ffff:127.0.0.1]", "[::127.0.0.1]:1",
                "[1:2:3:4:5:6:1.2.3.4]:8080", "[::1]:8080", "[FE80::1]", "[::ffff:127.0.0.1]:")) {
            assertNull(RequestHead.check(host(host), HttpVersion.HTTP_1_1, HostAndPort.parseAuthority(host, -1)), host);
        }
        assertEquals(HostAndPort.create("[::ffff:127.0.0.1]", 8080),
                RequestHead.hostLine(host("[::ffff:127.0.0.1]:8080"), null), "what the app and the record are given");
        assertEquals(HostAndPort.create("[::1.2.3.4]", -1), RequestHead.hostLine(host("[::1.2.3.4]"), null));
        // Vert.x reads [zz::1] and [v1.x] as hosts: neither is an IPv6 address
        for (String host : List.of("[1::2::3]", "[::1", "[zz::1]", "[zz::1]:80", "[v1.x]", "[::ffff:127.0.0.1]:99999",
                "[::ffff:127.0.0.1]x", "[::ffff:127.0.0.1]:8:8", "[::ffff:256.0.0.1]", "[::1]]", "[[::1]]")) {
            assertEquals(new RequestHead.Refusal(400, "invalid Host header"),
                    RequestHead.check(host(host), HttpVersion.HTTP_1_1, HostAndPort.parseAuthority(host, -1)), host);
            assertNull(RequestHead.hostLine(host(host), HostAndPort.parseAuthority(host, -1)), host);
        }
    }

    @Test
    void shouldReadAHostLineWithAnEmptyPortAsNamingNoPort() {
        // RFC 3986 3.2.3 allows an empty port, the scheme's default (6.2.3); Vert.x reads it as port 0, and the app
        // behind the sidecar got Host: h:0 (nginx passes h: as sent in $http_host, h in $host)
        for (String[] c : new String[][] {{"h:", "h"}, {"[::1]:", "[::1]"}, {"[::ffff:127.0.0.1]:", "[::ffff:127.0.0.1]"}}) {
            assertNull(RequestHead.check(host(c[0]), HttpVersion.HTTP_1_1, HostAndPort.parseAuthority(c[0], -1)), c[0]);
            assertEquals(HostAndPort.create(c[1], -1), RequestHead.hostLine(host(c[0]), HostAndPort.parseAuthority(c[0], -1)),
                    c[0]);
        }
        assertEquals(HostAndPort.create("h", 0), RequestHead.hostLine(host("h:0"), HostAndPort.parseAuthority("h:0", -1)),
                "a port 0 written is kept");
    }

    @Test
    void shouldTakeAZeroPaddedPortOfAnyLengthInTheHostLineAndTheTargetAlike() {
        // port = *DIGIT (RFC 3986 3.2.3): the Host line took h:042017 and the absolute form refused it (400)
        for (String authority : List.of("h:042017", "h:0000080", "[::1]:000000443", "h:065535")) {
            assertNull(RequestHead.check(host(authority), HttpVersion.HTTP_1_1, HostAndPort.parseAuthority(authority, -1)),
                    authority);
            assertNull(RequestHead.targetRefusal(HttpMethod.GET, "http://" + authority + "/p"), authority);
            assertEquals(RequestHead.hostLine(host(authority), HostAndPort.parseAuthority(authority, -1)),
                    RequestHead.authority("http://" + authority + "/p", STALE), authority);
        }
        // and a value past 65535 is refused in both, however it is padded
        for (String authority : List.of("h:065536", "h:00099999", "h:0123456")) {
            assertEquals(new RequestHead.Refusal(400, "invalid Host header"),
                    RequestHead.check(host(authority), HttpVersion.HTTP_1_1, HostAndPort.parseAuthority(authority, -1)),
                    authority);
            assertSame(RequestHead.INVALID_TARGET, RequestHead.targetRefusal(HttpMethod.GET, "http://" + authority + "/p"),
                    authority);
        }
    }

    @Test
    void shouldTakePortZeroInTheTargetAsInTheHostLine() {
        // the Host line took h:0 and the absolute form refused it (400): the target's authority replaces the Host line
        // (RFC 9112 3.2.2) and is never connected to, so it is read as the line is
        for (String authority : List.of("h:0", "h:00", "[::1]:0", "[::ffff:127.0.0.1]:000")) {
            assertNull(RequestHead.targetRefusal(HttpMethod.GET, "http://" + authority + "/p"), authority);
            HostAndPort line = RequestHead.hostLine(host(authority), HostAndPort.parseAuthority(authority, -1));
            assertEquals(0, line.port(), authority);
            assertEquals(line, RequestHead.authority("http://" + authority + "/p", STALE), authority);
        }
    }

    @Test
    void shouldRefuseAnAbsoluteFormTargetWhoseIpLiteralIsNoIpv6Address() {
        // Vert.x's client refused it as it was asked: a 502 rather than the 400 of any target that does not parse
        for (String target : List.of("http://[1::2::3]/x", "http://[zz::1]:8080/", "http://[v1.x]/", "http://[::1.2.3]/")) {
            assertSame(RequestHead.INVALID_TARGET, RequestHead.targetRefusal(HttpMethod.GET, target), target);
            assertNull(RequestHead.authority(target, STALE), target);
        }
        assertNull(RequestHead.targetRefusal(HttpMethod.GET, "http://[::ffff:127.0.0.1]:8080/x"));
    }

    private static MultiMap host(String value) {
        return MultiMap.caseInsensitiveMultiMap().add("Host", value);
    }

    @Test
    void shouldRefuseATargetInNoFormTheRequestMayTake() {
        for (String target : List.of("", "x", "@evil/x", "?a=1", "*", "a.example:80", "ftp://a/x", "**")) {
            assertSame(RequestHead.INVALID_TARGET, RequestHead.targetRefusal(HttpMethod.GET, target), target);
        }
        assertSame(RequestHead.INVALID_TARGET, RequestHead.targetRefusal(HttpMethod.OPTIONS, "*x"));
        for (String target : List.of("/", "/hello", "/a?b=c", "http://x/hello", "HTTP://x/hello?a=1", "https://x/", "http://x",
                "/caf\u00c3\u00a9")) {
            assertNull(RequestHead.targetRefusal(HttpMethod.GET, target), target);
        }
        assertNull(RequestHead.targetRefusal(HttpMethod.OPTIONS, "*"), "a server-wide OPTIONS");
        assertEquals(new RequestHead.Refusal(400, "invalid request target"), RequestHead.INVALID_TARGET);
    }

    @Test
    void shouldRefuseAnAbsoluteFormTargetWhoseAuthorityDoesNotParse() {
        for (String target : List.of("http://bank.example@other.example/x", "http://u:p@other.example/x",
                "http://other.example:99999/x", "http:///x", "http://a..b/x", "http://other.example\\@evil.example/x")) {
            assertSame(RequestHead.INVALID_TARGET, RequestHead.targetRefusal(HttpMethod.GET, target), target);
        }
    }

    @Test
    void shouldRefuseASpaceOrAControlCharacterInTheTargetButNotABytePast0x7F() {
        for (String target : List.of("/a\u0000b", "/a\u0001b", "/a\u001b[31mb", "/a\u007fb", "/a?q=\u0000", "/a\u001fb", "/a b",
                "/a\tb", "/\r", "http://x/a\u0000b", "http://x/a b")) {
            assertSame(RequestHead.INVALID_TARGET, RequestHead.targetRefusal(HttpMethod.GET, target), ShownText.oneLine(target));
        }
        for (String target : List.of("/a\u0080b", "/a\u00ffb", "/~")) {
            assertNull(RequestHead.targetRefusal(HttpMethod.GET, target), ShownText.oneLine(target));
        }
    }
}
