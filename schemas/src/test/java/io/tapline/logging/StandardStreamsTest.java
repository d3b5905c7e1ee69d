package io.tapline.logging;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Standard output, standard error and the logs in UTF-8 whatever the locale's charset. */
@Timeout(120)
class StandardStreamsTest {

    private static final String TEXT = "caf\u00e9 \u65e5\u672c \u2713";

    @Test
    void underThePosixLocaleOutputErrorsAndLogsAreWrittenInUtf8() throws Exception {
        // LC_ALL=C and file.encoding ASCII: the JVM wrote every character past ASCII as '?'
        Child child = run(List.of("-Dfile.encoding=ANSI_X3.4-1968"));
        assertEquals("replaced\nout " + TEXT + "\n", child.stdout());
        assertTrue(child.stderr().contains("err " + TEXT + "\n"), child.stderr());
        // a logger created, and the logs' output chosen, before the streams were replaced writes to the new one
        assertTrue(child.stderr().contains("INFO child - before"), child.stderr());
        assertTrue(child.stderr().contains("INFO child - logged " + TEXT + "\n"), child.stderr());
        assertFalse(child.stdout().contains("?") || child.stderr().contains("?"), child.stdout() + child.stderr());
    }

    @Test
    void aStreamAlreadyInUtf8IsLeftAsItIs() throws Exception {
        Child child = run(List.of("-Dfile.encoding=UTF-8"));
        assertEquals("kept\nout " + TEXT + "\n", child.stdout());
        assertTrue(child.stderr().contains("INFO child - logged " + TEXT + "\n"), child.stderr());
    }

    @Test
    void theStreamsCharsetIsTheOneTheJvmPicks() {
        Charset fallback = Charset.defaultCharset();
        // Java 18 and later: stdout.encoding, always set
        assertEquals(StandardCharsets.US_ASCII, StandardStreams.charsetOf("stdout",
                Map.of("stdout.encoding", "US-ASCII", "sun.stdout.encoding", "UTF-8")::get));
        // Java 17 on a terminal: sun.stdout.encoding; else the default charset
        assertEquals(StandardCharsets.US_ASCII, StandardStreams.charsetOf("stderr",
                Map.of("sun.stderr.encoding", "ANSI_X3.4-1968", "sun.stdout.encoding", "UTF-8")::get));
        assertEquals(fallback, StandardStreams.charsetOf("stdout", Map.<String, String>of()::get));
        // a name the JVM does not know is skipped
        assertEquals(fallback, StandardStreams.charsetOf("stdout", Map.of("sun.stdout.encoding", "no-such-charset")::get));
    }

    @Test
    void onlyACharsetThatCannotHoldEveryCharacterIsReplaced() {
        assertTrue(StandardStreams.holdsEveryCharacter(StandardCharsets.UTF_8));
        assertTrue(StandardStreams.holdsEveryCharacter(StandardCharsets.UTF_16LE));
        assertTrue(StandardStreams.holdsEveryCharacter(Charset.forName("GB18030")));
        assertFalse(StandardStreams.holdsEveryCharacter(StandardCharsets.US_ASCII));
        assertFalse(StandardStreams.holdsEveryCharacter(StandardCharsets.ISO_8859_1));
        assertFalse(StandardStreams.holdsEveryCharacter(Charset.forName("windows-1252")));
    }

    private record Child(String stdout, String stderr) {
    }

    /** Runs {@link Printer} under the POSIX locale with these JVM options; its output read as UTF-8. */
    private static Child run(List<String> options) throws Exception {
        Path dir = Files.createTempDirectory("standard-streams");
        try {
            List<String> command = new java.util.ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            command.addAll(options);
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), Printer.class.getName()));
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
            builder.environment().keySet().removeIf(name -> name.equals("LANG") || name.startsWith("LC_"));
            builder.environment().put("LC_ALL", "C");
            Process process = builder.start();
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child did not exit");
            Child child = new Child(Files.readString(dir.resolve("out"), StandardCharsets.UTF_8),
                    Files.readString(dir.resolve("err"), StandardCharsets.UTF_8));
            assertEquals(0, process.exitValue(), child.stderr());
            return child;
        } finally {
            for (String name : List.of("out", "err")) {
                Files.deleteIfExists(dir.resolve(name));
            }
            Files.delete(dir);
        }
    }

    /** In the child: logs, switches the streams to UTF-8 as a component's main does, then prints and logs non-ASCII. */
    public static final class Printer {
        public static void main(String[] args) {
            org.slf4j.Logger log = new TaplineLoggerProvider().getLoggerFactory().getLogger("child");
            log.info("before");
            TaplineLogging.flush(Duration.ofSeconds(10));
            PrintStream before = System.out;
            StandardStreams.useUtf8();
            StandardStreams.useUtf8(); // a second call changes nothing
            System.out.println(System.out == before ? "kept" : "replaced");
            System.out.println("out " + TEXT);
            System.err.println("err " + TEXT);
            log.info("logged " + TEXT);
            TaplineLogging.flush(Duration.ofSeconds(10));
        }
    }
}
