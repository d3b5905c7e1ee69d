package io.tapline.config;

import io.tapline.config.ConfigSpec.Option;
import io.tapline.http.HttpUrl;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigTransformer;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A component's effective configuration, merged from defaults, a properties file ({@code --config FILE}),
 * {@code TAPLINE_*} environment variables and command-line flags, in that order of increasing precedence.
 */
public final class TaplineConfig {

    /** The user info of a URL ({@code ://user:password@}), hidden when settings are shown. */
    private static final Pattern URL_USER_INFO = Pattern.compile("://[^\\s,]*@");
    /**
     * Every setting the Kafka clients themselves treat as a password (type PASSWORD), whatever its name says:
     * {@code sasl.oauthbearer.assertion.private.key.passphrase} names neither a password nor a secret.
     */
    private static final Set<String> KAFKA_PASSWORDS = kafkaPasswords();

    private final ConfigSpec spec;
    private final Map<String, String> values;
    /** Where a value that came from the environment or the config file was set, for error messages. */
    private final Map<String, String> origins;
    /** The values of repeatable options, each as its option's kind reads it from where it was set. */
    private final Map<String, List<String>> lists;
    private final List<String> positional;
    private final boolean helpRequested;
    private final List<String> unreadVariables;

    private TaplineConfig(ConfigSpec spec, Map<String, String> values, Map<String, String> origins,
                          Map<String, List<String>> lists, List<String> positional, boolean helpRequested,
                          List<String> unreadVariables) {
        this.spec = spec;
        this.values = Collections.unmodifiableMap(values);
        this.origins = Map.copyOf(origins);
        this.lists = Map.copyOf(lists);
        this.positional = List.copyOf(positional);
        this.helpRequested = helpRequested;
        this.unreadVariables = List.copyOf(unreadVariables);
    }

    /**
     * Merges the sources. Unknown flags and properties, values outside a choice (an empty one too), and a flag missing its value are
     * {@link ConfigException}s naming the flag and what is allowed. {@code TAPLINE_*} variables this command does not
     * have are ignored (several components may share one environment); those no command has are listed by
     * {@link #unreadVariables()}. {@code --help} (or {@code -h}) anywhere asks for the help and nothing else: the
     * configuration is then the defaults, whatever else is wrong ({@code --bogus --help} shows the help).
     */
    public static TaplineConfig load(ConfigSpec spec, String[] args, Map<String, String> env) {
        if (helpAsked(spec, args)) {
            Map<String, String> defaults = defaults(spec);
            return new TaplineConfig(spec, defaults, Map.of(), lists(spec, defaults, Map.of()), List.of(), true, List.of());
        }
        Map<String, String> fromFlags = new LinkedHashMap<>();
        Map<String, List<String>> flagLists = new LinkedHashMap<>();
        List<String> positional = new ArrayList<>();
        String configFile = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                positional.add(arg);
                continue;
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (name.equals("config")) {
                if (value == null) {
                    value = requireValue(args, ++i, "--config");
                }
                if (value.isBlank()) { // Path.of("") is the working directory: "cannot read : Is a directory"
                    throw new ConfigException("option --config needs a file name");
                }
                if (configFile != null) { // one file is read: the first one's keys were dropped without a word
                    throw new ConfigException("option --config given twice (" + configFile + ", " + value
                            + "); one file is read, so put every key in it");
                }
                configFile = value;
                continue;
            }
            String key = name.replace('-', '.');
            Option option = spec.optionFor(key);
            if (option == null) {
                throw new ConfigException("unknown option --" + name + " for " + spec.command()
                        + closest(spec, key, Option::usage) + "; options are: "
                        + spec.options().values().stream().map(Option::usage).collect(Collectors.joining(", ")));
            }
            if (value == null) {
                value = option.kind() == Option.Kind.FLAG && !nextIsValue(args, i) ? "true" : requireValue(args, ++i, "--" + name);
            }
            if (option.repeatable()) {
                // each flag kept as given: a REPEATED value is one value whatever commas it holds
                List<String> given = flagLists.computeIfAbsent(key, k -> new ArrayList<>());
                given.addAll(option.kind() == Option.Kind.REPEATED
                        ? (value.isBlank() ? List.of() : List.of(value.trim())) : ConfigSpec.split(value));
                if (fromFlags.containsKey(key)) {
                    value = fromFlags.get(key) + "," + value; // as shown by toString
                }
            }
            fromFlags.put(key, value);
        }

        Map<String, String> merged = defaults(spec);
        Map<String, String> origins = new TreeMap<>();
        if (configFile != null) {
            Map<String, String> fromFile = readFile(spec, Path.of(configFile));
            merged.putAll(fromFile);
            for (String k : fromFile.keySet()) {
                origins.put(k, "set in " + configFile);
            }
        }
        Map<String, String> fromEnv = fromEnvironment(spec, env);
        merged.putAll(fromEnv);
        fromEnv.keySet().forEach(k -> origins.put(k, "set by " + ConfigSpec.envVar(k)));
        merged.putAll(fromFlags);
        fromFlags.keySet().forEach(origins::remove);
        for (Map.Entry<String, String> entry : merged.entrySet()) {
            validate(spec.optionFor(entry.getKey()), entry.getKey(), entry.getValue(), origins.get(entry.getKey()));
        }
        return new TaplineConfig(spec, merged, origins, lists(spec, merged, flagLists), positional, false,
                TaplineVariables.unread(env));
    }

    /** Every option's default (prefixes have none). */
    private static Map<String, String> defaults(ConfigSpec spec) {
        Map<String, String> defaults = new LinkedHashMap<>();
        for (Option option : spec.options().values()) {
            if (option.kind() != Option.Kind.PREFIX && option.defaultValue() != null) {
                defaults.put(option.key(), option.defaultValue());
            }
        }
        return defaults;
    }

    /** Each repeatable option's values: as its flags gave them, else its merged value's comma-separated list. */
    private static Map<String, List<String>> lists(ConfigSpec spec, Map<String, String> merged,
                                                   Map<String, List<String>> flagLists) {
        Map<String, List<String>> lists = new LinkedHashMap<>();
        for (Option option : spec.options().values()) {
            if (option.repeatable()) {
                lists.put(option.key(), List.copyOf(flagLists.containsKey(option.key())
                        ? flagLists.get(option.key()) : ConfigSpec.split(merged.get(option.key()))));
            }
        }
        return lists;
    }

    /**
     * Whether {@code --help} or {@code -h} is on the line, other than as the value of the option before it: the parser
     * reads {@code --worker-id -h} as the worker id {@code -h} ({@code --help} is never a value, as it starts with
     * {@code --}).
     */
    private static boolean helpAsked(ConfigSpec spec, String[] args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                return true;
            }
            if (arg.startsWith("--") && arg.indexOf('=') < 0 && i + 1 < args.length && !args[i + 1].startsWith("--")) {
                String name = arg.substring(2);
                Option option = spec.optionFor(name.replace('-', '.'));
                boolean takesValue = name.equals("config")
                        || option != null && (option.kind() != Option.Kind.FLAG || nextIsValue(args, i));
                if (takesValue) {
                    i++; // its value, as the parser reads it
                }
            }
        }
        return false;
    }

    private static boolean nextIsValue(String[] args, int i) {
        return i + 1 < args.length && (args[i + 1].equalsIgnoreCase("true") || args[i + 1].equalsIgnoreCase("false"));
    }

    private static String requireValue(String[] args, int i, String flag) {
        if (i >= args.length || args[i].startsWith("--")) {
            throw new ConfigException("option " + flag + " needs a value");
        }
        return args[i];
    }

    private static Map<String, String> readFile(ConfigSpec spec, Path file) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException("option --config: no such file: " + file, e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new ConfigException("option --config: permission denied: " + file, e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ConfigException("option --config: " + file + " is not UTF-8 text", e);
        } catch (IllegalArgumentException e) { // Properties.load: a malformed backslash-u escape
            throw new ConfigException("option --config: " + file + ": " + e.getMessage(), e);
        } catch (IOException e) { // a directory, an I/O error
            throw new ConfigException("option --config: cannot read " + file + ": "
                    + (e.getMessage() == null || e.getMessage().equals(file.toString()) ? e.getClass().getSimpleName() : e.getMessage()), e);
        }
        Map<String, String> out = new TreeMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (spec.optionFor(key) == null) {
                throw new ConfigException("unknown key '" + key + "' in config file " + file + closest(spec, key, Option::key)
                        + "; keys are: "
                        + String.join(", ", spec.options().keySet()));
            }
            out.put(key, properties.getProperty(key).trim());
        }
        return out;
    }

    /**
     * The option of the spec closest to an unknown dotted key, as {@code shown} writes it, within a quarter of the key's
     * length in edits (at least 1, at most 3), as {@code " (did you mean --workers?)"}; else empty. As
     * {@link TaplineVariables#unread} names the closest variable, so that a misspelt flag or key is found without
     * reading the whole list ({@code --worker 2} for {@code --workers}).
     */
    private static String closest(ConfigSpec spec, String key, java.util.function.Function<Option, String> shown) {
        int allowed = Math.max(1, Math.min(3, key.length() / 4));
        Option best = null;
        int bestDistance = allowed + 1;
        for (Option option : spec.options().values()) {
            if (option.kind() == Option.Kind.PREFIX) {
                continue; // any name under it is taken
            }
            int d = TaplineVariables.distance(key, option.key(), bestDistance);
            if (d < bestDistance) {
                bestDistance = d;
                best = option;
            }
        }
        return best == null ? "" : " (did you mean " + shown.apply(best) + "?)";
    }

    private static Map<String, String> fromEnvironment(ConfigSpec spec, Map<String, String> env) {
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, String> entry : env.entrySet()) {
            if (!entry.getKey().startsWith(ConfigSpec.ENV_PREFIX)) {
                continue;
            }
            String key = ConfigSpec.keyOf(entry.getKey());
            // a prefix alone (TAPLINE_KAFKA_PRODUCER_) is a variable no command has: warned of by unreadVariables
            Option option = spec.optionFor(key);
            if (option != null && !(option.kind() == Option.Kind.PREFIX && key.equals(option.key()))) {
                out.put(key, entry.getValue());
            }
        }
        return out;
    }

    private static void validate(Option option, String key, String value, String origin) {
        if (option == null) {
            return;
        }
        if (option.kind() == Option.Kind.PREFIX && key.equals(option.key())) {
            // the prefix alone names no setting: accepted, it was passed to no client
            throw new ConfigException("option --" + key + (origin == null ? "" : " (" + origin + ")")
                    + ": a Kafka client setting's name must follow: " + option.usage());
        }
        // an empty value is refused too: no command has a meaning for it (replay read '' as a bad enum name, exit 3)
        if (option.kind() == Option.Kind.CHOICE
                && option.allowed().stream().noneMatch(a -> a.equalsIgnoreCase(value))) {
            throw new ConfigException("option " + option.flag() + (origin == null ? "" : " (" + origin + ")") + ": '"
                    + value + "' is not allowed; allowed values: " + String.join(", ", option.allowed()));
        }
        if (option.kind() == Option.Kind.FLAG && !value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
            throw new ConfigException("option " + option.flag() + (origin == null ? "" : " (" + origin + ")") + ": '" + value
                    + "' is not allowed; allowed values: true, false");
        }
    }

    /**
     * Where the value of {@code key} came from when not from a flag or a default, as {@code " (set by TAPLINE_X)"} or
     * {@code " (set in FILE)"}; else empty. For messages about a value that the flag alone would not lead a user to.
     */
    public String origin(String key) {
        String o = origins.get(key);
        return o == null ? "" : " (" + o + ")";
    }

    public ConfigSpec spec() {
        return spec;
    }

    /**
     * A warning for each {@code TAPLINE_*} variable of the environment that no Tapline command has (a misspelling
     * changes nothing), naming the closest one that exists.
     */
    public List<String> unreadVariables() {
        return unreadVariables;
    }

    public boolean helpRequested() {
        return helpRequested;
    }

    /** Arguments that were not options, in order (e.g. a subcommand). */
    public List<String> positional() {
        return positional;
    }

    public boolean has(String key) {
        String v = values.get(key);
        return v != null && !v.isEmpty();
    }

    public String get(String key) {
        known(key);
        return values.get(key);
    }

    public int getInt(String key) {
        long value = getLong(key);
        if (value > Integer.MAX_VALUE || value < Integer.MIN_VALUE) {
            throw bad(key, "a whole number in int range");
        }
        return (int) value;
    }

    public long getLong(String key) {
        String raw = required(key);
        try {
            return Long.parseLong(raw.trim().replace("_", "")); // blanks around it, as durations and decimals
        } catch (NumberFormatException e) {
            throw bad(key, "a whole number");
        }
    }

    public double getDouble(String key) {
        String raw = required(key);
        try {
            return Double.parseDouble(raw);
        } catch (NumberFormatException e) {
            throw bad(key, "a number");
        }
    }

    public boolean getBoolean(String key) {
        String raw = required(key);
        if (raw.equalsIgnoreCase("true") || raw.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(raw);
        }
        throw bad(key, "true or false");
    }

    /**
     * A Kafka topic name, checked as the brokers check it (not empty, at most 249 of {@code A-Z a-z 0-9 . _ -}, not
     * {@code .} or {@code ..}), so that a bad one stops the command at start rather than once Kafka was reached. Space
     * around it (a variable's trailing newline) is not part of it, as the sidecar always read it.
     */
    public String getTopic(String key) {
        String topic = get(key) == null ? "" : get(key).trim();
        try {
            org.apache.kafka.common.internals.Topic.validate(topic);
        } catch (org.apache.kafka.common.errors.InvalidTopicException e) {
            throw new ConfigException(named(key) + ": '" + topic + "' is not a topic name: " + e.getMessage(), e);
        }
        return topic;
    }

    /** What a Kafka bootstrap list is, as its errors say. */
    static final String BOOTSTRAP_FORM = "host:port[,host:port...], e.g. kafka-0.kafka:9092,kafka-1.kafka:9092 or [::1]:9092";

    /**
     * A list of Kafka bootstrap servers, {@code host:port[,host:port...]}, checked in its form only, so that a bad one
     * stops the command at start naming its option (and the variable or file that set it), the value and what is
     * expected, rather than when a Kafka client is made, with the client's "Failed to construct kafka consumer" or
     * "Invalid url in bootstrap.servers". Each entry is a host name (letters, digits, {@code - _}, dot-separated
     * labels), an IPv4 address or an IPv6 address as RFC 3986 writes one ({@code [::1]:9092}, not {@code [1::2::3]:9092};
     * without brackets the port is after the last {@code :}, as the clients read it), then a port 1-65535. Refused: no entry at all, an empty one (a comma at an
     * end or two in a row, which the clients refuse), an entry without a port or without a host ({@code :9092}, which
     * the clients read as the local host), and a URL ({@code http://kafka:9092}, {@code SASL_SSL://kafka:9093}, whose
     * scheme the clients drop unread). Names are not resolved: a pod may start before DNS has the brokers. Space
     * around an entry is allowed, as the clients trim it.
     *
     * @return the value, unchanged
     */
    public String getBootstrapServers(String key) {
        String list = get(key) == null ? "" : get(key);
        if (list.isBlank() || list.replace(",", "").isBlank()) {
            throw new ConfigException(named(key) + ": must name at least one broker, got '" + list + "'; expected " + BOOTSTRAP_FORM);
        }
        String[] entries = list.split(",", -1);
        for (String entry : entries) {
            String e = entry.trim();
            if (e.isEmpty()) {
                throw new ConfigException(named(key) + ": '" + list + "' has an empty entry (a comma at an end, or two in"
                        + " a row); expected " + BOOTSTRAP_FORM);
            }
            String problem = bootstrapProblem(e);
            if (problem != null) {
                throw new ConfigException(named(key) + ": '" + e + "' is not host:port"
                        + (entries.length > 1 ? " (in '" + list + "')" : "") + ": " + problem + "; expected " + BOOTSTRAP_FORM);
            }
        }
        return list;
    }

    /** What is wrong with one trimmed bootstrap entry, or null if it is {@code host:port}. */
    static String bootstrapProblem(String entry) {
        int scheme = entry.indexOf("://");
        if (scheme >= 0) {
            return "a URL; give host:port without '" + entry.substring(0, scheme + 3) + "' (TLS or SASL is chosen with"
                    + " the Kafka client setting security.protocol)";
        }
        String host;
        String port;
        if (entry.startsWith("[")) {
            int close = entry.indexOf(']');
            if (close < 0) {
                return "no ']' after the IPv6 address";
            }
            host = entry.substring(1, close);
            String rest = entry.substring(close + 1);
            if (rest.isEmpty()) {
                return "no port";
            }
            if (rest.charAt(0) != ':') {
                return "'" + rest + "' after the IPv6 address is not :port";
            }
            port = rest.substring(1);
            if (!ipv6Literal(host)) {
                return "[" + host + "] is not an IPv6 address";
            }
        } else {
            int colon = entry.lastIndexOf(':');
            if (colon < 0) {
                return "no port";
            }
            host = entry.substring(0, colon);
            port = entry.substring(colon + 1);
            if (host.isEmpty()) {
                return "no host";
            }
            boolean valid = host.indexOf(':') >= 0 ? ipv6Literal(host) : hostName(host);
            if (!valid) {
                return "'" + host + "' is not a host name or IP address";
            }
        }
        if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            return port.isEmpty() ? "no port" : "port '" + port + "' is not a number 1-65535";
        }
        return null;
    }

    /** A host name or IPv4 address: dot-separated labels of letters, digits, {@code -} and {@code _}, a root dot allowed. */
    private static boolean hostName(String host) {
        return host.matches("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*\\.?");
    }

    /**
     * An IPv6 address as RFC 3986 writes one ({@link HttpUrl#ipLiteralProblem}: 8 groups of 1-4 hex digits, one
     * {@code ::}, an IPv4 address as the last two), written here without its brackets. Before, any mix of hex digits,
     * {@code :} and {@code .} was taken ({@code [1::2::3]:9092}), and the client refused it when it was made.
     */
    private static boolean ipv6Literal(String host) {
        return HttpUrl.ipLiteralProblem("[" + host + "]") == null;
    }

    /**
     * How an error about {@code topic} names the options among {@code keys} that name it, each with the variable or
     * file that set it ({@code "option --topic-cases (set by TAPLINE_TOPIC_CASES): "}), so that a typo in one of them
     * is found by its name; "" when none of them does. Keys the command does not have are passed over.
     */
    public String optionsNamingTopic(String topic, List<String> keys) {
        List<String> naming = new ArrayList<>();
        for (String key : keys) {
            if (spec.options().containsKey(key) && topic.equals(getTopic(key))) {
                naming.add(ConfigSpec.flag(key) + origin(key));
            }
        }
        return naming.isEmpty() ? "" : "option " + String.join(", ", naming) + ": ";
    }

    /**
     * The longest duration read: what a long counts in nanoseconds, as the JDK's and Netty's timers do, so that
     * no timer and no sum of a duration and a clock overflows once the command runs.
     */
    static final Duration MAX_DURATION = Duration.ofDays(Long.MAX_VALUE / Duration.ofDays(1).toNanos());

    /** The units {@link #getDuration} reads, as a user writes them. */
    private static final List<String> DURATION_UNITS = List.of("ms", "s", "m", "h", "d");

    /**
     * A duration with its unit: {@code 250ms}, {@code 30s}, {@code 5m}, {@code 24h}, {@code 7d}. A bare {@code 0} is
     * zero (it reads the same in every unit); any other bare number is refused, naming the flag and how to write it,
     * for {@code --dedup-retention 7} could mean 7 days as well as 7 ms. One longer than {@link #MAX_DURATION}
     * (106751d) is refused too.
     */
    public Duration getDuration(String key) {
        String raw = required(key).trim().toLowerCase(Locale.ROOT);
        String malformed = "a duration like 250ms, 30s, 5m, 24h or 7d";
        if (raw.matches("[+-]?\\d+")) {
            try {
                if (Long.parseLong(raw) == 0) {
                    return Duration.ZERO;
                }
            } catch (NumberFormatException e) {
                throw bad(key, malformed);
            }
            throw noUnit(key, raw);
        }
        Duration duration;
        try {
            if (raw.endsWith("ms")) {
                duration = Duration.ofMillis(Long.parseLong(raw.substring(0, raw.length() - 2)));
            } else {
                char unit = raw.charAt(raw.length() - 1);
                long amount = Long.parseLong(raw.substring(0, raw.length() - 1));
                duration = switch (unit) {
                    case 's' -> Duration.ofSeconds(amount);
                    case 'm' -> Duration.ofMinutes(amount);
                    case 'h' -> Duration.ofHours(amount);
                    case 'd' -> Duration.ofDays(amount);
                    default -> throw bad(key, malformed);
                };
            }
        } catch (NumberFormatException | StringIndexOutOfBoundsException | ArithmeticException e) {
            throw bad(key, malformed);
        }
        if (duration.abs().compareTo(MAX_DURATION) > 0) {
            throw new ConfigException(named(key) + ": '" + values.get(key) + "' is longer than " + MAX_DURATION.toDays()
                    + "d, the longest duration taken");
        }
        return duration;
    }

    private ConfigException noUnit(String key, String number) {
        List<String> written = DURATION_UNITS.stream().map(unit -> number + unit).toList();
        return new ConfigException(named(key) + ": '" + number + "' has no unit; write it with one: "
                + String.join(", ", written.subList(0, written.size() - 1)) + " or " + written.get(written.size() - 1));
    }

    /**
     * A repeatable or comma-separated option as a list; empty when unset. Flags give one value each (a
     * {@link Option.Kind#MULTI} flag's split on its commas); a variable or the file a comma-separated list. A
     * {@code \,} is a comma within a value wherever it is written.
     */
    public List<String> getList(String key) {
        known(key);
        List<String> list = lists.get(key);
        return list != null ? list : ConfigSpec.split(values.get(key));
    }

    /** Every key under the prefix, with the prefix stripped: for passing to a Kafka client untouched. */
    public Map<String, Object> subset(String prefix) {
        Map<String, Object> out = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix) && k.length() > prefix.length()) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    /**
     * Checks the client settings under {@code prefix} ({@code kafka.producer.}) against the definitions of the Kafka
     * clients that read them, so that a value a client would refuse ({@code --kafka.producer.linger.ms=abc}) stops the
     * command at start with its flag named, as any other bad option does, rather than when the client is made: after
     * the registry or the brokers were reached, with the client's stack trace or a "run did not complete" exit code.
     * A name none of {@code clients} defines is left to the client, which warns of settings it does not use; so is a
     * value holding a config provider's variable ({@code ${file:/etc/kafka.properties:protocol}}), which the client
     * resolves with its {@code config.providers} before it reads the value. A secret's value is never quoted.
     *
     * @param clients the definitions of every client the settings go to (a name is checked by each that has it)
     * @throws ConfigException naming the flag, and where the value was set when not by a flag
     */
    public void checkClientSettings(String prefix, ConfigDef... clients) {
        subset(prefix).forEach((name, value) -> {
            for (ConfigDef client : clients) {
                ConfigDef.ConfigKey setting = client.configKeys().get(name);
                if (setting == null || ConfigTransformer.DEFAULT_PATTERN.matcher(value.toString()).find()) {
                    continue;
                }
                try {
                    Object parsed = ConfigDef.parseType(name, value, setting.type);
                    if (setting.validator != null) {
                        setting.validator.ensureValid(name, parsed);
                    }
                } catch (org.apache.kafka.common.config.ConfigException e) {
                    String key = prefix + name;
                    throw new ConfigException("option --" + key + origin(key) + ": " + (isSecret(key)
                            ? "not a value the Kafka client takes for " + name : e.getMessage()), e);
                }
            }
        });
    }

    /**
     * The value of an option that must have one. An option with a default that a flag, variable or key set to an empty
     * value is named with where that was (a {@code workers=} in the file was "missing required option --workers (env
     * TAPLINE_WORKERS)", neither of which it was).
     */
    private String required(String key) {
        String value = get(key);
        if (value == null || value.isEmpty()) {
            Option option = spec.optionFor(key);
            if (option.defaultValue() != null && !option.defaultValue().isEmpty()) {
                throw new ConfigException(named(key) + ": the value is empty; give one, or leave the option out for its"
                        + " default (" + (option.kind() == Option.Kind.SECRET ? "[hidden]" : option.defaultValue()) + ")");
            }
            throw new ConfigException("missing required option " + option.flag() + " (env " + option.envVar() + ")");
        }
        return value;
    }

    private void known(String key) {
        if (spec.optionFor(key) == null) {
            throw new IllegalArgumentException("option not declared in the spec of " + spec.command() + ": " + key);
        }
    }

    private ConfigException bad(String key, String expected) {
        return new ConfigException(named(key) + ": '" + values.get(key) + "' is not " + expected);
    }

    /**
     * {@code option --flag}, and where its value was set when not by the flag ({@code option --workers (set by
     * TAPLINE_WORKERS)}): how an error about a value names its option, a component's own checks of a range included.
     */
    public String named(String key) {
        Option option = spec.optionFor(key);
        return "option " + (option == null ? key : option.flag()) + origin(key);
    }

    /** Effective settings with secrets (and anything that looks like a password, such as a URL's user info) hidden. */
    @Override
    public String toString() {
        Map<String, String> shown = new TreeMap<>();
        values.forEach((k, v) -> shown.put(k, isSecret(k) ? "[hidden]"
                : v == null ? null : URL_USER_INFO.matcher(v).replaceAll("://[hidden]@")));
        return spec.command() + " " + shown;
    }

    private boolean isSecret(String key) {
        Option option = spec.optionFor(key);
        if (option != null && option.kind() == Option.Kind.SECRET) {
            return true;
        }
        // a pass-through client setting: its name after the prefix (kafka.producer.), or after a client's own prefix
        // inside it (a Streams setting such as producer.ssl.key.password)
        for (int start = 0; ; ) {
            if (KAFKA_PASSWORDS.contains(key.substring(start))) {
                return true;
            }
            int dot = key.indexOf('.', start);
            if (dot < 0) {
                break;
            }
            start = dot + 1;
        }
        String lower = key.toLowerCase(Locale.ROOT);
        return lower.contains("password") || lower.contains("secret") || lower.contains("sasl.jaas")
                || lower.contains("user.info") || lower.endsWith(".key") && !lower.endsWith("topic.key");
    }

    private static Set<String> kafkaPasswords() {
        Set<String> out = new HashSet<>();
        for (ConfigDef def : List.of(ProducerConfig.configDef(), ConsumerConfig.configDef(), AdminClientConfig.configDef())) {
            def.configKeys().forEach((name, key) -> {
                if (key.type == ConfigDef.Type.PASSWORD) {
                    out.add(name);
                }
            });
        }
        return Set.copyOf(out);
    }
}
