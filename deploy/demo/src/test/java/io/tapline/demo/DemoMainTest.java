package io.tapline.demo;

import io.tapline.config.ConfigException;
import io.tapline.config.TaplineConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo's options are checked before it starts a broker, a registry and three components. */
class DemoMainTest {

    private static DemoSettings settings(String... args) {
        return DemoMain.settings(TaplineConfig.load(DemoMain.SPEC, args, Map.of()));
    }

    @Test
    void aRequestCountBelowOneIsRefusedNamingTheFlag() {
        for (String bad : new String[] {"0", "-5"}) {
            String message = assertThrows(ConfigException.class, () -> settings("--requests", bad)).getMessage();
            assertTrue(message.contains("--requests") && message.contains("'" + bad + "'") && message.contains(">= 1"), message);
        }
        assertEquals(3000, settings().requests());
        assertEquals(1, settings("--requests", "1").requests());
    }

    @Test
    void aStrayArgumentIsRefusedRatherThanIgnored() {
        String message = assertThrows(ConfigException.class, () -> settings("--requests", "10", "20")).getMessage();
        assertTrue(message.contains("unexpected argument 20"), message);
    }
}
