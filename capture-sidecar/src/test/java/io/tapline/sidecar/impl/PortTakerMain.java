package io.tapline.sidecar.impl;

import io.tapline.sidecar.SidecarOptions;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Starts and stops sidecars with both listeners on port 0 while another thread takes free ports as another process
 * would: it binds port 0 over and over, holding each port it gets for a moment. Run in a network namespace of its own
 * with a narrow ephemeral port range ({@link ListenerPortRaceTest}), that thread is handed most ports soon after they
 * are let go of. Prints {@code started N of M} and each start's failure.
 */
public final class PortTakerMain {

    public static void main(String[] args) throws Exception {
        int starts = Integer.parseInt(args[0]);
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        Thread taker = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try (ServerSocket s = new ServerSocket(0, 1, loopback)) {
                    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
                } catch (IOException rangeFull) {
                    Thread.onSpinWait();
                }
            }
        }, "port-taker");
        taker.setDaemon(true);
        taker.start();
        int started = 0;
        for (int i = 0; i < starts; i++) {
            SidecarOptions o = new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0)
                    .management("127.0.0.1", 0).app("http://127.0.0.1:1").redactionKey("test-key-0123456789abcdef")
                    .eventLoops(2);
            try (SidecarImpl sidecar = SidecarImpl.start(o,
                    new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), SidecarProxyTest.AVRO)) {
                started++;
            } catch (IOException e) {
                System.out.println("start " + i + " failed: " + e.getMessage());
            }
        }
        taker.interrupt();
        System.out.println("started " + started + " of " + starts);
        System.exit(0);
    }
}
