package io.tapline.replay.compare;

import io.tapline.avro.Difference;

import java.util.List;

/**
 * The outcome of comparing one recorded response with the candidate's.
 *
 * @param differences differences that count (ignore rules and learned noise already applied)
 * @param ignored     differences suppressed by ignore rules or learned noise
 */
public record Comparison(List<Difference> differences, int ignored) {

    public Comparison {
        differences = List.copyOf(differences);
    }

    public boolean same() {
        return differences.isEmpty();
    }
}
