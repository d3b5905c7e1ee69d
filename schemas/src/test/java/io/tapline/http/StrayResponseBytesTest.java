package io.tapline.http;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The handlers on a Vert.x client of its own, against a raw-socket peer. Their behaviour behind the sidecar and the
 * replay worker is tested there ({@code SidecarProxyTest}, {@code KeepAliveRaceTest}).
 */
@Timeout(30)
class StrayResponseBytesTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void stop() {
        vertx.close().await();
    }

    @Test
    void bytesPastAConnectsAnswerAreTheTunnelsNotStrayBytes() throws Exception {
        // A 2xx answer to a CONNECT makes the connection a tunnel (RFC 9110 9.3.6): what comes after it, also while
        // the client has sent nothing, is the tunnel's, not bytes no request awaits.
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread peer = new Thread(() -> {
                try (Socket s = server.accept()) {
                    readHead(s.getInputStream());
                    s.getOutputStream().write("HTTP/1.1 200 Connection established\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    Thread.sleep(200); // read alone: the tunnel's bytes come on a connection awaiting no answer
                    s.getOutputStream().write("tunnelled".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    s.getInputStream().read(); // until the client closes
                } catch (IOException | InterruptedException e) {
                    // the test is over
                }
            }, "raw-peer");
            peer.setDaemon(true);
            peer.start();
            HttpClientAgent client = vertx.httpClientBuilder().with(new HttpClientOptions())
                    .withConnectHandler(c -> StrayResponseBytes.install(c, new StrayResponseBytes.Peers("a peer")))
                    .build();
            HttpClientResponse answer = client.request(new RequestOptions().setMethod(HttpMethod.CONNECT)
                    .setHost("127.0.0.1").setPort(server.getLocalPort()).setURI("example.com:443"))
                    .compose(r -> {
                        r.exceptionHandler(e -> { }); // the tunnel's close at the test's end ends the request too
                        return r.connect();
                    }).await();
            assertEquals(200, answer.statusCode());
            NetSocket tunnel = answer.netSocket();
            CompletableFuture<String> got = new CompletableFuture<>();
            Buffer read = Buffer.buffer();
            tunnel.handler(b -> {
                read.appendBuffer(b);
                if (read.length() >= "tunnelled".length()) {
                    got.complete(read.toString(StandardCharsets.US_ASCII));
                }
            });
            tunnel.closeHandler(v -> got.complete("closed after " + read));
            assertEquals("tunnelled", got.get(10, TimeUnit.SECONDS));
            tunnel.close().await();
        }
    }

    private static void readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            if (head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                return;
            }
        }
    }
}
