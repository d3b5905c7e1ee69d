package io.tapline.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.Http1ServerConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decoder alone on an embedded channel: which heads it marks, and that a marked head is read and framed as Vert.x's
 * decoder reads it. Its answers behind the sidecar and the replay mock are tested there ({@code SidecarProxyTest},
 * {@code MockWireTest}).
 */
class VersionSpellingDecoderTest {

    /** Whether a request in {@code version} with a 5-byte body is marked; checks it is read whole and framed alike. */
    private static boolean decodeMarked(String version) {
        VersionSpellingDecoder decoder = new VersionSpellingDecoder(new Http1ServerConfig());
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.writeInbound(Unpooled.copiedBuffer("POST /p " + version + "\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
                StandardCharsets.US_ASCII));
        HttpRequest head = assertInstanceOf(HttpRequest.class, ch.readInbound(), version);
        assertTrue(head.decoderResult().isSuccess(), version + ": read whole");
        assertEquals("/p", head.uri());
        HttpContent body = assertInstanceOf(LastHttpContent.class, ch.readInbound(), version + ": its body framed");
        assertEquals("hello", body.content().toString(StandardCharsets.US_ASCII));
        body.release();
        boolean marked = decoder.misspelt(head);
        ch.finishAndReleaseAll();
        return marked;
    }

    @ParameterizedTest
    @ValueSource(strings = {"http/1.2", "Http/1.2", "HTTP/1.02", "http/2.0", "http/1.1", "HTTP/01.1", "HTTP/1.10",
            "HTTPS/1.1", "HTTP/11.1"})
    void marksAVersionNotWrittenHttpDigitDotDigit(String version) {
        assertTrue(decodeMarked(version), version);
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/9.9"})
    void leavesAWellFormedVersionUnmarked(String version) {
        assertFalse(decodeMarked(version), version);
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.1", "HTTP/1.0"})
    void readsTheTwoSpellingsOfItsOwnAsNettysConstants(String version) {
        EmbeddedChannel ch = new EmbeddedChannel(new VersionSpellingDecoder(new Http1ServerConfig()));
        ch.writeInbound(Unpooled.copiedBuffer("GET /p " + version + "\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII));
        HttpRequest head = ch.readInbound();
        assertTrue(head.protocolVersion() == HttpVersion.HTTP_1_1 || head.protocolVersion() == HttpVersion.HTTP_1_0,
                "the request line is not looked at: " + head.protocolVersion());
        ch.finishAndReleaseAll();
    }
}
