package io.tapline.demo;

import io.tapline.config.ConfigException;
import io.tapline.config.TaplineConfig;
import io.tapline.text.ShownText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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

    /**
     * Under the POSIX locale (no LANG, ASCII) a message quoting a value past ASCII is written in UTF-8: Java 17 wrote
     * it in the locale's charset, every such character as '?'. The value comes from a {@code --config} file, read as
     * UTF-8 whatever the locale.
     */
    @Test
    void aMessageIsWrittenInUtf8UnderThePosixLocale(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("demo.properties"), "rout\u00e9=1\n", StandardCharsets.UTF_8);
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dfile.encoding=ANSI_X3.4-1968", "-cp", System.getProperty("java.class.path"), DemoMain.class.getName(),
                "--config", config.toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("TAPLINE_") || k.equals("LANG") || k.startsWith("LC_"));
        pb.environment().put("LC_ALL", "C");
        Process child = pb.redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the demo did not exit: " + out);
        assertEquals(2, child.exitValue(), out);
        assertTrue(out.startsWith("tapline demo: unknown key 'rout\u00e9' in config file " + config), out);
    }
}
