package io.tapline.sidecar.impl;

import io.tapline.avro.OutboundCall;
import io.tapline.avro.UnattributedCall;
import io.tapline.logging.TaplineLogging;
import io.tapline.sidecar.SidecarOptions;
import io.tapline.topics.TaplineTopics;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.event.Level;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
 * HELLO}), one line per such answer; it is a debug line naming the app's address now, with the exception. The
 * sidecar's own lines say the app (or, behind the egress listener, a dependency) answered with bytes that cannot be
 * read as HTTP, with what the decoder found, where they said it did not answer ({@code
 * java.lang.IllegalArgumentException: invalid version format: HELLO}).
 */
@Timeout(60)
class UnreadableAnswerLogTest {

    private static final String VERTX_CONNECTION = "io.vertx.core.net.impl.ConnectionBase";
    private static final String DECODER_SAID = "java.lang.IllegalArgumentException: invalid version format: HELLO";
    private static final String BAD_CHUNK = "Invalid character in chunk size";
    private static final String OTHER_VERSION = "the status line names HTTP/2.0, not HTTP/1.0 or HTTP/1.1";

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
        // said to be an answer that cannot be read as HTTP, with what the decoder found: the app did answer
        assertFalse(log.contains("the app did not answer"), log);
        List<String> warnings = linesOf(log, "the app answered a request with bytes that cannot be read as HTTP");
        assertEquals(1, warnings.size(), log);
        assertTrue(warnings.get(0).contains(" WARN ")
                && warnings.get(0).endsWith("the client got 502: invalid version format: HELLO"), warnings.get(0));
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

    @Test
    void anAppAnsweringBytesThatSayTimeoutGetsTheClientA502NotA504() throws Exception {
        // the decoder's message quotes the peer's bytes: the word in them is not a timeout of the sidecar's
        try (RawServer app = new RawServer(c -> {
            readUntil(c.getInputStream(), "\r\n\r\n");
            c.getOutputStream().write("TIMEOUT\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            c.getInputStream().read(); // until the sidecar closes: the bytes are not cut short by a reset
        })) {
            SidecarOptions o = new SidecarOptions().listen("127.0.0.1", 0).noEgress().management("127.0.0.1", 0)
                    .app("http://127.0.0.1:" + app.port()).service("shop").instance("test-1")
                    .redactionKey("test-key-0123456789abcdef");
            try (SidecarImpl s = SidecarImpl.start(o, producer(), AVRO); Socket client = connect(s.port())) {
                client.getOutputStream().write("GET /x HTTP/1.1\r\nHost: shop\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String answer = readUntil(client.getInputStream(), "\r\n\r\n");
                assertTrue(answer.startsWith("HTTP/1.1 502"), answer);
            }
        }
    }

    @Test
    void aDependencyAnsweringWithBytesThatAreNotHttpIsSaidToHaveAnsweredSo() throws Exception {
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.DEBUG);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        MockProducer<String, byte[]> producer = producer();
        try (RawServer dependency = new RawServer(c -> {
            String head = readUntil(c.getInputStream(), "\r\n\r\n");
            c.getOutputStream().write((head.startsWith("GET /bad-chunk/") ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
                    : head.startsWith("GET /http2/") ? "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\n{}"
                    : "HELLO\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            c.getInputStream().read(); // until the sidecar closes: the bytes are not cut short by a reset
        })) {
            String dep = "http://127.0.0.1:" + dependency.port();
            SidecarOptions o = new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0)
                    .management("127.0.0.1", 0).app(dep).service("shop").instance("test-1")
                    .redactionKey("test-key-0123456789abcdef");
            try (SidecarImpl s = SidecarImpl.start(o, producer, AVRO); Socket app = connect(s.egressPort())) {
                for (String path : List.of("/rates/ann@example.com", "/bad-chunk/ann@example.com",
                        "/http2/ann@example.com")) {
                    app.getOutputStream().write(("GET " + dep + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    String head = readUntil(app.getInputStream(), "\r\n\r\n");
                    assertTrue(head.startsWith("HTTP/1.1 502"), path + ": " + head);
                    app.getInputStream().readNBytes(contentLength(head));
                }
                // a WebSocket handshake answered so
                app.getOutputStream().write(("GET " + dep + "/ws/ann@example.com HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String head = readUntil(app.getInputStream(), "\r\n\r\n");
                assertTrue(head.startsWith("HTTP/1.1 502"), "handshake: " + head);
                List<OutboundCall> calls = unattributed(producer, 3);
                // the calls are recorded as answers that cannot be read as HTTP too (before: "IllegalArgumentException:
                // invalid version format: HELLO", "NumberFormatException: Invalid character in chunk size", and for
                // the status line in another version of HTTP, which Vert.x refuses after the decoder,
                // "IllegalStateException: Unsupported HTTP version: HTTP/2.0")
                assertEquals(List.of("answered with bytes that cannot be read as HTTP: invalid version format: HELLO",
                        "answered with bytes that cannot be read as HTTP: " + BAD_CHUNK,
                        "answered with bytes that cannot be read as HTTP: " + OTHER_VERSION),
                        calls.stream().map(OutboundCall::getError).toList());
            }
        }
        TaplineLogging.flush(Duration.ofSeconds(10));
        String log = logged.toString(StandardCharsets.UTF_8);
        assertFalse(log.contains(" WARN "), log);
        List<String> answered = linesOf(log, "io.tapline.sidecar.impl.ProxyEngine - a dependency answered ");
        assertEquals(List.of(" DEBUG io.tapline.sidecar.impl.ProxyEngine - a dependency answered GET /rates/ann@example.com"
                        + " with bytes that cannot be read as HTTP, the app got 502: invalid version format: HELLO",
                " DEBUG io.tapline.sidecar.impl.ProxyEngine - a dependency answered GET /bad-chunk/ann@example.com"
                        + " with bytes that cannot be read as HTTP, the app got 502: " + BAD_CHUNK,
                " DEBUG io.tapline.sidecar.impl.ProxyEngine - a dependency answered GET /http2/ann@example.com"
                        + " with bytes that cannot be read as HTTP, the app got 502: " + OTHER_VERSION,
                " DEBUG io.tapline.sidecar.impl.ProxyEngine - a dependency answered GET /ws/ann@example.com"
                        + " with bytes that cannot be read as HTTP, the app got 502: invalid version format: HELLO"),
                answered.stream().map(l -> l.substring(l.indexOf(" DEBUG "))).toList(), log);
        assertFalse(log.contains("upstream failure for"), log);
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                return Integer.parseInt(line.substring(15).trim());
            }
        }
        return 0;
    }

    /** The calls of the first {@code n} unattributed records {@code producer} published, waited for up to 10 s. */
    private static List<OutboundCall> unattributed(MockProducer<String, byte[]> producer, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<OutboundCall> calls = new ArrayList<>();
        while (calls.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
            calls.clear();
            for (ProducerRecord<String, byte[]> r : producer.history()) {
                if (r.topic().equals(TaplineTopics.UNATTRIBUTED)) {
                    calls.add(new SpecificDatumReader<>(UnattributedCall.class)
                            .read(null, DecoderFactory.get().binaryDecoder(r.value(), null)).getCall());
                }
            }
        }
        return calls;
    }

    private static List<String> linesOf(String log, String text) {
        return log.lines().filter(l -> l.contains(text)).toList();
    }

    private static MockProducer<String, byte[]> producer() {
        return new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    }
}
