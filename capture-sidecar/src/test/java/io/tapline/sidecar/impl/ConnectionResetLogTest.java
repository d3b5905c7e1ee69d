package io.tapline.sidecar.impl;

import io.tapline.logging.TaplineLogging;
import io.tapline.sidecar.SidecarOptions;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
 * An app resetting a connection (RST: SO_LINGER 0, then close) is handled by the sidecar: the client gets a 502 and the
 * operator the sidecar's warning, with the status and the error. Vert.x's own report of the reset, an error of the
 * upstream connection, is written at debug. (A client resetting its connection to the sidecar is not reported by Vert.x
 * above trace: its HTTP server's default exception handler takes it.)
 */
@Timeout(60)
class ConnectionResetLogTest {

    private static final String VERTX_CONNECTION = "io.vertx.core.net.impl.ConnectionBase";

    @AfterEach
    void restore() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        TaplineLogging.output(System.err);
    }

    @Test
    void anAppResettingTheConnectionIsTheSidecarsWarningWithThe502NotAVertxError() throws Exception {
        String info = appResetLog(Level.INFO);
        assertFalse(info.contains(VERTX_CONNECTION), info);
        assertFalse(info.contains(" ERROR "), info);
        List<String> warnings = linesOf(info, "the app did not answer");
        assertEquals(1, warnings.size(), info);
        assertTrue(warnings.get(0).contains(" WARN ") && warnings.get(0).contains("the client got 502")
                && warnings.get(0).contains("Connection reset"), warnings.get(0));
        assertFalse(warnings.get(0).contains("ann@example.com"), warnings.get(0));
        String debug = appResetLog(Level.DEBUG);
        assertFalse(debug.contains(" ERROR "), debug);
        // at debug Vert.x's report is there, as debug, with its exception
        List<String> resets = linesOf(debug, VERTX_CONNECTION);
        assertEquals(1, resets.size(), debug);
        assertTrue(resets.get(0).endsWith(" DEBUG " + VERTX_CONNECTION + " - Connection reset"), resets.get(0));
        assertTrue(debug.contains(System.lineSeparator() + "java.net.SocketException: Connection reset"), debug);
    }

    private static String appResetLog(Level level) throws Exception {
        ByteArrayOutputStream logged = capture(level);
        try (RawServer app = new RawServer(c -> {
            readUntil(c.getInputStream(), "\r\n\r\n");
            reset(c);
        })) {
            SidecarOptions o = new SidecarOptions().listen("127.0.0.1", 0).noEgress().management("127.0.0.1", 0)
                    .app("http://127.0.0.1:" + app.port()).service("shop").instance("test-1")
                    .redactionKey("test-key-0123456789abcdef");
            try (SidecarImpl s = SidecarImpl.start(o, producer(), AVRO); Socket client = connect(s.port())) {
                // a POST is not sent again: one request, one reset, one 502
                client.getOutputStream().write(("POST /orders/ann@example.com HTTP/1.1\r\nHost: shop\r\nContent-Length: 2\r\n"
                        + "\r\n{}").getBytes(StandardCharsets.US_ASCII));
                String answer = readUntil(client.getInputStream(), "\r\n\r\n");
                assertTrue(answer.startsWith("HTTP/1.1 502"), answer);
            }
        }
        return text(logged);
    }

    /** Ends the connection with a reset rather than a FIN. */
    static void reset(Socket socket) throws Exception {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    private static ByteArrayOutputStream capture(Level level) {
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, level);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        return logged;
    }

    private static String text(ByteArrayOutputStream logged) {
        TaplineLogging.flush(Duration.ofSeconds(10));
        return logged.toString(StandardCharsets.UTF_8);
    }

    private static List<String> linesOf(String log, String text) {
        return log.lines().filter(l -> l.contains(text)).toList();
    }

    private static MockProducer<String, byte[]> producer() {
        return new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    }
}
