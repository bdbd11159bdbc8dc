package dev.regen;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regen.cluster.Cluster;
import dev.regen.http.HttpFields;
import dev.regen.http.RequestTarget;
import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ISR engine: decides for each request whether to serve a cached page, serve it stale while one
 * background render refreshes it, render it once for every waiting client, or pass it through.
 *
 * <p>Thread-safe. {@link #serve} never blocks the calling thread: an L1 hit completes at once, anything
 * else continues on the engine's own executors. Renders per key are single-flight; background renders
 * run on a bounded pool so a spike of stale pages can't stampede the origin.
 */
public final class RegenEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegenEngine.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);
    static final String BYPASS_HEADER = "x-regen-bypass";
    static final String BYPASS_COOKIE = "regen_bypass";

    private final RegenConfig config;
    private final Origin origin;
    private final PageStore pages;
    private final InstantSource clock;
    private final StoragePolicy policy;
    private final ExecutorService storeExecutor;
    private final ThreadPoolExecutor background;
    private final ConcurrentHashMap<String, CompletableFuture<RenderResult>> inFlight = new ConcurrentHashMap<>();
    private final Cache<String, Backoff> failures = Caffeine.newBuilder().maximumSize(100_000).build();
    private final Stats stats = new Stats();
    /** Parsed request targets: canonicalising and matching routes once per distinct target, not per request. */
    private final Cache<String, Target> targets = Caffeine.newBuilder().maximumSize(10_000).executor(Runnable::run).build();
    private final EngineListener listener;
    private static final int MAX_RECENT_ERRORS = 50;
    private final java.util.ArrayDeque<RenderError> recentErrors = new java.util.ArrayDeque<>();
    private final Cluster cluster;
    private final Duration lockTtl;
    /** Foreground waits on another node's render, woken by that node's change message. */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> remoteChanges = new ConcurrentHashMap<>();
    /** Keys invalidated while a render of theirs was in flight: that render's result is stored stale. */
    private final ConcurrentHashMap<CompletableFuture<RenderResult>, Boolean> invalidatedWhileRendering =
            new ConcurrentHashMap<>();
    private final Duration waitLimit;
    private final List<Header> renderHeaders;
    private final byte[] bypassTokenBytes;

    private record Backoff(int attempts, Instant notBefore) { }

    private record Flight(CompletableFuture<RenderResult> result, boolean leader) { }

    private RegenEngine(Builder b) {
        this.config = Objects.requireNonNull(b.config, "config");
        this.origin = Objects.requireNonNull(b.origin, "origin");
        this.pages = new PageStore(Objects.requireNonNull(b.store, "store"), b.memoryBytes);
        this.clock = b.clock;
        this.policy = new StoragePolicy(config);
        this.storeExecutor = pool("regen-io", Math.max(4, 2 * Runtime.getRuntime().availableProcessors()),
                new LinkedBlockingQueue<>());
        BlockingQueue<Runnable> queue = config.backgroundQueue() == 0
                ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(config.backgroundQueue());
        this.background = pool("regen-render", config.backgroundRenders(), queue);
        this.waitLimit = config.renderTimeout().plusSeconds(2);
        // a node that dies mid-render holds the lock no longer than one render could take
        this.lockTtl = config.renderTimeout().plusSeconds(5);
        this.cluster = b.cluster;
        this.listener = b.listener;
        cluster.subscribe(new Cluster.Listener() {
            @Override
            public void changed(Collection<String> keys) {
                for (String key : keys) {
                    pages.evictLocal(key);
                    CompletableFuture<Void> waiting = remoteChanges.remove(key);
                    if (waiting != null) {
                        waiting.complete(null);
                    }
                }
            }

            @Override
            public void missedChanges() {
                pages.evictAllLocal();
                log.info("dropped every page held in memory: changes from other nodes may have been missed");
            }
        });
        // Renders are anonymous and identical for every client: nothing a client sends can change what is stored.
        this.renderHeaders = List.of(
                new Header("Accept", "*/*"),
                new Header("User-Agent", "Regen/0.1 (+revalidate)"),
                new Header("X-Forwarded-Host", config.host()),
                new Header("X-Forwarded-Proto", config.scheme()));
        this.bypassTokenBytes = config.bypassToken() == null ? null : config.bypassToken().getBytes(StandardCharsets.UTF_8);
    }

    public static Builder builder() {
        return new Builder();
    }

    public RegenConfig config() {
        return config;
    }

    public Stats stats() {
        return stats;
    }

    /** The cache key of a canonical target: the configured public host, path and kept query. */
    public String key(RequestTarget target) {
        return config.host() + target.pathAndQuery();
    }

    /** Decides what to send for one request. Never completes exceptionally. */
    public CompletableFuture<Reply> serve(ClientRequest request) {
        String method = request.method();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            stats.bypasses.increment();
            listener.served(CacheStatus.BYPASS);
            return CompletableFuture.completedFuture(new Reply.PassThrough(CacheStatus.BYPASS, "method"));
        }
        Target t;
        try {
            t = targets.get(request.target(), this::target);
        } catch (RequestTarget.InvalidTargetException e) {
            return CompletableFuture.completedFuture(new Reply.Failure(400, e.getMessage()));
        }
        RequestTarget target = t.target();
        if (t.uncachedRoute() || bypasses(request)) {
            stats.bypasses.increment();
            listener.served(CacheStatus.BYPASS);
            return CompletableFuture.completedFuture(new Reply.PassThrough(CacheStatus.BYPASS, "bypass"));
        }
        String key = t.key();
        CachedPage local = pages.getLocal(key);
        if (local != null) {
            return respond(key, target, local);
        }
        try {
            return CompletableFuture.supplyAsync(() -> pages.get(key), storeExecutor)
                    .thenCompose(page -> respond(key, target, page));
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(new Reply.Failure(503, "Regen is shutting down"));
        }
    }

    /** What the hot path needs of a raw request target, computed once per distinct target. */
    private record Target(RequestTarget target, String key, boolean uncachedRoute) { }

    private Target target(String raw) {
        RequestTarget target = RequestTarget.parse(raw, config.query());
        RouteRule route = config.routeFor(target.path());
        return new Target(target, key(target), route != null && !route.cache());
    }

    private boolean bypasses(ClientRequest request) {
        if (request.header("authorization") != null) {
            return true;
        }
        if (bypassTokenBytes != null && (tokenMatches(request.header(BYPASS_HEADER))
                || tokenMatches(HttpFields.cookie(request.header("cookie"), BYPASS_COOKIE)))) {
            return true;
        }
        return false;
    }

    private boolean tokenMatches(String presented) {
        return presented != null
                && MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8), bypassTokenBytes);
    }


    private CompletableFuture<Reply> respond(String key, RequestTarget target, CachedPage page) {
        if (page != null) {
            Instant now = clock.instant();
            switch (page.freshness(now)) {
                case FRESH -> {
                    stats.hits.increment();
                    listener.served(CacheStatus.HIT);
                    return CompletableFuture.completedFuture(new Reply.Page(page, CacheStatus.HIT));
                }
                case STALE -> {
                    stats.staleHits.increment();
                    listener.served(CacheStatus.STALE);
                    revalidateInBackground(key, target, page, now);
                    return CompletableFuture.completedFuture(new Reply.Page(page, CacheStatus.STALE));
                }
                case EXPIRED -> { }
            }
        }
        stats.misses.increment();
        listener.served(CacheStatus.MISS);
        Flight flight = join(key, target, page, false);
        return flight.result().copy()
                .orTimeout(waitLimit.toMillis(), TimeUnit.MILLISECONDS)
                .handle((result, error) -> error != null
                        ? new Reply.Failure(504, "the render of " + target + " did not finish within "
                                + seconds(waitLimit))
                        : toReply(result, flight.leader()));
    }

    private static Reply toReply(RenderResult result, boolean leader) {
        if (result instanceof RenderResult.Stored s) {
            return new Reply.Page(s.page(), CacheStatus.MISS);
        }
        if (result instanceof RenderResult.Uncached u) {
            // A response that sets a cookie or is private belongs to one client: the others fetch their own.
            return leader || u.shareable() ? new Reply.Rendered(u.response())
                    : new Reply.PassThrough(CacheStatus.MISS, "uri-miss");
        }
        if (result instanceof RenderResult.Failed f) {
            return f.kind() == OriginException.Kind.TIMEOUT
                    ? new Reply.Failure(504, f.message()) : new Reply.Failure(502, f.message());
        }
        return new Reply.PassThrough(CacheStatus.MISS, "uri-miss");
    }

    private void revalidateInBackground(String key, RequestTarget target, CachedPage page, Instant now) {
        if (inFlight.containsKey(key)) {
            return;
        }
        Backoff backoff = failures.getIfPresent(key);
        if (backoff != null && now.isBefore(backoff.notBefore())) {
            return;
        }
        join(key, target, page, true);
    }

    /** Joins the render of {@code key} under way, or starts it. */
    private Flight join(String key, RequestTarget target, CachedPage previous, boolean inBackground) {
        CompletableFuture<RenderResult> mine = new CompletableFuture<>();
        CompletableFuture<RenderResult> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            return new Flight(running, false);
        }
        // The caller looked the page up before the previous flight stored it and left the map:
        // what that flight stored is the answer, not a second render.
        CachedPage current = pages.getLocal(key);
        if (current != null && current != previous && current.freshness(clock.instant()) != Freshness.EXPIRED) {
            finish(key, mine, new RenderResult.Stored(current));
            return new Flight(mine, true);
        }
        if (!inBackground) {
            render(key, target, previous, false, mine).whenComplete((r, e) -> finish(key, mine, r));
            return new Flight(mine, true);
        }
        try {
            // the pool thread waits for the render, which is what bounds background load on the origin
            background.execute(() -> finish(key, mine, render(key, target, previous, true, mine).join()));
        } catch (RejectedExecutionException e) {
            stats.backgroundSkipped.increment();
            finish(key, mine, new RenderResult.Skipped());
        }
        return new Flight(mine, true);
    }

    private void finish(String key, CompletableFuture<RenderResult> flight, RenderResult result) {
        invalidatedWhileRendering.remove(flight);
        // leave the map first: a request arriving now must find the stored page, not a finished flight
        inFlight.remove(key, flight);
        flight.complete(result != null ? result
                : new RenderResult.Failed(OriginException.Kind.UNREACHABLE, "render failed"));
    }

    /**
     * One render of {@code key} for the whole cluster: this node renders if it gets the render lock;
     * otherwise a background render is skipped (the page stays stale until the other node's result
     * arrives) and a foreground one waits for the other node's page. Never completes exceptionally.
     */
    private CompletableFuture<RenderResult> render(String key, RequestTarget target, CachedPage previous,
                                                   boolean inBackground, CompletableFuture<RenderResult> flight) {
        return CompletableFuture.supplyAsync(() -> lock(key), storeExecutor).thenCompose(lock -> {
            if (lock != null) {
                CachedPage done = renderedElsewhere(key, previous);
                if (done != null) {
                    cluster.unlock(lock);
                    return CompletableFuture.completedFuture(new RenderResult.Stored(done));
                }
                return renderLocked(key, target, previous, lock, flight);
            }
            if (inBackground) {
                return CompletableFuture.completedFuture(new RenderResult.Skipped());
            }
            return awaitOtherNode(key, target, previous, clock.instant().plus(waitLimit), 0, flight);
        });
    }

    /**
     * With other nodes: the page another node stored while this one waited for the lock (it released
     * the lock before its change message reached us), or null. Alone, the in-flight map covers this.
     */
    private CachedPage renderedElsewhere(String key, CachedPage previous) {
        if (cluster == Cluster.LOCAL) {
            return null;
        }
        CachedPage shared = pages.getShared(key);
        boolean newer = shared != null && (previous == null || shared.renderedAt().isAfter(previous.renderedAt()));
        return newer && shared.freshness(clock.instant()) == Freshness.FRESH ? shared : null;
    }

    private Cluster.RenderLock lock(String key) {
        try {
            return cluster.tryLock(key, lockTtl);
        } catch (RuntimeException e) {
            // the cluster SPI must not throw; if it does, render here rather than fail the request
            log.warn("render lock for {} failed ({}); rendering locally", key, e.toString());
            return new Cluster.RenderLock(key, "local");
        }
    }

    /** Polls the shared store for the page another node is rendering, woken early by its change message. */
    private CompletableFuture<RenderResult> awaitOtherNode(String key, RequestTarget target, CachedPage previous,
                                                           Instant deadline, int attempt,
                                                           CompletableFuture<RenderResult> flight) {
        CompletableFuture<Void> changed = remoteChanges.computeIfAbsent(key, k -> new CompletableFuture<>());
        long delay = Math.min(200, 10L << Math.min(attempt, 5));
        CompletableFuture<Object> tick = CompletableFuture.anyOf(changed,
                CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS)));
        return tick.thenComposeAsync(x -> {
            // each round registers afresh; an entry no change message completed must not stay behind
            remoteChanges.remove(key, changed);
            Instant now = clock.instant();
            CachedPage page = pages.getShared(key);
            if (page != null && page.freshness(now) != Freshness.EXPIRED
                    && (previous == null || page.renderedAt().isAfter(previous.renderedAt()))) {
                return CompletableFuture.completedFuture(new RenderResult.Stored(page));
            }
            Cluster.RenderLock lock = lock(key);
            if (lock != null) {
                // the other node finished without a storable page, or died: render here
                return renderLocked(key, target, previous, lock, flight);
            }
            if (!now.isBefore(deadline)) {
                return CompletableFuture.completedFuture(new RenderResult.Failed(OriginException.Kind.TIMEOUT,
                        "another node is still rendering " + target));
            }
            return awaitOtherNode(key, target, previous, deadline, attempt + 1, flight);
        }, storeExecutor);
    }

    /** One origin render under the render lock, and its effect on the store. Never completes exceptionally. */
    private CompletableFuture<RenderResult> renderLocked(String key, RequestTarget target, CachedPage previous,
                                                         Cluster.RenderLock lock, CompletableFuture<RenderResult> flight) {
        stats.renders.increment();
        long started = System.nanoTime();
        CompletableFuture<OriginResponse> response;
        try {
            response = origin.fetch(new OriginRequest("GET", target.pathAndQuery(), renderHeaders));
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        return response.orTimeout(config.renderTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .handleAsync((r, e) -> settle(key, target, previous, lock, flight, r, e), storeExecutor)
                .exceptionally(e -> {
                    log.error("render of {} could not be settled: {}", key, e.toString());
                    return new RenderResult.Failed(OriginException.Kind.UNREACHABLE, "internal error");
                })
                .whenComplete((r, e) -> {
                    cluster.unlock(lock);
                    listener.rendered(outcome(r), Duration.ofNanos(System.nanoTime() - started));
                });
    }

    private static EngineListener.RenderOutcome outcome(RenderResult r) {
        if (r instanceof RenderResult.Stored) {
            return EngineListener.RenderOutcome.OK;
        }
        if (r instanceof RenderResult.Uncached u) {
            int status = u.response().status();
            return status == 404 || status == 410 ? EngineListener.RenderOutcome.NOT_FOUND
                    : status >= 500 ? EngineListener.RenderOutcome.ERROR : EngineListener.RenderOutcome.UNCACHEABLE;
        }
        return r instanceof RenderResult.Failed f && f.kind() == OriginException.Kind.TIMEOUT
                ? EngineListener.RenderOutcome.TIMEOUT : EngineListener.RenderOutcome.ERROR;
    }

    private RenderResult settle(String key, RequestTarget target, CachedPage previous, Cluster.RenderLock lock,
                                CompletableFuture<RenderResult> flight, OriginResponse response, Throwable error) {
        Instant now = clock.instant();
        if (error != null) {
            Throwable cause = unwrap(error);
            OriginException.Kind kind = cause instanceof TimeoutException ? OriginException.Kind.TIMEOUT
                    : cause instanceof OriginException oe ? oe.kind() : OriginException.Kind.UNREACHABLE;
            String message = kind == OriginException.Kind.TIMEOUT
                    ? "the origin did not answer within " + seconds(config.renderTimeout())
                    : "the origin could not be reached: " + describe(cause);
            failed(key, now, previous, message);
            return new RenderResult.Failed(kind, message);
        }
        StoragePolicy.Verdict verdict = policy.evaluate(target.path(), response, now);
        if (verdict instanceof StoragePolicy.Verdict.Store store) {
            CachedPage page = store.page();
            // both checked: each clears its mark
            Boolean here = invalidatedWhileRendering.remove(flight);
            boolean elsewhere = cluster.takeInvalidated(lock);
            if (Boolean.TRUE.equals(here)) {
                // hard-purged mid-render: this result may predate the purge, and a newer flight renders
                failures.invalidate(key);
                return new RenderResult.Uncached(response, true);
            }
            if (here != null || elsewhere) {
                // this render may have read the content from before the invalidation: store it stale
                page = page.markInvalidated();
            }
            pages.put(key, page, previous);
            cluster.publish(List.of(key));
            failures.invalidate(key);
            return new RenderResult.Stored(page);
        }
        StoragePolicy.Verdict.Skip skip = (StoragePolicy.Verdict.Skip) verdict;
        if (skip.keepOld()) {
            failed(key, now, previous, skip.reason());
        } else {
            failures.invalidate(key);
            if (previous != null) {
                // the origin no longer serves a cacheable page here (404/410, now private, ...)
                pages.delete(key, previous);
                cluster.publish(List.of(key));
                log.info("removed {}: {}", key, skip.reason());
            }
        }
        return new RenderResult.Uncached(response, skip.shareable());
    }

    private void failed(String key, Instant now, CachedPage previous, String reason) {
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
            log.warn("render of {} failed ({}); serving the cached page, next try in {} s", key, reason,
                    Duration.between(now, next.notBefore()).toSeconds());
        } else {
            log.warn("render of {} failed ({})", key, reason);
        }
    }

    /**
     * On-demand revalidation. Soft marks pages stale (the next request is served the old page once
     * and starts one render); hard deletes them (the next request is a MISS). Each path matches every
     * cached query variant of it, a path with a query only that variant, and a path ending in
     * {@code /**} the whole subtree. Tags are looked up in the store's tag index.
     *
     * <p>All paths are checked before anything changes.
     *
     * @return completes with the number of cached entries affected, each counted once
     * @throws RequestTarget.InvalidTargetException for a path that is not a valid, canonicalisable path
     */
    public CompletableFuture<Integer> invalidate(Collection<String> paths, Collection<String> tags, boolean hard) {
        List<PathPattern> patterns = new ArrayList<>();
        for (String p : paths) {
            patterns.add(PathPattern.parse(p, config.query()));
        }
        List<String> tagList = List.copyOf(tags);
        return CompletableFuture.supplyAsync(() -> {
            Set<String> keys = new LinkedHashSet<>();
            for (PathPattern p : patterns) {
                pages.forEachPage(config.host() + p.listPrefix(), k -> {
                    if (p.matches(k.name().substring(config.host().length()))) {
                        keys.add(k.name());
                    }
                });
            }
            int n = 0;
            for (String key : keys) {
                n += invalidateKey(key, null, hard) ? 1 : 0;
            }
            for (String tag : tagList) {
                for (String key : pages.keysTagged(tag)) {
                    if (!keys.contains(key) && invalidateKey(key, tag, hard)) {
                        keys.add(key);
                        n++;
                    }
                }
            }
            if (!keys.isEmpty()) {
                cluster.publish(keys);
            }
            stats.invalidations.add(n);
            listener.invalidated(patterns.isEmpty() ? "tag" : tagList.isEmpty() ? "path" : "path+tag", n);
            log.info("{} revalidation: {} entries (paths {}, tags {})", hard ? "hard" : "soft", n, paths, tagList);
            return n;
        }, storeExecutor);
    }

    private boolean invalidateKey(String key, String viaTag, boolean hard) {
        CachedPage page = pages.get(key);
        if (page == null || (viaTag != null && !page.tags().contains(viaTag))) {
            if (viaTag != null) {
                pages.unindex(viaTag, key);
            }
            return false;
        }
        CompletableFuture<RenderResult> running = inFlight.get(key);
        if (running != null) {
            invalidatedWhileRendering.merge(running, hard, Boolean::logicalOr);
            if (hard) {
                // the next request must not join a render that began before the purge
                inFlight.remove(key, running);
            }
        }
        cluster.markInvalidated(key);
        if (hard) {
            pages.delete(key, page);
        } else if (!page.invalidated()) {
            pages.put(key, page.markInvalidated(), page);
        }
        return true;
    }

    /**
     * One page of what is cached, in key order, for paths starting with {@code pathPrefix}. Reads
     * metadata only, never bodies.
     */
    public CompletableFuture<EntryList> entries(String pathPrefix, String cursor, int limit) {
        return CompletableFuture.supplyAsync(() -> {
            Instant now = clock.instant();
            ListPage page = pages.listPages(config.host() + pathPrefix, cursor, limit);
            List<EntryInfo> out = new ArrayList<>();
            for (ListedKey k : page.keys()) {
                CachedPage p = PageCodec.decode(new KvEntry(new byte[0], k.metadata(), k.expiration()));
                if (p != null) {
                    String key = k.name().substring(PageStore.PAGE_PREFIX.length());
                    out.add(new EntryInfo(key, key.substring(config.host().length()), p.status(), p.ageSeconds(now),
                            p.revalidate().toSeconds(), p.expiresAt(), p.tags(), k.size(), p.freshness(now)));
                }
            }
            return new EntryList(out, page.cursor());
        }, storeExecutor);
    }

    /** The last render failures, newest first (at most 50). */
    public List<RenderError> recentErrors() {
        synchronized (recentErrors) {
            return List.copyOf(recentErrors);
        }
    }

    /** Background renders waiting for a thread of the bounded pool. */
    public int backgroundQueueDepth() {
        return background.getQueue().size();
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

    private static ThreadPoolExecutor pool(String name, int threads, BlockingQueue<Runnable> queue) {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, queue, r -> {
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
        background.shutdownNow();
        storeExecutor.shutdown();
        try {
            storeExecutor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Builds an engine. {@code config}, {@code origin} and {@code store} are required. */
    public static final class Builder {
        private RegenConfig config;
        private Origin origin;
        private KvStore store;
        private InstantSource clock = InstantSource.system();
        private long memoryBytes = 256L * 1024 * 1024;
        private Cluster cluster = Cluster.LOCAL;
        private EngineListener listener = EngineListener.NONE;

        /** Told about requests, renders and invalidations (metrics). */
        public Builder listener(EngineListener v) { listener = Objects.requireNonNull(v); return this; }

        /** Other nodes sharing the store (default: none). The engine does not close it. */
        public Builder cluster(Cluster v) { cluster = Objects.requireNonNull(v); return this; }

        public Builder config(RegenConfig v) { config = v; return this; }
        public Builder origin(Origin v) { origin = v; return this; }
        public Builder store(KvStore v) { store = v; return this; }
        public Builder clock(InstantSource v) { clock = Objects.requireNonNull(v); return this; }

        /** Budget of the in-memory L1 in bytes (default 256 MiB). */
        public Builder memoryBytes(long v) {
            if (v <= 0) {
                throw new IllegalArgumentException("memory must be positive: " + v);
            }
            memoryBytes = v;
            return this;
        }

        public RegenEngine build() {
            return new RegenEngine(this);
        }
    }
}
