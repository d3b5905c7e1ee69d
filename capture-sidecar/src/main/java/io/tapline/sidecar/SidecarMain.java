package io.tapline.sidecar;

import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.LogOptions;
import io.tapline.config.TaplineConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CountDownLatch;

/** {@code tapline sidecar [options]}: parse the configuration, start, stop on SIGTERM. Exit 2 on bad options. */
public final class SidecarMain {

    private static final Logger LOG = LoggerFactory.getLogger(SidecarMain.class);

    private SidecarMain() {
    }

    public static void main(String[] args) throws Exception {
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
        } catch (Exception e) {
            // what started (a producer, event loops) must not keep a sidecar that cannot serve alive
            LOG.error("cannot start: {}", e.getMessage(), e);
            System.err.println("tapline sidecar: cannot start: " + e.getMessage());
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
}
