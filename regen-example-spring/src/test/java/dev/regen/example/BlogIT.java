package dev.regen.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.reset;

import dev.regen.RegenEngine;
import dev.regen.testing.FakeClock;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;

/**
 * The example blog on a real embedded Tomcat with the starter, over real sockets. Time is a fake
 * clock bean, which the starter picks up: tests move it instead of sleeping. Each test uses its own
 * pages, as the clock and the cache are shared.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "regen.revalidate=60",
            "regen.secret=" + BlogIT.SECRET,
            "blog.render-delay=300ms",
            // few threads: 200 waiting requests fit only because a wait does not hold a thread
            "server.tomcat.threads.max=" + BlogIT.MAX_THREADS,
            "server.tomcat.threads.min-spare=4"
        })
@Import(BlogIT.Clock.class)
class BlogIT {
    static final String SECRET = "test-secret-0123456789";
    static final int MAX_THREADS = 16;
    private static final Pattern RENDER = Pattern.compile("Render #<span id=\"render\">(\\d+)</span>");
    private static final Pattern VISITS = Pattern.compile("<span id=\"visits\">(\\d+)</span>");
    private static final Pattern TITLE = Pattern.compile("<h1 id=\"title\">([^<]*)</h1>");

    @TestConfiguration(proxyBeanMethods = false)
    static class Clock {
        @Bean
        FakeClock regenClock() {
            return new FakeClock();
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    FakeClock clock;

    @Autowired
    RenderCounter renders;

    @Autowired
    RegenEngine engine;

    @Autowired
    MeterRegistry meters;

    @MockitoSpyBean
    PostRepository posts;

    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void page_missHitStaleThenOneBackgroundRender_hit() throws Exception {
        HttpResponse<String> miss = get("/posts/1");
        assertThat(miss.statusCode()).isEqualTo(200);
        assertThat(status(miss)).isEqualTo("MISS");
        assertThat(miss.headers().firstValue("Cache-Status")).hasValue("regen; fwd=uri-miss; stored=true");
        assertThat(render(miss)).isEqualTo(1);
        assertThat(miss.headers().firstValue("Set-Cookie")).isEmpty();

        // stored once the body is complete, just after the client has it
        HttpResponse<String> hit = awaitStatus("/posts/1", "HIT");
        assertThat(hit.headers().firstValue("Cache-Status")).hasValue("regen; hit; ttl=60");
        assertThat(hit.headers().firstValue("Content-Type"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
        assertThat(hit.headers().firstValue("ETag")).isPresent();
        assertThat(render(hit)).isEqualTo(1);

        clock.advance(Duration.ofSeconds(61));
        List<CompletableFuture<HttpResponse<String>>> stale = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            stale.add(http.sendAsync(request("/posts/1").build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : stale) {
            HttpResponse<String> r = f.get();
            assertThat(status(r)).isEqualTo("STALE");
            assertThat(r.headers().firstValue("Cache-Status")).hasValue("regen; hit; fwd=stale");
            assertThat(r.headers().firstValue("Age")).hasValue("61");
            assertThat(render(r)).isEqualTo(1);
        }

        HttpResponse<String> fresh = awaitStatus("/posts/1", "HIT");
        assertThat(render(fresh)).isEqualTo(2);
        assertThat(renders.count("/posts/1")).isEqualTo(2); // ten stale hits, one background render
    }

    @Test
    void page_200ConcurrentColdRequestsOnASmallThreadPool_controllerRunsOnce() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(http.sendAsync(request("/posts/3").build(), HttpResponse.BodyHandlers.ofString()));
        }
        int waited = 0;
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(status(r)).isIn("MISS", "HIT"); // HIT: its request was read only after the render
            assertThat(render(r)).isEqualTo(1);
            waited += status(r).equals("MISS") ? 1 : 0;
        }
        assertThat(renders.count("/posts/3")).isEqualTo(1);
        // more requests waited on the one render than Tomcat has threads
        assertThat(waited).isGreaterThan(MAX_THREADS);
    }

    @Test
    void page_controllerThrowsOnRevalidation_stalePageStillServed() throws Exception {
        assertThat(status(get("/posts/4"))).isEqualTo("MISS");
        clock.advance(Duration.ofSeconds(61));
        long errors = engine.stats().renderErrors();
        doThrow(new IllegalStateException("database down")).when(posts).find(4);
        try {
            HttpResponse<String> stale = get("/posts/4");
            assertThat(status(stale)).isEqualTo("STALE");
            await(() -> engine.stats().renderErrors() > errors);

            HttpResponse<String> still = get("/posts/4");
            assertThat(still.statusCode()).isEqualTo(200);
            assertThat(status(still)).isEqualTo("STALE");
            assertThat(render(still)).isEqualTo(1);
        } finally {
            reset(posts);
        }
        clock.advance(Duration.ofSeconds(2)); // past the retry backoff
        assertThat(status(get("/posts/4"))).isEqualTo("STALE");
        assertThat(render(awaitStatus("/posts/4", "HIT"))).isEqualTo(2);
    }

    @Test
    void page_thatStartsASession_neverStored_thenGoesStraightToTheApp() throws Exception {
        HttpResponse<String> first = get("/hello");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(status(first)).isEqualTo("MISS");
        assertThat(first.headers().firstValue("Cache-Status"))
                .hasValue("regen; fwd=uri-miss; stored=false; detail=\"response sets a cookie\"");
        assertThat(first.headers().firstValue("Set-Cookie"))
                .hasValueSatisfying(c -> assertThat(c).startsWith("JSESSIONID="));
        HttpResponse<String> second = get("/hello");
        assertThat(status(second)).isEqualTo("BYPASS");
        assertThat(second.headers().firstValue("Cache-Status"))
                .hasValue("regen; fwd=bypass; stored=false; detail=\"hit-for-pass\"");
        assertThat(renders.count("/hello")).isEqualTo(2);
    }

    @Test
    void visitorWithASession_getsTheirOwnPages_othersGetTheCachedOnes() throws Exception {
        HttpResponse<String> started = get("/hello");
        String session =
                started.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];
        for (int visit = 2; visit <= 3; visit++) {
            HttpResponse<String> own = send(request("/hello").header("Cookie", session));
            assertThat(status(own)).isEqualTo("BYPASS");
            assertThat(visits(own)).isEqualTo(visit); // the render was this visitor's own request
        }

        assertThat(render(get("/posts/10"))).isEqualTo(1);
        assertThat(render(awaitStatus("/posts/10", "HIT"))).isEqualTo(1);
        HttpResponse<String> withSession = send(request("/posts/10").header("Cookie", session));
        assertThat(status(withSession)).isEqualTo("BYPASS");
        assertThat(withSession.headers().firstValue("Cache-Status"))
                .hasValue("regen; fwd=bypass; stored=false; detail=\"credentials\"");
        assertThat(render(withSession)).isEqualTo(2);
        // an analytics cookie is no session
        HttpResponse<String> tracked = send(request("/posts/10").header("Cookie", "_ga=GA1.1.1"));
        assertThat(status(tracked)).isEqualTo("HIT");
        assertThat(render(tracked)).isEqualTo(1);
    }

    @Test
    void head_onAnUncachedPage_storesTheWholePage() throws Exception {
        HttpResponse<String> head = send(request("/posts/11").method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(status(head)).isEqualTo("MISS");
        assertThat(head.body()).isEmpty();
        HttpResponse<String> get = awaitStatus("/posts/11", "HIT");
        assertThat(title(get)).isEqualTo("Post number 11");
        assertThat(head.headers().firstValue("Content-Length"))
                .hasValue(String.valueOf(get.body().getBytes(StandardCharsets.UTF_8).length));
        assertThat(renders.count("/posts/11")).isEqualTo(1);
    }

    @Test
    void missingPost_404FromTheApp_notStored() throws Exception {
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> r = get("/posts/999");
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(status(r)).isEqualTo("MISS");
        }
    }

    @Test
    void forgedRenderHeader_ignored_requestServedFromTheCache() throws Exception {
        long now = System.currentTimeMillis() / 1000;
        String forged = now + "." + "ab".repeat(32);
        HttpResponse<String> first = send(request("/posts/5").header("X-Regen-Render", forged));
        assertThat(status(first)).isEqualTo("MISS");
        awaitStatus("/posts/5", "HIT");
        HttpResponse<String> second = send(request("/posts/5").header("X-Regen-Render", forged));
        assertThat(status(second)).isEqualTo("HIT");
        HttpResponse<String> old =
                send(request("/posts/5").header("X-Regen-Render", (now - 3600) + "." + "0".repeat(64)));
        assertThat(status(old)).isEqualTo("HIT");
        assertThat(renders.count("/posts/5")).isEqualTo(1);
    }

    @Test
    void editEndpoint_revalidateTagPosts_nextRequestsGetTheNewContent() throws Exception {
        assertThat(title(get("/posts/6"))).isEqualTo("Post number 6");
        get("/");
        awaitStatus("/posts/6", "HIT");
        awaitStatus("/", "HIT");

        HttpResponse<String> edit = send(request("/admin/posts/6")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("title=Edited+title&body=New+body")));
        assertThat(edit.statusCode()).isEqualTo(303);
        assertThat(status(edit)).isEqualTo("BYPASS");

        // soft, and both pages were read lately: re-rendered at once in the background (eager
        // revalidation); until then a request gets the old page as STALE, never as a HIT
        HttpResponse<String> next = get("/posts/6");
        assertThat(status(next)).isIn("STALE", "HIT");
        if (status(next).equals("STALE")) {
            assertThat(title(next)).isEqualTo("Post number 6");
        }
        assertThat(title(awaitStatus("/posts/6", "HIT"))).isEqualTo("Edited title");
        assertThat(awaitStatus("/", "HIT").body()).contains("Edited title");
    }

    @Test
    void webhook_withTheSecret_revalidates_withoutIt_401() throws Exception {
        get("/posts/7");
        awaitStatus("/posts/7", "HIT");
        HttpResponse<String> denied = send(request("/_regen/revalidate")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"paths\":[\"/posts/7\"]}")));
        assertThat(denied.statusCode()).isEqualTo(401);
        assertThat(status(get("/posts/7"))).isEqualTo("HIT");

        HttpResponse<String> ok = send(request("/_regen/revalidate")
                .header("Authorization", "Bearer " + SECRET)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"paths\":[\"/posts/7\"]}")));
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("Content-Type"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        assertThat(ok.body()).contains("\"success\":true").contains("\"invalidated\":1");
        assertThat(status(get("/posts/7"))).isEqualTo("STALE");
        assertThat(send(request("/_regen/revalidate")).statusCode()).isEqualTo(405);
    }

    @Test
    void cachedPage_ifNoneMatch304_head_authorizationBypasses() throws Exception {
        HttpResponse<String> miss = get("/posts/8");
        String etag =
                awaitStatus("/posts/8", "HIT").headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> notModified = send(request("/posts/8").header("If-None-Match", etag));
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.body()).isEmpty();

        HttpResponse<String> head = send(request("/posts/8").method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(status(head)).isEqualTo("HIT");
        assertThat(head.headers().firstValue("Content-Length"))
                .hasValue(String.valueOf(miss.body().getBytes(StandardCharsets.UTF_8).length));

        HttpResponse<String> authorized = send(request("/posts/8").header("Authorization", "Bearer someone"));
        assertThat(status(authorized)).isEqualTo("BYPASS");
        assertThat(authorized.headers().firstValue("Cache-Status"))
                .hasValue("regen; fwd=bypass; stored=false; detail=\"credentials\"");
        assertThat(render(authorized)).isEqualTo(2); // the app rendered it for this client
    }

    @Test
    void actuator_neverCached_andRegenCountersInTheMeterRegistry() throws Exception {
        assertThat(status(get("/actuator/health"))).isEqualTo("BYPASS");
        get("/posts/9");
        get("/posts/9");
        assertThat(meters.get("regen.requests").tag("status", "hit").counter().count())
                .isGreaterThan(0);
        assertThat(meters.get("regen.render.duration")
                        .tag("outcome", "ok")
                        .timer()
                        .count())
                .isGreaterThan(0);
    }

    // ---- helpers

    private static String status(HttpResponse<?> r) {
        return r.headers().firstValue("X-Cache-Status").orElse("(none)");
    }

    private static int render(HttpResponse<String> r) {
        Matcher m = RENDER.matcher(r.body());
        assertThat(m.find()).as("render number in %s", r.body()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static int visits(HttpResponse<String> r) {
        Matcher m = VISITS.matcher(r.body());
        assertThat(m.find()).as("visits in %s", r.body()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static String title(HttpResponse<String> r) {
        Matcher m = TITLE.matcher(r.body());
        assertThat(m.find()).as("title in %s", r.body()).isTrue();
        return m.group(1);
    }

    private HttpResponse<String> awaitStatus(String path, String expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            HttpResponse<String> r = get(path);
            if (status(r).equals(expected) || System.nanoTime() > deadline) {
                assertThat(status(r)).isEqualTo(expected);
                return r;
            }
            Thread.sleep(20);
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition not met in 10 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30));
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(request(path));
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws IOException, InterruptedException {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
