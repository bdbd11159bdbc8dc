package dev.regen.store.redis;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Where things live in Redis. With the default prefix {@code regen:}:
 *
 * <pre>
 * standalone                      Redis Cluster (shard s = crc32(key) mod shards)
 * regen:k:&lt;key&gt;   HASH v m x      regen:{s&lt;s&gt;}:k:&lt;key&gt;   one entry
 * regen:idx       ZSET            regen:{s&lt;s&gt;}:idx       every key of the shard, score 0, for listing
 * regen:exp       ZSET            regen:{s&lt;s&gt;}:exp       keys with an expiry, score = Redis-time expiry ms
 * regen:lock:&lt;key&gt;  STRING token    (same)                 the render lock, its own slot
 * regen:changes   pub/sub channel (same)
 * </pre>
 *
 * In a cluster the hash tag {@code {s<n>}} puts a shard's entries and its two indexes in one slot,
 * so a put updates all three in one atomic script, while the shards spread over the masters.
 */
final class KeyLayout {

    private final String prefix;
    private final int shards;
    private final boolean cluster;
    private final byte[][] hashPrefix;
    private final byte[][] index;
    private final byte[][] expiries;

    KeyLayout(String prefix, int shards, boolean cluster) {
        if (shards < 1 || (!cluster && shards != 1)) {
            throw new IllegalArgumentException("shards must be 1 without a cluster, positive with one: " + shards);
        }
        this.prefix = prefix;
        this.shards = shards;
        this.cluster = cluster;
        hashPrefix = new byte[shards][];
        index = new byte[shards][];
        expiries = new byte[shards][];
        for (int s = 0; s < shards; s++) {
            String base = prefix + (cluster ? "{s" + s + "}:" : "");
            hashPrefix[s] = bytes(base + "k:");
            index[s] = bytes(base + "idx");
            expiries[s] = bytes(base + "exp");
        }
    }

    static KeyLayout of(RedisConfig config) {
        return new KeyLayout(config.prefix(), config.shards(), config.cluster());
    }

    int shards() {
        return shards;
    }

    boolean cluster() {
        return cluster;
    }

    /** The shard of a key: stable across processes and versions (CRC-32 of its UTF-8 bytes). */
    int shard(byte[] key) {
        if (shards == 1) {
            return 0;
        }
        CRC32 crc = new CRC32();
        crc.update(key);
        return (int) (crc.getValue() % shards);
    }

    byte[] hashPrefix(int shard) {
        return hashPrefix[shard];
    }

    byte[] hash(int shard, byte[] key) {
        return Wire.concat(hashPrefix[shard], key);
    }

    byte[] index(int shard) {
        return index[shard];
    }

    byte[] expiries(int shard) {
        return expiries[shard];
    }

    byte[] lock(byte[] key) {
        return Wire.concat(bytes(prefix + "lock:"), key);
    }

    /** Set while a render of the key is under way elsewhere and the key was invalidated meanwhile. */
    byte[] invalidatedMark(byte[] key) {
        return Wire.concat(bytes(prefix + "inv:"), key);
    }

    byte[] channel() {
        return bytes(prefix + "changes");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
