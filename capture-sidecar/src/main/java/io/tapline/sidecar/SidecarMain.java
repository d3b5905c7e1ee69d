package io.tapline.sidecar;

import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.LogOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.logging.StandardStreams;
import io.tapline.text.ShownText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CountDownLatch;

/**
 * {@code tapline sidecar [options]}: parse the configuration, start, stop on SIGTERM. Exit 2 on bad options, a listener
 * that cannot be opened included (as replay and dedup exit for theirs); exit 1 when anything else keeps it from starting.
 */
public final class SidecarMain {

    private static final Logger LOG = LoggerFactory.getLogger(SidecarMain.class);

    private SidecarMain() {
    }

    public static void main(String[] args) throws Exception {
        StandardStreams.useUtf8(); // before anything is written: the locale's charset may be ASCII
        ConfigSpec spec = SidecarOptions.spec();
        SidecarOptions options;
        try {
            TaplineConfig config = TaplineConfig.load(spec, args, System.getenv());
            LogOptions.apply(config);
            if (config.helpRequested()) {
                System.out.print(spec.help());
                return;
            }
            options = SidecarOptions.from(config);
            LOG.info("effective configuration: {}", config);
        } catch (ConfigException e) {
            System.err.println("tapline sidecar: " + e.getMessage());
            System.err.println("Run with --help to list every option.");
            System.exit(2);
            return;
        }
        Sidecar sidecar;
        try {
            sidecar = Sidecar.start(options);
        } catch (ConfigException e) {
            // a listener that cannot be opened, named by its option: a value to change, as a bad option is (exit 2)
            LOG.debug("cannot start", e);
            System.err.println("tapline sidecar: cannot start: " + withCauses(e));
            System.exit(2);
            return;
        } catch (Exception e) {
            // what started (a producer, event loops) must not keep a sidecar that cannot serve alive. Said once, as a
            // bad option is: the stack trace only at debug (it was logged and printed both, the message twice)
            LOG.debug("cannot start", e);
            System.err.println("tapline sidecar: cannot start: " + withCauses(e));
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping: draining the requests in flight, publishing what is queued, then closing");
            sidecar.close();
            stopped.countDown();
        }, "tapline-shutdown"));
        stopped.await();
    }

    /**
     * The message of {@code e}, then that of each cause it does not already hold: a listener's failure names its
     * cause already, a Kafka client's "Failed to construct kafka producer" says why only in its cause. On one line as
     * {@link ShownText#oneLine} shows it, as a bad option's message is: the causes may quote a value as it was given
     * ("Invalid url in bootstrap.servers: ...", a {@code --listen} host).
     */
    static String withCauses(Throwable e) {
        StringBuilder out = new StringBuilder(e.getMessage() == null ? e.toString() : e.getMessage());
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            String m = t.getMessage() == null ? t.getClass().getName() : t.getMessage();
            if (out.indexOf(m) < 0) {
                out.append(": ").append(m);
            }
        }
        return ShownText.oneLine(out.toString());
    }
}
