package io.tapline.topics;

import io.tapline.config.ConfigSpec;
import io.tapline.config.TaplineConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Options that name one topic for things a command cannot keep on one topic, found from the names alone and refused
 * in one wording by the dedup job ({@code TopicCheck.shared}) and the replay worker ({@code TopicRoles}): which
 * topics are named by several options ({@link #byTopic}), and the part of the refusal that names one of them
 * ({@link #refusal}). What cannot share a topic, and why, is each command's own: it knows what it does with each.
 */
public final class SharedTopics {

    private SharedTopics() {
    }

    /**
     * The topics named by more than one of {@code options}, in the order they are first named, each with the options
     * naming it, in the order given. A pure comparison of the names ({@link TaplineConfig#getTopic}, which refuses one
     * that is not a topic name), asking no broker.
     */
    public static Map<String, List<String>> byTopic(TaplineConfig config, List<String> options) {
        Map<String, List<String>> naming = new LinkedHashMap<>();
        for (String option : options) {
            naming.computeIfAbsent(config.getTopic(option), t -> new ArrayList<>()).add(option);
        }
        naming.values().removeIf(named -> named.size() < 2);
        return naming;
    }

    /**
     * One shared topic's part of a refusal: every option of {@code options} naming it (with the variable or file that
     * set it), the topic, what it would hold, why that cannot be, and the options to give a topic of their own, e.g.
     * {@code option --topic-cases, --topic-dlq: topic tapline.cases holds cases and dead letters: WHY (fix: give
     * --topic-dlq a topic of its own)}. Several reasons are joined with {@code ", and "}; several topics' parts are the
     * caller's to join, with {@code "; "}.
     *
     * @param records what each option naming it would keep there, in their order ("cases", "dead letters")
     * @param moved   the keys of the options the fix names
     */
    public static String refusal(TaplineConfig config, List<String> options, String topic, List<String> records,
                                 List<String> reasons, List<String> moved) {
        return config.optionsNamingTopic(topic, options) + "topic " + topic + " holds " + and(records) + ": "
                + String.join(", and ", reasons) + " (fix: give " + and(moved.stream().map(ConfigSpec::flag).toList())
                + (moved.size() == 1 ? " a topic of its own)" : " topics of their own)");
    }

    /** {@code a}, {@code a and b}, {@code a, b and c}. */
    public static String and(List<String> items) {
        int last = items.size() - 1;
        return last == 0 ? items.get(0) : String.join(", ", items.subList(0, last)) + " and " + items.get(last);
    }
}
