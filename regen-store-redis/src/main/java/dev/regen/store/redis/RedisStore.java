package dev.regen.store.redis;

import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import dev.regen.store.MetadataBytes;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.store.StoreHealth;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link KvStore} on Redis or Valkey, standalone or Redis Cluster, shared by every Regen node
 * pointed at it.
 *
 * <h2>URI</h2>
 * <pre>
 * redis[s]://[[user]:password@]host[:port][/db][?param=value&amp;...]          one server
 * redis[s]://[[user]:password@]host1:port1,host2:port2,...[?...]           Redis Cluster, seed nodes
 * redis[s]://[[user]:password@]host[:port]?cluster=true                     Redis Cluster, one seed
 * redis[s]-sentinel://[[user]:password@]host1[:port1],...[/db]?sentinelMasterId=NAME   Sentinel
 * </pre>
 * With Sentinel, the hosts are the Sentinels (port 26379 by default) and {@code NAME} the master they
 * watch (also accepted as {@code #NAME}, Lettuce's form); the client asks them for the master on
 * every (re)connection, so it follows a failover; the password is the master's.
 * {@code rediss} is TLS. The port defaults to 6379 and the database to 0 (Redis Cluster has only
 * database 0). User and password are %-decoded; a user info without a colon is a password (the
 * {@code default} user). An IPv6 host goes in brackets, for one host only ({@link URI} refuses brackets
 * in a host list: seed nodes there are names or IPv4 addresses). Parameters:
 * <ul>
 *   <li>{@code cluster=true|false}: speak Redis Cluster; default true exactly when several hosts are
 *       given.
 *   <li>{@code prefix=regen:}: prepended to every Redis key; no braces or spaces. Nodes that share a
 *       cache must use the same prefix; different prefixes keep caches apart on one Redis.
 *   <li>{@code timeout=500ms}: how long one command may take ({@code 500ms}, {@code 2s}; at most
 *       60 s); a slow Redis then fails a request fast instead of hanging it.
 *   <li>{@code shards=16}: cluster only, how many index shards keys are spread over (see below).
 *       Changing it orphans what is stored: change the prefix with it.
 *   <li>{@code verifyPeer=true|false}: with {@code rediss}, whether to check the server certificate.
 * </ul>
 *
 * <h2>Layout</h2>
 * One HASH per key, {@code <prefix>k:<key>}, with fields {@code v} (the value's raw bytes),
 * {@code c} (the value's CRC32C, four bytes big-endian, checked on every read: a value that does not
 * match is a miss, logged once and removed; absent in entries written before it existed),
 * {@code m} (the metadata, length-prefixed UTF-8; absent when empty) and {@code x} (the expiration in
 * epoch milliseconds as decimal text; absent for none). A put replaces the whole hash, and a sorted
 * set {@code <prefix>idx} (every member at score 0, so ordered by their bytes) lists the keys for
 * {@link #list}: both change in one Lua script, so a put or delete is atomic. A second sorted set,
 * {@code <prefix>exp}, records when Redis will drop each expiring hash, so that puts can remove a few
 * dead members from the index each time and the index never grows without bound.
 * {@link #replaceMetadata} rewrites {@code m}, {@code x}, the hash's TTL and its {@code exp} member in
 * one script, leaving {@code v} and {@code c} as they are (same layout, version 2).
 *
 * <p>In Redis Cluster the keys of shard n ({@code crc32(group) mod shards}, where a key's group is
 * its text before the first space or {@code ?}) carry the hash tag {@code {g<n>}}:
 * {@code <prefix>{g<n>}:k:<key>}, {@code <prefix>{g<n>}:idx} and {@code <prefix>{g<n>}:exp}. An
 * entry and its shard's two indexes share a slot, which keeps the put script atomic, while the
 * shards, and so the data, spread over the masters. A listing whose prefix reaches past its group
 * asks that group's shard alone; any other asks every shard (in parallel) and merges. So keys that
 * are listed together (a page's variants, a tag's index entries) should share a group, and a
 * listing of them fails only when their own master is down. The tradeoff: one index for the whole
 * cache would put every page on one master; an index per key would make listing impossible
 * without scanning the cluster. See {@link KeyLayout}.
 *
 * <p>Memory: the two sorted sets have no TTL. Run Redis with {@code maxmemory-policy} {@code noeviction}
 * or a {@code volatile-*} policy, never {@code allkeys-*}: evicting an index would hide its keys from
 * {@link #list} (and so from tag revalidation) until they are put again. Over {@code maxmemory} with
 * {@code noeviction}, a put is refused whole (see the put script) and throws a {@link StoreException}
 * saying it was not stored; {@link #health} is degraded until Redis has room again. A page takes about
 * its body plus 1.6-2.2 KB (its hash, metadata, index members and two tag entries; measured with
 * {@code RedisFootprint}).
 *
 * <h2>Time</h2>
 * Expiration is judged by the {@code clock} given to {@link #open}: an entry is gone for readers
 * once {@code clock.instant() >= expiration}, whatever Redis thinks. Redis also drops the hash by
 * itself, through {@code PEXPIRE} with the time left by that clock at the put
 * ({@code expiration - clock.instant()}), rather than {@code PEXPIREAT expiration}: with the system
 * clock the two agree up to the network delay, and the relative form neither drops an entry early
 * when the node's clock and Redis's disagree nor breaks a test clock set to another year.
 * Expirations more than ten years ahead are kept in {@code x} only.
 *
 * <h2>Threading and faults</h2>
 * Thread-safe; one multiplexed connection (Lettuce) serves every thread. Methods block for at most
 * about the timeout. Redis faults, timeouts and a lost connection throw {@link StoreException}; while
 * Redis is unreachable every call fails at once and the client reconnects in the background (retrying
 * at least once a second). After {@link #close} methods throw {@link IllegalStateException}.
 */
public final class RedisStore implements KvStore {

    /** The most keys one {@link #list} call returns, whatever the limit: it bounds the work of one script. */
    static final int MAX_PAGE = 1000;
    /** Index members one shard may skip (dead or expired) in one listing call before returning. */
    static final int LIST_SCAN_BUDGET = 1000;

    static final long MAX_REDIS_TTL_MILLIS = Duration.ofDays(3650).toMillis();

    private static final Logger log = LoggerFactory.getLogger(RedisStore.class);

    /** The operation's name in messages; a write, like "put", for {@link RedisHealth}. */
    private static final String REPLACE_METADATA_OP = "replace metadata of";

    private static final byte[] F_VALUE = {'v'};
    private static final byte[] F_METADATA = {'m'};
    private static final byte[] F_EXPIRATION = {'x'};
    private static final byte[] F_CHECKSUM = {'c'};

    /**
     * KEYS: hash, idx, exp. ARGV: member, value, metadata, x or '', ttl ms or '', hash prefix, crc.
     *
     * <p>Over {@code maxmemory} (with {@code noeviction}) the whole put must be refused, never half
     * done nor forced through. Redis decides that for a script without flags at its first write: if
     * Redis was over the limit when the script started and that write may grow memory (a "deny-oom"
     * command), the script fails with OOM there, before any change; once something was written, every
     * later command is let through so the script is never stopped halfway. So the first write must
     * be the HSET of the value: a DEL first (allowed over the limit, it frees memory) let every put
     * through. Flags ({@code #!lua}, Redis 7+: refused before it starts) would say the same, but Redis
     * 6.2, which Regen supports, cannot load a script with a flags line.
     */
    private static final Script PUT = new Script("""
            if redis.replicate_commands then redis.replicate_commands() end
            local hash, idx, exp, member = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
            local fields = {'v', ARGV[2], 'c', ARGV[7]}
            if ARGV[3] ~= '' then fields[#fields + 1] = 'm'; fields[#fields + 1] = ARGV[3] end
            if ARGV[4] ~= '' then fields[#fields + 1] = 'x'; fields[#fields + 1] = ARGV[4] end
            redis.call('HSET', hash, unpack(fields))
            -- what the replaced entry had and this one has not
            if ARGV[3] == '' then redis.call('HDEL', hash, 'm') end
            if ARGV[4] == '' then redis.call('HDEL', hash, 'x') end
            redis.call('ZADD', idx, 0, member)
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            if ARGV[5] ~= '' then
              redis.call('PEXPIRE', hash, ARGV[5])
              redis.call('ZADD', exp, now + tonumber(ARGV[5]), member)
            else
              redis.call('PERSIST', hash)
              redis.call('ZREM', exp, member)
            end
            -- Index members of hashes Redis expired over a second ago: a few per put.
            local dead = redis.call('ZRANGEBYSCORE', exp, '-inf', now - 1000, 'LIMIT', 0, 16)
            for _, d in ipairs(dead) do
              if redis.call('EXISTS', ARGV[6] .. d) == 0 then redis.call('ZREM', idx, d) end
              redis.call('ZREM', exp, d)
            end
            return 1
            """);

    /**
     * KEYS: hash, exp. ARGV: member, metadata, x or '', ttl ms or '', now (the store's clock, ms).
     * Rewrites {@code m}, {@code x} and the TTL of a live entry, never {@code v} nor {@code c};
     * returns 0, writing nothing, when there is no entry or it has expired by the store's clock. The
     * first write is the HSET, so over {@code maxmemory} the script is refused whole, as a put is.
     */
    private static final Script REPLACE_METADATA = new Script("""
            if redis.replicate_commands then redis.replicate_commands() end
            local hash, exp, member = KEYS[1], KEYS[2], ARGV[1]
            if redis.call('HEXISTS', hash, 'v') == 0 then return 0 end
            local old = redis.call('HGET', hash, 'x')
            if old and tonumber(old) <= tonumber(ARGV[5]) then return 0 end
            local fields = {}
            if ARGV[2] ~= '' then fields[#fields + 1] = 'm'; fields[#fields + 1] = ARGV[2] end
            if ARGV[3] ~= '' then fields[#fields + 1] = 'x'; fields[#fields + 1] = ARGV[3] end
            if #fields > 0 then redis.call('HSET', hash, unpack(fields)) end
            if ARGV[2] == '' then redis.call('HDEL', hash, 'm') end
            if ARGV[3] == '' then redis.call('HDEL', hash, 'x') end
            if ARGV[4] ~= '' then
              local t = redis.call('TIME')
              local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
              redis.call('PEXPIRE', hash, ARGV[4])
              redis.call('ZADD', exp, now + tonumber(ARGV[4]), member)
            else
              redis.call('PERSIST', hash)
              redis.call('ZREM', exp, member)
            end
            return 1
            """);

    /** KEYS: hash, idx, exp. ARGV: member. Returns nil if there was no hash, else its x or ''. */
    private static final Script DELETE = new Script("""
            local existed = redis.call('EXISTS', KEYS[1])
            local x = redis.call('HGET', KEYS[1], 'x')
            redis.call('DEL', KEYS[1])
            redis.call('ZREM', KEYS[2], ARGV[1])
            redis.call('ZREM', KEYS[3], ARGV[1])
            if existed == 0 then return false end
            return x or ''
            """);

    /**
     * KEYS: idx, exp. ARGV: min, max (ZRANGEBYLEX bounds), want, budget, hash prefix, now (the store's
     * clock, ms). Returns {done, last member scanned, {member, m, x, size, ...}}: up to {@code want}
     * live entries, read atomically with their sizes; members whose hash is gone leave the index.
     */
    private static final Script LIST = new Script("""
            local idx, exp = KEYS[1], KEYS[2]
            local min, max = ARGV[1], ARGV[2]
            local want, budget = tonumber(ARGV[3]), tonumber(ARGV[4])
            local prefix, now = ARGV[5], tonumber(ARGV[6])
            local out, found, scanned, last, done = {}, 0, 0, '', 0
            while found < want and scanned < budget do
              local n = math.min(math.max(want - found, 16), budget - scanned)
              local batch = redis.call('ZRANGEBYLEX', idx, min, max, 'LIMIT', 0, n)
              for i = 1, #batch do
                local member = batch[i]
                scanned = scanned + 1
                last = member
                local hash = prefix .. member
                local f = redis.call('HMGET', hash, 'm', 'x')
                if redis.call('EXISTS', hash) == 0 then
                  redis.call('ZREM', idx, member)
                  redis.call('ZREM', exp, member)
                elseif not (f[2] and tonumber(f[2]) <= now) then
                  out[#out + 1] = member
                  out[#out + 1] = f[1] or ''
                  out[#out + 1] = f[2] or ''
                  out[#out + 1] = redis.call('HSTRLEN', hash, 'v')
                  found = found + 1
                  if found == want then break end
                end
              end
              if found < want and #batch < n then done = 1; break end
              min = '(' .. last
            end
            return {done, last, out}
            """);

    private final RedisConfig config;
    private final InstantSource clock;
    private final KeyLayout layout;
    private final RedisConnector connector;
    /** Null until connected: {@link #openInBackground} may return before Redis answers. */
    private volatile RedisConnector.Connection connection;

    private volatile RedisClusterAsyncCommands<byte[], byte[]> redis;
    private volatile ScheduledExecutorService retries;
    private final long awaitMillis;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Set<String> reportedCorrupt = ConcurrentHashMap.newKeySet();
    private final RedisHealth health;

    private RedisStore(RedisConfig config, InstantSource clock, RedisConnector connector) {
        this.config = config;
        this.clock = clock;
        this.layout = KeyLayout.of(config);
        this.connector = connector;
        // Lettuce fails a command at the timeout; the margin only guards against a lost completion.
        this.awaitMillis = config.timeout().toMillis() + 1_000;
        this.health = new RedisHealth(config.display());
    }

    private void connected(RedisConnector.Connection c) {
        connection = c;
        redis = c.async();
        health.succeeded(false);
    }

    /**
     * Connects to the Redis (or Redis Cluster) named by {@code uri}; the syntax is in the class
     * comment. Returns once connected.
     *
     * @param clock judges expiration on reads and sets the time left for Redis-side expiry
     * @throws IllegalArgumentException naming the part of {@code uri} at fault (no password in it)
     * @throws StoreException           when Redis cannot be reached, or refuses the credentials
     */
    public static RedisStore open(URI uri, InstantSource clock) {
        Objects.requireNonNull(clock, "clock");
        RedisConfig config = RedisConfig.parse(uri);
        RedisConnector connector = RedisConnector.create(config).watchServers();
        try {
            RedisStore store = new RedisStore(config, clock, connector);
            store.connected(connector.connect());
            return store;
        } catch (RuntimeException e) {
            connector.close();
            throw e;
        }
    }

    /**
     * Like {@link #open}, but when Redis cannot be reached returns at once, with one log line, and
     * connects in the background (trying every second), logging one line when it does; meanwhile
     * every call fails fast with a {@link StoreException} and {@link #health} is down, so the engine
     * serves from memory and renders locally.
     *
     * @throws IllegalArgumentException naming the part of {@code uri} at fault (no password in it)
     * @throws StoreException           when Redis answers but refuses us (credentials, protocol)
     */
    public static RedisStore openInBackground(URI uri, InstantSource clock) {
        Objects.requireNonNull(clock, "clock");
        RedisConfig config = RedisConfig.parse(uri);
        RedisConnector connector = RedisConnector.create(config).watchServers();
        RedisStore store = new RedisStore(config, clock, connector);
        try {
            store.connected(connector.connect());
            return store;
        } catch (StoreException e) {
            if (!RedisConnector.unreachable(e)) {
                connector.close();
                throw e;
            }
            String why = describe(e);
            store.health.failed(e, "unreachable since start: " + why);
            log.warn(
                    "redis {} is unreachable at start ({}): pages are served from memory and rendered here until "
                            + "it answers; trying every second",
                    config.display(),
                    why);
            store.retryInBackground();
            return store;
        } catch (RuntimeException e) {
            connector.close();
            throw e;
        }
    }

    private void retryInBackground() {
        retries = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "regen-redis-connect");
            t.setDaemon(true);
            return t;
        });
        // the task catches its failures (one escaping would end the schedule); it shuts retries down itself
        var unused = retries.scheduleWithFixedDelay(
                () -> {
                    if (closed.get() || connection != null) {
                        return;
                    }
                    try {
                        RedisConnector.Connection c = connector.connect();
                        if (closed.get()) {
                            c.stateful().close();
                            return;
                        }
                        connected(c);
                        log.info("redis {} answers: pages are stored there and shared from now on", config.display());
                        retries.shutdown();
                    } catch (RuntimeException e) {
                        // still unreachable (or refusing us: said at the next try); health says why
                        health.failed(e, "unreachable since start: " + describe(e));
                    }
                },
                1,
                1,
                TimeUnit.SECONDS);
    }

    /** The commands, or a fast failure while not connected yet. */
    private RedisClusterAsyncCommands<byte[], byte[]> commands(String op, String key) {
        RedisClusterAsyncCommands<byte[], byte[]> r = redis;
        if (r == null) {
            throw new StoreException(failure(op, key, "not connected (unreachable since start)"));
        }
        return r;
    }

    @Override
    public KvEntry get(String key) {
        byte[] k = Wire.utf8("key", key);
        ensureOpen();
        byte[] hash = layout.hash(layout.shard(k), k);
        List<KeyValue<byte[], byte[]>> fields =
                await(commands("get", key).hmget(hash, F_VALUE, F_METADATA, F_EXPIRATION, F_CHECKSUM), "get", key);
        byte[] value = fields.get(0).getValueOrElse(null);
        if (value == null) {
            return null;
        }
        byte[] checksum = fields.get(3).getValueOrElse(null);
        if (checksum != null && !Arrays.equals(checksum, crc32c(value))) {
            corrupt(k, key, "a value of " + value.length + " bytes that does not match its checksum");
            return null;
        }
        Instant expiration = expiration(key, fields.get(2).getValueOrElse(null));
        if (expiration != null && expiration.toEpochMilli() <= millis(clock.instant())) {
            return null;
        }
        return new KvEntry(value, metadata(key, fields.get(1).getValueOrElse(null)), expiration);
    }

    @Override
    public void put(String key, byte[] value, PutOptions options) {
        byte[] k = Wire.utf8("key", key);
        Objects.requireNonNull(value, "value");
        PutOptions opts = options == null ? PutOptions.NONE : options;
        byte[] metadata = MetadataBytes.encode(opts.metadata());
        ensureOpen();
        byte[] x = Wire.EMPTY;
        byte[] ttl = Wire.EMPTY;
        if (opts.expiration() != null) {
            long at = millis(opts.expiration());
            long left = saturatedSubtract(at, millis(clock.instant()));
            if (left <= 0) {
                remove(k, key, "put of an expired entry"); // the put leaves nothing behind
                return;
            }
            x = Wire.ascii(at);
            if (left <= MAX_REDIS_TTL_MILLIS) {
                ttl = Wire.ascii(left);
            }
        }
        int shard = layout.shard(k);
        byte[][] keys = {layout.hash(shard, k), layout.index(shard), layout.expiries(shard)};
        await(
                PUT.run(
                        commands("put", key),
                        ScriptOutputType.INTEGER,
                        keys,
                        k,
                        value,
                        metadata,
                        x,
                        ttl,
                        layout.hashPrefix(shard),
                        crc32c(value)),
                "put",
                key);
    }

    /**
     * One script on the entry's hash and its shard's expiry index: the value bytes are neither sent
     * nor rewritten. An expiration already passed removes the entry, as {@link #put} does.
     */
    @Override
    public boolean replaceMetadata(String key, PutOptions options) {
        byte[] k = Wire.utf8("key", key);
        PutOptions opts = options == null ? PutOptions.NONE : options;
        byte[] metadata = MetadataBytes.encode(opts.metadata());
        ensureOpen();
        long now = millis(clock.instant());
        byte[] x = Wire.EMPTY;
        byte[] ttl = Wire.EMPTY;
        if (opts.expiration() != null) {
            long at = millis(opts.expiration());
            long left = saturatedSubtract(at, now);
            if (left <= 0) {
                byte[] was = remove(k, key, REPLACE_METADATA_OP);
                return was != null && (was.length == 0 || expiration(key, was).toEpochMilli() > now);
            }
            x = Wire.ascii(at);
            if (left <= MAX_REDIS_TTL_MILLIS) {
                ttl = Wire.ascii(left);
            }
        }
        int shard = layout.shard(k);
        byte[][] keys = {layout.hash(shard, k), layout.expiries(shard)};
        Long replaced = await(
                REPLACE_METADATA.<Long>run(
                        commands(REPLACE_METADATA_OP, key),
                        ScriptOutputType.INTEGER,
                        keys,
                        k,
                        metadata,
                        x,
                        ttl,
                        Wire.ascii(now)),
                REPLACE_METADATA_OP,
                key);
        return replaced != null && replaced == 1L;
    }

    @Override
    public boolean delete(String key) {
        byte[] k = Wire.utf8("key", key);
        ensureOpen();
        long now = millis(clock.instant());
        byte[] x = remove(k, key, "delete");
        if (x == null) {
            return false;
        }
        return x.length == 0 || expiration(key, x).toEpochMilli() > now;
    }

    /** The checksum stored beside a value: CRC32C, four bytes big-endian. */
    static byte[] crc32c(byte[] value) {
        CRC32C crc = new CRC32C();
        crc.update(value);
        int c = (int) crc.getValue();
        return new byte[] {(byte) (c >>> 24), (byte) (c >>> 16), (byte) (c >>> 8), (byte) c};
    }

    /**
     * An entry read back damaged: a miss. Logged once (until removed) and removed without waiting; a
     * failed removal only means it is found again on a later read.
     */
    private void corrupt(byte[] k, String key, String what) {
        if (reportedCorrupt.size() >= 10_000 || !reportedCorrupt.add(key)) {
            return;
        }
        log.warn(
                "redis store {}: the entry {} is corrupt ({}): it is removed and will be rendered again",
                config.display(),
                key,
                what);
        int shard = layout.shard(k);
        byte[][] keys = {layout.hash(shard, k), layout.index(shard), layout.expiries(shard)};
        var unused = DELETE.run(commands("remove", key), ScriptOutputType.VALUE, keys, k)
                .whenComplete((r, e) -> reportedCorrupt.remove(key));
    }

    /** Deletes the hash and its index members; returns null if there was no hash, else its x (maybe empty). */
    private byte[] remove(byte[] k, String key, String op) {
        int shard = layout.shard(k);
        byte[][] keys = {layout.hash(shard, k), layout.index(shard), layout.expiries(shard)};
        return await(DELETE.<byte[]>run(commands(op, key), ScriptOutputType.VALUE, keys, k), op, key);
    }

    /**
     * Keys in ascending UTF-8 byte order. The cursor is the last key returned (or the last one
     * looked at); at most {@value #MAX_PAGE} keys per call whatever {@code limit} says, and a page
     * may be short when many expired keys were skipped: follow the cursor until it is null.
     */
    @Override
    public ListPage list(String prefix, String cursor, int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive: " + limit);
        }
        byte[] p = Wire.utf8("prefix", prefix == null ? "" : prefix);
        byte[] c = cursor == null ? null : Wire.utf8("cursor", cursor);
        ensureOpen();
        int page = Math.min(limit, MAX_PAGE);
        byte[] min = c != null && Arrays.compareUnsigned(c, p) >= 0 ? bound('(', c) : bound('[', p);
        byte[] end = prefixEnd(p);
        byte[] max = end == null ? new byte[] {'+'} : bound('(', end);
        byte[] want = Wire.ascii(page + 1L); // one more tells whether the listing is complete
        byte[] budget = Wire.ascii(LIST_SCAN_BUDGET);
        byte[] now = Wire.ascii(millis(clock.instant()));

        // a prefix that reaches past its group lives on one shard: ask only that one
        int only = layout.shardOfPrefix(p);
        List<CompletableFuture<List<Object>>> shards = new ArrayList<>(layout.shards());
        for (int s = only < 0 ? 0 : only; s < (only < 0 ? layout.shards() : only + 1); s++) {
            byte[][] keys = {layout.index(s), layout.expiries(s)};
            byte[] hashPrefix = layout.hashPrefix(s);
            shards.add(LIST.run(
                    commands("list", prefix), ScriptOutputType.MULTI, keys, min, max, want, budget, hashPrefix, now));
        }
        String what = prefix == null || prefix.isEmpty() ? "(all keys)" : prefix;
        byte[] horizon = null; // every key at or below it has been seen in every shard; null = all of them
        List<Row> rows = new ArrayList<>();
        for (CompletableFuture<List<Object>> shard : shards) {
            List<Object> reply = await(shard, "list", what);
            boolean done = ((Long) reply.get(0)) == 1L;
            byte[] last = (byte[]) reply.get(1);
            @SuppressWarnings("unchecked")
            List<Object> out = (List<Object>) reply.get(2);
            for (int i = 0; i + 3 < out.size(); i += 4) {
                rows.add(new Row(
                        (byte[]) out.get(i), (byte[]) out.get(i + 1), (byte[]) out.get(i + 2), (Long) out.get(i + 3)));
            }
            if (!done && (horizon == null || Arrays.compareUnsigned(last, horizon) < 0)) {
                horizon = last;
            }
        }
        rows.sort((a, b) -> Arrays.compareUnsigned(a.member, b.member));

        List<ListedKey> keys = new ArrayList<>(Math.min(page, rows.size()));
        byte[] previous = null;
        for (Row row : rows) {
            if (horizon != null && Arrays.compareUnsigned(row.member, horizon) > 0) {
                break;
            }
            if (previous != null && Arrays.equals(previous, row.member)) {
                continue; // the same key in two shards: only after the shard count changed
            }
            if (keys.size() == page) {
                return new ListPage(keys, keys.get(page - 1).name(), false);
            }
            keys.add(row.listed(this));
            previous = row.member;
        }
        return horizon == null ? new ListPage(keys, null, true) : new ListPage(keys, Wire.string(horizon), false);
    }

    /** Closes the connection and stops the client's threads. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (retries != null) {
                retries.shutdownNow();
            }
            RedisConnector.Connection c = connection;
            if (c != null) {
                c.stateful().close();
            }
        } finally {
            connector.close();
        }
    }

    @Override
    public String toString() {
        return "RedisStore[" + config.display() + "]";
    }

    // --- plumbing ------------------------------------------------------------------------------

    @SuppressWarnings("ArrayRecordComponent") // raw reply fields, read once; never compared by equals
    private record Row(byte[] member, byte[] metadata, byte[] expiration, long size) {
        ListedKey listed(RedisStore store) {
            String name = Wire.string(member);
            return new ListedKey(name, store.metadata(name, metadata), store.expiration(name, expiration), size);
        }
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("redis store " + config.display() + " is closed");
        }
    }

    private <T> T await(CompletionStage<T> future, String op, String key) {
        try {
            T result = future.toCompletableFuture().get(awaitMillis, TimeUnit.MILLISECONDS);
            health.succeeded(op.equals("put") || op.equals(REPLACE_METADATA_OP));
            return result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException(failure(op, key, "interrupted"), e);
        } catch (ExecutionException e) {
            String why = describe(e.getCause());
            health.failed(e.getCause(), why);
            if (RedisHealth.outOfMemory(e.getCause())) {
                throw new StoreException(
                        "redis store " + config.display() + ": " + key + " not stored: Redis is over"
                                + " its maxmemory (" + why + ")",
                        e.getCause());
            }
            throw new StoreException(failure(op, key, why), e.getCause());
        } catch (TimeoutException e) {
            String why = "no answer after " + awaitMillis + " ms";
            health.failed(e, why);
            throw new StoreException(failure(op, key, why), e);
        }
    }

    /**
     * Down (with the reason) from a failed command until one succeeds; degraded while Redis refuses
     * writes for being over its {@code maxmemory}. Never blocks.
     */
    @Override
    public StoreHealth health() {
        return health.current(() -> commands("info", "memory").info("memory").thenApply(info -> info));
    }

    private String failure(String op, String key, String why) {
        return "redis store " + config.display() + ": " + op + " " + key + " failed: " + why;
    }

    /** A short reason for a Lettuce failure, without its stack, nor Lettuce's and Netty's wording. */
    static String describe(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof RedisCommandTimeoutException) {
            return "timed out (" + t.getMessage() + ")";
        }
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof java.net.UnknownHostException) {
                return "unknown host " + c.getMessage();
            }
            if (c instanceof java.net.ConnectException || c instanceof io.netty.channel.ConnectTimeoutException) {
                String m = String.valueOf(c.getMessage()).toLowerCase(java.util.Locale.ROOT);
                return m.contains("refused")
                        ? "connection refused"
                        : m.contains("timed out") ? "connect timed out" : "cannot connect (" + c.getMessage() + ")";
            }
            if (c instanceof io.lettuce.core.RedisCommandExecutionException) {
                return c.getMessage(); // Redis's own answer: NOAUTH, WRONGPASS, OOM, ...
            }
        }
        String message = t.getMessage();
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != t && root.getMessage() != null) {
            message = message == null ? root.getMessage() : message + ": " + root.getMessage();
        }
        return message == null ? t.getClass().getSimpleName() : message;
    }

    private Map<String, String> metadata(String key, byte[] bytes) {
        try {
            return MetadataBytes.decode(bytes);
        } catch (IllegalArgumentException e) {
            throw new StoreException(
                    "redis store " + config.display() + ": corrupt metadata under " + key + ": " + e.getMessage());
        }
    }

    private Instant expiration(String key, byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return null;
        }
        try {
            return Instant.ofEpochMilli(Long.parseLong(new String(bytes, StandardCharsets.US_ASCII)));
        } catch (NumberFormatException e) {
            throw new StoreException("redis store " + config.display() + ": corrupt expiration under " + key);
        }
    }

    private static byte[] bound(char kind, byte[] value) {
        byte[] b = new byte[value.length + 1];
        b[0] = (byte) kind;
        System.arraycopy(value, 0, b, 1, value.length);
        return b;
    }

    /**
     * The least byte string greater than every string starting with {@code prefix}, or null if there
     * is none (empty prefix). UTF-8 never contains 0xFF, but raw bytes are handled all the same.
     */
    static byte[] prefixEnd(byte[] prefix) {
        int end = prefix.length;
        while (end > 0 && prefix[end - 1] == (byte) 0xFF) {
            end--;
        }
        if (end == 0) {
            return null;
        }
        byte[] out = Arrays.copyOf(prefix, end);
        out[end - 1]++;
        return out;
    }

    private static long millis(Instant t) {
        try {
            return t.toEpochMilli();
        } catch (ArithmeticException e) {
            return t.isBefore(Instant.EPOCH) ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    private static long saturatedSubtract(long a, long b) {
        long r = a - b;
        if (((a ^ b) & (a ^ r)) < 0) {
            return a > b ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        return r;
    }
}
