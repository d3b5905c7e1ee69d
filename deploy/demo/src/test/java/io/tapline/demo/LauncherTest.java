package io.tapline.demo;

import org.junit.jupiter.api.Assumptions;
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

    @Test
    void aJavaOlderThan17IsNamedAndNotReadAsRegressionsByTheGate(@TempDir Path dir) throws Exception {
        // the jars are built: it ran them, and the JVM's UnsupportedClassVersionError ended it with status 1, the gate's
        Path launcher = launcherWithFailingMaven(dir);
        Path root = launcher.getParent();
        for (String jar : List.of("replay-worker/target/replay-worker.jar", "capture-sidecar/target/capture-sidecar.jar")) {
            Path built = Files.createDirectories(root.resolve(jar).getParent()).resolve(root.resolve(jar).getFileName());
            Files.writeString(built, "jar\n");
            Files.setLastModifiedTime(built, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        }
        Path java11 = javaOfRelease(dir, "java11", "11.0.22");
        for (String command : List.of("replay", "report")) {
            Result result = run(dir, launcher, Map.of("JAVA", java11.toString()), command, "--run", "r1");
            assertEquals(3, result.code(), result.stderr());
            assertEquals("tapline: '" + java11 + "' (" + java11 + ") is Java 11 (11.0.22); Tapline needs Java 17 or later:"
                    + " install it, or set JAVA to its java binary\n", result.stderr());
        }
        // the components without a gate keep 1; Java 8 says "1.8.0_392", and java on the PATH is named by its path
        Files.copy(javaOfRelease(dir, "java8", "1.8.0_392"), dir.resolve("bin/java"));
        Result onPath = run(dir, launcher, "sidecar", "--app", "http://127.0.0.1:8081");
        assertEquals(1, onPath.code(), onPath.stderr());
        assertTrue(onPath.stderr().startsWith("tapline: 'java' (" + dir.resolve("bin/java") + ") is Java 8 (1.8.0_392);"),
                onPath.stderr());
        // 17 and later run the jar, whatever JAVA_TOOL_OPTIONS prints before the version
        for (String release : List.of("17", "17.0.15", "21-ea", "25")) {
            Result result = run(dir, launcher, Map.of("JAVA", javaOfRelease(dir, "java-" + release, release).toString()),
                    "replay", "--run", "r1");
            assertEquals(0, result.code(), release + ": " + result.stderr());
            assertTrue(result.stderr().contains("ran replay-worker.jar"), release + ": " + result.stderr());
        }
    }

    @Test
    void aJavaThatCannotStartIsNamedAndNotReadAsRegressionsByTheGate(@TempDir Path dir) throws Exception {
        // JVM options it refuses (JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS) ended the jar's run with status 1, the gate's
        Path launcher = launcherWithFailingMaven(dir);
        Path jar = Files.createDirectories(launcher.getParent().resolve("replay-worker/target")).resolve("replay-worker.jar");
        Files.writeString(jar, "jar\n");
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        Path java = executable(dir.resolve("java-refusing-its-options"), "#!/bin/sh\n"
                + "echo 'NOTE: Picked up JDK_JAVA_OPTIONS: -XX:+Bogus' >&2\n"
                + "echo \"Unrecognized VM option 'Bogus'\" >&2\n"
                + "echo 'Error: Could not create the Java Virtual Machine.' >&2\n"
                + "exit 1\n");
        for (String command : List.of("replay", "report")) {
            Result result = run(dir, launcher, Map.of("JAVA", java.toString()), command, "--run", "r1");
            assertEquals(3, result.code(), result.stderr());
            assertEquals("tapline: cannot start Java: '" + java + "' -version exits with status 1 (its options, from"
                    + " JAVA_TOOL_OPTIONS or JDK_JAVA_OPTIONS, may be wrong):\n"
                    + "NOTE: Picked up JDK_JAVA_OPTIONS: -XX:+Bogus\n"
                    + "Unrecognized VM option 'Bogus'\n"
                    + "Error: Could not create the Java Virtual Machine.\n", result.stderr());
        }
        assertEquals(1, run(dir, launcher, Map.of("JAVA", java.toString()), "sidecar").code());
    }

    @Test
    void theJavaOfJavaHomeRunsTheJarsAsItBuildsThem(@TempDir Path dir) throws Exception {
        // Maven builds with JAVA_HOME's Java; the launcher ran java from the PATH, an older one there failed on the jar
        Path launcher = launcherWithFailingMaven(dir);
        Path jar = Files.createDirectories(launcher.getParent().resolve("replay-worker/target")).resolve("replay-worker.jar");
        Files.writeString(jar, "jar\n");
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        Files.copy(javaOfRelease(dir, "java11", "11.0.22"), dir.resolve("bin/java"));
        Path home = Files.createDirectories(dir.resolve("jdk-21/bin"));
        Files.copy(javaOfRelease(dir, "java21", "21.0.5"), home.resolve("java"));
        Result result = run(dir, launcher, Map.of("JAVA_HOME", home.getParent().toString()), "replay", "--run", "r1");
        assertEquals(0, result.code(), result.stderr());
        assertTrue(result.stderr().contains("ran replay-worker.jar"), result.stderr());
        // JAVA still comes first, and an old Java in JAVA_HOME is named as JAVA_HOME's
        Result named = run(dir, launcher, Map.of("JAVA_HOME", dir.toString(), "JAVA", home.resolve("java").toString()),
                "report", "--run", "r1");
        assertEquals(0, named.code(), named.stderr());
        Result old = run(dir, launcher, Map.of("JAVA_HOME", dir.toString()), "report", "--run", "r1");
        assertEquals(3, old.code(), old.stderr());
        assertEquals("tapline: '" + dir.resolve("bin/java") + "' (" + dir.resolve("bin/java") + ") is Java 11 (11.0.22); Tapline"
                + " needs Java 17 or later: install it, or set JAVA_HOME to its home (or JAVA to its java binary)\n", old.stderr());
    }

    @Test
    void aLauncherStartedThroughASymlinkOrFromElsewhereRunsItsOwnCheckout(@TempDir Path dir) throws Exception {
        // through a symlink (~/bin/tapline) it looked for the modules beside the link: "the module 'replay-worker' does
        // not exist in this checkout", and status 3
        Path root = Files.createDirectories(dir.resolve("my checkout"));
        Path launcher = Files.copy(REPO.resolve("tapline"), root.resolve("tapline"));
        Path jar = Files.createDirectories(root.resolve("replay-worker/target")).resolve("replay-worker.jar");
        Files.writeString(root.resolve("replay-worker/pom.xml"), "<project/>\n");
        Files.writeString(jar, "jar\n");
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path absolute = Files.createSymbolicLink(bin.resolve("tapline"), launcher);
        Path links = Files.createDirectories(dir.resolve("links"));
        Path relative = Files.createSymbolicLink(links.resolve("tapline"), Path.of("../my checkout/tapline"));
        Path chained = Files.createSymbolicLink(links.resolve("tapline-again"), Path.of("tapline"));
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Map<String, String> java = Map.of("JAVA", javaOfRelease(dir, "java17", "17.0.15").toString());
        for (Path start : List.of(launcher, absolute, relative, chained)) {
            List<String> command = List.of("sh", start.toString(), "replay", "--run", "r1");
            ProcessBuilder builder = new ProcessBuilder(command).directory(elsewhere.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            builder.environment().remove("JAVA_OPTS");
            builder.environment().putAll(java);
            Process process = builder.start();
            String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the launcher did not finish");
            assertEquals(0, process.exitValue(), start + ": " + stderr);
            assertTrue(stderr.contains("ran replay-worker.jar"), start + ": " + stderr);
        }
    }

    @Test
    void javaOptsReachTheJvmOfEveryCommand(@TempDir Path dir) throws Exception {
        // JAVA_OPTS was not read: JAVA_OPTS=-Xmx2g ./tapline dedup ran the JVM with its default heap, saying nothing
        Path launcher = launcherWithFailingMaven(dir);
        Path root = launcher.getParent();
        Path printer = propertyPrinterJar(dir);
        List<String> jars = List.of("deploy/target/tapline-stack.jar", "capture-sidecar/target/capture-sidecar.jar",
                "dedup-stream/target/dedup-stream.jar", "replay-worker/target/replay-worker.jar",
                "deploy/demo/target/tapline-demo.jar");
        for (String jar : jars) {
            Path module = root.resolve(jar).getParent().getParent();
            Files.writeString(Files.createDirectories(module).resolve("pom.xml"), "<project/>\n");
            Path built = Files.copy(printer, Files.createDirectories(root.resolve(jar).getParent()).resolve(
                    root.resolve(jar).getFileName()));
            Files.setLastModifiedTime(built, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        }
        // split at blanks (two of them, a tab), and a pattern is passed as it is, not expanded to the file it matches
        Path cwd = Files.createDirectories(dir.resolve("cwd"));
        Files.createFile(cwd.resolve("-Dtapline.glob=expanded"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Map<String, String> options = Map.of("JAVA", java, "JAVA_OPTS", " -Dtapline.a=one  -Dtapline.b=two\t-Dtapline.glob=* ");
        for (List<String> command : List.of(List.of("stack", "status"), List.of("sidecar"), List.of("dedup"),
                List.of("replay", "--run", "r1"), List.of("report", "--run", "r1"), List.of("demo"))) {
            Result result = run(dir, launcher, options, cwd, command.toArray(String[]::new));
            assertEquals(0, result.code(), command + ": " + result.stderr());
            assertTrue(result.stderr().contains("a=one b=two glob=* args="), command + ": " + result.stderr());
        }
        // an option the JVM refuses is said in its own words before any build; replay's status is not the gate's 1
        Result refused = run(dir, launcher, Map.of("JAVA", java, "JAVA_OPTS", "-Xmx1q"), cwd, "replay", "--run", "r1");
        assertEquals(3, refused.code(), refused.stderr());
        assertTrue(refused.stderr().startsWith("tapline: cannot start Java: '" + java + "' -version exits with status 1"
                + " (its options, from JAVA_OPTS, JAVA_TOOL_OPTIONS or JDK_JAVA_OPTIONS, may be wrong):\n"), refused.stderr());
        assertTrue(refused.stderr().contains("-Xmx1q"), "the JVM's own message: " + refused.stderr());
    }

    @Test
    void underThePosixLocaleTheJvmReadsItsArgumentsInUtf8(@TempDir Path dir) throws Exception {
        // LANG and LC_ALL unset (most containers and CI jobs): the JVM read its arguments as ASCII, 'routé' as 'rout??'
        Assumptions.assumeTrue(utf8LocaleAvailable(), "this machine has no C.UTF-8 locale");
        Path launcher = launcherWithFailingMaven(dir);
        Path jar = launcher.getParent().resolve("replay-worker/target/replay-worker.jar");
        Files.writeString(Files.createDirectories(jar.getParent().getParent()).resolve("pom.xml"), "<project/>\n");
        Files.copy(propertyPrinterJar(dir), Files.createDirectories(jar.getParent()).resolve(jar.getFileName()));
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Map<String, String> posix = new java.util.HashMap<>(Map.of("JAVA", java, "LC_ALL", "", "LANG", "", "LC_CTYPE", ""));
        Result result = run(dir, launcher, posix, "replay", "--run", "rout\u00e9");
        assertEquals(0, result.code(), result.stderr());
        assertTrue(result.stderr().contains("args=replay --run rout\u00e9 jnu=UTF-8"), result.stderr());
    }

    /** Whether {@code locale} knows C.UTF-8 here. */
    private static boolean utf8LocaleAvailable() throws Exception {
        try {
            ProcessBuilder builder = new ProcessBuilder("locale", "charmap").redirectErrorStream(true);
            builder.environment().put("LC_ALL", "C.UTF-8");
            Process p = builder.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor(10, TimeUnit.SECONDS) && out.equals("UTF-8");
        } catch (IOException e) {
            return false; // no locale program
        }
    }

    @Test
    void helpAndAnUnknownCommandNeedNoBuildAndNoJava(@TempDir Path dir) throws Exception {
        Path launcher = launcherWithFailingMaven(dir);
        Map<String, String> noJava = Map.of("JAVA", dir.resolve("jdk/bin/java").toString());
        for (String help : List.of("help", "--help", "-h")) {
            ProcessBuilder builder = new ProcessBuilder("sh", launcher.toString(), help);
            builder.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
            builder.environment().putAll(noJava);
            Process process = builder.start();
            String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, process.exitValue(), stderr);
            assertEquals("", stderr, "no build, no Java");
            assertTrue(stdout.startsWith("usage: ./tapline <command> [options]"), stdout);
            assertTrue(stdout.contains("JDK_JAVA_OPTIONS, JAVA_TOOL_OPTIONS"), stdout);
        }
        Result unknown = run(dir, launcher, noJava, "replya", "--run", "r1");
        assertEquals(2, unknown.code(), unknown.stderr());
        assertEquals("tapline: unknown command 'replya'; allowed: demo, stack, sidecar, dedup, replay, report, help\n",
                unknown.stderr());
        // before, as given: the escape sequence reached the terminal, the line break started a CI runner's command line
        Result hostile = run(dir, launcher, noJava, "x\u001b[2J\n::error::y\u202e21\u200b");
        assertEquals(2, hostile.code(), hostile.stderr());
        assertEquals("tapline: unknown command 'x?[2J?::error::y???21???'; allowed: demo, stack, sidecar, dedup, replay, "
                + "report, help\n", hostile.stderr());
    }

    @Test
    void launchersStartedTogetherBuildOnceOneAfterTheOther(@TempDir Path dir) throws Exception {
        // two Maven builds of one module at once wrote one jar together: it was corrupt, and kept, being newer than the
        // sources. The fake build holds until the test lets it go, and counts how many builds ran.
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path release = dir.resolve("release");
        Path builds = fakeMaven(dir, "", untilCreated(release, dir));
        Path java = executable(dir.resolve("bin/java-stand-in"), "#!/bin/sh\nexit 0\n");
        List<Process> launchers = new java.util.ArrayList<>();
        List<Path> errors = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                errors.add(dir.resolve("launcher-" + i + ".err"));
                ProcessBuilder builder = new ProcessBuilder("sh", launcher.toString(), "replay", "--help")
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(errors.get(i).toFile());
                builder.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
                builder.environment().put("JAVA", java.toString());
                builder.environment().remove("JAVA_OPTS");
                launchers.add(builder.start());
                // the first holds the build before the second starts; the second then waits for it, or builds too
                String expected = i == 0 ? null : "waiting for the build another ./tapline runs in this checkout";
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (i == 0 ? !Files.exists(builds) : !Files.readString(errors.get(i)).contains(expected)) {
                    assertTrue(Files.notExists(builds) || Files.readAllLines(builds).size() == 1,
                            "a second build started while the first ran: " + Files.readString(errors.get(i)));
                    assertTrue(System.nanoTime() < deadline, "launcher " + i + ": " + Files.readString(errors.get(i)));
                    Thread.sleep(20);
                }
            }
            Files.createFile(release);
            for (int i = 0; i < 2; i++) {
                assertTrue(launchers.get(i).waitFor(60, TimeUnit.SECONDS), "launcher " + i + " did not finish");
                assertEquals(0, launchers.get(i).exitValue(), Files.readString(errors.get(i)));
            }
        } finally {
            launchers.forEach(LauncherTest::kill);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds), "the second found the jar built and did not build it again");
        assertTrue(Files.notExists(root.resolve(".tapline-build.lock")), "the lock is given back");
    }

    @Test
    void aLauncherInAnotherTimeZoneWaitsForTheBuildOfALiveOne(@TempDir Path dir) throws Exception {
        // ps prints a process's start time in the local time zone: a launcher with another TZ (another terminal, a
        // script setting one) read the live holder's start time as another process's, took its lock over and built
        // beside it
        Path launcher = checkout(dir);
        Path release = dir.resolve("release");
        Path builds = fakeMaven(dir, "", untilCreated(release, dir));
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        Path firstErr = dir.resolve("first.err");
        Path secondErr = dir.resolve("second.err");
        Process first = null;
        Process second = null;
        try {
            ProcessBuilder firstBuilder = launcher(dir, launcher, java17, firstErr);
            firstBuilder.environment().put("TZ", "UTC");
            first = firstBuilder.start();
            awaitTrue(() -> Files.exists(builds), "the first launcher's build", firstErr);
            ProcessBuilder secondBuilder = launcher(dir, launcher, java17, secondErr);
            secondBuilder.environment().put("TZ", "Asia/Kolkata");
            second = secondBuilder.start();
            awaitTrue(() -> Files.readString(secondErr).contains("waiting for the build another ./tapline runs")
                    || Files.readAllLines(builds).size() > 1, "the second launcher waits or builds", secondErr);
            assertEquals(List.of("build"), Files.readAllLines(builds), "a second build ran beside the first: "
                    + Files.readString(secondErr));
            Files.createFile(release);
            assertTrue(first.waitFor(60, TimeUnit.SECONDS) && second.waitFor(60, TimeUnit.SECONDS), "did not finish");
            assertEquals(0, second.exitValue(), Files.readString(secondErr));
        } finally {
            kill(first);
            kill(second);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds), "the second found the jar built");
    }

    @Test
    void aBuildLeftRunningByAKilledLauncherIsWaitedForNotBuiltBeside(@TempDir Path dir) throws Exception {
        // a launcher killed outright (SIGKILL) left its Maven build running and its lock behind; the next took the lock
        // over at once, its holder being gone, and ran a second build into the same target directories
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path release = dir.resolve("release");
        Path mavenPid = dir.resolve("mvn.pid");
        Path builds = fakeMaven(dir, "echo $$ > '" + mavenPid + "'\n", untilCreated(release, dir));
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        Path killedErr = dir.resolve("killed.err");
        Path nextErr = dir.resolve("next.err");
        Process killed = null;
        Process next = null;
        try {
            killed = launcher(dir, launcher, java17, killedErr).start();
            awaitTrue(() -> Files.exists(builds), "the first launcher's build", killedErr);
            killed.destroyForcibly(); // the shell only: its Maven build goes on
            assertTrue(killed.waitFor(60, TimeUnit.SECONDS));
            assertTrue(Files.isDirectory(root.resolve(".tapline-build.lock")), "a killed launcher cannot give its lock back");

            next = launcher(dir, launcher, java17, nextErr).start();
            awaitTrue(() -> Files.readString(nextErr).contains("waiting for it to end") || Files.readAllLines(builds).size() > 1,
                    "the next launcher waits for the build or builds", nextErr);
            assertEquals(List.of("build"), Files.readAllLines(builds), "a second build ran beside the first: "
                    + Files.readString(nextErr));
            long maven = Long.parseLong(Files.readString(mavenPid).trim());
            assertTrue(Files.readString(nextErr).startsWith("tapline: a ./tapline that is gone (pid " + killed.pid()
                    + ") left its Maven build running in this checkout (pid " + maven + "); waiting for it to end..."),
                    Files.readString(nextErr));

            Files.createFile(release);
            assertTrue(next.waitFor(60, TimeUnit.SECONDS), "the next launcher did not finish: " + Files.readString(nextErr));
            assertEquals(0, next.exitValue(), Files.readString(nextErr));
            assertTrue(Files.readString(nextErr).contains("ran replay-worker.jar"), Files.readString(nextErr));
        } finally {
            if (Files.exists(mavenPid)) { // the killed launcher's build, no descendant of anything here any more
                ProcessHandle.of(Long.parseLong(Files.readString(mavenPid).trim())).ifPresent(ProcessHandle::destroyForcibly);
            }
            kill(killed);
            kill(next);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds), "the jar the first build wrote is used, not built again");
        assertTrue(Files.notExists(root.resolve(".tapline-build.lock")), "the lock is given back");
    }

    @Test
    void twoLaunchersFindingOneStaleLockTakeItOverOnce(@TempDir Path dir) throws Exception {
        // both judged the lock stale (its launcher killed), both removed it: the second removed the lock the first had
        // just taken, and the two built at once. A stand-in rm and mkdir hold each launcher's first step of a takeover
        // (removing the lock, or claiming it) until the test lets it go, so the two are interleaved the same way each run.
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path lock = root.resolve(".tapline-build.lock");
        long gone = endedPid();
        Files.writeString(Files.createDirectories(lock).resolve("pid"), gone + "\n");
        Path release = dir.resolve("release");
        Path builds = fakeMaven(dir, "", untilCreated(release, dir));
        Path bin = dir.resolve("bin");
        String hold = "if [ ! -e '" + dir + "/held.'$PPID ]; then\n"
                + "    touch '" + dir + "/held.'$PPID\n"
                + "    while [ ! -e '" + dir + "/go.'$PPID ] && [ -d '" + dir + "' ]; do sleep 0.05; done\n"
                + "fi\n";
        executable(bin.resolve("rm"), "#!/bin/sh\n"
                + "if [ \"$2\" = '" + lock + "' ]; then\n" + hold + "fi\n"
                + "exec /bin/rm \"$@\"\n");
        executable(bin.resolve("mkdir"), "#!/bin/sh\n"
                + "case $1 in '" + lock + "'/*) " + hold.replace("\n", "\n    ") + ";; esac\n"
                + "exec /bin/mkdir \"$@\"\n");
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        List<Process> launchers = new java.util.ArrayList<>();
        List<Path> errors = List.of(dir.resolve("first.err"), dir.resolve("second.err"));
        try {
            for (int i = 0; i < 2; i++) {
                Process started = launcher(dir, launcher, java17, errors.get(i)).start();
                launchers.add(started);
                Path held = dir.resolve("held." + started.pid());
                int index = i;
                // held at its first takeover step, or (the first) past the lock and building, or (the second) waiting for
                // the first's live lock
                awaitTrue(() -> Files.exists(held) || (index == 0 ? Files.exists(builds)
                        : Files.readString(errors.get(index)).contains("waiting for the build another")),
                        "launcher " + i, errors.get(i));
            }
            Files.createFile(dir.resolve("go." + launchers.get(0).pid()));
            awaitTrue(() -> Files.exists(builds), "the first launcher's build", errors.get(0));
            Files.createFile(dir.resolve("go." + launchers.get(1).pid()));
            awaitTrue(() -> Files.readString(errors.get(1)).contains("waiting for the build another")
                    || Files.readAllLines(builds).size() > 1, "the second waits for the first's build or builds", errors.get(1));
            assertEquals(List.of("build"), Files.readAllLines(builds), "the second took the first's fresh lock and built beside it: "
                    + Files.readString(errors.get(1)));
            Files.createFile(release);
            for (int i = 0; i < 2; i++) {
                assertTrue(launchers.get(i).waitFor(60, TimeUnit.SECONDS), "launcher " + i + " did not finish");
                assertEquals(0, launchers.get(i).exitValue(), Files.readString(errors.get(i)));
            }
        } finally {
            launchers.forEach(LauncherTest::kill);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds));
        assertTrue(Files.notExists(lock), "the lock is given back");
    }

    @Test
    void aLockWhosePidIsNowAnotherProgramsIsTakenOver(@TempDir Path dir) throws Exception {
        // a lock left from before a reboot names a pid that some other program of the same user may have by now: the
        // launcher waited for that program's "build" for as long as it ran
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path builds = fakeMaven(dir, "", "");
        Process other = new ProcessBuilder("sleep", "300").start();
        Path stderr = dir.resolve("launcher.err");
        Process started = null;
        try {
            Path lock = Files.createDirectories(root.resolve(".tapline-build.lock"));
            Files.writeString(lock.resolve("pid"), other.pid() + "\n");
            Files.writeString(lock.resolve("build"), other.pid() + "\n");
            started = launcher(dir, launcher, javaOfRelease(dir, "java17", "17.0.15"), stderr).start();
            awaitTrue(() -> Files.exists(builds) || Files.readString(stderr).contains("waiting for"),
                    "the launcher builds or waits", stderr);
            assertTrue(Files.exists(builds), "it waited for a program that is no ./tapline: " + Files.readString(stderr));
            assertTrue(started.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish: " + Files.readString(stderr));
            assertEquals(0, started.exitValue(), Files.readString(stderr));
            assertTrue(other.isAlive(), "the other program is left alone");
        } finally {
            other.destroyForcibly();
            kill(started);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds));
    }

    @Test
    void aLeftoverWhosePidIsNowAnotherProgramsIsSwept(@TempDir Path dir) throws Exception {
        // what a killed launcher left beside the lock (its claim, the lock it took over or gave back) was removed once no
        // process had its pid: one whose pid some other program has by now (after a reboot, say) stayed as long as that
        // program ran. Each leftover keeps its launcher's start time with the pid; one holding none (an older
        // launcher's) is still told by its pid alone.
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path builds = fakeMaven(dir, "", "");
        Process other = new ProcessBuilder("sleep", "300").start(); // has the pids of the leftovers now
        Process live = new ProcessBuilder("sleep", "300").start(); // stands for a launcher at work
        long gone = endedPid();
        String before = "Thu Jan  1 00:00:00 1970\n"; // the start time of the launcher that had the pid
        Path stderr = dir.resolve("launcher.err");
        Process started = null;
        try {
            Path claim = leftover(root, "claim", other.pid(), "", other.pid(), before);
            Path released = leftover(root, "released", other.pid(), "", other.pid(), before);
            Path stale = leftover(root, "stale", other.pid(), "", gone, before);
            leftover(root, "stale", other.pid(), "takeover/", other.pid(), before);
            Path liveClaim = leftover(root, "claim", live.pid(), "", live.pid(), startTime(live.pid()));
            Path olderLaunchers = leftover(root, "stale", live.pid(), "", gone, null);
            started = launcher(dir, launcher, javaOfRelease(dir, "java17", "17.0.15"), stderr).start();
            assertTrue(started.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish: " + Files.readString(stderr));
            assertEquals(0, started.exitValue(), Files.readString(stderr));
            for (Path swept : List.of(claim, released, stale)) {
                assertTrue(Files.notExists(swept), swept + " is kept while another program has its pid");
            }
            assertTrue(Files.isDirectory(liveClaim), "the claim of a launcher at work is kept");
            assertTrue(Files.isDirectory(olderLaunchers), "one without a start time is kept while a process has its pid");
            assertTrue(other.isAlive() && live.isAlive(), "the other programs are left alone");
        } finally {
            other.destroyForcibly();
            live.destroyForcibly();
            kill(started);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds));
    }

    /**
     * The leftover {@code .tapline-build.lock.KIND.NAMED} holding {@code under/pid} ({@code pid}) and, unless {@code started}
     * is null, {@code under/pid.started}.
     */
    private static Path leftover(Path root, String kind, long named, String under, long pid, String started)
            throws IOException {
        Path left = root.resolve(".tapline-build.lock." + kind + "." + named);
        Path files = Files.createDirectories(left.resolve(under.isEmpty() ? "." : under));
        if (started != null) {
            Files.writeString(files.resolve("pid.started"), started);
        }
        Files.writeString(files.resolve("pid"), pid + "\n");
        return left;
    }

    @Test
    void aLauncherOfAnotherUserWaitsForTheBuildOfALiveOne(@TempDir Path dir) throws Exception {
        // kill -0 on a live process of another user fails (EPERM) as on one that is gone: in a checkout shared by two
        // users, the second one's launcher took the first one's live lock for stale and built beside it. The lock here is
        // held by a process of this test's user (root), and the launcher runs as nobody.
        Assumptions.assumeTrue(Integer.valueOf(0).equals(Files.getAttribute(dir, "unix:uid")),
                "running a launcher as another user needs root"); // dir's owner: this test's user
        Path setpriv = Path.of("/usr/bin/setpriv");
        Assumptions.assumeTrue(Files.isExecutable(setpriv), "no setpriv to run a launcher as another user");
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path builds = fakeMaven(dir, "", "");
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        Path stderr = dir.resolve("launcher.err");
        Process holder = new ProcessBuilder("sleep", "300").start();
        Process started = null;
        try {
            Path lock = Files.createDirectories(root.resolve(".tapline-build.lock"));
            Files.writeString(lock.resolve("pid.started"), startTime(holder.pid()));
            Files.writeString(lock.resolve("pid"), holder.pid() + "\n");
            // a checkout both users write in (a group-writable one, say): nobody may take the lock over, as it did
            try (var paths = Files.walk(dir)) {
                for (Path path : paths.toList()) {
                    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxrwxrwx"));
                }
            }
            ProcessBuilder builder = launcher(dir, launcher, java17, stderr);
            builder.command().addAll(0, List.of(setpriv.toString(), "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
            started = builder.start();
            awaitTrue(() -> Files.exists(builds) || Files.readString(stderr).contains("waiting for"),
                    "the launcher builds or waits", stderr);
            assertFalse(Files.exists(builds), "it built beside the live build of another user: " + Files.readString(stderr));
            assertTrue(Files.readString(stderr).startsWith("tapline: waiting for the build another ./tapline runs in this"
                    + " checkout (pid " + holder.pid() + ")..."), Files.readString(stderr));

            holder.destroyForcibly(); // gone now: its lock is taken over
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
            assertTrue(started.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish: " + Files.readString(stderr));
            assertEquals(0, started.exitValue(), Files.readString(stderr));
            assertTrue(Files.readString(stderr).contains("ran replay-worker.jar"), Files.readString(stderr));
        } finally {
            holder.destroyForcibly();
            kill(started);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds));
        assertTrue(Files.notExists(root.resolve(".tapline-build.lock")), "the lock is given back");
    }

    @Test
    void aDeadLockThatThisUserMayNotRemoveIsNamedAtOnceWithWhoCan(@TempDir Path dir) throws Exception {
        // a lock left by a launcher of another user that is gone, made with umask 022 (rwxr-xr-x): this user's launcher
        // could not take it over (mkdir of its takeover, or the rename, refused) and waited, saying "another ./tapline is
        // taking over the lock", until someone removed it by hand. The lock is daemon's, the launcher runs as nobody.
        Path setpriv = assumeOtherUsers(dir);
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path lock = root.resolve(".tapline-build.lock");
        Path builds = fakeMaven(dir, "", "");
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        openToAll(dir); // a checkout both users write in
        long gone = endedPid();
        runAs(setpriv, "daemon", "mkdir '" + lock + "' && echo " + gone + " > '" + lock + "/pid'");
        String removeIt = "Have daemon or root remove it, then run ./tapline again: rm -rf '" + lock + "'\n";

        Result dead = runAsNobody(dir, setpriv, launcher, java17);
        assertEquals("tapline: cannot take over the build lock " + lock + ", left by a ./tapline that is gone (pid "
                + gone + "): it belongs to daemon (drwxr-xr-x), and user nobody may not remove it. " + removeIt,
                dead.stderr());
        assertEquals(3, dead.code(), "replay's status for a jar it cannot build");

        runAs(setpriv, "daemon", "rm '" + lock + "/pid'"); // one without a pid is taken over after 3 s: not this one
        Result pidless = runAsNobody(dir, setpriv, launcher, java17);
        assertEquals("tapline: cannot take over the build lock " + lock + ", holding no pid: it belongs to daemon"
                + " (drwxr-xr-x), and user nobody may not remove it. " + removeIt, pidless.stderr());
        assertEquals(3, pidless.code());

        // in a checkout with the sticky bit only the lock's owner may rename it, though nobody may write in it
        Files.setPosixFilePermissions(lock, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setAttribute(root, "unix:mode", 01777);
        Result sticky = runAsNobody(dir, setpriv, launcher, java17);
        assertEquals("tapline: cannot take over the build lock " + lock + ", holding no pid: it belongs to daemon"
                + " (drwxrwxrwx), and in the checkout drwxrwxrwt, user nobody may not remove it. " + removeIt,
                sticky.stderr());
        assertEquals(3, sticky.code());
        try (var entries = Files.list(lock)) {
            assertEquals(List.of(), entries.toList(), "the lock is left as it was, without a takeover of nobody's");
        }
        assertTrue(Files.notExists(builds), "no build beside the lock");
    }

    @Test
    void aDeadTakeoverThatThisUserMayNotTakeOverIsNamedAtOnceWithWhoCan(@TempDir Path dir) throws Exception {
        // a lock this user may write in, holding the takeover of another user's launcher killed half-way, made with umask
        // 022 (by a launcher that did not share its takeover yet): this user's launcher cannot take that takeover over
        // and waited, saying another launcher was taking the lock over. Both are daemon's, the launcher runs as nobody.
        Path setpriv = assumeOtherUsers(dir);
        Path launcher = checkout(dir);
        Path lock = launcher.getParent().resolve(".tapline-build.lock");
        Path builds = fakeMaven(dir, "", "");
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        openToAll(dir);
        long gone = endedPid();
        runAs(setpriv, "daemon", "umask 000 && mkdir '" + lock + "' && echo " + gone + " > '" + lock + "/pid'"
                + " && umask 022 && mkdir '" + lock + "/takeover' && echo " + gone + " > '" + lock + "/takeover/pid'");

        Result result = runAsNobody(dir, setpriv, launcher, java17);
        assertEquals("tapline: cannot take over the build lock " + lock + ", left by a ./tapline that is gone (pid "
                + gone + "): its takeover/, left half-way by a ./tapline that is gone too, belongs to daemon"
                + " (drwxr-xr-x), and user nobody may not remove it. Have daemon or root remove it, then run ./tapline"
                + " again: rm -rf '" + lock + "'\n", result.stderr());
        assertEquals(3, result.code(), "replay's status for a jar it cannot build");
        assertTrue(Files.isDirectory(lock.resolve("takeover")), "the lock is left as it was");
        assertTrue(Files.notExists(builds), "no build beside the lock");
    }

    @Test
    void aLockThisUserMayNotReadIsWaitedForAsItsHolderMayRun(@TempDir Path dir) throws Exception {
        // a lock of another user made with umask 077 (by a launcher that did not share its lock yet), that user running
        // processes: whether its holder runs cannot be told, so it is waited for, saying so (it said another launcher
        // was taking it over) and naming who can remove it
        Path setpriv = assumeOtherUsers(dir);
        Path launcher = checkout(dir);
        Path lock = launcher.getParent().resolve(".tapline-build.lock");
        Path builds = fakeMaven(dir, "", "");
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        openToAll(dir);
        Process holder = asUser(setpriv, "daemon", "daemon", "sleep", "300");
        Path stderr = dir.resolve("launcher.err");
        Process started = null;
        try {
            runAs(setpriv, "daemon", "umask 077 && mkdir '" + lock + "' && echo " + holder.pid() + " > '" + lock + "/pid'");
            ProcessBuilder builder = launcher(dir, launcher, java17, stderr);
            builder.command().addAll(0, asUser(setpriv, "nobody", "nogroup"));
            started = builder.start();
            awaitTrue(() -> Files.readString(stderr).contains("tapline: "), "the launcher says why it waits", stderr);
            assertEquals("tapline: cannot read the build lock " + lock + " (it belongs to daemon, drwx------), so whether"
                    + " its ./tapline still builds cannot be told: waiting for it to be given back, 30 minutes at most; if"
                    + " this message stays alone, have daemon or root remove it: rm -rf '" + lock + "'\n",
                    Files.readString(stderr));
            assertFalse(started.waitFor(4, TimeUnit.SECONDS), "it waits: " + Files.readString(stderr));

            runAs(setpriv, "daemon", "rm -rf '" + lock + "'"); // given back
            assertTrue(started.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish: " + Files.readString(stderr));
            assertEquals(0, started.exitValue(), Files.readString(stderr));
        } finally {
            holder.destroyForcibly();
            kill(started);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds));
    }

    @Test
    void aLockThisUserMayNotReadOfAUserRunningNoProcessIsNamedAtOnce(@TempDir Path dir) throws Exception {
        // a lock of another user made with umask 077 was waited for as long as it stayed, also when that user ran no
        // process at all, so that no ./tapline could hold it: the launcher now exits at once, naming who can remove it,
        // and leaves it in place. Its owner is a user id no account and no process has.
        Path setpriv = assumeOtherUsers(dir);
        Path launcher = checkout(dir);
        Path lock = launcher.getParent().resolve(".tapline-build.lock");
        Path builds = fakeMaven(dir, "", "");
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        openToAll(dir);
        long gone = endedPid();
        runAs(setpriv, "64123", "umask 077 && mkdir '" + lock + "' && echo " + gone + " > '" + lock + "/pid'");

        Result result = runAsNobody(dir, setpriv, launcher, java17);
        assertEquals("tapline: cannot read the build lock " + lock + " (it belongs to 64123, drwx------), and user 64123"
                + " runs no process here, so no ./tapline of this machine holds it any more (one in another container"
                + " sharing this checkout would not show). Have 64123 or root remove it, then run ./tapline again: rm -rf '"
                + lock + "'\n", result.stderr());
        assertEquals(3, result.code(), "replay's status for a jar it cannot build");
        assertTrue(Files.isDirectory(lock), "the lock is left in place");
        assertTrue(Files.notExists(builds), "no build beside the lock");
    }

    @Test
    void aLockThisUserMayNotReadIsWaitedFor30MinutesAtMost(@TempDir Path dir) throws Exception {
        // a lock of another user made with umask 077, that user running processes, was waited for as long as it stayed:
        // after 30 minutes, longer than a build, the launcher exits, saying so and naming who can remove it, and leaves
        // the lock in place. A stand-in date tells the launcher that 30 minutes passed after its first look at the lock.
        Path setpriv = assumeOtherUsers(dir);
        Path launcher = checkout(dir);
        Path lock = launcher.getParent().resolve(".tapline-build.lock");
        Path builds = fakeMaven(dir, "", "");
        Path asked = dir.resolve("date.asked");
        executable(dir.resolve("bin/date"), "#!/bin/sh\n"
                + "if [ -e '" + asked + "' ]; then echo 1001800; else : > '" + asked + "'; echo 1000000; fi\n");
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        openToAll(dir);
        Process holder = asUser(setpriv, "daemon", "daemon", "sleep", "300");
        try {
            runAs(setpriv, "daemon", "umask 077 && mkdir '" + lock + "' && echo " + holder.pid() + " > '" + lock + "/pid'");
            Result result = runAsNobody(dir, setpriv, launcher, java17);
            assertTrue(result.stderr().endsWith("tapline: gave up waiting for the build lock " + lock + " after 30 minutes,"
                    + " longer than a build takes: it belongs to daemon (drwx------) and this user cannot read it, so"
                    + " whether its ./tapline still builds cannot be told; it is left in place. If no ./tapline of daemon"
                    + " builds in this checkout, have daemon or root remove it, then run ./tapline again: rm -rf '" + lock
                    + "'\n"), result.stderr());
            assertEquals(3, result.code(), "replay's status for a jar it cannot build");
            assertTrue(Files.isDirectory(lock), "the lock is left in place");
            assertTrue(holder.isAlive(), "its holder is left alone");
        } finally {
            holder.destroyForcibly();
        }
        assertTrue(Files.notExists(builds), "no build beside the lock");
    }

    @Test
    void aDeadLockOfATeammateIsTakenOverInAGroupWritableCheckout(@TempDir Path dir) throws Exception {
        // in a checkout a team builds in (group-writable), the lock a launcher killed as it built left was its user's
        // alone (rwxr-xr-x, that user's group): a teammate's launcher could not take it over and waited until someone
        // removed it by hand. The killed launcher is daemon's (a member of the checkout's group nogroup), the next nobody's.
        Path setpriv = assumeOtherUsers(dir);
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path lock = root.resolve(".tapline-build.lock");
        // daemon's build kills its launcher (SIGKILL) and ends: the lock is left, its launcher and build gone
        Path builds = fakeMaven(dir, "if [ \"$(id -un)\" = daemon ]; then kill -9 $PPID; exit 1; fi\n", "");
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        openToAll(dir);
        var team = root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName("nogroup");
        try (var paths = Files.walk(root)) {
            for (Path path : paths.toList()) {
                Files.setAttribute(path, "posix:group", team);
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxrwxr-x"));
            }
        }
        Path killedErr = dir.resolve("killed.err");
        Path nextErr = dir.resolve("next.err");
        Process killed = null;
        Process next = null;
        try {
            ProcessBuilder first = launcher(dir, launcher, java17, killedErr);
            first.command().addAll(0, List.of(setpriv.toString(), "--reuid=daemon", "--regid=daemon", "--groups=nogroup",
                    "sh", "-c", "umask 022 && exec \"$@\"", "sh"));
            killed = first.start();
            assertTrue(killed.waitFor(60, TimeUnit.SECONDS), "the first launcher was not killed: " + Files.readString(killedErr));
            assertEquals(137, killed.exitValue(), Files.readString(killedErr));
            assertTrue(Files.isDirectory(lock), "a killed launcher cannot give its lock back");

            ProcessBuilder second = launcher(dir, launcher, java17, nextErr);
            second.command().addAll(0, asUser(setpriv, "nobody", "nogroup"));
            next = second.start();
            assertTrue(next.waitFor(60, TimeUnit.SECONDS), "the teammate's launcher did not finish: " + Files.readString(nextErr));
            assertEquals(0, next.exitValue(), Files.readString(nextErr));
            assertTrue(Files.readString(nextErr).contains("ran replay-worker.jar"), Files.readString(nextErr));
        } finally {
            kill(killed);
            kill(next);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds), "the teammate's build, the killed one's logged none");
        assertTrue(Files.notExists(lock), "the lock is given back");
    }

    @Test
    void whatRootsKilledLauncherLeftInAUsersCheckoutIsSweptByThatUser(@TempDir Path dir) throws Exception {
        // a checkout that is not shared (rwxr-xr-x, nobody's): a sudo ./tapline killed as it gave the lock back left the
        // lock it had renamed (.released.PID, its pid files and its build's in it) there, root's, which none of the
        // user's launchers could remove. A stand-in rm holds root's launcher as it deletes that, so it is killed at that
        // step each run.
        Path setpriv = assumeOtherUsers(dir);
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path builds = fakeMaven(dir, "", "");
        Path held = dir.resolve("rm.held");
        executable(dir.resolve("bin/rm"), "#!/bin/sh\n"
                + "case $2 in '" + root + "/.tapline-build.lock.released.'*)\n"
                + "    if [ \"$(id -u)\" = 0 ] && [ ! -e '" + held + "' ]; then\n"
                + "        touch '" + held + "'\n"
                + "        while [ -d '" + dir + "' ]; do sleep 0.05; done\n"
                + "    fi ;;\n"
                + "esac\n"
                + "exec /bin/rm \"$@\"\n");
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        Files.createFile(builds); // both users' builds log to it
        openToAll(dir);
        var user = root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        try (var paths = Files.walk(root)) {
            for (Path path : paths.toList()) {
                Files.setOwner(path, user);
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        Path killedErr = dir.resolve("killed.err");
        Path nextErr = dir.resolve("next.err");
        Process killed = null;
        Process next = null;
        try {
            killed = launcher(dir, launcher, java17, killedErr).start(); // root's
            awaitTrue(() -> Files.exists(held), "root's launcher giving the lock back", killedErr);
            List<ProcessHandle> children = killed.descendants().toList();
            killed.destroyForcibly(); // first, so that it takes no further step
            children.forEach(ProcessHandle::destroyForcibly);
            assertTrue(killed.waitFor(60, TimeUnit.SECONDS));
            Path released = root.resolve(".tapline-build.lock.released." + killed.pid());
            assertTrue(Files.exists(released.resolve("pid")), "root's launcher left the lock it gave back");
            try (var paths = Files.walk(root.resolve("replay-worker/target"))) { // root's build, to be built again
                for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }

            ProcessBuilder second = launcher(dir, launcher, java17, nextErr);
            second.command().addAll(0, asUser(setpriv, "nobody", "nogroup"));
            next = second.start();
            assertTrue(next.waitFor(60, TimeUnit.SECONDS), "the user's launcher did not finish: " + Files.readString(nextErr));
            assertEquals(0, next.exitValue(), Files.readString(nextErr));
            assertTrue(Files.readString(nextErr).contains("ran replay-worker.jar"), Files.readString(nextErr));
        } finally {
            kill(killed);
            kill(next);
        }
        assertEquals(List.of("build", "build"), Files.readAllLines(builds), "root's build, then the user's");
        assertNothingNamedLikeTheLock(root, "the lock is given back, and what root's killed launcher left is removed by the user's");
    }

    /** Skips the test unless it runs as root with setpriv and the users daemon and nobody; setpriv's path. */
    private static Path assumeOtherUsers(Path dir) throws Exception {
        Assumptions.assumeTrue(Integer.valueOf(0).equals(Files.getAttribute(dir, "unix:uid")),
                "running launchers as other users needs root"); // dir's owner: this test's user
        Path setpriv = Path.of("/usr/bin/setpriv");
        Assumptions.assumeTrue(Files.isExecutable(setpriv), "no setpriv to run a launcher as another user");
        Process id = new ProcessBuilder("id", "daemon").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Assumptions.assumeTrue(id.waitFor(30, TimeUnit.SECONDS) && id.exitValue() == 0, "no user daemon");
        return setpriv;
    }

    /** setpriv's arguments that run what follows as that user and group alone. */
    private static List<String> asUser(Path setpriv, String user, String group) {
        return List.of(setpriv.toString(), "--reuid=" + user, "--regid=" + group, "--clear-groups");
    }

    /** Starts {@code command} as that user and group alone. */
    private static Process asUser(Path setpriv, String user, String group, String... command) throws IOException {
        List<String> line = new java.util.ArrayList<>(asUser(setpriv, user, group));
        line.addAll(List.of(command));
        return new ProcessBuilder(line).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Runs a shell script as {@code user} (its own group), with umask 022 unless the script sets its own. */
    private static void runAs(Path setpriv, String user, String script) throws Exception {
        List<String> command = new java.util.ArrayList<>(asUser(setpriv, user, user));
        command.addAll(List.of("sh", "-c", "umask 022 && " + script));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0, script + ": " + output);
    }

    /** Makes everything under {@code dir} readable and writable by every user. */
    private static void openToAll(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path path : paths.toList()) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxrwxrwx"));
            }
        }
    }

    /** The launcher run as nobody ({@code replay --help}); it must end by itself within 30 s. */
    private static Result runAsNobody(Path dir, Path setpriv, Path launcher, Path java) throws Exception {
        Path stderr = Files.createTempFile(dir, "launcher", ".err");
        ProcessBuilder builder = launcher(dir, launcher, java, stderr);
        builder.command().addAll(0, asUser(setpriv, "nobody", "nogroup"));
        Process started = builder.start();
        try {
            assertTrue(started.waitFor(30, TimeUnit.SECONDS), "it waited for a lock it cannot take over: "
                    + Files.readString(stderr));
        } finally {
            kill(started);
        }
        return new Result(started.exitValue(), Files.readString(stderr));
    }

    @Test
    void aLauncherKilledAsItTakesTheLockLeavesNoLockWithoutItsOwner(@TempDir Path dir) throws Exception {
        // a launcher killed between creating the lock (mkdir) and writing its pid into it left a lock naming no one:
        // every later launcher waited for it ("waiting for the build another ./tapline runs in this checkout (pid ?)")
        // until someone removed it by hand. A stand-in ps holds the first launcher where it reads its own start time for
        // the lock, so it is killed at that step each run.
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path builds = fakeMaven(dir, "", "");
        Path bin = dir.resolve("bin");
        Path held = dir.resolve("ps.held");
        executable(bin.resolve("ps"), "#!/bin/sh\n"
                + "if [ ! -e '" + held + "' ]; then\n"
                + "    touch '" + held + "'\n"
                + "    while [ -d '" + dir + "' ]; do sleep 0.05; done\n"
                + "fi\n"
                + "PATH=${PATH#*:} exec ps \"$@\"\n"); // the PATH without this stand-in's directory
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        Path killedErr = dir.resolve("killed.err");
        Path nextErr = dir.resolve("next.err");
        Process killed = null;
        Process next = null;
        try {
            killed = launcher(dir, launcher, java17, killedErr).start();
            awaitTrue(() -> Files.exists(held), "the first launcher taking the lock", killedErr);
            List<ProcessHandle> children = killed.descendants().toList();
            killed.destroyForcibly(); // first, so that it takes no further step
            children.forEach(ProcessHandle::destroyForcibly);
            assertTrue(killed.waitFor(60, TimeUnit.SECONDS));

            next = launcher(dir, launcher, java17, nextErr).start();
            awaitTrue(() -> Files.exists(builds) || Files.readString(nextErr).contains("waiting for"),
                    "the next launcher builds or waits", nextErr);
            assertTrue(Files.exists(builds), "it waited for a lock that has no owner: " + Files.readString(nextErr));
            assertTrue(next.waitFor(60, TimeUnit.SECONDS), "the next launcher did not finish: " + Files.readString(nextErr));
            assertEquals(0, next.exitValue(), Files.readString(nextErr));
            assertTrue(Files.readString(nextErr).contains("ran replay-worker.jar"), Files.readString(nextErr));
        } finally {
            kill(killed);
            kill(next);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds));
        assertNothingNamedLikeTheLock(root, "the lock is given back, and nothing the killed launcher left is kept beside it");
    }

    @Test
    void aLockLeftWithoutAPidIsTakenOver(@TempDir Path dir) throws Exception {
        // the lock a launcher killed between creating it and writing its pid left (launchers before the lock was made
        // whole beside its name, then renamed into place): every later launcher waited for it, naming no one
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path builds = fakeMaven(dir, "", "");
        Path lock = Files.createDirectories(root.resolve(".tapline-build.lock"));
        Path stderr = dir.resolve("launcher.err");
        Process started = null;
        try {
            started = launcher(dir, launcher, javaOfRelease(dir, "java17", "17.0.15"), stderr).start();
            awaitTrue(() -> Files.exists(builds) || Files.readString(stderr).contains("waiting for"),
                    "the launcher builds or waits", stderr);
            assertTrue(Files.exists(builds), "it waited for a lock that has no owner: " + Files.readString(stderr));
            assertTrue(started.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish: " + Files.readString(stderr));
            assertEquals(0, started.exitValue(), Files.readString(stderr));
            assertTrue(Files.readString(stderr).startsWith("tapline: taking over the build lock " + lock
                    + ", which holds no pid (left by a ./tapline killed as it took it)"), Files.readString(stderr));
        } finally {
            kill(started);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds));
        assertTrue(Files.notExists(lock), "the lock is given back");
    }

    @Test
    void aTakeoverLeftByAKilledLauncherIsTakenOver(@TempDir Path dir) throws Exception {
        // a launcher killed while it took a dead lock over (after claiming the takeover, before renaming the lock) left
        // its takeover in the lock: every later launcher waited for it ("another ./tapline is taking over ...") until
        // someone removed the lock by hand. A stand-in mv holds each launcher where it renames the lock, so it is killed
        // at that step: twice, the second launcher killed as it takes over the first one's takeover.
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path lock = root.resolve(".tapline-build.lock");
        long gone = endedPid();
        Files.writeString(Files.createDirectories(lock).resolve("pid"), gone + "\n");
        Path builds = fakeMaven(dir, "", "");
        Path go = dir.resolve("mv.go");
        executable(dir.resolve("bin/mv"), "#!/bin/sh\n"
                + "if [ \"$1\" = '" + lock + "' ] && [ ! -e '" + go + "' ]; then\n"
                + "    touch '" + dir + "/held.'$PPID\n"
                + "    while [ -d '" + dir + "' ]; do sleep 0.05; done\n"
                + "fi\n"
                + "exec /bin/mv \"$@\"\n");
        Path java17 = javaOfRelease(dir, "java17", "17.0.15");
        List<Process> killed = new java.util.ArrayList<>();
        Process next = null;
        Path nextErr = dir.resolve("next.err");
        try {
            for (int i = 0; i < 2; i++) {
                Path killedErr = dir.resolve("killed-" + i + ".err");
                Process started = launcher(dir, launcher, java17, killedErr).start();
                killed.add(started);
                Path held = dir.resolve("held." + started.pid());
                awaitTrue(() -> Files.exists(held) || Files.readString(killedErr).contains("is taking over"),
                        "launcher " + i + " renaming the lock, or waiting", killedErr);
                assertTrue(Files.exists(held), "it waited for the takeover of a launcher that is gone: "
                        + Files.readString(killedErr));
                List<ProcessHandle> children = started.descendants().toList();
                started.destroyForcibly(); // first, so that it takes no further step
                children.forEach(ProcessHandle::destroyForcibly);
                assertTrue(started.waitFor(60, TimeUnit.SECONDS));
                assertTrue(Files.isDirectory(lock.resolve("takeover")), "a killed launcher leaves its takeover");
            }
            Files.createFile(go);
            next = launcher(dir, launcher, java17, nextErr).start();
            Process last = next;
            awaitTrue(() -> !last.isAlive() || Files.readString(nextErr).contains("is taking over"),
                    "the next launcher finishes or waits", nextErr);
            assertTrue(next.waitFor(60, TimeUnit.SECONDS), "the next launcher did not finish: " + Files.readString(nextErr));
            assertEquals(0, next.exitValue(), Files.readString(nextErr));
            assertTrue(Files.readString(nextErr).startsWith("tapline: taking over the build lock " + lock + ", whose"
                    + " takeover was left half-way by ./tapline that is gone (pid " + killed.get(0).pid() + ", then pid "
                    + killed.get(1).pid() + ")\n"), Files.readString(nextErr));
            assertTrue(Files.readString(nextErr).contains("ran replay-worker.jar"), Files.readString(nextErr));
        } finally {
            killed.forEach(LauncherTest::kill);
            kill(next);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds));
        assertNothingNamedLikeTheLock(root, "the lock is given back, and nothing the killed launchers left is kept beside it");
    }

    @Test
    void aTakeoverLeftWithoutAPidIsTakenOver(@TempDir Path dir) throws Exception {
        // a takeover holding no pid (made by a launcher of before takeovers held one, or by one killed before it wrote
        // it) was waited for as long as it stayed, as a takeover by another launcher
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path lock = root.resolve(".tapline-build.lock");
        long gone = endedPid();
        Files.writeString(Files.createDirectories(lock).resolve("pid"), gone + "\n");
        Files.createDirectories(lock.resolve("takeover"));
        Path builds = fakeMaven(dir, "", "");
        Path stderr = dir.resolve("launcher.err");
        Process started = null;
        try {
            started = launcher(dir, launcher, javaOfRelease(dir, "java17", "17.0.15"), stderr).start();
            awaitTrue(() -> Files.exists(builds) || Files.readString(stderr).contains("is taking over"),
                    "the launcher builds or waits", stderr);
            assertTrue(Files.exists(builds), "it waited for a takeover that has no owner: " + Files.readString(stderr));
            assertTrue(started.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish: " + Files.readString(stderr));
            assertEquals(0, started.exitValue(), Files.readString(stderr));
            assertTrue(Files.readString(stderr).startsWith("tapline: taking over the build lock " + lock + ", whose"
                    + " takeover was left half-way by ./tapline that is gone (no pid)\n"), Files.readString(stderr));
        } finally {
            kill(started);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds));
        assertTrue(Files.notExists(lock), "the lock is given back");
    }

    @Test
    void aTakeoverOfALiveLauncherIsWaitedFor(@TempDir Path dir) throws Exception {
        // the lock's launcher is gone, and another launcher, alive, is taking it over: it is waited for, never taken
        // from it; once that one is gone too, its takeover is taken over
        Path launcher = checkout(dir);
        Path root = launcher.getParent();
        Path lock = root.resolve(".tapline-build.lock");
        long gone = endedPid();
        Files.writeString(Files.createDirectories(lock).resolve("pid"), gone + "\n");
        Path builds = fakeMaven(dir, "", "");
        Path stderr = dir.resolve("launcher.err");
        Process taker = new ProcessBuilder("sleep", "300").start(); // stands for the launcher taking the lock over
        Process started = null;
        try {
            Path takeover = Files.createDirectories(lock.resolve("takeover"));
            Files.writeString(takeover.resolve("pid.started"), startTime(taker.pid()));
            Files.writeString(takeover.resolve("pid"), taker.pid() + "\n");
            started = launcher(dir, launcher, javaOfRelease(dir, "java17", "17.0.15"), stderr).start();
            awaitTrue(() -> Files.exists(builds) || Files.readString(stderr).contains("is taking over"),
                    "the launcher builds or waits", stderr);
            assertFalse(Files.exists(builds), "it took the lock from a launcher taking it over: " + Files.readString(stderr));
            assertFalse(started.waitFor(4, TimeUnit.SECONDS), "it waits: " + Files.readString(stderr));
            assertFalse(Files.exists(builds), "it took the lock from a launcher taking it over: " + Files.readString(stderr));
            assertEquals("tapline: another ./tapline (pid " + taker.pid() + ") is taking over the lock left by one that is"
                    + " gone (pid " + gone + "); if this message stays alone, remove " + lock + "\n",
                    Files.readString(stderr));
            assertTrue(taker.isAlive(), "the launcher taking the lock over is left alone");

            taker.destroyForcibly(); // gone now, half-way
            assertTrue(taker.waitFor(30, TimeUnit.SECONDS));
            assertTrue(started.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish: " + Files.readString(stderr));
            assertEquals(0, started.exitValue(), Files.readString(stderr));
            assertTrue(Files.readString(stderr).contains("tapline: taking over the build lock " + lock + ", whose takeover"
                    + " was left half-way by ./tapline that is gone (pid " + taker.pid() + ")\n"), Files.readString(stderr));
        } finally {
            taker.destroyForcibly();
            kill(started);
        }
        assertEquals(List.of("build"), Files.readAllLines(builds));
        assertTrue(Files.notExists(lock), "the lock is given back");
    }

    /** A process's start time as the launcher records it in its lock (UTC, C locale). */
    private static String startTime(long pid) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("ps", "-p", Long.toString(pid), "-o", "lstart=");
        builder.environment().put("TZ", "UTC0");
        builder.environment().put("LC_ALL", "C");
        Process ps = builder.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String started = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(ps.waitFor(30, TimeUnit.SECONDS) && ps.exitValue() == 0 && !started.isBlank(), "ps -p " + pid);
        return started;
    }

    private static ProcessBuilder launcher(Path dir, Path launcher, Path java, Path stderr) {
        ProcessBuilder builder = new ProcessBuilder("sh", launcher.toString(), "replay", "--help")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile());
        builder.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
        builder.environment().put("JAVA", java.toString());
        builder.environment().remove("JAVA_OPTS");
        return builder;
    }

    /**
     * A jar whose program prints, on stderr, the system properties {@code tapline.a}, {@code tapline.b} and
     * {@code tapline.glob} and its first argument: what the JVM the launcher runs was given.
     */
    private static Path propertyPrinterJar(Path dir) throws IOException {
        Path sources = Files.createDirectories(dir.resolve("printer-src"));
        Path classes = Files.createDirectories(dir.resolve("printer-classes"));
        Path source = Files.writeString(sources.resolve("PrintOptions.java"), "public final class PrintOptions {\n"
                + "    public static void main(String[] args) {\n"
                + "        System.err.println(\"a=\" + System.getProperty(\"tapline.a\") + \" b=\" + System.getProperty(\"tapline.b\")\n"
                + "                + \" glob=\" + System.getProperty(\"tapline.glob\") + \" args=\" + String.join(\" \", args)\n"
                + "                + \" jnu=\" + System.getProperty(\"sun.jnu.encoding\"));\n"
                + "    }\n"
                + "}\n");
        int status = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(),
                source.toString());
        assertEquals(0, status, "javac");
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MAIN_CLASS, "PrintOptions");
        Path jar = dir.resolve("print-options.jar");
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.putNextEntry(new java.util.jar.JarEntry("PrintOptions.class"));
            out.write(Files.readAllBytes(classes.resolve("PrintOptions.class")));
            out.closeEntry();
        }
        return jar;
    }

    private interface Condition {
        boolean holds() throws IOException;
    }

    /** Polls until the condition holds; the bound only keeps a broken launcher from hanging the build. */
    private static void awaitTrue(Condition condition, String what, Path stderr) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.holds()) {
            assertTrue(System.nanoTime() < deadline, what + ": " + (Files.exists(stderr) ? Files.readString(stderr) : ""));
            Thread.sleep(20);
        }
    }

    /**
     * A stand-in Maven in {@code dir/bin}: runs {@code first}, logs each build as a line of {@code dir/builds.log},
     * runs {@code during} (a wait, say), then writes the replay worker's jar. Returns the log.
     */
    private static Path fakeMaven(Path dir, String first, String during) throws IOException {
        Path builds = dir.resolve("builds.log");
        executable(Files.createDirectories(dir.resolve("bin")).resolve("mvn"), "#!/bin/sh\n"
                + first
                + "echo build >> '" + builds + "'\n"
                + during
                + "mkdir -p replay-worker/target && echo jar > replay-worker/target/replay-worker.jar\n");
        return builds;
    }

    /** A shell loop waiting until {@code file} exists, or {@code dir} is gone (the test ended). */
    private static String untilCreated(Path file, Path dir) {
        return "while [ ! -f '" + file + "' ] && [ -d '" + dir + "' ]; do sleep 0.1; done\n";
    }

    private static Path executable(Path file, String script) throws IOException {
        Files.writeString(file, script);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /**
     * A stand-in java of that release: {@code -version} prints what a JDK prints, after the line JAVA_TOOL_OPTIONS adds;
     * run on a jar, one older than 17 fails as the JVM does, with status 1.
     */
    private static Path javaOfRelease(Path dir, String name, String release) throws IOException {
        boolean old = release.startsWith("1.") || Integer.parseInt(release.replaceAll("[^0-9].*", "")) < 17;
        return executable(dir.resolve(name), "#!/bin/sh\n"
                + "if [ \"$1\" = -version ]; then\n"
                + "    echo 'Picked up JAVA_TOOL_OPTIONS: -Dfile.encoding=UTF-8' >&2\n"
                + "    echo 'openjdk version \"" + release + "\" 2024-01-16' >&2\n"
                + "    exit 0\n"
                + "fi\n"
                + (old ? "echo 'Error: LinkageError occurred while loading main class io.tapline.replay.ReplayMain' >&2\nexit 1\n"
                       : "echo \"ran $(basename \"$2\")\" >&2\n"));
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
        return run(dir, launcher, environment, Path.of("").toAbsolutePath(), args);
    }

    private static Result run(Path dir, Path launcher, Map<String, String> environment, Path cwd, String... args)
            throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("sh", launcher.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
        builder.environment().remove("JAVA"); // the Java a test names, else the PATH's
        builder.environment().remove("JAVA_HOME");
        builder.environment().remove("JAVA_OPTS"); // the options a test gives, else none
        builder.environment().putAll(environment);
        Process process = builder.start();
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the launcher did not finish");
        return new Result(process.exitValue(), stderr);
    }

    /** A checkout at {@code dir/repo} holding the launcher and an empty replay-worker module; the launcher's path. */
    private static Path checkout(Path dir) throws IOException {
        Path root = Files.createDirectories(dir.resolve("repo"));
        Files.writeString(Files.createDirectories(root.resolve("replay-worker")).resolve("pom.xml"), "<project/>\n");
        return Files.copy(REPO.resolve("tapline"), root.resolve("tapline"));
    }

    /** Kills a launcher the test started, if it did, and what it started (its build, which a killed shell leaves running). */
    private static void kill(Process started) {
        if (started != null) {
            started.descendants().forEach(ProcessHandle::destroyForcibly);
            started.destroyForcibly();
        }
    }

    /** Nothing named like the build lock is in {@code root}: the lock given back, no leftover beside it. */
    private static void assertNothingNamedLikeTheLock(Path root, String why) throws IOException {
        try (var entries = Files.list(root)) {
            assertEquals(List.of(), entries.map(entry -> entry.getFileName().toString())
                    .filter(name -> name.startsWith(".tapline-build.lock")).toList(), why);
        }
    }

    /** The pid of a process that has ended: a launcher that is gone. */
    private static long endedPid() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        assertTrue(ended.waitFor(30, TimeUnit.SECONDS));
        return ended.pid();
    }
}
