package dev.regen.it.frameworks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regen.server.RegenServer;
import dev.regen.server.config.ConfigLoader;
import dev.regen.server.config.ServerConfig;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Regen in front of an app, in this JVM, as {@code regen serve --config FILE --origin APP --port 0 --store
 * memory} would start it, from one of this module's config files ({@code src/test/resources/regen-*.yaml}),
 * with a {@link FakeClock} so tests move time instead of sleeping.
 */
final class RegenFront implements AutoCloseable {
    static final String SECRET = "framework-it-secret-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger log = LoggerFactory.getLogger(RegenFront.class);

    private final FakeClock clock = new FakeClock(Instant.now());
    private final RegenServer server;

    private RegenFront(String configResource, String origin) {
        ServerConfig config = ConfigLoader.load(
                resource(configResource),
                new ConfigLoader.Overrides(origin, 0, "memory", null),
                Map.of(ConfigLoader.SECRET_ENV, SECRET));
        try {
            server = RegenServer.start(config, new MemoryStore(config.memoryBytes(), clock), clock);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Starts Regen with {@code src/test/resources/CONFIG} in front of {@code origin}. */
    static RegenFront start(String configResource, String origin) {
        return new RegenFront(configResource, origin);
    }

    /** {@code http://127.0.0.1:PORT}, no trailing slash: the public address browsers use. */
    String url() {
        return "http://127.0.0.1:" + server.port();
    }

    FakeClock clock() {
        return clock;
    }

    /** Every cached entry whose path starts with {@code prefix}, from {@code GET /_regen/api/entries}. */
    List<JsonNode> entries(String prefix) {
        List<JsonNode> all = new ArrayList<>();
        String cursor = null;
        do {
            String query =
                    "prefix=" + encode(prefix) + "&limit=500" + (cursor == null ? "" : "&cursor=" + encode(cursor));
            JsonNode page = admin("/_regen/api/entries?" + query);
            page.path("entries").forEach(all::add);
            cursor = page.path("cursor").isTextual() ? page.path("cursor").asText() : null;
        } while (cursor != null);
        return all;
    }

    /** Waits until no render runs or waits in the background queue ({@code GET /_regen/api/stats}). */
    void awaitIdle() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int quiet = 0;
        while (quiet < 3) {
            JsonNode stats = admin("/_regen/api/stats");
            quiet = stats.path("rendersInFlight").asInt() == 0
                            && stats.path("backgroundQueueDepth").asInt() == 0
                    ? quiet + 1
                    : 0;
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Regen still rendering after 30 s: " + stats);
            }
            Pause.millis(50);
        }
    }

    /**
     * The documented deploy command, {@code regen revalidate --url URL --path '/**'} (a soft revalidation of
     * every page), run as its own process from this module's class path; returns its exit code.
     */
    int deployCommand() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(
                        java.toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        "dev.regen.server.cli.Main",
                        "revalidate",
                        "--url",
                        url(),
                        "--path",
                        "/**")
                .redirectErrorStream(true);
        pb.environment().put(ConfigLoader.SECRET_ENV, SECRET);
        try {
            Process p = pb.start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("regen revalidate took over 60 s");
            }
            log.info("regen revalidate --path '/**' exited {}: {}", p.exitValue(), output);
            return p.exitValue();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private JsonNode admin(String pathAndQuery) {
        HttpResponse<String> r = Http.get(url() + pathAndQuery, "Authorization", "Bearer " + SECRET);
        if (r.statusCode() != 200) {
            throw new AssertionError("GET " + pathAndQuery + " answered " + r.statusCode() + ": " + r.body());
        }
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path resource(String name) {
        try {
            var url = RegenFront.class.getResource("/" + name);
            if (url == null) {
                throw new IllegalArgumentException("no test resource " + name);
            }
            Path p = Path.of(url.toURI());
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException(name + " is not a file: " + p);
            }
            return p;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        server.close();
    }
}
