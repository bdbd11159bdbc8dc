package dev.regen.store.embedded;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entries found corrupt on read: each is logged once, counted, and queued for the background thread
 * to delete (reads stay read-only). The store reports itself degraded for {@link #RECENT} after the
 * last one found, so an operator sees it on the health page, not only in the log.
 */
final class Corruption {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedStore.class);
    static final Duration RECENT = Duration.ofMinutes(10);
    /** Keys logged and not yet removed: a bound, for a store whose every page is damaged. */
    private static final int MAX_PENDING = 10_000;

    /** @param id the row, or -1 when it could not be read at all */
    record Found(long id, String key) {}

    private final Path file;
    private final InstantSource clock;
    private final Set<String> pendingKeys = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<Found> pending = new ConcurrentLinkedQueue<>();
    private final AtomicLong count = new AtomicLong();
    private volatile Instant last;

    Corruption(Path file, InstantSource clock) {
        this.file = file;
        this.clock = clock;
    }

    /** Entry {@code key} (row {@code id}) read back as {@code what}: logs it once and queues its removal. */
    void found(long id, String key, String what) {
        if (pendingKeys.size() >= MAX_PENDING || !pendingKeys.add(key)) {
            return; // already logged and queued
        }
        count.incrementAndGet();
        last = clock.instant();
        pending.add(new Found(id, key));
        log.warn(
                "embedded store {}: the entry {} is corrupt ({}): it is removed and will be rendered again; "
                        + "run `regen store check {}` to check the whole store",
                file,
                key,
                what,
                file.getParent());
    }

    /** The entries to remove, taken off the queue; they may be logged again if found corrupt again later. */
    List<Found> drain() {
        List<Found> out = new ArrayList<>();
        Found f;
        while ((f = pending.poll()) != null) {
            out.add(f);
            pendingKeys.remove(f.key());
        }
        return out;
    }

    /** A reason for the health page while corruption was found in the last {@link #RECENT}, else null. */
    String recent() {
        Instant at = last;
        if (at == null || !clock.instant().isBefore(at.plus(RECENT))) {
            return null;
        }
        return count.get() + " corrupt " + (count.get() == 1 ? "entry" : "entries") + " found since start, the last at "
                + at + ", and removed: run `regen store check " + file.getParent() + "`";
    }
}
