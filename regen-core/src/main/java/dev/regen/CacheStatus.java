package dev.regen;

/** The value of {@code X-Cache-Status}. */
public enum CacheStatus {
    HIT,
    STALE,
    MISS,
    BYPASS
}
