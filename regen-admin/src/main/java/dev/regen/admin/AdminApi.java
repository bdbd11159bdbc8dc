package dev.regen.admin;

import static dev.regen.admin.ApiResponse.error;

import com.fasterxml.jackson.databind.JsonNode;
import dev.regen.Regen;
import dev.regen.RegenEngine;
import dev.regen.store.StoreException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Regen's own endpoints, the same for every edge (proxy, servlet filter): the revalidation webhook,
 * the admin API under {@code /_regen/api/}, the metrics, the dashboard and its login, and the health
 * checks ({@code /_regen/health}, {@code /_regen/health/live}, {@code /_regen/health/ready}). Edges ask
 * {@link #owns} first and hand over the whole request; everything else is a page.
 *
 * <p>Auth: the admin API, the metrics (unless public) and the webhook take {@code Authorization:
 * Bearer <secret>} or a dashboard session cookie. A session comes from {@code POST /_regen/login} with
 * the secret; it is an HMAC-signed expiring token (see {@code Sessions}), never the secret, scoped to
 * {@code Path=/_regen/} so that it is never sent to the origin with page requests. A request that
 * changes something on the strength of the cookie alone must also carry the session's CSRF token in
 * {@code X-Regen-CSRF} (a header no other site can make a browser send), and, when the browser says
 * where it comes from ({@code Origin}), come from this host. Wrong secrets are limited per client
 * address ({@link ApiRequest#client()}, see {@code AuthThrottle}): a client that keeps guessing gets 429
 * with {@code Retry-After}, and every other client is served as before.
 *
 * <p>Thread-safe. Answers never block the caller: store work runs on the engine's executors.
 */
public final class AdminApi {
    private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
    public static final String PREFIX = "/_regen/";
    public static final int MAX_WEBHOOK_BODY = 64 * 1024;
    /** The dashboard's own door to the webhook: inside {@link #PREFIX}, where its cookie is sent. */
    static final String DASHBOARD_REVALIDATE = PREFIX + "api/revalidate";

    private final String webhookPath;
    private final AdminAuth auth;
    private final Webhook webhook;
    private final Endpoints endpoints;

    /**
     * Regen's endpoints for {@code engine}, with the admin settings of {@code regen} (secret, webhook
     * path, site name, cookie, clock of sessions).
     *
     * @param metrics served at {@code /_regen/metrics} and in the dashboard's chart (the engine's listener), or null
     * @param health  what {@code /_regen/health} reports, or null: store and origin are "unknown"
     */
    public AdminApi(Regen regen, RegenEngine engine, RegenMetrics metrics, HealthCheck health) {
        this.webhookPath = regen.webhookPath();
        this.auth = new AdminAuth(regen, metrics);
        this.webhook = new Webhook(engine, auth);
        this.endpoints = new Endpoints(regen, engine, metrics, health, auth);
    }

    /** Where the webhook listens. */
    public String webhookPath() {
        return webhookPath;
    }

    /** The name the dashboard shows for the site. */
    public String siteName() {
        return endpoints.siteName();
    }

    /** Whether the dashboard's session cookie is marked {@code Secure}. */
    public boolean secureCookie() {
        return auth.secureCookie();
    }

    /** Whether a request for {@code path} is Regen's to answer. */
    public boolean owns(String path) {
        return path.equals(webhookPath) || path.startsWith(PREFIX);
    }

    public CompletableFuture<ApiResponse> handle(ApiRequest request) {
        String path = request.path();
        if (path.equals(webhookPath) || path.equals(DASHBOARD_REVALIDATE)) {
            return webhook.handle(request);
        }
        try {
            return switch (path.substring(PREFIX.length())) {
                case "" -> done(endpoints.dashboard(request));
                case "login" -> done(auth.login(request));
                case "logout" -> done(auth.logout(request));
                case "health" -> done(endpoints.health(true));
                case "health/live" -> done(Endpoints.live());
                case "health/ready" -> done(endpoints.health(false));
                case "metrics" -> done(endpoints.metrics(request));
                case "assets/app.css", "assets/app.js", "assets/icon.svg" ->
                    done(Dashboard.asset(request, path.substring((PREFIX + "assets/").length())));
                case "api/entries" -> endpoints.api(request, endpoints::entries);
                case "api/stats" -> endpoints.api(request, endpoints::stats);
                case "api/timeseries" -> endpoints.api(request, endpoints::timeseries);
                case "api/errors" -> endpoints.api(request, endpoints::errors);
                default -> done(error(404, "no such endpoint: " + path));
            };
        } catch (RuntimeException e) {
            log.error("admin request {} failed", path, e);
            return done(error(500, "internal error"));
        }
    }

    // ---- failures of the asynchronous endpoints, mapped to statuses in this one place

    /** 200 with {@code value} as JSON; for failure {@code e}: 503 for the store, 400 for bad input, else 500. */
    static <T> ApiResponse reply(T value, Throwable e, Function<T, JsonNode> toJson) {
        if (e == null) {
            return ApiResponse.json(200, toJson.apply(value).toString(), Map.of());
        }
        Throwable cause = cause(e);
        if (cause instanceof StoreException) {
            // expected while the store is down: the caller should retry, no stack trace
            log.warn("admin request failed, store unreachable: {}", cause.getMessage());
            return error(503, "the store is unreachable: retry when it is back");
        }
        if (cause instanceof IllegalArgumentException) {
            // input the store refused (see KvStore): the caller's to fix
            return error(400, cause.getMessage());
        }
        log.error("admin request failed", e);
        return error(500, "internal error");
    }

    /** What a stage failed with, without the {@link CompletionException} around it; null for none. */
    static Throwable cause(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    static CompletableFuture<ApiResponse> done(ApiResponse r) {
        return CompletableFuture.completedFuture(r);
    }
}
