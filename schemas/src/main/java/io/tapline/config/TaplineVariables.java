package io.tapline.config;

import io.tapline.text.ShownText;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The settings of every Tapline command in one list, so a component can tell a {@code TAPLINE_*} variable meant for
 * another command (several share one environment: ignored silently) from one that no command reads (a misspelling,
 * which changes nothing: a warning that names the closest setting). The list is the resource {@value #RESOURCE}, one
 * dotted key per line, a prefix option ending with {@code .}; a test in the demo module, which sees every command,
 * checks it against their specs.
 */
public final class TaplineVariables {

    static final String RESOURCE = "settings.txt";
    private static final List<String> KEYS = load();

    private TaplineVariables() {
    }

    /** Every command's setting keys, as listed in {@value #RESOURCE}. */
    public static List<String> keys() {
        return KEYS;
    }

    /**
     * One warning per {@code TAPLINE_*} variable of {@code env} that no Tapline command reads, in name order, with the
     * closest variable that one does read when the name is a few edits from it. A control, bidirectional or invisible
     * character of a name is shown as its code ({@link ShownText#oneLine}).
     */
    public static List<String> unread(Map<String, String> env) {
        List<String> warnings = new ArrayList<>();
        for (String name : new TreeMap<>(env).keySet()) {
            if (!name.startsWith(ConfigSpec.ENV_PREFIX) || isRead(name)) {
                continue;
            }
            String closest = closest(name);
            // a name the environment may hold any character in: shown as every quoted value is (ShownText)
            warnings.add(ShownText.oneLine(name) + " is ignored: no Tapline command has that setting"
                    + (closest == null ? "" : " (did you mean " + closest + "?)"));
        }
        return warnings;
    }

    private static boolean isRead(String variable) {
        String key = ConfigSpec.keyOf(variable);
        for (String known : KEYS) {
            if (known.endsWith(".") ? key.startsWith(known) && key.length() > known.length() : key.equals(known)) {
                return true;
            }
        }
        return false;
    }

    /** The variable of a setting within a quarter of the name's length in edits (at least 1, at most 3); else null. */
    private static String closest(String variable) {
        int allowed = Math.max(1, Math.min(3, (variable.length() - ConfigSpec.ENV_PREFIX.length()) / 4));
        String best = null;
        int bestDistance = allowed + 1;
        for (String known : KEYS) {
            if (known.endsWith(".")) {
                continue; // a prefix: a variable that starts like it is read
            }
            String candidate = ConfigSpec.envVar(known);
            int d = distance(variable, candidate, bestDistance);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return best;
    }

    /** Levenshtein distance, or any value {@code >= limit} once it is certain to reach it. */
    static int distance(String a, String b, int limit) {
        if (Math.abs(a.length() - b.length()) >= limit) {
            return limit;
        }
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            int rowMin = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
                rowMin = Math.min(rowMin, current[j]);
            }
            if (rowMin >= limit) {
                return limit;
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static List<String> load() {
        InputStream in = TaplineVariables.class.getResourceAsStream(RESOURCE);
        if (in == null) {
            throw new IllegalStateException("resource io/tapline/config/" + RESOURCE + " is missing from the jar");
        }
        List<String> keys = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) {
                String key = line.strip();
                if (!key.isEmpty() && !key.startsWith("#")) {
                    keys.add(key);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(keys);
    }
}
