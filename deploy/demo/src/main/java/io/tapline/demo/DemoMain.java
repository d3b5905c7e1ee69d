package io.tapline.demo;

import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.LogOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.logging.StandardStreams;
import io.tapline.logging.TaplineLogging;
import io.tapline.text.ShownText;
import org.slf4j.event.Level;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/** {@code ./tapline demo}: the whole pipeline end to end on an embedded local stack. */
public final class DemoMain {

    static final ConfigSpec SPEC = ConfigSpec.builder("tapline demo",
                    "Runs the whole pipeline end to end on a local broker and registry and prints the replay report.")
            .option("root", ".", "Repository root, where the component jars were built.")
            .option("work.dir", ".tapline/demo", "Directory for logs, reports and the demo's broker data.")
            .option("requests", "3000", "Requests driven through the capture sidecar.")
            .build();

    private DemoMain() {
    }

    public static void main(String[] args) {
        StandardStreams.useUtf8(); // before anything is written: the locale's charset may be ASCII
        System.exit(run(args));
    }

    /** The demo's settings, checked before anything starts: a bad value is a {@link ConfigException} naming its flag. */
    static DemoSettings settings(TaplineConfig config) {
        if (!config.positional().isEmpty()) {
            throw new ConfigException("unexpected argument " + config.positional().get(0) + " (options start with --)");
        }
        int requests = config.getInt("requests");
        if (requests < 1) {
            throw new ConfigException("option --requests: '" + config.get("requests") + "' is not a whole number >= 1");
        }
        Path root = Path.of(config.get("root")).toAbsolutePath().normalize();
        return new DemoSettings(root, root.resolve(config.get("work.dir")).normalize(), requests);
    }

    /**
     * What failed, as the demo prints it: a {@link DemoException}'s message, any other exception as its class and
     * message. Each line is shown with {@link ShownText#oneLine}: the message quotes paths built from {@code --root}
     * and {@code --work.dir} and the last lines of a component's log, so an ESC, a right-to-left override or a
     * zero-width space in them is shown as its code rather than acting on the terminal. The lines a message holds on
     * purpose (a log's tail, a command's output) stay lines.
     */
    static String failure(Exception e) {
        String message = e instanceof DemoException ? e.getMessage() : e.toString();
        if (message == null) {
            return e.getClass().getName();
        }
        return Arrays.stream(message.split("\r?\n", -1)).map(ShownText::oneLine).collect(Collectors.joining("\n"));
    }

    static int run(String[] args) {
        // The demo prints its own progress; libraries speak only when something is wrong.
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.WARN);
        TaplineConfig config;
        DemoSettings settings;
        try {
            config = TaplineConfig.load(SPEC, args, System.getenv());
            LogOptions.warnUnreadVariables(config);
            if (config.helpRequested()) {
                System.out.print(SPEC.help());
                return 0;
            }
            settings = settings(config);
        } catch (ConfigException e) {
            System.err.println("tapline demo: " + e.getMessage());
            return 2;
        }
        Demo demo = new Demo(settings, System.out);
        Thread hook = new Thread(demo::close, "tapline-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return demo.run();
        } catch (Exception e) {
            System.err.println("\ntapline demo failed: " + failure(e));
            return 1;
        } finally {
            System.out.println("\nstopping everything the demo started...");
            demo.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is already running and closes the same resources.
            }
        }
    }
}
