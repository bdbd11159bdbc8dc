package dev.regen;

import static dev.regen.TestEdge.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.TestEdge.Served;
import dev.regen.internal.ClientRequest;
import dev.regen.internal.Forwarding;
import dev.regen.internal.Header;
import dev.regen.internal.OriginException;
import dev.regen.internal.OriginRequest;
import dev.regen.internal.OriginResponse;
import dev.regen.internal.Reply;
import dev.regen.internal.RequestHeaders;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RegenEngineTest {
    private final FakeClock clock = new FakeClock();
    private final FakeOrigin origin = new FakeOrigin();
    private final MemoryStore store = new MemoryStore(64L << 20, clock);
    private RegenEngine engine;
    private TestEdge edge;

    RegenEngineTest() {
        use(RegenConfig.builder().revalidate(Duration.ofSeconds(60)).build());
    }

    private void use(RegenConfig config) {
        if (engine != null) {
            engine.close();
        }
        engine = Regen.newBuilder()
                .config(config)
                .store(store)
                .clock(clock)
                // store I/O and background renders run in the call that starts them: nothing to wait for
                .executor(Runnable::run)
                .build()
                .newEngine(origin);
        edge = new TestEdge(engine, origin);
    }

    @AfterEach
    void close() {
        engine.close();
        store.close();
    }

    private Served serve(String target, String... headers) {
        return serve(get(target, headers));
    }

    private Served serve(ClientRequest request) {
        return edge.serve(request).orTimeout(10, TimeUnit.SECONDS).join();
    }

    private void assertCalls(int n) {
        assertThat(origin.calls()).isEqualTo(n);
    }

    private static Header h(String name, String value) {
        return new Header(name, value);
    }

    // ------------------------------------------------------------------------------- ISR basics

    @Test
    void serve_missThenHitThenStaleThenHit_oneBackgroundRender() throws Exception {
        Served first = serve("/a");
        assertThat(first.cacheStatus()).isEqualTo(CacheStatus.MISS);
        assertThat(first.cacheStatusField()).isEqualTo("regen; fwd=uri-miss; stored=true");
        assertThat(first.text()).isEqualTo("render 1");

        // before the refresh-ahead part of the fresh window (the last 20 %)
        clock.advance(Duration.ofSeconds(47));
        assertThat(serve("/a").cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(origin.calls()).isEqualTo(1);

        clock.advance(Duration.ofSeconds(13));
        origin.hold();
        Served stale = serve("/a");
        assertThat(stale.cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertThat(stale.text()).isEqualTo("render 1");
        assertCalls(2);
        assertThat(serve("/a").cacheStatus()).isEqualTo(CacheStatus.STALE);
        origin.release();
        assertNow(() -> serve("/a").cacheStatus() == CacheStatus.HIT);
        assertThat(serve("/a").text()).isEqualTo("render 2");
        assertThat(origin.calls()).isEqualTo(2);
    }

    @Test
    void serve_200ConcurrentMisses_oneRenderAllGetIt() throws Exception {
        origin.hold();
        List<CompletableFuture<Served>> replies = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            replies.add(edge.serve(get("/cold")));
        }
        assertCalls(1);
        assertThat(replies).noneMatch(CompletableFuture::isDone);
        origin.release();
        for (CompletableFuture<Served> r : replies) {
            Served served = r.get(10, TimeUnit.SECONDS);
            // a request whose store lookup ran after the render finished finds the page: a HIT
            assertThat(served.cacheStatus()).isIn(CacheStatus.MISS, CacheStatus.HIT);
            assertThat(served.text()).isEqualTo("render 1");
        }
        assertThat(origin.calls()).isEqualTo(1);
    }

    @Test
    void serve_200ConcurrentStale_oneRenderNobodyWaits() throws Exception {
        serve("/s");
        clock.advance(Duration.ofSeconds(61));
        origin.hold();
        for (int i = 0; i < 200; i++) {
            CompletableFuture<Reply> r = engine.serve(get("/s"));
            // L1 hit: decided on the calling thread, never waits for the render
            assertThat(r).isDone();
            assertThat(((Reply.Page) r.join()).status()).isEqualTo(CacheStatus.STALE);
        }
        assertCalls(2);
        origin.release();
        assertNow(() -> serve("/s").cacheStatus() == CacheStatus.HIT);
        assertThat(origin.calls()).as(origin.seen().toString()).isEqualTo(2);
    }

    @Test
    void serve_originDownWhenStale_servesStaleAndBacksOff() throws Exception {
        serve("/d");
        clock.advance(Duration.ofSeconds(61));
        origin.failWith(new OriginException(OriginException.Kind.UNREACHABLE, "connection refused"));
        assertThat(serve("/d").cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertCalls(2);
        assertNow(() -> engine.stats().renderErrors() == 1 && engine.rendersInFlight() == 0);
        // inside the backoff window no new render is tried
        assertThat(serve("/d").text()).isEqualTo("render 1");
        assertThat(origin.calls()).isEqualTo(2);
        clock.advance(Duration.ofSeconds(2));
        serve("/d");
        assertCalls(3);
    }

    @Test
    void serve_originDownOnMiss_leaderAndWaitersGet502() throws Exception {
        origin.hold().failWith(new OriginException(OriginException.Kind.UNREACHABLE, "connection refused"));
        CompletableFuture<Served> leader = edge.serve(get("/m"));
        CompletableFuture<Served> waiter = edge.serve(get("/m"));
        assertNow(() -> engine.stats().misses() == 2);
        assertCalls(1);
        origin.release();
        assertThat(leader.get(5, TimeUnit.SECONDS).status()).isEqualTo(502);
        assertThat(waiter.get(5, TimeUnit.SECONDS).status()).isEqualTo(502);
        assertThat(origin.calls()).isEqualTo(1);
        origin.failWith(new OriginException(OriginException.Kind.TIMEOUT, "slow"));
        assertThat(serve("/m2").status()).isEqualTo(504);
    }

    @Test
    void serve_5xxOnStale_keepsPage() throws Exception {
        serve("/e");
        clock.advance(Duration.ofSeconds(61));
        origin.respondWith(r -> new OriginResponse(500, List.of(), new byte[0]));
        serve("/e");
        assertCalls(2);
        assertNow(() -> engine.stats().renderErrors() == 1);
        assertThat(serve("/e").text()).isEqualTo("render 1");
    }

    @Test
    void serve_5xxOnMiss_leaderAndWaitersGetItNothingStored() throws Exception {
        origin.hold().respondWith(r -> new OriginResponse(503, List.of(), "down".getBytes(StandardCharsets.UTF_8)));
        CompletableFuture<Served> one = edge.serve(get("/f"));
        CompletableFuture<Served> two = edge.serve(get("/f"));
        assertCalls(1);
        assertNow(() -> engine.stats().misses() == 2);
        origin.release();
        // the leader relayed it; the waiter got the same answer without a render of its own
        assertThat(List.of(one.get(5, TimeUnit.SECONDS), two.get(5, TimeUnit.SECONDS)))
                .allSatisfy(s -> assertThat(s.status()).isEqualTo(503))
                .extracting(s -> s.reply().getClass().getSimpleName())
                .containsExactlyInAnyOrder("Forward", "Rendered");
        assertThat(origin.calls()).isEqualTo(1);
        assertThat(serve("/f").status()).isEqualTo(503);
        assertThat(origin.calls()).isEqualTo(2);
    }

    @Test
    void serve_404OnRevalidate_replacesPageWithCached404() throws Exception {
        serve("/g");
        clock.advance(Duration.ofSeconds(61));
        origin.respondWith(r -> new OriginResponse(404, List.of(), "gone".getBytes(StandardCharsets.UTF_8)));
        assertThat(serve("/g").cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertCalls(2);
        assertNow(() -> serve("/g").status() == 404);
        Served hit = serve("/g");
        assertThat(hit.cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(hit.text()).isEqualTo("gone");
        assertThat(origin.calls()).isEqualTo(2);
    }

    @Test
    void serve_404Flood_reachesOriginOnceUntilErrorRevalidate() {
        origin.respondWith(r -> new OriginResponse(404, List.of(), "missing".getBytes(StandardCharsets.UTF_8)));
        for (int i = 0; i < 1000; i++) {
            assertThat(serve("/missing").status()).isEqualTo(404);
        }
        assertThat(origin.calls()).isEqualTo(1);
        // cached 4xx answers use their own short default (10 s), not the page default (60 s)
        clock.advance(Duration.ofSeconds(11));
        assertThat(serve("/missing").cacheStatus()).isEqualTo(CacheStatus.STALE);
    }

    // ----------------------------------------------------- a render is the client's own request

    @Test
    void render_sendsTheClientsOwnRequestMinusHopByHopForwardingConditionalsAndRange() {
        serve(
                "/own",
                "User-Agent",
                "Mozilla/5.0 test",
                "Accept",
                "text/html",
                "Accept-Language",
                "fr",
                "Connection",
                "keep-alive, X-Hop",
                "X-Hop",
                "1",
                "Keep-Alive",
                "timeout=5",
                "TE",
                "trailers",
                "X-Forwarded-Host",
                "evil.example",
                "Forwarded",
                "for=1.2.3.4",
                "If-None-Match",
                "\"old\"",
                "If-Modified-Since",
                "Mon, 01 Jan 2024 00:00:00 GMT",
                "Accept-Encoding",
                "br, zstd",
                "Cookie",
                "_ga=GA1.1.1; _gid=2",
                "X-Custom",
                "kept");
        OriginRequest sent = origin.seen().get(0);
        assertThat(sent.headers())
                .contains(
                        h("User-Agent", "Mozilla/5.0 test"),
                        h("Accept", "text/html"),
                        h("Accept-Language", "fr"),
                        h("X-Custom", "kept"),
                        h("Accept-Encoding", "gzip"));
        assertThat(sent.headers())
                .extracting(Header::name)
                .doesNotContain(
                        "Connection",
                        "X-Hop",
                        "Keep-Alive",
                        "TE",
                        "X-Forwarded-Host",
                        "Forwarded",
                        "If-None-Match",
                        "If-Modified-Since",
                        "Cookie");
        assertThat(sent.method()).isEqualTo("GET");
    }

    @Test
    void serve_headRequest_renderedWithGet() {
        Served head = serve(TestEdge.request("HEAD", "/h"));
        assertThat(origin.seen().get(0).method()).isEqualTo("GET");
        assertThat(head.cacheStatus()).isEqualTo(CacheStatus.MISS);
        assertThat(serve("/h").cacheStatus()).isEqualTo(CacheStatus.HIT);
    }

    @Test
    void serve_spellingsOfOnePage_oneEntryAndOriginGetsCanonicalTarget() {
        serve("/blog//a?utm_source=x&b=1&a=2");
        assertThat(serve("/blog/./a?a=2&b=1").cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(serve("http://evil.example/blog/%61?b=1&a=2&fbclid=1").cacheStatus())
                .isEqualTo(CacheStatus.HIT);
        assertThat(origin.seen()).extracting(OriginRequest::target).containsExactly("/blog/a?a=2&b=1");
    }

    @Test
    void serve_publicHostIsPartOfTheKey() {
        serve(new ClientRequest("GET", "/p", "www.example.com", "http", RequestHeaders.of(List.of()), false));
        Served other =
                serve(new ClientRequest("GET", "/p", "forged.example", "http", RequestHeaders.of(List.of()), false));
        assertThat(other.cacheStatus()).isEqualTo(CacheStatus.MISS);
        assertThat(origin.calls()).isEqualTo(2);
    }

    // --------------------------------------------------------------- credentials (RFC 9111 §3.5)

    @Test
    void serve_loggedInUser_forwardedWithCookieAndNeverStored_anonymousStillCached() {
        origin.respondWith(r -> HttpFieldsTestSupport.has(r.headers(), "Cookie", "sid=alice")
                ? FakeOrigin.page("Welcome back alice", h("Cache-Control", "private"))
                : FakeOrigin.page("Please log in"));
        Served anon = serve("/account");
        assertThat(anon.text()).isEqualTo("Please log in");
        for (int i = 0; i < 3; i++) {
            Served alice = serve("/account", "Cookie", "sid=alice; _ga=GA1.2");
            assertThat(alice.text()).isEqualTo("Welcome back alice");
            assertThat(alice.cacheStatus()).isEqualTo(CacheStatus.BYPASS);
            assertThat(alice.cacheStatusField()).contains("detail=\"credentials\"");
        }
        // the ignored analytics cookie never reached the origin; the session cookie did
        assertThat(origin.seen().get(1).headers()).contains(h("Cookie", "sid=alice"));
        Served anonAgain = serve("/account", "Cookie", "_ga=GA1.2; _gid=x");
        assertThat(anonAgain.text()).isEqualTo("Please log in");
        assertThat(anonAgain.cacheStatus()).isEqualTo(CacheStatus.HIT);
    }

    @Test
    void serve_credentialed_servedFromCacheOnlyWhenPageExplicitlyPublic() {
        origin.respondWith(r -> r.target().equals("/public")
                ? FakeOrigin.page("shared", h("Cache-Control", "public, max-age=60"))
                : FakeOrigin.page("implicit"));
        serve("/public");
        serve("/implicit");
        assertThat(serve("/public", "Authorization", "Bearer t").cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(serve("/implicit", "Authorization", "Bearer t").cacheStatus())
                .isEqualTo(CacheStatus.BYPASS);
        assertThat(serve("/implicit", "Cookie", "theme=dark").cacheStatus()).isEqualTo(CacheStatus.BYPASS);
        assertThat(origin.calls()).isEqualTo(4);
    }

    @Test
    void serve_credentialedAnswerMarkedPublic_isStored() {
        origin.respondWith(r -> FakeOrigin.page("for all", h("Cache-Control", "s-maxage=30")));
        Served first = serve("/c", "Cookie", "sid=bob");
        assertThat(first.cacheStatusField()).contains("stored=true");
        assertThat(serve("/c").cacheStatus()).isEqualTo(CacheStatus.HIT);
    }

    // ------------------------------------------------------------------------------- hit-for-pass

    @Test
    void serve_setCookie_notStoredNotSharedWithWaiters_thenHitForPass() throws Exception {
        origin.hold().respondWith(r -> FakeOrigin.page("for you", h("Set-Cookie", "sid=1")));
        CompletableFuture<Served> one = edge.serve(get("/c"));
        CompletableFuture<Served> two = edge.serve(get("/c"));
        assertCalls(1);
        assertNow(() -> engine.stats().misses() == 2);
        origin.release();
        // the waiter never receives the answer meant for the leader: it asked on its own
        assertThat(one.get(5, TimeUnit.SECONDS).text()).isEqualTo("for you");
        Served waiter = two.get(5, TimeUnit.SECONDS);
        assertThat(waiter.reply()).isInstanceOf(Reply.Forward.class);
        assertThat(origin.calls()).isEqualTo(2);
        assertThat(store.get("page:/c @example.com")).isNull();
        // hit-for-pass: straight to the origin, on its own, without queueing
        origin.hold();
        CompletableFuture<Served> a = edge.serve(get("/c"));
        CompletableFuture<Served> b = edge.serve(get("/c"));
        assertCalls(4);
        origin.release();
        assertThat(a.get(5, TimeUnit.SECONDS).cacheStatusField()).contains("detail=\"hit-for-pass\"");
        assertThat(b.get(5, TimeUnit.SECONDS).cacheStatus()).isEqualTo(CacheStatus.BYPASS);
        // once the origin answers with something storable, it is stored and the pass ends
        origin.respondWith(r -> FakeOrigin.page("public now"));
        assertThat(serve("/c").cacheStatusField()).contains("stored=true");
        assertThat(serve("/c").cacheStatus()).isEqualTo(CacheStatus.HIT);
    }

    @Test
    void serve_hitForPass_endsAfterItsTime() {
        origin.respondWith(r -> FakeOrigin.page("x", h("Cache-Control", "no-store")));
        serve("/n");
        assertThat(serve("/n").cacheStatus()).isEqualTo(CacheStatus.BYPASS);
        clock.advance(Duration.ofSeconds(61));
        assertThat(serve("/n").cacheStatus()).isEqualTo(CacheStatus.MISS);
    }

    @Test
    void serve_bodyOverTheLimit_passesThroughAndIsRemembered() {
        use(RegenConfig.builder().maxBodyBytes(10).build());
        origin.respondWith(r -> FakeOrigin.page("0123456789ABCDEF"));
        Served big = serve("/big");
        assertThat(big.text()).isEqualTo("0123456789ABCDEF");
        assertThat(serve("/big").cacheStatusField()).contains("hit-for-pass");
    }

    // ------------------------------------------------------------------------- Vary (RFC 9111 §4.1)

    @Test
    void serve_varyAcceptLanguage_eachClientItsVariant() {
        origin.respondWith(r -> {
            String lang = HttpFieldsTestSupport.first(r.headers(), "Accept-Language");
            return FakeOrigin.page(
                    lang != null && lang.startsWith("fr") ? "Bonjour" : "Hello", h("Vary", "Accept-Language"));
        });
        assertThat(serve("/v", "Accept-Language", "fr-FR,fr;q=0.9").text()).isEqualTo("Bonjour");
        assertThat(serve("/v", "Accept-Language", "en-US").text()).isEqualTo("Hello");
        Served fr = serve("/v", "Accept-Language", "FR-fr, fr;q=0.9");
        assertThat(fr.text()).isEqualTo("Bonjour");
        assertThat(fr.cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(serve("/v", "Accept-Language", "en-US").cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(serve("/v").cacheStatusField()).contains("fwd=vary-miss");
        assertThat(origin.calls()).isEqualTo(3);
    }

    @Test
    void serve_waitersOfAnotherVariant_getTheirOwnRender() throws Exception {
        origin.hold()
                .respondWith(r -> FakeOrigin.page(
                        "accept " + HttpFieldsTestSupport.first(r.headers(), "Accept"), h("Vary", "Accept")));
        CompletableFuture<Served> html = edge.serve(get("/x", "Accept", "text/html"));
        CompletableFuture<Served> json = edge.serve(get("/x", "Accept", "application/json"));
        CompletableFuture<Served> html2 = edge.serve(get("/x", "Accept", "text/html"));
        assertCalls(1);
        origin.release();
        assertThat(html.get(5, TimeUnit.SECONDS).text()).isEqualTo("accept text/html");
        assertThat(html2.get(5, TimeUnit.SECONDS).text()).isEqualTo("accept text/html");
        assertThat(json.get(5, TimeUnit.SECONDS).text()).isEqualTo("accept application/json");
        assertThat(origin.calls()).isEqualTo(2);
    }

    @Test
    void serve_moreVariantsThanTheCap_passThroughSaidSo() {
        use(RegenConfig.builder().maxVariants(2).build());
        origin.respondWith(r -> FakeOrigin.page("x", h("Vary", "Accept-Language")));
        serve("/cap", "Accept-Language", "a");
        serve("/cap", "Accept-Language", "b");
        Served third = serve("/cap", "Accept-Language", "c");
        assertThat(third.text()).isEqualTo("x");
        assertThat(serve("/cap", "Accept-Language", "a").cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(serve("/cap", "Accept-Language", "d").cacheStatusField()).contains("hit-for-pass");
    }

    @Test
    void serve_varyCookie_keyedOnKeptCookiesOnly_andPublicSoShared() {
        origin.respondWith(r -> FakeOrigin.page(
                "theme " + HttpFieldsTestSupport.first(r.headers(), "Cookie"),
                h("Vary", "Cookie"),
                h("Cache-Control", "public, max-age=60")));
        assertThat(serve("/t", "Cookie", "theme=dark; _ga=1").text()).isEqualTo("theme theme=dark");
        Served again = serve("/t", "Cookie", "_gid=2; theme=dark");
        assertThat(again.cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(serve("/t", "Cookie", "theme=light").text()).isEqualTo("theme theme=light");
    }

    @Test
    void invalidate_path_reachesEveryVariantAndHost() throws Exception {
        origin.respondWith(r -> FakeOrigin.page("x", h("Vary", "Accept-Language")));
        serve("/iv", "Accept-Language", "fr");
        serve("/iv", "Accept-Language", "en");
        serve(new ClientRequest("GET", "/iv", "apex.example", "http", RequestHeaders.of(List.of()), false));
        assertThat(engine.invalidate(List.of("/iv"), List.of(), false).get(5, TimeUnit.SECONDS))
                .isEqualTo(3);
        assertThat(serve("/iv", "Accept-Language", "fr").cacheStatus()).isEqualTo(CacheStatus.STALE);
    }

    // -------------------------------------------------------------------------- content codings

    @Test
    void serve_gzipFromOrigin_storedDecodedWithTheOriginsGzip() throws Exception {
        byte[] gz = gzip("<p>" + "hello ".repeat(200) + "</p>");
        origin.respondWith(r -> new OriginResponse(
                200,
                List.of(
                        h("Content-Type", "text/html"),
                        h("Content-Encoding", "gzip"),
                        h("Content-Length", String.valueOf(gz.length))),
                gz));
        serve("/gz");
        Reply.Page hit = (Reply.Page) serve("/gz").reply();
        assertThat(new String(hit.page().body(), StandardCharsets.UTF_8)).startsWith("<p>hello");
        assertThat(hit.page().gzipBody()).isEqualTo(gz);
        assertThat(hit.page().headers()).extracting(Header::name).doesNotContain("Content-Encoding");
    }

    @Test
    void serve_undecodableCoding_notStored() {
        origin.respondWith(r -> new OriginResponse(200, List.of(h("Content-Encoding", "zstd")), new byte[] {1, 2}));
        assertThat(serve("/z").cacheStatusField()).contains("stored=false");
    }

    private static byte[] gzip(String s) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    // ------------------------------------------------------------------------------ presets

    @Test
    void serve_nextjsPreset_rscParamAndRouterTreeNotKeyedButForwardedAndReplayed() throws Exception {
        use(RegenConfig.builder().preset(Preset.NEXTJS).build());
        origin.respondWith(r -> HttpFieldsTestSupport.first(r.headers(), "RSC") != null
                ? FakeOrigin.page(
                        "rsc payload",
                        h("Content-Type", "text/x-component"),
                        h("Vary", "RSC, Next-Router-State-Tree, Next-Router-Prefetch, Next-Router-Segment-Prefetch"))
                : FakeOrigin.page(
                        "<html>",
                        h("Content-Type", "text/html"),
                        h("Vary", "RSC, Next-Router-State-Tree, Next-Router-Prefetch, Next-Router-Segment-Prefetch")));
        assertThat(serve("/nav/1").text()).isEqualTo("<html>");
        Served rsc = serve(
                "/nav/1?_rsc=abc", "RSC", "1", "Next-Router-State-Tree", "%5B%22from-a%22%5D", "Next-Url", "/from-a");
        assertThat(rsc.text()).isEqualTo("rsc payload");
        assertThat(origin.seen().get(1).target()).isEqualTo("/nav/1?_rsc=abc");
        // another origin page, another tree and _rsc: the same payload from the cache
        Served again = serve("/nav/1?_rsc=xyz", "RSC", "1", "Next-Router-State-Tree", "%5B%22from-b%22%5D");
        assertThat(again.cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(again.text()).isEqualTo("rsc payload");
        // HTML is never served to an RSC request, nor the reverse
        assertThat(serve("/nav/1").text()).isEqualTo("<html>");
        assertThat(origin.calls()).isEqualTo(2);
        // a background render replays the variant's own request: its target and the fields it varies on
        clock.advance(Duration.ofSeconds(61));
        serve("/nav/1?_rsc=zzz", "RSC", "1", "Next-Router-State-Tree", "t");
        assertCalls(3);
        OriginRequest replay = origin.seen().get(2);
        assertThat(replay.target()).isEqualTo("/nav/1?_rsc=abc");
        assertThat(replay.headers())
                .contains(h("RSC", "1"), h("Next-Router-State-Tree", "%5B%22from-a%22%5D"), h("Next-Url", "/from-a"));
    }

    // ---------------------------------------------------------------------- background renders

    @Test
    void backgroundRender_replaysTheVariantNeverAClientsCredentials() throws Exception {
        origin.respondWith(r -> FakeOrigin.page("x", h("Vary", "Accept-Language"), h("Cache-Control", "public")));
        serve("/bg", "Accept-Language", "de", "User-Agent", "Browser/1", "Cookie", "_ga=1");
        clock.advance(Duration.ofSeconds(61));
        serve("/bg", "Accept-Language", "de", "Authorization", "Bearer secret-ish", "Cookie", "_gid=1");
        assertCalls(2);
        OriginRequest bg = origin.seen().get(1);
        assertThat(bg.headers()).contains(h("Accept-Language", "de"), h("Accept-Encoding", "gzip"));
        assertThat(bg.headers()).extracting(Header::name).doesNotContain("Authorization", "Cookie");
        assertThat(bg.host()).isEqualTo("example.com");
    }

    // --------------------------------------------------------------------------- pass-through

    @Test
    void serve_bypassCases_passThrough() {
        use(RegenConfig.builder()
                .bypassToken("preview-token-123456")
                .routes(List.of(new RouteRule("/account/**", null, List.of(), false)))
                .build());
        assertThat(serve(TestEdge.request("POST", "/a")).cacheStatusField()).isEqualTo("regen; fwd=method");
        assertThat(serve("/a", "X-Regen-Bypass", "preview-token-123456").cacheStatusField())
                .isEqualTo("regen; fwd=bypass");
        assertThat(serve("/a", "Cookie", "a=1; regen_bypass=preview-token-123456")
                        .cacheStatus())
                .isEqualTo(CacheStatus.BYPASS);
        assertThat(serve("/account/me").cacheStatus()).isEqualTo(CacheStatus.BYPASS);
        assertThat(engine.stats().bypasses()).isEqualTo(4);
        assertThat(store.get("page:/a @example.com")).isNull();
        assertThat(serve("/a").cacheStatus()).isEqualTo(CacheStatus.MISS);
    }

    @Test
    void serve_passThrough_keepsTheClientsConditionalsAndEncoding() {
        serve(TestEdge.request(
                "POST", "/form", "If-None-Match", "\"x\"", "Accept-Encoding", "br", "Range", "bytes=0-1"));
        assertThat(origin.seen().get(0).headers())
                .contains(h("If-None-Match", "\"x\""), h("Accept-Encoding", "br"), h("Range", "bytes=0-1"));
        assertThat(origin.seen().get(0).method()).isEqualTo("POST");
    }

    @Test
    void serve_rangeOnUncachedPage_passedToOriginUntouched() {
        Served part = serve("/r", "Range", "bytes=0-3");
        assertThat(part.cacheStatusField()).isEqualTo("regen; fwd=uri-miss; stored=false; detail=\"range\"");
        assertThat(origin.seen().get(0).headers()).contains(h("Range", "bytes=0-3"));
    }

    @Test
    void serve_wrongBypassToken_cached() {
        use(RegenConfig.builder().bypassToken("preview-token-123456").build());
        assertThat(serve("/a", "X-Regen-Bypass", "guess").cacheStatus()).isEqualTo(CacheStatus.MISS);
    }

    @Test
    void serve_targets_controlCharacterIs400_uncanonicalPassesThrough() {
        assertThat(serve("/a%00b").status()).isEqualTo(400);
        Served slash = serve("/files/a%2Fb");
        assertThat(slash.cacheStatusField()).isEqualTo("regen; fwd=bypass; detail=\"uncanonical target\"");
        assertThat(origin.seen().get(0).target()).isEqualTo("/files/a%2Fb");
    }

    @Test
    void serve_absoluteFormPassThrough_sentInOriginForm() {
        serve(TestEdge.request("POST", "http://example.com/a?x=1"));
        assertThat(origin.seen().get(0).target()).isEqualTo("/a?x=1");
    }

    // --------------------------------------------------------------------------------- the store

    @Test
    void serve_restartOverSameStore_pageSurvives() {
        serve("/r");
        use(RegenConfig.builder().build());
        assertThat(serve("/r").cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(origin.calls()).isEqualTo(1);
    }

    @Test
    void serve_expiredPastStaleWindow_isMiss() {
        use(RegenConfig.builder().expire(Duration.ofSeconds(30)).build());
        serve("/x");
        clock.advance(Duration.ofSeconds(95));
        assertThat(serve("/x").cacheStatus()).isEqualTo(CacheStatus.MISS);
        assertThat(origin.calls()).isEqualTo(2);
    }

    @Test
    void serve_mustRevalidate_neverServedStale() {
        origin.respondWith(r -> FakeOrigin.page("x", h("Cache-Control", "max-age=30, must-revalidate")));
        serve("/mr");
        clock.advance(Duration.ofSeconds(31));
        assertThat(serve("/mr").cacheStatus()).isEqualTo(CacheStatus.MISS);
    }

    // ------------------------------------------------------------------------------ revalidation

    @Test
    void invalidate_soft_marksStaleOnceThenOneRender() throws Exception {
        serve("/i");
        assertThat(engine.invalidate(List.of("/i"), List.of(), false).get(5, TimeUnit.SECONDS))
                .isEqualTo(1);
        // already stale: still counted, not written again
        assertThat(engine.invalidate(List.of("/i"), List.of(), false).get(5, TimeUnit.SECONDS))
                .isEqualTo(1);
        assertThat(serve("/i").cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertCalls(2);
        assertNow(() -> serve("/i").cacheStatus() == CacheStatus.HIT);
        assertThat(serve("/i").text()).isEqualTo("render 2");
    }

    @Test
    void invalidate_softSkipsImmutable_hardDeletesIt() throws Exception {
        origin.respondWith(r -> r.target().equals("/app.js")
                ? FakeOrigin.page("asset", h("Cache-Control", "public, max-age=31536000, immutable"))
                : FakeOrigin.page("page"));
        serve("/app.js");
        serve("/page");
        // the deploy command: every page stale, old assets kept
        assertThat(engine.invalidate(List.of("/**"), List.of(), false).get(5, TimeUnit.SECONDS))
                .isEqualTo(1);
        assertThat(serve("/app.js").cacheStatus()).isEqualTo(CacheStatus.HIT);
        clock.advance(Duration.ofDays(300));
        assertThat(serve("/app.js").cacheStatus()).isEqualTo(CacheStatus.HIT);
        // past its max-age too: its URL names one version for ever (DESIGN.md)
        clock.advance(Duration.ofDays(400));
        assertThat(serve("/app.js").cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(origin.seen())
                .extracting(OriginRequest::target)
                .filteredOn("/app.js"::equals)
                .hasSize(1);
        assertThat(engine.invalidate(List.of("/app.js"), List.of(), true).get(5, TimeUnit.SECONDS))
                .isEqualTo(1);
        assertThat(serve("/app.js").cacheStatus()).isEqualTo(CacheStatus.MISS);
    }

    @Test
    void invalidate_duringBackgroundRender_storesThatRenderStale() throws Exception {
        serve("/race");
        clock.advance(Duration.ofSeconds(61));
        origin.hold();
        assertThat(serve("/race").cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertCalls(2);
        // the editor publishes while render 2 (which may have read the old content) is in flight
        assertThat(engine.invalidate(List.of("/race"), List.of(), false).get(5, TimeUnit.SECONDS))
                .isEqualTo(1);
        origin.release();
        assertNow(() -> serve("/race").text().equals("render 2"));
        // render 2 was stored stale, so a next request (once render 2's flight has ended) starts render 3
        assertNow(() -> {
            serve("/race");
            return origin.calls() == 3;
        });
        assertNow(
                () -> serve("/race").text().equals("render 3") && serve("/race").cacheStatus() == CacheStatus.HIT);
    }

    @Test
    void invalidate_hardDuringBackgroundRender_nextRequestWaitsForANewRender() throws Exception {
        serve("/hard");
        clock.advance(Duration.ofSeconds(61));
        origin.hold();
        assertThat(serve("/hard").cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertCalls(2);
        // render 2 began before the purge and may carry the old content
        assertThat(engine.invalidate(List.of("/hard"), List.of(), true).get(5, TimeUnit.SECONDS))
                .isEqualTo(1);
        CompletableFuture<Served> next = edge.serve(get("/hard"));
        assertCalls(3);
        origin.release();
        Served r = next.get(5, TimeUnit.SECONDS);
        assertThat(r.cacheStatus()).isEqualTo(CacheStatus.MISS);
        assertThat(r.text()).isEqualTo("render 3");
        assertNow(() -> engine.rendersInFlight() == 0);
        // render 2 ended after the purge and was not stored over render 3
        assertThat(serve("/hard").cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(serve("/hard").text()).isEqualTo("render 3");
    }

    @Test
    void invalidate_badPath_rejectedBeforeAnyChange() {
        serve("/ok");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> engine.invalidate(List.of("/ok", "/a%2Fb"), List.of(), true))
                .isInstanceOf(dev.regen.internal.http.RequestTarget.InvalidTargetException.class);
        assertThat(serve("/ok").cacheStatus()).isEqualTo(CacheStatus.HIT);
    }

    @Test
    void serve_leaderGoesAway_waiterStartsAgainAndGetsThePage() throws Exception {
        CompletableFuture<Reply> leader = engine.serve(get("/gone"));
        Forwarding fwd = ((Reply.Forward) leader.get(5, TimeUnit.SECONDS)).forwarding();
        CompletableFuture<Served> waiter = edge.serve(get("/gone"));
        assertNow(() -> engine.stats().misses() == 2);
        assertThat(waiter).isNotDone();
        fwd.failed(new java.io.IOException("client closed the connection"));
        Served w = waiter.get(5, TimeUnit.SECONDS);
        assertThat(w.text()).isEqualTo("render 1");
        assertThat(w.cacheStatus()).isEqualTo(CacheStatus.MISS);
    }

    private static void assertNow(java.util.function.BooleanSupplier condition) {
        assertThat(condition.getAsBoolean()).as("condition").isTrue();
    }
}
