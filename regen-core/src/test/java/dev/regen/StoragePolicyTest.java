package dev.regen;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StoragePolicyTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private final StoragePolicy policy = new StoragePolicy(RegenConfig.builder()
            .revalidate(Duration.ofSeconds(60))
            .routes(List.of(new RouteRule("/blog/**", Duration.ofSeconds(300), List.of("blog"), true)))
            .maxBodyBytes(100)
            .build());

    private static OriginResponse response(int status, String... headers) {
        List<Header> list = new ArrayList<>();
        for (int i = 0; i < headers.length; i += 2) {
            list.add(new Header(headers[i], headers[i + 1]));
        }
        return new OriginResponse(status, list, "hello".getBytes(StandardCharsets.UTF_8));
    }

    private CachedPage stored(String path, OriginResponse r) {
        StoragePolicy.Verdict v = policy.evaluate(path, r, NOW);
        assertThat(v).isInstanceOf(StoragePolicy.Verdict.Store.class);
        return ((StoragePolicy.Verdict.Store) v).page();
    }

    private StoragePolicy.Verdict.Skip skipped(OriginResponse r) {
        StoragePolicy.Verdict v = policy.evaluate("/x", r, NOW);
        assertThat(v).isInstanceOf(StoragePolicy.Verdict.Skip.class);
        return (StoragePolicy.Verdict.Skip) v;
    }

    @Test
    void evaluate_originSMaxAge_winsOverRouteAndDefault() {
        assertThat(stored("/blog/a", response(200, "Cache-Control", "s-maxage=5")).revalidate()).hasSeconds(5);
    }

    @Test
    void evaluate_cdnCacheControl_winsOverCacheControl() {
        CachedPage p = stored("/x", response(200, "Cache-Control", "private", "CDN-Cache-Control", "max-age=7"));
        assertThat(p.revalidate()).hasSeconds(7);
    }

    @Test
    void evaluate_routeRule_thenDefault() {
        assertThat(stored("/blog/a", response(200)).revalidate()).hasSeconds(300);
        assertThat(stored("/blog", response(200)).revalidate()).hasSeconds(300);
        assertThat(stored("/other", response(200)).revalidate()).hasSeconds(60);
    }

    @Test
    void evaluate_tags_fromHeadersAndRoute() {
        CachedPage p = stored("/blog/a", response(200, "Cache-Tag", "posts, post-1", "Surrogate-Key", "a b"));
        assertThat(p.tags()).containsExactlyInAnyOrder("posts", "post-1", "a", "b", "blog");
    }

    @Test
    void evaluate_swr_setsStaleWindow() {
        assertThat(stored("/x", response(200, "Cache-Control", "s-maxage=10, stale-while-revalidate=20")).staleWindow())
                .hasSeconds(20);
        assertThat(stored("/x", response(200)).staleWindow()).isNull();
    }

    @Test
    void evaluate_hopByHopAndPerMessageHeaders_notReplayed() {
        CachedPage p = stored("/x", response(200, "Content-Type", "text/html", "Connection", "close, X-Secret",
                "X-Secret", "1", "Keep-Alive", "timeout=5", "Date", "x", "Content-Length", "5", "X-Kept", "y"));
        assertThat(p.headers()).extracting(Header::name).containsExactly("Content-Type", "X-Kept");
    }

    @Test
    void evaluate_etag_fromOriginOrDerived() {
        assertThat(stored("/x", response(200, "ETag", "\"abc\"")).etag()).isEqualTo("\"abc\"");
        String derived = stored("/x", response(200)).etag();
        assertThat(derived).startsWith("\"").endsWith("\"").hasSize(26);
        assertThat(stored("/y", response(200)).etag()).isEqualTo(derived);
    }

    @Test
    void evaluate_5xx_keepsOldAndIsShareable() {
        StoragePolicy.Verdict.Skip s = skipped(response(503));
        assertThat(s.keepOld()).isTrue();
        assertThat(s.shareable()).isTrue();
    }

    @Test
    void evaluate_neverStored_cases() {
        assertThat(skipped(response(200, "Set-Cookie", "sid=1")).shareable()).isFalse();
        assertThat(skipped(response(200, "Cache-Control", "private")).shareable()).isFalse();
        assertThat(skipped(response(200, "Cache-Control", "no-store")).keepOld()).isFalse();
        assertThat(skipped(response(200, "Cache-Control", "s-maxage=0")).keepOld()).isFalse();
        assertThat(skipped(response(200, "Vary", "*")).keepOld()).isFalse();
        assertThat(skipped(response(404)).keepOld()).isFalse();
        assertThat(skipped(response(301, "Location", "/y")).keepOld()).isFalse();
        OriginResponse big = new OriginResponse(200, List.of(), new byte[101]);
        assertThat(skipped(big).reason()).contains("over the limit");
    }
}
