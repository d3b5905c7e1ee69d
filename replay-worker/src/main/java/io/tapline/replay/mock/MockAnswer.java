package io.tapline.replay.mock;

import io.tapline.avro.OutboundCall;

/**
 * What the mock does with one outbound call.
 *
 * @param recorded the recorded call to answer from, null when unmatched
 * @param score    match score of {@code recorded} (the best score seen when unmatched)
 */
public record MockAnswer(OutboundCall recorded, double score) {

    public boolean matched() {
        return recorded != null;
    }
}
