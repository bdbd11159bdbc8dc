package dev.regen.store.redis;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Where things live in Redis. With the default prefix {@code regen:}:
 *
 * <pre>
 * standalone                      Redis Cluster (shard g = crc32(group of key) mod shards)
 * regen:k:&lt;key&gt;   HASH v m x      regen:{g&lt;g&gt;}:k:&lt;key&gt;   one entry
 * regen:idx       ZSET            regen:{g&lt;g&gt;}:idx       every key of the shard, score 0, for listing
 * regen:exp       ZSET            regen:{g&lt;g&gt;}:exp       keys with an expiry, score = Redis-time expiry ms
 * regen:lock:&lt;key&gt;  STRING token    (same)                 the render lock, its own slot
 * regen:changes   pub/sub channel (same)
 * </pre>
 *
 * In a cluster the hash tag {@code {g<n>}} puts a shard's entries and its two indexes in one slot,
 * so a put updates all three in one atomic script, while the shards spread over the masters.
 *
 * <p>The <b>group</b> of a key is its text before the first space or {@code ?} (all of it when it has
 * neither): keys of one group share a shard. Regen's keys start with the page's path
 * ({@code page:/blog/a?x @host ~variant}, group {@code page:/blog/a}) or the tag
 * ({@code tag:posts /blog/a @host}, group {@code tag:posts}), so every entry of one path, and every
 * index entry of one tag, is on one shard, and a listing whose prefix reaches past the group (a space
 * or {@code ?} in it) asks that shard alone: revalidating a path or a tag needs only the masters that
 * hold it, and works while another master is down. (Layout version 2: version 1 hashed whole keys
 * under {@code {s<n>}}.)
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
            String base = prefix + (cluster ? "{g" + s + "}:" : "");
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

    /** The shard of a key: stable across processes and versions (CRC-32 of its group's UTF-8 bytes). */
    int shard(byte[] key) {
        if (shards == 1) {
            return 0;
        }
        CRC32 crc = new CRC32();
        crc.update(key, 0, groupLength(key));
        return (int) (crc.getValue() % shards);
    }

    /**
     * The one shard that can hold keys starting with {@code prefix}, or -1 when keys of several groups
     * start with it (the prefix ends before its group does).
     */
    int shardOfPrefix(byte[] prefix) {
        if (shards == 1) {
            return 0;
        }
        return groupLength(prefix) < prefix.length ? shard(prefix) : -1;
    }

    /** The length of a key's group: up to its first space or '?' (bytes below 0x80, never inside UTF-8 sequences). */
    private static int groupLength(byte[] key) {
        for (int i = 0; i < key.length; i++) {
            if (key[i] == ' ' || key[i] == '?') {
                return i;
            }
        }
        return key.length;
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
