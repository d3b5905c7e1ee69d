package io.tapline.dedup.noise;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * One identical-request pair compared for a route: every path seen in the pair and those that differed. Sent from
 * the signature-owning task to the route-owning task through a repartition topic.
 */
public record NoiseObservation(String route, List<String> compared, List<String> differing) {

    /** Serde for the repartition topic. */
    public static Serde<NoiseObservation> serde() {
        return Serdes.serdeFrom((topic, o) -> o == null ? null : encode(o), (topic, b) -> b == null ? null : decode(b));
    }

    static byte[] encode(NoiseObservation o) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(o.route());
            writeList(out, o.compared());
            writeList(out, o.differing());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static NoiseObservation decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            return new NoiseObservation(in.readUTF(), readList(in), readList(in));
        } catch (IOException e) {
            throw new SerializationException("corrupt noise observation", e);
        }
    }

    private static void writeList(DataOutputStream out, List<String> values) throws IOException {
        out.writeInt(values.size());
        for (String v : values) {
            out.writeUTF(v);
        }
    }

    private static List<String> readList(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<String> out = new ArrayList<>(Math.min(n, 4096));
        for (int i = 0; i < n; i++) {
            out.add(in.readUTF());
        }
        return out;
    }
}
