package io.tapline.sidecar.impl;

import io.tapline.logging.TaplineLogging;
import io.tapline.sidecar.SidecarOptions;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.event.Level;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An app that answers with bytes that are not HTTP: the client gets a 502 and the operator the sidecar's warning, with
 * the status and what the client's decoder found. Vert.x reported the same failure once more, as an error of the
 * upstream connection naming no request ({@code ERROR io.vertx.core.net.impl.ConnectionBase - invalid version format:
 * HELLO}), one line per such answer; it is a debug line naming the app's address now, with the exception.
 */
@Timeout(60)
class UnreadableAnswerLogTest {

    private static final String VERTX_CONNECTION = "io.vertx.core.net.impl.ConnectionBase";
    private static final String DECODER_SAID = "java.lang.IllegalArgumentException: invalid version format: HELLO";

    @AfterEach
    void restore() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        TaplineLogging.output(System.err);
    }

    @ParameterizedTest
    @EnumSource(value = Level.class, names = {"INFO", "DEBUG"})
    void anAppAnsweringWithBytesThatAreNotHttpIsTheSidecarsWarningWithThe502NotAVertxError(Level level) throws Exception {
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, level);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        int appPort;
        try (RawServer app = new RawServer(c -> {
            readUntil(c.getInputStream(), "\r\n\r\n");
            c.getOutputStream().write("HELLO\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            c.getInputStream().read(); // until the sidecar closes: the bytes are not cut short by a reset
        })) {
            appPort = app.port();
            SidecarOptions o = new SidecarOptions().listen("127.0.0.1", 0).noEgress().management("127.0.0.1", 0)
                    .app("http://127.0.0.1:" + app.port()).service("shop").instance("test-1")
                    .redactionKey("test-key-0123456789abcdef");
            try (SidecarImpl s = SidecarImpl.start(o, producer(), AVRO)) {
                for (int i = 0; i < 2; i++) {
                    try (Socket client = connect(s.port())) {
                        client.getOutputStream().write(("POST /orders/ann@example.com HTTP/1.1\r\nHost: shop\r\n"
                                + "Content-Length: 2\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII));
                        String answer = readUntil(client.getInputStream(), "\r\n\r\n");
                        assertTrue(answer.startsWith("HTTP/1.1 502"), answer);
                    }
                }
            }
        }
        TaplineLogging.flush(Duration.ofSeconds(10));
        String log = logged.toString(StandardCharsets.UTF_8);
        assertFalse(log.contains(" ERROR "), log);
        assertFalse(log.contains(VERTX_CONNECTION), log);
        // the sidecar's own warning says it, once in its 10 s (every failure at debug)
        List<String> warnings = linesOf(log, "the app did not answer");
        assertEquals(1, warnings.size(), log);
        assertTrue(warnings.get(0).contains(" WARN ") && warnings.get(0).contains("the client got 502: " + DECODER_SAID),
                warnings.get(0));
        assertFalse(warnings.get(0).contains("ann@example.com"), warnings.get(0));
        List<String> answers = linesOf(log, " io.tapline.http.StrayResponseBytes - ");
        if (level == Level.INFO) {
            assertEquals(List.of(), answers, log);
        } else {
            assertEquals(2, answers.size(), log);
            for (String line : answers) {
                assertTrue(line.endsWith(" DEBUG io.tapline.http.StrayResponseBytes - an upstream 127.0.0.1:" + appPort
                        + " sent an answer that cannot be read as HTTP; the request awaiting it fails with "
                        + DECODER_SAID), line);
            }
            assertTrue(log.contains(System.lineSeparator() + DECODER_SAID + System.lineSeparator()), log);
        }
    }

    private static List<String> linesOf(String log, String text) {
        return log.lines().filter(l -> l.contains(text)).toList();
    }

    private static MockProducer<String, byte[]> producer() {
        return new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    }
}
