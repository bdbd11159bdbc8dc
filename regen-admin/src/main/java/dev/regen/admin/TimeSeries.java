package dev.regen.admin;

import dev.regen.CacheStatus;
import dev.regen.EngineListener.RenderOutcome;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The last 15 minutes of traffic for the dashboard: a ring of fixed-width buckets (10 s), each with
 * requests by cache status, renders by outcome and a coarse histogram of render durations. A bucket
 * is reused once the ring comes round to it again; nothing grows.
 *
 * <p>Thread-safe and cheap to update: one {@link LongAdder} increment per event, a lock only when a
 * bucket is started (once per 10 s).
 */
final class TimeSeries {
    static final Duration STEP = Duration.ofSeconds(10);
    static final int BUCKETS = 90;
    /** Upper bounds of the render-duration histogram, milliseconds; one more bucket above the last. */
    static final double[] BOUNDS_MS = {
        1, 2, 3, 5, 7.5, 10, 15, 25, 40, 60, 100, 150, 250, 400, 600, 1000, 1500, 2500, 4000, 6000, 10000, 15000, 30000,
        60000
    };

    private static final CacheStatus[] STATUSES = CacheStatus.values();
    private static final RenderOutcome[] OUTCOMES = RenderOutcome.values();

    private final InstantSource clock;
    private final long stepMillis = STEP.toMillis();
    private final Slot[] ring = new Slot[BUCKETS];

    TimeSeries(InstantSource clock) {
        this.clock = clock;
        for (int i = 0; i < BUCKETS; i++) {
            ring[i] = new Slot();
        }
    }

    @SuppressWarnings("EnumOrdinal") // counters indexed by ordinal within this process, never persisted
    void served(CacheStatus status) {
        slot().requests[status.ordinal()].increment();
    }

    @SuppressWarnings("EnumOrdinal") // as served()
    void rendered(RenderOutcome outcome, Duration took) {
        Slot s = slot();
        s.renders[outcome.ordinal()].increment();
        s.latency[bucketOf(took.toNanos() / 1e6)].increment();
    }

    private static int bucketOf(double ms) {
        for (int i = 0; i < BOUNDS_MS.length; i++) {
            if (ms <= BOUNDS_MS[i]) {
                return i;
            }
        }
        return BOUNDS_MS.length;
    }

    private Slot slot() {
        long n = clock.millis() / stepMillis;
        Slot s = ring[(int) Math.floorMod(n, (long) BUCKETS)];
        if (s.number != n) {
            s.start(n);
        }
        return s;
    }

    /** The whole window, oldest bucket first, ending with the bucket under way. */
    Snapshot snapshot() {
        long now = clock.millis();
        long last = now / stepMillis;
        List<Bucket> out = new ArrayList<>(BUCKETS);
        long[] latency = new long[BOUNDS_MS.length + 1];
        for (long n = last - BUCKETS + 1; n <= last; n++) {
            Slot s = ring[(int) Math.floorMod(n, (long) BUCKETS)];
            long[] requests = new long[STATUSES.length];
            long[] renders = new long[OUTCOMES.length];
            if (s.number == n) {
                for (int i = 0; i < requests.length; i++) {
                    requests[i] = s.requests[i].sum();
                }
                for (int i = 0; i < renders.length; i++) {
                    renders[i] = s.renders[i].sum();
                }
                for (int i = 0; i < latency.length; i++) {
                    latency[i] += s.latency[i].sum();
                }
            }
            out.add(new Bucket(n * stepMillis, requests, renders));
        }
        return new Snapshot(now, stepMillis, out, latency);
    }

    /**
     * @param startMillis epoch millis at which the bucket starts
     * @param requests    by {@link CacheStatus} ordinal
     * @param renders     by {@link RenderOutcome} ordinal
     */
    // arrays indexed by ordinal, built once per snapshot; buckets are never compared by equals
    @SuppressWarnings({"ArrayRecordComponent", "EnumOrdinal"})
    record Bucket(long startMillis, long[] requests, long[] renders) {
        long requests(CacheStatus s) {
            return requests[s.ordinal()];
        }

        long renders(RenderOutcome o) {
            return renders[o.ordinal()];
        }
    }

    /** @param latency render durations over the window, counts per {@link #BOUNDS_MS} bucket */
    @SuppressWarnings("ArrayRecordComponent") // never compared by equals
    record Snapshot(long nowMillis, long stepMillis, List<Bucket> buckets, long[] latency) {
        /** The {@code q}-quantile of render durations in the window, in ms, or NaN without renders. */
        double renderQuantileMs(double q) {
            long total = 0;
            for (long c : latency) {
                total += c;
            }
            if (total == 0) {
                return Double.NaN;
            }
            double rank = q * total;
            long seen = 0;
            for (int i = 0; i < latency.length; i++) {
                if (latency[i] == 0) {
                    continue;
                }
                if (seen + latency[i] >= rank) {
                    double lower = i == 0 ? 0 : BOUNDS_MS[i - 1];
                    double upper = i < BOUNDS_MS.length ? BOUNDS_MS[i] : lower * 2;
                    // linear within the bucket, as Prometheus' histogram_quantile does
                    return lower + (upper - lower) * (rank - seen) / latency[i];
                }
                seen += latency[i];
            }
            return BOUNDS_MS[BOUNDS_MS.length - 1];
        }
    }

    private static final class Slot {
        volatile long number = Long.MIN_VALUE;
        final LongAdder[] requests = adders(STATUSES.length);
        final LongAdder[] renders = adders(OUTCOMES.length);
        final LongAdder[] latency = adders(BOUNDS_MS.length + 1);

        synchronized void start(long n) {
            if (number == n) {
                return;
            }
            for (LongAdder a : requests) {
                a.reset();
            }
            for (LongAdder a : renders) {
                a.reset();
            }
            for (LongAdder a : latency) {
                a.reset();
            }
            // published after the reset: whoever sees the new number counts into clean adders
            number = n;
        }

        private static LongAdder[] adders(int n) {
            LongAdder[] out = new LongAdder[n];
            for (int i = 0; i < n; i++) {
                out[i] = new LongAdder();
            }
            return out;
        }
    }
}
