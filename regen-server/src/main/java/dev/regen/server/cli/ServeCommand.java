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

@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the ISR proxy in front of an origin.")
final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger("regen");

    @Option(names = "--origin", paramLabel = "URL", description = "Origin to render pages, e.g. http://127.0.0.1:4321")
    String origin;

    @Option(names = "--port", paramLabel = "PORT", description = "Port to listen on (default 8080)")
    Integer port;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML config file")
    Path config;

    @Option(
            names = "--store",
            paramLabel = "STORE",
            description = "memory | embedded:DIR | redis://HOST:PORT (default embedded:./.regen)")
    String store;

    @Option(
            names = "--revalidate",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Default revalidate time: seconds, or like 5m, 1h (default 60)")
    Duration revalidate;

    @Option(
            names = "--strict-store",
            description = "Do not start while the store (Redis) is unreachable;"
                    + " by default Regen starts, serving from memory, and joins when it answers")
    boolean strictStore;

    @Override
    public Integer call() {
        CountDownLatch stop = Running.trapSignals();
        ServerConfig cfg = Running.load(
                config, new ConfigLoader.Overrides(origin, port, store, revalidate, strictStore ? Boolean.TRUE : null));
        RegenServer server = Running.start(cfg);
        log.info(
                "listening on http://{}:{} -> origin {} (store {}, revalidate {}), started in {} ms",
                cfg.listenHost(),
                server.port(),
                cfg.origin(),
                cfg.store(),
                Running.words(cfg.engine().revalidate()),
                java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime());
        if (!cfg.hasSecret()) {
            log.info(
                    "no secret set: the revalidation webhook, the admin API and the dashboard are off (they answer 503);"
                            + " set {} (or secret: in the config) to turn them on",
                    ConfigLoader.SECRET_ENV);
        }
        return Running.untilStopped(stop, server);
    }
}
