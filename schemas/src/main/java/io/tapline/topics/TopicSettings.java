package io.tapline.topics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Reading a topic's settings as a broker describes them ({@code describeConfigs}), for the start-up checks that
 * judge them (the dedup job's {@code TopicCheck}, the replay worker's {@code CasesTopicCheck}), and the words their
 * refusals and warnings share: what deletes records, a duration in its largest unit, the command that changes a setting.
 */
public final class TopicSettings {

    private TopicSettings() {
    }

    /**
     * What deletes records of a topic by age or size, from its {@code settings}, as
     * {@code retention.ms=604800000 (7 d)} or {@code retention.bytes=1073741824 per partition}, both joined by
     * {@code or}; null when neither is set (both -1).
     */
    public static String deletion(Map<String, String> settings) {
        Long ms = number(settings.get(TopicConfig.RETENTION_MS_CONFIG));
        Long bytes = number(settings.get(TopicConfig.RETENTION_BYTES_CONFIG));
        List<String> limits = new ArrayList<>();
        if (ms != null && ms >= 0) {
            limits.add(TopicConfig.RETENTION_MS_CONFIG + "=" + ms + human(ms));
        }
        if (bytes != null && bytes >= 0) {
            limits.add(TopicConfig.RETENTION_BYTES_CONFIG + "=" + bytes + " per partition");
        }
        return limits.isEmpty() ? null : String.join(" or ", limits);
    }

    /** The policies a topic's {@code cleanup.policy} names ({@code compact}, {@code delete}); empty when it names none. */
    public static List<String> cleanupPolicies(Map<String, String> settings) {
        return Arrays.stream(settings.getOrDefault(TopicConfig.CLEANUP_POLICY_CONFIG, "").split(","))
                .map(String::trim).toList();
    }

    /** A setting's value as a number; null when absent or not one. */
    public static Long number(String value) {
        try {
            return value == null ? null : Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** A duration in milliseconds in the largest whole unit, e.g. {@code " (7 d)"}; "" when below a second. */
    public static String human(long ms) {
        long[] units = {86_400_000L, 3_600_000L, 60_000L, 1_000L};
        String[] names = {"d", "h", "min", "s"};
        for (int i = 0; i < units.length; i++) {
            if (ms >= units[i] && ms % units[i] == 0) {
                return " (" + ms / units[i] + " " + names[i] + ")";
            }
        }
        return "";
    }

    /** The command that sets {@code setting} ({@code name=value}) on {@code topic}, as an operator would run it. */
    public static String alterCommand(String bootstrap, String topic, String setting) {
        return "kafka-configs.sh --bootstrap-server " + bootstrap + " --alter --entity-type topics --entity-name "
                + topic + " --add-config " + setting;
    }
}
