package io.tapline.stack;

import io.tapline.text.ShownText;

import java.nio.file.Path;
import java.util.List;

/**
 * A parsed {@code tapline stack} command line.
 *
 * @param action       what to do
 * @param kafkaPort    Kafka's client port (only {@code up} uses it)
 * @param registryPort the schema registry's HTTP port (only {@code up} uses it)
 * @param dataDir      where configs, logs, data and the state file live
 */
public record StackOptions(Action action, int kafkaPort, int registryPort, Path dataDir) {

    public enum Action { UP, DOWN, STATUS, HELP }

    public static final Path DEFAULT_DATA_DIR = Path.of(".tapline");
    static final List<String> ACTIONS = List.of("up", "down", "status", "--help");

    public static final String USAGE = String.join("\n",
            "usage: tapline stack <command> [options]",
            "",
            "Runs a local Apache Kafka broker (KRaft) and an Apicurio schema registry as background processes.",
            "",
            "commands:",
            "  up       start both, wait until healthy, create Tapline's topics, print the addresses",
            "  down     stop exactly the processes that `up` started",
            "  status   show each process: running or stopped, address, health",
            "  --help   this text",
            "",
            "options:",
            "  --kafka-port N      Kafka client port for `up` (default " + KafkaBroker.DEFAULT_PORT + ")",
            "  --registry-port N   schema registry port for `up` (default " + SchemaRegistry.DEFAULT_PORT + ")",
            "  --data-dir DIR      configs, logs and data (default ./.tapline)",
            "");

    /**
     * Thrown for a bad command line; the CLI prints the message and exits with 2. The message is kept as
     * {@link ShownText#oneLine} shows it, as every command's option errors are: an argument it quotes as given (an
     * unknown command or option, a port) shows its control, bidirectional and invisible characters as codes.
     */
    public static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public UsageException(String message) {
            super(ShownText.oneLine(message));
        }
    }

    /** Parses {@code up|down|status|--help} and its flags ({@code --flag N} or {@code --flag=N}). */
    public static StackOptions parse(String... args) {
        Action action = null;
        Integer kafkaPort = null;
        Integer registryPort = null;
        Path dataDir = DEFAULT_DATA_DIR;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String flag = arg;
            String inlineValue = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                flag = arg.substring(0, eq);
                inlineValue = arg.substring(eq + 1);
            }
            switch (flag) {
                case "--help", "-h", "help" -> action = Action.HELP;
                case "up", "down", "status" -> {
                    if (action != null && action != Action.HELP) {
                        throw new UsageException("only one command is allowed, got " + action.name().toLowerCase() + " and " + arg
                                + "; allowed commands: " + String.join(", ", ACTIONS));
                    }
                    if (action == null) {
                        action = Action.valueOf(flag.toUpperCase());
                    }
                }
                case "--kafka-port" -> {
                    String value = inlineValue != null ? inlineValue : value(args, ++i, flag);
                    kafkaPort = port(flag, value);
                }
                case "--registry-port" -> {
                    String value = inlineValue != null ? inlineValue : value(args, ++i, flag);
                    registryPort = port(flag, value);
                }
                case "--data-dir" -> {
                    String value = inlineValue != null ? inlineValue : value(args, ++i, flag);
                    if (value.isBlank()) {
                        throw new UsageException("--data-dir needs a directory path, got an empty value");
                    }
                    dataDir = Path.of(value);
                }
                default -> {
                    if (arg.startsWith("-")) {
                        throw new UsageException("unknown option " + arg
                                + "; allowed options: --kafka-port N, --registry-port N, --data-dir DIR, --help");
                    }
                    throw new UsageException("unknown command " + arg + "; allowed commands: " + String.join(", ", ACTIONS));
                }
            }
        }
        if (action == null) {
            throw new UsageException("missing command; allowed commands: " + String.join(", ", ACTIONS));
        }
        if (action != Action.UP && action != Action.HELP && (kafkaPort != null || registryPort != null)) {
            throw new UsageException((kafkaPort != null ? "--kafka-port" : "--registry-port")
                    + " is only allowed with up (the running stack's ports are read from the data dir)");
        }
        int kafka = kafkaPort != null ? kafkaPort : KafkaBroker.DEFAULT_PORT;
        int registry = registryPort != null ? registryPort : SchemaRegistry.DEFAULT_PORT;
        if (action == Action.UP && kafka == registry) {
            throw new UsageException("--kafka-port and --registry-port must differ, both are " + kafka);
        }
        return new StackOptions(action, kafka, registry, dataDir);
    }

    private static String value(String[] args, int index, String flag) {
        if (index >= args.length || args[index].startsWith("--")) {
            throw new UsageException(flag + " needs a value" + (flag.endsWith("-port") ? ": a port number 1-65535" : ""));
        }
        return args[index];
    }

    private static int port(String flag, String value) {
        int port;
        try {
            port = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " must be a port number 1-65535, got '" + value + "'");
        }
        if (port < 1 || port > 65535) {
            throw new UsageException(flag + " must be a port number 1-65535, got " + port);
        }
        return port;
    }
}
