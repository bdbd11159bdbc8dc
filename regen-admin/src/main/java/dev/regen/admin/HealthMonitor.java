package dev.regen.admin;

import dev.regen.store.KvStore;
import dev.regen.store.StoreHealth;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A {@link HealthCheck} that probes the store and the origin in the background, every
 * {@code interval}, so that health requests (public, maybe frequent) cost nothing and never reach
 * the origin. Each probe runs on its own thread: a hanging origin can't delay the store's check. A
 * probe still running after {@code timeout} reports its component down. The store's own view
 * ({@link KvStore#health()}, read at each report, never blocking) adds what a probe cannot see:
 * degraded with its reason (writes refused, a disk full, corruption found), or down.
 *
 * <p>Thread-safe. {@link #close()} stops the threads.
 */
public final class HealthMonitor implements HealthCheck, AutoCloseable {
    /** Key read by the store probe: a miss is the expected answer. */
    static final String PROBE_KEY = "regen:health-probe";

    /** One check. Returns a few words about what it saw when healthy; throws when not. */
    @FunctionalInterface
    public interface Probe {
        String check() throws Exception;
    }

    private final InstantSource clock;
    private final Duration timeout;
    private final ScheduledExecutorService scheduler;
    private final Watch store;
    private final Watch origin;

    private final Supplier<StoreHealth> storeHealth;

    private HealthMonitor(
            Probe store,
            Supplier<StoreHealth> storeHealth,
            Probe origin,
            Duration interval,
            Duration timeout,
            InstantSource clock) {
        this.clock = clock;
        this.storeHealth = storeHealth;
        this.timeout = timeout;
        AtomicInteger n = new AtomicInteger();
        this.scheduler =
                Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "regen-health-" + n.incrementAndGet()));
        this.store = new Watch("store", store);
        this.origin = new Watch("origin", origin);
        // tick() fails on nothing (a probe's failure is its result); close() stops it with the scheduler
        ScheduledFuture<?> unused = scheduler.scheduleWithFixedDelay(
                () -> {
                    this.store.tick();
                    this.origin.tick();
                },
                0,
                interval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * Starts probing: the store by reading one (absent) key, the origin with {@code origin}.
     *
     * @param interval between two checks, e.g. 10 s
     */
    public static HealthMonitor start(KvStore store, Probe origin, Duration interval) {
        Objects.requireNonNull(store, "store");
        return start(
                () -> {
                    store.get(PROBE_KEY);
                    return "reachable";
                },
                store::health,
                origin,
                interval,
                Duration.ofSeconds(5),
                InstantSource.system());
    }

    /**
     * Starts probing with any two probes.
     *
     * @param timeout a probe still running after this reports its component down
     */
    public static HealthMonitor start(
            Probe store, Probe origin, Duration interval, Duration timeout, InstantSource clock) {
        return start(store, () -> StoreHealth.UP, origin, interval, timeout, clock);
    }

    /**
     * Starts probing with two probes and the store's own view of its health.
     *
     * @param storeHealth read at each report; must not block
     */
    public static HealthMonitor start(
            Probe store,
            Supplier<StoreHealth> storeHealth,
            Probe origin,
            Duration interval,
            Duration timeout,
            InstantSource clock) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(storeHealth, "storeHealth");
        Objects.requireNonNull(origin, "origin");
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive: " + interval);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        return new HealthMonitor(store, storeHealth, origin, interval, timeout, Objects.requireNonNull(clock, "clock"));
    }

    @Override
    public HealthReport report() {
        return new HealthReport(storeComponent(), origin.current());
    }

    /** The last probe, corrected by what the store says of itself now. */
    private HealthReport.Component storeComponent() {
        HealthReport.Component probed = store.current();
        StoreHealth live;
        try {
            live = storeHealth.get();
        } catch (RuntimeException e) {
            live = StoreHealth.UP;
        }
        return switch (live.state()) {
            case DOWN -> HealthReport.Component.down(live.reason(), clock.instant(), null);
            case DEGRADED ->
                probed.state() == HealthReport.State.DOWN
                        ? probed
                        : HealthReport.Component.degraded(live.reason(), clock.instant(), probed.latency());
            case UP -> {
                if (probed.state() == HealthReport.State.DOWN) {
                    store.tick(); // the store says it works again: probe now rather than at the next round
                }
                yield probed;
            }
        };
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        store.executor.shutdownNow();
        origin.executor.shutdownNow();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private final class Watch {
        final Probe probe;
        final ExecutorService executor;
        final AtomicBoolean running = new AtomicBoolean();
        final AtomicLong startedNanos = new AtomicLong();
        volatile HealthReport.Component last = HealthReport.Component.UNKNOWN;

        Watch(String name, Probe probe) {
            this.probe = probe;
            this.executor = Executors.newSingleThreadExecutor(r -> daemon(r, "regen-health-" + name));
        }

        void tick() {
            if (!running.compareAndSet(false, true)) {
                return; // the previous check still hangs: current() reports it
            }
            startedNanos.set(System.nanoTime());
            try {
                executor.execute(this::run);
            } catch (RejectedExecutionException e) {
                running.set(false);
            }
        }

        private void run() {
            long start = System.nanoTime();
            try {
                String detail = probe.check();
                last = HealthReport.Component.up(detail, clock.instant(), Duration.ofNanos(System.nanoTime() - start));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                last = HealthReport.Component.down(
                        describe(e), clock.instant(), Duration.ofNanos(System.nanoTime() - start));
            } finally {
                running.set(false);
            }
        }

        HealthReport.Component current() {
            if (running.get()) {
                long took = System.nanoTime() - startedNanos.get();
                if (took > timeout.toNanos()) {
                    return HealthReport.Component.down(
                            "no answer for " + TimeUnit.NANOSECONDS.toSeconds(took) + " s",
                            clock.instant(),
                            Duration.ofNanos(took));
                }
            }
            return last;
        }
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        String text = m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
        text = text.replaceAll("[\\p{Cntrl}\\s]+", " ").strip();
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }
}
