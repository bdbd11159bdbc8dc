package dev.regen;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * On-demand revalidation from the app's own code, like Next.js {@code revalidatePath} /
 * {@code revalidateTag}: call it after the data behind some pages changed. For every embedder of the
 * engine (the Spring starter exposes one as a bean; elsewhere {@code new RegenCache(engine)}).
 *
 * <ul>
 *   <li>{@code revalidate*} (soft): the pages are marked stale; the next request for each is still
 *       served the old page at once and starts one background render.</li>
 *   <li>{@code expire*} (hard): the pages are deleted; the next request for each waits for a render.</li>
 * </ul>
 * A path matches every cached query variant of it, a path ending in {@code /**} its whole subtree.
 * Tags come from the {@code Cache-Tag} / {@code Surrogate-Key} response headers and route rules.
 *
 * <p>The blocking methods return once every node sharing the store will see the change (at most a
 * few milliseconds for the built-in stores) and give the number of cached pages affected. When the
 * shared store or the other nodes did not take all of it (Redis down, failing over), they throw a
 * {@link dev.regen.RevalidationException} saying what was not applied: call again. Thread-safe.
 */
public final class RegenCache {
    private static final long WAIT_SECONDS = 30;

    private final RegenEngine engine;

    /** Revalidates pages of {@code engine}. */
    public RegenCache(RegenEngine engine) {
        this.engine = engine;
    }

    /** A cache that does nothing: what the app gets with {@code regen.enabled=false}. */
    public static RegenCache disabled() {
        return new RegenCache(null);
    }

    /** Marks the pages under {@code paths} stale. @throws IllegalArgumentException for a path that is not {@code /...} */
    public int revalidatePath(String... paths) {
        return join(invalidate(Arrays.asList(paths), List.of(), false));
    }

    /** Marks the pages tagged with any of {@code tags} stale. */
    public int revalidateTag(String... tags) {
        return join(invalidate(List.of(), Arrays.asList(tags), false));
    }

    /** Deletes the pages under {@code paths}: the next request for each is a MISS. */
    public int expirePath(String... paths) {
        return join(invalidate(Arrays.asList(paths), List.of(), true));
    }

    /** Deletes the pages tagged with any of {@code tags}. */
    public int expireTag(String... tags) {
        return join(invalidate(List.of(), Arrays.asList(tags), true));
    }

    /**
     * The general form, without waiting: completes with the number of cached pages affected, or
     * exceptionally with a {@link dev.regen.RevalidationException} when not all of it was applied.
     *
     * @throws IllegalArgumentException for a path that does not start with {@code /} or cannot be
     *                                  canonicalised, or an empty tag
     */
    public CompletableFuture<Integer> invalidate(Collection<String> paths, Collection<String> tags, boolean hard) {
        for (String p : paths) {
            if (p == null || !p.startsWith("/")) {
                throw new IllegalArgumentException("a path to revalidate must start with /: " + p);
            }
        }
        for (String t : tags) {
            if (t == null || t.isBlank()) {
                throw new IllegalArgumentException("a tag to revalidate must not be empty");
            }
        }
        if (engine == null || (paths.isEmpty() && tags.isEmpty())) {
            return CompletableFuture.completedFuture(0);
        }
        return engine.invalidate(paths, tags, hard);
    }

    private static int join(CompletableFuture<Integer> result) {
        try {
            return result.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while revalidating", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("revalidation did not finish within " + WAIT_SECONDS + " s", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("revalidation failed: " + e.getCause(), e.getCause());
        }
    }
}
