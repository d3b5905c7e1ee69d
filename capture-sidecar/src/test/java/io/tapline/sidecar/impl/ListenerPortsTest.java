package io.tapline.sidecar.impl;

import io.tapline.sidecar.SidecarOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The ports the listeners ask Vert.x for. Port 0 is resolved to a free port before the servers start (servers on
 * several event loops share a port only when they ask for the same one), and the inbound and egress listeners must
 * never be handed the same one: Vert.x would then share one server between them, and each connection would reach
 * either listener (an app's dependency call proxied to the app, a client's request answered 404 as an unknown egress
 * route).
 */
@Timeout(60)
class ListenerPortsTest {

    @Test
    void listenersOnPortZeroAreNeverHandedTheSamePort() throws Exception {
        SidecarOptions.Listen any = new SidecarOptions.Listen("127.0.0.1", 0);
        // Linux hands a port just let go of to the next bind of port 0 about once in 3,000 (measured: 7 of 20,000
        // back-to-back probes): enough draws that probes closed one before the next meet it
        int same = 0;
        for (int i = 0; i < 20_000; i++) {
            int[] ports = SidecarImpl.concretePorts(any, any);
            if (ports[0] == ports[1]) {
                same++;
            }
        }
        assertEquals(0, same, "draws where both listeners were handed one port");
    }

    @Test
    void aListenerOnPortZeroIsNeverHandedThePortAnotherNames() throws Exception {
        int named;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            named = s.getLocalPort();
        }
        SidecarOptions.Listen fixed = new SidecarOptions.Listen("127.0.0.1", named);
        SidecarOptions.Listen any = new SidecarOptions.Listen("127.0.0.1", 0);
        for (int i = 0; i < 20_000; i++) {
            int[] ports = SidecarImpl.concretePorts(fixed, any);
            assertEquals(named, ports[0]);
            assertNotEquals(named, ports[1], "the egress listener was handed the inbound listener's port");
            ports = SidecarImpl.concretePorts(any, fixed);
            assertNotEquals(named, ports[0], "the inbound listener was handed the egress listener's port");
        }
    }

    @Test
    void anEgressListenerSwitchedOffHasNoPort() throws Exception {
        assertEquals(-1, SidecarImpl.concretePorts(new SidecarOptions.Listen("127.0.0.1", 0), null)[1]);
    }
}
