package dev.regen.store;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A stored value with its metadata.
 *
 * @param value      the bytes as put; callers must not mutate them
 * @param metadata   string metadata stored with the value, never null
 * @param expiration when the entry stops being returned, or null for never
 */
// the value is handed over without a copy; nothing compares entries by equals
@SuppressWarnings("ArrayRecordComponent")
public record KvEntry(byte[] value, Map<String, String> metadata, Instant expiration) {
    public KvEntry {
        Objects.requireNonNull(value, "value");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }
}
