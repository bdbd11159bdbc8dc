package dev.regen.it.frameworks;

import java.util.Map;

/**
 * The Next.js 16 App Router fixture. Each version is built into its own directory ({@code .next-v1},
 * {@code .next-v2}) with its version baked in (build ID, page text, a client chunk), so a test can stop v1
 * and start v2 on the same port, as a redeploy does. {@link FrameworkApps} shares one v1 server per test
 * run; the redeploy test runs its own.
 */
final class NextApp implements AutoCloseable {
    static final String V1 = "v1";
    static final String V2 = "v2";
    private static final NodeProject PROJECT = new NodeProject("next", ".next*", "next-env.d.ts");
    private static final String NEXT = "node_modules/next/dist/bin/next";

    private final String version;
    private final NodeProcess process;

    private NextApp(String version, NodeProcess process) {
        this.version = version;
        this.process = process;
    }

    /** Builds this version unless its build is newer than the sources. */
    static void build(String version) {
        PROJECT.build(
                distDir(version),
                Map.of("BUILD_VERSION", version, "NEXT_DIST_DIR", distDir(version)),
                "node",
                NEXT,
                "build");
    }

    /** Builds (if needed) and starts this version on this port. */
    static NextApp start(String version, int port) {
        build(version);
        return new NextApp(
                version,
                PROJECT.start(
                        port,
                        Map.of("NEXT_DIST_DIR", distDir(version), "NEXT_TELEMETRY_DISABLED", "1"),
                        "node",
                        NEXT,
                        "start",
                        "-H",
                        "127.0.0.1",
                        "-p",
                        Integer.toString(port)));
    }

    private static String distDir(String version) {
        return ".next-" + version;
    }

    String version() {
        return version;
    }

    int port() {
        return process.port();
    }

    String url() {
        return process.url();
    }

    @Override
    public void close() {
        process.close();
    }
}
