package dev.regen.server.cli;

import dev.regen.server.RegenServer;
import dev.regen.server.config.ConfigLoader;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.server.demo.DemoSite;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "Start a demo blog and Regen in front of it, on the embedded store.")
final class DemoCommand implements Callable<Integer> {

    @Option(
            names = "--port",
            paramLabel = "PORT",
            description = "Port of the proxy (default ${DEFAULT-VALUE})",
            defaultValue = "8080")
    int port;

    @Option(
            names = "--origin-port",
            paramLabel = "PORT",
            description = "Port of the demo origin (default ${DEFAULT-VALUE})",
            defaultValue = "4321")
    int originPort;

    @Option(
            names = "--store",
            paramLabel = "STORE",
            description = "Store (default ${DEFAULT-VALUE})",
            defaultValue = "embedded:./.regen/demo")
    String store;

    @Option(
            names = "--revalidate",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Revalidate time: seconds, or like 5m (default ${DEFAULT-VALUE})",
            defaultValue = "10")
    Duration revalidate;

    @Option(
            names = "--render-delay",
            paramLabel = "MS",
            description = "How long the demo origin takes per page, ms (default ${DEFAULT-VALUE})",
            defaultValue = "150")
    long renderDelayMs;

    private ConfigLoader.Overrides overrides(int originPort) {
        return new ConfigLoader.Overrides("http://127.0.0.1:" + originPort, port, store, revalidate);
    }

    @Override
    public Integer call() {
        CountDownLatch stop = Running.trapSignals();
        // the demo shows on-demand revalidation too: without a secret of the user's, make one for this run
        java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
        boolean generated = env.get(ConfigLoader.SECRET_ENV) == null
                || env.get(ConfigLoader.SECRET_ENV).isBlank();
        if (generated) {
            byte[] random = new byte[16];
            new java.security.SecureRandom().nextBytes(random);
            env.put(ConfigLoader.SECRET_ENV, java.util.HexFormat.of().formatHex(random));
        }
        // checked before anything starts; loaded again below if the origin's port was left to the system
        ServerConfig cfg = Running.load(null, overrides(originPort), env);
        // render counts beside an embedded store: a page that survived a restart in the store goes on
        // counting from where it was ("Render #1" on a page rendered five times before would confuse)
        Path counts = cfg.store() instanceof StoreSpec.Embedded e ? e.dir().resolve(DemoSite.COUNTS_FILE) : null;
        DemoSite site;
        try {
            site = DemoSite.start("127.0.0.1", originPort, Duration.ofMillis(renderDelayMs), counts);
        } catch (RuntimeException e) {
            throw new IllegalStateException("could not start the demo origin on port " + originPort + ": "
                    + e.getMessage() + " (try --origin-port)");
        }
        site.setPublicBase("http://localhost:" + port);
        if (site.port() != originPort) {
            cfg = Running.load(null, overrides(site.port()), env);
        }
        RegenServer server;
        try {
            server = Running.start(cfg);
        } catch (RuntimeException e) {
            site.close();
            throw e;
        }
        PrintStream out = System.out;
        String proxy = "http://localhost:" + server.port();
        out.println();
        out.println("  Regen demo is running.");
        out.println();
        out.println("  Open    " + proxy + "/                 the blog, through Regen");
        out.println("  Origin  http://127.0.0.1:" + site.port()
                + "/            the same blog, rendered on every request (" + renderDelayMs + " ms)");
        out.println();
        out.println("  Watch the X-Cache-Status header and the \"Render #\" on each page:");
        out.println(
                "    curl -s -o /dev/null -D - " + proxy + "/posts/1 | grep -iE '^(x-cache-status|age|cache-status)'");
        out.println("  1st request: MISS (rendered, ~" + renderDelayMs + " ms). Then HIT, instant.");
        out.println(
                "  After " + Running.words(revalidate) + ": STALE, still instant, and exactly one background render;");
        out.println("  the next request is a HIT with a higher Render #.");
        out.println("  Render counts per page: http://127.0.0.1:" + site.port() + "/__renders");
        out.println();
        out.println("  Refresh a page now instead of waiting (on-demand revalidation):");
        out.println("    REGEN_SECRET=" + (generated ? cfg.secret() : "$REGEN_SECRET") + " ./regen revalidate --url "
                + proxy + " --path /posts/1");
        out.println("    REGEN_SECRET=" + (generated ? cfg.secret() : "$REGEN_SECRET") + " ./regen revalidate --url "
                + proxy + " --tag posts --hard");
        if (generated) {
            out.println("  (a secret made for this run; set REGEN_SECRET to choose your own)");
        }
        out.println();
        out.println("  Dashboard (sign in with that secret): " + proxy + "/_regen/");
        out.println(
                "  Pre-render every page from the sitemap: ./regen warm --url " + proxy + " --sitemap /sitemap.xml");
        out.println();
        out.println("  Pages " + (cfg.store() instanceof StoreSpec.Embedded ? "and render counts " : "")
                + "are kept in " + cfg.store() + " and survive a restart. Stop with Ctrl-C.");
        out.println();
        return Running.untilStopped(stop, server, site);
    }
}
