package io.tapline.sidecar.impl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Listeners on port 0 while another process takes free ports: no start fails for a port taken from under it. In a
 * child JVM in a network namespace of its own (an unprivileged user namespace, {@code unshare -rn}) whose ephemeral
 * port range is 16 ports wide, {@link PortTakerMain} starts sidecars while a thread binds port 0 over and over: any
 * port the sidecar let go of between choosing and binding it is soon that thread's. With ports drawn by probe sockets
 * that were closed before Vert.x bound them, about half the starts failed ("cannot listen on 127.0.0.1:40003
 * (--listen): Address already in use"); with each listener binding port 0 itself, none does.
 *
 * <p>One listener on a named port and the other on port 0, in either order, in a namespace whose range is two ports
 * wide ({@link NamedPortMain}): the named port is the one the kernel hands out next, so a listener on port 0 bound
 * before the other holds its named port is handed that port, and the other cannot listen. Skipped where user
 * namespaces are not allowed.
 */
@Timeout(120)
@EnabledOnOs(OS.LINUX)
class ListenerPortRaceTest {

    static final int STARTS = 30;
    static final int NAMED_PORT_STARTS = 20;
    /** Inside the namespace only: the host's own range is untouched. */
    static final String NARROW_RANGE = "echo '40000 40015' > /proc/sys/net/ipv4/ip_local_port_range && ip link set lo up";

    @Test
    void noStartFailsForAPortAnotherProcessTookOnTheWay() throws Exception {
        assumeTrue(run(List.of("unshare", "-rn", "bash", "-c", NARROW_RANGE)).exitValue() == 0,
                "no network namespace of its own for this user (unshare -rn, ip)");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Ran child = run(List.of("unshare", "-rn", "bash", "-c", NARROW_RANGE + " && exec \"$0\" \"$@\"",
                java.toString(), "-cp", System.getProperty("java.class.path"), PortTakerMain.class.getName(),
                Integer.toString(STARTS)));
        List<String> said = child.output().lines().filter(l -> l.startsWith("start")).toList();
        assertEquals(0, child.exitValue(), child.output());
        assertTrue(said.contains("started " + STARTS + " of " + STARTS), String.join("\n", said));
    }

    @Test
    void aListenerOnPortZeroIsNotHandedThePortTheOtherNamesWhenTheKernelWouldHandItOut() throws Exception {
        String twoPorts = NARROW_RANGE.replace("40000 40015", "40000 40001");
        assumeTrue(run(List.of("unshare", "-rn", "bash", "-c", twoPorts)).exitValue() == 0,
                "no network namespace of its own for this user (unshare -rn, ip)");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Ran child = run(List.of("unshare", "-rn", "bash", "-c", twoPorts + " && exec \"$0\" \"$@\"",
                java.toString(), "-cp", System.getProperty("java.class.path"), NamedPortMain.class.getName(),
                Integer.toString(NAMED_PORT_STARTS)));
        assertEquals(0, child.exitValue(), child.output());
        assumeTrue(!child.output().contains("kernel: "), child.output());
        List<String> said = child.output().lines().filter(l -> l.startsWith("--listen")).toList();
        assertEquals(List.of("--listen named, --egress-listen 0: started " + NAMED_PORT_STARTS + " of " + NAMED_PORT_STARTS,
                "--listen 0, --egress-listen named: started " + NAMED_PORT_STARTS + " of " + NAMED_PORT_STARTS), said,
                child.output());
    }

    /** A command that ran: its exit status and its output, standard error included. */
    record Ran(int exitValue, String output) {
    }

    /** Runs a command to its end (killed after 100 s), its output kept in a file, not a pipe it could fill. */
    private static Ran run(List<String> command) throws Exception {
        Path out = Files.createTempFile("listener-port-race", ".log");
        try {
            Process p;
            try {
                p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            } catch (IOException noUnshare) {
                assumeTrue(false, "no unshare here: " + noUnshare.getMessage());
                throw noUnshare;
            }
            if (!p.waitFor(100, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
            return new Ran(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
