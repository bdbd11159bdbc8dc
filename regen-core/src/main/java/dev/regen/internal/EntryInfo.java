package dev.regen.internal;

import java.time.Instant;
import java.util.Set;

/**
 * What the admin API shows of one cached page.
 *
 * @param key       the cache key (public host, path, kept query)
 * @param path      path and query
 * @param expiresAt when it stops being served even stale, or null for never
 * @param size      body bytes
 */
public record EntryInfo(
        String key,
        String path,
        int status,
        long ageSeconds,
        long revalidateSeconds,
        Instant expiresAt,
        Set<String> tags,
        long size,
        Freshness freshness) {}
