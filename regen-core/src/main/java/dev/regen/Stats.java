package dev.regen;

import java.util.concurrent.atomic.LongAdder;

/** Engine counters since start. Cheap to update from any thread. */
public final class Stats {
    final LongAdder hits = new LongAdder();
    final LongAdder staleHits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder bypasses = new LongAdder();
    final LongAdder renders = new LongAdder();
    final LongAdder renderErrors = new LongAdder();
    final LongAdder backgroundSkipped = new LongAdder();
    final LongAdder invalidations = new LongAdder();

    public long hits() { return hits.sum(); }
    public long staleHits() { return staleHits.sum(); }
    public long misses() { return misses.sum(); }
    public long bypasses() { return bypasses.sum(); }
    public long renders() { return renders.sum(); }
    public long renderErrors() { return renderErrors.sum(); }
    /** Stale hits that found the background pool and its queue full, so queued no render. */
    public long backgroundSkipped() { return backgroundSkipped.sum(); }
    /** Entries affected by on-demand revalidation. */
    public long invalidations() { return invalidations.sum(); }
}
