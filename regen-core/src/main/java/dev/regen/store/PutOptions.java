package dev.regen.store;

import java.time.Instant;
import java.util.Map;

/**
 * Options of {@link KvStore#put}.
 *
 * @param expiration absolute time after which the entry is gone, or null for never
 * @param metadata   string metadata stored atomically with the value; never null
 */
public record PutOptions(Instant expiration, Map<String, String> metadata) {
    public static final PutOptions NONE = new PutOptions(null, Map.of());

    public PutOptions {
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    public static PutOptions metadata(Map<String, String> metadata) {
        return new PutOptions(null, metadata);
    }

    public PutOptions withExpiration(Instant at) {
        return new PutOptions(at, metadata);
    }
}
