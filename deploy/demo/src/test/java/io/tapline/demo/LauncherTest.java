package io.tapline.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code ./tapline} launcher's own failures, run on a copy of it whose Maven build always fails. */
class LauncherTest {

    private static final Path REPO = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
            .toAbsolutePath().normalize().getParent().getParent();

    @Test
    void aBuildThatFailsIsNotReadAsRegressionsByTheGate(@TempDir Path dir) throws Exception {
        // replay and report exit 1 when the gate finds regressions: a CI job read a failed build of the jar as that
        Path launcher = launcherWithFailingMaven(dir);
        Result replay = run(dir, launcher, "replay", "--run", "r1", "--target", "http://candidate:8080");
        assertEquals(3, replay.code(), replay.stderr());
        assertTrue(replay.stderr().contains("the Maven build of replay-worker failed"), replay.stderr());
        assertEquals(3, run(dir, launcher, "report", "--run", "r1").code());
        // the components without a gate keep 1
        assertEquals(1, run(dir, launcher, "sidecar", "--app", "http://127.0.0.1:8081").code());
    }

    @Test
    void aMissingJavaIsNamedAndNotReadAsRegressionsByTheGate(@TempDir Path dir) throws Exception {
        // it was the shell's "exec: /opt/jdk/bin/java: not found" and status 127, after a build when one was due
        Path launcher = launcherWithFailingMaven(dir);
        Map<String, String> noJava = Map.of("JAVA", dir.resolve("jdk/bin/java").toString());
        for (String command : List.of("replay", "report")) {
            Result result = run(dir, launcher, noJava, command, "--run", "r1");
            assertEquals(3, result.code(), result.stderr());
            assertTrue(result.stderr().startsWith("tapline: cannot run Java: '" + dir.resolve("jdk/bin/java") + "' is not an"
                    + " executable program; install Java 17 or later, or set JAVA to its java binary"), result.stderr());
            assertFalse(result.stderr().contains("BUILD FAILURE"), "no build is tried without Java: " + result.stderr());
        }
        assertEquals(1, run(dir, launcher, noJava, "sidecar", "--app", "http://127.0.0.1:8081").code());
        // a directory, or a name the PATH does not have, is no Java either
        assertEquals(3, run(dir, launcher, Map.of("JAVA", dir.toString()), "replay", "--run", "r1").code());
        Result notOnPath = run(dir, launcher, Map.of("JAVA", "java-that-is-not-installed"), "report", "--run", "r1");
        assertEquals(3, notOnPath.code(), notOnPath.stderr());
        assertTrue(notOnPath.stderr().contains("'java-that-is-not-installed' is not an executable program"), notOnPath.stderr());
    }

    private static Path launcherWithFailingMaven(Path dir) throws IOException {
        Path root = Files.createDirectories(dir.resolve("repo"));
        Path launcher = Files.copy(REPO.resolve("tapline"), root.resolve("tapline"));
        for (String module : List.of("replay-worker", "capture-sidecar")) {
            Files.writeString(Files.createDirectories(root.resolve(module)).resolve("pom.xml"), "<project/>\n");
        }
        Path mvn = Files.createDirectories(dir.resolve("bin")).resolve("mvn");
        Files.writeString(mvn, "#!/bin/sh\necho 'BUILD FAILURE' >&2\nexit 1\n");
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        return launcher;
    }

    private record Result(int code, String stderr) {
    }

    private static Result run(Path dir, Path launcher, String... args) throws Exception {
        return run(dir, launcher, Map.of(), args);
    }

    private static Result run(Path dir, Path launcher, Map<String, String> environment, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("sh", launcher.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
        builder.environment().putAll(environment);
        Process process = builder.start();
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the launcher did not finish");
        return new Result(process.exitValue(), stderr);
    }
}
