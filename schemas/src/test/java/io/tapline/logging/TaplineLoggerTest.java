package io.tapline.logging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.LogOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.text.ShownText;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.event.Level;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaplineLoggerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private final TaplineLoggerProvider provider = new TaplineLoggerProvider();
    private TaplineLogging.Format formatBefore;
    private Level levelBefore;
    private final String threadBefore = Thread.currentThread().getName();

    @BeforeEach
    void captureOutput() {
        formatBefore = TaplineLogging.format();
        levelBefore = TaplineLogging.level();
        TaplineLogging.output(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        TaplineLogging.configure(formatBefore, levelBefore);
        TaplineLogging.output(System.err);
    }

    @Test
    void shouldWriteAJsonObjectPerEventWithItsFields() throws Exception {
        TaplineLogging.configure(TaplineLogging.Format.JSON, Level.INFO);
        Logger log = logger("io.tapline.sidecar.CapturePublisher");

        log.atWarn().addKeyValue("topic", "tapline.interactions").addKeyValue("dropped", 12)
                .addKeyValue("level", "a field named like a line's own").log("dropping captures for {} ms", 500);

        JsonNode line = JSON.readTree(onlyLine());
        assertEquals("WARN", line.get("level").asText());
        assertEquals("io.tapline.sidecar.CapturePublisher", line.get("logger").asText());
        assertEquals(Thread.currentThread().getName(), line.get("thread").asText());
        assertEquals("dropping captures for 500 ms", line.get("message").asText());
        assertEquals("tapline.interactions", line.get("topic").asText());
        assertTrue(line.get("dropped").isInt(), "numbers stay numbers");
        assertEquals(12, line.get("dropped").asInt());
        assertEquals("a field named like a line's own", line.get("level_").asText());
        assertTrue(line.get("time").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), line.get("time").asText());
    }

    @Test
    void shouldEscapeWhatWouldBreakALineOrTheJson() throws Exception {
        TaplineLogging.configure(TaplineLogging.Format.JSON, Level.INFO);
        String nasty = "quote \" backslash \\ newline \n tab \t bell \u0007 separator \u2028 é 🙂";

        logger("t").info("value: {}", nasty);

        String text = onlyLine();
        assertEquals(JSON.readTree(text).get("message").asText(), "value: " + nasty);
        assertTrue(text.chars().noneMatch(c -> c < 0x20 || c == 0x2028), "one physical line, no raw control characters");
    }

    @Test
    void shouldCarryTheExceptionWithItsStackTrace() throws Exception {
        TaplineLogging.configure(TaplineLogging.Format.JSON, Level.INFO);

        logger("t").error("cannot register the schema for {}", "tapline.interactions", new IllegalStateException("registry down"));
        logger("t").atWarn().addKeyValue("topic", "t1").log("cannot send to {}", "t1", new IllegalStateException("broker down"));

        List<String> lines = lines();
        assertEquals(2, lines.size(), String.join("\n", lines));
        JsonNode line = JSON.readTree(lines.get(0));
        assertEquals("cannot register the schema for tapline.interactions", line.get("message").asText());
        String exception = line.get("exception").asText();
        assertTrue(exception.startsWith("java.lang.IllegalStateException: registry down"), exception);
        assertTrue(exception.contains("at io.tapline.logging.TaplineLoggerTest"), exception);
        JsonNode fluent = JSON.readTree(lines.get(1));
        assertEquals("cannot send to t1", fluent.get("message").asText());
        assertTrue(fluent.get("exception").asText().startsWith("java.lang.IllegalStateException: broker down"),
                "the fluent API's trailing exception is kept too: " + fluent);
    }

    @Test
    void shouldWriteTextForPeople() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);

        logger("io.tapline.dedup.DedupMain").atInfo().addKeyValue("partitions", 6).log("streams running on {} partitions", 6);
        logger("io.tapline.dedup.DedupMain").warn("restarting", new IllegalStateException("broker gone"));

        List<String> lines = lines();
        assertTrue(lines.get(0).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\[[^]]+] INFO "
                + "io\\.tapline\\.dedup\\.DedupMain - streams running on 6 partitions"), lines.get(0));
        assertTrue(lines.get(1).endsWith("WARN io.tapline.dedup.DedupMain - restarting"), lines.get(1));
        assertEquals("java.lang.IllegalStateException: broker gone", lines.get(2));
        assertTrue(lines.get(3).contains("at io.tapline.logging.TaplineLoggerTest"), lines.get(3));
    }

    /**
     * What a client sent can reach a message (a malformed header quoted in a warning); in text, a line break in it
     * would start a line that reads as an event of its own.
     */
    @Test
    void shouldKeepAMessageAndItsExceptionOnTheirOwnLinesInText() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        String forged = "x\n2026-11-22T10:00:00.000Z [main] ERROR io.tapline.sidecar.SidecarMain - forged\r\u2028end";

        logger("io.tapline.x").warn("bad header value {}", forged,
                new IllegalStateException("wrapped", new IllegalArgumentException("cause " + forged)));

        List<String> lines = lines();
        assertTrue(lines.get(0).endsWith(" WARN io.tapline.x - bad header value x\\n2026-11-22T10:00:00.000Z [main] "
                + "ERROR io.tapline.sidecar.SidecarMain - forged\\r\\u2028end"), lines.get(0));
        assertEquals("java.lang.IllegalStateException: wrapped", lines.get(1));
        assertTrue(lines.get(2).startsWith("\tat io.tapline.logging.TaplineLoggerTest."), lines.get(2));
        String cause = lines.stream().filter(l -> l.startsWith("Caused by: ")).findFirst().orElseThrow();
        assertTrue(cause.startsWith("Caused by: java.lang.IllegalArgumentException: cause x\\n2026-11-22T"), cause);
        assertTrue(lines.stream().skip(2).allMatch(l -> l.startsWith("\t") || l.startsWith("Caused by: ")),
                "every line after the event's is part of its stack trace: " + String.join("\n", lines));
        assertTrue(lines.get(lines.size() - 1).matches("\t\\.\\.\\. \\d+ more"),
                "frames shared with the enclosing trace are left out as the JDK does: " + lines.get(lines.size() - 1));
    }

    /** An escaped line break and a backslash followed by an n that an app wrote must not read the same. */
    @Test
    void shouldEscapeABackslashSoThatEscapesCannotBeForgedInText() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);

        logger("io.tapline.x").warn("path {} then {}", "C:\\new\\n", "a\nb");

        String line = onlyLine();
        assertTrue(line.endsWith(" - path C:\\\\new\\\\n then a\\nb"), line);
    }

    /**
     * Log lines carry values from traffic and operators (paths, hosts, header names, config values, exception
     * messages quoting a peer's bytes). In text, what {@link ShownText} shows as codes is shown so too: ESC cannot
     * send the terminal a sequence, a right-to-left override cannot reverse the rest of the line in a terminal or a
     * log viewer, a zero-width space cannot hide a difference, and a lone surrogate is not written as {@code ?}.
     */
    @Test
    void shouldShowEscBidiInvisibleAndLoneSurrogatesAsCodesInText() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        String hostile = "esc \u001b[2J rlo \u202e21 zwsp a\u200bb lone \ud800! csi \u009b tag \udb40\udc41 tab\tend";

        Thread.currentThread().setName("worker-\u202e1");
        try {
            logger("io.tapline.x").warn("path {}", hostile, new IllegalStateException("peer sent " + hostile));
        } finally {
            Thread.currentThread().setName(threadBefore);
        }

        List<String> lines = lines();
        String shown = "esc \\u001b[2J rlo \\u202e21 zwsp a\\u200bb lone \\ud800! csi \\u009b tag \\udb40\\udc41 tab\tend";
        assertTrue(lines.get(0).endsWith(" WARN io.tapline.x - path " + shown), lines.get(0));
        assertTrue(lines.get(0).contains(" [worker-\\u202e1] "), "the thread's name too: " + lines.get(0));
        assertEquals("java.lang.IllegalStateException: peer sent " + shown, lines.get(1));
        for (String line : lines) {
            assertTrue(line.codePoints().noneMatch(c -> ShownText.shownAsCode(c)), "nothing raw: " + line);
        }
    }

    /**
     * GitHub Actions' runner reads {@code ##[error]...} anywhere in a line of a step's output as a workflow command; a
     * value in a log line (a header, a path, an exception's message) is shown with the {@code [} after {@code ##} as
     * its code: in text, and in JSON as a JSON escape, which reads back as the value.
     */
    @Test
    void shouldShowALegacyWorkflowCommandsBracketAsACode() throws Exception {
        String forged = "peer sent ##[error]forged ##[add-mask]x";

        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        logger("io.tapline.x").warn("path {}", forged, new IllegalStateException(forged));
        List<String> text = lines();
        assertTrue(text.get(0).endsWith(" - path peer sent ##\\u005berror]forged ##\\u005badd-mask]x"), text.get(0));
        assertEquals("java.lang.IllegalStateException: peer sent ##\\u005berror]forged ##\\u005badd-mask]x", text.get(1));

        TaplineLogging.configure(TaplineLogging.Format.JSON, Level.INFO);
        logger("io.tapline.x").atWarn().addKeyValue("path", forged).log(forged);
        String json = lines().get(text.size());
        assertFalse(json.contains("##["), json);
        assertEquals(forged, JSON.readTree(json).get("message").asText());
        assertEquals(forged, JSON.readTree(json).get("path").asText());
    }

    /**
     * A frame names a class, a method, a file, a module and a class loader, any of which a script language, a generated
     * class or a plugin's loader can make hold ESC, a right-to-left override or a line break; in text each of a trace's
     * lines (frames, {@code Caused by:} and {@code Suppressed:} lines) is shown as the message is, so a frame can
     * neither send the terminal a sequence, reverse its line, nor start a line that reads as an event of its own.
     */
    @Test
    void shouldShowAStackTracesFramesAsCodesInText() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        String forged = "2026-11-24T10:00:00.000Z [main] INFO io.tapline.x - forged";

        logger("io.tapline.x").warn("failed", hostileTrace(forged));

        List<String> lines = lines();
        assertTrue(lines.get(0).endsWith(" WARN io.tapline.x - failed"), lines.get(0));
        assertEquals("java.lang.IllegalStateException: esc \\u001b[2J rlo \\u202e21\\n" + forged, lines.get(1));
        assertEquals("\tat app\\u001b[31m/mod\\u202e@1\\u200b/evil.\\u202eScript.run\\u001b]0;title\\u0007"
                + "(x.js\\n" + forged + ":7)", lines.get(2));
        assertEquals("\tat main.Frame.run(Main.java:1)", lines.get(3));
        assertEquals("\tSuppressed: java.lang.RuntimeException: also", lines.get(4));
        assertEquals("\t\tat also.\\u202eFrame.run(Native Method)", lines.get(5));
        assertEquals("Caused by: java.io.IOException: cause\\r" + forged, lines.get(6));
        assertEquals("\tat cause.\\u001bFrame.run(C.java:1)", lines.get(7));
        assertEquals(8, lines.size(), String.join("\n", lines));
        for (String line : lines) {
            assertTrue(line.codePoints().noneMatch(c -> ShownText.shownAsCode(c)), "nothing raw: " + line);
        }
        assertTrue(lines.stream().skip(2).allMatch(l -> l.startsWith("\t") || l.startsWith("Caused by: ")),
                "every line after the event's is part of its stack trace: " + String.join("\n", lines));
    }

    /**
     * In JSON the whole trace is one string, written with {@link io.tapline.json.JsonStrings#appendShown}'s escapes:
     * its frames too show ESC and a right-to-left override as codes on the raw line, and read back as they were.
     */
    @Test
    void shouldShowAStackTracesFramesAsCodesInJson() throws Exception {
        TaplineLogging.configure(TaplineLogging.Format.JSON, Level.INFO);
        String forged = "{\"time\":\"2026-11-24T10:00:00.000Z\",\"level\":\"INFO\",\"message\":\"forged\"}";
        Throwable thrown = hostileTrace(forged);

        logger("io.tapline.x").warn("failed", thrown);

        String text = onlyLine();
        assertTrue(text.codePoints().noneMatch(c -> c < 0x20 || ShownText.shownAsCode(c)), "nothing raw: " + text);
        assertTrue(text.contains("\\tat app\\u001b[31m/mod\\u202e@1\\u200b/evil.\\u202eScript.run"), text);
        java.io.StringWriter jdk = new java.io.StringWriter();
        thrown.printStackTrace(new java.io.PrintWriter(jdk));
        assertEquals(jdk.toString().stripTrailing(), JSON.readTree(text).get("exception").asText().stripTrailing(),
                "the trace reads back as the JDK writes it");
    }

    /**
     * A library's exception whose {@code toString} returns null is written as the JDK writes it, {@code null}, in text
     * too (where its line is shown with codes); the logging call does not throw.
     */
    @Test
    void shouldWriteAnExceptionWhoseToStringIsNullInText() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        RuntimeException nameless = new RuntimeException() {
            @Override
            public String toString() {
                return null;
            }
        };
        RuntimeException outer = new RuntimeException("outer", nameless);
        outer.addSuppressed(nameless);

        logger("io.tapline.x").warn("failed", outer);

        List<String> lines = lines();
        assertEquals("java.lang.RuntimeException: outer", lines.get(1));
        assertTrue(lines.contains("\tSuppressed: null"), String.join("\n", lines));
        assertTrue(lines.contains("Caused by: [CIRCULAR REFERENCE: null]"), String.join("\n", lines));
    }

    /**
     * An exception whose message, frames, suppressed exception and cause hold ESC, bidirectional controls, characters
     * drawn as nothing and line breaks followed by {@code forged}.
     */
    private static Throwable hostileTrace(String forged) {
        IllegalStateException thrown = new IllegalStateException("esc \u001b[2J rlo \u202e21\n" + forged,
                new java.io.IOException("cause\r" + forged));
        thrown.setStackTrace(new StackTraceElement[] {
                new StackTraceElement("app\u001b[31m", "mod\u202e", "1\u200b", "evil.\u202eScript",
                        "run\u001b]0;title\u0007", "x.js\n" + forged, 7),
                new StackTraceElement("main.Frame", "run", "Main.java", 1)});
        RuntimeException also = new RuntimeException("also");
        also.setStackTrace(new StackTraceElement[] {new StackTraceElement("also.\u202eFrame", "run", null, -2)});
        thrown.addSuppressed(also);
        thrown.getCause().setStackTrace(new StackTraceElement[] {new StackTraceElement("cause.\u001bFrame", "run", "C.java", 1)});
        return thrown;
    }

    @Test
    void shouldWritePlainAsciiAsItIsInText() {
        String plain = "GET /orders/42?x=1 from 10.0.0.7:51234 took 12 ms ~!@#$%^&*()_+{}|:\"<>?`-=[];',./";
        StringBuilder out = new StringBuilder();
        TaplineLogger.escapeControls(out, plain);
        assertEquals(plain, out.toString());
    }

    /**
     * The text format shows as codes what {@link ShownText#oneLine} does, written the same way ({@code \n}, ESC as a
     * backslash, {@code u} and {@code 001b}, a pair's two halves), for every code point; it keeps tabs (a stack
     * trace's frames start with one) and doubles a backslash (so no text can pass for an escape).
     */
    @Test
    void shouldShowWhatShownTextShowsForEveryCodePoint() {
        StringBuilder out = new StringBuilder();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (c == '\\' || c == '\t') {
                continue;
            }
            String s = new String(Character.toChars(c));
            out.setLength(0);
            TaplineLogger.escapeControls(out, s);
            assertEquals(ShownText.oneLine(s), out.toString(), Integer.toHexString(c));
        }
    }

    /**
     * A JSON line viewed raw ({@code kubectl logs}) reorders and hides just as text does; a JSON escape of U+202E reads
     * back as the same string, so the JSON format writes those characters as codes too, losing nothing.
     */
    @Test
    void shouldEscapeBidiAndInvisibleCharactersInJson() throws Exception {
        TaplineLogging.configure(TaplineLogging.Format.JSON, Level.INFO);
        String hostile = "esc \u001b rlo \u202e21 zwsp a\u200bb bom \ufeff tag \udb40\udc41 csi \u009b del \u007f é 🙂";

        logger("t").atWarn().addKeyValue("path", hostile).log("value: {}", hostile, new IllegalStateException(hostile));

        String text = onlyLine();
        assertTrue(text.contains("rlo \\u202e21 zwsp a\\u200bb bom \\ufeff tag \\udb40\\udc41 csi \\u009b del \\u007f é 🙂"), text);
        assertTrue(text.codePoints().noneMatch(c -> ShownText.shownAsCode(c)), "nothing raw: " + text);
        JsonNode line = JSON.readTree(text);
        assertEquals("value: " + hostile, line.get("message").asText());
        assertEquals(hostile, line.get("path").asText());
        assertTrue(line.get("exception").asText().startsWith("java.lang.IllegalStateException: " + hostile));
    }

    @Test
    void shouldRenderAStackTraceAsTheJdkDoesCircularReferencesIncluded() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        IllegalStateException outer = new IllegalStateException("outer");
        IllegalArgumentException inner = new IllegalArgumentException("inner", outer);
        outer.initCause(inner);
        outer.addSuppressed(new RuntimeException("also"));

        java.io.StringWriter jdk = new java.io.StringWriter();
        outer.printStackTrace(new java.io.PrintWriter(jdk));
        assertEquals(jdk.toString().stripTrailing(), TaplineLogger.stackTrace(outer, false).stripTrailing());
    }

    /**
     * Kafka Streams logs a failed stream thread's exception from several places (the task, the client replacing the
     * thread), each with the whole trace: the same exception, logged again, is written as its own line and a
     * reference to the line that holds its trace; a wrapper of it keeps its own frames and refers to it as its cause.
     */
    @Test
    void shouldWriteATraceOnceWhenTheSameThrowableIsLoggedAgain() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        IllegalStateException root = new IllegalStateException("registry unreachable", new java.io.IOException("refused"));
        RuntimeException wrapper = new RuntimeException("task 0_0 failed", root);
        String rootFrame = "\tat " + root.getStackTrace()[0];

        logger("org.apache.kafka.streams.processor.internals.TaskExecutor").error("Failed to process stream task", root);
        logger("io.tapline.dedup.DedupMain").error("stream thread failed", wrapper);
        logger("org.apache.kafka.streams.KafkaStreams").error("Replacing thread", wrapper);

        String all = String.join("\n", lines());
        assertEquals(1, count(all, rootFrame), all);
        assertEquals(1, count(all, "Caused by: java.io.IOException: refused"), all);
        assertTrue(all.contains("Caused by: java.lang.IllegalStateException: registry unreachable (stack trace written "
                + "above, at "), all);
        assertTrue(all.contains("Replacing thread\njava.lang.RuntimeException: task 0_0 failed (stack trace written "
                + "above, at "), all);
    }

    /** Only the same throwable is referred to (not an equal one), and only while it is among the last few. */
    @Test
    void shouldWriteAnotherThrowableAndAnOldOneWhole() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        IllegalStateException first = new IllegalStateException("boom");
        logger("t").error("one", first);
        logger("t").error("two", new IllegalStateException("boom"));
        for (int i = 0; i < 20; i++) {
            logger("t").error("other {}", i, new IllegalArgumentException("other " + i));
        }
        logger("t").error("three", first);

        String all = String.join("\n", lines());
        assertEquals(2, count(all, "\tat " + first.getStackTrace()[0]), all);
        assertEquals(3, count(all, "java.lang.IllegalStateException: boom\n"), all);
        assertFalse(all.contains("stack trace written above"), all);
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + part.length())) {
            n++;
        }
        return n;
    }

    /** Standard error is a pipe; when its reader stalls, a logging call (on an event loop, say) must not stall too. */
    @Test
    void shouldNotWaitForAStalledOutput() throws Exception {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1);
        TaplineLogging.output(new PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws java.io.IOException {
                writing.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                captured.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8));
        Logger log = logger("io.tapline.x");
        java.util.concurrent.ExecutorService loop = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            log.warn("first");
            assertTrue(writing.await(10, java.util.concurrent.TimeUnit.SECONDS), "the output is being written to");
            var calls = loop.submit(() -> {
                for (int i = 0; i < 100; i++) {
                    log.warn("line {}", i);
                }
            });
            calls.get(10, java.util.concurrent.TimeUnit.SECONDS); // throws if the calls wait for the output

            release.countDown();
            List<String> lines = lines();
            assertEquals(101, lines.size(), String.join("\n", lines));
            assertTrue(lines.get(0).endsWith(" - first"), lines.get(0));
            assertTrue(lines.get(100).endsWith(" - line 99"), "in the order logged: " + lines.get(100));
        } finally {
            release.countDown();
            loop.shutdownNow();
        }
    }

    @Test
    void shouldLogFromTheLevelOnAndKeepChattyLibrariesAtWarn() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        logger("io.tapline.x").debug("hidden");
        logger("io.tapline.x").info("shown 1");
        logger("org.apache.kafka.clients.NetworkClient").info("hidden");
        logger("io.netty.channel.X").info("hidden");
        logger("org.apache.kafka.clients.NetworkClient").warn("shown 2");

        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.DEBUG);
        logger("org.apache.kafka.clients.NetworkClient").debug("shown 3");
        logger("io.tapline.x").trace("hidden");

        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.ERROR);
        logger("io.tapline.x").warn("hidden");
        logger("org.apache.kafka.clients.NetworkClient").warn("hidden");
        logger("io.tapline.x").error("shown 4");

        List<String> lines = lines();
        assertEquals(4, lines.size(), String.join("\n", lines));
        for (int i = 0; i < 4; i++) {
            assertTrue(lines.get(i).endsWith("shown " + (i + 1)), lines.get(i));
        }
    }

    /**
     * A Kafka client whose broker is down warns twice per reconnect attempt, about every second (measured: 48 lines in
     * 20 s from one producer); a library's message repeated like that is written once per window, then with the count
     * of those not written.
     */
    @Test
    void shouldSummariseALibrarysRepeatedMessage() throws Exception {
        TaplineLogging.configure(TaplineLogging.Format.JSON, Level.INFO);
        long[] now = {0};
        TaplineLogging.clock(() -> now[0]);
        try {
            Logger kafka = logger("org.apache.kafka.clients.NetworkClient");
            for (int i = 0; i < 100; i++) {
                kafka.warn("[Producer clientId=p-1] Connection to node {} could not be established", -1);
                kafka.warn("[Producer clientId=p-1] Bootstrap broker {} disconnected", "b:9092");
                now[0] += 100_000_000L; // 0.1 s
            }
            logger("io.tapline.x").warn("own {}", 1);
            logger("io.tapline.x").warn("own {}", 2);
            now[0] += TaplineLogging.REPEAT_WINDOW_NANOS;
            kafka.warn("[Producer clientId=p-1] Connection to node {} could not be established", -1);

            List<String> lines = lines();
            assertEquals(5, lines.size(), String.join("\n", lines));
            assertEquals("own 1", JSON.readTree(lines.get(2)).get("message").asText());
            assertEquals("own 2", JSON.readTree(lines.get(3)).get("message").asText(), "Tapline's own lines are all written");
            JsonNode summary = JSON.readTree(lines.get(4));
            // 100 in 10 s: the first written, then 99 within the window
            assertEquals(99, summary.get("suppressed").asInt(), summary.toString());
            assertTrue(summary.get("message").asText().endsWith("(99 more like this since the last one were not written)"),
                    summary.toString());
        } finally {
            TaplineLogging.clock(System::nanoTime);
        }
    }

    @Test
    void shouldWriteEveryRepeatOfALibrarysMessageAtDebug() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.DEBUG);
        for (int i = 0; i < 3; i++) {
            logger("io.netty.channel.X").warn("the same {}", i);
        }
        assertEquals(3, lines().size());
    }

    /**
     * Vert.x reports a peer resetting a connection nothing of the connection's own handles as an error of the
     * connection (the message alone; with the exception at debug), though the request on it fails and Tapline answers
     * for that: routine at scale, so it is written at debug. Other errors of the library stay errors, and a broker
     * resetting a Kafka client's connection is not the HTTP path's routine.
     */
    @Test
    void shouldWriteALibrarysReportOfAPeerResettingAConnectionAtDebug() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        TaplineLogging.clock(System::nanoTime); // no window left open by another test
        Logger vertx = logger("io.vertx.core.net.impl.ConnectionBase");
        vertx.error("Connection reset");
        vertx.error("recvAddress(..) failed: Connection reset by peer");
        vertx.error("Broken pipe");
        logger("io.netty.channel.DefaultChannelPipeline").warn("Connection reset by peer",
                new java.net.SocketException("Connection reset by peer"));
        vertx.error("Connection reset", new IllegalStateException("Connection reset"));
        vertx.error("Connection refused: /10.0.0.7:8080");
        logger("io.vertx.core.impl.ContextImpl").error("Unhandled exception", new IllegalStateException("boom"));
        logger("io.tapline.x").error("Connection reset");
        logger("org.apache.kafka.clients.NetworkClient").warn("Connection reset");

        // only the lines' heads: the exceptions' stack traces follow them
        List<String> heads = lines().stream().filter(l -> l.startsWith("20"))
                .map(l -> l.substring(l.indexOf("] ") + 2)).toList();
        assertEquals(List.of(
                "ERROR io.vertx.core.net.impl.ConnectionBase - Connection reset",
                "ERROR io.vertx.core.net.impl.ConnectionBase - Connection refused: /10.0.0.7:8080",
                "ERROR io.vertx.core.impl.ContextImpl - Unhandled exception",
                "ERROR io.tapline.x - Connection reset",
                "WARN org.apache.kafka.clients.NetworkClient - Connection reset"), heads);
    }

    /**
     * Kafka's consumer warns, once per partition and per consumer, when the end offsets it asked for arrive for a
     * partition it does not hold ({@code endOffsets} without an assignment, as a run's bounds and the readers of
     * results and noise ask; or after a reassignment): the offsets are returned all the same, so the notice is
     * written at debug. Its other warnings keep their level.
     */
    @Test
    void shouldWriteKafkasNoticeOfOffsetsForAPartitionNoLongerAssignedAtDebug() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        TaplineLogging.clock(System::nanoTime); // no window left open by another test
        Logger fetcher = logger("org.apache.kafka.clients.consumer.internals.OffsetFetcherUtils");
        fetcher.warn("[Consumer clientId=tapline-replay-bounds, groupId=null] Not updating last stable offset for"
                + " partition {} as it is no longer assigned", "tapline.cases-5");
        fetcher.warn("[Consumer clientId=consumer-null-2, groupId=null] Not updating high watermark for partition {}"
                + " as it is no longer assigned", "tapline.results-0");
        fetcher.warn("[Consumer clientId=c, groupId=null] Something else about partition {}", "tapline.cases-1");
        logger("org.apache.kafka.clients.NetworkClient").warn("Not updating last stable offset for partition {} as it"
                + " is no longer assigned", "x-0");

        List<String> heads = lines().stream().filter(l -> l.startsWith("20"))
                .map(l -> l.substring(l.indexOf("] ") + 2)).toList();
        assertEquals(List.of(
                "WARN org.apache.kafka.clients.consumer.internals.OffsetFetcherUtils - [Consumer clientId=c, groupId=null]"
                        + " Something else about partition tapline.cases-1",
                "WARN org.apache.kafka.clients.NetworkClient - Not updating last stable offset for partition x-0 as it is"
                        + " no longer assigned"), heads);
    }

    @Test
    void shouldWriteAPeerResettingAConnectionAtDebugWithItsException() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.DEBUG);
        logger("io.vertx.core.net.impl.ConnectionBase").error("Connection reset",
                new java.net.SocketException("Connection reset"));

        List<String> lines = lines();
        assertTrue(lines.get(0).endsWith(" DEBUG io.vertx.core.net.impl.ConnectionBase - Connection reset"), lines.get(0));
        assertEquals("java.net.SocketException: Connection reset", lines.get(1));
    }

    @Test
    void shouldNeverInterleaveLinesFromConcurrentThreads() throws Exception {
        TaplineLogging.configure(TaplineLogging.Format.JSON, Level.INFO);
        Logger log = logger("t");
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int id = t;
            threads.add(new Thread(() -> {
                for (int i = 0; i < 500; i++) {
                    log.atInfo().addKeyValue("writer", id).addKeyValue("n", i).log("x".repeat(200));
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }

        Set<String> seen = new HashSet<>();
        for (String text : lines()) {
            JsonNode line = JSON.readTree(text);
            seen.add(line.get("writer").asInt() + "/" + line.get("n").asInt());
        }
        assertEquals(2000, seen.size());
    }

    @Test
    void shouldTakeItsSettingsFromTheComponentsOptions() {
        ConfigSpec spec = LogOptions.declare(ConfigSpec.builder("tapline test", "test")).build();

        LogOptions.apply(TaplineConfig.load(spec, new String[] {"--log-format", "json"}, Map.of("TAPLINE_LOG_LEVEL", "debug")));

        assertEquals(TaplineLogging.Format.JSON, TaplineLogging.format());
        assertEquals(Level.DEBUG, TaplineLogging.level());
        ConfigException bad = assertThrows(ConfigException.class,
                () -> TaplineConfig.load(spec, new String[] {"--log-format=xml"}, Map.of()));
        assertTrue(bad.getMessage().contains("--log-format") && bad.getMessage().contains("json"), bad.getMessage());
    }

    private Logger logger(String name) {
        return provider.getLoggerFactory().getLogger(name);
    }

    private List<String> lines() {
        assertTrue(TaplineLogging.flush(Duration.ofSeconds(10)), "every line written");
        String all = captured.toString(StandardCharsets.UTF_8);
        return all.isEmpty() ? List.of() : List.of(all.split(System.lineSeparator()));
    }

    private String onlyLine() {
        List<String> lines = lines();
        assertEquals(1, lines.size(), String.join("\n", lines));
        return lines.get(0);
    }
}
