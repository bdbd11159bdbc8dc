package dev.regen.store;

import java.time.Instant;
import java.util.Map;

/**
 * A key as returned by {@link KvStore#list}: its metadata and expiration, without the value.
 *
 * @param size the value's length in bytes
 */
public record ListedKey(String name, Map<String, String> metadata, Instant expiration, long size) {
    public ListedKey {
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }
}
