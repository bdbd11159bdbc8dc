package dev.regen;

import java.util.List;

/**
 * A revalidation that was not fully applied: the shared store did not take some of it, or the other
 * nodes were not told. What {@link #applied()} counts did happen; {@link #notApplied()} says, one line
 * each, what did not. The caller should retry the whole call (revalidating twice is harmless).
 */
public final class RevalidationException extends RuntimeException {
    private final int applied;
    private final List<String> notApplied;

    public RevalidationException(int applied, List<String> notApplied) {
        super("revalidation not fully applied (" + applied + " entries done; not done: "
                + String.join("; ", notApplied.subList(0, Math.min(3, notApplied.size())))
                + (notApplied.size() > 3 ? "; and " + (notApplied.size() - 3) + " more" : "") + ")");
        this.applied = applied;
        this.notApplied = List.copyOf(notApplied);
    }

    /** Cached entries that were revalidated all the same. */
    public int applied() {
        return applied;
    }

    /** What was not applied, one line each (a key, a listing, a tag, the announcement to other nodes). */
    public List<String> notApplied() {
        return notApplied;
    }
}
