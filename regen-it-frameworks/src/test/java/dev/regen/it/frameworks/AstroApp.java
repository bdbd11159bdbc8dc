package dev.regen.it.frameworks;

import dev.regen.testing.Ports;
import java.util.Map;

/** The Astro 5 SSR fixture ({@code @astrojs/node}, standalone), one per test run ({@link FrameworkApps}). */
final class AstroApp implements AutoCloseable {
    private static final NodeProject PROJECT = new NodeProject("astro", "dist", ".astro");

    private final NodeProcess process;

    private AstroApp(NodeProcess process) {
        this.process = process;
    }

    static AstroApp start() {
        PROJECT.build("dist", Map.of(), "node", "node_modules/astro/astro.js", "build");
        return new AstroApp(PROJECT.start(Ports.freePort(), Map.of(), "node", "dist/server/entry.mjs"));
    }

    String url() {
        return process.url();
    }

    @Override
    public void close() {
        process.close();
    }
}
