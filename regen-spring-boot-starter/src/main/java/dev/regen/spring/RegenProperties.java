package dev.regen.spring;

import dev.regen.Regen;
import dev.regen.RegenCache;
import java.net.URI;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.convert.DurationUnit;
import org.springframework.util.unit.DataSize;

/**
 * The {@code regen.*} properties: the same settings as the proxy's config file, for a Spring Boot
 * app. Durations without a unit are seconds ({@code regen.revalidate=60}). Immutable; the values are
 * checked when the engine is built, and a bad one stops the app with a message naming the property.
 *
 * @param enabled      {@code false} registers nothing (a no-op {@link RegenCache} stays injectable)
 * @param revalidate   default revalidate time for pages without {@code s-maxage} or a route rule
 * @param expire       how long after turning stale a page may still be served; unset = forever
 * @param siteName     what the dashboard calls the site; default {@code spring.application.name}. The
 *                     cache keys' host is each request's own ({@code Host}, or what the server was told
 *                     to believe of a proxy: {@code server.forward-headers-strategy})
 * @param secureCookie mark the dashboard's session cookie {@code Secure} (the site is served over https)
 * @param routes       per-path rules, first match wins; paths include the servlet context path
 * @param store        {@code memory} (default) or {@code embedded:DIR} (needs regen-store-embedded);
 *                     for Redis define a {@code KvStore} bean instead
 * @param memory       budget of the in-memory cache (L1), and of the store when it is {@code memory}
 * @param query        which query parameters identify a page: {@code ignore-tracking} (default),
 *                     {@code all}, {@code none}, or the names of the parameters to keep
 * @param secret       webhook and admin API secret; without one they answer 503
 * @param webhookPath  where the revalidation webhook listens ({@code /api/revalidate} is the
 *                     Astro-recipe-compatible path, no longer the default: it hid the app's own route)
 * @param bypassToken  preview token ({@code X-Regen-Bypass} header or {@code regen_bypass} cookie)
 * @param timeouts     render and connect timeouts of loopback renders
 * @param renderUrl    where loopback (background) renders are sent ({@code http://HOST:PORT});
 *                     default: 127.0.0.1 and the port of the first request
 * @param filterOrder  order of the filter; the default runs right after Spring Security's filter chain
 */
@ConfigurationProperties("regen")
public record RegenProperties(
        @DefaultValue("true") boolean enabled,

        @DefaultValue("60s") @DurationUnit(ChronoUnit.SECONDS)
        Duration revalidate,

        @DurationUnit(ChronoUnit.SECONDS) Duration expire,
        String siteName,
        @DefaultValue("false") boolean secureCookie,
        List<Route> routes,
        @DefaultValue("memory") String store,
        @DefaultValue(Regen.DEFAULT_MEMORY) DataSize memory,
        @DefaultValue("ignore-tracking") List<String> query,
        String secret,
        @DefaultValue(Regen.DEFAULT_WEBHOOK_PATH) String webhookPath,
        String bypassToken,
        @DefaultValue Timeouts timeouts,
        URI renderUrl,

        @DefaultValue("" + RegenProperties.DEFAULT_FILTER_ORDER)
        int filterOrder) {

    /**
     * Spring Security's filter chain is registered at order -100 ({@code SecurityProperties.DEFAULT_FILTER_ORDER}):
     * Regen comes right after it, so access rules still apply to cached pages, and before the app's
     * own filters at the default order, which a cached page skips like the app itself.
     */
    public static final int DEFAULT_FILTER_ORDER = -90;

    /**
     * Properties that no longer exist, with what replaced them: setting one stops the app rather than be
     * silently ignored.
     */
    static final java.util.Map<String, String> REMOVED = java.util.Map.of(
            "regen.host",
                    "the cache key's host is each request's own Host (behind a proxy, set "
                            + "server.forward-headers-strategy); to name the site in the dashboard, use regen.site-name",
            "regen.scheme",
                    "the scheme is each request's own (behind a TLS proxy, set "
                            + "server.forward-headers-strategy); to mark the dashboard cookie Secure, use "
                            + "regen.secure-cookie=true");

    public RegenProperties {
        routes = routes == null ? List.of() : List.copyOf(routes);
        query = query == null ? List.of("ignore-tracking") : List.copyOf(query);
    }

    /**
     * One route rule ({@code regen.routes[n].*}).
     *
     * @param match      glob on the page path: {@code *} within a segment, {@code **} across segments
     * @param revalidate revalidate time of matching pages, unless the response has {@code s-maxage}
     * @param tags       tags added to matching pages, for revalidation by tag
     * @param cache      {@code false}: matching requests pass through uncached
     */
    public record Route(
            String match,
            @DurationUnit(ChronoUnit.SECONDS) Duration revalidate,
            List<String> tags,
            @DefaultValue("true") boolean cache) {
        public Route {
            tags = tags == null ? List.of() : List.copyOf(tags);
        }
    }

    /**
     * Timeouts ({@code regen.timeouts.*}).
     *
     * @param render  a render taking longer fails (504 on a miss; the stale page is kept otherwise)
     * @param connect connect timeout of loopback renders
     * @param lockWait with several instances on one shared store (a {@code Cluster} bean), how long a miss
     *                 waits for another instance's render of the page before rendering it itself
     */
    public record Timeouts(
            @DefaultValue("30s") @DurationUnit(ChronoUnit.SECONDS)
            Duration render,

            @DefaultValue("2s") @DurationUnit(ChronoUnit.SECONDS)
            Duration connect,

            @DefaultValue("5s") @DurationUnit(ChronoUnit.SECONDS)
            Duration lockWait) {}
}
