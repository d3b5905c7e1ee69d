package io.tapline.replay;

import io.tapline.config.ConfigException;
import io.tapline.config.TaplineConfig;
import io.tapline.serde.Subjects;
import io.tapline.topics.SharedTopics;

import java.util.ArrayList;
import java.util.List;

import static io.tapline.topics.SharedTopics.and;

/**
 * The refusal of options that name one topic for two of the topics a command reads and writes, from the names alone:
 * checked with the other options, before any Kafka client is made, so it comes at once whether or not a broker
 * answers (exit 2, one line, in the dedup job's wording: {@link SharedTopics}).
 *
 * <p>{@code replay} reads the cases (compacted, written by dedup-stream), the noise profiles (compacted, read only to
 * apply learned noise), the results (it writes them, and reads its run's back for the summary) and the run events
 * (bounds and summaries, compacted: it writes them and reads them back), and writes dead letters (raw case bytes,
 * not compacted). No two of them can share a topic:
 * <ul>
 * <li>each topic is read as one kind of record (the dead letters are not read), so another kind there is
 * undecodable: as a case it is dead-lettered and reported SKIPPED, as a noise profile, a result or a run event it is
 * skipped with a warning. A dead letter written into the cases topic is read by the next run as a case, undecodable
 * again, and dead-lettered again, without end;</li>
 * <li>a dead letter carries its case's key, and a case without one gives one without a key, which a compacted topic
 * (cases, noise, runs) refuses: the batch's transaction aborts on it, every retry alike;</li>
 * <li>under the registry's TopicNameStrategy a topic has one value subject, {@code TOPIC-value}: the worker's result
 * or run event schema registered under the subject of another record's topic is refused by its compatibility check
 * (BACKWARD by default), and the worker's writes fail.</li>
 * </ul>
 * {@code report} reads the results and the run events: one topic for both would read each as the other. Each
 * refusal names the options naming the topic (and where they were set), what the topic would hold, why, and, as the
 * fix, the options after the first to give a topic of their own.
 */
final class TopicRoles {

    /**
     * One topic option of a command: what it keeps there, whether the command reads it, writes it, needs it
     * compacted, and whether its records are Avro under the topic's registry subject.
     */
    private record Role(String option, String records, boolean read, boolean written, boolean compacted,
                        boolean avro) {
    }

    private static final Role CASES = new Role(ReplayOptions.TOPIC_CASES, "cases", true, false, true, true);
    private static final Role NOISE = new Role(ReplayOptions.TOPIC_NOISE, "noise profiles", true, false, true, true);
    private static final Role RESULTS = new Role(ReplayOptions.TOPIC_RESULTS, "results", true, true, false, true);
    private static final Role RUNS = new Role(ReplayOptions.TOPIC_RUNS, "run events", true, true, true, true);
    private static final Role DEAD_LETTERS = new Role(ReplayOptions.TOPIC_DLQ, "dead letters", false, true, false, false);

    private TopicRoles() {
    }

    /**
     * Refuses {@code replay}'s topic options naming one topic for two of its topics. The noise topic is one of them
     * only when learned noise is applied ({@code --compare-learned-noise}): otherwise it is never read.
     *
     * @throws ConfigException naming every shared topic, in one line
     */
    static void checkReplay(TaplineConfig config) {
        List<Role> roles = config.getBoolean(ReplayOptions.USE_NOISE)
                ? List.of(CASES, NOISE, RESULTS, RUNS, DEAD_LETTERS)
                : List.of(CASES, RESULTS, RUNS, DEAD_LETTERS);
        check(config, roles, "the worker");
    }

    /**
     * Refuses {@code report}'s topic options naming one topic for its results and its run events.
     *
     * @throws ConfigException naming the shared topic
     */
    static void checkReport(TaplineConfig config) {
        check(config, List.of(read(RESULTS), read(RUNS)), "the report");
    }

    /** The role as a command that only reads it has it. */
    private static Role read(Role role) {
        return new Role(role.option(), role.records(), true, false, role.compacted(), role.avro());
    }

    private static void check(TaplineConfig config, List<Role> roles, String reader) {
        List<String> options = roles.stream().map(Role::option).toList();
        List<String> refusals = new ArrayList<>();
        SharedTopics.byTopic(config, options).forEach((topic, naming) -> {
            List<Role> sharing = roles.stream().filter(r -> naming.contains(r.option())).toList();
            refusals.add(SharedTopics.refusal(config, options, topic, sharing.stream().map(Role::records).toList(),
                    reasons(topic, sharing, reader), naming.subList(1, naming.size())));
        });
        if (!refusals.isEmpty()) {
            throw new ConfigException(String.join("; ", refusals));
        }
    }

    /** Why the {@code sharing} roles (two or more) cannot share {@code topic}, each reason one clause. */
    private static List<String> reasons(String topic, List<Role> sharing, String reader) {
        List<String> reasons = new ArrayList<>();
        String misread;
        if (sharing.size() == 2) {
            // "the dead letters it writes as cases", "run events as results and results as run events"
            List<String> each = new ArrayList<>();
            for (Role role : sharing) {
                Role other = sharing.get(sharing.get(0) == role ? 1 : 0);
                if (role.read()) {
                    each.add((other.written() ? "the " + other.records() + " it writes" : other.records()) + " as "
                            + role.records());
                }
            }
            misread = and(each);
        } else {
            misread = "it as " + and(sharing.stream().filter(Role::read).map(Role::records).toList())
                    + ", and find the other kinds among each";
        }
        reasons.add(reader + " would read " + misread + (sharing.contains(CASES) && sharing.contains(DEAD_LETTERS)
                ? ", and an undecodable case, dead-lettered into the topic it is read from, would be read by the next "
                + "run and dead-lettered again, without end" : ""));
        List<String> compacted = sharing.stream().filter(Role::compacted).map(Role::records).toList();
        if (sharing.contains(DEAD_LETTERS) && !compacted.isEmpty()) {
            reasons.add(and(compacted) + " need it compacted, dead letters need it not compacted");
        }
        List<Role> avro = sharing.stream().filter(Role::avro).toList();
        if (avro.size() > 1 && avro.stream().anyMatch(Role::written)) {
            reasons.add("the Avro schemas of " + and(avro.stream().map(Role::records).toList()) + " would share the "
                    + "topic's one registry subject, " + Subjects.subject(topic, false) + ", whose compatibility check "
                    + "(BACKWARD by default) refuses the one registered second");
        }
        return reasons;
    }
}
