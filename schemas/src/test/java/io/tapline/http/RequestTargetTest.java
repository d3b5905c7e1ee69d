package io.tapline.http;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class RequestTargetTest {

    /** The bytes as Netty's decoder reads them: one character per byte. */
    private static String asRead(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    @Test
    void asciiIsReturnedAsItIs() {
        String target = "/items/42?q=a%20b&x=%C3%A9";
        assertSame(target, RequestTarget.fromWire(target));
    }

    @Test
    void utf8BytesBecomeTheTextWhoseUtf8TheyAre() {
        byte[] sent = "/caf\u00e9/\u65e5\u672c?q=\u00e9&e=\ud83d\ude00".getBytes(StandardCharsets.UTF_8);
        String text = RequestTarget.fromWire(asRead(sent));
        assertEquals("/caf\u00e9/\u65e5\u672c?q=\u00e9&e=\ud83d\ude00", text);
        assertEquals(new String(sent, StandardCharsets.ISO_8859_1), new String(text.getBytes(StandardCharsets.UTF_8),
                StandardCharsets.ISO_8859_1), "written as UTF-8, the bytes sent");
    }

    @Test
    void bytesThatAreNotUtf8ArePercentEncodedAndValidOnesAroundThemKept() {
        // a Latin-1 é, a lone continuation byte, a sequence cut short, an overlong slash, then valid UTF-8
        byte[] sent = {'/', 'x', (byte) 0xE9, '/', (byte) 0x80, (byte) 0xE2, (byte) 0x82, '/', (byte) 0xC0, (byte) 0xAF,
                '/', (byte) 0xC3, (byte) 0xA9};
        assertEquals("/x%E9/%80%E2%82/%C0%AF/\u00e9", RequestTarget.fromWire(asRead(sent)));
    }

    @Test
    void aPathAndAQueryConvertedApartGiveWhatTheWholeTargetGives() {
        String path = asRead(new byte[] {'/', (byte) 0xC3, (byte) 0xA9, (byte) 0xFF});
        String query = asRead(new byte[] {'q', '=', (byte) 0xFF, (byte) 0xC3, (byte) 0xA9});
        assertEquals(RequestTarget.fromWire(path + "?" + query),
                RequestTarget.fromWire(path) + "?" + RequestTarget.fromWire(query));
    }

    @Test
    void textThatDidNotComeFromTheDecoderIsReturnedAsItIs() {
        String text = "/caf\u00e9/\u65e5";
        assertSame(text, RequestTarget.fromWire(text));
    }
}
