package dev.regen.admin;

import dev.regen.CacheStatus;
import dev.regen.EngineListener;
import dev.regen.RegenEngine;
import dev.regen.store.KvStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Regen's metrics, the same names at every edge: an {@link EngineListener} that counts into a Micrometer
 * Prometheus registry (served at {@code /_regen/metrics}) and into the dashboard's 15-minute time
 * series. As a {@link MeterBinder} it also sends every Regen meter to an app's own registry (the
 * Spring Boot starter binds it to the app's), under the same names.
 *
 * <p>Wiring, in an edge: create it first, give it to {@link RegenEngine.Builder#listener}, optionally
 * wrap the store with {@link #instrument(KvStore)} before giving it to the engine, then call
 * {@link #bind(RegenEngine)} once the engine exists (for the gauges), and pass it to
 * {@link AdminApi.Builder#metrics}.
 *
 * <p>What is exported (Prometheus names):
 * <ul>
 *   <li>{@code regen_requests_total{status="hit|stale|miss|bypass"}}
 *   <li>{@code regen_render_duration_seconds{outcome="ok|uncacheable|not_found|error|timeout"}}: a
 *       histogram; its {@code _count} is the number of origin renders
 *   <li>{@code regen_origin_errors_total{kind="error|timeout"}}: renders that failed (5xx, unreachable,
 *       no answer in time)
 *   <li>{@code regen_invalidations_total{kind="path|tag|path+tag"}} (calls) and
 *       {@code regen_invalidated_entries_total{kind}} (entries they affected)
 *   <li>gauges {@code regen_background_queue_depth}, {@code regen_renders_in_flight},
 *       {@code regen_memory_entries}, {@code regen_memory_bytes}
 *   <li>{@code regen_store_operation_duration_seconds{op,result}} when the store is {@linkplain
 *       #instrument instrumented}
 *   <li>{@code regen_auth_failures_total{endpoint="login|webhook|api|metrics"}}: wrong secrets, and
 *       {@code regen_auth_throttled_total{endpoint}}: attempts refused with 429 because their client
 *       had too many wrong secrets in a row
 *   <li>the JVM's memory, threads, CPU and uptime
 * </ul>
 *
 * <p>Thread-safe; the listener methods only increment counters.
 */
public final class RegenMetrics implements EngineListener, MeterBinder {
    /** Render durations: from a fast origin (ms) to the render timeout (default 30 s). */
    private static final Duration[] RENDER_BUCKETS = {
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30)
    };

    private final PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** Regen's meters: into {@link #prometheus}, and into every registry given to {@link #bindTo}. */
    private final CompositeMeterRegistry registry = new CompositeMeterRegistry();

    private final Map<CacheStatus, Counter> requests = new EnumMap<>(CacheStatus.class);
    private final Map<RenderOutcome, Timer> renders = new EnumMap<>(RenderOutcome.class);
    private final Counter originErrors;
    private final Counter originTimeouts;
    private final Counter storeWriteFailures;
    private final Map<String, Counter> invalidations;
    private final Map<String, Counter> invalidatedEntries;
    private final Map<String, Counter> authFailures = new java.util.HashMap<>();
    private final Map<String, Counter> authThrottled = new java.util.HashMap<>();
    private final TimeSeries series;
    private final AtomicBoolean bound = new AtomicBoolean();

    /** Metrics on the system clock. */
    public RegenMetrics() {
        this(InstantSource.system());
    }

    /** @param clock the wall clock of the dashboard's time series */
    public RegenMetrics(InstantSource clock) {
        this.series = new TimeSeries(Objects.requireNonNull(clock, "clock"));
        registry.add(prometheus);
        for (CacheStatus s : CacheStatus.values()) {
            requests.put(
                    s,
                    Counter.builder("regen.requests")
                            .description("Requests answered by the cache engine, by X-Cache-Status")
                            .tag("status", s.name().toLowerCase(Locale.ROOT))
                            .register(registry));
        }
        for (RenderOutcome o : RenderOutcome.values()) {
            renders.put(
                    o,
                    Timer.builder("regen.render.duration")
                            .description("Origin renders and how long they took, by outcome")
                            .tag("outcome", o.name().toLowerCase(Locale.ROOT))
                            .serviceLevelObjectives(RENDER_BUCKETS)
                            .register(registry));
        }
        originErrors = Counter.builder("regen.origin.errors")
                .description("Renders that failed at the origin")
                .tag("kind", "error")
                .register(registry);
        originTimeouts = Counter.builder("regen.origin.errors")
                .description("Renders that failed at the origin")
                .tag("kind", "timeout")
                .register(registry);
        storeWriteFailures = Counter.builder("regen.store.write.failures")
                .description("Pages the store refused to write (full disk, Redis maxmemory…): kept in memory only")
                .register(registry);
        invalidations = Map.of(
                "path", invalidationCounter("path"),
                "tag", invalidationCounter("tag"),
                "path+tag", invalidationCounter("path+tag"));
        invalidatedEntries = Map.of(
                "path", invalidatedCounter("path"),
                "tag", invalidatedCounter("tag"),
                "path+tag", invalidatedCounter("path+tag"));
        for (AuthThrottle.Door door : AuthThrottle.Door.values()) {
            authFailures.put(
                    door.label,
                    Counter.builder("regen.auth.failures")
                            .description("Wrong secrets presented, by endpoint")
                            .tag("endpoint", door.label)
                            .register(registry));
            authThrottled.put(
                    door.label,
                    Counter.builder("regen.auth.throttled")
                            .description("Attempts refused with 429: their client had too many wrong secrets in a row")
                            .tag("endpoint", door.label)
                            .register(registry));
        }
        // the JVM's own meters for /_regen/metrics only: an app's registry has its own
        new JvmMemoryMetrics().bindTo(prometheus);
        new JvmThreadMetrics().bindTo(prometheus);
        new ProcessorMetrics().bindTo(prometheus);
        new UptimeMetrics().bindTo(prometheus);
    }

    private Counter invalidationCounter(String kind) {
        return Counter.builder("regen.invalidations")
                .description("On-demand revalidation calls, by kind")
                .tag("kind", kind)
                .register(registry);
    }

    private Counter invalidatedCounter(String kind) {
        return Counter.builder("regen.invalidated.entries")
                .description("Cached entries affected by on-demand revalidation, by kind")
                .tag("kind", kind)
                .register(registry);
    }

    /**
     * Registers the engine's gauges (background queue, renders in flight, L1 entries and bytes). Call
     * once, after the engine is built.
     *
     * @throws IllegalStateException when already bound
     */
    public void bind(RegenEngine engine) {
        Objects.requireNonNull(engine, "engine");
        if (!bound.compareAndSet(false, true)) {
            throw new IllegalStateException("these metrics are already bound to an engine");
        }
        Gauge.builder("regen.background.queue.depth", engine, RegenEngine::backgroundQueueDepth)
                .description("Background renders waiting for a slot of the render budget")
                .strongReference(true)
                .register(registry);
        Gauge.builder("regen.render.budget", engine, e -> e.renderBudget().limit())
                .description("Renders the origin may get at once (the render budget)")
                .strongReference(true)
                .register(registry);
        Gauge.builder(
                        "regen.render.budget.background",
                        engine,
                        e -> e.renderBudget().backgroundLimit())
                .description("Background renders the origin may get at once (backs off when it slows or fails)")
                .strongReference(true)
                .register(registry);
        Gauge.builder(
                        "regen.render.budget.waiting",
                        engine,
                        e -> e.renderBudget().visitorsWaiting())
                .description("Visitors' misses waiting for a slot of the render budget")
                .strongReference(true)
                .register(registry);
        FunctionCounter.builder(
                        "regen.background.shed", engine, e -> e.renderBudget().shed())
                .description("Background renders dropped because the render budget's queue was full")
                .register(registry);
        FunctionCounter.builder(
                        "regen.renders.unchanged", engine, e -> e.stats().unchanged())
                .description(
                        "Renders whose bytes equalled the stored page's (304s included): only its freshness was written")
                .register(registry);
        FunctionCounter.builder(
                        "regen.renders.not.modified", engine, e -> e.stats().notModified())
                .description("Background renders the origin answered 304 Not Modified")
                .register(registry);
        FunctionCounter.builder("regen.renders.ahead", engine, e -> e.stats().refreshAhead())
                .description("Background renders of fresh pages requested near the end of their fresh window")
                .register(registry);
        FunctionCounter.builder("regen.renders.eager", engine, e -> e.stats().eager())
                .description("Background renders queued by soft revalidations for pages with recent traffic")
                .register(registry);
        Gauge.builder("regen.renders.in.flight", engine, RegenEngine::rendersInFlight)
                .description("Renders under way on this node, foreground and background")
                .strongReference(true)
                .register(registry);
        Gauge.builder("regen.memory.entries", engine, RegenEngine::memoryEntries)
                .description("Pages held in the in-memory cache (L1)")
                .strongReference(true)
                .register(registry);
        Gauge.builder("regen.memory", engine, RegenEngine::memoryBytes)
                .description("Approximate heap taken by the in-memory cache (L1)")
                .baseUnit(BaseUnits.BYTES)
                .strongReference(true)
                .register(registry);
    }

    /**
     * The store with each operation timed into {@code regen_store_operation_duration_seconds}. Closing
     * the returned store closes {@code store}.
     */
    public KvStore instrument(KvStore store) {
        return new MeteredKvStore(store, registry);
    }

    /**
     * Sends Regen's meters, those registered so far and later ones, to {@code other} as well, under the
     * same names; the JVM's are left to it.
     */
    @Override
    public void bindTo(MeterRegistry other) {
        registry.add(other);
    }

    /** Everything in Prometheus text format 0.0.4. */
    public String scrape() {
        return prometheus.scrape();
    }

    TimeSeries series() {
        return series;
    }

    void authFailure(String endpoint) {
        authFailures.get(endpoint).increment();
    }

    void authThrottled(String endpoint) {
        authThrottled.get(endpoint).increment();
    }

    @Override
    public void served(CacheStatus status) {
        requests.get(status).increment();
        series.served(status);
    }

    @Override
    public void rendered(RenderOutcome outcome, Duration took) {
        renders.get(outcome).record(took);
        if (outcome == RenderOutcome.ERROR) {
            originErrors.increment();
        } else if (outcome == RenderOutcome.TIMEOUT) {
            originTimeouts.increment();
        }
        series.rendered(outcome, took);
    }

    @Override
    public void storeWriteFailed() {
        storeWriteFailures.increment();
    }

    @Override
    public void invalidated(String kind, int entries) {
        Counter calls = invalidations.get(kind);
        Counter affected = invalidatedEntries.get(kind);
        if (calls == null) {
            // a kind this build doesn't know yet: count it under its own label rather than lose it
            calls = invalidationCounter(kind);
            affected = invalidatedCounter(kind);
        }
        calls.increment();
        affected.increment(entries);
    }
}
