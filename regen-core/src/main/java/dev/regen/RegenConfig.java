package dev.regen;

import dev.regen.internal.http.CookieRules;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The engine's settings as finished, validated values. Files, flags and environment are parsed by the
 * edges (server, servlet); every constructor check names the field it rejects. Which public host a
 * request is for is the edge's business: the engine takes it with each request.
 *
 * @param revalidate         default revalidate time for pages without an origin header or route rule
 * @param expire             how long after turning stale a page may still be served; null = forever
 * @param errorRevalidate    revalidate time of cached 4xx answers (404, 410) without explicit freshness
 * @param cacheableStatuses  origin statuses that may be stored without explicit freshness
 * @param maxBodyBytes       larger bodies are passed through but never stored
 * @param query              which query parameters identify a page
 * @param unkeyedParams      query parameters sent to the origin but never part of the key
 * @param unkeyedVary        request fields replayed to the origin by background renders but never keyed on,
 *                           even when a response's {@code Vary} names them
 * @param cookies            which cookies are ignored (never credentials, never keyed, stripped from renders)
 * @param maxVariants        {@code Vary} variants kept per URL; beyond it requests pass through
 * @param hitForPass         how long a URL whose response could not be stored goes straight to the origin
 * @param routes             first match wins
 * @param renderTimeout      a render without a response head by then fails (504 on a miss, stale kept otherwise)
 * @param lockWait           how long a miss waits for another node's render of the page before rendering it
 *                           itself (stale pages never wait); with several nodes only
 * @param renderBudget       most renders sent to the origin at once (visitors' misses and background work);
 *                           0 = auto, following the origin's latency
 * @param backgroundQueue    background renders that may wait for the budget; beyond it they are shed
 * @param refreshAhead       a page requested in this last fraction of its fresh window is re-rendered in the
 *                           background before it turns stale (0 = never)
 * @param eagerWindow        a soft revalidation re-renders at once the pages requested within this window
 *                           (zero = never: they are only marked stale)
 * @param bypassToken        preview token (header X-Regen-Bypass or cookie regen_bypass), or null
 */
public record RegenConfig(
        Duration revalidate,
        Duration expire,
        Duration errorRevalidate,
        Set<Integer> cacheableStatuses,
        long maxBodyBytes,
        QueryPolicy query,
        Set<String> unkeyedParams,
        Set<String> unkeyedVary,
        CookieRules cookies,
        int maxVariants,
        Duration hitForPass,
        List<RouteRule> routes,
        Duration renderTimeout,
        Duration lockWait,
        int renderBudget,
        int backgroundQueue,
        double refreshAhead,
        Duration eagerWindow,
        String bypassToken) {

    /** @throws InvalidConfigException naming the first invalid field */
    public RegenConfig {
        requirePositive(revalidate, "revalidate");
        if (expire != null) {
            requirePositive(expire, "expire");
        }
        requirePositive(errorRevalidate, "error-revalidate");
        cacheableStatuses = Set.copyOf(Objects.requireNonNull(cacheableStatuses, "cacheableStatuses"));
        if (cacheableStatuses.isEmpty()) {
            throw new InvalidConfigException(
                    "cacheable-statuses",
                    "must list at least one status (use a route with cache: false to stop caching)");
        }
        for (int s : cacheableStatuses) {
            if (s < 200 || s > 599 || s == 206 || s == 304) {
                throw new InvalidConfigException(
                        "cacheable-statuses",
                        "must be HTTP statuses 200..599 other than 206 and 304, got \"" + s + "\"");
            }
        }
        if (maxBodyBytes <= 0) {
            throw new InvalidConfigException("max-body", "must be positive, got \"" + maxBodyBytes + "\"");
        }
        Objects.requireNonNull(query, "query");
        unkeyedParams = Set.copyOf(requireNames(unkeyedParams, "unkeyed-query", "&=#"));
        TreeSet<String> vary = new TreeSet<>();
        for (String v : requireNames(unkeyedVary, "unkeyed-vary", ",:")) {
            vary.add(v.toLowerCase(Locale.ROOT));
        }
        unkeyedVary = Set.copyOf(vary);
        Objects.requireNonNull(cookies, "cookies");
        if (maxVariants < 1) {
            throw new InvalidConfigException("max-variants", "must be at least 1, got \"" + maxVariants + "\"");
        }
        requirePositive(hitForPass, "hit-for-pass");
        routes = List.copyOf(Objects.requireNonNull(routes, "routes"));
        requirePositive(renderTimeout, "timeouts.render");
        requirePositive(lockWait, "timeouts.lock-wait");
        if (renderBudget < 0) {
            throw new InvalidConfigException(
                    "renders.budget", "must be auto or at least 1, got \"" + renderBudget + "\"");
        }
        if (backgroundQueue < 0) {
            throw new InvalidConfigException(
                    "renders.background-queue", "must not be negative, got \"" + backgroundQueue + "\"");
        }
        if (!(refreshAhead >= 0 && refreshAhead < 1)) {
            throw new InvalidConfigException(
                    "renders.refresh-ahead",
                    "must be a fraction from 0 to below 1 (like 0.2) or a percentage (like 20%), got \"" + refreshAhead
                            + "\"");
        }
        if (eagerWindow == null || eagerWindow.isNegative()) {
            throw new InvalidConfigException(
                    "renders.eager-window", "must not be negative, got " + InvalidConfigException.show(eagerWindow));
        }
        if (bypassToken != null && bypassToken.isBlank()) {
            bypassToken = null;
        }
        // It travels as a header value and as a cookie value (RFC 6265 cookie-octet); never shown.
        if (bypassToken != null
                && !bypassToken.chars().allMatch(c -> c > 0x20 && c < 0x7f && "\",;\\".indexOf(c) < 0)) {
            throw new InvalidConfigException(
                    "bypass-token", "may only contain visible ASCII characters other than \" , ; \\");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The first route rule whose glob matches {@code path}, or null. */
    public RouteRule routeFor(String path) {
        for (RouteRule r : routes) {
            if (r.matches(path)) {
                return r;
            }
        }
        return null;
    }

    private static void requirePositive(Duration d, String field) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new InvalidConfigException(field, "must be positive, got " + InvalidConfigException.show(d));
        }
    }

    /** Names of request parts or tags: a name with whitespace or one of {@code forbidden} could never match. */
    static <C extends Collection<String>> C requireNames(C names, String field, String forbidden) {
        for (String n : names) {
            if (n == null || n.isEmpty() || n.chars().anyMatch(c -> c <= ' ' || forbidden.indexOf(c) >= 0)) {
                throw new InvalidConfigException(
                        field, "must be names without spaces or any of '" + forbidden + "', got \"" + n + "\"");
            }
        }
        return names;
    }

    /** Defaults as documented in DESIGN.md. */
    public static final class Builder {
        private Duration revalidate = Duration.ofSeconds(60);
        private Duration expire;
        private Duration errorRevalidate = Duration.ofSeconds(10);
        private Set<Integer> cacheableStatuses = StoragePolicy.HEURISTICALLY_CACHEABLE;
        private long maxBodyBytes = 8L * 1024 * 1024;
        private QueryPolicy query = QueryPolicy.IGNORE_TRACKING;
        private Set<String> unkeyedParams = Set.of();
        private Set<String> unkeyedVary = Set.of();
        private CookieRules cookies = CookieRules.DEFAULT;
        private int maxVariants = 32;
        private Duration hitForPass = Duration.ofSeconds(60);
        private List<RouteRule> routes = List.of();
        private Duration renderTimeout = Duration.ofSeconds(30);
        /** nginx's proxy_cache_lock_timeout: a dead node's render costs a waiter this much at most. */
        private Duration lockWait = Duration.ofSeconds(5);

        private int renderBudget;
        private int backgroundQueue = 1000;
        private double refreshAhead = 0.2;
        private Duration eagerWindow = Duration.ofMinutes(10);
        private String bypassToken;

        Builder() {}

        Builder(RegenConfig c) {
            revalidate = c.revalidate;
            expire = c.expire;
            errorRevalidate = c.errorRevalidate;
            cacheableStatuses = c.cacheableStatuses;
            maxBodyBytes = c.maxBodyBytes;
            query = c.query;
            unkeyedParams = c.unkeyedParams;
            unkeyedVary = c.unkeyedVary;
            cookies = c.cookies;
            maxVariants = c.maxVariants;
            hitForPass = c.hitForPass;
            routes = c.routes;
            renderTimeout = c.renderTimeout;
            lockWait = c.lockWait;
            renderBudget = c.renderBudget;
            backgroundQueue = c.backgroundQueue;
            refreshAhead = c.refreshAhead;
            eagerWindow = c.eagerWindow;
            bypassToken = c.bypassToken;
        }

        public Builder revalidate(Duration v) {
            revalidate = v;
            return this;
        }

        public Builder expire(Duration v) {
            expire = v;
            return this;
        }

        public Builder errorRevalidate(Duration v) {
            errorRevalidate = v;
            return this;
        }

        public Builder cacheableStatuses(Set<Integer> v) {
            cacheableStatuses = v;
            return this;
        }

        public Builder maxBodyBytes(long v) {
            maxBodyBytes = v;
            return this;
        }

        public Builder query(QueryPolicy v) {
            query = v;
            return this;
        }

        public Builder unkeyedParams(Set<String> v) {
            unkeyedParams = v;
            return this;
        }

        public Builder unkeyedVary(Set<String> v) {
            unkeyedVary = v;
            return this;
        }

        public Builder cookies(CookieRules v) {
            cookies = v;
            return this;
        }

        public Builder maxVariants(int v) {
            maxVariants = v;
            return this;
        }

        public Builder hitForPass(Duration v) {
            hitForPass = v;
            return this;
        }

        public Builder routes(List<RouteRule> v) {
            routes = v;
            return this;
        }

        public Builder renderTimeout(Duration v) {
            renderTimeout = v;
            return this;
        }

        public Builder lockWait(Duration v) {
            lockWait = v;
            return this;
        }
        /** Most renders at once; 0 = auto. */
        public Builder renderBudget(int v) {
            renderBudget = v;
            return this;
        }

        public Builder backgroundQueue(int v) {
            backgroundQueue = v;
            return this;
        }

        public Builder refreshAhead(double v) {
            refreshAhead = v;
            return this;
        }

        public Builder eagerWindow(Duration v) {
            eagerWindow = v;
            return this;
        }

        public Builder bypassToken(String v) {
            bypassToken = v;
            return this;
        }

        /** Adds what a framework preset knows to the settings already made. */
        public Builder preset(Preset p) {
            unkeyedParams = union(unkeyedParams, p.unkeyedParams());
            unkeyedVary = union(unkeyedVary, p.unkeyedVary());
            return this;
        }

        private static Set<String> union(Set<String> a, Set<String> b) {
            TreeSet<String> all = new TreeSet<>(a);
            all.addAll(b);
            return all;
        }

        public RegenConfig build() {
            return new RegenConfig(
                    revalidate,
                    expire,
                    errorRevalidate,
                    cacheableStatuses,
                    maxBodyBytes,
                    query,
                    unkeyedParams,
                    unkeyedVary,
                    cookies,
                    maxVariants,
                    hitForPass,
                    routes,
                    renderTimeout,
                    lockWait,
                    renderBudget,
                    backgroundQueue,
                    refreshAhead,
                    eagerWindow,
                    bypassToken);
        }
    }
}
