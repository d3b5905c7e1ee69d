package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.config.ConfigException;
import io.tapline.config.TaplineConfig;
import io.tapline.ops.Metrics;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DedupMainTest {

    @Test
    void shouldNameTheManagementPortItCannotListenOnInsteadOfThrowingOutOfMain() throws Exception {
        // a port another service holds (9402 next to busy services) was a java.net.BindException "Address already in
        // use" out of main, with its stack trace and without the port, after the output schemas were registered
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            TaplineConfig config = DedupOptions.load(new String[] {"--management-host", "127.0.0.1",
                    "--management-port", Integer.toString(taken.getLocalPort())}, Map.of());
            String message = assertThrows(ConfigException.class,
                    () -> DedupMain.startManagement(config, new Metrics(), () -> true).close()).getMessage();
            assertTrue(message.startsWith("option --management-port: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                    + ": "), message);
        }
        TaplineConfig unresolved = DedupOptions.load(new String[] {"--management-host", "999.1.1.1",
                "--management-port", "0"}, Map.of());
        String message = assertThrows(ConfigException.class,
                () -> DedupMain.startManagement(unresolved, new Metrics(), () -> true).close()).getMessage();
        assertTrue(message.startsWith("option --management-host: cannot listen on 999.1.1.1:0: "), message);
    }
}
