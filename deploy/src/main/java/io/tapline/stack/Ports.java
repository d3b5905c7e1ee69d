package io.tapline.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Port checks: free ports for tests, and an immediate error when a fixed port is taken. */
public final class Ports {

    /** Every process of the stack binds the loopback interface only. */
    public static final String HOST = "127.0.0.1";

    private Ports() {
    }

    /** A port nothing listens on right now: bind port 0, read it back, release it. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("could not find a free port on " + HOST, e);
        }
    }

    /** True when a server socket can be bound on {@code HOST:port} right now. */
    public static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            // Same as the JVM default on Linux: a port in TIME_WAIT is free, a listening port is not.
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Fails at once, naming the port, when something already listens on it. */
    public static void requireFree(String what, int port) {
        requireValid(what, port);
        if (!isFree(port)) {
            throw new PortInUseException(what, HOST, port);
        }
    }

    /** Ports 1-65535; 0 is not allowed because the stack must print a stable address. */
    public static void requireValid(String what, int port) {
        if (port < 1 || port > 65535) {
            throw new StackException(what + " port must be between 1 and 65535, got " + port);
        }
    }

    /** True when a TCP connection to {@code HOST:port} succeeds within the timeout. */
    public static boolean isListening(int port, int timeoutMillis) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), timeoutMillis);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
