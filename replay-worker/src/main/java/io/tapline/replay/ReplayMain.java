package io.tapline.replay;

import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.LogOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.logging.StandardStreams;
import io.tapline.replay.run.MetadataTimeoutException;
import io.tapline.replay.run.MissingTopicException;
import io.tapline.text.ShownText;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/** {@code replay-worker.jar replay|report [options]}: parses options and hands over to the command. */
public final class ReplayMain {

    private ReplayMain() {
    }

    public static void main(String[] args) {
        StandardStreams.useUtf8(); // before anything is written: the locale's charset may be ASCII
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length == 0 || !(args[0].equals("replay") || args[0].equals("report"))) {
            // asked for, the usage is an answer (standard output, exit 0); else the error of a missing subcommand
            boolean help = args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"));
            PrintStream to = help ? System.out : System.err;
            to.println("usage: replay-worker.jar replay --run ID --target URL [options]   (--help for all options)");
            to.println("       replay-worker.jar report --run ID --format text|junit|html [--out FILE]");
            return help ? ReplayCommand.EXIT_OK : ReplayCommand.EXIT_USAGE;
        }
        boolean replay = args[0].equals("replay");
        ConfigSpec spec = replay ? ReplayOptions.replaySpec() : ReplayOptions.reportSpec();
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        TaplineConfig config = null;
        try {
            config = TaplineConfig.load(spec, rest, System.getenv());
            LogOptions.apply(config);
            if (config.helpRequested()) {
                System.out.print(spec.help());
                return ReplayCommand.EXIT_OK;
            }
            if (!config.positional().isEmpty()) {
                throw new ConfigException("unexpected argument " + config.positional().get(0) + " (options start with --)");
            }
            if (!replay) {
                return new ReportCommand(config, System.out, System.err).run();
            }
            ReplayCommand command = new ReplayCommand(config, System.out, System.err);
            Thread hook = new Thread(() -> command.stop(java.time.Duration.ofSeconds(30)), "tapline-replay-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            return command.run();
        } catch (ConfigException e) {
            System.err.println("tapline " + args[0] + ": " + e.getMessage());
            return ReplayCommand.EXIT_USAGE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ReplayCommand.EXIT_INCOMPLETE;
        } catch (MetadataTimeoutException e) {
            System.err.println("tapline " + args[0] + ": " + unreachable(config, e));
            return ReplayCommand.EXIT_INCOMPLETE;
        } catch (MissingTopicException e) {
            System.err.println("tapline " + args[0] + ": " + missingTopic(config, e));
            return ReplayCommand.EXIT_INCOMPLETE;
        } catch (RuntimeException e) {
            // a client's or parser's words may quote a value as it was given (Kafka's "Invalid url in bootstrap.servers")
            System.err.println("tapline " + args[0] + ": " + withCauses(e));
            return ReplayCommand.EXIT_INCOMPLETE;
        } catch (Error e) {
            // left to the JVM it exits 1, the gate's "regressions": an OutOfMemoryError while a large run's results are
            // read or a report rendered is a run that did not complete, whatever the results hold
            System.err.println("tapline " + args[0] + ": " + ShownText.oneLine(e.toString()));
            return ReplayCommand.EXIT_INCOMPLETE;
        }
    }

    /**
     * {@code e}, then the message of each cause it does not already hold, on one line as {@link ShownText#oneLine}
     * shows it: a Kafka client's "Failed to construct kafka consumer" says why only in its cause ("No resolvable
     * bootstrap urls given in bootstrap.servers": a broker name DNS does not have yet).
     */
    static String withCauses(Throwable e) {
        StringBuilder out = new StringBuilder(e.toString());
        int depth = 0;
        for (Throwable t = e.getCause(); t != null && depth < 8; t = t.getCause(), depth++) { // a cycle ends too
            String m = t.getMessage() == null ? t.getClass().getName() : t.getMessage();
            if (out.indexOf(m) < 0) {
                out.append(": ").append(m);
            }
        }
        return ShownText.oneLine(out.toString());
    }

    /**
     * What to say when a topic does not exist: the options of the command that name it (with the variable or file that
     * set them; a default too, since the topic may only be missing from this cluster), then the broker's answer.
     * Before, only the topic was named, and a typo in one of the five topic options had to be found by hand.
     */
    static String missingTopic(TaplineConfig config, MissingTopicException e) {
        return config.optionsNamingTopic(e.topic(), List.of(ReplayOptions.TOPIC_CASES, ReplayOptions.TOPIC_NOISE,
                ReplayOptions.TOPIC_RESULTS, ReplayOptions.TOPIC_RUNS, ReplayOptions.TOPIC_DLQ)) + e.getMessage();
    }

    /**
     * What to say when Kafka did not answer: the bootstrap servers tried and the option that sets them (with the
     * variable or file it came from), not the client's bare "Timeout expired while fetching topic metadata". The
     * servers are shown as a {@link ConfigException} shows a value ({@link ShownText#oneLine}).
     */
    static String unreachable(TaplineConfig config, MetadataTimeoutException e) {
        return "option " + ConfigSpec.flag(ReplayOptions.BOOTSTRAP) + config.origin(ReplayOptions.BOOTSTRAP)
                + ": could not reach the Kafka bootstrap servers " + ShownText.oneLine(config.get(ReplayOptions.BOOTSTRAP))
                + " within "
                + config.get(ReplayOptions.KAFKA_TIMEOUT) + " (" + ConfigSpec.flag(ReplayOptions.KAFKA_TIMEOUT)
                + "): no broker answered for the metadata of topic " + e.topic()
                + "; check the address and that the brokers are up";
    }
}
