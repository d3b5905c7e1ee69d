package io.tapline.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Small file helpers for the stack's data directory. */
final class StackFiles {

    private StackFiles() {
    }

    static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + root, e);
        }
    }

    static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StackException("could not create directory " + dir + ": " + e.getMessage(), e);
        }
    }

    static void writeString(Path file, String content) {
        try {
            Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StackException("could not write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Properties as sorted {@code key=value} lines, values escaped as Properties.load expects. */
    static String render(Map<String, String> properties, String comment) {
        StringBuilder out = new StringBuilder("# ").append(comment).append('\n');
        new TreeMap<>(properties).forEach((key, value) ->
                out.append(key).append('=').append(escape(value)).append('\n'));
        return out.toString();
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\n", "\\n");
    }

    static Properties load(Path file) {
        Properties properties = new Properties();
        try (var reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new StackException("could not read " + file + ": " + e.getMessage(), e);
        }
        return properties;
    }
}
