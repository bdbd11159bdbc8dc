package dev.regen;

import dev.regen.internal.BudgetSnapshot;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * How many renders go to the origin at once. Visitors' misses take any free slot and, when there is
 * none, wait ahead of all background work (refresh-ahead, eager revalidation, stale refreshes,
 * warming). Background work also stays under its own limit, which halves when the origin fails or
 * answers slower than twice its usual time and grows by one per limit's worth of good renders (AIMD);
 * waiting background work beyond the queue size is shed. With {@code auto} the whole budget follows the
 * origin the same way, within {@value #AUTO_MIN}..{@value #AUTO_MAX}. A visitor never waits longer than
 * {@code maxWait} for a slot: then it goes over the budget rather than fail.
 *
 * <p>Thread-safe; callers pass the render's head latency when they release a slot.
 */
final class RenderBudget {
    static final int AUTO_START = 16;
    static final int AUTO_MIN = 4;
    static final int AUTO_MAX = 256;
    /** A render is slow when its head took over this many times the usual head time... */
    private static final double SLOW_FACTOR = 2.0;
    /** ...and over this much more than the usual time (jitter of fast origins is not a slowdown). */
    private static final long SLOW_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final int fixed;
    /** The whole budget when auto, else null (fixed). */
    private final Aimd total;

    private final Aimd background;
    private final int maxQueued;
    private final Duration maxWait;
    private final Executor dispatch;
    private final LongSupplier ticker;
    private final ArrayDeque<CompletableFuture<Permit>> visitors = new ArrayDeque<>();
    private final ArrayDeque<Consumer<Permit>> queued = new ArrayDeque<>();
    private int inUse;
    private int backgroundInUse;
    private long shed;
    private long overBudget;
    /** The usual head time: follows faster renders at once, slower ones slowly. */
    private double usualNanos = -1;

    /**
     * @param budget    fixed budget, or 0 for auto
     * @param maxQueued background work that may wait for a slot
     * @param maxWait   the longest a visitor waits for a slot
     * @param dispatch  runs background work (it may block)
     * @param ticker    nanoseconds, for spacing decreases
     */
    RenderBudget(int budget, int maxQueued, Duration maxWait, Executor dispatch, LongSupplier ticker) {
        this.total = budget == 0 ? new Aimd(AUTO_START, AUTO_MIN, AUTO_MAX) : null;
        int cap = budget == 0 ? AUTO_MAX : budget;
        this.background = new Aimd(budget == 0 ? AUTO_START : budget, 1, cap);
        this.maxQueued = maxQueued;
        this.maxWait = maxWait;
        this.dispatch = dispatch;
        this.fixed = budget;
        this.ticker = ticker;
    }

    /** One slot, released once. */
    final class Permit {
        private final boolean isBackground;
        private final AtomicBoolean released = new AtomicBoolean();

        private Permit(boolean isBackground) {
            this.isBackground = isBackground;
        }

        /**
         * Frees the slot. {@code headNanos} is how long the origin took to answer, or -1 when it never
         * did ({@code failed}) or was never asked (nothing is learnt then).
         */
        void release(long headNanos, boolean failed) {
            if (released.compareAndSet(false, true)) {
                RenderBudget.this.release(this, headNanos, failed);
            }
        }
    }

    /** A slot for a visitor's miss: at once when one is free, else first in line. */
    CompletableFuture<Permit> visitor() {
        CompletableFuture<Permit> slot;
        synchronized (this) {
            if (visitors.isEmpty() && inUse < limit()) {
                inUse++;
                return CompletableFuture.completedFuture(new Permit(false));
            }
            slot = new CompletableFuture<>();
            visitors.add(slot);
        }
        CompletableFuture.delayedExecutor(maxWait.toMillis(), TimeUnit.MILLISECONDS)
                .execute(() -> {
                    synchronized (this) {
                        // this very slot: CompletableFuture keeps Object's (identity) equals
                        @SuppressWarnings("CollectionUndefinedEquality")
                        boolean stillWaiting = visitors.remove(slot);
                        if (!stillWaiting) {
                            return;
                        }
                        inUse++;
                        overBudget++;
                    }
                    slot.complete(new Permit(false));
                });
        return slot;
    }

    /**
     * Runs {@code work} on the dispatch executor with a background slot: at once when one is free and no
     * visitor waits, later when it can wait in the queue; returns false, running nothing, when the queue
     * is full (the work is shed).
     */
    boolean background(Consumer<Permit> work) {
        Permit now;
        synchronized (this) {
            if (visitors.isEmpty() && queued.isEmpty() && inUse < limit() && backgroundInUse < background.limit()) {
                inUse++;
                backgroundInUse++;
                now = new Permit(true);
            } else if (queued.size() < maxQueued) {
                queued.add(work);
                return true;
            } else {
                shed++;
                return false;
            }
        }
        start(work, now);
        return true;
    }

    private void start(Consumer<Permit> work, Permit permit) {
        try {
            dispatch.execute(() -> work.accept(permit));
        } catch (RuntimeException e) {
            permit.release(-1, false);
        }
    }

    private void release(Permit p, long headNanos, boolean failed) {
        CompletableFuture<Permit> visitor = null;
        ArrayDeque<Consumer<Permit>> start = new ArrayDeque<>();
        synchronized (this) {
            inUse--;
            if (p.isBackground) {
                backgroundInUse--;
            }
            boolean bad = failed || slow(headNanos);
            boolean sample = failed || headNanos >= 0;
            if (!failed && headNanos >= 0) {
                if (usualNanos < 0) {
                    usualNanos = headNanos;
                } else if (headNanos < usualNanos) {
                    usualNanos = (usualNanos + headNanos) / 2;
                } else {
                    usualNanos += (headNanos - usualNanos) / 100;
                }
            }
            long now = ticker.getAsLong();
            long cooldown = (long) Math.max(usualNanos, (double) TimeUnit.MILLISECONDS.toNanos(10));
            if (sample) {
                background.sample(bad, now, cooldown);
                if (total != null) {
                    total.sample(bad, now, cooldown);
                }
            }
            if (!visitors.isEmpty() && inUse < limit()) {
                visitor = visitors.poll();
                inUse++;
            }
            while (visitors.isEmpty() && !queued.isEmpty() && inUse < limit() && backgroundInUse < background.limit()) {
                inUse++;
                backgroundInUse++;
                start.add(queued.poll());
            }
        }
        if (visitor != null) {
            visitor.complete(new Permit(false));
        }
        for (Consumer<Permit> work : start) {
            start(work, new Permit(true));
        }
    }

    private boolean slow(long headNanos) {
        return headNanos >= 0
                && usualNanos > 0
                && headNanos > SLOW_FACTOR * usualNanos
                && headNanos - usualNanos > SLOW_MARGIN_NANOS;
    }

    private int limit() {
        return total != null ? total.limit() : fixed;
    }

    /** Drops the work still waiting (the engine is closing). */
    synchronized void clear() {
        queued.clear();
        for (Iterator<CompletableFuture<Permit>> it = visitors.iterator(); it.hasNext(); ) {
            it.next().cancel(false);
            it.remove();
        }
    }

    synchronized BudgetSnapshot snapshot() {
        return new BudgetSnapshot(
                limit(),
                background.limit(),
                inUse,
                visitors.size(),
                queued.size(),
                shed,
                overBudget,
                usualNanos < 0 ? 0 : (long) usualNanos);
    }

    /** Additive increase, multiplicative decrease, at most one decrease per cooldown. */
    private static final class Aimd {
        private final int min;
        private final int max;
        private double limit;
        private long lastDecrease = Long.MIN_VALUE / 2;

        Aimd(int start, int min, int max) {
            this.min = min;
            this.max = max;
            this.limit = Math.max(min, Math.min(max, start));
        }

        void sample(boolean bad, long now, long cooldown) {
            if (bad) {
                if (now - lastDecrease >= cooldown) {
                    limit = Math.max(min, limit / 2);
                    lastDecrease = now;
                }
            } else {
                limit = Math.min(max, limit + 1 / limit);
            }
        }

        int limit() {
            return (int) limit;
        }
    }
}
