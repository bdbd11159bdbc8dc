package dev.regen.servlet;

import dev.regen.EngineListener;
import dev.regen.Regen;
import dev.regen.RegenConfig;
import dev.regen.RegenEngine;
import dev.regen.admin.AdminApi;
import dev.regen.admin.ApiRequest;
import dev.regen.admin.ApiResponse;
import dev.regen.admin.RegenMetrics;
import dev.regen.internal.ClientRequest;
import dev.regen.internal.Forwarding;
import dev.regen.internal.Header;
import dev.regen.internal.OriginException;
import dev.regen.internal.Reply;
import dev.regen.internal.http.CacheHeaders;
import dev.regen.internal.http.CookieRules;
import dev.regen.internal.http.ResponsePlan;
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
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Incremental Static Regeneration for the web app this filter is part of: the same engine, rules,
 * stores and endpoints as the Regen proxy, applied to the app's own responses. DESIGN.md's rules hold
 * here as at the proxy.
 *
 * <ul>
 *   <li>A cached page (HIT, STALE) is written without invoking the app; a stale one also starts one
 *       background render.</li>
 *   <li>A render is the client's own request: on a miss the app answers it in place, through the rest
 *       of the filter chain, while {@link RenderResponse} streams the answer to the client and keeps a
 *       copy for the engine; the app sees the request the engine forwards (the client's fields less
 *       conditional, range and ignored-cookie fields; GET for a HEAD).</li>
 *   <li>A request that waits on another request's render does not hold a container thread: it goes
 *       asynchronous ({@link HttpServletRequest#startAsync}) and is dispatched again
 *       ({@link DispatcherType#ASYNC}) once the engine has the answer. Should that answer be a render of
 *       its own, the app answers it over loopback HTTP, so that it still passes every filter of a
 *       {@link DispatcherType#REQUEST} dispatch.</li>
 *   <li>Background renders are the app itself, called over loopback HTTP with a signed
 *       {@code X-Regen-Render} header that only this filter instance can produce; such a request passes
 *       straight to the app. A forged or stale header is ignored: the request is served from the cache
 *       like any other.</li>
 *   <li>What may not be cached (non-GET/HEAD, credentials without explicit permission, the bypass token,
 *       routes with {@code cache: false}, hit-for-pass) runs the app for that client alone.</li>
 *   <li>The revalidation webhook and {@code /_regen/} endpoints are answered by {@link AdminApi}.</li>
 * </ul>
 *
 * <p>The public host in every cache key is the request's ({@link HttpServletRequest#getServerName()} and
 * port: its {@code Host}, or what the container was told to believe of a load balancer), lower case and
 * without the scheme's default port; the scheme is {@link HttpServletRequest#getScheme()}.
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
    /** Request attribute naming the render an app's own asynchronous dispatch belongs to. */
    private static final String RENDER = RegenFilter.class.getName() + ".render";
    /**
     * How long a request's own thread waits for the engine's decision before going asynchronous. A
     * store lookup takes far less, so a render decided for this request runs in its own dispatch; a
     * request that waits on another's render lets its thread go after this.
     */
    static final Duration DECISION_WAIT = Duration.ofMillis(20);

    private final RegenEngine engine;
    private final AdminApi api;
    private final RegenMetrics metrics = new RegenMetrics();
    private final LoopbackOrigin origin;
    private final RenderSignature signature;
    private final CookieRules cookies;
    private final long maxBodyBytes;
    private final Duration waitLimit;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * A filter and its engine with the settings of {@code regen}; {@link Regen#origin()} is where
     * loopback renders go (default: {@code http://127.0.0.1:<port of the first request>}; set it when
     * the app listens only on another address or only over TLS). The filter does not own the store:
     * close it after the filter.
     */
    public RegenFilter(Regen regen) {
        RegenConfig config = regen.config();
        this.signature = RenderSignature.random();
        this.cookies = config.cookies();
        this.maxBodyBytes = config.maxBodyBytes();
        // the engine times renders out itself; the client's own timeout is only a backstop
        this.origin = new LoopbackOrigin(
                regen.origin(),
                signature,
                regen.connectTimeout(),
                config.renderTimeout().plusSeconds(1));
        if (regen.listener() != EngineListener.NONE) {
            // one listener per engine: the filter's is its metrics
            throw new IllegalArgumentException(
                    "listener: the filter's engine reports to RegenFilter.metrics(); bind those to a registry instead");
        }
        this.engine = regen.toBuilder()
                .store(metrics.instrument(regen.store()))
                .listener(metrics)
                .build()
                .newEngine(origin);
        metrics.bind(engine);
        this.api = new AdminApi(regen, engine, metrics, null);
        // the engine gives up on a render after renderTimeout + 2 s; the container waits a little longer
        this.waitLimit = config.renderTimeout().plusSeconds(10);
    }

    /** The engine behind the filter: for on-demand revalidation from the app's code, and stats. */
    public RegenEngine engine() {
        return engine;
    }

    /**
     * The engine's metrics, served at {@code /_regen/metrics}; bind them to the app's own registry
     * ({@link RegenMetrics#bindTo}) to have them there too.
     */
    public RegenMetrics metrics() {
        return metrics;
    }

    /** Regen's own endpoints this filter answers (webhook, admin API, dashboard, health). */
    public AdminApi adminApi() {
        return api;
    }

    /**
     * Where loopback renders are sent (background renders, and renders decided after a request went
     * asynchronous): the configured render URL, else learned from the first request; null until known.
     */
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
                answer(req, res, chain, outcome);
            } else if (req.getAttribute(RENDER) instanceof RenderResponse render) {
                runRender(req, res, chain, req, render); // the app's own dispatch, within a render
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
        String host = publicHost(req);
        String internal = req.getHeader(RenderSignature.HEADER);
        if (internal != null && signature.verify(internal, req.getMethod(), target)) {
            // the filter's own loopback request: the app answers it, and the engine decides what to keep
            chain.doFilter(AppRequest.loopback(req, host != null ? host : "localhost"), res);
            return;
        }
        String appPath = req.getRequestURI().substring(req.getContextPath().length());
        if (api.owns(appPath)) {
            admin(req, res, chain, appPath);
            return;
        }
        if (host == null) {
            writeFailure(req, res, 400, "the request names no valid host");
            return;
        }
        ServletHeaders headers = new ServletHeaders(req);
        CompletableFuture<Reply> reply;
        try {
            reply = engine.serve(new ClientRequest(req.getMethod(), target, host, scheme(req), headers, hasBody(req)));
        } catch (RuntimeException e) {
            // e.g. the engine was closed while the container still takes requests (shutdown)
            reply = CompletableFuture.failedFuture(e);
        }
        await(req, res, chain, reply.thenApply(r -> (Object) r), headers);
    }

    /** The request target as the client sent it: raw path and query, as the engine keys it. */
    private static String target(HttpServletRequest req) {
        String query = req.getQueryString();
        return query == null ? req.getRequestURI() : req.getRequestURI() + "?" + query;
    }

    /**
     * The public host the request is for, as in cache keys: lower case, no trailing dot, the port only
     * when it is not the scheme's default; null when it is not a host name or address.
     */
    static String publicHost(HttpServletRequest req) {
        String name = req.getServerName();
        if (name == null || name.isEmpty() || name.length() > 255) {
            return null;
        }
        String h = name.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (h.indexOf(':') >= 0 && !h.startsWith("[")) {
            h = "[" + h + "]"; // an IPv6 address some containers give without its brackets
        }
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '-'
                    || c == '_'
                    || c == ':'
                    || c == '['
                    || c == ']';
            if (!ok) {
                return null; // nothing that could smuggle a path or a space into a key
            }
        }
        if (h.isEmpty()) {
            return null;
        }
        int port = req.getServerPort();
        String scheme = scheme(req);
        boolean defaultPort =
                port <= 0 || (port == 80 && scheme.equals("http")) || (port == 443 && scheme.equals("https"));
        return defaultPort ? h : h + ":" + port;
    }

    private static String scheme(HttpServletRequest req) {
        return "https".equalsIgnoreCase(req.getScheme()) ? "https" : "http";
    }

    private static boolean hasBody(HttpServletRequest req) {
        return req.getContentLengthLong() > 0 || req.getHeader("Transfer-Encoding") != null;
    }

    private void admin(HttpServletRequest req, HttpServletResponse res, FilterChain chain, String appPath)
            throws IOException, ServletException {
        // one byte over the limit is enough for the API to answer 413
        byte[] body = req.getInputStream().readNBytes(AdminApi.MAX_WEBHOOK_BODY + 1);
        String query = req.getQueryString();
        // the container's client address: behind a proxy, configure the container to take it from the
        // forwarded headers (Tomcat's RemoteIpValve, Spring's server.forward-headers-strategy)
        ApiRequest request = new ApiRequest(
                req.getMethod(),
                query == null ? appPath : appPath + "?" + query,
                req::getHeader,
                body,
                req.getRemoteAddr());
        CompletableFuture<ApiResponse> answer;
        try {
            answer = api.handle(request);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        await(req, res, chain, answer.thenApply(r -> (Object) r), null);
    }

    /**
     * Sends {@code outcome} once it is ready: at once for an L1 hit, on this thread when it comes within
     * {@link #DECISION_WAIT}, else asynchronously, on the ASYNC dispatch that follows its completion.
     */
    private void await(
            HttpServletRequest req,
            HttpServletResponse res,
            FilterChain chain,
            CompletableFuture<Object> outcome,
            ServletHeaders headers)
            throws IOException, ServletException {
        boolean async = req.isAsyncSupported();
        if (!outcome.isDone() && async) {
            awaitAtMost(outcome, DECISION_WAIT);
        }
        if (!outcome.isDone() && headers != null) {
            // the engine may read them after this dispatch has returned, or after a timeout ended the request
            headers.detach();
        }
        if (!outcome.isDone() && !async) {
            // a servlet or filter in this chain that does not support async: wait on this thread
            awaitAtMost(outcome, waitLimit);
        }
        if (outcome.isDone()) {
            answer(req, res, chain, settled(outcome));
            return;
        }
        if (!async) {
            // the client has its 504; a forward decided later is reported ended (a failed outcome has none)
            var unused = outcome.thenAccept(RegenFilter::abandon);
            answer(req, res, chain, timedOut());
            return;
        }
        AsyncContext context = req.startAsync(req, res);
        context.setTimeout(waitLimit.toMillis());
        AtomicBoolean answered = new AtomicBoolean();
        context.addListener(new AsyncListener() {
            @Override
            public void onTimeout(AsyncEvent event) {
                resume(context, answered, timedOut());
            }

            @Override
            public void onError(AsyncEvent event) {
                // the client went away or the connection broke: nothing left to answer
                if (answered.compareAndSet(false, true)) {
                    completeQuietly(context);
                }
            }

            @Override
            public void onComplete(AsyncEvent event) {}

            @Override
            public void onStartAsync(AsyncEvent event) {}
        });
        // resume() handles what can fail there
        var unused = outcome.whenComplete(
                (value, error) -> resume(context, answered, error != null ? internalError(error) : value));
    }

    private static void awaitAtMost(CompletableFuture<Object> outcome, Duration limit) {
        try {
            outcome.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (TimeoutException | ExecutionException e) {
            // settled by the caller
        }
    }

    private static void resume(AsyncContext context, AtomicBoolean answered, Object outcome) {
        if (!answered.compareAndSet(false, true)) {
            abandon(outcome);
            return;
        }
        try {
            context.getRequest().setAttribute(OUTCOME, outcome);
            context.dispatch();
        } catch (IllegalStateException e) {
            // completed or timed out meanwhile
            log.debug("could not resume a waiting request: {}", e.toString());
            abandon(outcome);
        }
    }

    /** An answer no one will send: a forward must still be reported, or its render would never end. */
    private static void abandon(Object outcome) {
        if (outcome instanceof Reply.Forward f) {
            f.forwarding().failed(new IOException("the client's request ended before it was forwarded"));
        }
    }

    private static void completeQuietly(AsyncContext context) {
        try {
            context.complete();
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

    private void answer(HttpServletRequest req, HttpServletResponse res, FilterChain chain, Object outcome)
            throws IOException, ServletException {
        if (outcome instanceof ApiResponse a) {
            writeApi(req, res, a);
        } else if (outcome instanceof Reply.Page p) {
            write(req, res, ResponsePlan.page(p, req.getMethod(), new ServletHeaders(req)));
        } else if (outcome instanceof Reply.Rendered r) {
            write(req, res, ResponsePlan.rendered(r.response(), r.cacheStatus(), req.getHeader("Accept-Encoding")));
        } else if (outcome instanceof Reply.Forward f) {
            try {
                forward(req, res, chain, f.forwarding());
            } catch (IOException | ServletException | RuntimeException | Error e) {
                f.forwarding().failed(e); // reported at most once: a no-op if the render already ended
                throw e;
            }
        } else if (outcome instanceof Reply.Failure f) {
            writeFailure(req, res, f.status(), f.reason());
        }
    }

    // ------------------------------------------------------------------------------------ forwards

    /** The app answers the client's request: in place in its own dispatch, over loopback in an ASYNC one. */
    private void forward(HttpServletRequest req, HttpServletResponse res, FilterChain chain, Forwarding forwarding)
            throws IOException, ServletException {
        String host = publicHost(req);
        if (req.getDispatcherType() != DispatcherType.REQUEST) {
            relay(req, res, forwarding, host);
            return;
        }
        if (!forwarding.storable()) {
            // nothing of it is kept: the app answers this client as it would without Regen; the
            // fields of such a forward do not depend on the head
            Forwarding.Head head = forwarding.head(res.getStatus(), List.of());
            chain.doFilter(req, new StatusHeaders(res, head.status().name(), head.cacheStatus()));
            return;
        }
        RenderResponse render = new RenderResponse(
                res, forwarding, "HEAD".equals(req.getMethod()), req.getHeader("Accept-Encoding"), maxBodyBytes);
        AppRequest request = AppRequest.render(req, forwarding, host, scheme(req), cookies, render);
        req.setAttribute(RENDER, render);
        runRender(request, render, chain, req, render);
    }

    /**
     * Runs the rest of the chain into a render's response, and ends the render when the app is done:
     * when the chain returns, or, for an app that goes asynchronous, when it completes.
     */
    private static void runRender(
            ServletRequest request,
            ServletResponse response,
            FilterChain chain,
            HttpServletRequest raw,
            RenderResponse render)
            throws IOException, ServletException {
        try {
            chain.doFilter(request, response);
        } catch (IOException | ServletException | RuntimeException | Error e) {
            raw.removeAttribute(RENDER);
            render.failed(e);
            throw e;
        }
        if (raw.isAsyncStarted()) {
            try {
                raw.getAsyncContext().addListener(render);
                return;
            } catch (IllegalStateException completedMeanwhile) {
                // the app's complete() already ended the render
            }
        }
        raw.removeAttribute(RENDER);
        render.finish();
    }

    /**
     * A forward decided after the request went asynchronous: this dispatch is not one the app's
     * filters expect a page to be made in, so the app answers it over loopback, and its answer streams
     * to the client through a {@link RenderResponse} as a render in place would.
     */
    private void relay(HttpServletRequest req, HttpServletResponse res, Forwarding forwarding, String host) {
        AsyncContext context = req.startAsync(req, res);
        context.setTimeout(waitLimit.toMillis());
        RenderResponse render = new RenderResponse(
                res, forwarding, "HEAD".equals(req.getMethod()), req.getHeader("Accept-Encoding"), maxBodyBytes);
        AtomicReference<InputStream> body = new AtomicReference<>();
        context.addListener(new AsyncListener() {
            @Override
            public void onTimeout(AsyncEvent event) {
                render.failed(new TimeoutException("the answer did not arrive within " + waitLimit.toSeconds() + " s"));
                closeQuietly(body.get());
            }

            @Override
            public void onError(AsyncEvent event) {
                render.failed(event.getThrowable() != null ? event.getThrowable() : new IOException("the client left"));
                closeQuietly(body.get());
            }

            @Override
            public void onComplete(AsyncEvent event) {}

            @Override
            public void onStartAsync(AsyncEvent event) {}
        });
        CompletableFuture<HttpResponse<InputStream>> sent;
        try {
            sent = origin.open(
                    forwarding.method(),
                    forwarding.target(),
                    forwarding.headers(),
                    host,
                    scheme(req),
                    req.getRemoteAddr());
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        // the callback catches what fails and always completes the request
        var unused = sent.whenComplete((response, error) -> {
            try {
                if (error != null) {
                    OriginException e = OriginException.from(error);
                    forwarding.failed(e);
                    boolean timeout = e.kind() == OriginException.Kind.TIMEOUT;
                    writeFailure(
                            req,
                            res,
                            timeout ? 504 : 502,
                            timeout ? e.getMessage() : "the app could not be reached over loopback: " + e.getMessage());
                } else {
                    body.set(response.body());
                    render.relay(response.statusCode(), LoopbackOrigin.headersOf(response), response.body());
                }
            } catch (IOException | RuntimeException e) {
                // a broken exchange: the forwarding has heard it; the client gets what went out
                log.debug("relayed answer for {} ended early: {}", forwarding.target(), e.toString());
            } finally {
                closeQuietly(body.get());
                completeQuietly(context);
            }
        });
    }

    private static void closeQuietly(InputStream in) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                // dropped anyway
            }
        }
    }

    // ------------------------------------------------------------------------------------ writing

    /** Writes a plan: its status, fields and body (none for HEAD). */
    private static void write(HttpServletRequest req, HttpServletResponse res, ResponsePlan plan) throws IOException {
        res.setStatus(plan.status());
        copyHeaders(res, plan.fields());
        int length = plan.contentLength();
        if (length >= 0) {
            res.setContentLength(length);
        }
        if (length > 0 && !"HEAD".equals(req.getMethod())) {
            res.getOutputStream().write(plan.body(), plan.offset(), length);
        }
    }

    /** Regen's own error page. */
    private static void writeFailure(HttpServletRequest req, HttpServletResponse res, int status, String reason)
            throws IOException {
        write(req, res, ResponsePlan.error(status, reason));
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
    private static void copyHeaders(HttpServletResponse res, List<Header> headers) {
        Set<String> seen = new HashSet<>();
        for (Header h : headers) {
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
}
