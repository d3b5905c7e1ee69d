package io.tapline.dedup.testing;

import io.tapline.avro.Case;
import io.tapline.avro.Interaction;
import io.tapline.dedup.signature.Signature;
import io.tapline.dedup.signature.Signer;
import io.tapline.dedup.state.AvroBinarySerde;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/** Bytes in the formats earlier versions wrote, as an upgraded job finds them. */
public final class LegacyFormats {

    private LegacyFormats() {
    }

    /** The draft case of an interaction, signed at {@code at}, as the first repartitioning version wrote it. */
    public static Case draftCase(Interaction interaction, Instant at) {
        Signature signature = Signer.defaults().sign(interaction);
        return Case.newBuilder().setCaseId("").setSignatureId(signature.id()).setSampleSlot(-1)
                .setSignature(signature.text()).setParts(signature.parts()).setService(interaction.getService())
                .setSample(interaction).setHits(1).setFirstSeen(at).setLastSeen(at).setSampledAt(at)
                .setSignatureVersion(Signer.VERSION).build();
    }

    /** A {@code by-signature} repartition value of the version before compact hits: the draft case alone. */
    public static byte[] draftCaseBytes(Case draft) {
        return new AvroBinarySerde<>(Case.getEncoder(), Case.getDecoder()).serializer().serialize("repartition", draft);
    }

    /**
     * A baseline as the previous version stored it in {@code dedup-baselines} (format 2, nothing after the fields),
     * its map members named by their ids ({@code $.bySku.1017.qty}).
     */
    public static byte[] responseFields(SortedMap<String, Long> digests) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(2);
            out.writeInt(digests.size());
            for (Map.Entry<String, Long> e : digests.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Route noise counters as the previous version stored them in {@code dedup-noise} (format 2, nothing after the
     * fields): per path {compared, differing}, clean (published).
     */
    public static byte[] routeNoise(String service, String route, long pairs, SortedMap<String, long[]> fields) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(2);
            out.writeBoolean(false);
            out.writeUTF(service);
            out.writeUTF(route);
            out.writeLong(pairs);
            out.writeBoolean(false);
            out.writeInt(fields.size());
            for (Map.Entry<String, long[]> e : fields.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue()[0]);
                out.writeLong(e.getValue()[1]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
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
