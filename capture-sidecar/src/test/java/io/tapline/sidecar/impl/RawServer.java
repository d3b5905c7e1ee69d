package io.tapline.sidecar.impl;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A loopback TCP peer for byte-level tests (an app that sends interim responses, a tunnel target that half-closes):
 * runs {@code script} on its own thread for every accepted connection, then closes the connection.
 */
final class RawServer implements AutoCloseable {

    /** What the server does with one connection. */
    interface Script {
        void run(Socket connection) throws Exception;
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "raw-server");
        t.setDaemon(true);
        return t;
    });

    RawServer(Script script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    Socket connection = server.accept();
                    threads.execute(() -> {
                        try (connection) {
                            connection.setSoTimeout(10_000);
                            script.run(connection);
                        } catch (Exception e) {
                            // the peer went away or the test is over: nothing to report beyond what the test asserts
                        }
                    });
                } catch (IOException closed) {
                    return;
                }
            }
        });
    }

    int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
