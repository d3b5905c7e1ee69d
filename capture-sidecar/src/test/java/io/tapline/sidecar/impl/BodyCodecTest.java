package io.tapline.sidecar.impl;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BodyCodecTest {

    static byte[] gzip(byte[] in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(in);
        }
        return out.toByteArray();
    }

    @Test
    void shouldDecodeGzipAndZlibDeflate() throws Exception {
        byte[] text = "{\"hello\":\"world\"}".getBytes(StandardCharsets.UTF_8);
        BodyCodec.Decoded g = BodyCodec.decode(gzip(text), "gzip", 1024, false);
        assertArrayEquals(text, g.body());
        assertFalse(g.truncated());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DeflaterOutputStream d = new DeflaterOutputStream(out)) {
            d.write(text);
        }
        assertArrayEquals(text, BodyCodec.decode(out.toByteArray(), "deflate", 1024, false).body());
    }

    @Test
    void shouldStopAtTheCapAndMarkTruncation() throws Exception {
        byte[] big = new byte[100_000];
        Arrays.fill(big, (byte) 'a');
        BodyCodec.Decoded d = BodyCodec.decode(gzip(big), "gzip", 1000, false);
        assertEquals(1000, d.body().length);
        assertTrue(d.truncated());
    }

    @Test
    void shouldNotMarkABodyThatDecodesToExactlyTheCapAsTruncated() throws Exception {
        byte[] exact = new byte[1000];
        Arrays.fill(exact, (byte) 'a');
        BodyCodec.Decoded d = BodyCodec.decode(gzip(exact), "gzip", 1000, false);
        assertArrayEquals(exact, d.body());
        assertFalse(d.truncated(), "the whole body fits the cap: nothing was left out");
        BodyCodec.Decoded over = BodyCodec.decode(gzip(Arrays.copyOf(exact, 1001)), "gzip", 1000, false);
        assertEquals(1000, over.body().length);
        assertTrue(over.truncated(), "one byte more than the cap");
        // the capture cut the encoded bytes where a gzip member ends: the decoded cap is whole, the body went on
        byte[] member = gzip(exact);
        byte[] twoMembers = Arrays.copyOf(member, member.length * 2);
        System.arraycopy(member, 0, twoMembers, member.length, member.length);
        BodyCodec.Decoded cut = BodyCodec.decode(Arrays.copyOf(twoMembers, member.length), "gzip", 1000, true);
        assertArrayEquals(exact, cut.body());
        assertTrue(cut.truncated(), "the encoded body was cut by the capture: what followed is not in the copy");
        // damaged past the cap (here its CRC): the copy is kept, cut at the cap, not taken as whole
        byte[] damaged = member.clone();
        damaged[damaged.length - 8] ^= 1;
        BodyCodec.Decoded tail = BodyCodec.decode(damaged, "gzip", 1000, false);
        assertArrayEquals(exact, tail.body());
        assertTrue(tail.truncated(), "a failure past the cap reads as a body cut there");
    }

    @Test
    void shouldDecodeThePrefixOfACutStream() throws Exception {
        byte[] big = new byte[50_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + (i * 7919 % 26));
        }
        byte[] z = gzip(big);
        BodyCodec.Decoded d = BodyCodec.decode(Arrays.copyOf(z, z.length / 2), "gzip", 100_000, true);
        assertNotNull(d);
        assertTrue(d.truncated());
        assertTrue(d.body().length > 0);
        assertArrayEquals(Arrays.copyOf(big, d.body().length), d.body());
    }

    @Test
    void shouldReturnNullForBytesThatAreNotGzip() {
        assertNull(BodyCodec.decode("plain".getBytes(StandardCharsets.UTF_8), "gzip", 100, false));
        assertFalse(BodyCodec.decodable("br"));
        assertTrue(BodyCodec.decodable("GZIP"));
    }
}
