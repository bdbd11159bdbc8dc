package dev.regen.server.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DemoSiteTest {

    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private DemoSite site;

    @BeforeEach
    void start() {
        site = DemoSite.start("127.0.0.1", 0, Duration.ZERO);
    }

    @AfterEach
    void stop() {
        site.close();
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET().build());
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + site.port() + path);
    }

    private static int count(String haystack, String regex) {
        Matcher m = Pattern.compile(regex).matcher(haystack);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void index_listsFiftyPosts() throws Exception {
        HttpResponse<String> r = get("/");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(r.headers().firstValue("Cache-Tag")).hasValue("posts, index");
        assertThat(r.headers().firstValue("Cache-Control")).isEmpty();
        assertThat(count(r.body(), "<a href=\"/posts/\\d+\">[^<]+</a>")).isEqualTo(50);
        assertThat(r.body())
                .contains("href=\"/posts/1\"")
                .contains("href=\"/posts/50\"")
                .doesNotContain("href=\"/posts/51\"");
        assertThat(r.body())
                .contains("X-Cache-Status")
                .contains("MISS")
                .contains("STALE")
                .contains("10 s");
    }

    @Test
    void post_rendersAgainOnEveryRequest() throws Exception {
        HttpResponse<String> first = get("/posts/7");
        HttpResponse<String> second = get("/posts/7");

        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("Cache-Tag")).hasValue("posts, post-7");
        assertThat(first.body())
                .contains("Render #1")
                .contains("<h1>" + DemoSite.title(7) + "</h1>")
                .containsPattern("<meta name=\"x-render\" content=\"1;\\d{13}\">")
                .containsPattern("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d");
        assertThat(second.body()).contains("Render #2").containsPattern("content=\"2;\\d{13}\"");
    }

    @Test
    void unknownPath_is404Page() throws Exception {
        HttpResponse<String> missing = get("/nope");
        HttpResponse<String> post0 = get("/posts/0");
        HttpResponse<String> post51 = get("/posts/51");
        HttpResponse<String> padded = get("/posts/01");

        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(missing.body()).contains("Not found").contains("/nope");
        assertThat(post0.statusCode()).isEqualTo(404);
        assertThat(post51.statusCode()).isEqualTo(404);
        assertThat(padded.statusCode()).isEqualTo(404);
    }

    @Test
    void counters_countRendersPerPathUntilReset() throws Exception {
        get("/");
        get("/posts/1");
        get("/posts/1");
        get("/posts/2?utm_source=x");

        assertThat(site.renders("/")).isEqualTo(1);
        assertThat(site.renders("/posts/1")).isEqualTo(2);
        assertThat(site.renders("/posts/2")).isEqualTo(1);
        assertThat(site.renders("/posts/3")).isZero();
        assertThat(site.totalRenders()).isEqualTo(4);

        HttpResponse<String> json = get("/__renders");
        assertThat(json.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(json.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(json.body()).isEqualTo("{\"total\":4,\"paths\":{\"/\":1,\"/posts/1\":2,\"/posts/2\":1}}");
        assertThat(site.totalRenders()).as("/__renders is not a render").isEqualTo(4);

        site.reset();
        assertThat(site.totalRenders()).isZero();
        assertThat(site.renders("/posts/1")).isZero();
        assertThat(get("/posts/1").body()).contains("Render #1");
    }

    @Test
    void sitemap_lists51AbsoluteUrls() throws Exception {
        site.setPublicBase("https://demo.example/");

        HttpResponse<String> r = get("/sitemap.xml");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/xml; charset=utf-8");
        assertThat(count(r.body(), "<loc>")).isEqualTo(51);
        assertThat(r.body())
                .contains("<loc>https://demo.example/</loc>")
                .contains("<loc>https://demo.example/posts/50</loc>");
    }

    @Test
    void sitemap_defaultBaseIsLocalhost8080() throws Exception {
        assertThat(get("/sitemap.xml").body()).contains("<loc>http://localhost:8080/posts/1</loc>");
    }

    @Test
    void head_hasHeadersButNoBody() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/posts/3"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Cache-Tag")).hasValue("posts, post-3");
        assertThat(r.body()).isEmpty();
    }

    @Test
    void post_methodNotAllowed() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/posts/3"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build());

        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue("GET, HEAD");
    }

    @Test
    void slowRenders_runConcurrently() throws Exception {
        site.close();
        site = DemoSite.start("127.0.0.1", 0, Duration.ofMillis(400));
        long start = System.nanoTime();

        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            calls.add(client.sendAsync(
                    HttpRequest.newBuilder(uri("/posts/" + i)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;

        assertThat(calls).allSatisfy(c -> assertThat(c.join().statusCode()).isEqualTo(200));
        assertThat(elapsedMs)
                .as("8 renders of 400 ms in parallel, not one after another (3200 ms)")
                .isGreaterThanOrEqualTo(400)
                .isLessThan(2400);
        assertThat(site.totalRenders()).isEqualTo(8);
    }

    @Test
    void index_whatToWatchComesBeforeThePostList() throws Exception {
        String body = get("/").body();

        assertThat(body.indexOf("What to watch")).isPositive().isLessThan(body.indexOf("href=\"/posts/1\""));
        assertThat(get("/posts/1").body()).contains("What to watch");
    }

    @Test
    void favicon_anIcoOfRegensIcon_notARender() throws Exception {
        HttpResponse<byte[]> r = client.send(
                HttpRequest.newBuilder(uri("/favicon.ico")).build(), HttpResponse.BodyHandlers.ofByteArray());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("image/x-icon");
        assertThat(r.headers().firstValue("Cache-Control")).hasValue("public, max-age=86400");
        assertThat(r.body()).startsWith(0, 0, 1, 0, 2, 0); // ICO header: type 1, two images
        assertThat(site.totalRenders()).isZero();
        assertThat(get("/").body()).contains("<link rel=\"icon\" href=\"/favicon.ico\"");
    }

    @Test
    void counts_keptInAFile_goOnAfterARestart(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path file = dir.resolve("store").resolve(DemoSite.COUNTS_FILE);
        site.close();
        site = DemoSite.start("127.0.0.1", 0, Duration.ZERO, file);
        get("/posts/1");
        get("/posts/1");
        get("/");
        site.close();

        site = DemoSite.start("127.0.0.1", 0, Duration.ZERO, file);

        assertThat(site.renders("/posts/1")).isEqualTo(2);
        assertThat(site.totalRenders()).isEqualTo(3);
        assertThat(get("/posts/1").body()).contains("Render #3");
        assertThat(get("/").body()).contains("Render #2");
    }

    @Test
    void counts_unreadableFile_startFromZero(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve(DemoSite.COUNTS_FILE), "garbage\n");
        site.close();

        site = DemoSite.start("127.0.0.1", 0, Duration.ZERO, file);

        assertThat(site.totalRenders()).isZero();
        assertThat(get("/posts/1").body()).contains("Render #1");
    }
}
