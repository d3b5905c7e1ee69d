package io.tapline.sidecar.impl;

import io.tapline.config.ConfigException;
import io.tapline.sidecar.SidecarOptions;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Starts sidecars with one listener on a named port and the other on port 0, the named port being the one the kernel
 * hands out next: run in a network namespace of its own whose ephemeral port range is two ports wide
 * ({@link ListenerPortRaceTest}), a socket bound to port 0 gets the same port each time while it is free. A listener on
 * port 0 bound before the other holds its named port is handed that port, and the other cannot listen. Prints, for
 * each order ({@code --listen} named and {@code --egress-listen 0}, then the reverse), {@code ORDER: started N of M}
 * and each start that failed or got other ports than it should; {@code kernel: ...} instead when the kernel does not
 * hand out one port twice (nothing is then shown).
 */
public final class NamedPortMain {

    /** The management port: named, outside the namespace's ephemeral range, which the two listeners fill. */
    static final int MANAGEMENT_PORT = 40100;

    public static void main(String[] args) throws Exception {
        int starts = Integer.parseInt(args[0]);
        if (nextFreePort() != nextFreePort()) {
            System.out.println("kernel: port 0 is not handed the same free port twice here");
            System.exit(0);
        }
        for (boolean inboundNamed : new boolean[] {true, false}) {
            String order = inboundNamed ? "--listen named, --egress-listen 0" : "--listen 0, --egress-listen named";
            int started = 0;
            for (int i = 0; i < starts; i++) {
                int named = nextFreePort();
                SidecarOptions o = new SidecarOptions().listen("127.0.0.1", inboundNamed ? named : 0)
                        .egressListen("127.0.0.1", inboundNamed ? 0 : named).management("127.0.0.1", MANAGEMENT_PORT)
                        .app("http://127.0.0.1:1").redactionKey("test-key-0123456789abcdef").eventLoops(2);
                try (SidecarImpl sidecar = SidecarImpl.start(o,
                        new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), SidecarProxyTest.AVRO)) {
                    int namedGot = inboundNamed ? sidecar.port() : sidecar.egressPort();
                    int randomGot = inboundNamed ? sidecar.egressPort() : sidecar.port();
                    if (namedGot == named && randomGot > 0 && randomGot != named) {
                        started++;
                    } else {
                        System.out.println(order + ": start " + i + " named " + named + ", got " + namedGot + " and " + randomGot);
                    }
                } catch (IOException | ConfigException e) {
                    System.out.println(order + ": start " + i + " (named " + named + ") failed: " + e.getMessage());
                }
            }
            System.out.println(order + ": started " + started + " of " + starts);
        }
        System.exit(0);
    }

    /** The port a socket bound to port 0 gets, let go of at once: the one the kernel hands out next. */
    static int nextFreePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
