package io.tapline.http;

import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClientRequest;

/**
 * A peer answered, with bytes Vert.x's decoder could not read as HTTP ({@code HELLO}, a status code that is not a
 * number, a head past the client's limit, a broken chunk, a status line naming another version of HTTP): an answer
 * that cannot be relayed or judged, not the lack of one (a connection closed or reset, a timeout). Its message is the
 * decoder's ({@code invalid version format: HELLO}; for another version, {@link StrayResponseBytes}'s: {@code the
 * status line names HTTP/2.0, not HTTP/1.0 or HTTP/1.1}), its cause the decoder's error. The sidecar's proxy says so
 * in its warning and in the call it records, the replay worker in the case's reason and the mock's {@code
 * live-failed} answer.
 */
public final class UnreadableAnswer extends VertxException {

    private UnreadableAnswer(Throwable decoderError) {
        super(decoderError.getMessage() == null ? decoderError.toString() : decoderError.getMessage(), decoderError, true);
    }

    /**
     * {@code failure}, the failure of {@code request}, as an {@code UnreadableAnswer} when it is the decoder's error
     * for an answer that cannot be read as HTTP ({@link StrayResponseBytes#unreadableAnswer}: told by the error itself,
     * not by its message); else {@code failure} itself. For failure paths only.
     */
    public static Throwable of(HttpClientRequest request, Throwable failure) {
        return request != null && StrayResponseBytes.unreadableAnswer(request.connection(), failure)
                ? new UnreadableAnswer(failure) : failure;
    }
}
