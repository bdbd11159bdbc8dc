package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regen.RegenConfig;
import dev.regen.server.config.Front;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import dev.regen.testing.PrometheusText;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code /_regen/metrics} and {@code /_regen/health} over real sockets. */
class MetricsIT {
    private static final String SECRET = "metrics-it-secret-0123456789";
    private final FakeClock clock = new FakeClock();
    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();
    private TestOrigin origin;
    private RegenServer server;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        origin.on("/down", s -> TestOrigin.Response.html("oops").status(500));
        server = start(false);
    }

    private RegenServer start(boolean metricsPublic) throws InterruptedException {
        ServerConfig cfg = new ServerConfig(
                URI.create(origin.url()),
                "127.0.0.1",
                0,
                // no eager re-render after the revalidation: the render counts stay exact
                RegenConfig.builder()
                        .revalidate(Duration.ofSeconds(60))
                        .eagerWindow(Duration.ZERO)
                        .build(),
                SECRET,
                new StoreSpec.Memory(),
                64L << 20,
                Duration.ofSeconds(1),
                "/api/revalidate",
                metricsPublic,
                ServerConfig.AccessLog.OFF,
                null,
                Front.DEFAULTS);
        return RegenServer.start(cfg, new MemoryStore(64L << 20, clock), clock);
    }

    @AfterEach
    void stop() {
        server.close();
        origin.close();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private PrometheusText.Exposition scrape() throws Exception {
        HttpResponse<String> r = get("/_regen/metrics", "Authorization", "Bearer " + SECRET);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        return PrometheusText.parse(r.body());
    }

    @Test
    void metrics_parseAsPrometheusText_countersMoveWithRequests() throws Exception {
        PrometheusText.Exposition before = scrape();

        get("/a"); // MISS, render ok
        get("/a"); // HIT
        get("/a"); // HIT
        get("/down"); // MISS, render error (500)
        http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/a"))
                        .POST(HttpRequest.BodyPublishers.ofString("x"))
                        .build(),
                HttpResponse.BodyHandlers.discarding()); // BYPASS
        HttpResponse<String> purge = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/api/revalidate"))
                        .header("Authorization", "Bearer " + SECRET)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"paths\":[\"/a\"]}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(purge.statusCode()).isEqualTo(200);

        PrometheusText.Exposition after = scrape();

        assertThat(after.types())
                .containsEntry("regen_requests_total", "counter")
                .containsEntry("regen_render_duration_seconds", "histogram")
                .containsEntry("regen_store_operation_duration_seconds", "histogram")
                .containsEntry("regen_renders_in_flight", "gauge");
        assertThat(delta(before, after, "regen_requests_total", "status", "miss"))
                .isEqualTo(2);
        assertThat(delta(before, after, "regen_requests_total", "status", "hit"))
                .isEqualTo(2);
        assertThat(delta(before, after, "regen_requests_total", "status", "bypass"))
                .isEqualTo(1);
        assertThat(delta(before, after, "regen_render_duration_seconds_count", "outcome", "ok"))
                .isEqualTo(1);
        assertThat(delta(before, after, "regen_render_duration_seconds_count", "outcome", "error"))
                .isEqualTo(1);
        assertThat(after.value("regen_render_duration_seconds_sum", "outcome", "ok"))
                .isPositive();
        assertThat(delta(before, after, "regen_origin_errors_total", "kind", "error"))
                .isEqualTo(1);
        assertThat(delta(before, after, "regen_invalidations_total", "kind", "path"))
                .isEqualTo(1);
        assertThat(delta(before, after, "regen_invalidated_entries_total", "kind", "path"))
                .isEqualTo(1);
        assertThat(after.value("regen_memory_entries")).isEqualTo(1);
        assertThat(after.value("regen_memory_bytes")).isPositive();
        assertThat(after.value("regen_store_operation_duration_seconds_count", "op", "put", "result", "ok"))
                .isPositive();
        assertThat(after.value("regen_background_queue_depth")).isZero();
        assertThat(after.value("regen_renders_in_flight")).isZero();
    }

    private static double delta(
            PrometheusText.Exposition a, PrometheusText.Exposition b, String name, String... labels) {
        return b.value(name, labels) - a.value(name, labels);
    }

    @Test
    void metrics_needTheSecretUnlessPublic() throws Exception {
        assertThat(get("/_regen/metrics").statusCode()).isEqualTo(401);
        assertThat(get("/_regen/metrics", "Authorization", "Bearer wrong-secret-0123456789")
                        .statusCode())
                .isEqualTo(401);

        server.close();
        server = start(true);
        HttpResponse<String> open = get("/_regen/metrics");
        assertThat(open.statusCode()).isEqualTo(200);
        assertThat(PrometheusText.parse(open.body()).has("regen_requests_total"))
                .isTrue();
    }

    @Test
    void health_publicReportsStoreAndOriginReachable() throws Exception {
        JsonNode h = null;
        for (int i = 0; i < 100; i++) {
            HttpResponse<String> r = get("/_regen/health");
            assertThat(r.statusCode()).isEqualTo(200);
            h = json.readTree(r.body());
            if (h.get("origin").get("status").asText().equals("up")
                    && h.get("store").get("status").asText().equals("up")) {
                break;
            }
            Thread.sleep(50);
        }
        assertThat(h.get("status").asText()).isEqualTo("ok");
        assertThat(h.get("origin").get("status").asText()).isEqualTo("up");
        assertThat(h.get("origin").get("detail").asText()).startsWith("accepts connections on 127.0.0.1:");
        assertThat(h.get("store").get("status").asText()).isEqualTo("up");
        assertThat(h.get("origin").has("latencyMs")).isTrue();
    }
}
