package io.tapline.logging;

import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;

/**
 * Standard output and standard error in UTF-8 where the JVM would write them in a charset that cannot hold every
 * character. Java 17 writes them in the locale's charset: {@code sun.stdout.encoding} (or {@code sun.stderr.encoding})
 * when the stream is a terminal, else the default charset, {@code file.encoding}; Java 18 and later in
 * {@code stdout.encoding} ({@code stderr.encoding}), the locale's too. Under the POSIX locale (no {@code LANG} or
 * {@code LC_ALL}, as in most containers and CI jobs) that is ASCII, and every other character of a message or a log
 * line was written as {@code ?}: a value quoted with {@code é} read the same as one with {@code è}.
 * <p>ASCII is UTF-8's first 128 characters, so what an ASCII stream wrote right is written the same. A stream already
 * in a charset that holds every character (UTF-8, UTF-16, UTF-32, GB18030) is left as it is; one in another (ISO-8859-1
 * say) is switched to UTF-8 too, as the reports written to standard output always are. Each component calls
 * {@link #useUtf8()} first thing in its {@code main}, so that {@code java -jar} runs it as {@code ./tapline} does.
 */
public final class StandardStreams {

    private StandardStreams() {
    }

    /**
     * Replaces {@link System#out} and {@link System#err} by UTF-8 streams over them where their charset cannot hold
     * every character ({@link #charsetOf}), and points the logs ({@link TaplineLogging}) at the new standard error when
     * they wrote to the old one. Once replaced, a stream is not replaced again.
     */
    public static synchronized void useUtf8() {
        PrintStream out = System.out;
        if (!(out instanceof Utf8Stream) && !holdsEveryCharacter(charsetOf("stdout", System::getProperty))) {
            System.setOut(new Utf8Stream(out));
        }
        PrintStream err = System.err;
        if (!(err instanceof Utf8Stream) && !holdsEveryCharacter(charsetOf("stderr", System::getProperty))) {
            Utf8Stream utf8 = new Utf8Stream(err);
            System.setErr(utf8);
            TaplineLogging.outputReplaced(err, utf8);
        }
    }

    /**
     * The charset the JVM writes a standard stream ({@code stdout} or {@code stderr}) in, from the system properties:
     * {@code stdout.encoding} (Java 18 and later always set it), else {@code sun.stdout.encoding} (Java 17 sets it for a
     * terminal), else the default charset, as Java 17 picks it. A name the JVM does not know is skipped, as it does.
     */
    static Charset charsetOf(String stream, UnaryOperator<String> property) {
        for (String key : new String[] {stream + ".encoding", "sun." + stream + ".encoding"}) {
            String name = property.apply(key);
            if (name != null) {
                try {
                    return Charset.forName(name);
                } catch (IllegalArgumentException e) {
                    // an unknown or illegal name: the JVM falls back to the default charset as well
                }
            }
        }
        return Charset.defaultCharset();
    }

    /** Whether text in {@code charset} can hold every character: the Unicode encodings, and GB18030. */
    static boolean holdsEveryCharacter(Charset charset) {
        String name = charset.name();
        return name.startsWith("UTF-") || name.equals("GB18030");
    }

    /**
     * A UTF-8 stream writing its bytes to the stream it replaces, which passes them on as they are (a
     * {@link PrintStream} encodes only characters); an error of that stream is one of this stream too.
     */
    private static final class Utf8Stream extends PrintStream {

        private final PrintStream replaced;

        Utf8Stream(PrintStream replaced) {
            super(replaced, true, StandardCharsets.UTF_8);
            this.replaced = replaced;
        }

        @Override
        public boolean checkError() {
            return super.checkError() | replaced.checkError();
        }
    }
}
