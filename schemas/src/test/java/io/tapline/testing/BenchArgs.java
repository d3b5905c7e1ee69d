package io.tapline.testing;

import java.util.HashMap;
import java.util.Map;

/** The {@code --option value} pairs of the benchmarks' and soak loads' command lines (run by scripts, not tests). */
public final class BenchArgs {

    private BenchArgs() {
    }

    /** The pairs of {@code args} from index {@code from} on (past a command word), by option name without dashes. */
    public static Map<String, String> parse(String[] args, int from) {
        Map<String, String> out = new HashMap<>();
        for (int i = from; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value, got " + args[i]);
            }
            out.put(args[i].substring(2), args[i + 1]);
        }
        return out;
    }

    /** The value of option {@code name}, which must be given. */
    public static String require(Map<String, String> options, String name) {
        String v = options.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }
}
