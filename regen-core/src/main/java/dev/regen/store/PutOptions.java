package dev.regen.store;

import java.time.Instant;
import java.util.Map;

/**
 * Options of {@link KvStore#put}.
 *
 * @param expiration absolute time after which the entry is gone, or null for never
 * @param metadata   string metadata stored atomically with the value; never null
 * @param owner      the key this entry belongs to, or null: for an index entry that means nothing
 *                   without another entry (a tag index entry and its page). A store that drops entries
 *                   on its own (a size budget, an eviction policy) drops an owned entry with its owner,
 *                   and never an owned entry while its owner stays. {@link KvStore#delete} does not
 *                   cascade: the caller deletes what it indexed. A store that never drops entries on its
 *                   own may ignore the owner. One level only: the entries owned by an owned entry are
 *                   not followed.
 */
public record PutOptions(Instant expiration, Map<String, String> metadata, String owner) {
    public static final PutOptions NONE = new PutOptions(null, Map.of(), null);

    public PutOptions {
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    /** Options without an owner. */
    public PutOptions(Instant expiration, Map<String, String> metadata) {
        this(expiration, metadata, null);
    }

    public static PutOptions metadata(Map<String, String> metadata) {
        return new PutOptions(null, metadata, null);
    }

    public PutOptions withExpiration(Instant at) {
        return new PutOptions(at, metadata, owner);
    }

    /** These options with {@code key} as the owner (null for none). */
    public PutOptions withOwner(String key) {
        return new PutOptions(expiration, metadata, key);
    }
}
