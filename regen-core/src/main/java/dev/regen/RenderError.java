package dev.regen;

import java.time.Instant;

/** A render that failed, as the dashboard lists it. {@code key} is the cache key. */
public record RenderError(Instant at, String key, String reason) {
    /** The path and query of the page. */
    public String path() {
        return Keys.path(key);
    }
}
