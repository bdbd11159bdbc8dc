package dev.regen.server.cli;

import dev.regen.server.RegenServer;
import dev.regen.server.config.ConfigLoader;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.demo.DemoSite;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * A short run through start-up, a miss, a hit and shutdown, on loopback only. The launcher runs it
 * once after each build with {@code -XX:ArchiveClassesAtExit} so later starts load their classes
 * from a class-data-sharing archive instead of parsing them again.
 */
@Command(
        name = "train",
        hidden = true,
        description = "Exercise start-up once (used by ./regen to build a CDS archive).")
final class TrainCommand implements Callable<Integer> {

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("regen-train");
        DemoSite site = DemoSite.start("127.0.0.1", 0, Duration.ZERO);
        try {
            ServerConfig cfg = Running.load(
                    null,
                    new ConfigLoader.Overrides("http://127.0.0.1:" + site.port(), 0, "embedded:" + dir, null),
                    Map.of("REGEN_SECRET", "train-only-secret-0000"));
            cfg = new ServerConfig(
                    cfg.origin(),
                    "127.0.0.1",
                    0,
                    cfg.engine(),
                    cfg.secret(),
                    cfg.store(),
                    cfg.memoryBytes(),
                    cfg.connectTimeout(),
                    cfg.webhookPath(),
                    cfg.metricsPublic(),
                    cfg.accessLog(),
                    cfg.accessLogFile(),
                    cfg.front());
            try (RegenServer server = Running.start(cfg)) {
                HttpClient client = HttpClient.newHttpClient();
                String base = "http://127.0.0.1:" + server.port();
                for (String path : new String[] {"/", "/", "/posts/1", "/_regen/health"}) {
                    client.send(
                            HttpRequest.newBuilder(URI.create(base + path))
                                    .header("Accept-Encoding", "gzip")
                                    .build(),
                            HttpResponse.BodyHandlers.discarding());
                }
            }
        } finally {
            site.close();
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder())
                        .forEach(p -> p.toFile().delete());
            }
        }
        return 0;
    }
}
