package io.tapline.dedup.noise;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * @param numericSpreads of {@code differing}, the paths whose values were numbers only on both sides, at the same
 *                positions, with how far they varied ({@link ResponseDiff.Outcome}); every other path of
 *                {@code differing} varied otherwise. Empty when not known (an observation written by a previous
 *                version): every difference counts as not numeric
 */
public record NoiseObservation(String service, String route, List<String> compared, List<String> differing,
                               boolean pair, List<String> differingInAnyOrder, Map<String, Double> numericSpreads) {

    public NoiseObservation {
        numericSpreads = numericSpreads == null ? Map.of() : numericSpreads;
    }

    /** A pair whose differences with array order ignored are not known. */
    public NoiseObservation(String service, String route, List<String> compared, List<String> differing) {
        this(service, route, compared, differing, true, null);
    }

    public NoiseObservation(String service, String route, List<String> compared, List<String> differing,
                            boolean pair) {
        this(service, route, compared, differing, pair, null);
    }

    /** A pair whose numeric variations are not known. */
    public NoiseObservation(String service, String route, List<String> compared, List<String> differing,
                            boolean pair, List<String> differingInAnyOrder) {
        this(service, route, compared, differing, pair, differingInAnyOrder, Map.of());
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
            if (o.differingInAnyOrder() != null || !o.numericSpreads().isEmpty()) {
                // the previous version stops reading before it; not known is all of differing
                writeList(out, o.differingWhateverTheOrder());
            }
            if (!o.numericSpreads().isEmpty()) { // last: the previous versions stop reading before it
                List<Integer> numeric = new ArrayList<>();
                for (int i = 0; i < o.differing().size(); i++) {
                    if (o.numericSpreads().containsKey(o.differing().get(i))) {
                        numeric.add(i);
                    }
                }
                out.writeInt(numeric.size()); // each by its place in differing
                for (int i : numeric) {
                    out.writeInt(i);
                    out.writeDouble(o.numericSpreads().get(o.differing().get(i)));
                }
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
            Map<String, Double> numericSpreads = in.available() > 0 ? readSpreads(in, differing) : Map.of();
            return new NoiseObservation(service, route, compared, differing, true, differingInAnyOrder,
                    numericSpreads);
        } catch (IOException e) {
            throw new SerializationException("corrupt noise observation", e);
        }
    }

    private static Map<String, Double> readSpreads(DataInputStream in, List<String> differing) throws IOException {
        int n = in.readInt();
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            int index = in.readInt();
            if (index < 0 || index >= differing.size()) {
                throw new SerializationException("noise observation: spread of path " + index + " of "
                        + differing.size());
            }
            out.put(differing.get(index), in.readDouble());
        }
        return out;
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
