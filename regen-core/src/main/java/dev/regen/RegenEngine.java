package dev.regen;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regen.cluster.Cluster;
import dev.regen.internal.BudgetSnapshot;
import dev.regen.internal.Cached;
import dev.regen.internal.CachedPage;
import dev.regen.internal.ClientRequest;
import dev.regen.internal.EntryInfo;
import dev.regen.internal.EntryList;
import dev.regen.internal.Forwarding;
import dev.regen.internal.Freshness;
import dev.regen.internal.Header;
import dev.regen.internal.Origin;
import dev.regen.internal.OriginException;
import dev.regen.internal.OriginRequest;
import dev.regen.internal.OriginResponse;
import dev.regen.internal.Replay;
import dev.regen.internal.Reply;
import dev.regen.internal.VaryMarker;
import dev.regen.internal.http.CacheHeaders;
import dev.regen.internal.http.ContentCoding;
import dev.regen.internal.http.HttpFields;
import dev.regen.internal.http.RequestTarget;
import dev.regen.internal.http.Vary;
import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import dev.regen.store.StoreException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ISR engine: decides for each request whether to serve a cached page, serve it stale while one
 * background render refreshes it, forward it to the origin as the one render every other request for
 * that page waits on, or forward it on its own (not cacheable, credentials, hit-for-pass).
 *
 * <p>A render is the client's own request (minus hop-by-hop, forwarding, conditional and range
 * fields): the edge sends it and streams the answer to that client while the engine decides, from the
 * response head, whether to keep a copy. Background renders replay the stored variant's request.
 *
 * <p>Thread-safe. {@link #serve} never blocks the calling thread: an L1 hit completes at once, anything
 * else continues on the engine's own executors. Renders per key are single-flight; background renders
 * run on a bounded pool so a spike of stale pages can't stampede the origin.
 */
public final class RegenEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegenEngine.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);
    private static final int MAX_RECENT_ERRORS = 50;
    /** A waiter whose render ended without an answer for it starts again at most this often. */
    private static final int MAX_ATTEMPTS = 3;

    static final String BYPASS_HEADER = "x-regen-bypass";
    static final String BYPASS_COOKIE = "regen_bypass";
    static final String PRIORITY_HEADER = "x-regen-priority";
    private static final String BACKGROUND_USER_AGENT = "Regen (background render)";

    private final RegenConfig config;
    private final Origin origin;
    private final PageStore pages;
    private final InstantSource clock;
    private final StoragePolicy policy;
    /** Where blocking work runs: store I/O, settling renders, background renders. */
    private final Executor storeExecutor;
    /** The engine's own pool, shut down with it; null when the embedder gave the executor. */
    private final ExecutorService ownPool;

    private final RenderBudget budget;
    /** Keys another node holds the render lock of: no background render is tried here meanwhile. */
    private final Cache<String, Boolean> renderingElsewhere;

    private final ConcurrentHashMap<String, CompletableFuture<RenderResult>> inFlight = new ConcurrentHashMap<>();
    private final Cache<String, Backoff> failures =
            Caffeine.newBuilder().maximumSize(100_000).build();
    /** URLs whose last answer could not be stored: their requests go to the origin on their own. */
    private final Cache<String, String> hitForPass;

    private final Stats stats = new Stats();
    /** Parsed request targets: canonicalising and matching routes once per distinct target, not per request. */
    private final Cache<String, Target> targets =
            Caffeine.newBuilder().maximumSize(10_000).executor(Runnable::run).build();

    private final EngineListener listener;
    private final ArrayDeque<RenderError> recentErrors = new ArrayDeque<>();
    private final Cluster cluster;
    private final Duration lockTtl;
    /** Foreground waits on another node's render, woken by that node's change message. */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> remoteChanges = new ConcurrentHashMap<>();
    /**
     * Keys invalidated while a render of theirs was in flight: that render's result is stored stale. Keyed
     * by the flight's identity (CompletableFuture keeps Object's equals), so a later flight of the same key
     * is not marked.
     */
    private final ConcurrentHashMap<CompletableFuture<RenderResult>, Boolean> invalidatedWhileRendering =
            new ConcurrentHashMap<>();

    private final Duration waitLimit;
    private final byte[] bypassTokenBytes;

    private record Backoff(int attempts, Instant notBefore) {}

    RegenEngine(Regen b, Origin origin) {
        this.config = b.config();
        this.origin = origin;
        this.clock = b.clock();
        this.pages = new PageStore(b.store(), b.memoryBytes(), clock);
        this.policy = new StoragePolicy(config);
        this.ownPool = b.executor() != null
                ? null
                : pool("regen-io", Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
        this.storeExecutor = b.executor() != null ? b.executor() : ownPool;
        this.budget = new RenderBudget(
                config.renderBudget(),
                config.backgroundQueue(),
                config.renderTimeout(),
                this::runOnStore,
                System::nanoTime);
        this.waitLimit = config.renderTimeout().plusSeconds(2);
        // the longest a render holds its lock; a cluster keeps it as a short lease renewed meanwhile,
        // so the lock of a node that dies mid-render lapses within seconds
        this.lockTtl = config.renderTimeout().plusSeconds(5);
        this.hitForPass = Caffeine.newBuilder()
                .maximumSize(100_000)
                .expireAfterWrite(config.hitForPass())
                .ticker(() -> clock.instant().toEpochMilli() * 1_000_000L)
                .executor(Runnable::run)
                .build();
        this.renderingElsewhere = Caffeine.newBuilder()
                .maximumSize(100_000)
                .expireAfterWrite(Duration.ofSeconds(Math.min(5, lockTtl.toSeconds())))
                .ticker(() -> clock.instant().toEpochMilli() * 1_000_000L)
                .executor(Runnable::run)
                .build();
        this.cluster = b.cluster();
        this.listener = b.listener();
        cluster.subscribe(new Cluster.Listener() {
            @Override
            public void changed(Collection<String> keys) {
                for (String key : keys) {
                    if (pages.evictLocal(key)) {
                        stats.clusterDrops.increment();
                    }
                    changedElsewhere(key);
                }
            }

            @Override
            public void refreshed(Collection<Cluster.Refresh> refreshes) {
                for (Cluster.Refresh r : refreshes) {
                    // the same bytes rendered again: the copy here stays, with the new render time
                    if (pages.peekLocal(r.key()) instanceof CachedPage p
                            && p.etag().equals(r.etag())
                            && r.renderedAt().isAfter(p.renderedAt())) {
                        pages.putLocal(r.key(), p.renderedAgain(r.renderedAt()));
                        stats.clusterRefreshes.increment();
                    } else if (pages.evictLocal(r.key())) {
                        stats.clusterDrops.increment();
                    }
                    changedElsewhere(r.key());
                }
            }

            @Override
            public void revalidated(Collection<String> paths, Collection<String> tags) {
                runOnStore(() -> revalidatedElsewhere(paths, tags));
            }

            @Override
            public void missedChanges() {
                pages.evictAllLocal();
                log.info("dropped every page held in memory: changes from other nodes may have been missed");
            }
        });
        this.bypassTokenBytes =
                config.bypassToken() == null ? null : config.bypassToken().getBytes(StandardCharsets.UTF_8);
    }

    /** Another node stored, refreshed or dropped {@code key}: whoever waits on its render looks again. */
    private void changedElsewhere(String key) {
        renderingElsewhere.invalidate(key);
        CompletableFuture<Void> waiting = remoteChanges.remove(key);
        if (waiting != null) {
            waiting.complete(null);
        }
    }

    public RegenConfig config() {
        return config;
    }

    public Stats stats() {
        return stats;
    }

    /** The clock the engine reads (one read per request). */
    public InstantSource clock() {
        return clock;
    }

    /** Decides what to send for one request. Never completes exceptionally. */
    public CompletableFuture<Reply> serve(ClientRequest request) {
        return serve(request, 0);
    }

    private CompletableFuture<Reply> serve(ClientRequest request, int attempt) {
        String method = request.method();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            return done(pass(request, CacheStatus.BYPASS, "method", null));
        }
        Target t;
        try {
            t = targets.get(request.target(), this::target);
        } catch (RequestTarget.InvalidTargetException e) {
            if (e.refused()) {
                return done(new Reply.Failure(400, e.getMessage()));
            }
            // not one canonical page (an encoded slash, a stray %): the origin's to judge, never cached
            return done(pass(request, CacheStatus.BYPASS, "bypass", "uncanonical target"));
        }
        if (t.uncachedRoute() || bypasses(request) || request.hasBody()) {
            return done(pass(request, CacheStatus.BYPASS, "bypass", null));
        }
        Lookup l = new Lookup(
                request, t, Keys.url(t.target().pathAndQuery(), request.host()), credentialed(request), attempt);
        Cached local = pages.getLocal(l.urlKey());
        if (local != null) {
            return resolve(l, local, false);
        }
        try {
            return CompletableFuture.supplyAsync(() -> pages.get(l.urlKey()), storeExecutor)
                    .thenCompose(cached -> resolve(l, cached, true));
        } catch (RejectedExecutionException e) {
            return done(new Reply.Failure(503, "Regen is shutting down"));
        }
    }

    /** One request on its way through the decision. */
    private record Lookup(ClientRequest request, Target target, String urlKey, boolean credentialed, int attempt) {
        String path() {
            return target.target().path();
        }
    }

    /** What the hot path needs of a raw request target, computed once per distinct target. */
    private record Target(RequestTarget target, boolean uncachedRoute) {}

    private Target target(String raw) {
        RequestTarget target = RequestTarget.parse(raw, config.query(), config.unkeyedParams());
        RouteRule route = config.routeFor(target.path());
        return new Target(target, route != null && !route.cache());
    }

    /** Finds the page for the request's variant, when the URL's pages vary. */
    private CompletableFuture<Reply> resolve(Lookup l, Cached cached, boolean loaded) {
        if (!(cached instanceof VaryMarker marker)) {
            return respond(l, l.urlKey(), (CachedPage) cached, null, loaded);
        }
        String key = Keys.variant(l.urlKey(), variantId(marker.names(), l.request()));
        Cached local = pages.getLocal(key);
        if (local != null) {
            return respond(l, key, local instanceof CachedPage p ? p : null, marker, false);
        }
        return CompletableFuture.supplyAsync(() -> pages.get(key), storeExecutor)
                .thenCompose(c -> respond(l, key, c instanceof CachedPage p ? p : null, marker, true));
    }

    private String variantId(List<String> names, ClientRequest request) {
        return Vary.id(names, config.unkeyedVary(), request.headers()::getAll, config.cookies());
    }

    private CompletableFuture<Reply> respond(Lookup l, String key, CachedPage page, VaryMarker marker, boolean loaded) {
        Instant now = clock.instant();
        if (page != null && marker == null && !page.varyNames().isEmpty()) {
            page = null; // stored before its URL was known to vary: not selectable
        }
        Decision d = Decision.of(
                now,
                page,
                marker != null,
                l.credentialed(),
                () -> l.request().header("range") != null,
                () -> hitForPass.getIfPresent(l.urlKey()),
                config.refreshAhead());
        if (d instanceof Decision.Fresh fresh) {
            stats.hits.increment();
            listener.served(CacheStatus.HIT);
            if (fresh.refreshAhead()) {
                refreshInBackground(l.request().host(), key, page, now, Background.AHEAD);
            }
            return done(new Reply.Page(page, CacheStatus.HIT, now, false, loaded));
        }
        if (d instanceof Decision.Stale) {
            stats.staleHits.increment();
            listener.served(CacheStatus.STALE);
            refreshInBackground(l.request().host(), key, page, now, Background.STALE);
            return done(new Reply.Page(page, CacheStatus.STALE, now, false, loaded));
        }
        if (d instanceof Decision.Alone alone) {
            stats.bypasses.increment();
            listener.served(CacheStatus.BYPASS);
            return done(render(l, key, page, null, null, CacheStatus.BYPASS, "bypass", alone.why(), null));
        }
        stats.misses.increment();
        listener.served(CacheStatus.MISS);
        if (d instanceof Decision.Range range) {
            return done(pass(l.request(), CacheStatus.MISS, range.fwd(), "range"));
        }
        return lead(l, key, page, ((Decision.Render) d).fwd());
    }

    /** Joins the render of {@code key} under way as a waiter, or starts it as its leader. */
    private CompletableFuture<Reply> lead(Lookup l, String key, CachedPage previous, String fwd) {
        CompletableFuture<RenderResult> mine = new CompletableFuture<>();
        CompletableFuture<RenderResult> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            return running.copy()
                    .completeOnTimeout(new RenderResult.Late(), waitLimit.toMillis(), TimeUnit.MILLISECONDS)
                    .thenCompose(r -> forWaiter(l, r));
        }
        // The request looked the page up before the previous flight stored it and left the map:
        // what that flight stored is the answer, not a second render.
        Cached current = pages.getLocal(key);
        if (current instanceof CachedPage p
                && !sameCopy(p, previous)
                && p.freshness(clock.instant()) != Freshness.EXPIRED
                && matches(p, l.request())) {
            finish(key, mine, new RenderResult.Stored(p));
            return done(new Reply.Page(p, CacheStatus.MISS, clock.instant(), true));
        }
        if (cluster == Cluster.LOCAL) {
            return budgeted(l, key, previous, null, mine, fwd);
        }
        return CompletableFuture.supplyAsync(() -> lock(key), storeExecutor).thenCompose(lock -> {
            if (lock != null) {
                CachedPage done = renderedElsewhere(key, previous);
                if (done != null) {
                    cluster.unlock(lock);
                    finish(key, mine, new RenderResult.Stored(done));
                    return done(new Reply.Page(done, CacheStatus.MISS, clock.instant(), true));
                }
                return budgeted(l, key, previous, lock, mine, fwd);
            }
            return awaitOtherNode(l, key, previous, fwd, clock.instant().plus(config.lockWait()), 0, mine);
        });
    }

    /** What a request that waited on another request's render gets. */
    private CompletableFuture<Reply> forWaiter(Lookup l, RenderResult r) {
        if (r instanceof RenderResult.Stored s && matches(s.page(), l.request())) {
            return done(new Reply.Page(s.page(), CacheStatus.MISS, clock.instant(), true));
        }
        if (r instanceof RenderResult.Uncached u
                && u.shareable()
                && u.response() != null
                && u.variant()
                        .equals(variantId(Vary.names(HttpFields.all(u.response().headers(), "vary")), l.request()))) {
            return done(
                    new Reply.Rendered(u.response(), CacheHeaders.forForward("uri-miss", false, null) + "; collapsed"));
        }
        if (r instanceof RenderResult.Failed f) {
            return done(new Reply.Failure(f.kind() == OriginException.Kind.TIMEOUT ? 504 : 502, f.message()));
        }
        if (r instanceof RenderResult.Late || l.attempt() + 1 >= MAX_ATTEMPTS) {
            // the render is still streaming, or kept ending without an answer for this request: this
            // request asks the origin on its own
            return done(render(l, Keys.url(l.urlKey()), null, null, null, CacheStatus.MISS, "uri-miss", null, null));
        }
        // another variant, a response meant for one client, or a render given up: look again
        return serve(l.request(), l.attempt() + 1);
    }

    /** Whether {@code page} is the variant {@code request} selects. */
    private boolean matches(CachedPage page, ClientRequest request) {
        List<String> names = page.varyNames();
        if (names.isEmpty()) {
            return true;
        }
        return variantId(names, request)
                .equals(Vary.id(
                        names,
                        config.unkeyedVary(),
                        name -> HttpFields.all(page.replay().headers(), name),
                        config.cookies()));
    }

    private static CompletableFuture<Reply> done(Reply r) {
        return CompletableFuture.completedFuture(r);
    }

    // ------------------------------------------------------------------------------------ forwards

    private Reply pass(ClientRequest request, CacheStatus status, String fwd, String detail) {
        if (status == CacheStatus.BYPASS) {
            stats.bypasses.increment();
            listener.served(CacheStatus.BYPASS);
        }
        List<Header> headers = HttpFields.forwardable(request.headers().all(), false, config.cookies(), false);
        return new Reply.Forward(Forwarding.pass(
                request.method(),
                RequestTarget.originForm(request.target()),
                headers,
                status,
                CacheHeaders.forForward(fwd, status == CacheStatus.BYPASS ? null : false, detail)));
    }

    /**
     * The client's request as a render: its answer streams to the client and is stored when the
     * storage rules allow. {@code flight} is null for a render no other request waits on.
     */
    private Reply render(
            Lookup l,
            String key,
            CachedPage previous,
            Cluster.RenderLock lock,
            CompletableFuture<RenderResult> flight,
            CacheStatus status,
            String fwd,
            String detail,
            RenderBudget.Permit permit) {
        List<Header> headers = HttpFields.forwardable(l.request().headers().all(), true, config.cookies(), false);
        String target = l.target().target().forwardTarget();
        Render render = new Render(
                l.urlKey(),
                key,
                l.path(),
                l.request().scheme(),
                target,
                headers,
                previous,
                l.credentialed(),
                lock,
                flight,
                status,
                fwd,
                detail,
                permit);
        return new Reply.Forward(Forwarding.render(target, headers, render));
    }

    /**
     * A miss's render once the render budget has a slot for it. Warming ({@code X-Regen-Priority:
     * background}) waits behind visitors like the engine's own background work.
     */
    private CompletableFuture<Reply> budgeted(
            Lookup l,
            String key,
            CachedPage previous,
            Cluster.RenderLock lock,
            CompletableFuture<RenderResult> flight,
            String fwd) {
        CompletableFuture<RenderBudget.Permit> slot;
        if ("background".equalsIgnoreCase(l.request().header(PRIORITY_HEADER))) {
            CompletableFuture<RenderBudget.Permit> queued = new CompletableFuture<>();
            slot = budget.background(queued::complete) ? queued : budget.visitor();
        } else {
            slot = budget.visitor();
        }
        return slot.thenApply(permit -> render(l, key, previous, lock, flight, CacheStatus.MISS, fwd, null, permit));
    }

    /**
     * One render: the engine's side of a forward whose answer may be stored, or of a background
     * render. Decides at the head, settles on the engine's threads once the body is there, and ends
     * the flight and the cluster lock exactly once.
     */
    private final class Render implements Forwarding.Settler {
        private final String urlKey;
        private final String key;
        private final String path;
        private final String scheme;
        private final String target;
        private final List<Header> sent;
        private final CachedPage previous;
        private final boolean credentialed;
        private final Cluster.RenderLock lock;
        private final CompletableFuture<RenderResult> flight;
        private final CacheStatus status;
        private final String fwd;
        private final String detail;
        /** This render's slot of the budget, or null when it takes none (credentials, hit-for-pass). */
        private final RenderBudget.Permit permit;

        private final long started = System.nanoTime();
        private volatile long headNanos = -1;
        /** Rendered after the lock-wait ran out, without the cluster lock: another node may store first. */
        private final boolean unlocked;

        private final CompletableFuture<Void> settled = new CompletableFuture<>();
        /** Completes once what the render stored can be served (by every node), or the render ended otherwise. */
        private final CompletableFuture<Void> visible = new CompletableFuture<>();

        private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile int responseStatus;
        private volatile List<Header> responseHeaders;
        private volatile StoragePolicy.Verdict verdict;

        Render(
                String urlKey,
                String key,
                String path,
                String scheme,
                String target,
                List<Header> sent,
                CachedPage previous,
                boolean credentialed,
                Cluster.RenderLock lock,
                CompletableFuture<RenderResult> flight,
                CacheStatus status,
                String fwd,
                String detail,
                RenderBudget.Permit permit) {
            this.urlKey = urlKey;
            this.key = key;
            this.path = path;
            this.scheme = scheme;
            this.target = target;
            this.sent = sent;
            this.previous = previous;
            this.credentialed = credentialed;
            this.lock = lock;
            this.flight = flight;
            this.status = status;
            this.fwd = fwd;
            this.detail = detail;
            this.permit = permit;
            this.unlocked = lock == null && flight != null && cluster != Cluster.LOCAL;
            stats.renders.increment();
        }

        @Override
        public Forwarding.Head head(int responseStatus, List<Header> headers) {
            this.headNanos = System.nanoTime() - started;
            this.responseStatus = responseStatus;
            this.responseHeaders = List.copyOf(headers);
            StoragePolicy.Verdict v = policy.evaluate(path, responseStatus, headers, credentialed, clock.instant());
            this.verdict = v;
            if (v instanceof StoragePolicy.Verdict.Store) {
                // kept in memory all the same; the store is retried with each page and heals by itself
                String fault = pages.writeFault();
                String field = fault == null
                        ? CacheHeaders.forForward(fwd, true, detail)
                        : CacheHeaders.forForward(fwd, false, "memory only, the store fails: " + fault);
                return new Forwarding.Head(status, field, true, config.maxBodyBytes());
            }
            StoragePolicy.Verdict.Skip skip = (StoragePolicy.Verdict.Skip) v;
            String why = detail != null ? detail : skip.reason();
            // a response other waiters may share is kept for them; one meant for this client alone is not
            boolean keep = flight != null && skip.shareable();
            if (!keep) {
                runOnStore(() -> notStored(skip, null));
            }
            return new Forwarding.Head(status, CacheHeaders.forForward(fwd, false, why), keep, config.maxBodyBytes());
        }

        @Override
        public CompletableFuture<Void> complete(byte[] body) {
            originDone(responseStatus >= 500);
            runOnStore(() -> {
                StoragePolicy.Verdict v = verdict;
                if (v instanceof StoragePolicy.Verdict.Store store) {
                    store(store, body);
                } else if (v instanceof StoragePolicy.Verdict.Skip skip) {
                    notStored(skip, new OriginResponse(responseStatus, responseHeaders, body));
                } else {
                    end(new RenderResult.Abandoned(), EngineListener.RenderOutcome.ERROR);
                }
            });
            return visible;
        }

        @Override
        public void tooLarge() {
            originDone(false);
            runOnStore(() -> notStored(
                    new StoragePolicy.Verdict.Skip(
                            "body over the limit of " + config.maxBodyBytes() + " bytes", false, true),
                    null));
        }

        @Override
        public void failed(Throwable cause, boolean beforeHead) {
            Throwable why = unwrap(cause);
            originDone(beforeHead && (why instanceof OriginException || why instanceof TimeoutException));
            runOnStore(() -> {
                Throwable c = unwrap(cause);
                if (beforeHead && (c instanceof OriginException || c instanceof TimeoutException)) {
                    OriginException.Kind kind =
                            c instanceof TimeoutException ? OriginException.Kind.TIMEOUT : ((OriginException) c).kind();
                    String message = kind == OriginException.Kind.TIMEOUT
                            ? "the origin did not answer within " + seconds(config.renderTimeout())
                            : "the origin could not be reached: " + describe(c);
                    renderFailed(key, clock.instant(), previous, message);
                    end(
                            new RenderResult.Failed(kind, message),
                            kind == OriginException.Kind.TIMEOUT
                                    ? EngineListener.RenderOutcome.TIMEOUT
                                    : EngineListener.RenderOutcome.ERROR);
                } else {
                    // the client left, or the exchange broke mid-way: nothing to learn about the page
                    log.debug("render of {} ended early: {}", key, describe(c));
                    end(new RenderResult.Abandoned(), EngineListener.RenderOutcome.ERROR);
                }
            });
        }

        private void store(StoragePolicy.Verdict.Store store, byte[] raw) {
            String coding = ContentCoding.of(HttpFields.first(responseHeaders, "content-encoding"));
            byte[] body;
            try {
                body = ContentCoding.decode(coding, raw, config.maxBodyBytes());
            } catch (IOException e) {
                notStored(
                        new StoragePolicy.Verdict.Skip(
                                "body could not be decoded (" + e.getMessage() + ")", false, true),
                        null);
                return;
            }
            List<Header> headers = coding.equals("identity") ? responseHeaders : decodedHeaders(responseHeaders);
            byte[] gzip = coding.equals("gzip") || coding.equals("x-gzip") ? raw : null;
            keep(store, headers, body, gzip);
        }

        /**
         * The origin answered 304 to a background render's validators (RFC 9110 §13.1): the stored page
         * is still the page; the 304's fields update its stored ones (RFC 9111 §4.3.4) and it is kept
         * afresh without a body transfer.
         */
        void notModified(List<Header> fresh) {
            this.headNanos = System.nanoTime() - started;
            originDone(false);
            List<Header> headers = updatedBy304(previous, fresh);
            this.responseStatus = previous.status();
            this.responseHeaders = headers;
            StoragePolicy.Verdict v = policy.evaluate(path, previous.status(), headers, credentialed, clock.instant());
            this.verdict = v;
            stats.notModified.increment();
            runOnStore(() -> {
                if (v instanceof StoragePolicy.Verdict.Store store) {
                    keep(store, headers, previous.body(), previous.gzipBody());
                } else {
                    notStored((StoragePolicy.Verdict.Skip) v, null);
                }
            });
        }

        /** Stores a whole, decoded page; one with the bytes of the page it replaces only moves its freshness. */
        private void keep(StoragePolicy.Verdict.Store store, List<Header> headers, byte[] body, byte[] gzip) {
            List<String> names = Vary.names(HttpFields.all(headers, "vary"));
            Replay replay = new Replay(target, scheme, replayed(names));
            boolean sameBody = previous != null
                    && previous.status() == responseStatus
                    && java.util.Arrays.equals(previous.body(), body);
            // the same bytes: the stored arrays and gzip variant serve on, nothing is compressed again
            CachedPage page = sameBody
                    ? policy.page(store, responseStatus, headers, previous.body(), previous.gzipBody(), true, replay)
                    : policy.page(store, responseStatus, headers, body, gzip, replay);
            String storeKey = urlKey;
            if (!names.isEmpty()) {
                storeKey = Keys.variant(
                        urlKey,
                        Vary.id(
                                names,
                                config.unkeyedVary(),
                                name -> HttpFields.all(replay.headers(), name),
                                config.cookies()));
                Cached atUrl = pages.get(urlKey);
                if (!(atUrl instanceof VaryMarker m) || !m.names().equals(names)) {
                    pages.putMarker(urlKey, new VaryMarker(names));
                    announce(cluster.publish(List.of(urlKey)));
                }
                if (pages.get(storeKey) == null
                        && pages.variants(urlKey, config.maxVariants()) >= config.maxVariants()) {
                    notStored(
                            new StoragePolicy.Verdict.Skip(
                                    "more than " + config.maxVariants() + " variants of this URL", false, false),
                            null);
                    return;
                }
            }
            CachedPage replaced = storeKey.equals(key) ? previous : null;
            // both checked: each clears its mark
            @SuppressWarnings("CollectionUndefinedEquality") // keyed by the flight itself: see the field
            Boolean here = flight == null ? null : invalidatedWhileRendering.remove(flight);
            boolean elsewhere = lock != null && cluster.takeInvalidated(lock);
            if (Boolean.TRUE.equals(here)) {
                // hard-purged mid-render: this result may predate the purge, and a newer flight renders
                failures.invalidate(key);
                end(new RenderResult.Uncached(null, false, ""), EngineListener.RenderOutcome.OK);
                return;
            }
            if (here != null || elsewhere) {
                // this render may have read the content from before the invalidation: store it stale
                page = page.markInvalidated();
            }
            if (unlocked
                    && storeKey.equals(key)
                    && pages.getShared(key) instanceof CachedPage newer
                    && !sameCopy(newer, previous)
                    && (previous == null || newer.renderedAt().isAfter(previous.renderedAt()))) {
                // the node that held the lock stored its page while this one rendered: that one stays
                end(new RenderResult.Stored(newer), EngineListener.RenderOutcome.OK);
                return;
            }
            failures.invalidate(key);
            hitForPass.invalidate(urlKey);
            // waiters are answered from memory at once; the store write and the other nodes follow
            pages.putLocal(storeKey, page);
            if (flight != null) {
                finish(key, flight, new RenderResult.Stored(page));
            }
            boolean unchanged = sameBody && replaced != null;
            if (unchanged) {
                stats.unchanged.increment();
            }
            boolean stored =
                    unchanged ? pages.putUnchanged(storeKey, page, replaced) : pages.put(storeKey, page, replaced);
            // other nodes hear of it before this client has the whole page: a request of the same client
            // to another node then finds it in the store, and no late message drops a copy loaded since
            if (!stored) {
                // not in the store, so not for them to read: dropping their copy would only make each node
                // render it in turn, and with the store down each render would drop the others' copies again
                listener.storeWriteFailed();
            } else if (unchanged && !page.invalidated() && page.sameRenderAs(replaced)) {
                announce(cluster.publishRefreshed(
                        List.of(new Cluster.Refresh(storeKey, page.etag(), page.renderedAt()))));
            } else {
                announce(cluster.publish(List.of(storeKey)));
            }
            end(new RenderResult.Stored(page), EngineListener.RenderOutcome.OK);
        }

        /**
         * The request fields a background render sends again, as they were sent: those the variant is keyed
         * on, and those a preset says the origin needs to reproduce it (e.g. Next.js checks its cache-busting
         * parameter against {@code Next-Url}, which its {@code Vary} does not name).
         */
        private List<Header> replayed(List<String> names) {
            List<Header> out = new ArrayList<>(names.size());
            for (Header h : sent) {
                String n = h.name().toLowerCase(java.util.Locale.ROOT);
                if (names.contains(n) || config.unkeyedVary().contains(n)) {
                    out.add(h);
                }
            }
            return out;
        }

        private void notStored(StoragePolicy.Verdict.Skip skip, OriginResponse kept) {
            Instant now = clock.instant();
            if (skip.keepOld()) {
                renderFailed(key, now, previous, skip.reason());
            } else {
                failures.invalidate(key);
                if (!credentialed) {
                    // an answer meant for one client, or too big: later requests go to the origin on their own
                    hitForPass.put(urlKey, skip.reason());
                    if (previous != null) {
                        // the origin no longer serves a cacheable page here (now private, ...)
                        pages.delete(key, previous);
                        announce(cluster.publish(List.of(key)));
                        log.info("removed {}: {}", key, skip.reason());
                    }
                }
            }
            String variant = kept == null
                    ? ""
                    : Vary.id(
                            Vary.names(HttpFields.all(kept.headers(), "vary")),
                            config.unkeyedVary(),
                            name -> HttpFields.all(sent, name),
                            config.cookies());
            int s = kept != null ? kept.status() : responseStatus;
            end(
                    new RenderResult.Uncached(kept, skip.shareable() && kept != null, variant),
                    s == 404 || s == 410
                            ? EngineListener.RenderOutcome.NOT_FOUND
                            : s >= 500 ? EngineListener.RenderOutcome.ERROR : EngineListener.RenderOutcome.UNCACHEABLE);
        }

        @Override
        public CompletableFuture<Void> settled() {
            return settled;
        }

        /**
         * The origin has answered in full (or failed): the budget slot goes to the next render now, not
         * after the store write.
         */
        private void originDone(boolean failed) {
            if (permit != null) {
                permit.release(failed ? -1 : headNanos, failed);
            }
        }

        private void end(RenderResult result, EngineListener.RenderOutcome outcome) {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            if (flight != null && !flight.isDone()) {
                finish(key, flight, result);
            }
            if (lock != null) {
                cluster.unlock(lock);
            }
            if (permit != null) {
                permit.release(
                        headNanos,
                        outcome == EngineListener.RenderOutcome.TIMEOUT
                                || (outcome == EngineListener.RenderOutcome.ERROR
                                        && (headNanos < 0 || responseStatus >= 500)));
            }
            listener.rendered(outcome, Duration.ofNanos(System.nanoTime() - started));
            visible.complete(null);
            settled.complete(null);
        }
    }

    /**
     * The stored fields of {@code page} updated by those of a 304 (RFC 9111 §3.2), with what the storage
     * rules read but the page keeps apart: the 304's Date and Age, the ETag and the tags.
     */
    private static List<Header> updatedBy304(CachedPage page, List<Header> fresh) {
        List<Header> updates = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (Header h : HttpFields.replayable(fresh)) {
            if (!h.is("content-encoding") && !h.is("content-length") && !h.is("content-range")) {
                updates.add(h);
                names.add(h.name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        List<Header> out = new ArrayList<>();
        for (Header h : page.headers()) {
            if (!names.contains(h.name().toLowerCase(java.util.Locale.ROOT))) {
                out.add(h);
            }
        }
        out.addAll(updates);
        for (Header h : fresh) {
            if (h.is("date") || h.is("age") || h.is("cache-tag") || h.is("surrogate-key")) {
                out.add(h);
            }
        }
        String etag = HttpFields.first(fresh, "etag");
        out.add(new Header("ETag", etag != null ? etag : page.etag()));
        if (!HttpFields.has(fresh, "cache-tag")
                && !HttpFields.has(fresh, "surrogate-key")
                && !page.tags().isEmpty()) {
            out.add(new Header("Cache-Tag", String.join(",", page.tags())));
        }
        return out;
    }

    /** The page's ETag when the origin gave it (sent back as a validator), null when Regen made it. */
    private static String originEtag(CachedPage page) {
        return page.etag().equals(StoragePolicy.strongEtag(page.body())) ? null : page.etag();
    }

    /** The fields of a response whose body was decoded: without its coding and length. */
    private static List<Header> decodedHeaders(List<Header> headers) {
        List<Header> out = new ArrayList<>(headers.size());
        for (Header h : headers) {
            if (!h.is("content-encoding") && !h.is("content-length")) {
                out.add(h);
            }
        }
        return out;
    }

    private void runOnStore(Runnable task) {
        try {
            storeExecutor.execute(task);
        } catch (RejectedExecutionException e) {
            log.debug("engine closed; render result dropped");
        }
    }

    // ------------------------------------------------------------------------------ background renders

    /** Why a background render runs. */
    private enum Background {
        STALE,
        AHEAD,
        EAGER
    }

    /**
     * Re-renders {@code page} in the background, once (single-flight, with the failure backoff), as the
     * render budget allows. Returns whether a render was started or queued.
     */
    private boolean refreshInBackground(String host, String key, CachedPage page, Instant now, Background why) {
        if (inFlight.containsKey(key) || renderingElsewhere.getIfPresent(key) != null) {
            return false;
        }
        Backoff backoff = failures.getIfPresent(key);
        if (backoff != null && now.isBefore(backoff.notBefore())) {
            return false;
        }
        CompletableFuture<RenderResult> mine = new CompletableFuture<>();
        if (inFlight.putIfAbsent(key, mine) != null) {
            return false;
        }
        // the request read the page before the previous render stored its successor and left the map
        Cached current = pages.peekLocal(key);
        if (current instanceof CachedPage p
                && !sameCopy(p, page)
                && p.freshness(now) == Freshness.FRESH
                && p.renderedAt().isAfter(page.renderedAt())) {
            finish(key, mine, new RenderResult.Stored(p));
            return false;
        }
        if (!budget.background(permit -> renderInBackground(host, key, page, mine, permit))) {
            stats.backgroundSkipped.increment();
            finish(key, mine, new RenderResult.Skipped());
            return false;
        }
        switch (why) {
            case AHEAD -> stats.refreshAhead.increment();
            case EAGER -> stats.eager.increment();
            case STALE -> {}
        }
        return true;
    }

    /** On an engine thread, with a slot of the budget: the render, sent conditionally when the page has validators. */
    private void renderInBackground(
            String host,
            String key,
            CachedPage page,
            CompletableFuture<RenderResult> flight,
            RenderBudget.Permit permit) {
        Cluster.RenderLock lock = lock(key);
        if (lock == null) {
            // another node renders it; its change message brings the new page here
            renderingElsewhere.put(key, Boolean.TRUE);
            permit.release(-1, false);
            finish(key, flight, new RenderResult.Skipped());
            return;
        }
        CachedPage done = renderedElsewhere(key, page);
        if (done != null) {
            cluster.unlock(lock);
            permit.release(-1, false);
            finish(key, flight, new RenderResult.Stored(done));
            return;
        }
        Replay replay = page.replay();
        List<Header> headers = new ArrayList<>(replay.headers());
        headers.add(new Header("Accept-Encoding", ContentCoding.RENDER_ACCEPT_ENCODING));
        if (!HttpFields.has(headers, "user-agent")) {
            headers.add(new Header("User-Agent", BACKGROUND_USER_AGENT));
        }
        boolean credentialed =
                HttpFields.has(headers, "authorization") || config.cookies().anyKept(HttpFields.all(headers, "cookie"));
        // only the origin's own validators (RFC 9110 §13.1): a 304 then spares the body
        String etag = originEtag(page);
        String lastModified = HttpFields.first(page.headers(), "last-modified");
        if (etag != null) {
            headers.add(new Header("If-None-Match", etag));
        }
        if (lastModified != null) {
            headers.add(new Header("If-Modified-Since", lastModified));
        }
        boolean conditional = etag != null || lastModified != null;
        Render render = new Render(
                Keys.url(key),
                key,
                replay.target().split("\\?", 2)[0],
                replay.scheme(),
                replay.target(),
                headers,
                page,
                credentialed,
                lock,
                flight,
                CacheStatus.STALE,
                "stale",
                null,
                permit);
        CompletableFuture<OriginResponse> response;
        try {
            response = origin.fetch(
                    new OriginRequest("GET", replay.target(), host, replay.scheme(), headers, config.maxBodyBytes()));
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        response.orTimeout(config.renderTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .handle((r, e) -> {
                    if (e != null) {
                        render.failed(e, true);
                        return null;
                    }
                    if (r.status() == 304 && conditional) {
                        render.notModified(r.headers());
                        return null;
                    }
                    Forwarding.Head head = render.head(r.status(), r.headers());
                    if (!head.buffer()) {
                        return null;
                    }
                    if (r.overflowed()) {
                        render.tooLarge();
                    } else {
                        // no client holds its response back until the page is visible
                        CompletableFuture<Void> unused = render.complete(r.body());
                    }
                    return null;
                })
                // the origin's failures are handled above; this is a fault in handling the answer, which
                // nobody would see in a future nobody reads
                .exceptionally(bug -> {
                    log.error("background render of {} failed", key, bug);
                    return null;
                });
    }

    /**
     * Whether {@code a} is the very copy {@code b}: a page read before another render stored its
     * successor is told apart by identity, not by content.
     */
    @SuppressWarnings("ReferenceEquality")
    private static boolean sameCopy(CachedPage a, CachedPage b) {
        return a == b;
    }

    /**
     * A change message sent without waiting: the cluster logs one it could not send and sends it again,
     * so nothing here depends on it.
     */
    private static void announce(CompletableFuture<Void> sent) {
        sent.exceptionally(e -> {
            log.debug("change message not sent yet: {}", describe(unwrap(e)));
            return null;
        });
    }

    @SuppressWarnings("CollectionUndefinedEquality") // keyed by the flight itself: see the field
    private void finish(String key, CompletableFuture<RenderResult> flight, RenderResult result) {
        invalidatedWhileRendering.remove(flight);
        // leave the map first: a request arriving now must find the stored page, not a finished flight
        inFlight.remove(key, flight);
        flight.complete(
                result != null ? result : new RenderResult.Failed(OriginException.Kind.UNREACHABLE, "render failed"));
    }

    // --------------------------------------------------------------------------------------- cluster

    /**
     * With other nodes: the page another node stored while this one waited for the lock (it released
     * the lock before its change message reached us), or null. Alone, the in-flight map covers this.
     */
    private CachedPage renderedElsewhere(String key, CachedPage previous) {
        if (cluster == Cluster.LOCAL) {
            return null;
        }
        Cached shared = pages.getShared(key);
        boolean newer = shared instanceof CachedPage p
                && (previous == null || p.renderedAt().isAfter(previous.renderedAt()));
        return newer && ((CachedPage) shared).freshness(clock.instant()) == Freshness.FRESH
                ? (CachedPage) shared
                : null;
    }

    private Cluster.RenderLock lock(String key) {
        try {
            return cluster.tryLock(key, lockTtl);
        } catch (RuntimeException e) {
            // the cluster SPI must not throw; if it does, render here rather than fail the request
            log.error("render lock for {} failed; rendering locally", key, e);
            return new Cluster.RenderLock(key, "local");
        }
    }

    /** Polls the shared store for the page another node is rendering, woken early by its change message. */
    private CompletableFuture<Reply> awaitOtherNode(
            Lookup l,
            String key,
            CachedPage previous,
            String fwd,
            Instant deadline,
            int attempt,
            CompletableFuture<RenderResult> flight) {
        CompletableFuture<Void> changed = remoteChanges.computeIfAbsent(key, k -> new CompletableFuture<>());
        long delay = Math.min(200, 10L << Math.min(attempt, 5));
        CompletableFuture<Object> tick = CompletableFuture.anyOf(
                changed,
                CompletableFuture.runAsync(() -> {}, CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS)));
        return tick.thenComposeAsync(
                x -> {
                    // each round registers afresh; an entry no change message completed must not stay behind
                    remoteChanges.remove(key, changed);
                    Instant now = clock.instant();
                    Cached shared = pages.getShared(key);
                    if (shared instanceof CachedPage page
                            && page.freshness(now) != Freshness.EXPIRED
                            && (previous == null || page.renderedAt().isAfter(previous.renderedAt()))
                            && matches(page, l.request())) {
                        finish(key, flight, new RenderResult.Stored(page));
                        return done(new Reply.Page(page, CacheStatus.MISS, now, true));
                    }
                    Cluster.RenderLock lock = lock(key);
                    if (lock != null) {
                        // the other node finished without a storable page, or died: render here
                        return budgeted(l, key, previous, lock, flight, fwd);
                    }
                    if (!now.isBefore(deadline)) {
                        // waited the lock-wait out: render here, unlocked; the result is stored unless a newer
                        // page appeared meanwhile (see Render.store)
                        log.debug(
                                "waited {} for another node's render of {}; rendering it here", config.lockWait(), key);
                        return budgeted(l, key, previous, null, flight, fwd);
                    }
                    return awaitOtherNode(l, key, previous, fwd, deadline, attempt + 1, flight);
                },
                storeExecutor);
    }

    // --------------------------------------------------------------------------------------- failures

    private void renderFailed(String key, Instant now, CachedPage previous, String reason) {
        stats.renderErrors.increment();
        synchronized (recentErrors) {
            if (recentErrors.size() == MAX_RECENT_ERRORS) {
                recentErrors.removeLast();
            }
            recentErrors.addFirst(new RenderError(now, key, reason));
        }
        Backoff next = failures.asMap().compute(key, (k, old) -> {
            int attempts = old == null ? 1 : old.attempts() + 1;
            long seconds = Math.min(MAX_BACKOFF.toSeconds(), 1L << Math.min(attempts - 1, 6));
            return new Backoff(attempts, now.plusSeconds(seconds));
        });
        if (previous != null) {
            log.warn(
                    "render of {} failed ({}); serving the cached page, next try in {} s",
                    key,
                    reason,
                    Duration.between(now, next.notBefore()).toSeconds());
        } else {
            log.warn("render of {} failed ({})", key, reason);
        }
    }

    // ------------------------------------------------------------------------------------ credentials

    /** A request with {@code Authorization} or a cookie that is not ignored (RFC 9111 §3.5, cookies too). */
    private boolean credentialed(ClientRequest request) {
        if (request.header("authorization") != null) {
            return true;
        }
        List<String> cookies = request.headers().getAll("cookie");
        return !cookies.isEmpty() && config.cookies().anyKept(cookies);
    }

    private boolean bypasses(ClientRequest request) {
        return bypassTokenBytes != null
                && (tokenMatches(request.header(BYPASS_HEADER))
                        || tokenMatches(HttpFields.cookie(request.header("cookie"), BYPASS_COOKIE)));
    }

    private boolean tokenMatches(String presented) {
        return presented != null && MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8), bypassTokenBytes);
    }

    // ------------------------------------------------------------------------------------ revalidation

    /**
     * On-demand revalidation. Soft marks pages stale (the next request is served the old page once
     * and starts one render); hard deletes them (the next request is a MISS). Each path matches every
     * cached query variant of it on every public host, a path with a query only that query, and a path
     * ending in {@code /**} the whole subtree; every {@code Vary} variant of a matched URL is matched.
     * Tags are looked up in the store's tag index. Soft revalidation leaves immutable pages alone: their
     * URL names one version for ever (a deploy marks every page stale, and old assets stay served).
     * Every node also drops the matching copies it holds in memory, including pages the store no
     * longer lists (flushed, lost), so the revalidation takes effect even then.
     *
     * <p>All paths are checked before anything changes.
     *
     * @return completes with the number of cached entries affected, each counted once; completes
     *         exceptionally with a {@link RevalidationException} naming what was not applied when the
     *         store failed for some of it or the other nodes could not be told
     * @throws RequestTarget.InvalidTargetException for a path that is not a valid, canonicalisable path
     */
    public CompletableFuture<Integer> invalidate(Collection<String> paths, Collection<String> tags, boolean hard) {
        return revalidate(paths, tags, hard).thenApply(Revalidation::invalidated);
    }

    /**
     * What a revalidation did.
     *
     * @param invalidated cached entries affected, each counted once
     * @param queued      of those, pages with recent traffic queued for an eager re-render (soft only)
     */
    public record Revalidation(int invalidated, int queued) {}

    /**
     * {@link #invalidate}, telling also how many pages were queued for an eager re-render: a soft
     * revalidation re-renders at once, in the background and within the render budget, the pages this
     * node served within the eager window; the others are only marked stale.
     */
    public CompletableFuture<Revalidation> revalidate(Collection<String> paths, Collection<String> tags, boolean hard) {
        List<PathPattern> patterns = new ArrayList<>();
        for (String p : paths) {
            patterns.add(PathPattern.parse(p, config.query()));
        }
        List<String> pathList = List.copyOf(paths);
        List<String> tagList = List.copyOf(tags);
        return CompletableFuture.<Void>completedFuture(null)
                .thenComposeAsync(
                        nothing -> {
                            List<String> notApplied = new ArrayList<>();
                            Set<String> keys = new LinkedHashSet<>();
                            for (PathPattern p : patterns) {
                                for (String prefix : p.keyPrefixes()) {
                                    try {
                                        pages.forEachPage(prefix, k -> {
                                            if (p.matches(Keys.path(k.name()))) {
                                                keys.add(k.name());
                                            }
                                        });
                                    } catch (StoreException e) {
                                        notApplied.add(
                                                "listing the pages under " + p.listPrefix() + ": " + e.getMessage());
                                        break;
                                    }
                                }
                            }
                            Set<String> changed = new LinkedHashSet<>();
                            boolean eager = !hard && !config.eagerWindow().isZero();
                            int queued = 0;
                            for (String key : keys) {
                                boolean recent = eager && pages.usedWithin(key, config.eagerWindow());
                                invalidateKey(key, null, hard, changed, notApplied);
                                if (recent && rerenderNow(key, changed)) {
                                    queued++;
                                }
                            }
                            for (String tag : tagList) {
                                List<String> tagged;
                                try {
                                    tagged = pages.keysTagged(tag);
                                } catch (StoreException e) {
                                    notApplied.add("listing the pages tagged " + tag + ": " + e.getMessage());
                                    continue;
                                }
                                for (String key : tagged) {
                                    if (keys.add(key)) {
                                        boolean recent = eager && pages.usedWithin(key, config.eagerWindow());
                                        invalidateKey(key, tag, hard, changed, notApplied);
                                        if (recent && rerenderNow(key, changed)) {
                                            queued++;
                                        }
                                    }
                                }
                            }
                            // copies in this node's memory the store did not list (flushed, lost, unreachable)
                            for (String key : pages.localKeys(
                                    (key, cached) -> !keys.contains(key) && matches(patterns, tagList, key, cached))) {
                                pages.evictLocal(key);
                                changed.add(key);
                            }
                            int eagerRenders = queued;
                            CompletableFuture<Void> told = CompletableFuture.allOf(
                                    cluster.publish(changed), cluster.publishRevalidation(pathList, tagList));
                            return told.handle((x, e) -> {
                                if (e != null) {
                                    notApplied.add("telling the other nodes: " + describe(unwrap(e)));
                                }
                                int n = changed.size();
                                stats.invalidations.add(n);
                                listener.invalidated(
                                        patterns.isEmpty() ? "tag" : tagList.isEmpty() ? "path" : "path+tag", n);
                                if (!notApplied.isEmpty()) {
                                    log.warn(
                                            "{} revalidation not fully applied: {} entries done (paths {}, tags {}); not done: {}",
                                            hard ? "hard" : "soft",
                                            n,
                                            paths,
                                            tagList,
                                            notApplied);
                                    throw new RevalidationException(n, notApplied);
                                }
                                if (eagerRenders > 0) {
                                    log.info(
                                            "soft revalidation: {} entries (paths {}, tags {}), {} with recent traffic re-rendering now",
                                            n,
                                            paths,
                                            tagList,
                                            eagerRenders);
                                } else {
                                    log.info(
                                            "{} revalidation: {} entries (paths {}, tags {})",
                                            hard ? "hard" : "soft",
                                            n,
                                            paths,
                                            tagList);
                                }
                                return new Revalidation(n, eagerRenders);
                            });
                        },
                        storeExecutor);
    }

    /**
     * Eager revalidation of one page just marked stale, which a request read within the eager window:
     * re-rendered now, as soon as it is marked (not after the whole revalidation), so a visitor is served
     * the old page for as short a time as the budget allows. True when it is re-rendering: queued here,
     * or already started by a visitor who found it stale.
     */
    private boolean rerenderNow(String key, Set<String> changed) {
        if (!changed.contains(key)) {
            return false;
        }
        if (inFlight.containsKey(key)) {
            return true;
        }
        return pages.peekLocal(key) instanceof CachedPage p
                && p.invalidated()
                && refreshInBackground(Keys.host(key), key, p, clock.instant(), Background.EAGER);
    }

    /** Whether a copy held in memory is one a revalidation of {@code patterns} and {@code tags} names. */
    private static boolean matches(List<PathPattern> patterns, List<String> tags, String key, Cached cached) {
        String path = Keys.path(key);
        for (PathPattern p : patterns) {
            if (p.matches(path)) {
                return true;
            }
        }
        if (cached instanceof CachedPage page) {
            for (String tag : tags) {
                if (page.tags().contains(tag)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Another node's revalidation: drops the matching copies in memory (the store is already changed). */
    private void revalidatedElsewhere(Collection<String> paths, Collection<String> tags) {
        List<PathPattern> patterns = new ArrayList<>();
        for (String p : paths) {
            try {
                patterns.add(PathPattern.parse(p, config.query()));
            } catch (RequestTarget.InvalidTargetException e) {
                log.debug("ignoring a revalidated path from another node: {}", e.getMessage());
            }
        }
        List<String> tagList = List.copyOf(tags);
        pages.localKeys((key, cached) -> matches(patterns, tagList, key, cached))
                .forEach(pages::evictLocal);
    }

    /** Revalidates one key the store listed; what the store refused goes to {@code notApplied}. */
    private void invalidateKey(String key, String viaTag, boolean hard, Set<String> changed, List<String> notApplied) {
        try {
            if (invalidateKey(key, viaTag, hard)) {
                changed.add(key);
            }
        } catch (StoreException e) {
            // this node's copy is dropped all the same; the store still has the old page
            pages.evictLocal(key);
            notApplied.add(key + ": " + e.getMessage());
        }
    }

    private boolean invalidateKey(String key, String viaTag, boolean hard) {
        Cached cached = pages.peekLocal(key);
        if (cached == null) {
            cached = pages.readShared(key);
        }
        if (cached instanceof VaryMarker) {
            if (hard) {
                pages.deleteShared(key, cached);
            }
            return false;
        }
        CachedPage page = (CachedPage) cached;
        if (page == null || (viaTag != null && !page.tags().contains(viaTag))) {
            if (viaTag != null) {
                pages.unindex(viaTag, key);
            }
            return false;
        }
        if (!hard && page.immutable()) {
            return false;
        }
        for (String flightKey : new String[] {key, Keys.url(key)}) {
            CompletableFuture<RenderResult> running = inFlight.get(flightKey);
            if (running != null) {
                invalidatedWhileRendering.merge(running, hard, Boolean::logicalOr);
                if (hard) {
                    // the next request must not join a render that began before the purge
                    inFlight.remove(flightKey, running);
                }
            }
        }
        cluster.markInvalidated(key);
        if (hard) {
            pages.deleteShared(key, page);
        } else if (!page.invalidated()) {
            pages.putMetadataShared(key, page.markInvalidated(), page);
        }
        return true;
    }

    /**
     * One page of what is cached, in key order, for paths starting with {@code pathPrefix}. Reads
     * metadata only, never bodies.
     */
    public CompletableFuture<EntryList> entries(String pathPrefix, String cursor, int limit) {
        return CompletableFuture.supplyAsync(
                () -> {
                    Instant now = clock.instant();
                    ListPage page = pages.listPages(pathPrefix, cursor, limit);
                    List<EntryInfo> out = new ArrayList<>();
                    for (ListedKey k : page.keys()) {
                        String key = k.name().substring(PageStore.PAGE_PREFIX.length());
                        Cached c = PageCodec.decodeListed(key, k.metadata());
                        if (c instanceof CachedPage p) {
                            out.add(new EntryInfo(
                                    key,
                                    Keys.path(key),
                                    p.status(),
                                    p.ageSeconds(now),
                                    p.revalidate().toSeconds(),
                                    p.expiresAt(),
                                    p.tags(),
                                    k.size(),
                                    p.freshness(now)));
                        }
                    }
                    return new EntryList(out, page.cursor());
                },
                storeExecutor);
    }

    /** The last render failures, newest first (at most 50). */
    public List<RenderError> recentErrors() {
        synchronized (recentErrors) {
            return List.copyOf(recentErrors);
        }
    }

    /** Background renders waiting for a slot of the render budget. */
    public int backgroundQueueDepth() {
        return budget.snapshot().backgroundWaiting();
    }

    /** The render budget now: limits, renders under way, who waits, what was shed. */
    public BudgetSnapshot renderBudget() {
        return budget.snapshot();
    }

    /** Renders under way on this node (foreground and background). */
    public int rendersInFlight() {
        return inFlight.size();
    }

    /** Pages held in memory (L1) and their approximate heap cost. */
    public long memoryEntries() {
        return pages.localEntries();
    }

    public long memoryBytes() {
        return pages.localBytes();
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    /** The engine's own pool when the embedder gives none: daemon threads that end when idle. */
    private static ThreadPoolExecutor pool(String name, int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool =
                new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, name + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** Stops background renders and the engine's threads. Does not close the store: its owner does. */
    @Override
    public void close() {
        budget.clear();
        if (ownPool == null) {
            return;
        }
        ownPool.shutdown();
        try {
            ownPool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
