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
 * One identical-request pair compared for a route of a service: every path seen in the pair and those that differed;
 * or, with {@code pair} false, only that the route is alive (a sample of it was taken), which keeps its noise from
 * being retired. Sent from the signature-owning task to the task owning the service's route through a repartition
 * topic.
 *
 * @param service the service the pair was captured from; {@code null} in an observation written before noise was
 *                learned per service (still in the repartition topic at the upgrade), which cannot be attributed,
 *                and in a "route seen" read back (its record's key names the service)
 * @param route   {@code METHOD /template}
 * @param pair    true for a compared pair; false for "route seen", with no paths
 * @param differingInAnyOrder of {@code differing}, the paths that differed with array order ignored too
 *                ({@link ResponseDiff.Outcome}); {@code null} when not known (an observation written by the previous
 *                version), which counts as all of {@code differing}
 */
public record NoiseObservation(String service, String route, List<String> compared, List<String> differing,
                               boolean pair, List<String> differingInAnyOrder) {

    /** A pair whose differences with array order ignored are not known. */
    public NoiseObservation(String service, String route, List<String> compared, List<String> differing) {
        this(service, route, compared, differing, true, null);
    }

    public NoiseObservation(String service, String route, List<String> compared, List<String> differing,
                            boolean pair) {
        this(service, route, compared, differing, pair, null);
    }

    /** The paths that differed with array order ignored: {@link #differingInAnyOrder}, or all of {@link #differing}. */
    public List<String> differingWhateverTheOrder() {
        return differingInAnyOrder == null ? differing : differingInAnyOrder;
    }

    /**
     * Marks a "route seen" on the wire: written as its route with this in front and without a service, so that an
     * instance of the previous version, which has no such record, reads one as an observation without a service and
     * skips it instead of counting a pair (a rolling upgrade runs both versions on one repartition topic).
     */
    static final String ROUTE_SEEN = "\u0000seen\u0000";

    /** The route of {@code service} is alive (a sample was taken): not a pair, nothing compared. */
    public static NoiseObservation routeSeen(String service, String route) {
        return new NoiseObservation(service, route, List.of(), List.of(), false);
    }

    /** Serde for the repartition topic. */
    public static Serde<NoiseObservation> serde() {
        return Serdes.serdeFrom((topic, o) -> o == null ? null : encode(o), (topic, b) -> b == null ? null : decode(b));
    }

    static byte[] encode(NoiseObservation o) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            if (!o.pair()) {
                out.writeUTF(ROUTE_SEEN + o.route()); // the record's key names the service and route
                writeList(out, List.of());
                writeList(out, List.of());
                return bytes.toByteArray();
            }
            out.writeUTF(o.route());
            writeList(out, o.compared());
            writeList(out, o.differing());
            out.writeUTF(o.service()); // after the lists, so that observations written without it still decode
            if (o.differingInAnyOrder() != null) {
                writeList(out, o.differingInAnyOrder()); // last: the previous version stops reading before it
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static NoiseObservation decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            String route = in.readUTF();
            List<String> compared = readList(in);
            List<String> differing = readList(in);
            if (route.startsWith(ROUTE_SEEN)) {
                return new NoiseObservation(null, route.substring(ROUTE_SEEN.length()), compared, differing, false);
            }
            String service = in.available() > 0 ? in.readUTF() : null;
            List<String> differingInAnyOrder = in.available() > 0 ? readList(in) : null;
            return new NoiseObservation(service, route, compared, differing, true, differingInAnyOrder);
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
