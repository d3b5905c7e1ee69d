package io.tapline.http;

import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.http.Http1ServerConfig;
import io.vertx.core.http.impl.http1.VertxHttpRequestDecoder;

/**
 * Vert.x's request decoder, which also notes a head whose HTTP version is not written {@code "HTTP/" DIGIT "." DIGIT}
 * (RFC 9112 2.3, case-sensitive) for {@link MalformedRequests} to refuse.
 *
 * <p>Vert.x's decoder reads the version with Netty's lenient {@code HttpVersion.valueOf} (any name before the
 * {@code /}, in any case, numbers of any length) and hands on what it read in upper case and without leading zeros,
 * so {@code http/1.2} and {@code HTTP/1.02} reach the handlers behind it as {@code HTTP/1.2}. Only the request line as
 * written tells them apart, and only the decoder sees it. {@code valueOf} returns its {@code HTTP_1_1} and
 * {@code HTTP_1_0} constants for those exact spellings alone, so a head in one of them costs one or two reference
 * comparisons more; any other is checked as written.
 *
 * <p>Everything else is Vert.x's decoder, built from the listener's own {@link Http1ServerConfig} as Vert.x builds it
 * (request line and head limits, chunk size, initial buffer; header validation follows the same system property).
 * The mark is the head's identity rather than a failed {@code decoderResult}, which Netty's decoder overwrites once
 * the head's fields are read, and the version read is kept, so the body is framed as before.
 */
final class VersionSpellingDecoder extends VertxHttpRequestDecoder {

    /** The last head whose version is misspelt; held until the next one (its connection closes after its refusal). */
    private HttpMessage misspelt;

    VersionSpellingDecoder(Http1ServerConfig config) {
        super(config);
    }

    @Override
    protected HttpMessage createMessage(String[] initialLine) {
        HttpMessage head = super.createMessage(initialLine);
        HttpVersion v = head.protocolVersion();
        if (v != HttpVersion.HTTP_1_1 && v != HttpVersion.HTTP_1_0 && !wellFormed(initialLine[2])) {
            misspelt = head;
        }
        return head;
    }

    /** Whether {@code head}, which this decoder read, was written in a version that is not {@code HTTP/DIGIT.DIGIT}. */
    boolean misspelt(HttpRequest head) {
        return head == misspelt;
    }

    /** {@code "HTTP/" DIGIT "." DIGIT}, as written (RFC 9112 2.3). */
    static boolean wellFormed(String version) {
        return version.length() == 8 && version.startsWith("HTTP/") && digit(version.charAt(5))
                && version.charAt(6) == '.' && digit(version.charAt(7));
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }
}
