package dev.regen.it.frameworks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regen.testing.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The Express 5 fixture ({@code fixtures/express/server.js}), one per test run ({@link FrameworkApps}). It
 * counts every request by path, so tests can tell what reached it.
 */
final class ExpressApp implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final NodeProject PROJECT = new NodeProject("express");

    private final NodeProcess process;

    private ExpressApp(NodeProcess process) {
        this.process = process;
    }

    static ExpressApp start() {
        PROJECT.install();
        return new ExpressApp(PROJECT.start(Ports.freePort(), Map.of(), "node", "server.js"));
    }

    String url() {
        return process.url();
    }

    /** How many requests for {@code path} reached the app since the last {@link #resetHits()}. */
    int hits(String path) {
        String body = Http.get(url() + "/__hits?path=" + URLEncoder.encode(path, StandardCharsets.UTF_8))
                .body();
        try {
            return JSON.readTree(body).path("hits").asInt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void resetHits() {
        Http.send(Http.request(url() + "/__reset")
                .POST(HttpRequest.BodyPublishers.noBody())
                .build());
    }

    @Override
    public void close() {
        process.close();
    }
}
