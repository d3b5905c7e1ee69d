package io.tapline.dedup.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDB;

/**
 * Where RocksDB's Java binding unpacks its native library (about 15 MB), and why the dedup-stream image sets
 * {@code ROCKSDB_SHAREDLIB_DIR}. Without it the library goes to a new randomly named file in {@code java.io.tmpdir} at
 * every start, deleted only by a JVM that exits cleanly; a job that is killed (the kernel's OOM killer, a kill after
 * the grace period) or exits on {@code -XX:+ExitOnOutOfMemoryError} (no shutdown hooks) leaves its copy behind. The
 * Deployment's {@code /tmp} is an emptyDir with a size limit that outlives container restarts, so each such restart
 * would leave 15 MB more in it, until the kubelet evicted the pod. With the variable set, the library has one fixed
 * name in that directory, and each start replaces what a killed one left.
 */
class RocksDbLibraryDirTest {

    @Test
    @Timeout(120)
    void aKilledJobLeavesItsUnpackedLibraryBehindUnlessTheDirectoryIsNamed(@TempDir Path dir) throws Exception {
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        Path named = Files.createDirectory(dir.resolve("named"));

        for (int i = 0; i < 2; i++) {
            loadAndKill(tmp, null);
        }
        assertEquals(2, libraries(tmp).size(), "java.io.tmpdir after two killed starts: " + libraries(tmp));

        for (int i = 0; i < 2; i++) {
            loadAndKill(tmp, named);
        }
        assertEquals(2, libraries(tmp).size(), "java.io.tmpdir gained files with ROCKSDB_SHAREDLIB_DIR set: " + libraries(tmp));
        List<Path> kept = libraries(named);
        assertEquals(1, kept.size(), "ROCKSDB_SHAREDLIB_DIR after two killed starts: " + kept);
        assertTrue(Files.size(kept.get(0)) > 1_000_000, kept + " holds " + Files.size(kept.get(0)) + " bytes");
    }

    /** Starts a JVM that loads RocksDB, waits until it says so, and kills it (SIGKILL: no shutdown hook runs). */
    private static void loadAndKill(Path tmpdir, Path libraryDir) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + tmpdir, "-cp", System.getProperty("java.class.path"), LoadRocksDb.class.getName())
                .redirectErrorStream(true);
        builder.environment().remove("ROCKSDB_SHAREDLIB_DIR");
        if (libraryDir != null) {
            builder.environment().put("ROCKSDB_SHAREDLIB_DIR", libraryDir.toString());
        }
        Process process = builder.start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            StringBuilder said = new StringBuilder();
            String line;
            while ((line = out.readLine()) != null && !line.equals(LoadRocksDb.LOADED)) {
                said.append(line).append('\n');
            }
            assertEquals(LoadRocksDb.LOADED, line, "the child did not load RocksDB:\n" + said);
        } finally {
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the child outlived SIGKILL");
        }
    }

    private static List<Path> libraries(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("librocksdbjni")).sorted().toList();
        }
    }

    /** The child: loads RocksDB's native library, says so, and waits to be killed. */
    public static final class LoadRocksDb {
        static final String LOADED = "rocksdb loaded";

        public static void main(String[] args) throws InterruptedException {
            RocksDB.loadLibrary();
            System.out.println(LOADED);
            System.out.flush();
            Thread.sleep(TimeUnit.MINUTES.toMillis(2));
        }
    }
}
