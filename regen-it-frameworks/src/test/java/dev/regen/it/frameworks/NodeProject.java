package dev.regen.it.frameworks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One app under {@code fixtures/NAME}: {@code npm ci} only when its lock file changed since the last install
 * (a stamp holds the lock file's hash), a build only when a source is newer than the build, and processes
 * started on a port of the caller's choosing. Builds and installs stay in the fixture directory, outside
 * {@code target/}, so they outlive {@code mvn clean} and are reused by every later run.
 */
final class NodeProject {
    private static final Logger log = LoggerFactory.getLogger(NodeProject.class);
    private static final Path FIXTURES =
            Path.of(System.getProperty("regen.fixtures", "fixtures")).toAbsolutePath();
    private static final Path LOGS = Path.of("target", "fixture-logs").toAbsolutePath();
    private static final String INSTALL_STAMP = ".install-stamp";
    private static final String BUILD_STAMP = ".regen-build-stamp";
    /** Next.js 16 needs Node.js 20.9 or newer; the other fixtures need 20. */
    private static final int[] MIN_NODE = {20, 9};

    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);

    private final String name;
    private final Path dir;
    private final List<PathMatcher> generated = new ArrayList<>();

    /**
     * @param generated top-level names in the fixture directory that are made by the install or the build
     *                  (globs), never sources; {@code node_modules} and the stamps always are
     */
    NodeProject(String name, String... generated) {
        this.name = name;
        this.dir = FIXTURES.resolve(name);
        if (!Files.isRegularFile(dir.resolve("package-lock.json"))) {
            throw new IllegalStateException("no fixture app at " + dir + " (package-lock.json missing)");
        }
        for (String glob : List.of("node_modules", INSTALL_STAMP)) {
            this.generated.add(FileSystems.getDefault().getPathMatcher("glob:" + glob));
        }
        for (String glob : generated) {
            this.generated.add(FileSystems.getDefault().getPathMatcher("glob:" + glob));
        }
    }

    Path dir() {
        return dir;
    }

    /** Runs {@code npm ci} unless {@code node_modules} was installed from this very lock file. */
    synchronized void install() {
        requireNode();
        String want = sha256(dir.resolve("package-lock.json")) + " node " + nodeVersion()[0];
        Path stamp = dir.resolve(INSTALL_STAMP);
        if (Files.isDirectory(dir.resolve("node_modules")) && Files.exists(stamp) && want.equals(read(stamp))) {
            return;
        }
        long t0 = System.nanoTime();
        run(List.of("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"), Map.of(), INSTALL_TIMEOUT, "install");
        write(stamp, want);
        log.info("fixture {}: npm ci took {}", name, seconds(t0));
    }

    /**
     * Builds into {@code output} (a directory of the fixture) with {@code command}, unless the build there is
     * newer than every source file and than the install.
     */
    synchronized void build(String output, Map<String, String> env, String... command) {
        install();
        Path stamp = dir.resolve(output).resolve(BUILD_STAMP);
        FileTime built = Files.exists(stamp) ? mtime(stamp) : null;
        Path newer = built == null ? null : newestSource(built);
        if (built != null && newer == null) {
            return;
        }
        log.info(
                "fixture {}: building {} ({})",
                name,
                output,
                built == null ? "no build yet" : dir.relativize(newer) + " changed");
        long t0 = System.nanoTime();
        run(List.of(command), env, BUILD_TIMEOUT, "build-" + output.replaceAll("[^A-Za-z0-9]", ""));
        write(stamp, "built by regen-it-frameworks\n");
        log.info("fixture {}: build of {} took {}", name, output, seconds(t0));
    }

    /**
     * Starts {@code command} in the fixture directory with {@code PORT} and {@code HOST=127.0.0.1} set, and
     * waits until it answers HTTP on that port.
     */
    NodeProcess start(int port, Map<String, String> env, String... command) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("PORT", Integer.toString(port));
        pb.environment().put("HOST", "127.0.0.1");
        Path logFile = logFile("run-" + port);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        long t0 = System.nanoTime();
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", command) + " in " + dir, e);
        }
        NodeProcess running = new NodeProcess(name, process, port, logFile);
        try {
            running.awaitAnswering(Duration.ofSeconds(60));
        } catch (RuntimeException e) {
            running.close();
            throw e;
        }
        log.info("fixture {}: answering on http://127.0.0.1:{} after {}", name, port, seconds(t0));
        return running;
    }

    // ------------------------------------------------------------------------------------------ internals

    private void run(List<String> command, Map<String, String> env, Duration timeout, String what) {
        Path logFile = logFile(what);
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile());
        pb.environment().putAll(env);
        pb.environment().put("NEXT_TELEMETRY_DISABLED", "1");
        pb.environment().put("ASTRO_TELEMETRY_DISABLED", "1");
        try {
            Process p = pb.start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                NodeProcess.destroyTree(p.toHandle());
                throw new IllegalStateException("fixture " + name + ": " + String.join(" ", command) + " took over "
                        + timeout.toSeconds() + " s; see " + logFile);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("fixture " + name + ": " + String.join(" ", command) + " exited with "
                        + p.exitValue() + "; its output:\n" + NodeProcess.tail(logFile));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("fixture " + name + ": cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private Path logFile(String what) {
        try {
            Files.createDirectories(LOGS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return LOGS.resolve(name + "-" + what + ".log");
    }

    /** The first source file modified after {@code since}, or null when none is. */
    private Path newestSource(FileTime since) {
        try (Stream<Path> top = Files.list(dir)) {
            for (Path p : top.toList()) {
                if (generated.stream().anyMatch(m -> m.matches(p.getFileName()))) {
                    continue;
                }
                try (Stream<Path> files = Files.walk(p)) {
                    Path hit = files.filter(Files::isRegularFile)
                            .filter(f -> mtime(f).compareTo(since) > 0)
                            .findFirst()
                            .orElse(null);
                    if (hit != null) {
                        return hit;
                    }
                }
            }
            Path install = dir.resolve(INSTALL_STAMP);
            return mtime(install).compareTo(since) > 0 ? install : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void requireNode() {
        int[] v = nodeVersion();
        if (v[0] < MIN_NODE[0] || v[0] == MIN_NODE[0] && v[1] < MIN_NODE[1]) {
            throw new IllegalStateException("Node.js " + MIN_NODE[0] + "." + MIN_NODE[1] + " or newer is needed by the"
                    + " framework fixtures (Next.js 16), found " + v[0] + "." + v[1]);
        }
    }

    private static volatile int[] nodeVersion;

    private static int[] nodeVersion() {
        if (nodeVersion == null) {
            try {
                Process p = new ProcessBuilder("node", "--version")
                        .redirectErrorStream(true)
                        .start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                p.waitFor(10, TimeUnit.SECONDS);
                Matcher m = Pattern.compile("v(\\d+)\\.(\\d+)").matcher(out);
                if (!m.lookingAt()) {
                    throw new IllegalStateException("node --version printed " + out);
                }
                nodeVersion = new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
            } catch (IOException e) {
                throw new IllegalStateException(
                        "Node.js (node and npm on the PATH) is needed by the framework"
                                + " fixtures; ./test.sh says how to get it",
                        e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        return nodeVersion;
    }

    private static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static FileTime mtime(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path p, String s) {
        try {
            Files.createDirectories(p.getParent());
            Files.writeString(p, s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String seconds(long t0) {
        return String.format("%.1f s", (System.nanoTime() - t0) / 1e9);
    }
}
