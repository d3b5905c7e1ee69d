package io.tapline.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ListenHostTest {

    /** A multicast address: no interface has one, on any machine. */
    static final String NOT_OF_THIS_MACHINE = "224.0.0.1";

    private static final ConfigSpec SPEC = ConfigSpec.builder("tapline x", "x")
            .option("management.host", "0.0.0.0", "Management address.").build();

    /** A lookup that must not be reached: the value is refused or taken by its form alone. */
    private static final ListenHost.Lookup NO_LOOKUP = name -> {
        throw new AssertionError("looked up " + name);
    };

    private static String problem(String host) {
        return ListenHost.problem(host, NO_LOOKUP, Duration.ofSeconds(1));
    }

    @Test
    void anAddressOfThisMachineIsTakenWithoutALookup() {
        for (String host : List.of("0.0.0.0", "127.0.0.1", "127.0.0.2", "::", "::1", "[::1]", "[::]", "0:0:0:0:0:0:0:1",
                "::ffff:127.0.0.1")) {
            assertNull(problem(host), host);
        }
    }

    @Test
    void aValueNoListenerCanOpenOnIsRefusedByItsFormWithoutALookup() {
        // each failed only when the listener was bound, after the Kafka clients had started
        String ipv6 = "is not an IPv6 address (::1, or [::1] in brackets)";
        String ipv4 = "is not an IPv4 address (four numbers 0-255, as 127.0.0.1)";
        String name = "is not an IP address or a host name (labels of letters, digits, '-' and '_' separated by '.'";
        Map<String, String> refused = Map.ofEntries(
                Map.entry("", "is empty"),
                Map.entry("exa mple", name),
                Map.entry("host\u202e", name),
                Map.entry("h\u00f6st", name),
                Map.entry("-host", name),
                Map.entry("host-", name),
                Map.entry("a..b", name),
                Map.entry(".host", name),
                Map.entry("h".repeat(64), name),
                Map.entry(String.join(".", "h".repeat(63), "h".repeat(63), "h".repeat(63), "h".repeat(63)), name),
                Map.entry("host:8080", "is host:port; give the host alone (the port has an option of its own)"),
                Map.entry("127.0.0.1:8080", "is host:port; give the host alone (the port has an option of its own)"),
                Map.entry("[::1]:8080", "is host:port; give the host alone (the port has an option of its own)"),
                Map.entry("host:http", name),
                Map.entry("[host]", name),
                Map.entry("::1]", ipv6),
                Map.entry("[::1", ipv6),
                Map.entry("[127.0.0.1]", ipv6),
                Map.entry(":::1", ipv6),
                Map.entry("::g", name),
                Map.entry("fe80::1::2", ipv6),
                Map.entry("127.1", ipv4),
                Map.entry("256.0.0.1", ipv4),
                Map.entry("1.2.3.4.5", ipv4),
                Map.entry("0127.0.0.1", ipv4),
                Map.entry("8080", ipv4),
                Map.entry("localhost.", "ends with the root's '.'; give the name without it"));
        refused.forEach((host, expected) -> {
            String problem = problem(host);
            assertTrue(problem != null && problem.startsWith(expected), host + ": " + problem);
        });
    }

    @Test
    void linuxsNonLocalBindIsReadFromItsSysctlFile(@TempDir Path dir) throws IOException {
        // with it set, a process may bind an address it does not hold yet (a virtual address keepalived moves here)
        assertTrue(ListenHost.nonLocalBind(Files.writeString(dir.resolve("on"), "1\n")));
        assertFalse(ListenHost.nonLocalBind(Files.writeString(dir.resolve("off"), "0\n")));
        assertFalse(ListenHost.nonLocalBind(dir.resolve("none")));
    }

    @Test
    void anAddressThatIsNotThisMachinesIsRefusedWithoutALookup() {
        // multicast: refused even where ip_nonlocal_bind is set
        for (String host : List.of(NOT_OF_THIS_MACHINE, "ff02::1", "[ff02::1]")) {
            assertTrue(problem(host).startsWith("is not an address of this machine (none of its interfaces has it), so "
                    + "nothing can listen on it; give an address of this machine (0.0.0.0 or :: for all of its interfaces, "
                    + "127.0.0.1 or ::1 for this machine only) or a host name that resolves to one"), host);
        }
    }

    @Test
    void aNameIsTakenWhenItResolvesToAnAddressOfThisMachine() throws UnknownHostException {
        InetAddress elsewhere = InetAddress.getByName(NOT_OF_THIS_MACHINE);
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        assertNull(ListenHost.problem("replay-0.replay.tapline.svc.cluster.local",
                name -> new InetAddress[] {elsewhere, loopback}, Duration.ofSeconds(1)));
        assertNull(ListenHost.problem("inventory_svc", name -> new InetAddress[] {loopback}, Duration.ofSeconds(1)),
                "a Docker Compose service name");
        assertNull(ListenHost.problem("h".repeat(63) + ".local", name -> new InetAddress[] {loopback}, Duration.ofSeconds(1)));
        assertEquals("resolves to 224.0.0.1, not an address of this machine (none of its interfaces has it), so nothing "
                + "can listen on it; give an address of this machine (0.0.0.0 or :: for all of its interfaces, 127.0.0.1 or "
                + "::1 for this machine only) or a host name that resolves to one",
                ListenHost.problem("db.example", name -> new InetAddress[] {elsewhere}, Duration.ofSeconds(1)));
        assertEquals("is a name that does not resolve (nowhere.invalid: Name or service not known); give an address of"
                        + " this machine (0.0.0.0 or :: for all of its interfaces, 127.0.0.1 or ::1 for this machine only)"
                        + " or a host name that resolves to one",
                ListenHost.problem("nowhere.invalid", name -> {
                    throw new UnknownHostException(name + ": Name or service not known");
                }, Duration.ofSeconds(1)));
    }

    @Test
    @Timeout(10)
    void aLookupThatDoesNotAnswerIsWaitedForAWhileOnlyAndLeftToTheListener() {
        CountDownLatch never = new CountDownLatch(1);
        long start = System.nanoTime();
        assertNull(ListenHost.problem("slow-dns.example", name -> {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new UnknownHostException(name);
        }, Duration.ofMillis(200)));
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMs >= 200 && tookMs < 5_000, tookMs + " ms");
        never.countDown();
    }

    @Test
    void aRefusalNamesTheOptionWhereItWasSetAndShowsTheValueWithCodes() {
        TaplineConfig fromEnv = TaplineConfig.load(SPEC, new String[0],
                Map.of("TAPLINE_MANAGEMENT_HOST", "host\u202e\u001b[2J\n::error::x"));
        assertEquals("option --management-host (set by TAPLINE_MANAGEMENT_HOST): 'host\\u202e\\u001b[2J\\n::error::x' is not"
                        + " an IP address or a host name (labels of letters, digits, '-' and '_' separated by '.', each 1-63"
                        + " characters and none starting or ending with '-', 253 characters at most); give an address of this"
                        + " machine (0.0.0.0 or :: for all of its interfaces, 127.0.0.1 or ::1 for this machine only) or a host"
                        + " name that resolves to one",
                assertThrows(ConfigException.class, () -> ListenHost.check(fromEnv, "management.host")).getMessage());
        TaplineConfig fromFlag = TaplineConfig.load(SPEC, new String[] {"--management-host", ""}, Map.of());
        assertTrue(assertThrows(ConfigException.class, () -> ListenHost.check(fromFlag, "management.host")).getMessage()
                .startsWith("option --management-host: '' is empty; give an address of this machine"));
        assertEquals("0.0.0.0", ListenHost.check(TaplineConfig.load(SPEC, new String[0], Map.of()), "management.host"));
        assertEquals("localhost", ListenHost.check("option --listen", "localhost"), "resolved by this machine's resolver");
    }
}
