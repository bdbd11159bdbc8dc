package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.internal.CachedPage;
import dev.regen.internal.Header;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PreparedPageTest {
    private static CachedPage page(int n, int size) {
        byte[] body = ("<p>page " + n + "</p>" + "x".repeat(size)).getBytes(StandardCharsets.UTF_8);
        return new CachedPage(
                200,
                List.of(new Header("Content-Type", "text/html")),
                body,
                "\"e" + n + "\"",
                Instant.EPOCH,
                Duration.ofSeconds(60),
                null,
                Set.of(),
                false,
                dev.regen.internal.Replay.of("/"),
                false,
                false);
    }

    private static String text(ByteBuf b) {
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void tail_isFixedFieldsBlankLineAndBody_headOnlyStopsAtBlankLine() {
        try (PreparedPage.Cache cache = new PreparedPage.Cache(1 << 20, UnpooledByteBufAllocator.DEFAULT)) {
            CachedPage page = page(1, 2000);
            PreparedPage.Variant v = cache.of(page, false).variant(false);
            ByteBuf full = v.retainTail(false);
            ByteBuf head = v.retainTail(true);
            try {
                String expectedFields = "Content-Type: text/html\r\nVary: Accept-Encoding\r\nETag: \"e1\"\r\n"
                        + "Content-Length: " + page.body().length + "\r\n\r\n";
                assertThat(text(head)).isEqualTo(expectedFields);
                assertThat(text(full)).isEqualTo(expectedFields + new String(page.body(), StandardCharsets.ISO_8859_1));
                assertThat(v.statusLine()).isEqualTo("HTTP/1.1 200 OK\r\n");
            } finally {
                full.release();
                head.release();
            }
        }
    }

    @Test
    void gzipVariant_ownEncodingAndEtag() {
        try (PreparedPage.Cache cache = new PreparedPage.Cache(1 << 20, UnpooledByteBufAllocator.DEFAULT)) {
            PreparedPage p = cache.of(page(1, 4000), false);
            PreparedPage.Variant gz = p.variant(true);
            assertThat(gz).isSameAs(p.gzip);
            ByteBuf head = gz.retainTail(true);
            assertThat(text(head))
                    .contains("Content-Encoding: gzip\r\n")
                    .contains("ETag: \"e1-gzip\"\r\n")
                    .contains("Content-Length: " + gz.body().length + "\r\n");
            head.release();
            assertThat(p.variant(false)).isSameAs(p.identity);
        }
    }

    @Test
    void cache_boundedInBytes_evictedPagesReleaseTheirBuffers() {
        long max = 256 * 1024;
        try (PreparedPage.Cache cache = new PreparedPage.Cache(max, UnpooledByteBufAllocator.DEFAULT)) {
            List<PreparedPage> made = new ArrayList<>();
            List<CachedPage> pages = new ArrayList<>();
            for (int i = 0; i < 80; i++) {
                CachedPage page = page(i, 10_000);
                pages.add(page);
                made.add(cache.of(page, false));
            }
            assertThat(cache.bytes()).isPositive().isLessThanOrEqualTo(max);
            long released =
                    made.stream().filter(p -> p.identity.tail().refCnt() == 0).count();
            assertThat(released).isGreaterThan(50);
            for (PreparedPage p : made) {
                boolean live = p.identity.tail().refCnt() > 0;
                assertThat(p.gzip == null || (p.gzip.tail().refCnt() > 0) == live)
                        .isTrue();
            }
        }
    }

    @Test
    void pageTooBigForTheBudget_preparedPerRequestOnTheHeap_sameBytes() {
        try (PreparedPage.Cache cache = new PreparedPage.Cache(64 * 1024, UnpooledByteBufAllocator.DEFAULT)) {
            CachedPage big = page(1, 20_000);
            PreparedPage first = cache.of(big, false);
            assertThat(cache.of(big, false)).isNotSameAs(first);
            assertThat(cache.bytes()).isZero();
            ByteBuf tail = first.identity.retainTail(false);
            assertThat(tail.isDirect()).isFalse();
            assertThat(text(tail)).isEqualTo(text(first.identity.copyTail(false)));
            tail.release();
            CachedPage small = page(2, 1_000);
            assertThat(cache.of(small, false)).isSameAs(cache.of(small, false));
            assertThat(cache.of(small, false).identity.tail().isDirect()).isTrue();
        }
    }

    @Test
    void tailHeldByAWrite_outlivesEviction_andALostRaceWritesACopy() {
        PreparedPage.Cache cache = new PreparedPage.Cache(1 << 20, UnpooledByteBufAllocator.DEFAULT);
        CachedPage page = page(7, 3000);
        PreparedPage.Variant v = cache.of(page, false).variant(false);
        ByteBuf inFlight = v.retainTail(false);
        String expected = text(inFlight);
        cache.close();
        // the write still holds its view: the bytes are intact until it lets go
        assertThat(text(inFlight)).isEqualTo(expected);
        inFlight.release();
        assertThat(v.tail().refCnt()).isZero();
        // a request that picked the variant just before the release gets a heap copy of the same bytes
        assertThat(v.retainTail(false)).isNull();
        assertThat(text(v.copyTail(false))).isEqualTo(expected);
        assertThat(text(v.copyTail(true))).isEqualTo(expected.substring(0, v.headLength()));
    }

    @Test
    void aPageLoadedFromTheStore_isWrittenFromItsOwnArraysOnce_andPreparedWhenAskedForFromMemory() {
        try (PreparedPage.Cache cache = new PreparedPage.Cache(1 << 20, UnpooledByteBufAllocator.DEFAULT)) {
            CachedPage page = page(1, 2000);
            PreparedPage once = cache.of(page, true);
            assertThat(once.identity.tail().isDirect())
                    .as("no off-heap copy for a page not known to be hot")
                    .isFalse();
            assertThat(cache.bytes()).isZero();

            PreparedPage hot = cache.of(page, false);
            assertThat(hot.identity.tail().isDirect()).isTrue();
            assertThat(cache.of(page, true))
                    .as("prepared already: used as it is")
                    .isSameAs(hot);
        }
    }
}
