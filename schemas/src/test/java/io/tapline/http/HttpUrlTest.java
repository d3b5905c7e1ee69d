package io.tapline.http;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpUrlTest {

    @Test
    void showsAUrlWithoutItsUserInfo() {
        assertEquals("http://[hidden]@candidate:8080/base", HttpUrl.shown("http://ci:s3cret@candidate:8080/base"));
        assertEquals("inv=http://[hidden]@inventory", HttpUrl.shown("inv=http://u:p@ss@inventory"));
        assertEquals("[hidden]@prod.example:443", HttpUrl.shown("admin:pw@prod.example:443"));
        assertEquals("http://[hidden]@host/v1", HttpUrl.shown("http://svc:Zm9v/YmFy@host/v1"),
                "a password with an unencoded / ends at the last @, as a registry URL's credentials do");
        assertEquals("http://[hidden]@registry", HttpUrl.shown("http://svc:8081/pw?x#y@registry"));
        assertEquals("http://[hidden]@d", HttpUrl.shown("http://candidate:8080/a@b?c@d"),
                "an @ in a path may end a password as well: what is before it is not shown");
        assertEquals("http://candidate", HttpUrl.shown("http://candidate"));
        assertNull(HttpUrl.shown(null));
    }

    @Test
    void readsAHostNameWithAnUnderscoreThatJavaNetUriDoesNot() {
        assertNull(URI.create("http://inventory_svc:8080/items").getHost(), "the reason this class exists");
        HttpUrl u = HttpUrl.parse("http://inventory_svc:8080/items?id=1");
        assertEquals("inventory_svc", u.host());
        assertEquals(8080, u.port());
        assertEquals("inventory_svc:8080", u.authority());
        assertEquals("/items", u.rawPath());
        assertEquals("id=1", u.rawQuery());
        assertEquals("/items?id=1", u.pathAndQuery());
    }

    @Test
    void readsTheSameHostPortAndPathAsJavaNetUriWhereThatFindsAHost() {
        for (String s : new String[] {"http://a.example.com/x/y?q=1&r=%20", "HTTP://Shop.Example.COM:8080", "http://10.0.0.7:81/",
                "http://[::1]:9090/p", "https://pay.example/api/v1/", "http://h/a%2Fb?x=%C3%A9", "http://h?only=query"}) {
            URI uri = URI.create(s);
            HttpUrl u = HttpUrl.parse(s);
            assertEquals(uri.getHost(), u.host(), s);
            assertEquals(uri.getPort() > 0 ? uri.getPort() : (uri.getScheme().equalsIgnoreCase("https") ? 443 : 80), u.port(), s);
            assertEquals(uri.getPort() > 0, u.portGiven(), s);
            assertEquals(uri.getRawPath(), u.rawPath(), s);
            assertEquals(uri.getRawQuery(), u.rawQuery(), s);
            assertEquals(uri.getScheme().toLowerCase(), u.scheme(), s);
        }
    }

    @Test
    void keepsPathAndQueryBytesThatJavaNetUriRefuses() {
        assertThrows(IllegalArgumentException.class, () -> URI.create("http://h/a|b?f={x}"));
        HttpUrl u = HttpUrl.parse("http://h/a|b?f={x}&p=%zz");
        assertEquals("/a|b", u.rawPath());
        assertEquals("f={x}&p=%zz", u.rawQuery());
    }

    @Test
    void defaultsThePortByScheme() {
        assertEquals(80, HttpUrl.parse("http://h/").port());
        assertEquals(443, HttpUrl.parse("https://h/").port());
        HttpUrl emptyPort = HttpUrl.parse("http://h:/x");
        assertEquals(80, emptyPort.port(), "RFC 3986 3.2.3: an empty port is the scheme's");
        assertFalse(emptyPort.portGiven());
        assertTrue(HttpUrl.parse("http://h:80/").portGiven());
    }

    @Test
    void readsAPortWithLeadingZerosOfAnyLengthByItsValue() {
        // RFC 3986 3.2.3: port = *DIGIT. The Host line took h:042017 (Vert.x reads a port by its value), and an
        // absolute-form target with the same port was refused 400 for its sixth digit; nginx takes both.
        for (String[] c : new String[][] {{"http://h:042017/p", "42017"}, {"http://h:000080/", "80"}, {"http://h:0081", "81"},
                {"http://h:065535/", "65535"}, {"http://[::1]:0000000000000000000000000008080/x", "8080"}}) {
            HttpUrl u = HttpUrl.parse(c[0]);
            assertEquals(Integer.parseInt(c[1]), u.port(), c[0]);
            assertTrue(u.portGiven(), c[0]);
        }
        assertEquals("h:42017", HttpUrl.parse("http://H:042017/p").authority(), "a destination names the port's value");
        // the work is bounded: leading zeros are skipped, then at most five digits are read
        String zeros = "0".repeat(100_000);
        assertEquals(8080, HttpUrl.parse("http://h:" + zeros + "8080/").port());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HttpUrl.parse("http://h:1" + zeros + "/"));
        assertTrue(e.getMessage().length() < 100, "a port quoted in a refusal is cut short: " + e.getMessage().length());
    }

    @Test
    void givesTheOriginFormTargetAndTheBasePath() {
        assertEquals("/", HttpUrl.parse("http://h").pathAndQuery());
        assertEquals("/?a=1", HttpUrl.parse("http://h?a=1").pathAndQuery());
        assertEquals("/p", HttpUrl.parse("http://h/p#frag").pathAndQuery(), "a fragment never reaches a server");
        assertEquals("", HttpUrl.parse("http://pay:8080").basePath());
        assertEquals("", HttpUrl.parse("http://pay:8080/").basePath());
        assertEquals("/api", HttpUrl.parse("http://pay:8080/api").basePath());
        assertEquals("/api/v2", HttpUrl.parse("http://pay:8080/api/v2/").basePath());
    }

    @Test
    void readsPortZeroInATargetThatOnlyNamesAndRefusesItInAUrlThatIsConnectedTo() {
        for (String text : List.of("http://h:0/p", "http://h:00/p", "http://[::1]:000/p")) {
            HttpUrl named = HttpUrl.parseNaming(text);
            assertEquals(0, named.port(), text);
            assertTrue(named.portGiven(), text);
            assertEquals("/p", named.pathAndQuery());
            assertRefused(text, "is not a number 1-65535");
        }
        assertEquals(8080, HttpUrl.parseNaming("http://h:08080/p").port(), "any other port read as by parse");
        assertEquals(80, HttpUrl.parseNaming("http://h/p").port());
        for (String text : List.of("http://h:65536/", "http://h:0123456/", "http://h:8x/", "http://u@h:0/")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HttpUrl.parseNaming(text));
            assertTrue(text.contains("@") ? e.getMessage().contains("user info") : e.getMessage().contains("0-65535"),
                    text + ": " + e.getMessage());
        }
    }

    @Test
    void refusesWhatIsNotAnHttpUrlAndSaysWhy() {
        assertRefused("ftp://h/x", "not an http:// or https:// URL");
        assertRefused("h:8080", "not an http:// or https:// URL");
        assertRefused("http://user:pw@bank.example/", "user info");
        assertRefused("http:///x", "no host");
        assertRefused("http://:8080/x", "no host");
        assertRefused("http://a..b/", "invalid host 'a..b'");
        assertRefused("http://a<b/", "invalid host");
        assertRefused("http://h%zz/", "invalid host");
        assertRefused("http://bücher.example/", "invalid host");
        assertRefused("http://[::1/", "invalid host");
        assertRefused("http://[::1]x/", "invalid host");
        assertRefused("http://[zz]/", "invalid host");
        assertRefused("http://h:0/", "port '0'");
        assertRefused("http://h:65536/", "port '65536'");
        assertRefused("http://h:8x/", "port '8x'");
        assertRefused("http://h:000000/", "port '000000'");
        assertRefused("http://h:065536/", "port '065536'");
        assertRefused("http://h:0123456/", "port '0123456'");
        assertRefused("http://h/a b", "space or control character");
        assertRefused("http://h/a\tb", "space or control character");
    }

    @Test
    void aRefusalQuotesNoPartOfAPasswordWrittenWithAnUnencodedSlashQuestionMarkOrHash() {
        // "user:pa/ss@host" reads as host "user", port "pa" and a path: the port's text is the password's start,
        // and the message is shown beside HttpUrl.shown's, which hides up to the last '@'
        for (String url : List.of("http://ci:s3cr/et@candidate:8080", "http://ci:s3cr?et@candidate",
                "http://ci:s3cr#et@candidate", "http://c<i:pw/x@candidate", "http://ci:99999/x@candidate")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HttpUrl.parse(url), url);
            assertFalse(e.getMessage().contains("s3cr") || e.getMessage().contains("c<i")
                    || e.getMessage().contains("99999"), url + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("percent-encoded"), url + ": " + e.getMessage());
        }
        // without an '@' after it, the host or port is quoted as before
        assertRefused("http://h:8x/a", "port '8x'");
    }

    @Test
    void aBaseUrlWithAnAtInItsPathIsRefusedWithoutQuotingIt() {
        // parses (host ci, port 1234), and would then be shown whole wherever the URL is
        HttpUrl u = HttpUrl.parse("http://ci:1234/5678@candidate");
        assertEquals("has an '@' in its path, which may end a user name and password written with an unencoded '/', '?'"
                + " or '#' (a URL here takes no credentials); write an '@' of the path as %40", u.baseUrlProblem());
        assertNull(HttpUrl.parse("http://candidate:8080/users/%40me").baseUrlProblem(), "written %40 it is taken");
    }

    private static void assertRefused(String url, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HttpUrl.parse(url), url);
        assertTrue(e.getMessage().contains(reason), url + ": " + e.getMessage());
    }

    @Test
    void refusesAnIpLiteralThatIsNoIpv6Address() {
        // RFC 3986 3.2.2: an IP-literal is an IPv6address (or IPvFuture, not taken here). Any mix of hex digits, ':'
        // and '.' was taken: http://[1::2::3]/ reached Vert.x's client, which refused it as it was asked (a 502, where
        // a target whose authority does not parse is a 400), and --app http://[1::2::3] started.
        for (String literal : List.of("[1::2::3]", "[zz::1]", "[::1.2.3]", "[::256.1.1.1]", "[::01.2.3.4]", "[1.2.3.4]",
                "[1:2:3:4:5:6:7:8:9]", "[1:2:3:4:5:6:7]", "[1::2:3:4:5:6:7:8]", "[12345::1]", "[:1::]", "[1::2:]", "[:::]",
                "[::1.2.3.4:5]", "[1:2:3:4:5:6:7:1.2.3.4]", "[::1.2.3.4.5]", "[::.1.2.3]", "[:]")) {
            assertRefused("http://" + literal + ":8080/", "invalid host '" + literal + "': not an IPv6 address");
        }
        assertRefused("http://[v1.x]/", "IPvFuture");
        assertRefused("http://[fe80::1%25eth0]/", "zone");
        for (String literal : List.of("[::]", "[::1]", "[1::]", "[1:2:3:4:5:6:7:8]", "[1::2:3:4:5:6:7]", "[FE80::1]",
                "[::ffff:127.0.0.1]", "[::127.0.0.1]", "[1:2:3:4:5:6:1.2.3.4]", "[::ffff:255.255.255.255]",
                "[64:ff9b::0.0.0.0]", "[abcd:ef01:2345:6789:abcd:ef01:2345:6789]")) {
            assertEquals(literal, HttpUrl.parse("http://" + literal + ":8080/").host(), literal);
        }
    }

    @Test
    void readsTheGroupsOfAnIpv6LiteralAsTheJdkReadsItsBytes() throws Exception {
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0xffff, 0x7f00, 1}, HttpUrl.ipv6Groups("[::ffff:127.0.0.1]"));
        assertArrayEquals(new int[] {0x64, 0xff9b, 0, 0, 0, 0, 0x102, 0x304}, HttpUrl.ipv6Groups("[64:ff9b::1.2.3.4]"));
        assertArrayEquals(new int[8], HttpUrl.ipv6Groups("[::]"));
        // The JDK's parser as the reference (a test may call it: it runs on no event loop)
        for (String literal : List.of("[::1]", "[1::]", "[1:2:3:4:5:6:7:8]", "[1::2:3:4:5:6:7]", "[FE80::1]",
                "[::127.0.0.1]", "[1:2:3:4:5:6:1.2.3.4]", "[::ffff:255.255.255.255]", "[64:ff9b::0.0.0.0]",
                "[abcd:ef01:2345:6789:abcd:ef01:2345:6789]", "[1:2::7:8]", "[1::8]", "[0:0:0:0:0:ffff:10.0.0.1]",
                "[::ffff:0:1.2.3.4]", "[ABCD::0012:1.2.3.4]", "[::0:ffff:1.2.3.4]")) {
            byte[] jdk = java.net.InetAddress.getByName(literal).getAddress();
            byte[] bytes = jdk.length == 16 ? jdk : mapped(jdk);
            int[] expected = new int[8];
            for (int g = 0; g < 8; g++) {
                expected[g] = (bytes[2 * g] & 0xff) << 8 | (bytes[2 * g + 1] & 0xff);
            }
            assertArrayEquals(expected, HttpUrl.ipv6Groups(literal), literal);
        }
        for (String literal : List.of("[1::2::3]", "[zz::1]", "[::1.2.3]", "[12345::1]", "[1:2:3:4:5:6:7:8:9]",
                "[1:2:3:4:5:6:7:1.2.3.4]", "[v1.x]", "[fe80::1%25eth0]", "::1", "[::1", "[]")) {
            assertNull(HttpUrl.ipv6Groups(literal), literal);
        }
    }

    /** The IPv4-mapped IPv6 address of an IPv4 address's bytes (the JDK gives a mapped literal as an IPv4 address). */
    private static byte[] mapped(byte[] ipv4) {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        System.arraycopy(ipv4, 0, b, 12, 4);
        return b;
    }

    @Test
    void namesTheDestinationWithTheHostInLowerCase() {
        // RFC 3986 3.2.2: a host is case-insensitive. LOCALHOST:8080 was recorded apart from localhost:8080, and
        // dedup-stream signed the calls as two dependencies
        HttpUrl u = HttpUrl.parse("http://Inventory.LOCAL:8080/Items");
        assertEquals("inventory.local:8080", u.authority());
        assertEquals("Inventory.LOCAL", u.host(), "the host as written: the dependency gets it so");
        assertEquals("/Items", u.rawPath());
        assertEquals("[fe80::ab]:80", HttpUrl.parse("http://[FE80::AB]/").authority());
        assertEquals("localhost.:8080", HttpUrl.parse("http://localhost.:8080/").authority(),
                "a trailing dot is kept: an absolute name a server may tell apart");
    }

    @Test
    void acceptsTheOtherCharactersOfARegisteredName() {
        assertEquals("h-1.a~b", HttpUrl.parse("http://h-1.a~b/").host());
        assertEquals("%41b", HttpUrl.parse("http://%41b/").host());
        assertEquals("127.0.0.1", HttpUrl.parse("http://127.0.0.1:1/").host());
        assertEquals("[::ffff:10.0.0.1]", HttpUrl.parse("http://[::ffff:10.0.0.1]/").host());
    }
}
