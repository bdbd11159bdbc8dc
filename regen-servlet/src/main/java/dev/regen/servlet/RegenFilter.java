package dev.regen.servlet;

import dev.regen.CacheStatus;
import dev.regen.CachedPage;
import dev.regen.ClientRequest;
import dev.regen.Header;
import dev.regen.OriginResponse;
import dev.regen.RegenConfig;
import dev.regen.RegenEngine;
import dev.regen.Reply;
import dev.regen.admin.AdminApi;
import dev.regen.admin.ApiRequest;
import dev.regen.admin.ApiResponse;
import dev.regen.cluster.Cluster;
import dev.regen.http.CacheHeaders;
import dev.regen.http.Compression;
import dev.regen.http.HttpFields;
import dev.regen.http.Html;
import dev.regen.store.KvStore;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Incremental Static Regeneration for the web app this filter is part of: the same engine, rules,
 * stores and endpoints as the Regen proxy, applied to the app's own responses.
 *
 * <ul>
 *   <li>A cached page (HIT, STALE) is written without invoking the app; a stale one also starts one
 *       background render.</li>
 *   <li>A miss waits for the one render of that page without holding a container thread: the request
 *       goes asynchronous ({@link HttpServletRequest#startAsync}) and is dispatched again
 *       ({@link DispatcherType#ASYNC}) once the engine has the answer.</li>
 *   <li>Renders are the app itself, called over loopback HTTP with a signed {@code X-Regen-Render}
 *       header that only this filter instance can produce; such a request passes straight to the app.
 *       A forged or stale header is ignored: the request is served from the cache like any other.</li>
 *   <li>What may not be cached (non-GET/HEAD, {@code Authorization}, the bypass token, routes with
 *       {@code cache: false}) runs the app as usual, with {@code X-Cache-Status: BYPASS}.</li>
 *   <li>The revalidation webhook and {@code /_regen/} endpoints are answered by {@link AdminApi}.</li>
 * </ul>
 *
 * <p>Map it to {@code /*} for the {@link DispatcherType#REQUEST} and {@link DispatcherType#ASYNC}
 * dispatcher types, with async support on (for the filter and the servlets behind it; without it a
 * miss blocks its thread while it waits). Thread-safe. The container's {@code destroy()} does not
 * close it: its owner calls {@link #close()}, which stops the engine (not the store).
 */
public final class RegenFilter implements Filter, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegenFilter.class);
    /** Request attribute carrying the engine's answer from the waiting thread to the ASYNC dispatch. */
    private static final String OUTCOME = RegenFilter.class.getName() + ".outcome";

    private final RegenEngine engine;
    private final AdminApi api;
    private final LoopbackOrigin origin;
    private final RenderSignature signature;
    private final InstantSource clock;
    private final Duration waitLimit;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RegenFilter(Builder b) {
        RegenConfig config = Objects.requireNonNull(b.config, "config");
        this.clock = b.clock;
        this.signature = RenderSignature.random();
        // the engine times renders out itself; the client's own timeout is only a backstop
        this.origin = new LoopbackOrigin(b.renderUrl, signature, b.connectTimeout,
                config.renderTimeout().plusSeconds(1));
        RegenEngine.Builder engine = RegenEngine.builder()
                .config(config)
                .origin(origin)
                .store(Objects.requireNonNull(b.store, "store"))
                .clock(b.clock)
                .cluster(b.cluster);
        if (b.memoryBytes > 0) {
            engine.memoryBytes(b.memoryBytes);
        }
        this.engine = engine.build();
        this.api = new AdminApi(this.engine, b.secret, b.webhookPath);
        // the engine gives up on a render after renderTimeout + 2 s; the container waits a little longer
        this.waitLimit = config.renderTimeout().plusSeconds(10);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The engine behind the filter: for on-demand revalidation from the app's code, and stats. */
    public RegenEngine engine() {
        return engine;
    }

    /** Where renders are sent: the configured render URL, else learned from the first request; null until known. */
    public URI renderUrl() {
        return origin.base();
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!(request instanceof HttpServletRequest req) || !(response instanceof HttpServletResponse res)) {
            chain.doFilter(request, response);
            return;
        }
        DispatcherType type = req.getDispatcherType();
        if (type == DispatcherType.ASYNC) {
            Object outcome = req.getAttribute(OUTCOME);
            if (outcome != null) {
                req.removeAttribute(OUTCOME);
                finish(req, res, chain, outcome);
            } else {
                chain.doFilter(req, res); // the app's own async dispatch
            }
            return;
        }
        if (type != DispatcherType.REQUEST) {
            chain.doFilter(req, res);
            return;
        }
        origin.learn(req.getLocalPort());
        String target = target(req);
        String internal = req.getHeader(RenderSignature.HEADER);
        if (internal != null && signature.verify(internal, req.getMethod(), target)) {
            // the engine's own render: the app answers, and the engine decides what to keep
            chain.doFilter(req, res);
            return;
        }
        String appPath = req.getRequestURI().substring(req.getContextPath().length());
        if (api.owns(appPath)) {
            admin(req, res, chain, appPath);
            return;
        }
        CompletableFuture<Reply> reply;
        try {
            reply = engine.serve(new ClientRequest(req.getMethod(), target, req::getHeader));
        } catch (RuntimeException e) {
            // e.g. the engine was closed while the container still takes requests (shutdown)
            reply = CompletableFuture.failedFuture(e);
        }
        await(req, res, chain, reply.thenApply(r -> (Object) r));
    }

    /** The request target as the client sent it: raw path and query, as the engine keys it. */
    private static String target(HttpServletRequest req) {
        String query = req.getQueryString();
        return query == null ? req.getRequestURI() : req.getRequestURI() + "?" + query;
    }

    private void admin(HttpServletRequest req, HttpServletResponse res, FilterChain chain, String appPath)
            throws IOException, ServletException {
        // one byte over the limit is enough for the API to answer 413
        byte[] body = req.getInputStream().readNBytes(AdminApi.MAX_WEBHOOK_BODY + 1);
        String query = req.getQueryString();
        ApiRequest request = new ApiRequest(req.getMethod(), query == null ? appPath : appPath + "?" + query,
                req::getHeader, body);
        CompletableFuture<ApiResponse> answer;
        try {
            answer = api.handle(request);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        await(req, res, chain, answer.thenApply(r -> (Object) r));
    }

    /**
     * Sends {@code outcome} at once if it is ready (an L1 hit, a bypass), else goes asynchronous and
     * sends it on the ASYNC dispatch that follows its completion.
     */
    private void await(HttpServletRequest req, HttpServletResponse res, FilterChain chain,
                       CompletableFuture<Object> outcome) throws IOException, ServletException {
        if (outcome.isDone()) {
            finish(req, res, chain, settled(outcome));
            return;
        }
        if (!req.isAsyncSupported()) {
            // a servlet or filter in this chain does not support async: wait on this thread
            Object value;
            try {
                value = outcome.get(waitLimit.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                value = timedOut();
            } catch (TimeoutException e) {
                value = timedOut();
            } catch (ExecutionException e) {
                value = internalError(e.getCause());
            }
            finish(req, res, chain, value);
            return;
        }
        AsyncContext async = req.startAsync(req, res);
        async.setTimeout(waitLimit.toMillis());
        AtomicBoolean answered = new AtomicBoolean();
        async.addListener(new AsyncListener() {
            @Override
            public void onTimeout(AsyncEvent event) {
                resume(async, answered, timedOut());
            }

            @Override
            public void onError(AsyncEvent event) {
                // the client went away or the connection broke: nothing left to answer
                if (answered.compareAndSet(false, true)) {
                    completeQuietly(async);
                }
            }

            @Override
            public void onComplete(AsyncEvent event) {
            }

            @Override
            public void onStartAsync(AsyncEvent event) {
            }
        });
        outcome.whenComplete((value, error) -> resume(async, answered, error != null ? internalError(error) : value));
    }

    private static void resume(AsyncContext async, AtomicBoolean answered, Object outcome) {
        if (!answered.compareAndSet(false, true)) {
            return;
        }
        try {
            async.getRequest().setAttribute(OUTCOME, outcome);
            async.dispatch();
        } catch (IllegalStateException e) {
            // completed or timed out meanwhile
            log.debug("could not resume a waiting request: {}", e.toString());
        }
    }

    private static void completeQuietly(AsyncContext async) {
        try {
            async.complete();
        } catch (IllegalStateException e) {
            log.debug("could not complete a request: {}", e.toString());
        }
    }

    private Object settled(CompletableFuture<Object> done) {
        try {
            return done.join();
        } catch (RuntimeException e) {
            return internalError(e);
        }
    }

    private Reply timedOut() {
        return new Reply.Failure(504, "the page did not render within " + waitLimit.toSeconds() + " s");
    }

    private static Reply internalError(Throwable error) {
        log.error("a request failed inside Regen: {}", String.valueOf(error));
        return new Reply.Failure(500, "internal error");
    }

    private void finish(HttpServletRequest req, HttpServletResponse res, FilterChain chain, Object outcome)
            throws IOException, ServletException {
        if (outcome instanceof ApiResponse a) {
            writeApi(req, res, a);
        } else if (outcome instanceof Reply.Page p) {
            writePage(req, res, p.page(), p.status());
        } else if (outcome instanceof Reply.Rendered r) {
            writeRendered(req, res, r.response());
        } else if (outcome instanceof Reply.PassThrough p) {
            // the app answers this client itself; nothing is stored
            chain.doFilter(req, new StatusHeaders(res, p.status().name(), CacheHeaders.forPassThrough(p.status(), p.fwd())));
        } else if (outcome instanceof Reply.Failure f) {
            writeFailure(req, res, f.status(), f.reason());
        }
    }

    private void writePage(HttpServletRequest req, HttpServletResponse res, CachedPage page, CacheStatus status)
            throws IOException {
        Instant now = clock.instant();
        // the pre-compressed variant when the client takes gzip, with its own ETag (as the proxy does)
        boolean gzip = page.gzipBody() != null && Compression.acceptsGzip(req.getHeader("Accept-Encoding"));
        String etag = gzip ? Compression.gzipEtag(page.etag()) : page.etag();
        boolean notModified = CacheHeaders.noneMatch(req.getHeader("If-None-Match"), etag);
        res.setStatus(notModified ? HttpServletResponse.SC_NOT_MODIFIED : page.status());
        copyHeaders(res, page.headers(), notModified ? CacheHeaders::keptOn304 : name -> true);
        if (page.gzipBody() != null) {
            res.setHeader("Vary", CacheHeaders.varyWithAcceptEncoding(HttpFields.first(page.headers(), "vary")));
        }
        if (gzip && !notModified) {
            res.setHeader("Content-Encoding", "gzip");
        }
        res.setHeader("ETag", etag);
        res.setHeader("Age", String.valueOf(page.ageSeconds(now)));
        res.setHeader(CacheHeaders.X_CACHE_STATUS, status.name());
        res.setHeader(CacheHeaders.CACHE_STATUS, CacheHeaders.forPage(page, status, now));
        if (!notModified) {
            writeBody(req, res, gzip ? page.gzipBody() : page.body());
        }
    }

    private static void writeRendered(HttpServletRequest req, HttpServletResponse res, OriginResponse r)
            throws IOException {
        res.setStatus(r.status());
        copyHeaders(res, HttpFields.relayable(r.headers()), name -> true);
        res.setHeader(CacheHeaders.X_CACHE_STATUS, CacheStatus.MISS.name());
        res.setHeader(CacheHeaders.CACHE_STATUS, CacheHeaders.UNSTORED_MISS);
        if (!bodiless(r.status())) {
            writeBody(req, res, r.body());
        }
    }

    /** Regen's own error page: short, and saying what happened. */
    private static void writeFailure(HttpServletRequest req, HttpServletResponse res, int status, String reason)
            throws IOException {
        String title = switch (status) {
            case 400 -> "Bad request";
            case 502 -> "Render failed";
            case 504 -> "Render timed out";
            default -> "Error";
        };
        String html = Html.errorPage(status, title, reason);
        res.setStatus(status);
        res.setContentType("text/html;charset=utf-8");
        res.setHeader("Cache-Control", "no-store");
        boolean bypass = status == 400;
        res.setHeader(CacheHeaders.X_CACHE_STATUS, bypass ? CacheStatus.BYPASS.name() : CacheStatus.MISS.name());
        res.setHeader(CacheHeaders.CACHE_STATUS, bypass ? "regen; fwd=bypass" : CacheHeaders.UNSTORED_MISS);
        writeBody(req, res, html.getBytes(StandardCharsets.UTF_8));
    }

    private static void writeApi(HttpServletRequest req, HttpServletResponse res, ApiResponse a) throws IOException {
        res.setStatus(a.status());
        res.setContentType(a.contentType());
        res.setHeader("Cache-Control", "no-store");
        for (Map.Entry<String, String> h : a.headers().entrySet()) {
            res.setHeader(h.getKey(), h.getValue());
        }
        writeBody(req, res, a.body());
    }

    /** The stored or relayed fields; the first value of a name replaces what earlier filters set. */
    private static void copyHeaders(HttpServletResponse res, List<Header> headers, Predicate<String> keep) {
        Set<String> seen = new HashSet<>();
        for (Header h : headers) {
            if (!keep.test(h.name())) {
                continue;
            }
            if (seen.add(h.name().toLowerCase(Locale.ROOT))) {
                res.setHeader(h.name(), h.value());
            } else {
                res.addHeader(h.name(), h.value());
            }
        }
    }

    private static void writeBody(HttpServletRequest req, HttpServletResponse res, byte[] body) throws IOException {
        res.setContentLength(body.length);
        if (!"HEAD".equals(req.getMethod())) {
            res.getOutputStream().write(body);
        }
    }

    private static boolean bodiless(int status) {
        return status == 204 || status == 304 || (status >= 100 && status < 200);
    }

    /** Stops the engine's threads and renders. Does not close the store: its owner does. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            engine.close();
            origin.close();
        }
    }

    /**
     * A response that carries the cache status fields however the app builds it: they are set
     * before the app runs and again after a {@code reset()}.
     */
    private static final class StatusHeaders extends HttpServletResponseWrapper {
        private final String status;
        private final String cacheStatus;

        StatusHeaders(HttpServletResponse response, String status, String cacheStatus) {
            super(response);
            this.status = status;
            this.cacheStatus = cacheStatus;
            apply();
        }

        private void apply() {
            setHeader(CacheHeaders.X_CACHE_STATUS, status);
            setHeader(CacheHeaders.CACHE_STATUS, cacheStatus);
        }

        @Override
        public void reset() {
            super.reset();
            apply();
        }
    }

    /**
     * Builds a filter and its engine. {@code config} and {@code store} are required; the filter does
     * not own the store (close it after the filter).
     */
    public static final class Builder {
        private RegenConfig config;
        private KvStore store;
        private InstantSource clock = InstantSource.system();
        private long memoryBytes;
        private Cluster cluster = Cluster.LOCAL;
        private String secret;
        private String webhookPath = "/api/revalidate";
        private URI renderUrl;
        private Duration connectTimeout = Duration.ofSeconds(2);

        private Builder() {
        }

        public Builder config(RegenConfig v) { config = v; return this; }

        public Builder store(KvStore v) { store = v; return this; }

        /** Wall time for freshness, {@code Age} and store expirations (default: the system clock). */
        public Builder clock(InstantSource v) { clock = Objects.requireNonNull(v, "clock"); return this; }

        /** Budget of the engine's in-memory L1 in bytes (default: the engine's, 256 MiB). */
        public Builder memoryBytes(long v) {
            if (v <= 0) {
                throw new IllegalArgumentException("memory must be positive: " + v);
            }
            memoryBytes = v;
            return this;
        }

        /** Other nodes sharing the store (default: none). */
        public Builder cluster(Cluster v) { cluster = Objects.requireNonNull(v, "cluster"); return this; }

        /** The webhook and admin secret; without one those endpoints answer 503. */
        public Builder secret(String v) { secret = v == null || v.isBlank() ? null : v; return this; }

        /** Where the revalidation webhook listens, relative to the context path (default {@code /api/revalidate}). */
        public Builder webhookPath(String v) {
            if (v == null || !v.startsWith("/")) {
                throw new IllegalArgumentException("webhook-path must start with /: " + v);
            }
            webhookPath = v;
            return this;
        }

        /**
         * Where renders are sent, e.g. {@code http://127.0.0.1:8080} (scheme, host and port only).
         * Default: {@code http://127.0.0.1:<port of the first request>}; set it when the app listens
         * only on another address or only over TLS.
         */
        public Builder renderUrl(URI v) { renderUrl = v == null ? null : LoopbackOrigin.checkBase(v); return this; }

        /** Connect timeout of loopback renders (default 2 s). */
        public Builder connectTimeout(Duration v) {
            if (v == null || v.isNegative() || v.isZero()) {
                throw new IllegalArgumentException("timeouts.connect must be positive: " + v);
            }
            connectTimeout = v;
            return this;
        }

        public RegenFilter build() {
            return new RegenFilter(this);
        }
    }
}
