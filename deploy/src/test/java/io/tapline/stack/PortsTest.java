package io.tapline.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;

import org.junit.jupiter.api.Test;

class PortsTest {

    @Test
    void shouldFailNamingThePortWhenSomethingListensOnIt() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertFalse(Ports.isFree(port));
            PortInUseException e = assertThrows(PortInUseException.class, () -> Ports.requireFree("Kafka", port));
            assertEquals(port, e.port());
            assertTrue(e.getMessage().contains("Kafka port " + port + " is already in use"), e.getMessage());
        }
    }

    @Test
    void shouldDetectAPortTakenOnTheWildcardAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            assertFalse(Ports.isFree(taken.getLocalPort()));
        }
    }

    @Test
    void shouldHandOutAPortThatCanBeBound() {
        int port = Ports.freePort();
        assertTrue(port > 0);
        assertTrue(Ports.isFree(port));
        Ports.requireFree("Kafka", port);
    }

    @Test
    void shouldRejectPortZero() {
        assertThrows(StackException.class, () -> Ports.requireValid("Kafka", 0));
    }
}
