package io.tapline.sidecar.impl;

import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The host Vert.x's client dials for an IPv6 literal written with an IPv4 part ({@link ProxyEngine#dialable}), which
 * that client cannot parse as it is written.
 */
class DialHostTest {

    @Test
    void anIpv4MappedAddressIsDialledAsTheIpv4AddressItMaps() {
        assertEquals("127.0.0.1", ProxyEngine.dialable("[::ffff:127.0.0.1]"));
        assertEquals("10.0.0.1", ProxyEngine.dialable("[::FFFF:10.0.0.1]"));
        assertEquals("1.2.3.4", ProxyEngine.dialable("[0:0:0:0:0:ffff:1.2.3.4]"));
        assertEquals("255.255.255.255", ProxyEngine.dialable("[::ffff:255.255.255.255]"));
    }

    @Test
    void anyOtherLiteralWithAnIpv4PartIsDialledInHexGroups() {
        assertEquals("[0:0:0:0:0:0:7f00:1]", ProxyEngine.dialable("[::127.0.0.1]"));
        assertEquals("[64:ff9b:0:0:0:0:102:304]", ProxyEngine.dialable("[64:ff9b::1.2.3.4]"));
        assertEquals("[0:0:0:0:ffff:0:102:304]", ProxyEngine.dialable("[::ffff:0:1.2.3.4]"));
        assertEquals("[abcd:0:0:0:0:12:102:304]", ProxyEngine.dialable("[ABCD::0012:1.2.3.4]"));
    }

    @Test
    void aLiteralThatIsNoIpv6AddressIsLeftAsWritten() {
        for (String literal : List.of("[1::2::3.4.5.6]", "[::1.2.3]", "[::256.0.0.1]", "[v1.x]", "[fe80::1.2.3.4%25eth0]")) {
            assertEquals(literal, ProxyEngine.dialable(literal), literal);
        }
    }

    /** The form the dialled host had when the JDK's parser made it: unchanged (a test may call it, off any event loop). */
    @Test
    void givesTheFormTheJdksParserGives() throws Exception {
        for (String literal : List.of("[::ffff:127.0.0.1]", "[::127.0.0.1]", "[64:ff9b::1.2.3.4]", "[1:2:3:4:5:6:1.2.3.4]",
                "[::0:ffff:1.2.3.4]", "[::ffff:0:1.2.3.4]", "[::1.2.3.4]", "[::0.0.0.1]", "[ABCD::0012:1.2.3.4]",
                "[1::0.0.0.0]", "[0:0:0:0:0:ffff:1.2.3.4]", "[fedc:ba98:7654:3210:fedc:ba98:1.2.3.4]")) {
            InetAddress a = InetAddress.getByName(literal);
            String jdk = a instanceof Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress();
            assertEquals(jdk, ProxyEngine.dialable(literal), literal);
        }
    }
}
