package io.tapline.sidecar.impl;

import io.tapline.logging.TaplineLogging;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The line a sidecar logs once it listens. */
@Timeout(60)
class StartupLogTest {

    @Test
    void anEgressListenerThatIsOffIsLoggedAsOffNotAsPortMinusOne() throws Exception {
        String log = startupLog(true);
        assertTrue(log.contains("(egress off, nio transport)"), log);
        assertFalse(log.contains("egress -1"), log);
        String withEgress = startupLog(false);
        assertTrue(withEgress.matches("(?s).*\\(egress \\d+, nio transport\\).*"), withEgress);
    }

    private static String startupLog(boolean egressOff) throws Exception {
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        try (TestOrigin origin = new TestOrigin()) {
            var options = SidecarProxyTest.options(origin);
            if (egressOff) {
                options.noEgress();
            }
            SidecarImpl.start(options, new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()),
                    SidecarProxyTest.AVRO).close();
        } finally {
            TaplineLogging.flush(Duration.ofSeconds(10));
            TaplineLogging.output(System.err);
        }
        return logged.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("sidecar listening on"))
                .findFirst().orElse("no startup line in: " + logged.toString(StandardCharsets.UTF_8));
    }
}
