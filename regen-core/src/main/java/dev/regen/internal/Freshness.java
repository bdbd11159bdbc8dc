package dev.regen.internal;

/** Where a cached page stands at a given instant. */
public enum Freshness {
    /** {@code age < revalidate}: serve it. */
    FRESH,
    /** Past revalidate but inside its stale window: serve it and render it again in the background. */
    STALE,
    /** Past its stale window: treat as missing. */
    EXPIRED
}
