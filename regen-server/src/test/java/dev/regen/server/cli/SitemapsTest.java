package dev.regen.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SitemapsTest {
    private static final String NS = "http://www.sitemaps.org/schemas/sitemap/0.9";

    @TempDir
    Path dir;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String urlset(String... locs) {
        StringBuilder b =
                new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"" + NS + "\">\n");
        for (String l : locs) {
            b.append("  <url><loc>").append(l).append("</loc><lastmod>2026-01-01</lastmod></url>\n");
        }
        return b.append("</urlset>\n").toString();
    }

    private static String index(String... locs) {
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\"?>\n<sitemapindex xmlns=\"" + NS + "\">\n");
        for (String l : locs) {
            b.append("  <sitemap><loc>").append(l).append("</loc></sitemap>\n");
        }
        return b.append("</sitemapindex>\n").toString();
    }

    @Test
    void parse_urlset_locsInOrder_escapesDecoded_whitespaceTrimmed() throws Exception {
        Sitemaps.Parsed p = Sitemaps.parse(utf8(urlset(
                "https://www.example.com/",
                "\n  https://www.example.com/a?x=1&amp;y=2  \n",
                "<![CDATA[https://www.example.com/b]]>")));

        assertThat(p.index()).isFalse();
        assertThat(p.locations())
                .containsExactly(
                        "https://www.example.com/", "https://www.example.com/a?x=1&y=2", "https://www.example.com/b");
    }

    @Test
    void parse_index_andGzip() throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(utf8(index("https://www.example.com/s1.xml", "https://www.example.com/s2.xml.gz")));
        }

        Sitemaps.Parsed p = Sitemaps.parse(gz.toByteArray());

        assertThat(p.index()).isTrue();
        assertThat(p.locations())
                .containsExactly("https://www.example.com/s1.xml", "https://www.example.com/s2.xml.gz");
    }

    @Test
    void parse_externalEntity_refusedAndNothingRead() throws Exception {
        Path secret = dir.resolve("secret.txt");
        Files.writeString(secret, "TOP-SECRET-CONTENT");
        String xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE urlset [<!ENTITY x SYSTEM \"" + secret.toUri() + "\">]>\n"
                + "<urlset xmlns=\"" + NS + "\"><url><loc>https://e.com/&x;</loc></url></urlset>";

        assertThatThrownBy(() -> Sitemaps.parse(utf8(xxe)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("DOCTYPE")
                .hasMessageNotContaining("TOP-SECRET");
    }

    @Test
    void parse_entityExpansionBomb_refused() {
        String bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                + "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
                + "<urlset xmlns=\"" + NS + "\"><url><loc>&lol2;</loc></url></urlset>";

        assertThatThrownBy(() -> Sitemaps.parse(utf8(bomb))).isInstanceOf(IOException.class);
    }

    @Test
    void parse_notASitemap_saysWhy() {
        assertThatThrownBy(() -> Sitemaps.parse(utf8("<html><body>hi</body></html>")))
                .hasMessageContaining("root element is <html>");
        assertThatThrownBy(() -> Sitemaps.parse(utf8("<urlset><url><loc>x</url>")))
                .hasMessageContaining("not well-formed");
    }

    @Test
    void collect_followsIndexes_readsChildrenFromTheIndexHost_dedupes_skipsCycles() throws Exception {
        Map<String, String> docs = Map.of(
                "http://127.0.0.1:9/sitemap.xml",
                        index(
                                "https://www.example.com/a.xml",
                                "https://www.example.com/b.xml",
                                "https://www.example.com/sitemap.xml"),
                "http://127.0.0.1:9/a.xml", urlset("https://www.example.com/", "https://www.example.com/posts/1"),
                "http://127.0.0.1:9/b.xml",
                        urlset(
                                "https://www.example.com/posts/1",
                                "https://www.example.com/posts/2?p=1",
                                "mailto:someone@example.com"));
        List<URI> fetched = new ArrayList<>();

        Sitemaps.Found found = Sitemaps.collect(URI.create("http://127.0.0.1:9/sitemap.xml"), uri -> {
            fetched.add(uri);
            String d = docs.get(uri.toString());
            if (d == null) {
                throw new IOException("answered HTTP 404");
            }
            return utf8(d);
        });

        assertThat(fetched)
                .extracting(URI::toString)
                .containsExactly(
                        "http://127.0.0.1:9/sitemap.xml", "http://127.0.0.1:9/a.xml", "http://127.0.0.1:9/b.xml");
        assertThat(found.sitemaps()).isEqualTo(3);
        assertThat(found.pages()).extracting(WarmCommand::target).containsExactly("/", "/posts/1", "/posts/2?p=1");
    }

    @Test
    void collect_unreadableChild_namesIt() {
        assertThatThrownBy(() -> Sitemaps.collect(URI.create("http://h/s.xml"), uri -> {
                    if (uri.getPath().equals("/s.xml")) {
                        return utf8(index("http://h/missing.xml"));
                    }
                    throw new IOException("answered HTTP 404");
                }))
                .hasMessage("sitemap http://h/missing.xml: answered HTTP 404");
    }

    @Test
    void classify_byCacheStatus() {
        assertThat(WarmCommand.classify("/a", 200, "MISS", "regen; fwd=uri-miss; stored=true", 0)
                        .kind())
                .isEqualTo(WarmCommand.Kind.RENDERED);
        assertThat(WarmCommand.classify("/a", 200, "MISS", "regen; fwd=uri-miss; stored=false", 0)
                        .kind())
                .isEqualTo(WarmCommand.Kind.NOT_CACHEABLE);
        assertThat(WarmCommand.classify("/a", 200, "HIT", "", 0).kind()).isEqualTo(WarmCommand.Kind.FRESH);
        assertThat(WarmCommand.classify("/a", 200, "STALE", "", 0).kind()).isEqualTo(WarmCommand.Kind.STALE);
        assertThat(WarmCommand.classify("/a", 200, "BYPASS", "", 0).kind()).isEqualTo(WarmCommand.Kind.NOT_CACHEABLE);
        assertThat(WarmCommand.classify("/a", 404, "MISS", "", 0).detail()).isEqualTo("HTTP 404");
        assertThat(WarmCommand.classify("/a", 200, null, "", 0).detail()).contains("is --url a Regen server?");
    }
}
