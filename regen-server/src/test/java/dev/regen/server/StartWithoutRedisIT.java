package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regen.RegenConfig;
import dev.regen.server.config.Front;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.StoreException;
import dev.regen.store.redis.RedisStore;
import dev.regen.testing.LogCapture;
import dev.regen.testing.Ports;
import dev.regen.testing.RedisServerFixture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code serve} with Redis unreachable at start: it serves from memory and renders locally, is ready
 * for a load balancer, and joins when Redis appears, with one log line each way. With the store
 * required at start ({@code --strict-store}) it does not start.
 */
@Timeout(60)
class StartWithoutRedisIT {
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();
    private TestOrigin origin;
    private RegenServer server;
    private RedisServerFixture redis;
    private int redisPort;

    @BeforeEach
    void start() throws IOException {
        origin = new TestOrigin();
        origin.on("/p/a", s -> TestOrigin.Response.html("a"));
        origin.on("/p/b", s -> TestOrigin.Response.html("b"));
        redisPort = Ports.freePort(); // nothing listens there until the test starts Redis
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (redis != null) {
            redis.close();
        }
        origin.close();
    }

    private ServerConfig config(StoreSpec store) {
        return new ServerConfig(
                URI.create(origin.url()),
                "127.0.0.1",
                0,
                RegenConfig.builder().revalidate(Duration.ofHours(1)).build(),
                null,
                store,
                64L << 20,
                Duration.ofSeconds(1),
                "/api/revalidate",
                false,
                ServerConfig.AccessLog.OFF,
                null,
                Front.DEFAULTS);
    }

    private StoreSpec.Redis redisSpec() {
        return new StoreSpec.Redis(URI.create("redis://127.0.0.1:" + redisPort + "?timeout=500ms"));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void serve_redisUnreachableAtStart_servesFromMemoryAndJoinsWhenItAppears() throws Exception {
        try (LogCapture logs = new LogCapture(RedisStore.class)) {
            server = RegenServer.start(config(redisSpec()));

            assertThat(get("/p/a").headers().firstValue("x-cache-status")).hasValue("MISS");
            assertThat(get("/p/a").headers().firstValue("x-cache-status")).hasValue("HIT");
            assertThat(get("/_regen/health/live").statusCode()).isEqualTo(200);
            assertThat(get("/_regen/health/ready").statusCode()).isEqualTo(200);
            HttpResponse<String> health = get("/_regen/health");
            assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
            JsonNode store = json.readTree(health.body()).get("store");
            assertThat(store.get("status").asText()).isEqualTo("down");
            assertThat(store.get("detail").asText()).contains("connection refused");

            redis = RedisServerFixture.start(redisPort, List.of());
            awaitTrue(() -> json.readTree(get("/_regen/health").body())
                    .get("store")
                    .get("status")
                    .asText()
                    .equals("up"));
            assertThat(get("/p/b").headers().firstValue("x-cache-status")).hasValue("MISS");
            awaitTrue(() -> "1".equals(redis.call("EXISTS", "regen:k:page:/p/b @127.0.0.1:" + server.port())));

            assertThat(logs.lines("is unreachable at start (connection refused)"))
                    .hasSize(1);
            assertThat(logs.lines("answers: pages are stored there")).hasSize(1);
        }
    }

    @Test
    void serve_storeRequiredAtStart_refusesToStartWithOneClearReason() {
        assertThatThrownBy(() -> RegenServer.start(config(redisSpec().requiredAtStart())))
                .isInstanceOf(StoreException.class)
                .hasMessage("cannot connect to redis://127.0.0.1:" + redisPort + ": connection refused");
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(Check check) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s");
            }
            Thread.sleep(50); // waits for the store's background connection, not for time to pass
        }
    }
}
