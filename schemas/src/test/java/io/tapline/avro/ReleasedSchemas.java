package io.tapline.avro;

import org.apache.avro.Schema;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The released versions of each top-level contract, kept under
 * {@code src/main/resources/io/tapline/avro/released/<Record>/vN.avsc} (shipped in the jar: the dedup stream reads
 * its stores with the released {@code Case} schemas).
 * Run {@code main} with a version name (e.g. {@code v2}) from the module directory to snapshot the current schemas
 * when releasing.
 */
public final class ReleasedSchemas {

    static final Path ROOT = Path.of("src/main/resources/io/tapline/avro/released");

    /** Every record written to a topic: these are the schemas registered in the registry. */
    public static final Map<String, Schema> CURRENT = Map.of(
            "Interaction", Interaction.getClassSchema(),
            "Case", Case.getClassSchema(),
            "NoiseProfile", NoiseProfile.getClassSchema(),
            "ReplayResult", ReplayResult.getClassSchema(),
            "RunEvent", RunEvent.getClassSchema(),
            "UnattributedCall", UnattributedCall.getClassSchema());

    private ReleasedSchemas() {
    }

    /** Released versions of one record, by version name in order. */
    static Map<String, Schema> released(String record) {
        Path dir = ROOT.resolve(record);
        Map<String, Schema> versions = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return versions;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".avsc")).toList()) {
                versions.put(file.getFileName().toString().replace(".avsc", ""),
                        new Schema.Parser().parse(Files.readString(file, StandardCharsets.UTF_8)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return versions;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: ReleasedSchemas <version, e.g. v2>");
        }
        for (Map.Entry<String, Schema> entry : CURRENT.entrySet()) {
            Path file = ROOT.resolve(entry.getKey()).resolve(args[0] + ".avsc");
            Files.createDirectories(file.getParent());
            Files.writeString(file, entry.getValue().toString(true) + "\n", StandardCharsets.UTF_8);
            System.out.println("wrote " + file);
        }
    }

    static List<String> records() {
        return CURRENT.keySet().stream().sorted().toList();
    }
}
