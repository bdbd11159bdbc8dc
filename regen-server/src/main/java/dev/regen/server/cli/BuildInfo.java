package dev.regen.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * What this build of Regen is: its version and the git commit it was built from, read from
 * {@code build.properties}, which the build writes ({@code regen-server/src/build/build-info.sh}).
 * A build outside a git checkout has no commit: {@code unknown}.
 *
 * @param version the Maven version, e.g. {@code 0.2.0} or {@code 0.2.0-SNAPSHOT}
 * @param commit  the abbreviated commit id, or {@code unknown}
 * @param dirty   whether the working tree had uncommitted changes when it was built
 */
record BuildInfo(String version, String commit, boolean dirty) {
    static final String UNKNOWN = "unknown";

    /** The running build's; {@code unknown} fields when the resource is missing. */
    static BuildInfo current() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read build.properties from the jar", e);
        }
        return of(p);
    }

    static BuildInfo of(Properties p) {
        return new BuildInfo(value(p, "version"), value(p, "commit"), "true".equals(p.getProperty("dirty")));
    }

    /** One line, e.g. {@code regen 0.2.0 (commit 1a2b3c4)} or {@code … (commit 1a2b3c4, modified)}. */
    String describe() {
        return "regen " + version + " (commit " + commit + (dirty ? ", modified" : "") + ")";
    }

    /** A value that is missing, empty or a placeholder left unexpanded ({@code ${...}}) is unknown. */
    private static String value(Properties p, String name) {
        String v = p.getProperty(name, "").strip();
        return v.isEmpty() || v.contains("${") ? UNKNOWN : v;
    }
}
