package io.tapline.config;

import io.tapline.ops.ManagementServer;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The host a listener of this process is to open on (replay's {@code --mock-host} and {@code --management-host}, the
 * sidecar's {@code --listen}, {@code --egress-listen} and {@code --management-host}), checked when the options are
 * read, before any Kafka client is made: one a listener cannot open on is refused there (exit 2) rather than when the
 * listener binds, after the clients have started (and, for replay, after the run's bounds were recorded). It is
 * <ul>
 *   <li>an IPv4 address (four numbers 0-255), an IPv6 address ({@code ::1}, with or without brackets, a
 *       {@code %scope} allowed) or a host name: labels of letters, digits, {@code -} and {@code _} (as Docker Compose
 *       service names have) separated by dots, each 1-63 characters and none starting or ending with {@code -}, 253
 *       characters at most (RFC 1123), without the root's trailing dot (the JDK's resolver does not take it);</li>
 *   <li>for an address, one of this machine's ({@link ManagementServer#isLocalAddress(InetAddress)}: the wildcard,
 *       loopback or an interface's), which needs no lookup, or any where Linux's {@code ip_nonlocal_bind} lets a
 *       process bind an address it does not hold;</li>
 *   <li>for a name, one that resolves, to at least one address of this machine. The lookup may block (a DNS server
 *       that does not answer): it runs on a thread of its own and is waited for {@link #LOOKUP_TIMEOUT} at most; a
 *       name it has not resolved by then is taken, and left to the listener's own lookup when it binds.</li>
 * </ul>
 * The empty value is refused too: the JDK's server read it as the loopback address, Vert.x as no address at all.
 */
public final class ListenHost {

    /** Longest a host name's lookup is waited for: one that takes longer is left to the listener's bind. */
    public static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(3);

    /** Most addresses of a name named in a refusal. */
    private static final int SHOWN_ADDRESSES = 4;

    private static final Path IPV4_NONLOCAL_BIND = Path.of("/proc/sys/net/ipv4/ip_nonlocal_bind");
    private static final Path IPV6_NONLOCAL_BIND = Path.of("/proc/sys/net/ipv6/ip_nonlocal_bind");

    private static final String WHAT = "give an address of this machine (0.0.0.0 or :: for all of its interfaces,"
            + " 127.0.0.1 or ::1 for this machine only) or a host name that resolves to one";

    /** Resolves a name to its addresses: {@link InetAddress#getAllByName}, or a test's. */
    @FunctionalInterface
    interface Lookup {
        InetAddress[] all(String name) throws UnknownHostException;
    }

    private ListenHost() {
    }

    /**
     * The value of {@code key}, checked as the class says; a refused one is a {@link ConfigException} naming the
     * option, where it was set ({@link TaplineConfig#named}) and the value, shown with codes.
     */
    public static String check(TaplineConfig config, String key) {
        return check(config.named(key), config.get(key));
    }

    /**
     * {@code host} checked as the class says.
     *
     * @param option how the error names the option, e.g. {@code option --listen (set by TAPLINE_LISTEN)}
     */
    public static String check(String option, String host) {
        String problem = problem(host, InetAddress::getAllByName, LOOKUP_TIMEOUT);
        if (problem != null) {
            throw new ConfigException(option + ": '" + host + "' " + problem);
        }
        return host;
    }

    /**
     * A listener on {@code host}:{@code port} that could not open ({@code cause}), refused as a bad value is: named by
     * the option in the way ({@link TaplineConfig#named}), the host's when it is not an address of this machine, else
     * the port's (another process holds it).
     */
    public static ConfigException cannotListen(TaplineConfig config, String hostKey, String portKey, String host,
                                               int port, Exception cause) {
        String key = ManagementServer.isLocalAddress(host) ? portKey : hostKey;
        return new ConfigException(config.named(key) + ": cannot listen on " + host + ":" + port + ": "
                + cause.getMessage(), cause);
    }

    /** What keeps {@code host} from being a listener's host, or null when nothing does (or the lookup took too long). */
    static String problem(String host, Lookup lookup, Duration timeout) {
        if (host == null || host.isEmpty()) {
            return "is empty; " + WHAT;
        }
        int colon = host.indexOf(':');
        if (colon > 0 && colon == host.lastIndexOf(':') && host.substring(colon + 1).matches("[0-9]+")
                && nameForm(host.substring(0, colon)) || host.matches("\\[[0-9A-Fa-f:.]+]:[0-9]+")) {
            return "is host:port; give the host alone (the port has an option of its own)";
        }
        if ((colon >= 0 || host.indexOf('[') >= 0 || host.indexOf(']') >= 0)
                && host.matches("\\[?[0-9A-Fa-f:.]*(%[A-Za-z0-9._-]*)?]?")) {
            InetAddress a = ipv6(host);
            return a == null ? "is not an IPv6 address (::1, or [::1] in brackets); " + WHAT : notLocal(a);
        }
        if (host.matches("[0-9.]+")) {
            InetAddress a = ipv4(host);
            return a == null ? "is not an IPv4 address (four numbers 0-255, as 127.0.0.1); " + WHAT : notLocal(a);
        }
        if (host.endsWith(".") && host.length() > 1 && nameForm(host.substring(0, host.length() - 1))) {
            return "ends with the root's '.'; give the name without it";
        }
        if (!nameForm(host)) {
            return "is not an IP address or a host name (labels of letters, digits, '-' and '_' separated by '.', each"
                    + " 1-63 characters and none starting or ending with '-', 253 characters at most); " + WHAT;
        }
        return resolvedProblem(host, lookup, timeout);
    }

    /** A listener on {@code a} cannot open unless this machine has it. */
    private static String notLocal(InetAddress a) {
        return bindable(a) ? null
                : "is not an address of this machine (none of its interfaces has it), so nothing can listen on it; " + WHAT;
    }

    /**
     * Whether a listener can open on {@code a}: one of this machine's addresses, or any address of its family where
     * Linux lets a process bind addresses it does not hold ({@code net.ipv4.ip_nonlocal_bind}, {@code
     * net.ipv6.ip_nonlocal_bind}; set where a virtual address moves between machines, as with keepalived). Never a
     * multicast address: no TCP listener opens on one.
     */
    private static boolean bindable(InetAddress a) {
        return ManagementServer.isLocalAddress(a) || !a.isMulticastAddress()
                && nonLocalBind(a instanceof Inet4Address ? IPV4_NONLOCAL_BIND : IPV6_NONLOCAL_BIND);
    }

    /** Whether the sysctl file {@code setting} reads 1; false where there is none (not Linux) or it cannot be read. */
    static boolean nonLocalBind(Path setting) {
        try {
            return Files.isReadable(setting) && Files.readString(setting).trim().equals("1");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The IPv6 address {@code host} writes, bracketed or not; null when it writes none. Resolves nothing. */
    private static InetAddress ipv6(String host) {
        boolean bracketed = host.startsWith("[") && host.endsWith("]");
        String inner = bracketed ? host.substring(1, host.length() - 1) : host;
        if (inner.indexOf(':') < 0 || !inner.matches("[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?")) {
            return null;
        }
        try {
            // in brackets, the JDK reads the text as an IPv6 literal or refuses it: it never looks it up as a name
            return InetAddress.getByName("[" + inner + "]");
        } catch (UnknownHostException | SecurityException e) {
            return null;
        }
    }

    /** The IPv4 address {@code host} writes as four numbers 0-255, null otherwise. */
    private static InetAddress ipv4(String host) {
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            if (parts[i].isEmpty() || parts[i].length() > 3 || Integer.parseInt(parts[i]) > 255) {
                return null;
            }
            bytes[i] = (byte) Integer.parseInt(parts[i]);
        }
        try {
            return Inet4Address.getByAddress(bytes);
        } catch (UnknownHostException e) {
            return null; // not thrown for four bytes
        }
    }

    /** A host name's form (RFC 1123, and {@code _}). */
    private static boolean nameForm(String name) {
        if (name.length() > 253) {
            return false;
        }
        for (String label : name.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")
                    || !label.matches("[A-Za-z0-9_-]+")) {
                return false;
            }
        }
        return true;
    }

    /** A name that resolves to no address of this machine; null when it has one, or its lookup takes too long. */
    private static String resolvedProblem(String name, Lookup lookup, Duration timeout) {
        FutureTask<InetAddress[]> task = new FutureTask<>(() -> lookup.all(name));
        Thread t = new Thread(task, "tapline-listen-host-lookup");
        t.setDaemon(true); // a lookup that never ends holds no exit
        t.start();
        InetAddress[] all;
        try {
            all = task.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return null; // left to the listener's bind, which looks it up again
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownHostException u) {
                return "is a name that does not resolve" + (u.getMessage() == null ? "" : " (" + u.getMessage() + ")")
                        + "; " + WHAT;
            }
            return null; // not a verdict on the name: the bind says what it is
        }
        if (all == null || all.length == 0) {
            return "is a name that resolves to no address; " + WHAT;
        }
        if (Arrays.stream(all).anyMatch(ListenHost::bindable)) {
            return null;
        }
        String shown = Arrays.stream(all).limit(SHOWN_ADDRESSES).map(InetAddress::getHostAddress)
                .collect(Collectors.joining(", ")) + (all.length > SHOWN_ADDRESSES ? ", ..." : "");
        return "resolves to " + shown + ", not an address of this machine (none of its interfaces has it), so nothing"
                + " can listen on it; " + WHAT;
    }
}
