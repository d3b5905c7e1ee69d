package io.tapline.sidecar.impl;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceContextTest {

    private static final String VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void shouldParseAVersion00Traceparent() {
        TraceContext t = TraceContext.parse(VALID);
        assertNotNull(t);
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", t.traceId());
        assertEquals("00f067aa0ba902b7", t.parentId());
        assertEquals("01", t.flags());
        assertEquals(VALID, t.header());
    }

    @Test
    void shouldRejectMalformedOrAllZeroContexts() {
        assertNull(TraceContext.parse(null));
        assertNull(TraceContext.parse(""));
        assertNull(TraceContext.parse("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"), "short trace id");
        assertNull(TraceContext.parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), "zero trace id");
        assertNull(TraceContext.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"), "zero parent id");
        assertNull(TraceContext.parse("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), "version ff");
        assertNull(TraceContext.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"), "v00 with extra fields");
        assertNull(TraceContext.parse("00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01"), "non-hex");
        assertNull(TraceContext.parse("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), "bad separator");
    }

    @Test
    void shouldRejectUpperCaseHexAsTheAppsTracerDoes() {
        // W3C: lower-case hex only (HEXDIGLC). OpenTelemetry restarts the trace on such a header, so the app's outbound
        // calls would carry a trace id the sidecar never saw.
        assertNull(TraceContext.parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), "upper-case trace id");
        assertNull(TraceContext.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"), "upper-case parent id");
        assertNull(TraceContext.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"), "upper-case flags");
        assertNull(TraceContext.parse("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), "upper-case version");
    }

    @Test
    void shouldAcceptFutureVersionsWithExtraFields() {
        assertNotNull(TraceContext.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-abcd"));
    }

    @Test
    void shouldGenerateValidDistinctContexts() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            TraceContext t = TraceContext.generate();
            assertEquals(t, TraceContext.parse(t.header()));
            ids.add(t.traceId());
        }
        assertTrue(ids.size() == 1000, "trace ids must not repeat");
    }
}
