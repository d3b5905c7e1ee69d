package io.tapline.stack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Where the broker's jars and the registry's distribution are: both are recorded at build time
 * into resources next to this class ({@code kafka.classpath}, {@code stack-build.properties}).
 */
public final class StackDistribution {

    static final String CLASSPATH_RESOURCE = "kafka.classpath";
    static final String BUILD_RESOURCE = "stack-build.properties";

    private final List<Path> kafkaClasspath;
    private final Properties build;

    StackDistribution(List<Path> kafkaClasspath, Properties build) {
        this.kafkaClasspath = List.copyOf(kafkaClasspath);
        this.build = build;
    }

    /** Reads the resources written by the build of the deploy module. */
    public static StackDistribution fromBuild() {
        String classpath = readResource(CLASSPATH_RESOURCE).trim();
        Properties build = new Properties();
        try {
            build.load(new java.io.StringReader(readResource(BUILD_RESOURCE)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Path> jars = new ArrayList<>();
        for (String entry : classpath.split(":")) {
            if (!entry.isBlank()) {
                jars.add(Path.of(entry));
            }
        }
        return new StackDistribution(jars, build);
    }

    private static String readResource(String name) {
        try (InputStream in = StackDistribution.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new StackException("resource io/tapline/stack/" + name + " is missing: build the deploy module"
                        + " with Maven (mvn -pl deploy -am install -DskipTests)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String kafkaVersion() {
        return build.getProperty("kafka.version");
    }

    public String apicurioVersion() {
        return build.getProperty("apicurio.version");
    }

    /** The broker's classpath; fails naming the first jar that is gone from the local repository. */
    public String kafkaClasspath() {
        for (Path jar : kafkaClasspath) {
            if (!Files.isRegularFile(jar)) {
                throw new StackException("Kafka broker jar " + jar + " is missing; rebuild the deploy module"
                        + " (mvn -pl deploy -am install -DskipTests) so Maven downloads it again");
            }
        }
        return String.join(":", kafkaClasspath.stream().map(Path::toString).toList());
    }

    /**
     * The Apicurio runner jar. The build unpacks the distribution under deploy/target; when that
     * directory was cleaned, the tarball in the local Maven repository is unpacked into a cache
     * under the system temp directory instead.
     */
    public Path apicurioRunnerJar() {
        String runner = build.getProperty("apicurio.runner.jar");
        Path unpacked = Path.of(build.getProperty("apicurio.dir")).resolve(runner);
        if (Files.isRegularFile(unpacked)) {
            return unpacked;
        }
        Path cache = Path.of(System.getProperty("java.io.tmpdir"), "tapline-apicurio-" + apicurioVersion());
        Path cached = cache.resolve(runner);
        if (Files.isRegularFile(cached)) {
            return cached;
        }
        Path tarball = Path.of(build.getProperty("apicurio.tarball"));
        if (!Files.isRegularFile(tarball)) {
            throw new StackException("Apicurio Registry is not unpacked at " + unpacked + " and its tarball " + tarball
                    + " is missing; rebuild the deploy module (mvn -pl deploy -am install -DskipTests)");
        }
        unpack(tarball, cache);
        if (!Files.isRegularFile(cached)) {
            throw new StackException("unpacking " + tarball + " did not produce " + cached);
        }
        return cached;
    }

    private static void unpack(Path tarball, Path into) {
        try {
            Path partial = Files.createTempDirectory(into.getParent(), into.getFileName() + ".partial");
            Process tar = new ProcessBuilder("tar", "xzf", tarball.toString(), "-C", partial.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!tar.waitFor(5, TimeUnit.MINUTES) || tar.exitValue() != 0) {
                tar.destroyForcibly();
                throw new StackException("could not unpack " + tarball + " with tar into " + partial);
            }
            try {
                Files.move(partial, into, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                // Another JVM unpacked it first; its copy is as good as ours.
                StackFiles.deleteRecursively(partial);
            }
        } catch (IOException e) {
            throw new StackException("could not unpack " + tarball + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("interrupted while unpacking " + tarball, e);
        }
    }

    /** The java launcher of this JVM, used for the child JVMs. */
    public static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
