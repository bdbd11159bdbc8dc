package dev.regen.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regen.BudgetSnapshot;
import dev.regen.CacheStatus;
import dev.regen.EngineListener.RenderOutcome;
import dev.regen.EntryInfo;
import dev.regen.Freshness;
import dev.regen.RegenEngine;
import dev.regen.RenderError;
import dev.regen.RevalidationException;
import dev.regen.Stats;
import dev.regen.http.RequestTarget;
import dev.regen.store.WellFormed;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
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
    static final int MAX_PATHS = 1000;
    static final String CSRF_HEADER = "x-regen-csrf";
    /** The dashboard's own door to the webhook: inside {@link #PREFIX}, where its cookie is sent. */
    static final String DASHBOARD_REVALIDATE = PREFIX + "api/revalidate";

    private static final int DEFAULT_LIMIT = 100;
    private static final int MAX_LIMIT = 1000;
    /** A tag search reads at most this many entries per call, then hands back a cursor. */
    private static final int MAX_TAG_SCAN = 10_000;

    private static final int MAX_LOGIN_BODY = 4 * 1024;
    /**
     * Where the webhook listens unless configured: under Regen's own prefix, so it never hides an
     * application route ({@code /api/revalidate} is what the Next.js docs name the app's own route).
     */
    public static final String DEFAULT_WEBHOOK_PATH = "/_regen/revalidate";

    private static final String NO_SECRET = "no secret is configured: set REGEN_SECRET (or secret: in the config)";
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final ObjectMapper json = new ObjectMapper();
    private final RegenEngine engine;
    private final String webhookPath;
    /** SHA-256 of the secret: comparing digests takes the same time whatever the guess and its length. */
    private final byte[] secretDigest;

    private final Sessions sessions;
    private final RegenMetrics metrics;
    private final boolean metricsPublic;
    private final HealthCheck health;
    private final boolean secureCookie;
    private final String siteName;
    private final AuthThrottle throttle;

    /**
     * The webhook and the admin API only: no metrics, health from nothing. Prefer {@link #builder}.
     *
     * @param secret      the webhook and admin secret, or null: those endpoints then answer 503
     * @param webhookPath where the webhook listens, e.g. {@code /api/revalidate}
     */
    public AdminApi(RegenEngine engine, String secret, String webhookPath) {
        this(builder(engine).secret(secret).webhookPath(webhookPath));
    }

    private AdminApi(Builder b) {
        this.engine = Objects.requireNonNull(b.engine, "engine");
        this.webhookPath = Objects.requireNonNull(b.webhookPath, "webhookPath");
        if (!webhookPath.startsWith("/")) {
            throw new IllegalArgumentException("webhookPath must start with /: " + webhookPath);
        }
        this.secretDigest = b.secret == null ? null : sha256(b.secret);
        this.sessions = b.secret == null ? null : new Sessions(b.secret, b.clock);
        this.metrics = b.metrics;
        this.metricsPublic = b.metricsPublic;
        this.health = b.health;
        this.secureCookie = b.secureCookie;
        this.siteName = b.siteName;
        this.throttle = new AuthThrottle(b.clock, b.metrics);
    }

    /** Builds an {@link AdminApi} for {@code engine}; everything else is optional. */
    public static Builder builder(RegenEngine engine) {
        return new Builder(engine);
    }

    /** Whether a request for {@code path} is Regen's to answer. */
    public boolean owns(String path) {
        return path.equals(webhookPath) || path.startsWith(PREFIX);
    }

    public CompletableFuture<ApiResponse> handle(ApiRequest request) {
        String path = request.path();
        if (path.equals(webhookPath) || path.equals(DASHBOARD_REVALIDATE)) {
            return webhook(request);
        }
        try {
            return switch (path.substring(PREFIX.length())) {
                case "" -> done(dashboard(request));
                case "login" -> done(login(request));
                case "logout" -> done(logout(request));
                case "health" -> done(health(request));
                case "health/live" -> done(live(request));
                case "health/ready" -> done(ready(request));
                case "metrics" -> done(metrics(request));
                case "assets/app.css", "assets/app.js", "assets/icon.svg" -> done(asset(request, path));
                case "api/entries" -> admin(request, this::entries);
                case "api/stats" -> admin(request, this::stats);
                case "api/timeseries" -> admin(request, this::timeseries);
                case "api/errors" -> admin(request, this::errors);
                default -> done(error(404, "no such endpoint: " + path));
            };
        } catch (RuntimeException e) {
            log.error("admin request {} failed", path, e);
            return done(error(500, "internal error"));
        }
    }

    // ---- the webhook: checks in DESIGN.md's order; a rejected call changes nothing

    private CompletableFuture<ApiResponse> webhook(ApiRequest request) {
        if (!request.method().equals("POST")) {
            return done(error(405, "use POST", Map.of("Allow", "POST")));
        }
        if (secretDigest == null) {
            return done(error(503, NO_SECRET));
        }
        String authorization = request.header("authorization");
        if (authorization != null) {
            ApiResponse refused = refusal(check(request, AuthThrottle.Door.WEBHOOK, bearer(authorization)));
            if (refused != null) {
                return done(refused);
            }
        }
        if (!isJson(request.header("content-type"))) {
            return done(error(415, "Content-Type must be application/json"));
        }
        if (request.body().length > MAX_WEBHOOK_BODY) {
            return done(error(413, "body is over " + MAX_WEBHOOK_BODY / 1024 + " KiB"));
        }
        JsonNode body;
        try {
            body = json.readTree(new String(request.body(), StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            return done(error(400, "malformed JSON: " + e.getOriginalMessage()));
        }
        if (body == null || !body.isObject()) {
            return done(error(400, "malformed JSON: the body must be an object"));
        }
        if (authorization == null) {
            JsonNode secret = body.get("secret");
            if (secret != null) {
                ApiResponse refused =
                        refusal(check(request, AuthThrottle.Door.WEBHOOK, secret.isTextual() ? secret.asText() : null));
                if (refused != null) {
                    return done(refused);
                }
            } else {
                Sessions.Session session = session(request);
                if (session == null) {
                    return done(unauthorized("missing secret"));
                }
                ApiResponse refused = csrfRefusal(request, session);
                if (refused != null) {
                    return done(refused);
                }
            }
        }
        List<String> paths;
        List<String> tags;
        boolean hard;
        try {
            paths = strings(body, "paths");
            for (String prefix : strings(body, "prefix")) {
                paths.add(prefix.endsWith("/") ? prefix + "**" : prefix + "/**");
            }
            tags = strings(body, "tags");
            hard = mode(body.get("mode"));
            checkFields(paths, tags);
        } catch (IllegalArgumentException e) {
            return done(error(400, e.getMessage()));
        }
        CompletableFuture<RegenEngine.Revalidation> invalidated;
        try {
            invalidated = engine.revalidate(paths, tags, hard);
        } catch (RequestTarget.InvalidTargetException e) {
            return done(error(400, e.getMessage()));
        }
        Function<RegenEngine.Revalidation, JsonNode> applied = n -> {
            ObjectNode out = json.createObjectNode()
                    .put("success", true)
                    .put("invalidated", n.invalidated())
                    .put("queued", n.queued());
            paths.forEach(out.putArray("paths")::add);
            tags.forEach(out.putArray("tags")::add);
            return out.put("mode", hard ? "hard" : "soft");
        };
        return invalidated
                .handle((n, e) -> {
                    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                            ? e.getCause()
                            : e;
                    if (cause instanceof RevalidationException r) {
                        return done(notApplied(r, paths, tags, hard));
                    }
                    return answer(
                            e == null
                                    ? CompletableFuture.completedFuture(n)
                                    : CompletableFuture.<RegenEngine.Revalidation>failedFuture(cause),
                            applied);
                })
                .thenCompose(Function.identity());
    }

    /**
     * 503 for a revalidation the store or the other nodes did not fully take: the caller (a CMS) must
     * retry; what was done is counted, what was not is listed.
     */
    private ApiResponse notApplied(RevalidationException r, List<String> paths, List<String> tags, boolean hard) {
        ObjectNode out = json.createObjectNode()
                .put("success", false)
                .put("error", "not fully applied: retry the call (revalidating twice is harmless)")
                .put("invalidated", r.applied());
        r.notApplied().forEach(out.putArray("notApplied")::add);
        paths.forEach(out.putArray("paths")::add);
        tags.forEach(out.putArray("tags")::add);
        out.put("mode", hard ? "hard" : "soft");
        return ApiResponse.json(503, out.toString(), Map.of("Retry-After", "1"));
    }

    private static void checkFields(List<String> paths, List<String> tags) {
        if (paths.size() > MAX_PATHS || tags.size() > MAX_PATHS) {
            throw new IllegalArgumentException("at most " + MAX_PATHS + " paths and " + MAX_PATHS + " tags per call");
        }
        if (paths.isEmpty() && tags.isEmpty()) {
            throw new IllegalArgumentException("give paths, tags or both");
        }
        for (String p : paths) {
            if (!p.startsWith("/")) {
                throw new IllegalArgumentException("a path must start with /: " + p);
            }
            // JSON can carry "\ud800", which no store can keep (UTF-8 has no encoding for it)
            WellFormed.require("a path", p);
        }
        for (String t : tags) {
            if (t.isEmpty() || t.chars().anyMatch(c -> c == ',' || Character.isWhitespace(c))) {
                throw new IllegalArgumentException("a tag must be non-empty, without spaces or commas: \"" + t + "\"");
            }
            WellFormed.require("a tag", t);
        }
    }

    private static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        String mime = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return mime.equals("application/json") || (mime.startsWith("application/") && mime.endsWith("+json"));
    }

    /** A list of strings (or, for {@code prefix}, one string); absent or null is empty; anything else is a bad field. */
    private static List<String> strings(JsonNode body, String field) {
        JsonNode node = body.get(field);
        List<String> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (node.isTextual() && field.equals("prefix")) {
            out.add(node.asText());
            return out;
        }
        if (!node.isArray()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a list of strings");
        }
        for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
            JsonNode e = it.next();
            if (!e.isTextual()) {
                throw new IllegalArgumentException("\"" + field + "\" must be a list of strings");
            }
            out.add(e.asText());
        }
        return out;
    }

    private static boolean mode(JsonNode node) {
        if (node == null || node.isNull() || (node.isTextual() && node.asText().equals("soft"))) {
            return false;
        }
        if (node.isTextual() && node.asText().equals("hard")) {
            return true;
        }
        throw new IllegalArgumentException("\"mode\" must be \"soft\" or \"hard\"");
    }

    // ---- the admin API: Bearer or session cookie

    private CompletableFuture<ApiResponse> admin(
            ApiRequest request, Function<Map<String, String>, CompletableFuture<JsonNode>> endpoint) {
        if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
            return done(error(405, "use GET", Map.of("Allow", "GET, HEAD")));
        }
        if (secretDigest == null) {
            return done(error(503, NO_SECRET));
        }
        ApiResponse refused = readAccess(request, AuthThrottle.Door.API);
        if (refused != null) {
            return done(refused);
        }
        try {
            return answer(endpoint.apply(query(request.uri())), Function.identity());
        } catch (NotWired e) {
            return done(error(501, e.getMessage()));
        } catch (IllegalArgumentException e) {
            return done(error(400, e.getMessage()));
        }
    }

    private CompletableFuture<JsonNode> entries(Map<String, String> query) {
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

    private JsonNode entriesJson(List<EntryInfo> list, String cursor, int scanned) {
        ObjectNode out = json.createObjectNode();
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

    private CompletableFuture<JsonNode> stats(Map<String, String> query) {
        Stats s = engine.stats();
        ObjectNode out = json.createObjectNode()
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
    private CompletableFuture<JsonNode> timeseries(Map<String, String> query) {
        if (metrics == null) {
            throw new NotWired("metrics are not enabled on this edge (no RegenMetrics given to AdminApi)");
        }
        TimeSeries.Snapshot snap = metrics.series().snapshot();
        ObjectNode out = json.createObjectNode()
                .put("now", snap.nowMillis())
                .put("step", snap.stepMillis() / 1000)
                .put("start", snap.buckets().get(0).startMillis());
        Map<String, ArrayNode> columns = new LinkedHashMap<>();
        for (CacheStatus st : CacheStatus.values()) {
            columns.put(
                    st.name().toLowerCase(Locale.ROOT), out.putArray(st.name().toLowerCase(Locale.ROOT)));
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
                columns.get(st.name().toLowerCase(Locale.ROOT)).add(b.requests(st));
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

    private CompletableFuture<JsonNode> errors(Map<String, String> query) {
        ObjectNode out = json.createObjectNode();
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

    private static Map<String, String> query(String uri) {
        Map<String, String> out = new HashMap<>();
        int q = uri.indexOf('?');
        if (q < 0) {
            return out;
        }
        for (String pair : uri.substring(q + 1).split("&")) {
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            out.putIfAbsent(name, eq < 0 ? "" : decode(pair.substring(eq + 1)));
        }
        return out;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed query string");
        }
    }

    // ---- auth

    /** The valid session the request's cookie carries, or null. */
    private Sessions.Session session(ApiRequest request) {
        if (sessions == null) {
            return null;
        }
        return sessions.verify(dev.regen.http.HttpFields.cookie(request.header("cookie"), Sessions.COOKIE));
    }

    /** Null when the request may read admin data (Bearer secret or session), else the refusal. */
    private ApiResponse readAccess(ApiRequest request, AuthThrottle.Door door) {
        if (secretDigest == null) {
            return error(503, NO_SECRET);
        }
        String authorization = request.header("authorization");
        if (authorization != null) {
            return refusal(check(request, door, bearer(authorization)));
        }
        return session(request) != null ? null : unauthorized("missing secret");
    }

    /**
     * Checks a presented secret (null: a credential of the wrong form) through the client's throttle:
     * a shut-out client's secret is not even compared.
     */
    private Verdict check(ApiRequest request, AuthThrottle.Door door, String presented) {
        long wait = throttle.refusal(request.client(), door);
        if (wait > 0) {
            return new Verdict(false, wait);
        }
        if (presented != null && secretMatches(presented)) {
            throttle.rightSecret(request.client());
            return Verdict.OK;
        }
        throttle.wrongSecret(request.client(), door);
        return Verdict.WRONG;
    }

    /** Null when the secret was right, else the JSON refusal: 429 with Retry-After, or 401. */
    private ApiResponse refusal(Verdict v) {
        if (v.ok()) {
            return null;
        }
        if (v.throttled()) {
            return error(
                    429,
                    "too many wrong secrets from this address: try again in " + v.retryAfterSeconds() + " s",
                    Map.of("Retry-After", String.valueOf(v.retryAfterSeconds())));
        }
        return unauthorized("wrong secret");
    }

    /** The outcome of checking a secret: right, wrong, or not checked because the client is shut out. */
    private record Verdict(boolean ok, long retryAfterSeconds) {
        static final Verdict OK = new Verdict(true, 0);
        static final Verdict WRONG = new Verdict(false, 0);

        boolean throttled() {
            return retryAfterSeconds > 0;
        }
    }

    /**
     * Null when a cookie-authenticated change may go ahead: it carries the session's CSRF token, and
     * comes from this host if the browser says where it comes from. Else a 403.
     */
    private ApiResponse csrfRefusal(ApiRequest request, Sessions.Session session) {
        if (!sameOrigin(request)) {
            return error(403, "cross-origin request refused");
        }
        if (!sessions.csrfMatches(session, request.header(CSRF_HEADER))) {
            return error(403, "missing or wrong X-Regen-CSRF header (reload the dashboard)");
        }
        return null;
    }

    /**
     * Whether a browser says the request comes from this site. {@code Sec-Fetch-Site}, which only the
     * browser can set, decides when present; else {@code Origin}, when present, must name this host.
     * Neither present: not a browser form or script (curl, a scraper), so no CSRF concern.
     */
    private static boolean sameOrigin(ApiRequest request) {
        String site = request.header("sec-fetch-site");
        if (site != null) {
            return site.trim().equals("same-origin") || site.trim().equals("none");
        }
        String origin = request.header("origin");
        if (origin == null) {
            return true;
        }
        String host = request.header("host");
        if (host == null) {
            return false;
        }
        try {
            URI o = new URI(origin.trim());
            if (o.getHost() == null) {
                return false; // "null": a sandboxed frame, a file, a redirect from elsewhere
            }
            return o.getRawAuthority().equalsIgnoreCase(host.trim());
        } catch (URISyntaxException e) {
            return false;
        }
    }

    // ---- the dashboard: login, logout, the page and its assets

    private ApiResponse dashboard(ApiRequest request) {
        if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
            return error(405, "use GET", Map.of("Allow", "GET, HEAD"));
        }
        Sessions.Session session = session(request);
        if (session == null) {
            return Dashboard.redirect(PREFIX + "login", null);
        }
        return Dashboard.page(sessions.csrf(session), siteName, metricsPublic);
    }

    private ApiResponse login(ApiRequest request) {
        String method = request.method();
        if (method.equals("GET") || method.equals("HEAD")) {
            if (sessions == null) {
                return Dashboard.login(503, NO_SECRET);
            }
            if (session(request) != null) {
                return Dashboard.redirect(PREFIX, null);
            }
            return Dashboard.login(200, null);
        }
        if (!method.equals("POST")) {
            return error(405, "use GET or POST", Map.of("Allow", "GET, HEAD, POST"));
        }
        if (sessions == null) {
            return Dashboard.login(503, NO_SECRET);
        }
        if (!sameOrigin(request)) {
            return Dashboard.login(403, "This sign-in came from another site and was refused.");
        }
        if (request.body().length > MAX_LOGIN_BODY) {
            return Dashboard.login(413, "The form is too large.");
        }
        String secret = formField(request, "secret");
        if (secret == null || secret.isEmpty()) {
            return Dashboard.login(400, "Enter the secret.");
        }
        Verdict v = check(request, AuthThrottle.Door.LOGIN, secret.strip());
        if (v.throttled()) {
            return Dashboard.login(
                    429,
                    "Too many wrong secrets from your address. Try again in " + v.retryAfterSeconds() + " s.",
                    Map.of("Retry-After", String.valueOf(v.retryAfterSeconds())));
        }
        if (!v.ok()) {
            return Dashboard.login(401, "Wrong secret. Use the value of REGEN_SECRET (or secret: in the config).");
        }
        Sessions.Session session = sessions.create();
        return Dashboard.redirect(PREFIX, cookie(session.token(), sessions.maxAgeSeconds(session)));
    }

    private ApiResponse logout(ApiRequest request) {
        if (!request.method().equals("POST")) {
            return error(405, "use POST", Map.of("Allow", "POST"));
        }
        Sessions.Session session = session(request);
        if (session != null) {
            String token = request.header(CSRF_HEADER);
            if (token == null) {
                token = formField(request, "csrf");
            }
            if (!sameOrigin(request) || !sessions.csrfMatches(session, token)) {
                return error(403, "missing or wrong CSRF token (reload the dashboard)");
            }
            sessions.revoke(session);
        }
        return Dashboard.redirect(PREFIX + "login", cookie("", 0));
    }

    private String cookie(String value, long maxAgeSeconds) {
        return Sessions.COOKIE + "=" + value + "; Path=" + PREFIX + "; Max-Age=" + maxAgeSeconds
                + "; HttpOnly; SameSite=Strict" + (secureCookie ? "; Secure" : "");
    }

    /** A field of an {@code application/x-www-form-urlencoded} body, or null. */
    private static String formField(ApiRequest request, String name) {
        String type = request.header("content-type");
        if (type == null || !type.split(";", 2)[0].trim().equalsIgnoreCase("application/x-www-form-urlencoded")) {
            return null;
        }
        try {
            return query("?" + new String(request.body(), StandardCharsets.UTF_8))
                    .get(name);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static ApiResponse asset(ApiRequest request, String path) {
        if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
            return new ApiResponse(
                    405,
                    "text/plain; charset=utf-8",
                    Map.of("Allow", "GET, HEAD"),
                    "use GET\n".getBytes(StandardCharsets.UTF_8));
        }
        return Dashboard.asset(path.substring((PREFIX + "assets/").length()));
    }

    // ---- health and metrics

    /**
     * The full report: store and origin, each up, degraded or down with the reason, and what memory
     * holds. 200 while pages can be served (see {@link HealthReport#canServe}), else 503.
     */
    private ApiResponse health(ApiRequest request) {
        HealthReport report = health == null ? HealthReport.UNKNOWN : health.report();
        long pages = engine.memoryEntries();
        boolean ready = report.canServe(pages);
        ObjectNode out = json.createObjectNode().put("status", report.status()).put("ready", ready);
        if (!ready) {
            out.put("reason", report.whyNot(pages));
        }
        component(out.putObject("store"), report.store());
        component(out.putObject("origin"), report.origin());
        out.putObject("memory").put("pages", pages).put("bytes", engine.memoryBytes());
        return ApiResponse.json(ready ? 200 : 503, out.toString(), Map.of());
    }

    /** Liveness: the process answers requests. Always 200: restart it only when this does not answer. */
    private ApiResponse live(ApiRequest request) {
        return ApiResponse.json(
                200, json.createObjectNode().put("status", "live").toString(), Map.of());
    }

    /**
     * Readiness, for a load balancer: 200 while pages can be served (the origin renders, or the store
     * or memory holds pages), even with the shared store down; 503 with the reason otherwise.
     */
    private ApiResponse ready(ApiRequest request) {
        HealthReport report = health == null ? HealthReport.UNKNOWN : health.report();
        long pages = engine.memoryEntries();
        boolean ready = report.canServe(pages);
        ObjectNode out = json.createObjectNode().put("ready", ready);
        if (!ready) {
            out.put("reason", report.whyNot(pages));
        }
        return ApiResponse.json(ready ? 200 : 503, out.toString(), Map.of());
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

    private ApiResponse metrics(ApiRequest request) {
        if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
            return error(405, "use GET", Map.of("Allow", "GET, HEAD"));
        }
        if (!metricsPublic) {
            ApiResponse refused = readAccess(request, AuthThrottle.Door.METRICS);
            if (refused != null) {
                return refused;
            }
        }
        if (metrics == null) {
            return error(501, "metrics are not enabled on this edge (no RegenMetrics given to AdminApi)");
        }
        return new ApiResponse(200, PROMETHEUS_TEXT, Map.of(), metrics.scrape().getBytes(StandardCharsets.UTF_8));
    }

    // ---- shared

    private <T> CompletableFuture<ApiResponse> answer(CompletableFuture<T> result, Function<T, JsonNode> toJson) {
        return result.handle((value, e) -> {
            if (e != null) {
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause()
                        : e;
                if (cause instanceof dev.regen.store.StoreException) {
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
            return ApiResponse.json(200, toJson.apply(value).toString(), Map.of());
        });
    }

    private static CompletableFuture<ApiResponse> done(ApiResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    private ApiResponse unauthorized(String reason) {
        return error(401, reason, Map.of("WWW-Authenticate", "Bearer realm=\"regen\""));
    }

    private ApiResponse error(int status, String reason) {
        return error(status, reason, Map.of());
    }

    private ApiResponse error(int status, String reason, Map<String, String> headers) {
        ObjectNode out = json.createObjectNode().put("success", false).put("error", reason);
        return ApiResponse.json(status, out.toString(), headers);
    }

    /** The secret of a {@code Bearer} Authorization value, or null for another scheme. */
    private static String bearer(String authorization) {
        String a = authorization.trim();
        if (a.length() < 7 || !a.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return a.substring(7).trim();
    }

    private boolean secretMatches(String presented) {
        return MessageDigest.isEqual(sha256(presented), secretDigest);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /** Options of an {@link AdminApi}. Only the engine is required. */
    public static final class Builder {
        private final RegenEngine engine;
        private String secret;
        private String webhookPath = DEFAULT_WEBHOOK_PATH;
        private RegenMetrics metrics;
        private boolean secureCookie;
        private String siteName = "";
        private boolean metricsPublic;
        private HealthCheck health;
        private InstantSource clock = InstantSource.system();

        private Builder(RegenEngine engine) {
            this.engine = Objects.requireNonNull(engine, "engine");
        }

        /** The webhook, admin and dashboard secret; null (the default) makes those answer 503. */
        public Builder secret(String v) {
            secret = v;
            return this;
        }

        /** Whether the dashboard's session cookie is marked Secure (the site is served over https). */
        public Builder secureCookie(boolean v) {
            secureCookie = v;
            return this;
        }

        /** What the dashboard calls the site (its public host names). */
        public Builder siteName(String v) {
            siteName = Objects.requireNonNull(v, "siteName");
            return this;
        }

        /** Where the webhook listens (default {@code /_regen/revalidate}). */
        public Builder webhookPath(String v) {
            webhookPath = Objects.requireNonNull(v, "webhookPath");
            return this;
        }

        /** Serves {@code /_regen/metrics} and the dashboard's chart from these (the engine's listener). */
        public Builder metrics(RegenMetrics v) {
            metrics = v;
            return this;
        }

        /** Whether {@code /_regen/metrics} is served without auth (default false). */
        public Builder metricsPublic(boolean v) {
            metricsPublic = v;
            return this;
        }

        /** What {@code /_regen/health} reports; without, store and origin are "unknown". */
        public Builder health(HealthCheck v) {
            health = v;
            return this;
        }

        /** The wall clock of sessions and of the wrong-secret throttle (default: the system's). */
        public Builder clock(InstantSource v) {
            clock = Objects.requireNonNull(v, "clock");
            return this;
        }

        public AdminApi build() {
            return new AdminApi(this);
        }
    }
}
