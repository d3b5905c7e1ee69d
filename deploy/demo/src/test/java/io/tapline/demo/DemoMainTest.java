package io.tapline.demo;

import io.tapline.config.ConfigException;
import io.tapline.config.TaplineConfig;
import io.tapline.text.ShownText;
import org.junit.jupiter.api.Test;

import java.nio.file.AccessDeniedException;
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

    /**
     * The demo's failures quote paths built from {@code --root}; one holding ESC, a right-to-left override or a
     * zero-width space would act on the terminal or hide there, and a line break would split the line.
     */
    @Test
    void aFailureShowsThePathsItQuotesWithCodes() {
        DemoSettings settings = settings("--root", "/tmp/demo-\u001b[2J-\u202eab-\u200b-\nroot");
        DemoException missing = assertThrows(DemoException.class, () -> settings.jar("capture-sidecar"));

        String shown = DemoMain.failure(missing);

        assertTrue(shown.startsWith("/tmp/demo-\\u001b[2J-\\u202eab-\\u200b-\\nroot/capture-sidecar/target/"), shown);
        assertTrue(shown.endsWith(" is missing: build with ./tapline demo (or mvn -DskipTests package)"), shown);
        assertTrue(shown.codePoints().noneMatch(c -> c == '\n' || ShownText.shownAsCode(c)), shown);
        assertEquals("java.nio.file.AccessDeniedException: /r\\u202eoot/.tapline/demo",
                DemoMain.failure(new AccessDeniedException("/r\u202eoot/.tapline/demo")));
    }

    @Test
    void aFailureKeepsTheLinesOfTheLogTailItQuotes() {
        String tail = "capture-sidecar exited during start-up; its log ends with:\n--- last lines of /r\u202eoot/x.log ---\n"
                + "Error: Unable to access jarfile /r\u202eoot/x.jar";

        assertEquals("capture-sidecar exited during start-up; its log ends with:\n--- last lines of /r\\u202eoot/x.log ---\n"
                + "Error: Unable to access jarfile /r\\u202eoot/x.jar", DemoMain.failure(new DemoException(tail)));
    }

    @Test
    void aStrayArgumentIsRefusedRatherThanIgnored() {
        String message = assertThrows(ConfigException.class, () -> settings("--requests", "10", "20")).getMessage();
        assertTrue(message.contains("unexpected argument 20"), message);
    }
}
