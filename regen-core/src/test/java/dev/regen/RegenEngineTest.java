package dev.regen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.store.MemoryStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RegenEngineTest {
    private final FakeClock clock = new FakeClock();
    private final FakeOrigin origin = new FakeOrigin();
    private final MemoryStore store = new MemoryStore(64L << 20, clock);
    private RegenEngine engine = engine(RegenConfig.builder().revalidate(Duration.ofSeconds(60)).build());

    private RegenEngine engine(RegenConfig config) {
        return RegenEngine.builder().config(config).origin(origin).store(store).clock(clock).build();
    }

    @AfterEach
    void close() {
        engine.close();
        store.close();
    }

    private static ClientRequest get(String target, String... headers) {
        Map<String, String> h = new java.util.HashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i].toLowerCase(), headers[i + 1]);
        }
        return new ClientRequest("GET", target, name -> h.get(name.toLowerCase()));
    }

    private Reply serve(String target) {
        return engine.serve(get(target)).orTimeout(10, TimeUnit.SECONDS).join();
    }

    private static String body(Reply r) {
        return new String(((Reply.Page) r).page().body(), StandardCharsets.UTF_8);
    }

    private static CacheStatus status(Reply r) {
        return ((Reply.Page) r).status();
    }

    private void awaitCalls(int n) throws InterruptedException {
        for (int i = 0; i < 500 && origin.calls() < n; i++) {
            Thread.sleep(10);
        }
        assertThat(origin.calls()).isEqualTo(n);
    }

    @Test
    void serve_missThenHitThenStaleThenHit_oneBackgroundRender() throws Exception {
        Reply first = serve("/a");
        assertThat(status(first)).isEqualTo(CacheStatus.MISS);
        assertThat(body(first)).isEqualTo("render 1");

        clock.advance(Duration.ofSeconds(59));
        assertThat(status(serve("/a"))).isEqualTo(CacheStatus.HIT);
        assertThat(origin.calls()).isEqualTo(1);

        clock.advance(Duration.ofSeconds(1));
        origin.hold();
        Reply stale = serve("/a");
        assertThat(status(stale)).isEqualTo(CacheStatus.STALE);
        assertThat(body(stale)).isEqualTo("render 1");
        awaitCalls(2);
        assertThat(status(serve("/a"))).isEqualTo(CacheStatus.STALE);
        origin.release();
        waitUntil(() -> status(serve("/a")) == CacheStatus.HIT);
        assertThat(body(serve("/a"))).isEqualTo("render 2");
        assertThat(origin.calls()).isEqualTo(2);
    }

    @Test
    void serve_200ConcurrentMisses_oneRenderAllGetIt() throws Exception {
        origin.hold();
        List<CompletableFuture<Reply>> replies = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            replies.add(engine.serve(get("/cold")));
        }
        awaitCalls(1);
        assertThat(replies).noneMatch(CompletableFuture::isDone);
        origin.release();
        for (CompletableFuture<Reply> r : replies) {
            Reply reply = r.get(10, TimeUnit.SECONDS);
            // a request whose store lookup ran after the render finished finds the page: a HIT
            assertThat(status(reply)).isIn(CacheStatus.MISS, CacheStatus.HIT);
            assertThat(body(reply)).isEqualTo("render 1");
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
            assertThat(status(r.join())).isEqualTo(CacheStatus.STALE);
        }
        awaitCalls(2);
        origin.release();
        waitUntil(() -> status(serve("/s")) == CacheStatus.HIT);
        assertThat(origin.calls()).isEqualTo(2);
    }

    @Test
    void serve_originDownWhenStale_servesStaleAndBacksOff() throws Exception {
        serve("/d");
        clock.advance(Duration.ofSeconds(61));
        origin.failWith(new OriginException(OriginException.Kind.UNREACHABLE, "connection refused"));
        assertThat(status(serve("/d"))).isEqualTo(CacheStatus.STALE);
        awaitCalls(2);
        // the error is counted before the failed flight leaves: a request in between would join it
        waitUntil(() -> engine.stats().renderErrors() == 1 && engine.rendersInFlight() == 0);
        // inside the backoff window no new render is tried
        assertThat(status(serve("/d"))).isEqualTo(CacheStatus.STALE);
        assertThat(body(serve("/d"))).isEqualTo("render 1");
        assertThat(origin.calls()).isEqualTo(2);
        clock.advance(Duration.ofSeconds(2));
        serve("/d");
        awaitCalls(3);
    }

    @Test
    void serve_originDownOnMiss_502AndTimeout504() {
        origin.failWith(new OriginException(OriginException.Kind.UNREACHABLE, "connection refused"));
        assertThat(serve("/m")).isInstanceOfSatisfying(Reply.Failure.class, f -> assertThat(f.status()).isEqualTo(502));
        origin.failWith(new OriginException(OriginException.Kind.TIMEOUT, "slow"));
        assertThat(serve("/m")).isInstanceOfSatisfying(Reply.Failure.class, f -> assertThat(f.status()).isEqualTo(504));
    }

    @Test
    void serve_renderTimeout_504() {
        engine.close();
        engine = engine(RegenConfig.builder().renderTimeout(Duration.ofMillis(100)).build());
        origin.hold();
        assertThat(serve("/slow")).isInstanceOfSatisfying(Reply.Failure.class, f -> assertThat(f.status()).isEqualTo(504));
        origin.release();
    }

    @Test
    void serve_5xxOnStale_keepsPage() throws Exception {
        serve("/e");
        clock.advance(Duration.ofSeconds(61));
        origin.respondWith(r -> new OriginResponse(500, List.of(), new byte[0]));
        serve("/e");
        awaitCalls(2);
        waitUntil(() -> engine.stats().renderErrors() == 1);
        assertThat(body(serve("/e"))).isEqualTo("render 1");
    }

    @Test
    void serve_5xxOnMiss_passedOnNotStored() {
        origin.respondWith(r -> new OriginResponse(500, List.of(), "boom".getBytes()));
        assertThat(serve("/f")).isInstanceOfSatisfying(Reply.Rendered.class,
                r -> assertThat(r.response().status()).isEqualTo(500));
        assertThat(serve("/f")).isInstanceOf(Reply.Rendered.class);
        assertThat(origin.calls()).isEqualTo(2);
    }

    @Test
    void serve_404OnRevalidate_removesPage() throws Exception {
        serve("/g");
        clock.advance(Duration.ofSeconds(61));
        origin.respondWith(r -> new OriginResponse(404, List.of(), "gone".getBytes()));
        assertThat(status(serve("/g"))).isEqualTo(CacheStatus.STALE);
        awaitCalls(2);
        waitUntil(() -> store.get("page:localhost/g") == null);
        assertThat(serve("/g")).isInstanceOf(Reply.Rendered.class);
    }

    @Test
    void serve_setCookie_notStoredAndNotSharedWithWaiters() throws Exception {
        origin.hold().respondWith(r -> FakeOrigin.page("private", new Header("Set-Cookie", "sid=1")));
        CompletableFuture<Reply> one = engine.serve(get("/c"));
        CompletableFuture<Reply> two = engine.serve(get("/c"));
        awaitCalls(1);
        waitUntil(() -> engine.stats().misses() == 2);
        origin.release();
        // whichever became the flight's leader gets the response; the other must fetch its own
        assertThat(List.of(one.get(5, TimeUnit.SECONDS), two.get(5, TimeUnit.SECONDS)))
                .satisfiesExactlyInAnyOrder(
                        r -> assertThat(r).isInstanceOf(Reply.Rendered.class),
                        r -> assertThat(r).isEqualTo(new Reply.PassThrough(CacheStatus.MISS, "uri-miss")));
        assertThat(store.get("page:localhost/c")).isNull();
    }

    @Test
    void serve_bypassCases_passThrough() {
        engine.close();
        engine = engine(RegenConfig.builder().bypassToken("preview-token-123456")
                .routes(List.of(new RouteRule("/account/**", null, List.of(), false))).build());
        ClientRequest post = new ClientRequest("POST", "/a", n -> null);
        assertThat(engine.serve(post).join()).isEqualTo(new Reply.PassThrough(CacheStatus.BYPASS, "method"));
        assertThat(engine.serve(get("/a", "Authorization", "Bearer x")).join()).isInstanceOf(Reply.PassThrough.class);
        assertThat(engine.serve(get("/a", "X-Regen-Bypass", "preview-token-123456")).join()).isInstanceOf(Reply.PassThrough.class);
        assertThat(engine.serve(get("/a", "Cookie", "a=1; regen_bypass=preview-token-123456")).join())
                .isInstanceOf(Reply.PassThrough.class);
        assertThat(engine.serve(get("/account/me")).join()).isInstanceOf(Reply.PassThrough.class);
        assertThat(origin.calls()).isZero();
        assertThat(engine.stats().bypasses()).isEqualTo(5);
        assertThat(serve("/a")).isInstanceOf(Reply.Page.class);
    }

    @Test
    void serve_wrongBypassToken_cached() {
        engine.close();
        engine = engine(RegenConfig.builder().bypassToken("preview-token-123456").build());
        assertThat(engine.serve(get("/a", "X-Regen-Bypass", "guess")).join()).isInstanceOf(Reply.Page.class);
    }

    @Test
    void serve_spellingsOfOnePage_oneEntryAndOriginGetsCanonicalTarget() {
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        origin.respondWith(r -> {
            seen.add(r.pathAndQuery());
            return FakeOrigin.page("x");
        });
        serve("/blog//a?utm_source=x&b=1&a=2");
        assertThat(status(serve("/blog/./a?a=2&b=1"))).isEqualTo(CacheStatus.HIT);
        assertThat(status(serve("http://evil.example/blog/%61?b=1&a=2&fbclid=1"))).isEqualTo(CacheStatus.HIT);
        assertThat(seen).containsExactly("/blog/a?a=2&b=1");
    }

    @Test
    void serve_clientHeaders_neverReachRender() {
        List<OriginRequest> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        origin.respondWith(r -> {
            seen.add(r);
            return FakeOrigin.page("x");
        });
        serve("/h");
        engine.serve(get("/h2", "X-Forwarded-Host", "evil.example", "Host", "evil.example", "Cookie", "a=1")).join();
        assertThat(seen).allSatisfy(r -> assertThat(r.headers()).containsExactlyElementsOf(seen.get(0).headers()));
        assertThat(seen.get(1).headers()).contains(new Header("X-Forwarded-Host", "localhost"));
    }

    @Test
    void serve_restartOverSameStore_pageSurvives() {
        serve("/r");
        engine.close();
        engine = engine(RegenConfig.builder().build());
        Reply r = serve("/r");
        assertThat(status(r)).isEqualTo(CacheStatus.HIT);
        assertThat(origin.calls()).isEqualTo(1);
    }

    @Test
    void serve_expiredPastStaleWindow_isMiss() {
        engine.close();
        engine = engine(RegenConfig.builder().expire(Duration.ofSeconds(30)).build());
        serve("/x");
        clock.advance(Duration.ofSeconds(95));
        assertThat(status(serve("/x"))).isEqualTo(CacheStatus.MISS);
        assertThat(origin.calls()).isEqualTo(2);
    }

    @Test
    void serve_badTarget_400() {
        assertThat(serve("/a%2Fb")).isInstanceOfSatisfying(Reply.Failure.class, f -> assertThat(f.status()).isEqualTo(400));
    }

    @Test
    void invalidate_soft_marksStaleOnceThenOneRender() throws Exception {
        serve("/i");
        assertThat(engine.invalidate(List.of("/i"), List.of(), false).get(5, TimeUnit.SECONDS)).isEqualTo(1);
        // already stale: still counted, not written again
        assertThat(engine.invalidate(List.of("/i"), List.of(), false).get(5, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(status(serve("/i"))).isEqualTo(CacheStatus.STALE);
        awaitCalls(2);
        waitUntil(() -> status(serve("/i")) == CacheStatus.HIT);
        assertThat(body(serve("/i"))).isEqualTo("render 2");
    }

    @Test
    void invalidate_duringBackgroundRender_storesThatRenderStale() throws Exception {
        serve("/race");
        clock.advance(Duration.ofSeconds(61));
        origin.hold();
        assertThat(status(serve("/race"))).isEqualTo(CacheStatus.STALE);
        awaitCalls(2);
        // the editor publishes while render 2 (which may have read the old content) is in flight
        assertThat(engine.invalidate(List.of("/race"), List.of(), false).get(5, TimeUnit.SECONDS)).isEqualTo(1);
        origin.release();
        waitUntil(() -> body(serve("/race")).equals("render 2"));
        // render 2 was stored stale, so a next request (once render 2's flight has ended) starts render 3
        waitUntil(() -> {
            serve("/race");
            return origin.calls() == 3;
        });
        waitUntil(() -> body(serve("/race")).equals("render 3") && status(serve("/race")) == CacheStatus.HIT);
    }

    @Test
    void invalidate_hardDuringBackgroundRender_nextRequestWaitsForANewRender() throws Exception {
        serve("/hard");
        clock.advance(Duration.ofSeconds(61));
        origin.hold();
        assertThat(status(serve("/hard"))).isEqualTo(CacheStatus.STALE);
        awaitCalls(2);
        // render 2 began before the purge and may carry the old content
        assertThat(engine.invalidate(List.of("/hard"), List.of(), true).get(5, TimeUnit.SECONDS)).isEqualTo(1);
        CompletableFuture<Reply> next = engine.serve(get("/hard"));
        awaitCalls(3);
        origin.release();
        Reply r = next.get(5, TimeUnit.SECONDS);
        assertThat(status(r)).isEqualTo(CacheStatus.MISS);
        assertThat(body(r)).isEqualTo("render 3");
        waitUntil(() -> engine.rendersInFlight() == 0);
        // render 2 ended after the purge and was not stored over render 3
        assertThat(status(serve("/hard"))).isEqualTo(CacheStatus.HIT);
        assertThat(body(serve("/hard"))).isEqualTo("render 3");
    }

    @Test
    void invalidate_badPath_rejectedBeforeAnyChange() {
        serve("/ok");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> engine.invalidate(List.of("/ok", "/a%2Fb"), List.of(), true))
                .isInstanceOf(dev.regen.http.RequestTarget.InvalidTargetException.class);
        assertThat(status(serve("/ok"))).isEqualTo(CacheStatus.HIT);
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        // waits for the engine's own threads to finish a background step, not for time to pass
        for (int i = 0; i < 500; i++) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(10);
        }
        assertThat(condition.getAsBoolean()).as("condition").isTrue();
    }
}
