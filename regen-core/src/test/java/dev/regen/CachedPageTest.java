package dev.regen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.internal.CachedPage;
import dev.regen.internal.Freshness;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CachedPageTest {
    private static final Instant RENDERED = Instant.parse("2026-01-01T00:00:00Z");

    @ParameterizedTest(name = "age {0}s, revalidate {1}s, window {2}, invalidated {3} -> {4}")
    @CsvSource({
        "0,    60, -1, false, FRESH",
        "59,   60, -1, false, FRESH",
        "60,   60, -1, false, STALE",
        "86400,60, -1, false, STALE",
        "60,   60, 30, false, STALE",
        "89,   60, 30, false, STALE",
        "90,   60, 30, false, EXPIRED",
        "0,    60, -1, true,  STALE",
        "100,  60, 30, true,  EXPIRED",
    })
    void freshness_table(long ageSeconds, long revalidate, long window, boolean invalidated, Freshness expected) {
        CachedPage page = new CachedPage(
                200,
                List.of(),
                new byte[0],
                "\"e\"",
                RENDERED,
                Duration.ofSeconds(revalidate),
                window < 0 ? null : Duration.ofSeconds(window),
                Set.of(),
                invalidated,
                dev.regen.internal.Replay.of("/"),
                false,
                false);
        assertThat(page.freshness(RENDERED.plusSeconds(ageSeconds))).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"0, 60", "59, 1", "60, 0", "120, 0"})
    void ttlSeconds_countsDownToZero(long age, long ttl) {
        CachedPage page = new CachedPage(
                200,
                List.of(),
                new byte[0],
                "\"e\"",
                RENDERED,
                Duration.ofSeconds(60),
                null,
                Set.of(),
                false,
                dev.regen.internal.Replay.of("/"),
                false,
                false);
        assertThat(page.ttlSeconds(RENDERED.plusSeconds(age))).isEqualTo(ttl);
        assertThat(page.ageSeconds(RENDERED.plusSeconds(age))).isEqualTo(age);
    }
}
