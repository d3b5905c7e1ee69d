package io.tapline.sidecar.impl;

/**
 * One finished proxied exchange as the engine saw it.
 *
 * @param request     captured request head and body copy
 * @param response    captured response, null when no response came from the upstream
 * @param statusSent  status the client got (the upstream's, or 502/504 from the proxy), {@link #NO_RESPONSE} if none
 * @param startMillis wall-clock time the request head arrived
 * @param startNanos  monotonic time the request head arrived
 * @param endMillis   wall-clock time the response ended (or failed)
 * @param endNanos    monotonic time the response ended (or failed)
 * @param error       transport error, null when the exchange completed
 */
public record Exchange(CapturedMessage request, CapturedMessage response, int statusSent, long startMillis,
                       long startNanos, long endMillis, long endNanos, String error) {

    /**
     * {@link #statusSent} of an exchange whose client closed the connection before any response reached it: no
     * answer was observed, so it is no test case and is not published.
     */
    public static final int NO_RESPONSE = 0;

    public long durationMicros() {
        return (endNanos - startNanos) / 1000;
    }

    /** True when a body copy ran out of capture budget: the exchange cannot be published as it happened. */
    boolean overBudget() {
        return request != null && request.body.overBudget() || response != null && response.body.overBudget();
    }

    /** Gives back what the body copies and the heads took from the capture budget. */
    void releaseBudget() {
        if (request != null) {
            request.body.releaseBudget();
            request.releaseHead();
        }
        if (response != null) {
            response.body.releaseBudget();
            response.releaseHead();
        }
    }

    /** Pays for both heads from the budget ({@link CapturedMessage#chargeHead}); false when it cannot. */
    boolean chargeHeads(CaptureBudget budget) {
        return (request == null || request.chargeHead(budget)) && (response == null || response.chargeHead(budget));
    }
}
