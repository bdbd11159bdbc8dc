package dev.regen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.internal.CachedPage;
import dev.regen.internal.Header;
import dev.regen.internal.Replay;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StoragePolicyTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final String DATE = "Thu, 01 Jan 2026 00:00:00 GMT";
    private final StoragePolicy policy = new StoragePolicy(RegenConfig.builder()
            .revalidate(Duration.ofSeconds(60))
            .routes(List.of(new RouteRule("/blog/**", Duration.ofSeconds(300), List.of("blog"), true)))
            .maxBodyBytes(100)
            .build());

    private static List<Header> fields(String... headers) {
        List<Header> list = new ArrayList<>();
        for (int i = 0; i < headers.length; i += 2) {
            list.add(new Header(headers[i], headers[i + 1]));
        }
        return list;
    }

    /** Header pairs from a table cell: "Name: value | Name: value". */
    private static List<Header> cell(String spec) {
        List<Header> list = new ArrayList<>();
        if (spec == null || spec.isBlank()) {
            return list;
        }
        for (String part : spec.split("\\|", -1)) {
            int colon = part.indexOf(':');
            list.add(new Header(
                    part.substring(0, colon).trim(), part.substring(colon + 1).trim()));
        }
        return list;
    }

    private StoragePolicy.Verdict evaluate(String path, int status, List<Header> headers, boolean credentialed) {
        return policy.evaluate(path, status, headers, credentialed, NOW);
    }

    private StoragePolicy.Verdict.Store stored(String path, int status, List<Header> headers) {
        StoragePolicy.Verdict v = evaluate(path, status, headers, false);
        assertThat(v).isInstanceOf(StoragePolicy.Verdict.Store.class);
        return (StoragePolicy.Verdict.Store) v;
    }

    private StoragePolicy.Verdict.Skip skipped(int status, List<Header> headers, boolean credentialed) {
        StoragePolicy.Verdict v = evaluate("/x", status, headers, credentialed);
        assertThat(v).isInstanceOf(StoragePolicy.Verdict.Skip.class);
        return (StoragePolicy.Verdict.Skip) v;
    }

    @ParameterizedTest(name = "{0}: {1} {2} -> revalidate {3}s")
    @CsvSource(
            delimiter = ';',
            value = {
                "RFC 9111 §4.2.1 s-maxage wins over max-age and the route; /blog/a; Cache-Control: max-age=5, s-maxage=7; 7",
                "RFC 9213 §2.1 CDN-Cache-Control replaces Cache-Control; /x; Cache-Control: private | CDN-Cache-Control: max-age=9; 9",
                "RFC 9111 §4.2.1 max-age is the lifetime; /blog/a; Cache-Control: max-age=30; 30",
                "RFC 9111 §4.2.1 immutable assets keep their year; /x; Cache-Control: public, max-age=31536000, immutable; 31536000",
                "RFC 9111 §4.2.1 Expires minus Date; /x; Date: " + DATE
                        + " | Expires: Thu, 01 Jan 2026 00:02:00 GMT; 120",
                "RFC 9111 §4.2.3 an Age received counts against the lifetime; /x; Cache-Control: max-age=100 | Age: 40; 60",
                "DESIGN route rule when the origin says nothing; /blog/a; ; 300",
                "DESIGN default when nothing else; /other; ; 60",
            })
    void evaluate_lifetime_table(String rule, String path, String headers, long seconds) {
        assertThat(stored(path, 200, cell(headers)).revalidate()).as(rule).hasSeconds(seconds);
    }

    @ParameterizedTest(name = "{0}: {1} {2} -> not stored")
    @CsvSource(
            delimiter = ';',
            value = {
                "RFC 9111 §5.2.2.5 no-store; 200; Cache-Control: no-store",
                "RFC 9111 §5.2.2.7 private; 200; Cache-Control: private",
                "RFC 9111 §5.2.2.4 no-cache; 200; Cache-Control: no-cache",
                "RFC 9111 §4.2 max-age=0 with must-revalidate; 200; Cache-Control: max-age=0, must-revalidate",
                "RFC 9111 §5.3 an Expires in the past; 200; Date: " + DATE
                        + " | Expires: Wed, 31 Dec 2025 00:00:00 GMT",
                "RFC 9111 §5.3 an invalid Expires means already expired; 200; Expires: 0",
                "RFC 9111 §4.2.3 an Age beyond the lifetime; 200; Cache-Control: max-age=10 | Age: 20",
                "RFC 9111 §4.1 Vary: *; 200; Vary: *",
                "RFC 9111 §3 302 without explicit freshness; 302; Location: /y",
                "RFC 9110 §15.3.7 206 is a part, never stored; 206; Cache-Control: max-age=60",
                "a cookie for one client; 200; Set-Cookie: sid=1 | Cache-Control: public, max-age=60",
                "an event stream never ends; 200; Content-Type: text/event-stream",
                "a coding Regen cannot decode; 200; Content-Encoding: zstd",
                "a declared body over the limit; 200; Content-Length: 101",
            })
    void evaluate_notStored_table(String rule, int status, String headers) {
        StoragePolicy.Verdict.Skip skip = skipped(status, cell(headers), false);
        assertThat(skip.keepOld()).as(rule).isFalse();
    }

    @ParameterizedTest(name = "{0}: {1} {2}")
    @CsvSource(
            delimiter = ';',
            value = {
                "RFC 9110 §15.1 404 is heuristically cacheable, with the error default; 404; ; 10",
                "RFC 9110 §15.1 410 likewise; 410; ; 10",
                "RFC 9110 §15.1 301 is heuristically cacheable; 301; Location: /new; 60",
                "RFC 9110 §15.1 308 likewise; 308; Location: /new; 60",
                "RFC 9111 §3 any final status with explicit freshness; 302; Location: /y | Cache-Control: max-age=20; 20",
                "RFC 9111 §4.2.1 a 301 with s-maxage; 301; Location: /n | Cache-Control: s-maxage=3600; 3600",
                "RFC 9111 §4.2.1 a 404 with s-maxage; 404; Cache-Control: s-maxage=30; 30",
            })
    void evaluate_statuses_table(String rule, int status, String headers, long seconds) {
        assertThat(stored("/x", status, cell(headers)).revalidate()).as(rule).hasSeconds(seconds);
    }

    @Test
    void evaluate_5xx_keepsOldAndIsShareable() {
        StoragePolicy.Verdict.Skip s = skipped(503, fields(), false);
        assertThat(s.keepOld()).isTrue();
        assertThat(s.shareable()).isTrue();
        assertThat(skipped(503, fields("Cache-Control", "max-age=60"), false).keepOld())
                .isTrue();
    }

    @ParameterizedTest(name = "RFC 9111 §3.5: credentialed, {0} -> stored {1}")
    @CsvSource(
            delimiter = ';',
            value = {
                "Cache-Control: max-age=60; false",
                "; false",
                "Cache-Control: public, max-age=60; true",
                "Cache-Control: s-maxage=60; true",
                "Cache-Control: max-age=60, must-revalidate; true",
                "CDN-Cache-Control: max-age=60; true",
            })
    void evaluate_credentialed_storedOnlyWithExplicitPermission(String headers, boolean stored) {
        StoragePolicy.Verdict v = evaluate("/x", 200, cell(headers), true);
        assertThat(v instanceof StoragePolicy.Verdict.Store).isEqualTo(stored);
        if (!stored) {
            assertThat(((StoragePolicy.Verdict.Skip) v).shareable()).isFalse();
        }
    }

    @Test
    void evaluate_sharedAndImmutableFlags() {
        assertThat(stored("/x", 200, fields("Cache-Control", "public, max-age=9, immutable"))
                        .immutable())
                .isTrue();
        assertThat(stored("/x", 200, fields("Cache-Control", "public, max-age=9"))
                        .shared())
                .isTrue();
        assertThat(stored("/x", 200, fields("Cache-Control", "max-age=9")).shared())
                .isFalse();
    }

    @Test
    void evaluate_ageReceived_movesRenderTimeBack() {
        assertThat(stored("/x", 200, fields("Cache-Control", "max-age=100", "Age", "40"))
                        .renderedAt())
                .isEqualTo(NOW.minusSeconds(40));
    }

    @Test
    void evaluate_tags_fromHeadersAndRoute() {
        StoragePolicy.Verdict.Store s =
                stored("/blog/a", 200, fields("Cache-Tag", "posts, post-1", "Surrogate-Key", "a b"));
        assertThat(s.tags()).containsExactlyInAnyOrder("posts", "post-1", "a", "b", "blog");
    }

    @Test
    void evaluate_staleWindow_fromSwr_mustRevalidateMeansNone() {
        assertThat(stored("/x", 200, fields("Cache-Control", "s-maxage=10, stale-while-revalidate=20"))
                        .staleWindow())
                .hasSeconds(20);
        assertThat(stored("/x", 200, fields()).staleWindow()).isNull();
        assertThat(stored("/x", 200, fields("Cache-Control", "max-age=10, must-revalidate"))
                        .staleWindow())
                .isZero();
    }

    @Test
    void page_hopByHopAndPerMessageHeaders_notReplayed() {
        List<Header> headers = fields(
                "Content-Type",
                "text/html",
                "Connection",
                "close, X-Secret",
                "X-Secret",
                "1",
                "Keep-Alive",
                "timeout=5",
                "Date",
                "x",
                "Content-Length",
                "5",
                "X-Kept",
                "y");
        CachedPage p = policy.page(stored("/x", 200, headers), 200, headers, body("hello"), null, Replay.of("/x"));
        assertThat(p.headers()).extracting(Header::name).containsExactly("Content-Type", "X-Kept");
    }

    @Test
    void page_etag_fromOriginOrDerived() {
        List<Header> withEtag = fields("ETag", "\"abc\"");
        assertThat(policy.page(stored("/x", 200, withEtag), 200, withEtag, body("hello"), null, Replay.of("/x"))
                        .etag())
                .isEqualTo("\"abc\"");
        String derived = policy.page(stored("/x", 200, fields()), 200, fields(), body("hello"), null, Replay.of("/x"))
                .etag();
        assertThat(derived).startsWith("\"").endsWith("\"").hasSize(26);
    }

    private static byte[] body(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
