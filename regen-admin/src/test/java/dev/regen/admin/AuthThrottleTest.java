package dev.regen.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.testing.FakeClock;
import dev.regen.testing.LogCapture;
import dev.regen.testing.PrometheusText;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AuthThrottleTest {
    private static final String A = "198.51.100.7";
    private static final String B = "198.51.100.8";
    private final FakeClock clock = new FakeClock();
    private final RegenMetrics metrics = new RegenMetrics(clock);
    private final AuthThrottle throttle = new AuthThrottle(clock, metrics);
    private final LogCapture logs = new LogCapture(AuthThrottle.class);

    @AfterEach
    void releaseLogs() {
        logs.close();
    }

    private List<String> lines() {
        return logs.all();
    }

    private void wrong(String client, int times) {
        for (int i = 0; i < times; i++) {
            assertThat(throttle.refusal(client, AuthThrottle.Door.API))
                    .as("attempt %d", i + 1)
                    .isZero();
            throttle.wrongSecret(client, AuthThrottle.Door.API);
        }
    }

    @Test
    void wrongSecret_freeTriesThenShutOut_otherClientsUntouched() {
        wrong(A, AuthThrottle.FREE_FAILURES);
        assertThat(throttle.refusal(A, AuthThrottle.Door.API)).isZero();

        throttle.wrongSecret(A, AuthThrottle.Door.API);

        assertThat(throttle.refusal(A, AuthThrottle.Door.API)).isEqualTo(1);
        assertThat(throttle.refusal(B, AuthThrottle.Door.API)).isZero();
        clock.advance(Duration.ofMillis(999));
        assertThat(throttle.refusal(A, AuthThrottle.Door.LOGIN)).isEqualTo(1);
        clock.advance(Duration.ofMillis(1));
        assertThat(throttle.refusal(A, AuthThrottle.Door.API)).isZero();
    }

    @Test
    void wrongSecret_eachOnePastTheFreeTries_doublesTheWait_upToTheCap() {
        wrong(A, AuthThrottle.FREE_FAILURES);
        long[] expected = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600};
        for (long seconds : expected) {
            throttle.wrongSecret(A, AuthThrottle.Door.WEBHOOK);
            assertThat(throttle.refusal(A, AuthThrottle.Door.WEBHOOK)).isEqualTo(seconds);
            clock.advance(Duration.ofSeconds(seconds));
        }
        assertThat(AuthThrottle.block(100)).isEqualTo(AuthThrottle.MAX_BLOCK);
    }

    @Test
    void rightSecret_forgetsTheFailures() {
        wrong(A, AuthThrottle.FREE_FAILURES);
        throttle.rightSecret(A);

        wrong(A, AuthThrottle.FREE_FAILURES);

        assertThat(throttle.refusal(A, AuthThrottle.Door.API)).isZero();
    }

    @Test
    void quietClient_forgottenAfterAWhile() {
        wrong(A, AuthThrottle.FREE_FAILURES);
        clock.advance(AuthThrottle.FORGET_AFTER);

        wrong(A, AuthThrottle.FREE_FAILURES);

        assertThat(throttle.refusal(A, AuthThrottle.Door.API)).isZero();
        assertThat(throttle.size()).isEqualTo(1);
    }

    @Test
    void manyClients_memoryBounded() {
        for (int i = 0; i < AuthThrottle.MAX_CLIENTS + 20_000; i++) {
            throttle.wrongSecret("10." + (i >> 16) + "." + ((i >> 8) & 0xff) + "." + (i & 0xff), AuthThrottle.Door.API);
        }

        assertThat(throttle.size()).isLessThanOrEqualTo(AuthThrottle.MAX_CLIENTS);
    }

    @Test
    void key_ipv6ByItsSlash64_ipv4AsIs() {
        assertThat(AuthThrottle.key("2001:db8:1:2::1"))
                .isEqualTo(AuthThrottle.key("2001:db8:1:2:ffff::9"))
                .isEqualTo("2001:db8:1:2::/64");
        assertThat(AuthThrottle.key("2001:db8:1:3::1")).isNotEqualTo(AuthThrottle.key("2001:db8:1:2::1"));
        assertThat(AuthThrottle.key("::ffff:192.0.2.1")).isEqualTo("192.0.2.1");
        assertThat(AuthThrottle.key("192.0.2.1")).isEqualTo("192.0.2.1");
        assertThat(AuthThrottle.key(null)).isEqualTo(AuthThrottle.key("")).isEqualTo("unknown");
        assertThat(AuthThrottle.key("a-host-name")).isEqualTo("a-host-name");
    }

    @Test
    void tenThousandGuesses_twoLines_thenOneAMinute() {
        for (int i = 0; i < 10_000; i++) {
            if (throttle.refusal(A, AuthThrottle.Door.WEBHOOK) == 0) {
                throttle.wrongSecret(A, AuthThrottle.Door.WEBHOOK);
            }
        }
        assertThat(lines()).hasSize(2);
        assertThat(lines().get(0)).isEqualTo("wrong secret from " + A + " (webhook)");
        assertThat(lines().get(1))
                .isEqualTo("shutting out " + A + " (webhook) after 6 wrong secrets in a row: "
                        + "429 for 1 s, twice as long after each further wrong secret");

        clock.advance(Duration.ofSeconds(1));
        throttle.wrongSecret(A, AuthThrottle.Door.WEBHOOK);
        for (int i = 0; i < 500; i++) {
            throttle.refusal(A, AuthThrottle.Door.WEBHOOK);
        }
        assertThat(lines()).hasSize(2);

        clock.advance(Duration.ofSeconds(60));
        throttle.wrongSecret(A, AuthThrottle.Door.WEBHOOK);
        assertThat(lines()).hasSize(3);
        assertThat(lines().get(2))
                .isEqualTo("still shutting out " + A + " (webhook): 2 wrong secrets and 10494 "
                        + "attempts refused with 429 in the last 61 s; it may try again in 4 s");
    }

    @Test
    void metrics_countWrongSecretsAndRefusals() {
        wrong(A, AuthThrottle.FREE_FAILURES + 1);
        throttle.refusal(A, AuthThrottle.Door.LOGIN);
        throttle.refusal(A, AuthThrottle.Door.LOGIN);

        PrometheusText.Exposition scrape = PrometheusText.parse(metrics.scrape());
        assertThat(scrape.value("regen_auth_failures_total", "endpoint", "api")).isEqualTo(6.0);
        assertThat(scrape.value("regen_auth_throttled_total", "endpoint", "login"))
                .isEqualTo(2.0);
        assertThat(scrape.value("regen_auth_failures_total", "endpoint", "webhook"))
                .isZero();
    }
}
