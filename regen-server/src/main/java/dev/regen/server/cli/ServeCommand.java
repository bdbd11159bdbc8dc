package dev.regen.server.cli;

import dev.regen.server.RegenServer;
import dev.regen.server.config.ConfigLoader;
import dev.regen.server.config.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the ISR proxy in front of an origin.")
final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger("regen");

    @Option(names = "--origin", paramLabel = "URL", description = "Origin to render pages, e.g. http://127.0.0.1:4321")
    String origin;

    @Option(names = "--port", paramLabel = "PORT", description = "Port to listen on (default 8080)")
    Integer port;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML config file")
    Path config;

    @Option(names = "--store", paramLabel = "STORE", description = "memory | embedded:DIR | redis://HOST:PORT (default embedded:./.regen)")
    String store;

    @Option(names = "--revalidate", paramLabel = "SECONDS", description = "Default revalidate time (default 60)")
    Long revalidate;

    @Override
    public Integer call() {
        CountDownLatch stop = Running.trapSignals();
        if (revalidate != null && revalidate <= 0) {
            throw new Main.UsageError("--revalidate must be positive: " + revalidate);
        }
        ServerConfig cfg = Running.load(config, new ConfigLoader.Overrides(origin, port, store,
                revalidate == null ? null : Duration.ofSeconds(revalidate)));
        RegenServer server = Running.start(cfg);
        log.info("listening on http://{}:{} -> origin {} (store {}, revalidate {} s), started in {} ms", cfg.listenHost(),
                server.port(), cfg.origin(), cfg.store(), cfg.engine().revalidate().toSeconds(),
                java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime());
        return Running.untilStopped(stop, server);
    }
}
