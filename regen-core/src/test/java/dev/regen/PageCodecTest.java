package dev.regen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.internal.CachedPage;
import dev.regen.internal.Header;
import dev.regen.internal.Replay;
import dev.regen.store.KvEntry;
import dev.regen.store.PutOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PageCodecTest {
    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
    private static final byte[] HTML = "<p>hello</p>\n".repeat(200).getBytes(StandardCharsets.UTF_8);

    private static CachedPage page(String contentType, byte[] body) {
        return new CachedPage(
                200,
                List.of(new Header("Content-Type", contentType)),
                body,
                "\"e1\"",
                T0,
                Duration.ofSeconds(60),
                Duration.ofSeconds(30),
                Set.of("blog", "home"),
                false,
                new Replay("/a?x=1", "https", List.of(new Header("Accept-Language", "fr"))),
                true,
                false);
    }

    private static KvEntry stored(CachedPage page) {
        PutOptions o = PageCodec.options(page);
        return new KvEntry(PageCodec.value(page), o.metadata(), o.expiration());
    }

    @Test
    void roundTrip_keepsTheGzipVariant_soALoadNeverCompressesAgain() {
        CachedPage page = page("text/html", HTML);
        assertThat(page.gzipBody()).isNotNull();

        CachedPage back = (CachedPage) PageCodec.decode("/a?x=1 @example.com", stored(page));

        assertThat(back).isEqualTo(page);
        assertThat(back.body()).isEqualTo(HTML);
        assertThat(back.gzipBody()).isEqualTo(page.gzipBody());
    }

    @Test
    void listing_aPageWithAGzipVariant_isDescribedFromItsMetadataAlone() {
        CachedPage page = page("text/html", HTML);
        assertThat(page.gzipBody()).isNotNull();

        // a listing has no value: the variant's length must not make it "not a page"
        CachedPage listed = (CachedPage)
                PageCodec.decodeListed("/a?x=1 @example.com", stored(page).metadata());

        assertThat(listed).isNotNull();
        assertThat(listed.tags()).containsExactlyInAnyOrder("blog", "home");
        assertThat(listed.renderedAt()).isEqualTo(page.renderedAt());
        assertThat(listed.status()).isEqualTo(200);
        assertThat(listed.body()).isEmpty();
    }

    @Test
    void roundTrip_withoutAGzipVariant() {
        byte[] png = new byte[4096];
        CachedPage page = page("image/png", png);
        assertThat(page.gzipBody()).isNull();

        KvEntry entry = stored(page);
        assertThat(entry.value()).isEqualTo(png);
        assertThat(PageCodec.decode("/a?x=1 @example.com", entry)).isEqualTo(page);
    }

    @Test
    void anEntryStoredBeforeTheVariantWasKept_isReadAndCompressedOnce() {
        CachedPage page = page("text/html", HTML);
        Map<String, String> old = new HashMap<>(PageCodec.options(page).metadata());
        old.remove("z");

        CachedPage back = (CachedPage) PageCodec.decode("/a?x=1 @example.com", new KvEntry(HTML, old, null));

        assertThat(back.body()).isEqualTo(HTML);
        assertThat(back.gzipBody()).isEqualTo(page.gzipBody());
    }

    @Test
    void aVariantLengthBeyondTheValue_isNotAPage() {
        Map<String, String> bad =
                new HashMap<>(PageCodec.options(page("text/html", HTML)).metadata());
        bad.put("z", Integer.toString(HTML.length + 1));

        assertThat(PageCodec.decode("/a?x=1 @example.com", new KvEntry(HTML, bad, null)))
                .isNull();
    }
}
