package dev.regen.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.FakeClock;
import dev.regen.RegenConfig;
import dev.regen.store.MemoryStore;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The filter on plain Jetty 12 (ee10) in front of a tiny servlet, over real sockets. */
class JettyFilterIT {
    private static final int MAX_THREADS = 16;
    private static final String SECRET = "s3cret-for-tests";
    private static final FakeClock clock = new FakeClock();
    private static final PageServlet servlet = new PageServlet();
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static MemoryStore store;
    private static RegenFilter filter;
    private static Server server;
    private static URI base;

    @BeforeAll
    static void start() throws Exception {
        store = new MemoryStore(64L * 1024 * 1024, clock);
        filter = RegenFilter.builder()
                .config(RegenConfig.builder().revalidate(Duration.ofSeconds(10)).renderTimeout(Duration.ofSeconds(5)).build())
                .store(store)
                .clock(clock)
                .secret(SECRET)
                .build();
        // few threads: 200 waiting requests fit only because a wait does not hold a thread
        QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 4);
        threads.setName("jetty");
        server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        FilterHolder holder = new FilterHolder(filter);
        holder.setAsyncSupported(true);
        context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
        ServletHolder pages = new ServletHolder(servlet);
        pages.setAsyncSupported(true);
        context.addServlet(pages, "/*");
        ServletHolder blocking = new ServletHolder(servlet);
        blocking.setAsyncSupported(false);
        context.addServlet(blocking, "/blocking/*");
        server.setHandler(context);
        server.start();
        base = URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    @AfterAll
    static void stop() throws Exception {
        server.stop();
        filter.close();
        store.close();
    }

    @Test
    void get_missHitStaleThenOneBackgroundRender_hit() throws Exception {
        HttpResponse<String> miss = get("/posts/1");
        assertThat(miss.statusCode()).isEqualTo(200);
        assertThat(miss.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        assertThat(miss.headers().firstValue("Cache-Status")).hasValue("regen; fwd=uri-miss; stored=true");
        assertThat(miss.body()).isEqualTo("/posts/1 render 1");

        HttpResponse<String> hit = get("/posts/1");
        assertThat(hit.headers().firstValue("X-Cache-Status")).hasValue("HIT");
        assertThat(hit.headers().firstValue("Cache-Status")).hasValue("regen; hit; ttl=10");
        assertThat(hit.headers().firstValue("Age")).hasValue("0");
        assertThat(hit.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
        assertThat(hit.body()).isEqualTo("/posts/1 render 1");

        clock.advance(Duration.ofSeconds(11));
        HttpResponse<String> stale = get("/posts/1");
        assertThat(stale.headers().firstValue("X-Cache-Status")).hasValue("STALE");
        assertThat(stale.headers().firstValue("Cache-Status")).hasValue("regen; hit; fwd=stale");
        assertThat(stale.headers().firstValue("Age")).hasValue("11");
        assertThat(stale.body()).isEqualTo("/posts/1 render 1");

        HttpResponse<String> fresh = awaitHit("/posts/1");
        assertThat(fresh.body()).isEqualTo("/posts/1 render 2");
        assertThat(servlet.renders("/posts/1")).isEqualTo(2);
    }

    @Test
    void get_200ConcurrentColdOnASmallThreadPool_servletRunsOnce() throws Exception {
        servlet.delayMillis = 300;
        try {
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                all.add(http.sendAsync(request("/slow").build(), HttpResponse.BodyHandlers.ofString()));
            }
            int waited = 0;
            for (CompletableFuture<HttpResponse<String>> f : all) {
                HttpResponse<String> r = f.get();
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("/slow render 1");
                String status = r.headers().firstValue("X-Cache-Status").orElse("");
                assertThat(status).isIn("MISS", "HIT"); // HIT: got its connection only after the render
                waited += status.equals("MISS") ? 1 : 0;
            }
            assertThat(servlet.renders("/slow")).isEqualTo(1);
            // more requests waited on the render at once than the pool has threads
            assertThat(waited).isGreaterThan(MAX_THREADS);
        } finally {
            servlet.delayMillis = 0;
        }
    }

    @Test
    void get_forgedRenderHeader_servedFromTheCache() throws Exception {
        long now = System.currentTimeMillis() / 1000;
        String forged = now + "." + "0".repeat(64);
        HttpResponse<String> first = send(request("/forged").header("X-Regen-Render", forged));
        assertThat(first.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        HttpResponse<String> second = send(request("/forged").header("X-Regen-Render", forged));
        assertThat(second.headers().firstValue("X-Cache-Status")).hasValue("HIT");
        HttpResponse<String> garbage = send(request("/forged").header("X-Regen-Render", "let-me-in"));
        assertThat(garbage.headers().firstValue("X-Cache-Status")).hasValue("HIT");
        assertThat(servlet.renders("/forged")).isEqualTo(1);
        // the render itself came from the engine, which never sent the client's header on
        assertThat(servlet.lastRenderHeader.get("/forged")).isNotEqualTo(forged);
    }

    @Test
    void post_bypassesTheCache_appRunsEachTime() throws Exception {
        for (int i = 1; i <= 2; i++) {
            HttpResponse<String> r = send(request("/form").POST(HttpRequest.BodyPublishers.ofString("a=1")));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("posted " + i);
            assertThat(r.headers().firstValue("X-Cache-Status")).hasValue("BYPASS");
            assertThat(r.headers().firstValue("Cache-Status")).hasValue("regen; fwd=method");
        }
    }

    @Test
    void get_ifNoneMatchOfTheCachedPage_304() throws Exception {
        HttpResponse<String> miss = get("/etag");
        String etag = miss.headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> notModified = send(request("/etag").header("If-None-Match", etag));
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.body()).isEmpty();
        assertThat(notModified.headers().firstValue("X-Cache-Status")).hasValue("HIT");
    }

    @Test
    void get_responseSettingACookie_neverStored() throws Exception {
        for (int i = 1; i <= 2; i++) {
            HttpResponse<String> r = get("/cookie");
            assertThat(r.headers().firstValue("X-Cache-Status")).hasValue("MISS");
            assertThat(r.headers().firstValue("Cache-Status")).hasValue("regen; fwd=uri-miss; stored=false");
            assertThat(r.headers().firstValue("Set-Cookie")).isPresent();
        }
        assertThat(servlet.renders("/cookie")).isEqualTo(2);
    }

    @Test
    void webhook_withSecret_marksTaggedPagesStale() throws Exception {
        get("/tagged/a");
        assertThat(get("/tagged/a").headers().firstValue("X-Cache-Status")).hasValue("HIT");
        HttpResponse<String> r = send(request("/api/revalidate")
                .header("Authorization", "Bearer " + SECRET)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tags\":[\"tagged\"]}")));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"success\":true").contains("\"invalidated\":1");
        assertThat(get("/tagged/a").headers().firstValue("X-Cache-Status")).hasValue("STALE");

        HttpResponse<String> wrong = send(request("/api/revalidate")
                .header("Authorization", "Bearer nope")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tags\":[\"tagged\"]}")));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(get("/_regen/health").body()).contains("ok");
    }

    @Test
    void get_servletWithoutAsyncSupport_waitsOnItsThreadInstead() throws Exception {
        HttpResponse<String> miss = get("/blocking/page");
        assertThat(miss.statusCode()).isEqualTo(200);
        assertThat(miss.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        assertThat(get("/blocking/page").headers().firstValue("X-Cache-Status")).hasValue("HIT");
        assertThat(servlet.renders("/blocking/page")).isEqualTo(1);
        assertThat(servlet.asyncSupported.get("/blocking/page")).isFalse();
    }

    private static HttpResponse<String> awaitHit(String path) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            HttpResponse<String> r = get(path);
            String status = r.headers().firstValue("X-Cache-Status").orElse("");
            if (status.equals("HIT") || System.nanoTime() > deadline) {
                assertThat(status).isEqualTo("HIT");
                return r;
            }
            Thread.sleep(20);
        }
    }

    private static HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20));
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(request(path));
    }

    private static HttpResponse<String> send(HttpRequest.Builder b) throws IOException, InterruptedException {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The app: counts its renders per path; {@code /tagged/*} carries a Cache-Tag, {@code /cookie} sets one. */
    static final class PageServlet extends HttpServlet {
        private final Map<String, AtomicInteger> renders = new ConcurrentHashMap<>();
        final Map<String, String> lastRenderHeader = new ConcurrentHashMap<>();
        final Map<String, Boolean> asyncSupported = new ConcurrentHashMap<>();
        private final AtomicInteger posts = new AtomicInteger();
        volatile long delayMillis;

        int renders(String path) {
            AtomicInteger n = renders.get(path);
            return n == null ? 0 : n.get();
        }

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String path = req.getRequestURI();
            int n = renders.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            asyncSupported.put(path, req.isAsyncSupported());
            String render = req.getHeader("X-Regen-Render");
            if (render != null) {
                lastRenderHeader.put(path, render);
            }
            if (delayMillis > 0) {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (path.startsWith("/tagged/")) {
                resp.setHeader("Cache-Tag", "tagged");
            }
            if (path.equals("/cookie")) {
                resp.addHeader("Set-Cookie", "visitor=" + n + "; Path=/; HttpOnly");
            }
            resp.setContentType("text/html;charset=utf-8");
            resp.getOutputStream().write((path + " render " + n).getBytes(StandardCharsets.UTF_8));
        }

        @Override
        protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("text/plain;charset=utf-8");
            resp.getWriter().write("posted " + posts.incrementAndGet());
        }
    }
}
