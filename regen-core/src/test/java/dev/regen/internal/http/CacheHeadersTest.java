package dev.regen.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.CacheStatus;
import dev.regen.internal.CachedPage;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CacheHeadersTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private final CachedPage page = new CachedPage(
            200,
            List.of(),
            new byte[0],
            "\"abc\"",
            T0,
            Duration.ofSeconds(60),
            null,
            Set.of(),
            false,
            dev.regen.internal.Replay.of("/"),
            false,
            false);

    @Test
    void forPage_hit_givesSecondsUntilStale() {
        assertThat(CacheHeaders.forPage(page, CacheStatus.HIT, T0.plusSeconds(15)))
                .isEqualTo("regen; hit; ttl=45");
    }

    @Test
    void forPage_staleAndMiss_asDesign() {
        assertThat(CacheHeaders.forPage(page, CacheStatus.STALE, T0)).isEqualTo("regen; hit; fwd=stale");
        assertThat(CacheHeaders.forPage(page, CacheStatus.MISS, T0)).isEqualTo("regen; fwd=uri-miss; stored=true");
    }

    @Test
    void noneMatch_weakComparisonListsAndStar() {
        assertThat(CacheHeaders.noneMatch(null, "\"abc\"")).isFalse();
        assertThat(CacheHeaders.noneMatch("\"abc\"", "\"abc\"")).isTrue();
        assertThat(CacheHeaders.noneMatch("W/\"abc\"", "\"abc\"")).isTrue();
        assertThat(CacheHeaders.noneMatch("\"x\", \"abc\"", "\"abc\"")).isTrue();
        assertThat(CacheHeaders.noneMatch("*", "\"abc\"")).isTrue();
        assertThat(CacheHeaders.noneMatch("\"abd\"", "\"abc\"")).isFalse();
    }

    @Test
    void keptOn304_onlyTheFieldsRfc9110Names() {
        assertThat(CacheHeaders.keptOn304("Cache-Control")).isTrue();
        assertThat(CacheHeaders.keptOn304("vary")).isTrue();
        assertThat(CacheHeaders.keptOn304("Content-Type")).isFalse();
    }
}
