package dev.regen.admin;

import static dev.regen.admin.AdminApi.done;
import static dev.regen.admin.ApiResponse.error;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regen.CacheStatus;
import dev.regen.EngineListener.RenderOutcome;
import dev.regen.Regen;
import dev.regen.RegenEngine;
import dev.regen.RenderError;
import dev.regen.Stats;
import dev.regen.internal.BudgetSnapshot;
import dev.regen.internal.EntryInfo;
import dev.regen.internal.Freshness;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The read endpoints and their JSON: the admin API ({@code api/entries}, {@code api/stats},
 * {@code api/timeseries}, {@code api/errors}), health, metrics and the dashboard page. Thread-safe;
 * store work runs on the engine's executors.
 */
final class Endpoints {
    private static final int DEFAULT_LIMIT = 100;
    private static final int MAX_LIMIT = 1000;
    /** A tag search reads at most this many entries per call, then hands back a cursor. */
    private static final int MAX_TAG_SCAN = 10_000;

    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String NO_METRICS = "metrics are not enabled on this edge (no RegenMetrics given to AdminApi)";
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final RegenEngine engine;
    private final AdminAuth auth;
    private final RegenMetrics metrics;
    private final boolean metricsPublic;
    private final HealthCheck health;
    private final String siteName;

    Endpoints(Regen regen, RegenEngine engine, RegenMetrics metrics, HealthCheck health, AdminAuth auth) {
        this.engine = engine;
        this.auth = auth;
        this.metrics = metrics;
        this.metricsPublic = regen.metricsPublic();
        this.health = health;
        this.siteName = regen.siteName();
    }

    /** The dashboard for a signed-in user; anyone else is sent to the login page. */
    ApiResponse dashboard(ApiRequest request) {
        if (!ApiResponse.isRead(request)) {
            return ApiResponse.useGet();
        }
        String csrf = auth.csrf(request);
        if (csrf == null) {
            return Dashboard.redirect(AdminApi.PREFIX + "login", null);
        }
        return Dashboard.page(csrf, siteName, metricsPublic);
    }

    // ---- the admin API: Bearer or session cookie

    /** One endpoint of the admin API, given the query's parameters. */
    CompletableFuture<ApiResponse> api(
            ApiRequest request, Function<Map<String, String>, CompletableFuture<JsonNode>> endpoint) {
        if (!ApiResponse.isRead(request)) {
            return done(ApiResponse.useGet());
        }
        ApiResponse refused = auth.readAccess(request, AuthThrottle.Door.API);
        if (refused != null) {
            return done(refused);
        }
        try {
            return endpoint.apply(request.query()).handle((out, e) -> AdminApi.reply(out, e, Function.identity()));
        } catch (NotWired e) {
            return done(error(501, e.getMessage()));
        } catch (IllegalArgumentException e) {
            return done(error(400, e.getMessage()));
        }
    }

    CompletableFuture<JsonNode> entries(Map<String, String> query) {
        String prefix = query.getOrDefault("prefix", "/");
        if (!prefix.startsWith("/")) {
            throw new IllegalArgumentException("prefix must start with /");
        }
        int limit;
        try {
            limit = Integer.parseInt(query.getOrDefault("limit", String.valueOf(DEFAULT_LIMIT)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("limit must be a number");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1.." + MAX_LIMIT);
        }
        String tag = query.get("tag");
        if (tag == null || tag.isEmpty()) {
            return engine.entries(prefix, query.get("cursor"), limit)
                    .thenApply(list -> entriesJson(
                            list.entries(), list.cursor(), list.entries().size()));
        }
        // The engine lists by path only: read pages and keep the tagged entries, a bounded amount per call.
        return tagged(prefix, tag, query.get("cursor"), limit, new ArrayList<>(), 0);
    }

    private CompletableFuture<JsonNode> tagged(
            String prefix, String tag, String cursor, int limit, List<EntryInfo> found, int scanned) {
        return engine.entries(prefix, cursor, limit).thenCompose(page -> {
            for (EntryInfo e : page.entries()) {
                if (e.tags().contains(tag)) {
                    found.add(e);
                }
            }
            int read = scanned + page.entries().size();
            if (page.cursor() == null || found.size() >= limit || read >= MAX_TAG_SCAN) {
                return CompletableFuture.completedFuture(entriesJson(found, page.cursor(), read));
            }
            return tagged(prefix, tag, page.cursor(), limit, found, read);
        });
    }

    private static JsonNode entriesJson(List<EntryInfo> list, String cursor, int scanned) {
        ObjectNode out = JSON.objectNode();
        ArrayNode entries = out.putArray("entries");
        for (EntryInfo e : list) {
            ObjectNode n = entries.addObject()
                    .put("key", e.key())
                    .put("path", e.path())
                    .put("status", e.status())
                    .put("age", e.ageSeconds())
                    .put("revalidate", e.revalidateSeconds())
                    .put("size", e.size())
                    .put("state", e.freshness() == Freshness.FRESH ? "fresh" : "stale");
            if (e.expiresAt() == null) {
                n.putNull("expiresAt");
            } else {
                n.put("expiresAt", e.expiresAt().toString());
            }
            e.tags().stream().sorted().forEach(n.putArray("tags")::add);
        }
        out.put("cursor", cursor);
        out.put("scanned", scanned);
        return out;
    }

    CompletableFuture<JsonNode> stats(Map<String, String> unused) {
        Stats s = engine.stats();
        ObjectNode out = JSON.objectNode()
                .put("hits", s.hits())
                .put("staleHits", s.staleHits())
                .put("misses", s.misses())
                .put("bypasses", s.bypasses())
                .put("renders", s.renders())
                .put("renderErrors", s.renderErrors())
                .put("backgroundSkipped", s.backgroundSkipped())
                .put("invalidations", s.invalidations())
                .put("memoryEntries", engine.memoryEntries())
                .put("memoryBytes", engine.memoryBytes())
                .put("backgroundQueueDepth", engine.backgroundQueueDepth())
                .put("rendersInFlight", engine.rendersInFlight())
                .put("refreshAhead", s.refreshAhead())
                .put("eagerRenders", s.eager())
                .put("unchangedRenders", s.unchanged())
                .put("notModified", s.notModified())
                .put("clusterDrops", s.clusterDrops())
                .put("clusterRefreshes", s.clusterRefreshes());
        BudgetSnapshot b = engine.renderBudget();
        out.putObject("budget")
                .put("limit", b.limit())
                .put("backgroundLimit", b.backgroundLimit())
                .put("inUse", b.inUse())
                .put("visitorsWaiting", b.visitorsWaiting())
                .put("backgroundWaiting", b.backgroundWaiting())
                .put("shed", b.shed())
                .put("overBudget", b.overBudget())
                .put("usualMillis", b.usualHeadNanos() / 1_000_000.0);
        out.put("host", siteName);
        return CompletableFuture.completedFuture(out);
    }

    /**
     * The dashboard's chart: per 10 s bucket over the last 15 minutes, requests by cache status and
     * renders (all, failed); over the window, render latency p50/p99 and totals. Columns, not rows:
     * {@code {"step":10,"start":<epoch ms of the first bucket>,"hit":[…],"stale":[…],…}}.
     */
    CompletableFuture<JsonNode> timeseries(Map<String, String> unused) {
        if (metrics == null) {
            throw new NotWired(NO_METRICS);
        }
        TimeSeries.Snapshot snap = metrics.series().snapshot();
        ObjectNode out = JSON.objectNode()
                .put("now", snap.nowMillis())
                .put("step", snap.stepMillis() / 1000)
                .put("start", snap.buckets().get(0).startMillis());
        Map<CacheStatus, ArrayNode> columns = new EnumMap<>(CacheStatus.class);
        for (CacheStatus st : CacheStatus.values()) {
            columns.put(st, out.putArray(st.name().toLowerCase(Locale.ROOT)));
        }
        ArrayNode renders = out.putArray("renders");
        ArrayNode failed = out.putArray("renderErrors");
        long requests = 0;
        long hits = 0;
        long cacheable = 0;
        long renderTotal = 0;
        long renderErrors = 0;
        for (TimeSeries.Bucket b : snap.buckets()) {
            for (CacheStatus st : CacheStatus.values()) {
                columns.get(st).add(b.requests(st));
                requests += b.requests(st);
            }
            hits += b.requests(CacheStatus.HIT) + b.requests(CacheStatus.STALE);
            cacheable += b.requests(CacheStatus.HIT) + b.requests(CacheStatus.STALE) + b.requests(CacheStatus.MISS);
            long r = 0;
            for (RenderOutcome o : RenderOutcome.values()) {
                r += b.renders(o);
            }
            long f = b.renders(RenderOutcome.ERROR) + b.renders(RenderOutcome.TIMEOUT);
            renders.add(r);
            failed.add(f);
            renderTotal += r;
            renderErrors += f;
        }
        double windowSeconds = (double) snap.stepMillis() * (snap.buckets().size() - 1) / 1000
                + (snap.nowMillis() % snap.stepMillis()) / 1000.0;
        ObjectNode totals = out.putObject("window");
        totals.put("seconds", Math.round(windowSeconds));
        totals.put("requests", requests);
        totals.put("requestsPerSecond", windowSeconds > 0 ? requests / windowSeconds : 0);
        putRatio(totals, "hitRatio", hits, cacheable);
        totals.put("renders", renderTotal);
        totals.put("renderErrors", renderErrors);
        putRatio(totals, "originErrorRate", renderErrors, renderTotal);
        putMillis(totals, "renderP50Ms", snap.renderQuantileMs(0.50));
        putMillis(totals, "renderP99Ms", snap.renderQuantileMs(0.99));
        return CompletableFuture.completedFuture(out);
    }

    private static void putRatio(ObjectNode n, String field, long part, long whole) {
        if (whole == 0) {
            n.putNull(field);
        } else {
            n.put(field, (double) part / whole);
        }
    }

    private static void putMillis(ObjectNode n, String field, double ms) {
        if (Double.isNaN(ms)) {
            n.putNull(field);
        } else {
            n.put(field, Math.round(ms * 10) / 10.0);
        }
    }

    CompletableFuture<JsonNode> errors(Map<String, String> unused) {
        ObjectNode out = JSON.objectNode();
        ArrayNode list = out.putArray("errors");
        for (RenderError e : engine.recentErrors()) {
            list.addObject()
                    .put("at", e.at().toString())
                    .put("key", e.key())
                    .put("path", e.path())
                    .put("reason", e.reason());
        }
        return CompletableFuture.completedFuture(out);
    }

    /** An optional part of the API that the edge did not provide. */
    private static final class NotWired extends RuntimeException {
        NotWired(String message) {
            super(message, null, false, false);
        }
    }

    // ---- health and metrics

    /**
     * The full report ({@code full}): store and origin, each up, degraded or down with the reason, and
     * what memory holds. Else readiness, for a load balancer. 200 while pages can be served (the origin
     * renders, or the store or memory holds pages, see {@link HealthReport#canServe}), even with the
     * shared store down; 503 with the reason otherwise.
     */
    ApiResponse health(boolean full) {
        HealthReport report = health == null ? HealthReport.UNKNOWN : health.report();
        long pages = engine.memoryEntries();
        boolean ready = report.canServe(pages);
        ObjectNode out = JSON.objectNode();
        if (full) {
            out.put("status", report.status());
        }
        out.put("ready", ready);
        if (!ready) {
            out.put("reason", report.whyNot(pages));
        }
        if (full) {
            component(out.putObject("store"), report.store());
            component(out.putObject("origin"), report.origin());
            out.putObject("memory").put("pages", pages).put("bytes", engine.memoryBytes());
        }
        return ApiResponse.json(ready ? 200 : 503, out.toString(), Map.of());
    }

    /** Liveness: the process answers requests. Always 200: restart it only when this does not answer. */
    static ApiResponse live() {
        return ApiResponse.json(200, JSON.objectNode().put("status", "live").toString(), Map.of());
    }

    private static void component(ObjectNode n, HealthReport.Component c) {
        n.put("status", HealthReport.name(c.state()));
        n.put("detail", c.detail());
        if (c.checkedAt() != null) {
            n.put("checkedAt", c.checkedAt().toString());
        }
        if (c.latency() != null) {
            n.put("latencyMs", Math.round(c.latency().toNanos() / 10_000.0) / 100.0);
        }
    }

    ApiResponse metrics(ApiRequest request) {
        if (!ApiResponse.isRead(request)) {
            return ApiResponse.useGet();
        }
        if (!metricsPublic) {
            ApiResponse refused = auth.readAccess(request, AuthThrottle.Door.METRICS);
            if (refused != null) {
                return refused;
            }
        }
        if (metrics == null) {
            return error(501, NO_METRICS);
        }
        return new ApiResponse(200, PROMETHEUS_TEXT, Map.of(), metrics.scrape().getBytes(StandardCharsets.UTF_8));
    }

    String siteName() {
        return siteName;
    }
}
