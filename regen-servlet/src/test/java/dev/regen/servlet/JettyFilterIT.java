package dev.regen.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.Regen;
import dev.regen.RegenConfig;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
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
    private static final int MAX_BODY = 256 * 1024;
    private static final String SECRET = "s3cret-for-tests";
    private static final FakeClock clock = new FakeClock();
    private static final PageServlet servlet = new PageServlet();
    private static final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static MemoryStore store;
    private static RegenFilter filter;
    private static Server server;
    private static URI base;

    @BeforeAll
    static void start() throws Exception {
        store = new MemoryStore(64L * 1024 * 1024, clock);
        filter = new RegenFilter(Regen.newBuilder()
                .config(RegenConfig.builder()
                        .revalidate(Duration.ofSeconds(10))
                        .renderTimeout(Duration.ofSeconds(5))
                        .maxBodyBytes(MAX_BODY)
                        .build())
                .store(store)
                .clock(clock)
                .secret(SECRET)
                .build());
        // few threads: 200 waiting requests fit only because a wait does not hold a thread
        QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 4);
        threads.setName("jetty");
        server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        // before Regen, as Spring Security's header writer is: it adds its fields as the response commits
        context.addFilter(new FilterHolder(new NoStoreOnCommit()), "/outer/*", EnumSet.of(DispatcherType.REQUEST));
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
        assertThat(miss.headers().firstValue("Vary")).hasValue("Accept-Encoding");
        assertThat(miss.body()).isEqualTo("/posts/1 render 1");

        // the page is stored once its body is complete, just after the client has it
        HttpResponse<String> hit = awaitHit("/posts/1");
        assertThat(hit.headers().firstValue("Cache-Status")).hasValue("regen; hit; ttl=10");
        assertThat(hit.headers().firstValue("Age")).hasValue("0");
        assertThat(hit.headers().firstValue("Content-Type"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
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
        // the background render came over loopback, and the app saw the public host, not 127.0.0.1
        assertThat(servlet.seen("/posts/1").get(1).serverName()).isEqualTo("127.0.0.1");
        assertThat(servlet.seen("/posts/1").get(1).forwardedHost()).isEqualTo(base.getAuthority());
    }

    @Test
    void get_publicHost_isPartOfTheKey_andBackgroundRendersSeeIt() throws Exception {
        Raw a = raw("/hosted", "Site-A.test");
        assertThat(a.header("X-Cache-Status")).isEqualTo("MISS");
        assertThat(a.body()).isEqualTo("/hosted render 1");
        await(() -> rawHit("/hosted", "site-a.test"));
        Raw b = raw("/hosted", "site-b.test");
        assertThat(b.header("X-Cache-Status")).isEqualTo("MISS");
        assertThat(b.body()).isEqualTo("/hosted render 2");
        // one host, however it is spelled
        Raw again = raw("/hosted", "site-a.test.:80");
        assertThat(again.header("X-Cache-Status")).isEqualTo("HIT");
        assertThat(again.body()).isEqualTo("/hosted render 1");
        assertThat(raw("/hosted", "bad/host").status()).isEqualTo(400);

        clock.advance(Duration.ofSeconds(11));
        assertThat(raw("/hosted", "site-a.test").header("X-Cache-Status")).isEqualTo("STALE");
        await(() -> servlet.renders("/hosted") == 3);
        Seen background = servlet.seen("/hosted").get(2);
        assertThat(background.serverName()).isEqualTo("site-a.test");
        assertThat(background.forwardedHost()).isEqualTo("site-a.test");
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
    void get_forgedRenderHeader_servedFromTheCache_appNeverSeesIt() throws Exception {
        long now = System.currentTimeMillis() / 1000;
        String forged = now + "." + "0".repeat(64);
        HttpResponse<String> first = send(request("/forged").header("X-Regen-Render", forged));
        assertThat(first.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        awaitHit("/forged");
        HttpResponse<String> second = send(request("/forged").header("X-Regen-Render", forged));
        assertThat(second.headers().firstValue("X-Cache-Status")).hasValue("HIT");
        HttpResponse<String> garbage = send(request("/forged").header("X-Regen-Render", "let-me-in"));
        assertThat(garbage.headers().firstValue("X-Cache-Status")).hasValue("HIT");
        assertThat(servlet.renders("/forged")).isEqualTo(1);
        // the render was the client's own request, without Regen's internal field
        assertThat(servlet.seen("/forged").get(0).renderHeader()).isNull();
    }

    @Test
    void render_appSeesTheForwardedRequest() throws Exception {
        HttpResponse<String> r = send(request("/seen?utm_source=mail&b=2&a=1")
                .header("If-None-Match", "\"old\"")
                .header("Accept-Encoding", "br")
                .header("X-Forwarded-Host", "evil.example")
                .header("Cookie", "_ga=GA1.2.3; _gid=x"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        Seen seen = servlet.seen("/seen").get(0);
        assertThat(seen.method()).isEqualTo("GET");
        assertThat(seen.dispatch()).isEqualTo(DispatcherType.REQUEST);
        // the key's query: tracking parameters dropped, the rest sorted, as background renders replay it
        assertThat(seen.query()).isEqualTo("a=1&b=2");
        assertThat(seen.ifNoneMatch()).isNull();
        assertThat(seen.acceptEncoding()).isEqualTo("gzip");
        assertThat(seen.forwardedHost()).isEqualTo(base.getAuthority());
        // analytics cookies never reach a render (and do not make the request credentialed)
        assertThat(seen.cookies()).isEmpty();
        assertThat(seen.cookieHeader()).isNull();
        awaitHit("/seen?a=1&b=2");
        assertThat(servlet.renders("/seen")).isEqualTo(1);
    }

    @Test
    void post_bypassesTheCache_appRunsEachTime() throws Exception {
        for (int i = 1; i <= 2; i++) {
            HttpResponse<String> r = send(request("/form").POST(HttpRequest.BodyPublishers.ofString("a=1")));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("posted " + i + ": a=1");
            assertThat(r.headers().firstValue("X-Cache-Status")).hasValue("BYPASS");
            assertThat(r.headers().firstValue("Cache-Status")).hasValue("regen; fwd=method");
        }
    }

    @Test
    void get_ifNoneMatchOfTheCachedPage_304() throws Exception {
        get("/etag");
        // a render's own answer carries the app's fields; the cached page has its ETag
        String etag = awaitHit("/etag").headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> notModified = send(request("/etag").header("If-None-Match", etag));
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.body()).isEmpty();
        assertThat(notModified.headers().firstValue("X-Cache-Status")).hasValue("HIT");
    }

    @Test
    void get_rangeOfACachedPage_206() throws Exception {
        assertThat(get("/ranged").body()).isEqualTo("/ranged render 1");
        awaitHit("/ranged");
        HttpResponse<String> part = send(request("/ranged").header("Range", "bytes=1-6"));
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.body()).isEqualTo("ranged");
        assertThat(part.headers().firstValue("Content-Range")).hasValue("bytes 1-6/16");
        assertThat(part.headers().firstValue("X-Cache-Status")).hasValue("HIT");
    }

    @Test
    void get_responseSettingACookie_neverStored_thenHitForPass() throws Exception {
        HttpResponse<String> first = get("/cookie");
        assertThat(first.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        assertThat(first.headers().firstValue("Cache-Status"))
                .hasValue("regen; fwd=uri-miss; stored=false; detail=\"response sets a cookie\"");
        assertThat(first.headers().firstValue("Set-Cookie")).hasValue("visitor=1; Path=/; HttpOnly");
        // the URL is remembered as not storable: the next request goes straight to the app
        HttpResponse<String> second = get("/cookie");
        assertThat(second.headers().firstValue("X-Cache-Status")).hasValue("BYPASS");
        assertThat(second.headers().firstValue("Cache-Status"))
                .hasValue("regen; fwd=bypass; stored=false; detail=\"hit-for-pass\"");
        assertThat(second.headers().firstValue("Set-Cookie")).hasValue("visitor=2; Path=/; HttpOnly");
        assertThat(servlet.renders("/cookie")).isEqualTo(2);
    }

    @Test
    void get_loggedInUser_getsTheirOwnPageEveryTime_anonymousGetsTheCachedOne() throws Exception {
        HttpResponse<String> anonymous = get("/account");
        assertThat(anonymous.body()).isEqualTo("Please log in (render 1)");
        assertThat(anonymous.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        awaitHit("/account");

        for (String user : List.of("alice", "bob", "alice")) {
            HttpResponse<String> own = send(request("/account").header("Cookie", "_ga=GA1; sid=" + user));
            assertThat(own.body()).startsWith("Welcome back " + user);
            assertThat(own.headers().firstValue("X-Cache-Status")).hasValue("BYPASS");
            assertThat(own.headers().firstValue("Cache-Status"))
                    .hasValue("regen; fwd=bypass; stored=false; detail=\"credentials\"");
            assertThat(own.headers().firstValue("Cache-Control")).hasValue("private");
        }
        assertThat(servlet.renders("/account")).isEqualTo(4);

        HttpResponse<String> stillAnonymous = get("/account");
        assertThat(stillAnonymous.headers().firstValue("X-Cache-Status")).hasValue("HIT");
        assertThat(stillAnonymous.body()).isEqualTo("Please log in (render 1)");
        // an analytics cookie alone is no login
        HttpResponse<String> tracked = send(request("/account").header("Cookie", "_ga=GA1.2"));
        assertThat(tracked.headers().firstValue("X-Cache-Status")).hasValue("HIT");
        assertThat(servlet.renders("/account")).isEqualTo(4);
    }

    @Test
    void get_varyAcceptLanguage_eachClientGetsItsVariant() throws Exception {
        HttpResponse<String> fr = send(request("/lang").header("Accept-Language", "fr"));
        assertThat(fr.body()).isEqualTo("bonjour");
        assertThat(fr.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        assertThat(fr.headers().firstValue("Vary")).hasValue("Accept-Language, Accept-Encoding");
        HttpResponse<String> en = send(request("/lang").header("Accept-Language", "en"));
        assertThat(en.body()).isEqualTo("hello");
        assertThat(en.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        awaitHit(request("/lang").header("Accept-Language", "en"));

        for (int i = 0; i < 2; i++) {
            HttpResponse<String> frHit = send(request("/lang").header("Accept-Language", "fr"));
            assertThat(frHit.body()).isEqualTo("bonjour");
            assertThat(frHit.headers().firstValue("X-Cache-Status")).hasValue("HIT");
            HttpResponse<String> enHit = send(request("/lang").header("Accept-Language", "en"));
            assertThat(enHit.body()).isEqualTo("hello");
            assertThat(enHit.headers().firstValue("X-Cache-Status")).hasValue("HIT");
        }
        assertThat(servlet.renders("/lang")).isEqualTo(2);
    }

    @Test
    void get_varyAcceptLanguage_aClientWaitingOnAnotherVariant_getsItsOwn() throws Exception {
        servlet.gate = new CountDownLatch(1);
        try {
            CompletableFuture<HttpResponse<String>> fr = http.sendAsync(
                    request("/lang-held").header("Accept-Language", "fr").build(),
                    HttpResponse.BodyHandlers.ofString());
            await(() -> servlet.renders("/lang-held") == 1);
            long misses = filter.engine().stats().misses();
            CompletableFuture<HttpResponse<String>> en = http.sendAsync(
                    request("/lang-held").header("Accept-Language", "en").build(),
                    HttpResponse.BodyHandlers.ofString());
            // en waits on fr's render (the variants are not known yet), then long enough to go asynchronous
            await(() -> filter.engine().stats().misses() > misses);
            Thread.sleep(RegenFilter.DECISION_WAIT.toMillis() * 5);
            servlet.gate.countDown();

            assertThat(fr.get(10, TimeUnit.SECONDS).body()).isEqualTo("bonjour");
            HttpResponse<String> enAnswer = en.get(10, TimeUnit.SECONDS);
            assertThat(enAnswer.body()).isEqualTo("hello");
            assertThat(enAnswer.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        } finally {
            servlet.gate = null;
        }
        assertThat(servlet.renders("/lang-held")).isEqualTo(2);
        // en's own render came after its request went asynchronous: the app answered it over loopback,
        // as a REQUEST dispatch through every filter, with the public host
        Seen enRender = servlet.seen("/lang-held").get(1);
        assertThat(enRender.dispatch()).isEqualTo(DispatcherType.REQUEST);
        assertThat(enRender.serverName()).isEqualTo("127.0.0.1");
        assertThat(enRender.forwardedHost()).isEqualTo(base.getAuthority());
        awaitHit(request("/lang-held").header("Accept-Language", "en"));
        assertThat(servlet.renders("/lang-held")).isEqualTo(2);
    }

    @Test
    void get_aWaiterThatLeaves_doesNotHoldItsVariant() throws Exception {
        servlet.gate = new CountDownLatch(1);
        try {
            CompletableFuture<HttpResponse<String>> fr = http.sendAsync(
                    request("/lang-left").header("Accept-Language", "fr").build(),
                    HttpResponse.BodyHandlers.ofString());
            await(() -> servlet.renders("/lang-left") == 1);
            long misses = filter.engine().stats().misses();
            try (java.net.Socket en = new java.net.Socket("127.0.0.1", base.getPort())) {
                en.getOutputStream()
                        .write(("GET /lang-left HTTP/1.1\r\nHost: " + base.getAuthority()
                                        + "\r\nAccept-Language: en\r\n\r\n")
                                .getBytes(StandardCharsets.ISO_8859_1));
                await(() -> filter.engine().stats().misses() > misses); // en waits on fr's render
            } // and leaves
            servlet.gate.countDown();
            assertThat(fr.get(10, TimeUnit.SECONDS).body()).isEqualTo("bonjour");
        } finally {
            servlet.gate = null;
        }
        // the render decided for en after it left is run or reported: the next en request does not wait on it
        long start = System.nanoTime();
        HttpResponse<String> en = send(request("/lang-left").header("Accept-Language", "en"));
        assertThat(en.body()).isEqualTo("hello");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        await(() -> filter.engine().rendersInFlight() == 0);
    }

    @Test
    void get_streamedPage_reachesTheClientBeforeTheAppEnds_andIsStored() throws Exception {
        servlet.gate = new CountDownLatch(1);
        HttpResponse<InputStream> r;
        String first;
        try {
            r = http.send(request("/stream").build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.headers().firstValue("X-Cache-Status")).hasValue("MISS");
            assertThat(r.headers().firstValue("Cache-Status")).hasValue("regen; fwd=uri-miss; stored=true");
            InputStream in = r.body();
            // the first part arrives while the app still waits for the gate
            first = CompletableFuture.supplyAsync(() -> readText(in, "first part\n".length()))
                    .get(5, TimeUnit.SECONDS);
        } finally {
            servlet.gate.countDown();
        }
        assertThat(first).isEqualTo("first part\n");
        assertThat(new String(r.body().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("second part\n");

        HttpResponse<String> hit = awaitHit("/stream");
        assertThat(hit.body()).isEqualTo("first part\nsecond part\n");
        assertThat(servlet.renders("/stream")).isEqualTo(1);
    }

    @Test
    void get_bodyOverTheLimit_streamsWhole_notStored() throws Exception {
        for (int i = 1; i <= 2; i++) {
            HttpResponse<byte[]> r = http.send(request("/big").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).hasSize(MAX_BODY + 4096);
            assertThat(r.body()).isEqualTo(PageServlet.big());
            // the first answer was told stored=true at its head, before its size was known; its URL then
            // goes to the app directly
            assertThat(r.headers().firstValue("X-Cache-Status")).hasValue(i == 1 ? "MISS" : "BYPASS");
        }
        assertThat(servlet.renders("/big")).isEqualTo(2);
    }

    @Test
    void head_onAnUncachedPage_storesTheWholePage_andTheNextGetIsAHit() throws Exception {
        HttpResponse<String> head = send(request("/head-first").method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        assertThat(head.headers().firstValue("Content-Length"))
                .hasValue(String.valueOf("/head-first render 1".length()));
        // the app answered the GET the engine forwards: the page stored is whole
        assertThat(servlet.seen("/head-first").get(0).method()).isEqualTo("GET");

        HttpResponse<String> get = awaitHit("/head-first");
        assertThat(get.body()).isEqualTo("/head-first render 1");
        HttpResponse<String> headHit = send(request("/head-first").method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(headHit.headers().firstValue("X-Cache-Status")).hasValue("HIT");
        assertThat(headHit.body()).isEmpty();
        assertThat(servlet.renders("/head-first")).isEqualTo(1);
    }

    @Test
    void get_appThatGoesAsync_isStoredWhenItCompletes() throws Exception {
        HttpResponse<String> miss = get("/async");
        assertThat(miss.body()).isEqualTo("written later");
        assertThat(miss.headers().firstValue("Cache-Status")).hasValue("regen; fwd=uri-miss; stored=true");
        HttpResponse<String> hit = awaitHit("/async");
        assertThat(hit.body()).isEqualTo("written later");
        assertThat(servlet.renders("/async")).isEqualTo(1);
    }

    @Test
    void get_appSendError_orThrows_notStored() throws Exception {
        for (int i = 1; i <= 2; i++) {
            HttpResponse<String> missing = get("/missing");
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.headers().firstValue("X-Cache-Status")).hasValue("MISS");
            HttpResponse<String> boom = get("/boom");
            assertThat(boom.statusCode()).isEqualTo(500);
        }
        assertThat(servlet.renders("/missing")).isEqualTo(2);
        assertThat(servlet.renders("/boom")).isEqualTo(2);
        assertThat(get("/posts/after-errors").headers().firstValue("X-Cache-Status"))
                .hasValue("MISS");
    }

    @Test
    void get_filterBeforeRegenForbidsStorageAsTheResponseCommits_notStored() throws Exception {
        for (int i = 1; i <= 2; i++) {
            HttpResponse<String> r = get("/outer/page");
            assertThat(r.body()).isEqualTo("/outer/page render " + i);
            assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
            assertThat(r.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        }
        assertThat(servlet.renders("/outer/page")).isEqualTo(2);
    }

    @Test
    void webhook_withSecret_marksTaggedPagesStale() throws Exception {
        get("/tagged/a");
        awaitHit("/tagged/a");
        int before = servlet.renders("/tagged/a");
        HttpResponse<String> r = send(request("/_regen/revalidate")
                .header("Authorization", "Bearer " + SECRET)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tags\":[\"tagged\"]}")));
        assertThat(r.statusCode()).isEqualTo(200);
        // read since its render: re-rendered at once (eager revalidation), not left for a visitor to find stale
        assertThat(r.body())
                .contains("\"success\":true")
                .contains("\"invalidated\":1")
                .contains("\"queued\":1");
        await(() -> servlet.renders("/tagged/a") == before + 1);
        assertThat(awaitHit("/tagged/a").body()).endsWith("render " + (before + 1));

        HttpResponse<String> wrong = send(request("/_regen/revalidate")
                .header("Authorization", "Bearer nope")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tags\":[\"tagged\"]}")));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(get("/_regen/health").body()).contains("ok");
        // the app's own route of the old default name is the app's
        HttpResponse<String> appRoute = send(request("/api/revalidate").POST(HttpRequest.BodyPublishers.ofString("x")));
        assertThat(appRoute.body()).isEqualTo("posted 1: x");
        assertThat(appRoute.headers().firstValue("X-Cache-Status")).hasValue("BYPASS");
    }

    @Test
    void get_servletWithoutAsyncSupport_waitsOnItsThreadInstead() throws Exception {
        HttpResponse<String> miss = get("/blocking/page");
        assertThat(miss.statusCode()).isEqualTo(200);
        assertThat(miss.headers().firstValue("X-Cache-Status")).hasValue("MISS");
        awaitHit("/blocking/page");
        assertThat(servlet.renders("/blocking/page")).isEqualTo(1);
        assertThat(servlet.seen("/blocking/page").get(0).asyncSupported()).isFalse();
    }

    /** A response read off a raw socket, for requests the JDK client can't make (another {@code Host}). */
    record Raw(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase(java.util.Locale.ROOT));
        }
    }

    private static Raw raw(String path, String host) throws IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", base.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream()
                    .write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
            String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            String[] lines = text.substring(0, end).split("\r\n", -1);
            Map<String, String> headers = new java.util.HashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.put(
                        lines[i].substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
                        lines[i].substring(colon + 1).trim());
            }
            String body = text.substring(end + 4);
            if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                StringBuilder whole = new StringBuilder();
                int at = 0;
                while (true) {
                    int eol = body.indexOf("\r\n", at);
                    int size = Integer.parseInt(body.substring(at, eol).trim(), 16);
                    if (size == 0) {
                        break;
                    }
                    whole.append(body, eol + 2, eol + 2 + size);
                    at = eol + 2 + size + 2;
                }
                body = whole.toString();
            }
            return new Raw(Integer.parseInt(lines[0].split(" ", -1)[1]), headers, body);
        }
    }

    private static String readText(InputStream in, int bytes) {
        try {
            return new String(in.readNBytes(bytes), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static boolean rawHit(String path, String host) {
        try {
            return "HIT".equals(raw(path, host).header("X-Cache-Status"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static HttpResponse<String> awaitHit(String path) throws Exception {
        return awaitHit(request(path));
    }

    /** Asks until the answer is a HIT: a page is stored just after its render's client has it. */
    private static HttpResponse<String> awaitHit(HttpRequest.Builder request) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            HttpResponse<String> r = send(request);
            String status = r.headers().firstValue("X-Cache-Status").orElse("");
            if (status.equals("HIT") || System.nanoTime() > deadline) {
                assertThat(status).isEqualTo("HIT");
                return r;
            }
            Thread.sleep(20);
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition not met in 5 s").isLessThan(deadline);
            Thread.sleep(5);
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

    /**
     * A filter that, like Spring Security's {@code HeaderWriterFilter}, wraps the response and writes
     * {@code Cache-Control: no-store} (unless the app set one) when the body first reaches it, on a
     * flush, or at the end.
     */
    static final class NoStoreOnCommit implements jakarta.servlet.Filter {
        @Override
        public void doFilter(
                jakarta.servlet.ServletRequest request,
                jakarta.servlet.ServletResponse response,
                jakarta.servlet.FilterChain chain)
                throws IOException, ServletException {
            HttpServletResponse res = (HttpServletResponse) response;
            chain.doFilter(request, new jakarta.servlet.http.HttpServletResponseWrapper(res) {
                @Override
                public void flushBuffer() throws IOException {
                    noStore(res);
                    super.flushBuffer();
                }

                @Override
                public jakarta.servlet.ServletOutputStream getOutputStream() throws IOException {
                    jakarta.servlet.ServletOutputStream out = super.getOutputStream();
                    return new jakarta.servlet.ServletOutputStream() {
                        @Override
                        public void write(int b) throws IOException {
                            noStore(res);
                            out.write(b);
                        }

                        @Override
                        public void write(byte[] b, int off, int len) throws IOException {
                            noStore(res);
                            out.write(b, off, len);
                        }

                        @Override
                        public void flush() throws IOException {
                            noStore(res);
                            out.flush();
                        }

                        @Override
                        public boolean isReady() {
                            return out.isReady();
                        }

                        @Override
                        public void setWriteListener(jakarta.servlet.WriteListener listener) {
                            out.setWriteListener(listener);
                        }
                    };
                }
            });
            noStore(res);
        }

        private static void noStore(HttpServletResponse res) {
            if (!res.isCommitted() && !res.containsHeader("Cache-Control")) {
                res.setHeader("Cache-Control", "no-store");
            }
        }
    }

    /** What the app saw of one request. */
    record Seen(
            String method,
            DispatcherType dispatch,
            boolean asyncSupported,
            String serverName,
            String forwardedHost,
            String query,
            String ifNoneMatch,
            String acceptEncoding,
            String cookieHeader,
            List<String> cookies,
            String renderHeader) {}

    /** The app: counts its renders per path and records what it saw; a few paths behave as real pages do. */
    static final class PageServlet extends HttpServlet {
        private final Map<String, AtomicInteger> renders = new ConcurrentHashMap<>();
        private final Map<String, List<Seen>> seen = new ConcurrentHashMap<>();
        volatile long delayMillis;
        /** Held pages ({@code /stream}, {@code /lang-held}) wait for it. */
        volatile CountDownLatch gate;

        int renders(String path) {
            AtomicInteger n = renders.get(path);
            return n == null ? 0 : n.get();
        }

        List<Seen> seen(String path) {
            return seen.getOrDefault(path, List.of());
        }

        static byte[] big() {
            byte[] body = new byte[MAX_BODY + 4096];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) ('a' + i % 26);
            }
            return body;
        }

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
            String path = req.getRequestURI();
            int n = renders.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            Cookie[] cookies = req.getCookies();
            seen.computeIfAbsent(path, p -> new CopyOnWriteArrayList<>())
                    .add(new Seen(
                            req.getMethod(),
                            req.getDispatcherType(),
                            req.isAsyncSupported(),
                            req.getServerName(),
                            req.getHeader("X-Forwarded-Host"),
                            req.getQueryString(),
                            req.getHeader("If-None-Match"),
                            req.getHeader("Accept-Encoding"),
                            req.getHeader("Cookie"),
                            cookies == null
                                    ? List.of()
                                    : Arrays.stream(cookies)
                                            .map(Cookie::getName)
                                            .toList(),
                            req.getHeader("X-Regen-Render")));
            if (delayMillis > 0) {
                sleep(delayMillis);
            }
            switch (path) {
                case "/cookie" -> resp.addHeader("Set-Cookie", "visitor=" + n + "; Path=/; HttpOnly");
                case "/account" -> {
                    Cookie sid = cookies == null
                            ? null
                            : Arrays.stream(cookies)
                                    .filter(c -> c.getName().equals("sid"))
                                    .findFirst()
                                    .orElse(null);
                    resp.setContentType("text/html;charset=utf-8");
                    if (sid != null) {
                        resp.setHeader("Cache-Control", "private");
                        resp.getWriter().write("Welcome back " + sid.getValue() + " (render " + n + ")");
                    } else {
                        resp.getWriter().write("Please log in (render " + n + ")");
                    }
                    return;
                }
                case "/lang", "/lang-held", "/lang-left" -> {
                    if (!path.equals("/lang") && "fr".equals(req.getHeader("Accept-Language"))) {
                        awaitGate();
                    }
                    resp.setHeader("Vary", "Accept-Language");
                    resp.setContentType("text/plain;charset=utf-8");
                    resp.getWriter().write("fr".equals(req.getHeader("Accept-Language")) ? "bonjour" : "hello");
                    return;
                }
                case "/stream" -> {
                    resp.setContentType("text/plain;charset=utf-8");
                    OutputStream out = resp.getOutputStream();
                    out.write("first part\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    awaitGate();
                    out.write("second part\n".getBytes(StandardCharsets.UTF_8));
                    return;
                }
                case "/big" -> {
                    resp.setContentType("application/octet-stream");
                    byte[] body = big();
                    OutputStream out = resp.getOutputStream();
                    for (int off = 0; off < body.length; off += 10_000) {
                        out.write(body, off, Math.min(10_000, body.length - off));
                    }
                    return;
                }
                case "/async" -> {
                    AsyncContext async = req.startAsync();
                    async.start(() -> {
                        try {
                            sleep(50);
                            async.getResponse().setContentType("text/plain;charset=utf-8");
                            async.getResponse().getWriter().write("written later");
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        } finally {
                            async.complete();
                        }
                    });
                    return;
                }
                case "/missing" -> {
                    resp.sendError(404, "no such page");
                    return;
                }
                case "/boom" -> throw new ServletException("the database is down");
                default -> {
                    if (path.startsWith("/tagged/")) {
                        resp.setHeader("Cache-Tag", "tagged");
                    }
                }
            }
            resp.setContentType("text/html;charset=utf-8");
            resp.getOutputStream().write((path + " render " + n).getBytes(StandardCharsets.UTF_8));
        }

        @Override
        protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String body = new String(req.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int n = renders.computeIfAbsent("POST " + req.getRequestURI(), p -> new AtomicInteger())
                    .incrementAndGet();
            resp.setContentType("text/plain;charset=utf-8");
            resp.getWriter().write("posted " + n + ": " + body);
        }

        private void awaitGate() {
            CountDownLatch g = gate;
            if (g != null) {
                try {
                    g.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        private static void sleep(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
