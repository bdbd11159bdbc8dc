package dev.regen.it.frameworks;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Express 5 fixture, straight and through Regen: a cookie session, content negotiation, origin caching
 * headers, redirects and a 404 handler. The app counts what reaches it ({@code /__hits}).
 */
@ExtendWith(FrameworkApps.class)
class ExpressIT extends SiteTest {
    private static final String CONFIG = "regen-express.yaml";
    private static final String BROWSER_ACCEPT =
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
    private static ExpressApp app;
    private static ExecutorService pool;

    @BeforeAll
    static void app(ExpressApp express) {
        app = express;
        pool = Executors.newFixedThreadPool(8);
    }

    @AfterAll
    static void stopPool() {
        pool.shutdownNow();
    }

    @BeforeEach
    void resetHits() {
        app.resetHits();
    }

    private String base(Via via) {
        return base(via, app.url(), CONFIG);
    }

    /** Issue 11, item 1: through Regen, alice got "Please log in" and an anonymous session cookie. */
    @DirectAndThroughRegen
    void loggedInUser_seesOwnAccountAndKeepsSession_othersNever(Via via) {
        String base = base(via);
        assertAnonymousAccount(Http.get(base + "/account"), "another visitor, before alice logs in");

        Browser alice = browser();
        alice.get(base + "/account");
        alice.awaitText("#greeting", "Please log in");
        alice.type("#user", "alice");
        alice.click("#login");
        alice.awaitText("#greeting", "Welcome back alice");
        alice.click("a[href='/account/orders']");
        alice.awaitText("#greeting", "Orders of alice");
        alice.click("a[href='/account']");
        alice.awaitText("#greeting", "Welcome back alice");
        alice.get(base + "/account");
        alice.awaitText("#greeting", "Welcome back alice");

        assertAnonymousAccount(Http.get(base + "/account"), "another visitor, after alice");
        assertAnonymousAccount(Http.get(base + "/account/orders"), "another visitor, after alice");
        Browser bob = browser();
        bob.get(base + "/account/orders");
        bob.awaitText("#greeting", "Please log in");
        HttpResponse<String> withCookie = Http.get(base + "/account", "Cookie", "sid=alice");
        assertThat(withCookie.body()).as("a client with alice's cookie").contains("Welcome back alice");
        assertThat(Http.header(withCookie, "cache-control")).isEqualTo("private");
    }

    private static void assertAnonymousAccount(HttpResponse<String> r, String who) {
        assertThat(r.statusCode()).as(who).isEqualTo(200);
        assertThat(r.body()).as(who).contains("Please log in").doesNotContain("alice");
        assertThat(r.headers().allValues("set-cookie"))
                .as(who + ": a session cookie of its own")
                .singleElement()
                .asString()
                .startsWith("sid=anon-");
    }

    /** Issue 11, item 4: through Regen, browsers got JSON and French visitors English. */
    @DirectAndThroughRegen
    void varyAcceptLanguageAndAccept_eachClientGetsItsVariant_fromCacheTheSecondTime(Via via) {
        String base = base(via);
        for (int round = 1; round <= 2; round++) {
            String when = "round " + round;
            HttpResponse<String> french = Http.get(base + "/lang", "Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5");
            HttpResponse<String> english = Http.get(base + "/lang", "Accept-Language", "en-GB,en;q=0.9");
            HttpResponse<String> json = Http.get(base + "/negotiate", "Accept", "application/json");
            HttpResponse<String> html = Http.get(base + "/negotiate", "Accept", BROWSER_ACCEPT);

            assertThat(french.body())
                    .as("French visitor, " + when)
                    .contains(">Bonjour<")
                    .doesNotContain(">Hello<");
            assertThat(english.body())
                    .as("English visitor, " + when)
                    .contains(">Hello<")
                    .doesNotContain(">Bonjour<");
            assertThat(Http.header(json, "content-type"))
                    .as("JSON client, " + when)
                    .startsWith("application/json");
            assertThat(json.body()).as("JSON client, " + when).startsWith("{\"kind\":\"json\"");
            assertThat(Http.header(html, "content-type")).as("browser, " + when).startsWith("text/html");
            assertThat(html.body()).as("browser, " + when).contains("<h1 id=\"kind\">html</h1>");
            if (round == 2 && via == Via.REGEN) {
                for (HttpResponse<String> r : List.of(french, english, json, html)) {
                    assertThat(Http.cacheStatus(r))
                            .as("second round, " + r.request().headers().map())
                            .isEqualTo("HIT");
                }
            }
        }
        assertThat(app.hits("/lang")).as("renders of /lang").isEqualTo(via == Via.REGEN ? 2 : 4);

        Browser visitor = browser();
        visitor.get(base + "/negotiate");
        visitor.awaitText("#kind", "html");
    }

    /** Issue 11, item 4: a theme cookie named by {@code Vary: Cookie} on a {@code public} page. */
    @DirectAndThroughRegen
    void varyCookie_eachThemeGetsItsVariant_fromCacheTheSecondTime(Via via) {
        String base = base(via);
        for (int round = 1; round <= 2; round++) {
            HttpResponse<String> dark = Http.get(base + "/theme", "Cookie", "theme=dark");
            HttpResponse<String> light = Http.get(base + "/theme");
            assertThat(dark.body()).as("dark theme, round " + round).contains("<h1 id=\"theme\">dark</h1>");
            assertThat(light.body()).as("no theme cookie, round " + round).contains("<h1 id=\"theme\">light</h1>");
            if (round == 2 && via == Via.REGEN) {
                assertThat(Http.cacheStatus(dark)).as("dark, second round").isEqualTo("HIT");
                assertThat(Http.cacheStatus(light)).as("light, second round").isEqualTo("HIT");
            }
        }
    }

    /** Issue 11, item 5: absolute redirects leaked the origin's address. */
    @DirectAndThroughRegen
    void absoluteRedirect_pointsAtThePublicHost(Via via) {
        assertAbsoluteRedirectStaysOn(base(via));
    }

    /** Issue 11, item 6: a 404 is cacheable (RFC 9111 §4.2.2), so a flood of one missing path is one render. */
    @DirectAndThroughRegen
    void notFoundFlood_of1000Requests_reachesTheOriginOnce(Via via) throws Exception {
        String url = base(via) + "/no/such/page";
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            answers.add(pool.submit(() -> Http.get(url)));
        }
        for (Future<HttpResponse<String>> a : answers) {
            HttpResponse<String> r = a.get();
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.body()).contains("Not found: /no/such/page");
        }
        if (via == Via.REGEN) {
            regen().awaitIdle();
        }
        assertThat(app.hits("/no/such/page"))
                .as("requests that reached the app")
                .isEqualTo(via == Via.REGEN ? 1 : 1000);
    }

    /** Issue 11, item 6: a 301 with {@code s-maxage} was not cached. */
    @DirectAndThroughRegen
    void permanentRedirectWithSMaxage_reachesTheOriginOnce(Via via) {
        String base = base(via);
        for (int i = 0; i < 50; i++) {
            HttpResponse<String> r = Http.get(base + "/moved");
            assertThat(r.statusCode()).isEqualTo(301);
            assertThat(Http.header(r, "location")).isEqualTo("/target");
        }
        if (via == Via.REGEN) {
            regen().awaitIdle();
        }
        assertThat(app.hits("/moved")).as("requests that reached the app").isEqualTo(via == Via.REGEN ? 1 : 50);
    }

    /**
     * Issue 11, item 6: {@code max-age=31536000, immutable} assets were re-rendered every 60 s. Requests spread
     * over two hours (the default revalidate time is 60 s), then past the asset's max-age: immutable is never
     * refreshed (RFC 8246; DESIGN.md).
     */
    @DirectAndThroughRegen
    void immutableAsset_isNotRerendered(Via via) {
        String url = base(via) + "/assets/app.3f9a1c7e.js";
        int requests = 0;
        for (int step = 0; step <= 12; step++) {
            if (via == Via.REGEN && step > 0) {
                regen().clock().advance(step == 12 ? Duration.ofDays(400) : Duration.ofMinutes(10));
            }
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = Http.get(url);
                requests++;
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("window.appVersion = '3f9a1c7e';\n");
            }
            if (via == Via.REGEN) {
                regen().awaitIdle();
            }
        }
        assertThat(app.hits("/assets/app.3f9a1c7e.js"))
                .as("requests that reached the app")
                .isEqualTo(via == Via.REGEN ? 1 : requests);
    }

    /**
     * Issue 11, item 6: {@code max-age=0, must-revalidate} and a past {@code Expires} were cached for 60 s and
     * then served stale (RFC 9111 §4.2.1, §5.3): every request must see a fresh render.
     */
    @DirectAndThroughRegen
    void maxAgeZeroMustRevalidateAndPastExpires_everyRequestSeesAFreshRender(Via via) {
        String base = base(via);
        for (String path : List.of("/must-revalidate", "/expired")) {
            for (int n = 1; n <= 3; n++) {
                HttpResponse<String> r = Http.get(base + path);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).as(path + ", request " + n).contains("<p>render " + n + "</p>");
            }
        }
    }
}
