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
    final LongAdder refreshAhead = new LongAdder();
    final LongAdder eager = new LongAdder();
    final LongAdder unchanged = new LongAdder();
    final LongAdder notModified = new LongAdder();
    final LongAdder clusterDrops = new LongAdder();
    final LongAdder clusterRefreshes = new LongAdder();

    public long hits() {
        return hits.sum();
    }

    public long staleHits() {
        return staleHits.sum();
    }

    public long misses() {
        return misses.sum();
    }

    public long bypasses() {
        return bypasses.sum();
    }

    public long renders() {
        return renders.sum();
    }

    public long renderErrors() {
        return renderErrors.sum();
    }
    /** Background renders shed: the render budget's queue was full. */
    public long backgroundSkipped() {
        return backgroundSkipped.sum();
    }
    /** Entries affected by on-demand revalidation. */
    public long invalidations() {
        return invalidations.sum();
    }
    /** Background renders started for fresh pages requested near the end of their fresh window. */
    public long refreshAhead() {
        return refreshAhead.sum();
    }
    /** Background renders queued by soft revalidations for pages with recent traffic. */
    public long eager() {
        return eager.sum();
    }
    /**
     * Renders whose bytes equalled the stored page's, 304 answers to background renders included: only
     * the page's freshness was written.
     */
    public long unchanged() {
        return unchanged.sum();
    }
    /** Background renders the origin answered 304 (no body transferred). */
    public long notModified() {
        return notModified.sum();
    }
    /** Copies in memory dropped because another node changed their page. */
    public long clusterDrops() {
        return clusterDrops.sum();
    }
    /** Copies in memory kept, with a new render time, because another node re-rendered them unchanged. */
    public long clusterRefreshes() {
        return clusterRefreshes.sum();
    }
}
