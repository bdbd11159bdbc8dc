package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regen.RegenConfig;
import dev.regen.server.config.Front;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.KvStore;
import dev.regen.store.MemoryStore;
import dev.regen.store.embedded.EmbeddedStore;
import dev.regen.store.redis.RedisStore;
import dev.regen.testing.FakeClock;
import dev.regen.testing.RedisServerFixture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * On-demand revalidation end to end: the webhook, tags, the admin API, and bad input. The webhook's
 * cases run on every store (memory, embedded, a real redis-server): they must answer alike.
 */
class RevalidationIT {
    static final String SECRET = "test-secret-0123456789";
    private final FakeClock clock = new FakeClock();
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();
    private final AtomicInteger version = new AtomicInteger(1);
    private TestOrigin origin;
    private RegenServer server;

    @TempDir
    Path dir;

    /** The stores the webhook is run against. */
    enum Store {
        MEMORY,
        EMBEDDED,
        REDIS
    }

    private static RedisServerFixture redis;

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    /** Serves from a fresh (empty) store of this kind from now on. */
    private void use(Store kind) throws InterruptedException, IOException {
        if (kind == Store.MEMORY) {
            return; // what start() opened
        }
        server.close();
        KvStore store;
        if (kind == Store.EMBEDDED) {
            store = EmbeddedStore.open(dir.resolve("store"), clock);
        } else {
            if (redis == null) {
                redis = RedisServerFixture.start();
            }
            redis.call("FLUSHALL");
            store = RedisStore.open(redis.uri(), clock);
        }
        server = start(store, SECRET);
    }

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        origin.on("/p/a", s -> TestOrigin.Response.html("a v" + version.get(), "Cache-Tag", "posts"));
        server = start(new MemoryStore(256L << 20, clock), SECRET);
    }

    private RegenServer start(KvStore store, String secret) throws InterruptedException {
        ServerConfig cfg = new ServerConfig(
                URI.create(origin.url()),
                "127.0.0.1",
                0,
                RegenConfig.builder()
                        .revalidate(Duration.ofSeconds(3600))
                        .bypassToken("preview-0123456789")
                        .build(),
                secret,
                new StoreSpec.Memory(),
                256L << 20,
                Duration.ofSeconds(1),
                "/api/revalidate",
                false,
                ServerConfig.AccessLog.OFF,
                null,
                Front.DEFAULTS);
        return RegenServer.start(cfg, store, clock);
    }

    @AfterEach
    void stop() {
        server.close();
        origin.close();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private HttpResponse<String> post(String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri("/api/revalidate"))
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode revalidate(String body) throws Exception {
        HttpResponse<String> r = post(body, "Authorization", "Bearer " + SECRET, "Content-Type", "application/json");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode n = json.readTree(r.body());
        assertThat(n.get("success").asBoolean()).isTrue();
        return n;
    }

    private static String status(HttpResponse<?> r) {
        return r.headers().firstValue("x-cache-status").orElse("");
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void soft_nextRequestStaleThenNewContent(Store store) throws Exception {
        use(store);
        assertThat(get("/p/a").body()).isEqualTo("a v1");
        version.set(2);
        assertThat(get("/p/a").body()).isEqualTo("a v1");

        JsonNode n = revalidate("{\"paths\":[\"/p/a\"]}");
        assertThat(n.get("invalidated").asInt()).isEqualTo(1);
        assertThat(n.get("paths").get(0).asText()).isEqualTo("/p/a");
        // read since its render: re-rendered at once (eager revalidation); until that render is stored,
        // a request gets the old page as STALE, never as a HIT
        assertThat(n.get("queued").asInt()).isEqualTo(1);

        HttpResponse<String> next = get("/p/a");
        if (status(next).equals("STALE")) {
            assertThat(next.body()).isEqualTo("a v1");
        } else {
            assertThat(status(next)).isEqualTo("HIT");
            assertThat(next.body()).isEqualTo("a v2");
        }
        awaitTrue(() -> bodyOf("/p/a").equals("a v2"));
        assertThat(status(get("/p/a"))).isEqualTo("HIT");
        assertThat(origin.renders("/p/a")).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void hard_nextRequestMissWithNewContent(Store store) throws Exception {
        use(store);
        get("/p/a");
        version.set(2);
        assertThat(revalidate("{\"paths\":[\"/p/a\"],\"mode\":\"hard\"}")
                        .get("invalidated")
                        .asInt())
                .isEqualTo(1);
        HttpResponse<String> r = get("/p/a");
        assertThat(status(r)).isEqualTo("MISS");
        assertThat(r.body()).isEqualTo("a v2");
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void path_invalidatesEveryQueryVariantOnly(Store store) throws Exception {
        use(store);
        for (String p : List.of("/p/q", "/p/q?x=1", "/p/q?x=2", "/p/qq", "/p/q/sub")) {
            get(p);
        }
        assertThat(revalidate("{\"paths\":[\"/p//q\"],\"mode\":\"hard\"}")
                        .get("invalidated")
                        .asInt())
                .isEqualTo(3);
        assertThat(status(get("/p/qq"))).isEqualTo("HIT");
        assertThat(status(get("/p/q/sub"))).isEqualTo("HIT");
        assertThat(status(get("/p/q?x=1"))).isEqualTo("MISS");
        assertThat(revalidate("{\"paths\":[\"/p/q?x=1\"],\"mode\":\"hard\"}")
                        .get("invalidated")
                        .asInt())
                .isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void subtree_byGlobOrPrefixField(Store store) throws Exception {
        use(store);
        for (String p : List.of("/blog", "/blog/a", "/blog/a/b?x=1", "/blogger")) {
            get(p);
        }
        assertThat(revalidate("{\"paths\":[\"/blog/**\"]}").get("invalidated").asInt())
                .isEqualTo(3);
        assertThat(status(get("/blogger"))).isEqualTo("HIT");
        assertThat(revalidate("{\"prefix\":\"/blog\",\"mode\":\"hard\"}")
                        .get("invalidated")
                        .asInt())
                .isEqualTo(3);
    }

    @Test
    void tag_sharedBy500Pages_underOneSecondOthersUntouched() throws Exception {
        // on the default persistent store, where every soft mark is a write
        server.close();
        server = start(EmbeddedStore.open(dir, clock), SECRET);
        for (int i = 0; i < 510; i++) {
            String tag = i < 500 ? "posts" : "other";
            origin.on("/t/" + i, s -> TestOrigin.Response.html("t", "Cache-Tag", tag + ", page"));
        }
        List<CompletableFuture<HttpResponse<String>>> warm = new ArrayList<>();
        for (int i = 0; i < 510; i++) {
            warm.add(client.sendAsync(
                    HttpRequest.newBuilder(uri("/t/" + i)).build(), HttpResponse.BodyHandlers.ofString()));
            if (warm.size() % 50 == 0) {
                CompletableFuture.allOf(warm.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            }
        }
        CompletableFuture.allOf(warm.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

        long start = System.nanoTime();
        JsonNode n = revalidate("{\"tags\":[\"posts\"]}");
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("tag revalidation of 500 pages took " + millis + " ms");
        assertThat(n.get("invalidated").asInt()).isEqualTo(500);
        assertThat(millis).isLessThan(1000);
        assertThat(status(get("/t/3"))).isEqualTo("STALE");
        assertThat(status(get("/t/505"))).isEqualTo("HIT");
        assertThat(revalidate("{\"tags\":[\"page\"],\"paths\":[\"/t/0\"]}")
                        .get("invalidated")
                        .asInt())
                .isEqualTo(510);
    }

    @Test
    void tagIndex_survivesRestart() throws Exception {
        server.close();
        server = start(EmbeddedStore.open(dir, clock), SECRET);
        get("/p/a");
        server.close();
        server = start(EmbeddedStore.open(dir, clock), SECRET);
        version.set(2);
        assertThat(revalidate("{\"tags\":[\"posts\"],\"mode\":\"hard\"}")
                        .get("invalidated")
                        .asInt())
                .isEqualTo(1);
        assertThat(get("/p/a").body()).isEqualTo("a v2");
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void tagIndex_followsTagsOfTheNewRender(Store store) throws Exception {
        use(store);
        AtomicInteger renders = new AtomicInteger();
        origin.on(
                "/p/moving",
                s -> TestOrigin.Response.html("m", "Cache-Tag", renders.incrementAndGet() == 1 ? "old" : "new"));
        get("/p/moving");
        revalidate("{\"paths\":[\"/p/moving\"]}");
        get("/p/moving");
        awaitTrue(() -> origin.renders("/p/moving") == 2
                && status0(safeGet("/p/moving")).equals("HIT"));
        assertThat(revalidate("{\"tags\":[\"old\"]}").get("invalidated").asInt())
                .isZero();
        assertThat(revalidate("{\"tags\":[\"new\"]}").get("invalidated").asInt())
                .isEqualTo(1);
    }

    @Test
    void bodySecret_acceptedForRecipeCompatibility() throws Exception {
        get("/p/a");
        HttpResponse<String> r =
                post("{\"secret\":\"" + SECRET + "\",\"paths\":[\"/p/a\"]}", "Content-Type", "application/json");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json.readTree(r.body()).get("invalidated").asInt()).isEqualTo(1);
    }

    static List<Arguments> badCallsOnEveryStore() {
        List<Arguments> out = new ArrayList<>();
        for (Store store : Store.values()) {
            for (Arguments call : badCalls()) {
                List<Object> args = new ArrayList<>(List.of(store));
                args.addAll(java.util.Arrays.asList(call.get())); // some are null
                out.add(Arguments.of(args.toArray()));
            }
        }
        return out;
    }

    static List<Arguments> badCalls() {
        String auth = "Bearer " + SECRET;
        String ok = "{\"paths\":[\"/p/a\"]}";
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 1001; i++) {
            many.add("\"/x" + i + "\"");
        }
        return List.of(
                Arguments.of("GET", ok, auth, "application/json", 405, "POST"),
                Arguments.of("POST", ok, "Bearer wrong-secret-0123456789", "application/json", 401, "wrong secret"),
                Arguments.of("POST", ok, "Basic abc", "application/json", 401, "wrong secret"),
                Arguments.of("POST", ok, auth, "text/plain", 415, "application/json"),
                Arguments.of("POST", ok, auth, null, 415, "application/json"),
                Arguments.of(
                        "POST", "{\"paths\":[\"" + "/x".repeat(40_000) + "\"]}", auth, "application/json", 413, "KiB"),
                Arguments.of("POST", "{\"paths\":[\"/p/a\"", auth, "application/json", 400, "malformed JSON"),
                Arguments.of("POST", "[\"/p/a\"]", auth, "application/json", 400, "malformed JSON"),
                Arguments.of("POST", ok, null, "application/json", 401, "missing secret"),
                Arguments.of(
                        "POST",
                        "{\"secret\":\"nope\",\"paths\":[\"/p/a\"]}",
                        null,
                        "application/json",
                        401,
                        "wrong secret"),
                Arguments.of("POST", "{\"paths\":\"/p/a\"}", auth, "application/json", 400, "list of strings"),
                Arguments.of("POST", "{\"paths\":[1]}", auth, "application/json", 400, "list of strings"),
                Arguments.of("POST", "{\"tags\":{}}", auth, "application/json", 400, "list of strings"),
                Arguments.of("POST", "{\"paths\":[\"p/a\"]}", auth, "application/json", 400, "start with /"),
                Arguments.of(
                        "POST",
                        "{\"paths\":[" + String.join(",", many) + "]}",
                        auth,
                        "application/json",
                        400,
                        "at most 1000"),
                Arguments.of("POST", "{}", auth, "application/json", 400, "give paths, tags or both"),
                Arguments.of("POST", "{\"paths\":[\"/p/a\"],\"mode\":\"nuke\"}", auth, "application/json", 400, "mode"),
                Arguments.of("POST", "{\"paths\":[\"/p%2Fa\"]}", auth, "application/json", 400, "encoded slash"),
                Arguments.of("POST", "{\"tags\":[\"a b\"]}", auth, "application/json", 400, "tag"),
                // a lone surrogate: JSON can write it, no store can keep it
                Arguments.of(
                        "POST",
                        "{\"tags\":[\"posts\\ud800\"]}",
                        auth,
                        "application/json",
                        400,
                        "a tag has an unpaired surrogate at index 5"),
                Arguments.of(
                        "POST",
                        "{\"paths\":[\"/p/a\\udc00\"]}",
                        auth,
                        "application/json",
                        400,
                        "a path has an unpaired surrogate at index 4"));
    }

    @ParameterizedTest(name = "{0}: {1} {5} {6}")
    @MethodSource("badCallsOnEveryStore")
    void badCall_clearJsonErrorAndNothingChanged(
            Store store, String method, String body, String authorization, String type, int expected, String reason)
            throws Exception {
        use(store);
        get("/p/a");
        HttpRequest.Builder b = HttpRequest.newBuilder(uri("/api/revalidate"))
                .timeout(Duration.ofSeconds(20))
                .method(
                        method,
                        method.equals("GET")
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (type != null) {
            b.header("Content-Type", type);
        }
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(expected);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode n = json.readTree(r.body());
        assertThat(n.get("success").asBoolean()).isFalse();
        assertThat(n.get("error").asText()).contains(reason);
        assertThat(server.engine().stats().invalidations()).isZero();
        assertThat(status(get("/p/a"))).isEqualTo("HIT");
        assertThat(origin.renders("/p/a")).isEqualTo(1);
        assertThat(origin.renders("/api/revalidate")).isZero();
    }

    @Test
    void noSecretConfigured_webhookAndAdmin503_proxyStillWorks() throws Exception {
        server.close();
        server = start(new MemoryStore(1 << 20, clock), null);
        HttpResponse<String> r =
                post("{\"paths\":[\"/p/a\"]}", "Authorization", "Bearer x", "Content-Type", "application/json");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(json.readTree(r.body()).get("error").asText()).contains("REGEN_SECRET");
        assertThat(get("/_regen/api/stats").statusCode()).isEqualTo(503);
        assertThat(get("/p/a").statusCode()).isEqualTo(200);
        assertThat(status(get("/p/a"))).isEqualTo("HIT");
    }

    @Test
    void admin_entriesAndStats() throws Exception {
        for (int i = 0; i < 5; i++) {
            get("/e/" + i);
        }
        get("/p/a");
        get("/p/a");
        clock.advance(Duration.ofSeconds(10));
        revalidate("{\"paths\":[\"/e/0\"]}");

        String auth = "Bearer " + SECRET;
        JsonNode page1 = json.readTree(get("/_regen/api/entries?prefix=/e/&limit=3", "Authorization", auth)
                .body());
        assertThat(page1.get("entries")).hasSize(3);
        JsonNode first = page1.get("entries").get(0);
        assertThat(first.get("path").asText()).isEqualTo("/e/0");
        assertThat(first.get("key").asText()).isEqualTo("/e/0 @127.0.0.1:" + server.port());
        assertThat(first.get("state").asText()).isEqualTo("stale");
        assertThat(first.get("age").asLong()).isEqualTo(10);
        assertThat(first.get("revalidate").asLong()).isEqualTo(3600);
        assertThat(first.get("size").asLong()).isEqualTo("<p>/e/0 render 1</p>".length());
        assertThat(page1.get("entries").get(1).get("state").asText()).isEqualTo("fresh");
        String cursor = page1.get("cursor").asText();
        JsonNode page2 = json.readTree(get(
                        "/_regen/api/entries?prefix=/e/&limit=3&cursor="
                                + java.net.URLEncoder.encode(cursor, java.nio.charset.StandardCharsets.UTF_8),
                        "Authorization",
                        auth)
                .body());
        assertThat(page2.get("entries")).hasSize(2);
        assertThat(page2.get("cursor").isNull()).isTrue();
        JsonNode tagged = json.readTree(
                get("/_regen/api/entries?prefix=/p/", "Authorization", auth).body());
        assertThat(tagged.get("entries").get(0).get("tags").get(0).asText()).isEqualTo("posts");

        JsonNode stats =
                json.readTree(get("/_regen/api/stats", "Authorization", auth).body());
        assertThat(stats.get("misses").asLong()).isEqualTo(6);
        assertThat(stats.get("hits").asLong()).isEqualTo(1);
        assertThat(stats.get("renders").asLong()).isEqualTo(6);
        assertThat(stats.get("invalidations").asLong()).isEqualTo(1);
        assertThat(stats.get("memoryEntries").asLong()).isEqualTo(6);
        assertThat(stats.get("memoryBytes").asLong()).isPositive();

        assertThat(get("/_regen/api/stats").statusCode()).isEqualTo(401);
        assertThat(get("/_regen/api/stats", "Authorization", "Bearer nope").statusCode())
                .isEqualTo(401);
        assertThat(get("/_regen/api/entries?limit=0", "Authorization", auth).statusCode())
                .isEqualTo(400);
        assertThat(get("/_regen/health").statusCode()).isEqualTo(200);
    }

    @Test
    void bypassToken_fetchesUncachedAndNeverStores() throws Exception {
        HttpResponse<String> preview = get("/p/draft", "X-Regen-Bypass", "preview-0123456789");
        assertThat(status(preview)).isEqualTo("BYPASS");
        HttpResponse<String> cookie = get("/p/draft", "Cookie", "regen_bypass=preview-0123456789");
        assertThat(status(cookie)).isEqualTo("BYPASS");
        assertThat(status(get("/p/draft"))).isEqualTo("MISS");
        assertThat(status(get("/p/draft", "X-Regen-Bypass", "wrong"))).isEqualTo("HIT");
        assertThat(origin.renders("/p/draft")).isEqualTo(3);
    }

    private String bodyOf(String path) {
        HttpResponse<String> r = safeGet(path);
        return r == null ? "" : r.body();
    }

    private HttpResponse<String> safeGet(String path) {
        try {
            return get(path);
        } catch (Exception e) {
            return null;
        }
    }

    private static String status0(HttpResponse<String> r) {
        return r == null ? "" : status(r);
    }

    private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached within 10 s");
            }
            Thread.sleep(10);
        }
    }
}
