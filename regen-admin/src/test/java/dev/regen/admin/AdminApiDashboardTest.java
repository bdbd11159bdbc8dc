package dev.regen.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regen.CacheStatus;
import dev.regen.FakeOrigin;
import dev.regen.Regen;
import dev.regen.RegenConfig;
import dev.regen.RegenEngine;
import dev.regen.TestEdge;
import dev.regen.internal.ClientRequest;
import dev.regen.internal.Header;
import dev.regen.internal.RequestHeaders;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import dev.regen.testing.PrometheusText;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dashboard's login, session cookie, CSRF defence, metrics auth, health and time series. */
class AdminApiDashboardTest {
    private static final String SECRET = "dashboard-secret-0123456789";
    private static final String CLIENT = "192.0.2.10";
    private final FakeClock clock = new FakeClock(Instant.parse("2026-01-01T10:00:00Z"));
    private final FakeOrigin origin = new FakeOrigin()
            .respondWith(r -> FakeOrigin.page(
                    "page " + r.target(), new Header("Cache-Tag", r.target().startsWith("/blog") ? "blog" : "other")));
    private final MemoryStore store = new MemoryStore(64L << 20, clock);
    private final RegenMetrics metrics = new RegenMetrics(clock);
    private final Regen regen = Regen.newBuilder()
            .config(RegenConfig.builder()
                    .revalidate(Duration.ofSeconds(60))
                    // no eager re-render after the tag revalidation: the render counts stay exact
                    .eagerWindow(Duration.ZERO)
                    .build())
            .store(metrics.instrument(store))
            .clock(clock)
            .listener(metrics)
            .secret(SECRET)
            .webhookPath("/api/revalidate")
            .siteName("www.example.com")
            .build();
    private final RegenEngine engine = regen.newEngine(origin);
    private HealthReport healthNow = HealthReport.UNKNOWN;
    private final AdminApi api = build(false);
    private final ObjectMapper json = new ObjectMapper();

    {
        metrics.bind(engine);
    }

    private AdminApi build(boolean metricsPublic) {
        return new AdminApi(regen.toBuilder().metricsPublic(metricsPublic).build(), engine, metrics, () -> healthNow);
    }

    @AfterEach
    void close() {
        engine.close();
        store.close();
    }

    // ---- helpers

    private static ApiRequest request(String method, String uri, byte[] body, String... headers) {
        return request(CLIENT, method, uri, body, headers);
    }

    private static ApiRequest request(String client, String method, String uri, byte[] body, String... headers) {
        Map<String, String> h = new HashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i].toLowerCase(Locale.ROOT), headers[i + 1]);
        }
        return new ApiRequest(method, uri, name -> h.get(name.toLowerCase(Locale.ROOT)), body, client);
    }

    private ApiResponse call(AdminApi a, String method, String uri, String body, String... headers) {
        return a.handle(request(method, uri, body == null ? null : body.getBytes(StandardCharsets.UTF_8), headers))
                .orTimeout(10, TimeUnit.SECONDS)
                .join();
    }

    private ApiResponse call(String method, String uri, String body, String... headers) {
        return call(api, method, uri, body, headers);
    }

    /** From another client address than the other calls'. */
    private ApiResponse callFrom(String client, String method, String uri, String body, String... headers) {
        return api.handle(request(
                        client, method, uri, body == null ? null : body.getBytes(StandardCharsets.UTF_8), headers))
                .orTimeout(10, TimeUnit.SECONDS)
                .join();
    }

    private static String text(ApiResponse r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    private JsonNode jsonOf(ApiResponse r) throws Exception {
        return json.readTree(r.body());
    }

    private ApiResponse login(String secret, String... headers) {
        String[] all = new String[headers.length + 2];
        all[0] = "Content-Type";
        all[1] = "application/x-www-form-urlencoded";
        System.arraycopy(headers, 0, all, 2, headers.length);
        return call(
                "POST", "/_regen/login", "secret=" + java.net.URLEncoder.encode(secret, StandardCharsets.UTF_8), all);
    }

    /** The session cookie's {@code name=value}, from a successful login. */
    private String session() {
        ApiResponse r = login(SECRET);
        assertThat(r.status()).isEqualTo(303);
        return r.headers().get("Set-Cookie").split(";", 2)[0];
    }

    private String csrf(String cookie) {
        ApiResponse page = call("GET", "/_regen/", null, "Cookie", cookie);
        assertThat(page.status()).isEqualTo(200);
        String html = text(page);
        int at = html.indexOf("name=\"regen-csrf\" content=\"") + "name=\"regen-csrf\" content=\"".length();
        return html.substring(at, html.indexOf('"', at));
    }

    private TestEdge.Served serve(String target) {
        return new TestEdge(engine, origin)
                .serve(new ClientRequest(
                        "GET", target, "www.example.com", "http", RequestHeaders.of(java.util.List.of()), false))
                .orTimeout(10, TimeUnit.SECONDS)
                .join();
    }

    // ---- login and the session cookie

    @Test
    void login_rightSecret_setsHttpOnlyStrictCookieScopedToRegenWithoutTheSecret() {
        ApiResponse r = login(SECRET);

        assertThat(r.status()).isEqualTo(303);
        assertThat(r.headers()).containsEntry("Location", "/_regen/");
        String cookie = r.headers().get("Set-Cookie");
        assertThat(cookie)
                .startsWith("regen_session=")
                .contains("; HttpOnly")
                .contains("; SameSite=Strict")
                .contains("; Path=/_regen/")
                .contains("; Max-Age=43200")
                .doesNotContain("Secure");
        assertThat(cookie)
                .doesNotContain(SECRET)
                .doesNotContain(java.net.URLEncoder.encode(SECRET, StandardCharsets.UTF_8));
        assertThat(r.headers().get("Location")).doesNotContain(SECRET);
    }

    @Test
    void login_wrongSecret_401WithClearErrorAndNoCookie() {
        ApiResponse r = login("not-the-secret-at-all");

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.headers()).doesNotContainKey("Set-Cookie");
        assertThat(r.contentType()).startsWith("text/html");
        assertThat(text(r)).contains("id=\"login-error\"").contains("Wrong secret");
    }

    @Test
    void login_fromAnotherSite_refused() {
        ApiResponse r = login(SECRET, "Origin", "https://evil.example", "Host", "regen.example:8080");

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.headers()).doesNotContainKey("Set-Cookie");
    }

    @Test
    void login_manyWrongSecretsFromOneClient_429ForThatClientOnly_rightSecretElsewhereStillWorks() {
        for (int i = 0; i <= AuthThrottle.FREE_FAILURES; i++) {
            assertThat(login("wrong-" + i).status()).isEqualTo(401);
        }

        ApiResponse throttled = login(SECRET);
        assertThat(throttled.status()).isEqualTo(429);
        assertThat(throttled.headers()).containsEntry("Retry-After", "1").doesNotContainKey("Set-Cookie");
        assertThat(text(throttled)).contains("Too many wrong secrets from your address. Try again in 1 s.");
        ApiResponse elsewhere = callFrom(
                "198.51.100.1",
                "POST",
                "/_regen/login",
                "secret=" + SECRET,
                "Content-Type",
                "application/x-www-form-urlencoded");
        assertThat(elsewhere.status()).isEqualTo(303);

        clock.advance(Duration.ofSeconds(1));
        assertThat(login(SECRET).status()).isEqualTo(303);
    }

    @Test
    void bearer_wrongGuessesFromOneClient_429WithRetryAfter_onEveryDoor_otherClientAndSessionsUnaffected()
            throws Exception {
        String cookie = session();
        for (int i = 0; i <= AuthThrottle.FREE_FAILURES; i++) {
            assertThat(call("GET", "/_regen/api/stats", null, "Authorization", "Bearer wrong-" + i)
                            .status())
                    .isEqualTo(401);
        }

        for (String[] door :
                new String[][] {{"GET", "/_regen/api/stats"}, {"GET", "/_regen/metrics"}, {"POST", "/api/revalidate"}
                }) {
            ApiResponse r = call(
                    door[0],
                    door[1],
                    "{\"paths\":[\"/a\"]}",
                    "Authorization",
                    "Bearer " + SECRET,
                    "Content-Type",
                    "application/json");
            assertThat(r.status()).as(door[1]).isEqualTo(429);
            assertThat(r.headers()).containsEntry("Retry-After", "1");
            assertThat(jsonOf(r).get("error").asText())
                    .isEqualTo("too many wrong secrets from this address: try again in 1 s");
        }
        ApiResponse bodySecret = call(
                "POST",
                "/api/revalidate",
                "{\"paths\":[\"/a\"],\"secret\":\"" + SECRET + "\"}",
                "Content-Type",
                "application/json");
        assertThat(bodySecret.status()).isEqualTo(429);
        ApiResponse other =
                callFrom("198.51.100.1", "GET", "/_regen/api/stats", null, "Authorization", "Bearer " + SECRET);
        assertThat(other.status()).isEqualTo(200);
        assertThat(call("GET", "/_regen/api/stats", null, "Cookie", cookie).status())
                .isEqualTo(200);

        PrometheusText.Exposition m = PrometheusText.parse(metrics.scrape());
        assertThat(m.value("regen_auth_failures_total", "endpoint", "api")).isEqualTo(AuthThrottle.FREE_FAILURES + 1);
        assertThat(m.value("regen_auth_throttled_total", "endpoint", "webhook")).isEqualTo(2.0);
    }

    @Test
    void dashboard_withoutSession_redirectsToLogin_withSession_servesPageWithCsp() {
        ApiResponse anonymous = call("GET", "/_regen/", null);
        assertThat(anonymous.status()).isEqualTo(303);
        assertThat(anonymous.headers()).containsEntry("Location", "/_regen/login");

        ApiResponse page = call("GET", "/_regen/", null, "Cookie", "other=1; " + session());
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.headers().get("Content-Security-Policy"))
                .contains("script-src 'self'")
                .contains("frame-ancestors 'none'");
        assertThat(text(page)).contains("www.example.com").doesNotContain("{{");
    }

    @Test
    void session_forgedOrExpired_rejected() {
        String cookie = session();
        String forged = cookie.substring(0, cookie.length() - 3) + (cookie.endsWith("AAA") ? "BBB" : "AAA");
        assertThat(call("GET", "/_regen/api/stats", null, "Cookie", forged).status())
                .isEqualTo(401);
        assertThat(call("GET", "/_regen/api/stats", null, "Cookie", cookie).status())
                .isEqualTo(200);

        clock.advance(Duration.ofHours(12));
        assertThat(call("GET", "/_regen/api/stats", null, "Cookie", cookie).status())
                .isEqualTo(401);
    }

    @Test
    void session_fromAnotherSecret_rejected() {
        String cookie = session();
        AdminApi other = new AdminApi(
                regen.toBuilder().secret("another-secret-0123456789").build(), engine, null, null);

        assertThat(call(other, "GET", "/_regen/api/stats", null, "Cookie", cookie)
                        .status())
                .isEqualTo(401);
    }

    @Test
    void logout_revokesTheSessionAndClearsTheCookie() {
        String cookie = session();
        String csrf = csrf(cookie);

        ApiResponse noToken = call("POST", "/_regen/logout", "", "Cookie", cookie);
        assertThat(noToken.status()).isEqualTo(403);

        ApiResponse out = call(
                "POST",
                "/_regen/logout",
                "csrf=" + csrf,
                "Cookie",
                cookie,
                "Content-Type",
                "application/x-www-form-urlencoded");
        assertThat(out.status()).isEqualTo(303);
        assertThat(out.headers().get("Set-Cookie"))
                .startsWith("regen_session=;")
                .contains("Max-Age=0");
        assertThat(call("GET", "/_regen/api/stats", null, "Cookie", cookie).status())
                .isEqualTo(401);
    }

    // ---- the webhook through the dashboard: cookie + CSRF token

    @Test
    void dashboardRevalidate_cookieWithCsrfToken_marksStale() throws Exception {
        serve("/blog/a");
        String cookie = session();
        String csrf = csrf(cookie);

        ApiResponse r = call(
                "POST",
                "/_regen/api/revalidate",
                "{\"paths\":[\"/blog/a\"]}",
                "Cookie",
                cookie,
                "Content-Type",
                "application/json",
                "X-Regen-CSRF",
                csrf,
                "Origin",
                "http://regen.example:8080",
                "Host",
                "regen.example:8080");

        assertThat(r.status()).as(text(r)).isEqualTo(200);
        assertThat(jsonOf(r).get("invalidated").asInt()).isEqualTo(1);
        assertThat(serve("/blog/a").cacheStatus()).isEqualTo(CacheStatus.STALE);
    }

    @Test
    void dashboardRevalidate_cookieWithoutOrWithWrongCsrfToken_403AndNothingChanges() throws Exception {
        serve("/blog/a");
        String cookie = session();

        ApiResponse none = call(
                "POST",
                "/_regen/api/revalidate",
                "{\"paths\":[\"/blog/a\"]}",
                "Cookie",
                cookie,
                "Content-Type",
                "application/json");
        ApiResponse wrong = call(
                "POST",
                "/_regen/api/revalidate",
                "{\"paths\":[\"/blog/a\"]}",
                "Cookie",
                cookie,
                "Content-Type",
                "application/json",
                "X-Regen-CSRF",
                "0123456789abcdef0123456789abcdef");

        assertThat(none.status()).isEqualTo(403);
        assertThat(wrong.status()).isEqualTo(403);
        assertThat(jsonOf(none).get("error").asText()).contains("X-Regen-CSRF");
        assertThat(serve("/blog/a").cacheStatus()).isEqualTo(CacheStatus.HIT);
    }

    @Test
    void dashboardRevalidate_crossOriginWithValidToken_403() {
        String cookie = session();
        String csrf = csrf(cookie);

        ApiResponse r = call(
                "POST",
                "/_regen/api/revalidate",
                "{\"paths\":[\"/blog/a\"]}",
                "Cookie",
                cookie,
                "Content-Type",
                "application/json",
                "X-Regen-CSRF",
                csrf,
                "Origin",
                "https://evil.example",
                "Host",
                "regen.example:8080");

        assertThat(r.status()).isEqualTo(403);
    }

    @Test
    void webhook_withoutAnyCredential_stillAnswers401MissingSecret() throws Exception {
        ApiResponse r = call("POST", "/api/revalidate", "{\"paths\":[\"/a\"]}", "Content-Type", "application/json");

        assertThat(r.status()).isEqualTo(401);
        assertThat(jsonOf(r).get("error").asText()).isEqualTo("missing secret");
    }

    // ---- admin API over the cookie, entries by tag

    @Test
    void entries_byTag_onlyTaggedEntries() throws Exception {
        serve("/blog/a");
        serve("/blog/b");
        serve("/about");
        String cookie = session();

        JsonNode tagged = jsonOf(call("GET", "/_regen/api/entries?tag=blog", null, "Cookie", cookie));
        JsonNode all = jsonOf(call("GET", "/_regen/api/entries", null, "Authorization", "Bearer " + SECRET));

        assertThat(tagged.get("entries"))
                .extracting(n -> n.get("path").asText())
                .containsExactly("/blog/a", "/blog/b");
        assertThat(all.get("entries")).hasSize(3);
    }

    @Test
    void errors_listsRecentRenderFailures() throws Exception {
        origin.failWith(new RuntimeException("connection refused"));
        serve("/down");

        JsonNode errors = jsonOf(call("GET", "/_regen/api/errors", null, "Authorization", "Bearer " + SECRET));

        assertThat(errors.get("errors").get(0).get("path").asText()).isEqualTo("/down");
        assertThat(errors.get("errors").get(0).get("reason").asText()).contains("connection refused");
    }

    // ---- metrics

    @Test
    void metrics_needAuthUnlessPublic() {
        assertThat(call("GET", "/_regen/metrics", null).status()).isEqualTo(401);
        assertThat(call("GET", "/_regen/metrics", null, "Authorization", "Bearer nope")
                        .status())
                .isEqualTo(401);
        ApiResponse bearer = call("GET", "/_regen/metrics", null, "Authorization", "Bearer " + SECRET);
        assertThat(bearer.status()).isEqualTo(200);
        assertThat(bearer.contentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
        assertThat(call("GET", "/_regen/metrics", null, "Cookie", session()).status())
                .isEqualTo(200);

        assertThat(call(build(true), "GET", "/_regen/metrics", null).status()).isEqualTo(200);
    }

    @Test
    void metrics_parseAndCountersMove() {
        PrometheusText.Exposition before =
                PrometheusText.parse(text(call(build(true), "GET", "/_regen/metrics", null)));
        serve("/blog/a");
        serve("/blog/a");
        origin.failWith(new RuntimeException("boom"));
        serve("/x");
        engine.invalidate(java.util.List.of(), java.util.List.of("blog"), false).join();

        PrometheusText.Exposition after = PrometheusText.parse(text(call(build(true), "GET", "/_regen/metrics", null)));

        assertThat(before.types())
                .containsEntry("regen_requests_total", "counter")
                .containsEntry("regen_render_duration_seconds", "histogram")
                .containsEntry("regen_memory_bytes", "gauge");
        assertThat(before.value("regen_requests_total", "status", "hit")).isZero();
        assertThat(after.value("regen_requests_total", "status", "hit")).isEqualTo(1);
        assertThat(after.value("regen_requests_total", "status", "miss")).isEqualTo(2);
        assertThat(after.value("regen_render_duration_seconds_count", "outcome", "ok"))
                .isEqualTo(1);
        assertThat(after.value("regen_render_duration_seconds_count", "outcome", "error"))
                .isEqualTo(1);
        assertThat(after.value("regen_origin_errors_total", "kind", "error")).isEqualTo(1);
        assertThat(after.value("regen_invalidations_total", "kind", "tag")).isEqualTo(1);
        assertThat(after.value("regen_invalidated_entries_total", "kind", "tag"))
                .isEqualTo(1);
        assertThat(after.value("regen_memory_entries")).isEqualTo(1);
        assertThat(after.value("regen_memory_bytes")).isPositive();
        assertThat(after.value("regen_store_operation_duration_seconds_count", "op", "put", "result", "ok"))
                .isPositive();
        assertThat(after.value("regen_background_queue_depth")).isZero();
    }

    // ---- time series and health

    @Test
    void timeseries_bucketsRequestsByStatusAndRendersOverTheWindow() throws Exception {
        serve("/blog/a");
        serve("/blog/a");
        clock.advance(Duration.ofSeconds(10));
        serve("/blog/a");

        JsonNode ts = jsonOf(call("GET", "/_regen/api/timeseries", null, "Authorization", "Bearer " + SECRET));

        assertThat(ts.get("step").asInt()).isEqualTo(10);
        assertThat(ts.get("hit")).hasSize(90);
        assertThat(ts.get("hit").get(89).asInt()).isEqualTo(1);
        assertThat(ts.get("hit").get(88).asInt()).isEqualTo(1);
        assertThat(ts.get("miss").get(88).asInt()).isEqualTo(1);
        assertThat(ts.get("renders").get(88).asInt()).isEqualTo(1);
        assertThat(ts.get("window").get("hitRatio").asDouble())
                .isCloseTo(2 / 3.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(ts.get("window").get("renderP50Ms").isNumber()).isTrue();

        clock.advance(Duration.ofMinutes(15));
        JsonNode later = jsonOf(call("GET", "/_regen/api/timeseries", null, "Authorization", "Bearer " + SECRET));
        assertThat(later.get("window").get("requests").asInt()).isZero();
    }

    @Test
    void health_okOrDegraded_503OnlyWhenNothingCanServePages() throws Exception {
        Instant at = clock.instant();
        ApiResponse unknown = call("GET", "/_regen/health", null);
        assertThat(unknown.status()).isEqualTo(200);
        assertThat(jsonOf(unknown).get("status").asText()).isEqualTo("ok");

        healthNow = new HealthReport(
                HealthReport.Component.up("reachable", at, Duration.ofMillis(1)),
                HealthReport.Component.down("connection refused", at, Duration.ofMillis(2)));
        ApiResponse originDown = call("GET", "/_regen/health", null);
        assertThat(originDown.status()).isEqualTo(200);
        assertThat(jsonOf(originDown).get("status").asText()).isEqualTo("degraded");
        assertThat(jsonOf(originDown).get("origin").get("detail").asText()).isEqualTo("connection refused");

        // the shared store down takes no node out: each still renders and serves from memory
        healthNow = new HealthReport(
                HealthReport.Component.down("unreachable since start: connection refused", at, null),
                HealthReport.Component.up("accepts connections", at, null));
        ApiResponse storeDown = call("GET", "/_regen/health", null);
        assertThat(storeDown.status()).isEqualTo(200);
        assertThat(jsonOf(storeDown).get("store").get("status").asText()).isEqualTo("down");
        assertThat(call("GET", "/_regen/health/ready", null).status()).isEqualTo(200);

        healthNow = new HealthReport(
                HealthReport.Component.degraded("writes fail: disk full", at, null),
                HealthReport.Component.up("accepts connections", at, null));
        JsonNode degraded = jsonOf(call("GET", "/_regen/health", null));
        assertThat(degraded.get("store").get("status").asText()).isEqualTo("degraded");
        assertThat(degraded.get("store").get("detail").asText()).isEqualTo("writes fail: disk full");

        healthNow = new HealthReport(
                HealthReport.Component.down("connection refused", at, null),
                HealthReport.Component.down("connection refused", at, null));
        assertThat(engine.memoryEntries()).isZero();
        ApiResponse nothing = call("GET", "/_regen/health", null);
        assertThat(nothing.status()).isEqualTo(503);
        assertThat(jsonOf(nothing).get("reason").asText())
                .contains("the origin is down")
                .contains("the store is down")
                .contains("no page is held in memory");
        ApiResponse notReady = call("GET", "/_regen/health/ready", null);
        assertThat(notReady.status()).isEqualTo(503);
        assertThat(jsonOf(notReady).get("ready").asBoolean()).isFalse();
        assertThat(call("GET", "/_regen/health/live", null).status()).isEqualTo(200);

        serve("/blog/a"); // one page in memory: it can be served with origin and store down
        assertThat(call("GET", "/_regen/health/ready", null).status()).isEqualTo(200);
        assertThat(jsonOf(call("GET", "/_regen/health", null))
                        .get("memory")
                        .get("pages")
                        .asLong())
                .isPositive();
    }

    @Test
    void assets_servedWithoutAuth() {
        assertThat(call("GET", "/_regen/assets/app.js", null).status()).isEqualTo(200);
        assertThat(call("GET", "/_regen/assets/app.css", null).contentType()).startsWith("text/css");
        assertThat(call("GET", "/_regen/login", null).status()).isEqualTo(200);
    }

    @Test
    void noSecret_loginAndDashboardExplainAndRefuse() {
        AdminApi open = new AdminApi(regen.toBuilder().secret(null).build(), engine, metrics, null);

        ApiResponse r =
                call(open, "POST", "/_regen/login", "secret=x", "Content-Type", "application/x-www-form-urlencoded");
        assertThat(r.status()).isEqualTo(503);
        assertThat(text(r)).contains("REGEN_SECRET");
        assertThat(call(open, "GET", "/_regen/metrics", null).status()).isEqualTo(503);
    }
}
