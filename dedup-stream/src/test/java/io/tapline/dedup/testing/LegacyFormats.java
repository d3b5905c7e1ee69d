package io.tapline.dedup.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** Bytes in the formats written before noise was learned per service, as an upgraded job finds them. */
public final class LegacyFormats {

    private LegacyFormats() {
    }

    /** Route noise counters as stored in {@code dedup-noise} (format 1): one path, clean (published). */
    public static byte[] routeNoise(String path, long pairs, long differing) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(1);
            out.writeLong(pairs);
            out.writeBoolean(false);
            out.writeInt(1);
            out.writeUTF(path);
            out.writeLong(pairs);
            out.writeLong(differing);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** A noise observation as written to the by-route repartition topic, without the service. */
    public static byte[] observation(String route, List<String> compared, List<String> differing) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(route);
            out.writeInt(compared.size());
            for (String path : compared) {
                out.writeUTF(path);
            }
            out.writeInt(differing.size());
            for (String path : differing) {
                out.writeUTF(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
