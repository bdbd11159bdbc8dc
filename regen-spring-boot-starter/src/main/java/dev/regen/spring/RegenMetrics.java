package dev.regen.spring;

import dev.regen.RegenEngine;
import dev.regen.Stats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.function.ToDoubleFunction;

/**
 * The engine's counters in the app's Micrometer registry. In Prometheus form:
 * {@code regen_cache_requests_total{status="hit|stale|miss|bypass"}}, {@code regen_renders_total},
 * {@code regen_render_errors_total}, {@code regen_invalidations_total},
 * {@code regen_background_skipped_total}, {@code regen_memory_entries}, {@code regen_memory_bytes}.
 * Read from {@link RegenEngine#stats()} when scraped; nothing is counted twice.
 */
public final class RegenMetrics implements MeterBinder {
    private final RegenEngine engine;

    public RegenMetrics(RegenEngine engine) {
        this.engine = engine;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Stats stats = engine.stats();
        requests(registry, stats, "hit", Stats::hits);
        requests(registry, stats, "stale", Stats::staleHits);
        requests(registry, stats, "miss", Stats::misses);
        requests(registry, stats, "bypass", Stats::bypasses);
        FunctionCounter.builder("regen.renders", stats, Stats::renders)
                .description("Renders of pages by the app, foreground and background")
                .register(registry);
        FunctionCounter.builder("regen.render.errors", stats, Stats::renderErrors)
                .description("Renders that failed (timeout, unreachable, 5xx)")
                .register(registry);
        FunctionCounter.builder("regen.invalidations", stats, Stats::invalidations)
                .description("Cached pages affected by on-demand revalidation")
                .register(registry);
        FunctionCounter.builder("regen.background.skipped", stats, Stats::backgroundSkipped)
                .description("Stale hits that found the background render pool full")
                .register(registry);
        Gauge.builder("regen.memory.entries", engine, RegenEngine::memoryEntries)
                .description("Pages held in memory (L1)")
                .register(registry);
        Gauge.builder("regen.memory", engine, RegenEngine::memoryBytes)
                .baseUnit("bytes")
                .description("Approximate heap held by pages in memory (L1)")
                .register(registry);
    }

    private static void requests(MeterRegistry registry, Stats stats, String status, ToDoubleFunction<Stats> count) {
        FunctionCounter.builder("regen.cache.requests", stats, count)
                .tag("status", status)
                .description("Requests answered through Regen, by X-Cache-Status")
                .register(registry);
    }
}
