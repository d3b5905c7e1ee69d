package io.tapline.dedup.state;

import io.tapline.avro.Case;
import org.apache.avro.Schema;
import org.apache.avro.message.SchemaStore;
import org.apache.kafka.common.serialization.Serde;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code Case} schemas of every release ({@code io/tapline/avro/released/Case/v1.avsc}, {@code v2.avsc}, ... in
 * the schemas jar, the versions the contract tests hold the current schema compatible with). The sample store, its
 * changelog and the repartition topics encode cases with single-object encoding, which names the writer's schema by
 * fingerprint; with these the decoder also reads what an earlier release wrote, so a release that changes
 * {@code Case} (or the {@code Interaction} it embeds) compatibly keeps its stores.
 */
public final class CaseSchemas {

    static final String DIR = "/io/tapline/avro/released/Case/";

    private static final List<Schema> RELEASED = load();

    private CaseSchemas() {
    }

    /** The serde of cases in internal topics and stores: writes the current schema, reads it and any released one. */
    public static Serde<Case> serde() {
        return serde(RELEASED);
    }

    static Serde<Case> serde(List<Schema> released) {
        SchemaStore.Cache store = new SchemaStore.Cache();
        released.forEach(store::addSchema);
        return new AvroBinarySerde<>(Case.getEncoder(), Case.createDecoder(store));
    }

    /** The released schemas, oldest first. */
    public static List<Schema> released() {
        return RELEASED;
    }

    private static List<Schema> load() {
        List<Schema> out = new ArrayList<>();
        for (int version = 1; ; version++) {
            try (InputStream in = CaseSchemas.class.getResourceAsStream(DIR + "v" + version + ".avsc")) {
                if (in == null) {
                    return List.copyOf(out);
                }
                out.add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
