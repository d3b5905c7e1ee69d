package io.tapline.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The options a component accepts: key, default, description, and whether the value is secret, one of a fixed
 * set, repeatable, or a prefix passed through to a client untouched. It renders {@code --help}.
 */
public final class ConfigSpec {

    /** How the help writes a backslash that ends a value of a comma-separated list ({@link #split}). */
    private static final String BACKSLASH_ENDING = "\\\\, for a backslash ending one";

    /** One option. {@code key} is dotted; flags, environment variables and properties derive from it. */
    public record Option(String key, String defaultValue, String description, Kind kind, List<String> allowed) {

        /**
         * {@code MULTI}: a repeatable list of names, each value also split on its commas; {@code REPEATED}: a
         * repeatable option whose values may hold commas (a header, a regex), so each flag is one value whole. In
         * a variable or the file, both hold a comma-separated list; {@code \,} is a comma within a value anywhere.
         */
        public enum Kind { VALUE, SECRET, CHOICE, MULTI, REPEATED, PREFIX, FLAG }

        /** Whether the option may be given more than once, its values collecting into a list. */
        public boolean repeatable() {
            return kind == Kind.MULTI || kind == Kind.REPEATED;
        }

        public String flag() {
            return ConfigSpec.flag(key);
        }

        /**
         * The flag as {@code --help} shows it: a prefix's is its dotted key and the client setting's own name,
         * {@code --kafka.producer.<name>} (e.g. {@code --kafka.producer.linger.ms=5}), the form every command takes.
         */
        public String usage() {
            return kind == Kind.PREFIX ? "--" + key + "<name>" : flag();
        }

        public String envVar() {
            return ConfigSpec.envVar(key);
        }
    }

    private final String command;
    private final String summary;
    private final Map<String, Option> options;

    private ConfigSpec(String command, String summary, Map<String, Option> options) {
        this.command = command;
        this.summary = summary;
        this.options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    public static Builder builder(String command, String summary) {
        return new Builder(command, summary);
    }

    public String command() {
        return command;
    }

    public Map<String, Option> options() {
        return options;
    }

    /** The option a key belongs to: its own, or the prefix option it falls under; null when unknown. */
    Option optionFor(String key) {
        Option exact = options.get(key);
        if (exact != null) {
            return exact;
        }
        for (Option option : options.values()) {
            if (option.kind() == Option.Kind.PREFIX && key.startsWith(option.key())) {
                return option;
            }
        }
        return null;
    }

    /** The command-line flag of a dotted key: {@code proxy.idle.timeout} is {@code --proxy-idle-timeout}. */
    public static String flag(String key) {
        return "--" + key.replace('.', '-');
    }

    /** What every component's environment variables start with. */
    public static final String ENV_PREFIX = "TAPLINE_";

    /** Maps a dotted key to its environment variable: {@code capture.max.body.bytes -> TAPLINE_CAPTURE_MAX_BODY_BYTES}. */
    public static String envVar(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** The dotted key a {@code TAPLINE_*} variable sets: {@code TAPLINE_CAPTURE_MAX_BODY_BYTES -> capture.max.body.bytes}. */
    static String keyOf(String variable) {
        return variable.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
    }

    /** Text for {@code --help}: every option, its default and its environment variable. */
    public String help() {
        StringBuilder out = new StringBuilder();
        out.append("Usage: ").append(command).append(" [options]\n\n").append(summary).append("\n\nOptions:\n");
        for (Option option : options.values()) {
            String flag = switch (option.kind()) {
                case PREFIX -> option.usage() + " VALUE";
                case FLAG -> option.flag();
                default -> option.flag() + " VALUE";
            };
            out.append("  ").append(flag).append('\n');
            out.append("      ").append(option.description()).append('\n');
            if (option.kind() == Option.Kind.CHOICE) {
                out.append("      allowed: ").append(String.join(", ", option.allowed())).append('\n');
            }
            if (option.kind() == Option.Kind.MULTI) {
                out.append("      repeatable; or comma-separated (\\, for a comma within a value, ").append(BACKSLASH_ENDING).append(")\n");
            }
            if (option.kind() == Option.Kind.REPEATED) {
                out.append("      repeatable: each ").append(option.flag()).append(" is one value, commas included; in ")
                        .append(option.envVar()).append(" or the file, values are comma-separated")
                        .append(" (\\, for a comma within one, ").append(BACKSLASH_ENDING).append(")\n");
            }
            if (option.defaultValue() != null && !option.defaultValue().isEmpty()) {
                out.append("      default: ").append(option.kind() == Option.Kind.SECRET ? "[hidden]" : option.defaultValue()).append('\n');
            }
            String env = option.kind() == Option.Kind.PREFIX ? envVar(option.key()) + "<NAME>" : option.envVar();
            out.append("      env: ").append(env).append('\n');
        }
        out.append("  --config FILE\n      Properties file with any of the keys above (dotted form, e.g. ")
                .append(options.isEmpty() ? "key" : options.keySet().iterator().next())
                .append("=...). Precedence: flags > environment > file > defaults.\n");
        out.append("  --help\n      Show this help.\n");
        return out.toString();
    }

    public static final class Builder {
        private final String command;
        private final String summary;
        private final Map<String, Option> options = new LinkedHashMap<>();

        private Builder(String command, String summary) {
            this.command = Objects.requireNonNull(command);
            this.summary = Objects.requireNonNull(summary);
        }

        public Builder option(String key, String defaultValue, String description) {
            return add(new Option(key, defaultValue, description, Option.Kind.VALUE, List.of()));
        }

        /** A value hidden in {@code toString()} and {@code --help}. */
        public Builder secret(String key, String defaultValue, String description) {
            return add(new Option(key, defaultValue, description, Option.Kind.SECRET, List.of()));
        }

        /** A value that must be one of {@code allowed} (case-insensitive). */
        public Builder choice(String key, String defaultValue, String description, String... allowed) {
            return add(new Option(key, defaultValue, description, Option.Kind.CHOICE, List.of(allowed)));
        }

        /** A repeatable option; values collect into a list. */
        public Builder multi(String key, String description) {
            return add(new Option(key, "", description, Option.Kind.MULTI, List.of()));
        }

        /**
         * A repeatable option whose values may hold commas (a header, a regex): each flag is one value, commas
         * included; a variable or the file holds a comma-separated list, {@code \,} for a comma within a value.
         */
        public Builder repeated(String key, String description) {
            return add(new Option(key, "", description, Option.Kind.REPEATED, List.of()));
        }

        /** A boolean switch: {@code --dry-run} alone means true. */
        public Builder flag(String key, String description) {
            return add(new Option(key, "false", description, Option.Kind.FLAG, List.of()));
        }

        /** Options declared once for several components (e.g. {@link RedactionOptions#declareRules}), in this place. */
        public Builder with(java.util.function.UnaryOperator<Builder> declarations) {
            return declarations.apply(this);
        }

        /** Any key starting with {@code prefix} (e.g. {@code kafka.producer.}) is accepted and passed through. */
        public Builder prefix(String prefix, String description) {
            String normalised = prefix.endsWith(".") ? prefix : prefix + ".";
            return add(new Option(normalised, "", description, Option.Kind.PREFIX, List.of()));
        }

        private Builder add(Option option) {
            if (options.putIfAbsent(option.key(), option) != null) {
                throw new IllegalArgumentException("option declared twice: " + option.key());
            }
            return this;
        }

        public ConfigSpec build() {
            return new ConfigSpec(command, summary, options);
        }
    }

    /**
     * One value given whole (a flag that is one value, commas included), its backslashes before a comma paired up as
     * {@link #split} pairs them: 2n or 2n+1 backslashes before a comma are n backslashes, and every comma stays the
     * value's ({@code ,} and {@code \,} are a comma, {@code \\,} and {@code \\\,} a backslash and a comma). Any other
     * backslash is kept as it is.
     */
    public static String unescapeCommas(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            int end = i;
            while (end < value.length() && value.charAt(end) == '\\') {
                end++;
            }
            boolean beforeComma = end < value.length() && value.charAt(end) == ',';
            out.append("\\".repeat(beforeComma ? (end - i) / 2 : end - i));
            i = end - 1;
        }
        return out.toString();
    }

    /**
     * A comma-separated list, each value trimmed, empty ones left out. Backslashes mean something only right before a
     * comma, where they pair up: {@code \,} is a comma within a value, {@code \\,} a backslash that ends a value (then
     * the comma between two), {@code \\\,} a backslash and a comma within one; 2n backslashes before a comma are n
     * backslashes and the separator, 2n+1 are n backslashes and a comma (as Windows reads backslashes before a quote).
     * Any other backslash is kept as it is (a regex's {@code \d} stays one, and so does {@code \\}).
     */
    static List<String> split(String value) {
        List<String> out = new ArrayList<>();
        if (value == null) {
            return out;
        }
        StringBuilder part = new StringBuilder();
        for (int i = 0; i <= value.length(); i++) {
            char c = i < value.length() ? value.charAt(i) : ',';
            if (c == '\\') {
                int end = i;
                while (end < value.length() && value.charAt(end) == '\\') {
                    end++;
                }
                if (end < value.length() && value.charAt(end) == ',') {
                    int run = end - i;
                    part.append("\\".repeat(run / 2));
                    if (run % 2 == 1) {
                        part.append(','); // the comma is the value's
                        i = end;
                    } else {
                        i = end - 1; // the comma separates, next turn
                    }
                } else {
                    part.append(value, i, end);
                    i = end - 1;
                }
            } else if (c == ',') {
                String trimmed = part.toString().trim();
                if (!trimmed.isEmpty()) {
                    out.add(trimmed);
                }
                part.setLength(0);
            } else {
                part.append(c);
            }
        }
        return out;
    }
}
