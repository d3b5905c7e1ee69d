package io.tapline.demo;

import io.tapline.config.ConfigSpec;
import io.tapline.config.ConfigSpec.Option;
import io.tapline.config.TaplineConfig;
import io.tapline.dedup.DedupOptions;
import io.tapline.replay.ReplayOptions;
import io.tapline.sidecar.SidecarOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The Kafka pass-through flags are written one way in every command's help and README, a way every command takes. */
class PassThroughFlagsTest {

    private static final List<ConfigSpec> SPECS = List.of(SidecarOptions.spec(), DedupOptions.SPEC,
            ReplayOptions.replaySpec(), ReplayOptions.reportSpec());
    /** A pass-through flag written with dashes in its prefix, as the sidecar's help once had it. */
    private static final Pattern DASHED = Pattern.compile("--kafka-(producer|consumer|streams)-");
    private static final Pattern EXAMPLE = Pattern.compile("--(kafka\\.(?:producer|consumer|streams)\\.)([a-z0-9.]*[a-z0-9])=(\\w+)");

    @Test
    void everyHelpWritesThePassThroughFlagsInTheDottedForm() {
        for (ConfigSpec spec : SPECS) {
            String help = spec.help();
            assertFalse(DASHED.matcher(help).find(), spec.command() + ":\n" + help);
            for (Option option : spec.options().values()) {
                if (option.kind() == Option.Kind.PREFIX) {
                    assertTrue(help.contains("  --" + option.key() + "<name> VALUE\n"), spec.command() + ": " + option.key());
                }
            }
        }
    }

    @Test
    void everyExampleInAHelpIsTakenByEveryCommandWithThatPrefix() {
        List<String[]> examples = new ArrayList<>();
        for (ConfigSpec spec : SPECS) {
            Matcher m = EXAMPLE.matcher(spec.help());
            while (m.find()) {
                examples.add(new String[] {m.group(1), m.group(2), m.group(3)});
            }
        }
        assertTrue(examples.size() >= 3, "examples of the producer, consumer and streams prefixes: " + examples.size());
        for (String[] e : examples) {
            for (ConfigSpec spec : SPECS) {
                if (!spec.options().containsKey(e[0])) {
                    continue;
                }
                TaplineConfig config = TaplineConfig.load(spec, new String[] {"--" + e[0] + e[1] + "=" + e[2]}, Map.of());
                assertEquals(Map.of(e[1], e[2]), config.subset(e[0]), spec.command() + " --" + e[0] + e[1]);
            }
        }
    }

    @Test
    void theReadmesWriteThemAsTheHelpDoes() throws IOException {
        Path repo = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize()
                .getParent().getParent();
        for (String readme : List.of("README.md", "capture-sidecar/README.md", "dedup-stream/README.md", "replay-worker/README.md",
                "deploy/README.md", "schemas/README.md")) {
            String text = Files.readString(repo.resolve(readme));
            Matcher dashed = DASHED.matcher(text);
            if (dashed.find()) {
                fail(readme + " writes " + text.substring(dashed.start(), Math.min(text.length(), dashed.start() + 40)));
            }
        }
        // replay-worker's README tables are its commands' --help, word for word
        String replay = Files.readString(repo.resolve("replay-worker/README.md"));
        for (ConfigSpec spec : List.of(ReplayOptions.replaySpec(), ReplayOptions.reportSpec())) {
            for (Option option : spec.options().values()) {
                if (option.kind() == Option.Kind.PREFIX) {
                    String row = "| `" + option.usage() + "` |  | `" + ConfigSpec.envVar(option.key()) + "<NAME>` | "
                            + option.description() + " |";
                    assertTrue(replay.contains(row), row);
                }
            }
        }
    }
}
