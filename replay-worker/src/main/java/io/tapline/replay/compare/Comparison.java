package io.tapline.replay.compare;

import io.tapline.avro.Difference;

import java.util.List;

/**
 * The outcome of comparing one recorded response with the candidate's.
 *
 * @param differences differences that count (ignore rules and learned noise already applied)
 * @param ignored     differences suppressed by ignore rules or learned noise
 * @param notes       what could not be compared and why (a recorded body truncated at capture)
 */
public record Comparison(List<Difference> differences, int ignored, List<String> notes) {

    public Comparison {
        differences = List.copyOf(differences);
        notes = List.copyOf(notes);
    }

    public boolean same() {
        return differences.isEmpty();
    }
}
