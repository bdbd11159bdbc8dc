package dev.regen.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CacheControlTest {

    @Test
    void parse_sMaxAgeAndSwr_read() {
        CacheControl cc = CacheControl.parse("public, max-age=0, s-maxage=300, stale-while-revalidate=60");
        assertThat(cc.sMaxAge()).isEqualTo(Duration.ofMinutes(5));
        assertThat(cc.maxAge()).isEqualTo(Duration.ZERO);
        assertThat(cc.staleWhileRevalidate()).isEqualTo(Duration.ofSeconds(60));
        assertThat(cc.forbidsSharedStorage()).isFalse();
    }

    @Test
    void parse_privateNoStoreNoCache_forbidStorage() {
        assertThat(CacheControl.parse("private").forbidsSharedStorage()).isTrue();
        assertThat(CacheControl.parse("No-Store").forbidsSharedStorage()).isTrue();
        assertThat(CacheControl.parse("no-cache").forbidsSharedStorage()).isTrue();
    }

    @Test
    void parse_qualifiedPrivate_doesNotForbidStorage() {
        assertThat(CacheControl.parse("private=\"set-cookie, x-a\", s-maxage=5").forbidsSharedStorage())
                .isFalse();
        assertThat(CacheControl.parse("private=\"set-cookie, x-a\", s-maxage=5").sMaxAge())
                .isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void parse_malformedNumbers_ignored() {
        CacheControl cc = CacheControl.parse("s-maxage=abc, stale-while-revalidate=-1, max-age=\"7\"");
        assertThat(cc.sMaxAge()).isNull();
        assertThat(cc.staleWhileRevalidate()).isNull();
        assertThat(cc.maxAge()).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void parse_nullOrBlank_empty() {
        assertThat(CacheControl.parse(null)).isEqualTo(CacheControl.EMPTY);
        assertThat(CacheControl.parse("  ")).isEqualTo(CacheControl.EMPTY);
    }
}
