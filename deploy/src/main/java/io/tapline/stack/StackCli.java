package io.tapline.stack;

import io.tapline.logging.StandardStreams;

import java.io.PrintStream;

/**
 * {@code tapline stack up|down|status}: a local Kafka broker and schema registry for development.
 * Exit codes: 0 ok, 1 failure, 2 bad command line, 3 ({@code status}) not running or not healthy.
 */
public final class StackCli {

    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    private StackCli() {
    }

    public static void main(String[] args) {
        StandardStreams.useUtf8(); // before anything is written: the locale's charset may be ASCII
        // The CLI talks to Kafka through the admin client; its INFO logging is noise on a terminal.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        StackOptions options;
        try {
            options = StackOptions.parse(args);
        } catch (StackOptions.UsageException e) {
            err.println("tapline stack: " + e.getMessage());
            err.println("run `tapline stack --help` for usage");
            return EXIT_USAGE;
        }
        if (options.action() == StackOptions.Action.HELP) {
            out.print(StackOptions.USAGE);
            return 0;
        }
        try {
            LocalStack stack = new LocalStack(StackDistribution.fromBuild(), options.dataDir(), out);
            return switch (options.action()) {
                case UP -> stack.up(options.kafkaPort(), options.registryPort());
                case DOWN -> stack.down();
                case STATUS -> stack.status();
                case HELP -> 0;
            };
        } catch (StackException e) {
            err.println("tapline stack: " + e.getMessage());
            return EXIT_FAILURE;
        }
    }
}
