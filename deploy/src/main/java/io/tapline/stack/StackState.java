package io.tapline.stack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * What {@code up} started, recorded in {@code DATA_DIR/stack.properties}: per process the pid,
 * start time and command-line marker that prove identity, and its port.
 */
record StackState(Optional<Entry> kafka, Optional<Entry> registry) {

    static final String FILE = "stack.properties";

    /** One started process. */
    record Entry(long pid, long startMillis, String marker, int port) {
    }

    static Path file(Path dataDir) {
        return dataDir.resolve(FILE);
    }

    static StackState read(Path dataDir) {
        Path file = file(dataDir);
        if (!Files.isRegularFile(file)) {
            return new StackState(Optional.empty(), Optional.empty());
        }
        Properties p = StackFiles.load(file);
        return new StackState(entry(p, "kafka"), entry(p, "registry"));
    }

    private static Optional<Entry> entry(Properties p, String prefix) {
        String pid = p.getProperty(prefix + ".pid");
        if (pid == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Entry(Long.parseLong(pid), Long.parseLong(p.getProperty(prefix + ".start", "0")),
                    p.getProperty(prefix + ".marker", ""), Integer.parseInt(p.getProperty(prefix + ".port", "0"))));
        } catch (NumberFormatException e) {
            throw new StackException("corrupt " + prefix + " entry in the stack state file: " + e.getMessage(), e);
        }
    }

    void write(Path dataDir) {
        Map<String, String> p = new LinkedHashMap<>();
        kafka.ifPresent(e -> put(p, "kafka", e));
        registry.ifPresent(e -> put(p, "registry", e));
        StackFiles.writeString(file(dataDir), StackFiles.render(p, "processes started by `tapline stack up`; read by down and status"));
    }

    private static void put(Map<String, String> p, String prefix, Entry e) {
        p.put(prefix + ".pid", Long.toString(e.pid()));
        p.put(prefix + ".start", Long.toString(e.startMillis()));
        p.put(prefix + ".marker", e.marker());
        p.put(prefix + ".port", Integer.toString(e.port()));
    }

    static Entry entryOf(ChildProcess process, int port) {
        return new Entry(process.pid(), process.startMillis(), process.marker(), port);
    }

    static ChildProcess process(String name, Entry entry, List<Path> logs) {
        return ChildProcess.attach(name, entry.pid(), entry.startMillis(), entry.marker(), logs);
    }
}
