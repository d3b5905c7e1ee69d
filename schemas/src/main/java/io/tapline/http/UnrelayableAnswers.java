package io.tapline.http;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;

/**
 * Answers a hop cannot pass on as they came, though Vert.x's client read them: the sidecar's proxy answers its client
 * 502 for one, the replay worker's dependency mock 502 {@code live-failed} for a live dependency's. Asked once per
 * answer, on its head: two compares and one header lookup on the usual path.
 */
public final class UnrelayableAnswers {

    private UnrelayableAnswers() {
    }

    /**
     * Why {@code resp} cannot be relayed as it came, or null:
     * <ul>
     *   <li>a status code that is not three digits (RFC 9112 4): Vert.x reads {@code 2000} or {@code 99} as a number,
     *       and written back it makes a status line the client cannot parse (600 to 999 are well-formed, and relayed,
     *       as nginx does: RFC 9110 15 has a client treat them as a 5xx);</li>
     *   <li>a transfer coding other than {@code chunked} alone ({@link #chunkedOrNone}).</li>
     * </ul>
     */
    public static String why(HttpClientResponse resp) {
        int status = resp.statusCode();
        if (status < 100 || status > 999) {
            return "status code " + status + " in the response is not three digits";
        }
        if (!chunkedOrNone(resp.headers())) {
            return "unsupported Transfer-Encoding in the response: "
                    + String.join(", ", resp.headers().getAll(HttpHeaders.TRANSFER_ENCODING));
        }
        return null;
    }

    /**
     * Whether a response's {@code Transfer-Encoding} is absent or {@code chunked} alone, the one transfer coding Vert.x's
     * client decodes (as nginx's proxy takes). Any other is not relayable: {@code Transfer-Encoding} is hop-by-hop and
     * the body reaches the next hop re-framed, so {@code gzip, chunked} would hand it gzip bytes as the content, and an
     * unknown coding its raw framing (RFC 9112 6.1, 6.3). One header lookup on the usual path.
     */
    public static boolean chunkedOrNone(MultiMap headers) {
        String te = headers.get(HttpHeaders.TRANSFER_ENCODING);
        return te == null || (te.trim().equalsIgnoreCase("chunked") && headers.getAll(HttpHeaders.TRANSFER_ENCODING).size() == 1);
    }
}
