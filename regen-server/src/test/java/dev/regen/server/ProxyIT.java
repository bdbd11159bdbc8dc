package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.RegenConfig;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.KvStore;
import dev.regen.store.MemoryStore;
import dev.regen.store.embedded.EmbeddedStore;
import dev.regen.testing.FakeClock;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The proxy over real sockets, in front of a real origin; time moves only through the fake clock. */
class ProxyIT {
    private final FakeClock clock = new FakeClock();
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private TestOrigin origin;
    private RegenServer server;

    @TempDir
    Path dir;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        server = start(
                new MemoryStore(64L << 20, clock),
                RegenConfig.builder().revalidate(Duration.ofSeconds(60)).build());
    }

    private RegenServer start(KvStore store, RegenConfig engine) throws InterruptedException {
        return start(store, engine, dev.regen.server.config.Front.DEFAULTS);
    }

    private RegenServer start(KvStore store, RegenConfig engine, dev.regen.server.config.Front front)
            throws InterruptedException {
        ServerConfig cfg = new ServerConfig(
                URI.create(origin.url()),
                "127.0.0.1",
                0,
                engine,
                null,
                new StoreSpec.Memory(),
                64L << 20,
                Duration.ofSeconds(1),
                "/api/revalidate",
                false,
                ServerConfig.AccessLog.OFF,
                null,
                front);
        return RegenServer.start(cfg, store, clock);
    }

    /** The Host this test's requests carry: the key's host, with no hosts: configured. */
    private String host() {
        return "127.0.0.1:" + server.port();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        origin.close();
    }

    /** One request; after a MISS that is being stored, waits until the store has it (the MISS streams first). */
    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpResponse<String> r = client.send(request(path, headers).build(), HttpResponse.BodyHandlers.ofString());
        settled(r);
        return r;
    }

    private void settled(HttpResponse<?> r) throws InterruptedException {
        if (r.headers().firstValue("cache-status").orElse("").contains("stored=true")) {
            awaitTrue(() -> server.engine().rendersInFlight() == 0);
        }
    }

    private HttpRequest.Builder request(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b;
    }

    private static String cacheStatus(HttpResponse<?> r) {
        return r.headers().firstValue("x-cache-status").orElse("(none)");
    }

    @Test
    void get_missHitStaleRenderHit_headersAndBodies() throws Exception {
        HttpResponse<String> miss = get("/p/a");
        assertThat(miss.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(miss)).isEqualTo("MISS");
        assertThat(miss.headers().firstValue("cache-status")).hasValue("regen; fwd=uri-miss; stored=true");
        assertThat(miss.headers().firstValue("age")).hasValue("0");
        assertThat(miss.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(miss.body()).isEqualTo("<p>/p/a render 1</p>");

        clock.advance(Duration.ofSeconds(20));
        HttpResponse<String> hit = get("/p/a");
        assertThat(cacheStatus(hit)).isEqualTo("HIT");
        assertThat(hit.headers().firstValue("cache-status")).hasValue("regen; hit; ttl=40");
        assertThat(hit.headers().firstValue("age")).hasValue("20");
        assertThat(hit.headers().firstValue("etag")).isPresent();
        assertThat(hit.body()).isEqualTo(miss.body());

        clock.advance(Duration.ofSeconds(45));
        HttpResponse<String> stale = get("/p/a");
        assertThat(cacheStatus(stale)).isEqualTo("STALE");
        assertThat(stale.headers().firstValue("cache-status")).hasValue("regen; hit; fwd=stale");
        assertThat(stale.headers().firstValue("age")).hasValue("65");
        assertThat(stale.body()).isEqualTo("<p>/p/a render 1</p>");

        awaitTrue(() -> hitBody("/p/a").equals("<p>/p/a render 2</p>"));
        HttpResponse<String> fresh = get("/p/a");
        assertThat(cacheStatus(fresh)).isEqualTo("HIT");
        assertThat(fresh.headers().firstValue("age")).hasValue("0");
        assertThat(origin.renders("/p/a")).isEqualTo(2);
    }

    private String hitBody(String path) {
        try {
            HttpResponse<String> r = get(path);
            return cacheStatus(r).equals("HIT") ? r.body() : "";
        } catch (Exception e) {
            return "";
        }
    }

    @Test
    void get_200ConcurrentToColdPage_oneRender() throws Exception {
        origin.hold();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(client.sendAsync(request("/p/cold").build(), HttpResponse.BodyHandlers.ofString()));
        }
        // all 200 are inside Regen, waiting on the one render, before the origin answers
        awaitTrue(() -> server.engine().stats().misses() == 200);
        assertThat(origin.renders("/p/cold")).isEqualTo(1);
        origin.release();
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("<p>/p/cold render 1</p>");
            assertThat(cacheStatus(r)).isEqualTo("MISS");
        }
        assertThat(origin.renders("/p/cold")).isEqualTo(1);
    }

    @Test
    void get_200ConcurrentToStalePage_oneRenderNobodyWaits() throws Exception {
        get("/p/stale");
        clock.advance(Duration.ofSeconds(61));
        origin.hold();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(client.sendAsync(request("/p/stale").build(), HttpResponse.BodyHandlers.ofString()));
        }
        // every answer arrives while the one background render is still held open at the origin
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
            assertThat(cacheStatus(r)).isEqualTo("STALE");
            assertThat(r.body()).isEqualTo("<p>/p/stale render 1</p>");
        }
        assertThat(origin.renders("/p/stale")).isEqualTo(2);
        origin.release();
        awaitTrue(() -> hitBody("/p/stale").equals("<p>/p/stale render 2</p>"));
        assertThat(origin.renders("/p/stale")).isEqualTo(2);
    }

    @Test
    void get_originDown_staleServedAndMissIs502() throws Exception {
        get("/p/down");
        clock.advance(Duration.ofSeconds(61));
        origin.stop();
        HttpResponse<String> stale = get("/p/down");
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(stale)).isEqualTo("STALE");
        awaitTrue(() -> server.engine().stats().renderErrors() == 1);
        HttpResponse<String> again = get("/p/down");
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.body()).isEqualTo("<p>/p/down render 1</p>");

        HttpResponse<String> miss = get("/p/never-seen");
        assertThat(miss.statusCode()).isEqualTo(502);
        assertThat(miss.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(miss.body()).contains("502").contains("could not be reached");

        origin.start();
        clock.advance(Duration.ofSeconds(5));
        awaitTrue(() -> hitBody("/p/down").equals("<p>/p/down render 2</p>"));
    }

    @Test
    void get_originError_passedOnNeverStored() throws Exception {
        origin.on("/p/err", s -> TestOrigin.Response.html("boom " + s.render()).status(500));
        HttpResponse<String> first = get("/p/err");
        assertThat(first.statusCode()).isEqualTo(500);
        assertThat(first.body()).isEqualTo("boom 1");
        assertThat(cacheStatus(first)).isEqualTo("MISS");
        assertThat(first.headers().firstValue("cache-status"))
                .hasValue("regen; fwd=uri-miss; stored=false; detail=\"origin status 500\"");
        assertThat(get("/p/err").body()).isEqualTo("boom 2");
    }

    @Test
    void get_errorOnRevalidate_keepsGoodPage() throws Exception {
        get("/p/flaky");
        origin.on("/p/flaky", s -> TestOrigin.Response.html("bad").status(503));
        clock.advance(Duration.ofSeconds(61));
        get("/p/flaky");
        awaitTrue(() -> server.engine().stats().renderErrors() == 1);
        HttpResponse<String> r = get("/p/flaky");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("<p>/p/flaky render 1</p>");
    }

    @Test
    void get_privateResponses_neverStored() throws Exception {
        origin.on("/p/cookie", s -> TestOrigin.Response.html("c" + s.render(), "Set-Cookie", "sid=" + s.render()));
        origin.on("/p/private", s -> TestOrigin.Response.html("p" + s.render(), "Cache-Control", "private"));
        origin.on("/p/nostore", s -> TestOrigin.Response.html("n" + s.render(), "Cache-Control", "no-store"));
        for (String path : List.of("/p/cookie", "/p/private", "/p/nostore")) {
            HttpResponse<String> one = get(path);
            HttpResponse<String> two = get(path);
            assertThat(cacheStatus(one)).isEqualTo("MISS");
            assertThat(one.headers().firstValue("cache-status").orElseThrow())
                    .startsWith("regen; fwd=uri-miss; stored=false");
            // hit-for-pass: the next requests go to the origin on their own, never queued behind another's
            assertThat(cacheStatus(two)).isEqualTo("BYPASS");
            assertThat(two.headers().firstValue("cache-status"))
                    .hasValue("regen; fwd=bypass; stored=false; detail=\"hit-for-pass\"");
            assertThat(origin.renders(path)).as(path).isEqualTo(2);
        }
        assertThat(get("/p/cookie").headers().firstValue("set-cookie")).hasValue("sid=3");
    }

    @Test
    void get_binaryBody_byteExact() throws Exception {
        byte[] bytes = new byte[300_000];
        new Random(7).nextBytes(bytes);
        origin.on(
                "/blob",
                s -> new TestOrigin.Response(
                        200, List.<String[]>of(new String[] {"Content-Type", "application/octet-stream"}), bytes));
        HttpResponse<byte[]> miss = client.send(request("/blob").build(), HttpResponse.BodyHandlers.ofByteArray());
        settled(miss);
        HttpResponse<byte[]> hit = client.send(request("/blob").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(miss.body()).isEqualTo(bytes);
        assertThat(hit.body()).isEqualTo(bytes);
        assertThat(cacheStatus(hit)).isEqualTo("HIT");
        assertThat(hit.headers().firstValue("content-length")).hasValue("300000");
    }

    @Test
    void get_ifNoneMatch_304AndHeadHasNoBody() throws Exception {
        HttpResponse<String> first = get("/p/etag");
        // the page stored has a validator even though the origin sent none (the MISS streamed as it came)
        String etag = get("/p/etag").headers().firstValue("etag").orElseThrow();
        HttpResponse<String> notModified = get("/p/etag", "If-None-Match", "\"other\", " + etag);
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.body()).isEmpty();
        assertThat(notModified.headers().firstValue("etag")).hasValue(etag);
        assertThat(cacheStatus(notModified)).isEqualTo("HIT");

        HttpResponse<String> head = client.send(
                request("/p/etag")
                        .method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValue("content-length"))
                .hasValue(String.valueOf(first.body().length()));
        assertThat(origin.renders("/p/etag")).isEqualTo(1);
    }

    @Test
    void get_replayedHeaders_originFieldsKeptInternalOnesDropped() throws Exception {
        origin.on(
                "/p/h",
                s -> TestOrigin.Response.html("h", "X-Custom", "1", "Cache-Tag", "posts", "Vary", "Accept-Language"));
        get("/p/h");
        HttpResponse<String> hit = get("/p/h");
        assertThat(hit.headers().firstValue("x-custom")).hasValue("1");
        assertThat(hit.headers().firstValue("vary")).hasValue("Accept-Language");
        assertThat(hit.headers().firstValue("cache-tag")).isEmpty();
        assertThat(hit.headers().firstValue("date")).isPresent();
    }

    @Test
    void post_passesThroughWithBody() throws Exception {
        origin.on(
                "/form",
                s -> TestOrigin.Response.html(
                        s.method() + ":" + new String(s.body(), StandardCharsets.UTF_8), "Set-Cookie", "flash=1"));
        HttpResponse<String> r = client.send(
                request("/form")
                        .POST(HttpRequest.BodyPublishers.ofString("a=1&b=2"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("POST:a=1&b=2");
        assertThat(cacheStatus(r)).isEqualTo("BYPASS");
        assertThat(r.headers().firstValue("cache-status")).hasValue("regen; fwd=method");
        assertThat(r.headers().firstValue("set-cookie")).hasValue("flash=1");
    }

    @Test
    void get_withAuthorization_bypassesAndStreams() throws Exception {
        byte[] big = new byte[2_000_000];
        new Random(3).nextBytes(big);
        origin.on("/big", s -> new TestOrigin.Response(200, List.of(), big));
        HttpResponse<byte[]> r = client.send(
                request("/big", "Authorization", "Bearer abc").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(cacheStatus(r)).isEqualTo("BYPASS");
        assertThat(r.body()).isEqualTo(big);
        client.send(request("/big", "Authorization", "Bearer abc").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(origin.renders("/big")).isEqualTo(2);
    }

    @Test
    void get_spoofedHostAndForwardingHeaders_fillOnlyTheirOwnEntries() throws Exception {
        origin.on(
                "/p/host",
                s -> TestOrigin.Response.html("host=" + s.header("Host") + " xfh=" + s.header("X-Forwarded-Host")
                        + " xfp=" + s.header("X-Forwarded-Proto") + " xff=" + s.header("X-Forwarded-For")
                        + " orig=" + s.header("X-Original-URL")));
        String raw = rawGet(
                "/p/host",
                "Host: evil.example\r\nX-Forwarded-Host: other.example\r\nX-Forwarded-Proto: https\r\n"
                        + "X-Forwarded-For: 6.6.6.6\r\nX-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\nForwarded: host=evil.example\r\n");
        assertThat(raw).startsWith("HTTP/1.1 200");
        // untrusted forwarding fields are ignored; the origin keeps its own Host and learns the real request
        assertThat(raw)
                .contains("host=127.0.0.1:" + originPort() + " xfh=evil.example xfp=http xff=127.0.0.1 orig=null");
        HttpResponse<String> plain = get("/p/host");
        assertThat(cacheStatus(plain)).isEqualTo("MISS");
        assertThat(plain.body()).contains("xfh=" + host());
        assertThat(cacheStatus(get("/p/host"))).isEqualTo("HIT");
    }

    @Test
    void get_listedHosts_shareNothing_unlistedGets421() throws Exception {
        server.close();
        server = start(
                new MemoryStore(1 << 20, clock),
                RegenConfig.builder().build(),
                dev.regen.server.config.Front.DEFAULTS.withHosts(List.of("www.example.com", "example.com"), null));
        origin.on("/p/h", s -> TestOrigin.Response.html("for " + s.header("X-Forwarded-Host")));
        assertThat(rawGet("/p/h", "Host: www.example.com\r\n")).contains("for www.example.com");
        assertThat(rawGet("/p/h", "Host: EXAMPLE.com.\r\n"))
                .contains("for example.com")
                .contains("X-Cache-Status: MISS");
        assertThat(rawGet("/p/h", "Host: www.example.com:80\r\n")).contains("X-Cache-Status: HIT");
        String misdirected = rawGet("/p/h", "Host: evil.example\r\n");
        assertThat(misdirected).startsWith("HTTP/1.1 421");
        assertThat(origin.renders("/p/h")).isEqualTo(2);
    }

    @Test
    void get_twoSpellingsOfOnePage_oneEntry() throws Exception {
        get("/p/one?utm_source=news&b=2&a=1");
        assertThat(cacheStatus(get("/p//one?a=1&b=2&fbclid=x"))).isEqualTo("HIT");
        assertThat(cacheStatus(get("/p/./x/../one?b=2&a=1"))).isEqualTo("HIT");
        assertThat(origin.renders("/p/one")).isEqualTo(1);
        // not one canonical page: the origin judges it, and nothing is stored
        HttpResponse<String> slash = get("/p/a%2Fb");
        assertThat(cacheStatus(slash)).isEqualTo("BYPASS");
        assertThat(get("/p/a%00b").statusCode()).isEqualTo(400);
    }

    @Test
    void get_renderTimeout_504() throws Exception {
        server.close();
        server = start(
                new MemoryStore(1 << 20, clock),
                RegenConfig.builder().renderTimeout(Duration.ofMillis(300)).build());
        origin.hold();
        HttpResponse<String> r = get("/p/slow");
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.body()).contains("did not answer");
        origin.release();
    }

    @Test
    void restart_embeddedStore_keepsPages() throws Exception {
        // one public host whatever port the test server gets
        var front = dev.regen.server.config.Front.DEFAULTS.withHosts(List.of("www.example.com"), "www.example.com");
        server.close();
        server = start(EmbeddedStore.open(dir, clock), RegenConfig.builder().build(), front);
        get("/p/kept");
        HttpResponse<String> first = get("/p/kept");
        server.close();
        server = start(EmbeddedStore.open(dir, clock), RegenConfig.builder().build(), front);
        HttpResponse<String> again = get("/p/kept");
        assertThat(cacheStatus(again)).isEqualTo("HIT");
        assertThat(again.body()).isEqualTo(first.body());
        assertThat(again.headers().firstValue("etag")).isEqualTo(first.headers().firstValue("etag"));
        assertThat(origin.renders("/p/kept")).isEqualTo(1);
    }

    @Test
    void pipelinedRequests_answeredInOrder() throws Exception {
        get("/p/1");
        origin.hold();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            // a miss that waits on the origin, then a hit: the hit must not overtake it
            out.write(("GET /p/2 HTTP/1.1\r\nHost: " + host() + "\r\n\r\nGET /p/1 HTTP/1.1\r\nHost: " + host()
                            + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            awaitTrue(() -> origin.renders("/p/2") == 1);
            origin.release();
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(all.indexOf("render 1</p>")).isLessThan(all.lastIndexOf("/p/1 render 1"));
            assertThat(all.indexOf("/p/2 render 1")).isLessThan(all.indexOf("/p/1 render 1"));
        }
    }

    @Test
    void http10_hitsKeepTheConnectionOnlyWhenAsked_headHasLengthButNoBody() throws Exception {
        String body = get("/p/10").body();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("HEAD /p/10 HTTP/1.0\r\nHost: " + host() + "\r\nConnection: keep-alive\r\n\r\n"
                            + "GET /p/10 HTTP/1.0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int second = all.indexOf("HTTP/1.1 200", 1);
            String head = all.substring(0, second);
            String get = all.substring(second);
            assertThat(head)
                    .contains("Connection: keep-alive\r\n")
                    .contains("X-Cache-Status: HIT\r\n")
                    .contains("Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n")
                    .endsWith("\r\n\r\n");
            assertThat(get).contains("Connection: close\r\n").endsWith("\r\n\r\n" + body);
        }
    }

    @Test
    void get_acceptGzip_precompressedVariantWithOwnEtagAndVary() throws Exception {
        String html = "<html>" + "<p>compressible text</p>".repeat(400) + "</html>";
        origin.on("/p/gz", s -> TestOrigin.Response.html(html, "Vary", "Accept-Language"));
        HttpResponse<String> miss = get("/p/gz");
        assertThat(miss.headers().firstValue("vary")).hasValue("Accept-Language, Accept-Encoding");
        HttpResponse<String> plain = get("/p/gz");
        HttpResponse<byte[]> gz = client.send(
                request("/p/gz", "Accept-Encoding", "br, gzip;q=0.8").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(gz.headers().firstValue("content-encoding"))
                .as(gz.headers().map().toString())
                .hasValue("gzip");
        assertThat(gz.headers().firstValue("vary")).hasValue("Accept-Language, Accept-Encoding");
        assertThat(plain.headers().firstValue("vary")).hasValue("Accept-Language, Accept-Encoding");
        assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
        String gzEtag = gz.headers().firstValue("etag").orElseThrow();
        assertThat(gzEtag).isNotEqualTo(plain.headers().firstValue("etag").orElseThrow());
        assertThat(Integer.parseInt(gz.headers().firstValue("content-length").orElseThrow()))
                .isEqualTo(gz.body().length)
                .isLessThan(html.length() / 5);
        try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz.body()))) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(html);
        }
        assertThat(get("/p/gz", "Accept-Encoding", "gzip;q=0, identity")
                        .headers()
                        .firstValue("content-encoding"))
                .isEmpty();
        HttpResponse<String> notModified = get("/p/gz", "Accept-Encoding", "gzip", "If-None-Match", gzEtag);
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.headers().firstValue("etag")).hasValue(gzEtag);
        // the identity ETag does not validate the gzip variant
        assertThat(get(
                                "/p/gz",
                                "Accept-Encoding",
                                "gzip",
                                "If-None-Match",
                                plain.headers().firstValue("etag").orElseThrow())
                        .statusCode())
                .isEqualTo(200);
        assertThat(origin.renders("/p/gz")).isEqualTo(1);
    }

    @Test
    void get_acceptGzip_binaryAndOriginEncodedBodiesSentAsStored() throws Exception {
        byte[] png = new byte[4096];
        new Random(1).nextBytes(png);
        origin.on(
                "/img",
                s -> new TestOrigin.Response(200, List.<String[]>of(new String[] {"Content-Type", "image/png"}), png));
        client.send(request("/img").build(), HttpResponse.BodyHandlers.ofByteArray());
        HttpResponse<byte[]> img = client.send(
                request("/img", "Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(cacheStatus(img)).isEqualTo("HIT");
        assertThat(img.body()).isEqualTo(png);
        assertThat(img.headers().firstValue("content-encoding")).isEmpty();
        // an origin that answers br although asked for gzip: clients get what they accept, never br unasked
        byte[] br = java.util.Base64.getDecoder().decode("G54DyJwJNi6od8d4ySMGVyB05SPXIGlsb1oQQg5qTL5AuLA+SQLvpFgf");
        String text = "<p>" + "brotli from the origin ".repeat(40) + "</p>";
        origin.on(
                "/pre",
                s -> new TestOrigin.Response(
                        200,
                        List.of(new String[] {"Content-Type", "text/html"}, new String[] {"Content-Encoding", "br"}),
                        br));
        HttpResponse<String> decoded = get("/pre");
        assertThat(decoded.headers().firstValue("content-encoding")).isEmpty();
        assertThat(decoded.body()).isEqualTo(text);
        HttpResponse<byte[]> gzipped = client.send(
                request("/pre", "Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(cacheStatus(gzipped)).isEqualTo("HIT");
        assertThat(gzipped.headers().firstValue("content-encoding")).hasValue("gzip");
        try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gzipped.body()))) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(text);
        }
        origin.on(
                "/bad-br",
                s -> new TestOrigin.Response(
                        200,
                        List.of(new String[] {"Content-Type", "text/html"}, new String[] {"Content-Encoding", "br"}),
                        png));
        assertThat(get("/bad-br").statusCode()).isEqualTo(502);
    }

    private int originPort() {
        return URI.create(origin.url()).getPort();
    }

    private String rawGet(String path, String extraHeaders) throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\n" + extraHeaders + "Connection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** Waits for the server's own threads (a background render) to get somewhere; time itself is faked. */
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
