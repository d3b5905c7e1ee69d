package io.tapline.demo;

import io.tapline.text.ShownText;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the demo finds the component jars and keeps its files.
 *
 * @param root     the repository root (the jars are under {@code <module>/target/<module>.jar})
 * @param workDir  logs, reports, stack data (default {@code .tapline/demo}, git-ignored)
 * @param requests how many requests to drive through the sidecar
 */
record DemoSettings(Path root, Path workDir, int requests) {

    Path jar(String module) {
        Path jar = root.resolve(module).resolve("target").resolve(module + ".jar");
        if (!Files.isRegularFile(jar)) {
            throw new DemoException(ShownText.oneLine(jar.toString())
                    + " is missing: build with ./tapline demo (or mvn -DskipTests package)");
        }
        return jar;
    }
}
