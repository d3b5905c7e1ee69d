package io.tapline.config;

import io.tapline.logging.TaplineLogging;
import org.slf4j.LoggerFactory;

/** The logging options of every Tapline component, declared once so they have the same names everywhere. */
public final class LogOptions {

    public static final String FORMAT = "log.format";
    public static final String LEVEL = "log.level";

    private LogOptions() {
    }

    /** Adds the logging options to a component's spec. */
    public static ConfigSpec.Builder declare(ConfigSpec.Builder builder) {
        return builder
                .choice(FORMAT, "text", "Log line format on standard error: text for people, json (one object per line: "
                        + "time, level, logger, thread, message, the event's fields, exception) for log pipelines.",
                        "text", "json")
                .choice(LEVEL, "info", "Least severe level logged (Kafka's, Netty's and Vert.x's own logs start at warn "
                        + "unless this is debug or trace).", "error", "warn", "info", "debug", "trace");
    }

    /**
     * Makes every logger of the process follow the configuration's logging options, then warns about the
     * {@code TAPLINE_*} variables no command has.
     */
    public static void apply(TaplineConfig config) {
        TaplineLogging.configure(TaplineLogging.parseFormat(config.get(FORMAT)),
                TaplineLogging.parseLevel(config.get(LEVEL)));
        warnUnreadVariables(config);
    }

    /** One warning per {@code TAPLINE_*} variable of the environment that no Tapline command has. */
    public static void warnUnreadVariables(TaplineConfig config) {
        config.unreadVariables().forEach(LoggerFactory.getLogger(TaplineConfig.class)::warn);
    }
}
