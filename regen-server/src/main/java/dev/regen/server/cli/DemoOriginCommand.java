package dev.regen.server.cli;

import dev.regen.server.demo.DemoSite;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The demo blog alone, as an origin in its own process or container (deploy/compose.yaml runs it
 * beside Regen and Redis); {@code regen demo} runs it in-process with a proxy instead.
 */
@Command(
        name = "demo-origin",
        mixinStandardHelpOptions = true,
        description = "Run only the demo blog: an origin to put 'regen serve' in front of.")
final class DemoOriginCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger("regen");

    @Option(
            names = "--host",
            description = "Address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 in a container)",
            defaultValue = "127.0.0.1")
    String host;

    @Option(names = "--port", description = "Port to listen on (default ${DEFAULT-VALUE})", defaultValue = "4321")
    int port;

    @Option(
            names = "--render-delay",
            paramLabel = "MS",
            description = "How long each page takes to render (default ${DEFAULT-VALUE})",
            defaultValue = "150")
    long renderDelayMs;

    @Option(
            names = "--public-url",
            paramLabel = "URL",
            description =
                    "Where visitors reach the blog through Regen: the base of the sitemap's URLs (default ${DEFAULT-VALUE})",
            defaultValue = DemoSite.DEFAULT_PUBLIC_BASE)
    String publicUrl;

    @Override
    public Integer call() {
        CountDownLatch stop = Running.trapSignals();
        if (port < 0 || port > 65535) {
            throw new Main.UsageError("--port must be 0..65535: " + port);
        }
        if (renderDelayMs < 0) {
            throw new Main.UsageError("--render-delay must not be negative: " + renderDelayMs);
        }
        if (!publicUrl.startsWith("http://") && !publicUrl.startsWith("https://")) {
            throw new Main.UsageError("--public-url must be an http:// or https:// URL: " + publicUrl);
        }
        DemoSite site = DemoSite.start(host, port, Duration.ofMillis(renderDelayMs));
        site.setPublicBase(publicUrl);
        log.info(
                "demo origin listening on http://{}:{} ({} ms per page, sitemap URLs under {})",
                host,
                site.port(),
                renderDelayMs,
                site.publicBase());
        return Running.untilStopped(stop, site);
    }
}
