package io.tapline.sidecar.impl;

import io.netty.channel.ConnectTimeoutException;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which egress listeners are warned about, and which upstream failures give 502 and which 504. */
class ListenerExposureTest {

    @Test
    void onlyALoopbackListenerIsKeptToThisHost() {
        assertTrue(SidecarImpl.loopbackOnly("127.0.0.1"));
        assertTrue(SidecarImpl.loopbackOnly("localhost"));
        assertTrue(SidecarImpl.loopbackOnly("[::1]"));
        assertFalse(SidecarImpl.loopbackOnly("0.0.0.0"), "every interface");
        assertFalse(SidecarImpl.loopbackOnly("::"));
        assertFalse(SidecarImpl.loopbackOnly("10.1.2.3"));
        assertFalse(SidecarImpl.loopbackOnly("no-such-host.invalid"), "unknown: warned about rather than assumed safe");
    }

    @Test
    void aConnectThatTimesOutIs504AndOneRefusedOrUnresolvedIs502() {
        // as nginx answers: "upstream timed out while connecting" is a 504, "connection refused" a 502
        assertEquals(504, ProxyEngine.statusFor(new ConnectTimeoutException("connection timed out: /10.0.0.1:80")));
        assertEquals(504, ProxyEngine.statusFor(new TimeoutException()));
        assertEquals(502, ProxyEngine.statusFor(new ConnectException("Connection refused")));
        assertEquals(502, ProxyEngine.statusFor(new UnknownHostException("inventory")));
    }
}
