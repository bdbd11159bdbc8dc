package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.RegenConfig;
import dev.regen.server.config.Front;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import dev.regen.testing.LogCapture;
import dev.regen.testing.PrometheusText;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Wrong secrets over real sockets, from two client addresses on loopback: 127.0.0.1 guesses, 127.0.0.2
 * is the admin with the right secret.
 */
class AuthIT {
    private static final String SECRET = "auth-it-secret-0123456789abcdef";
    private static final String ATTACKER = "127.0.0.1";
    private static final String ADMIN = "127.0.0.2";

    private final FakeClock clock = new FakeClock();
    private LogCapture throttleLog;
    private TestOrigin origin;
    private RegenServer server;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        ServerConfig cfg = new ServerConfig(
                URI.create(origin.url()),
                "127.0.0.1",
                0,
                RegenConfig.builder().revalidate(Duration.ofSeconds(60)).build(),
                SECRET,
                new StoreSpec.Memory(),
                16L << 20,
                Duration.ofSeconds(1),
                "/api/revalidate",
                false,
                ServerConfig.AccessLog.OFF,
                null,
                Front.DEFAULTS);
        server = RegenServer.start(cfg, new MemoryStore(16L << 20, clock), clock);
        throttleLog = new LogCapture("dev.regen.admin.AuthThrottle");
    }

    @AfterEach
    void stop() {
        throttleLog.close();
        server.close();
        origin.close();
    }

    private List<String> throttleLines() {
        return throttleLog.all();
    }

    @Test
    void tenThousandWrongBearerGuessesFromOneAddress_rightSecretFromAnotherStillWorks_aFewLogLines() throws Exception {
        AtomicBoolean attacking = new AtomicBoolean(true);
        CompletableFuture<int[]> attack = CompletableFuture.supplyAsync(() -> {
            int[] byStatus = new int[600];
            try (RawHttp guesser = new RawHttp(ATTACKER, server.port())) {
                for (int i = 0; i < 10_000; i++) {
                    byStatus[
                            guesser.get("/_regen/api/stats", "Authorization", "Bearer guess-" + i)
                                    .status()]++;
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                attacking.set(false);
            }
            return byStatus;
        });

        List<Integer> admin = new ArrayList<>();
        try (RawHttp real = new RawHttp(ADMIN, server.port())) {
            do {
                admin.add(real.get("/_regen/api/stats", "Authorization", "Bearer " + SECRET)
                        .status());
                admin.add(real.get("/_regen/metrics", "Authorization", "Bearer " + SECRET)
                        .status());
                Thread.sleep(5);
            } while (attacking.get());
            int[] byStatus = attack.get(120, TimeUnit.SECONDS);

            assertThat(byStatus[401] + byStatus[429]).isEqualTo(10_000);
            assertThat(byStatus[401]).as("wrong secrets actually compared").isBetween(6, 20);
            assertThat(admin)
                    .as("the admin's requests during the attack")
                    .isNotEmpty()
                    .containsOnly(200);
            assertThat(real.get("/_regen/api/stats", "Authorization", "Bearer " + SECRET)
                            .status())
                    .isEqualTo(200);

            PrometheusText.Exposition metrics =
                    PrometheusText.parse(real.get("/_regen/metrics", "Authorization", "Bearer " + SECRET)
                            .text());
            assertThat(metrics.value("regen_auth_failures_total", "endpoint", "api"))
                    .isEqualTo(byStatus[401]);
            assertThat(metrics.value("regen_auth_throttled_total", "endpoint", "api"))
                    .isEqualTo(byStatus[429]);
        }
        assertThat(throttleLines())
                .as("log lines for 10,000 guesses")
                .hasSizeBetween(2, 3)
                .allMatch(l -> l.contains(ATTACKER) && l.contains("admin API"));
    }

    @Test
    void dashboardLogin_thirtyWrongFromOneAddress_adminSignsInFromAnother_guesserGets429WithRetryAfter()
            throws Exception {
        try (RawHttp guesser = new RawHttp(ATTACKER, server.port());
                RawHttp real = new RawHttp(ADMIN, server.port())) {
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                statuses.add(login(guesser, "wrong-secret-" + i).status());
            }
            assertThat(statuses).startsWith(401, 401, 401, 401, 401, 401).contains(429);

            RawHttp.Reply throttled = login(guesser, SECRET);
            assertThat(throttled.status()).isEqualTo(429);
            assertThat(Long.parseLong(throttled.headers().get("retry-after"))).isPositive();
            assertThat(throttled.text()).contains("Too many wrong secrets from your address");

            RawHttp.Reply admin = login(real, SECRET);
            assertThat(admin.status()).isEqualTo(303);
            assertThat(admin.headers().get("set-cookie")).startsWith("regen_session=");
        }
    }

    private static RawHttp.Reply login(RawHttp c, String secret) throws Exception {
        byte[] form = ("secret=" + secret).getBytes(StandardCharsets.US_ASCII);
        String head =
                "POST /_regen/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        + "Content-Length: " + form.length + "\r\n\r\n";
        byte[] request = new byte[head.length() + form.length];
        System.arraycopy(head.getBytes(StandardCharsets.US_ASCII), 0, request, 0, head.length());
        System.arraycopy(form, 0, request, head.length(), form.length);
        return c.send(request);
    }
}
