package io.tapline.demo;

import io.tapline.config.ConfigSpec;
import io.tapline.config.TaplineVariables;
import io.tapline.dedup.DedupOptions;
import io.tapline.replay.ReplayOptions;
import io.tapline.sidecar.SidecarOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The settings list a component reads to tell a misspelt {@code TAPLINE_*} variable from one meant for another command
 * (schemas' {@code io/tapline/config/settings.txt}) holds exactly the keys of every command.
 */
class SettingsListTest {

    @Test
    void theSettingsListHoldsEveryCommandsKeysAndNoOther() {
        TreeSet<String> declared = new TreeSet<>();
        for (ConfigSpec spec : List.of(SidecarOptions.spec(), DedupOptions.SPEC, ReplayOptions.replaySpec(),
                ReplayOptions.reportSpec(), DemoMain.SPEC)) {
            declared.addAll(spec.options().keySet());
        }
        assertEquals(String.join("\n", declared), String.join("\n", new TreeSet<>(TaplineVariables.keys())),
                "schemas/src/main/resources/io/tapline/config/settings.txt must list every command's keys, one per line");
    }
}
