package dev.regen.store.redis;

import dev.regen.cluster.Cluster;
import dev.regen.store.StoreException;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.SocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Cluster} on Redis or Valkey (standalone, Sentinel or Redis Cluster), for nodes that share a
 * {@link RedisStore}. Opened from the same URI as the store; see {@link RedisStore} for its syntax.
 *
 * <ul>
 *   <li><b>Render lock</b>: a lease, {@code SET <prefix>lock:<key> <token> NX PX <lease>} with a
 *       short lease ({@value #LEASE_MILLIS} ms), the token naming this node. The holder renews it
 *       every third of the lease (a Lua compare-and-{@code PEXPIRE}) until it unlocks or the
 *       {@code ttl} given to {@link #tryLock} has passed, so the lock of a node that died lapses
 *       within one lease, while a render that takes longer keeps it. Released by a Lua
 *       compare-and-delete, so only the holder releases it and a lease that lapsed and was taken by
 *       another node is left alone.
 *   <li><b>Changes</b>: {@code PUBLISH <prefix>changes}, a binary message with this node's id and the
 *       keys (or a revalidation's paths and tags, or the key, ETag and render time of pages
 *       re-rendered unchanged); a node ignores its own messages. In Redis Cluster a plain PUBLISH
 *       reaches every node. A node of a version before refreshes ignores them as unknown messages:
 *       it keeps its copy, with its old render time.
 * </ul>
 *
 * <h2>Faults: each kind on its own, no global "down" flag</h2>
 * <ul>
 *   <li><b>Locks</b>: a lock Redis does not grant in time (down, failing over, a dead cluster slot)
 *       is a local lock for that render, and for the next second every lock is local without asking
 *       (so a dead Redis costs nothing per request); then Redis is asked again. Over {@code maxmemory}
 *       (a refused SET) the same, for as long as it lasts. One line when locks go local, one when a
 *       lock is taken in Redis again.
 *   <li><b>Messages</b>: a publish that fails completes its future exceptionally and its keys are
 *       kept (up to {@value #MAX_UNSENT}) and sent again every {@link #PROBE_INTERVAL} until Redis
 *       takes them, so other nodes drop exactly the copies that changed; past that many, one
 *       "missed changes" message instead, which makes them drop all. Refreshes not sent are kept the
 *       same way, as plain changes: by the time they go out the page may have changed again, and a
 *       change only makes the other nodes drop a copy. One line when messages start failing, one when
 *       they go through again.
 *   <li><b>Subscription</b>: when the pub/sub connection drops this node may miss messages; once it is
 *       subscribed again (Lettuce reconnects, checked every {@link #PROBE_INTERVAL} and at once on
 *       reconnection) it tells its listeners {@link Listener#missedChanges()} once for that outage.
 * </ul>
 *
 * <p>Threading: every method is thread-safe and never throws because of Redis. {@link #tryLock}
 * blocks for at most one round trip (the URI's timeout, 500 ms by default), and not at all in the
 * second after a failure; {@link #unlock} and {@link #publish} never block. Listeners are called on
 * Lettuce's I/O thread (messages) or on this object's own thread (missed changes), and must not block.
 */
public final class RedisCluster implements Cluster {

    /** Prefix of the tokens of locks granted without Redis. */
    public static final String LOCAL_TOKEN_PREFIX = "local:";

    static final Duration PROBE_INTERVAL = Duration.ofMillis(250);
    /** How long a render lock lives without renewal: how long a dead node's lock blocks the page. */
    static final long LEASE_MILLIS = 3_000;
    /** After a lock Redis did not grant, locks are local for this long before Redis is asked again. */
    static final long LOCK_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Changed keys kept for sending again; beyond it the other nodes are told to drop everything. */
    static final int MAX_UNSENT = 10_000;

    private static final Logger log = LoggerFactory.getLogger(RedisCluster.class);

    private static final Script UNLOCK = new Script("""
            if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
            return 0
            """);

    private static final Script RENEW = new Script("""
            if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
            return 0
            """);

    /** Longer than any render holds a lock (render timeout + 5 s with the defaults). */
    private static final long INVALIDATED_MARK_TTL_MS = 120_000;

    private final RedisConfig config;
    private final KeyLayout layout;
    private final String nodeId;
    private final byte[] channel;
    private final RedisConnector connector;
    // Null until joined: a node started while Redis was unreachable joins from its probe.
    private volatile RedisConnector.Connection commands;
    private volatile StatefulRedisPubSubConnection<byte[], byte[]> pubsub;
    private volatile RedisClusterAsyncCommands<byte[], byte[]> redis;
    private final ScheduledExecutorService probes;
    private final long awaitMillis;
    private final long leaseMillis;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong lockSequence = new AtomicLong();
    /** Leases this node holds in Redis, by token: renewed until unlocked or their end (nanoTime). */
    private final ConcurrentHashMap<String, Held> held = new ConcurrentHashMap<>();

    /** Locks are local until this nanoTime (after a failure); 0 when Redis grants them. */
    private volatile long locksLocalUntil;

    private final AtomicBoolean locksLocal = new AtomicBoolean();
    /** Keys whose change message did not go out: sent again by the probe. */
    private final Set<String> unsent = ConcurrentHashMap.newKeySet();

    private final AtomicBoolean unsentOverflow = new AtomicBoolean();
    private final AtomicBoolean publishFailing = new AtomicBoolean();
    /** The pub/sub connection dropped (or was never there): messages may have been missed until resubscribed. */
    private final AtomicBoolean subscriptionLost = new AtomicBoolean();

    private volatile boolean closed;

    private record Held(RenderLock lock, long endNanos) {}

    private RedisCluster(
            RedisConfig config, String nodeId, RedisConnector connector, boolean waitForRedis, long leaseMillis) {
        this.config = config;
        this.leaseMillis = leaseMillis;
        this.layout = KeyLayout.of(config);
        this.nodeId = nodeId;
        this.channel = layout.channel();
        this.connector = connector;
        this.awaitMillis = config.timeout().toMillis() + 1_000;
        this.probes = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "regen-redis-cluster");
            t.setDaemon(true);
            return t;
        });
        try {
            join();
        } catch (StoreException e) {
            if (waitForRedis || !RedisConnector.unreachable(e)) {
                probes.shutdownNow();
                throw e;
            }
            // Joins from the probe once Redis answers; meanwhile locks are local and changes kept to
            // send. Other nodes may change pages meanwhile: drop every local copy on joining.
            subscriptionLost.set(true);
            log.debug("redis {} unreachable at start for node {}: {}", config.display(), nodeId, e.getMessage());
        }
        long every = PROBE_INTERVAL.toMillis();
        // both catch their own failures (one escaping would end the schedule); close() stops them
        var unusedProbe = probes.scheduleWithFixedDelay(this::probe, every, every, TimeUnit.MILLISECONDS);
        long renew = Math.max(1, leaseMillis / 3);
        var unusedRenew = probes.scheduleWithFixedDelay(this::renewLeases, renew, renew, TimeUnit.MILLISECONDS);
    }

    /** Connects and subscribes. @throws StoreException when Redis cannot be reached or refuses us */
    private void join() {
        RedisConnector.Connection connection = null;
        StatefulRedisPubSubConnection<byte[], byte[]> ps = null;
        try {
            connection = connector.connect();
            ps = connector.connectPubSub();
            ps.addListener(new RedisPubSubAdapter<byte[], byte[]>() {
                @Override
                public void message(byte[] from, byte[] message) {
                    received(message);
                }
            });
            ps.addListener(new RedisConnectionStateListener() {
                @Override
                public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
                    probeSoon();
                }

                @Override
                public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
                    if (!closed && subscriptionLost.compareAndSet(false, true)) {
                        log.warn(
                                "redis {}: node {} lost its subscription to change messages; it drops its "
                                        + "copies in memory once subscribed again",
                                config.display(),
                                nodeId);
                    }
                }
            });
            await(ps.async().subscribe(channel));
        } catch (Exception e) {
            if (ps != null) {
                ps.close();
            }
            if (connection != null) {
                connection.stateful().close();
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e instanceof StoreException se
                    ? se
                    : new StoreException("cannot subscribe to " + config.display() + ": " + RedisStore.describe(e), e);
        }
        this.commands = connection;
        this.pubsub = ps;
        this.redis = connection.async();
    }

    /** Joins the cluster of nodes sharing the Redis named by {@code uri}, under a random node id. */
    public static RedisCluster open(URI uri) {
        return open(uri, UUID.randomUUID().toString());
    }

    /**
     * Joins the cluster of nodes sharing the Redis named by {@code uri} (same syntax and prefix as the
     * {@link RedisStore} they share). Returns once connected and subscribed.
     *
     * @param nodeId unique among the nodes; in lock tokens and messages
     * @throws IllegalArgumentException naming the part of {@code uri} at fault
     * @throws StoreException           when Redis cannot be reached at start
     */
    public static RedisCluster open(URI uri, String nodeId) {
        return open(uri, nodeId, true, LEASE_MILLIS);
    }

    /**
     * Like {@link #open(URI, String)}, but when Redis cannot be reached returns at once: the node
     * renders under local locks and keeps its change messages until it joins (its probe tries every
     * {@link #PROBE_INTERVAL}); on joining, it drops its own local copies and sends what it kept.
     * Logs nothing about it: the {@link RedisStore} opened on the same URI says when Redis is
     * unreachable and when it answers.
     *
     * @throws StoreException when Redis answers but refuses us (credentials, protocol)
     */
    public static RedisCluster openInBackground(URI uri, String nodeId) {
        return open(uri, nodeId, false, LEASE_MILLIS);
    }

    /** {@link #open(URI, String)} with another lease length, for tests. */
    static RedisCluster open(URI uri, String nodeId, long leaseMillis) {
        return open(uri, nodeId, true, leaseMillis);
    }

    private static RedisCluster open(URI uri, String nodeId, boolean waitForRedis, long leaseMillis) {
        Objects.requireNonNull(nodeId, "nodeId");
        if (nodeId.isEmpty() || nodeId.startsWith(LOCAL_TOKEN_PREFIX)) {
            throw new IllegalArgumentException(
                    "nodeId must be non-empty and not start with " + LOCAL_TOKEN_PREFIX + ": '" + nodeId + "'");
        }
        Wire.utf8("nodeId", nodeId);
        RedisConfig config = RedisConfig.parse(uri);
        RedisConnector connector = RedisConnector.create(config);
        try {
            return new RedisCluster(config, nodeId, connector, waitForRedis, leaseMillis);
        } catch (RuntimeException e) {
            connector.close();
            throw e;
        }
    }

    /** This node's id, as in its lock tokens and messages. */
    public String nodeId() {
        return nodeId;
    }

    /**
     * Whether change messages flow as far as this node knows: subscribed, and none waiting to be sent
     * again. (Render locks are judged at each {@link #tryLock}.)
     */
    public boolean connected() {
        return !closed && redis != null && !subscriptionLost.get() && unsent.isEmpty() && !unsentOverflow.get();
    }

    /**
     * The render lock of {@code key}, null when another node holds it: a lease this node renews until
     * {@link #unlock} or until {@code ttl} has passed. When Redis does not grant it in time (or after
     * {@link #close}) a local lock, token {@value #LOCAL_TOKEN_PREFIX}..., for this render.
     *
     * @throws IllegalArgumentException if {@code ttl} is not at least one millisecond
     */
    @Override
    public RenderLock tryLock(String key, Duration ttl) {
        byte[] k = Wire.utf8("key", key);
        Objects.requireNonNull(ttl, "ttl");
        if (ttl.toMillis() < 1) {
            throw new IllegalArgumentException("ttl must be at least 1 ms: " + ttl);
        }
        RedisClusterAsyncCommands<byte[], byte[]> r = redis;
        if (closed || r == null || (locksLocalUntil != 0 && System.nanoTime() - locksLocalUntil < 0)) {
            return localLock(key);
        }
        String token = nodeId + ":" + lockSequence.incrementAndGet();
        try {
            SetArgs nxPx = SetArgs.Builder.nx().px(Math.min(leaseMillis, ttl.toMillis()));
            String reply = await(r.set(layout.lock(k), Wire.utf8("token", token), nxPx));
            locksShared();
            if (!"OK".equals(reply)) {
                return null;
            }
            RenderLock lock = new RenderLock(key, token);
            held.put(token, new Held(lock, System.nanoTime() + ttl.toNanos()));
            return lock;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            release(new RenderLock(key, token));
            return localLock(key);
        } catch (Exception e) {
            locksLocal(e);
            if (!RedisHealth.outOfMemory(e)) {
                // A slow Redis may still run the SET: release it right behind, on the same connection,
                // rather than block other nodes for a lease.
                release(new RenderLock(key, token));
            }
            return localLock(key);
        }
    }

    /**
     * When another node holds the render lock of {@code key}, leaves a mark that node reads when its
     * render ends. Two commands, not one script: lock and mark may live in different cluster slots,
     * and the race they leave (the render ends in between) costs one extra render at most.
     */
    @Override
    public void markInvalidated(String key) {
        RedisClusterAsyncCommands<byte[], byte[]> r = redis;
        if (closed || r == null) {
            return;
        }
        byte[] k = Wire.utf8("key", key);
        try {
            Long lockHeld = await(r.exists(layout.lock(k)));
            if (lockHeld != null && lockHeld > 0) {
                await(r.set(layout.invalidatedMark(k), new byte[] {1}, SetArgs.Builder.px(INVALIDATED_MARK_TTL_MS)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // lost mark: at worst a render that began before the change is stored fresh
            log.debug(
                    "redis {}: marking an invalidation of {} failed: {}",
                    config.display(),
                    key,
                    RedisStore.describe(e));
        }
    }

    @Override
    public boolean takeInvalidated(RenderLock lock) {
        RedisClusterAsyncCommands<byte[], byte[]> r = redis;
        if (lock == null || lock.token().startsWith(LOCAL_TOKEN_PREFIX) || closed || r == null) {
            return false;
        }
        try {
            return await(r.getdel(layout.invalidatedMark(Wire.utf8("key", lock.key())))) != null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            log.debug("redis {}: reading an invalidation mark failed: {}", config.display(), RedisStore.describe(e));
            return false;
        }
    }

    /** Releases {@code lock} if this node still holds it, without waiting for the answer. */
    @Override
    public void unlock(RenderLock lock) {
        if (lock == null || lock.token().startsWith(LOCAL_TOKEN_PREFIX) || closed) {
            return;
        }
        held.remove(lock.token());
        release(lock);
    }

    private void release(RenderLock lock) {
        RedisClusterAsyncCommands<byte[], byte[]> r = redis;
        if (r == null) {
            return;
        }
        try {
            byte[][] keys = {layout.lock(Wire.utf8("key", lock.key()))};
            var unused = UNLOCK.run(r, ScriptOutputType.INTEGER, keys, Wire.utf8("token", lock.token()));
        } catch (RuntimeException e) {
            // the lease lapses by itself; a fault here must not reach the engine
        }
    }

    /**
     * Extends every lease still held by one lease length, without waiting for the answers. A lease
     * another node took meanwhile (this one lapsed: Redis or this node stalled) is dropped here; the
     * render goes on, and its result is stored all the same.
     */
    private void renewLeases() {
        RedisClusterAsyncCommands<byte[], byte[]> r = redis;
        if (held.isEmpty() || closed || r == null) {
            return;
        }
        long now = System.nanoTime();
        byte[] lease = Wire.ascii(leaseMillis);
        for (Held h : held.values()) {
            if (now - h.endNanos() >= 0) {
                held.remove(h.lock().token()); // held as long as asked: let it lapse
                continue;
            }
            try {
                byte[][] keys = {layout.lock(Wire.utf8("key", h.lock().key()))};
                // a renewal that fails lets the lease lapse: nothing to do about it here
                var unused = RENEW.<Long>run(
                                r,
                                ScriptOutputType.INTEGER,
                                keys,
                                Wire.utf8("token", h.lock().token()),
                                lease)
                        .whenComplete((renewed, e) -> {
                            if (e == null && renewed != null && renewed == 0) {
                                held.remove(h.lock().token(), h);
                            }
                        });
            } catch (RuntimeException e) {
                // not connected: the next round tries again, and the lease may lapse meanwhile
            }
        }
    }

    /**
     * Publishes {@code keys} to the other nodes. The future fails when Redis did not take the message;
     * the keys are then sent again by the probe until it does.
     */
    @Override
    public CompletableFuture<Void> publish(Collection<String> keys) {
        if (keys == null || keys.isEmpty() || closed) {
            return CompletableFuture.completedFuture(null);
        }
        byte[] message;
        try {
            message = Wire.encodeChanged(nodeId, keys);
        } catch (IllegalArgumentException e) {
            log.warn("not publishing a change of {} keys: {}", keys.size(), e.getMessage());
            return CompletableFuture.failedFuture(e);
        }
        return send(message, () -> keepUnsent(keys));
    }

    /**
     * Publishes pages re-rendered unchanged, so other nodes keep their copy with the new render time.
     * Fails and is sent again like {@link #publish}, but as plain changes of the keys.
     */
    @Override
    public CompletableFuture<Void> publishRefreshed(Collection<Refresh> refreshes) {
        if (refreshes == null || refreshes.isEmpty() || closed) {
            return CompletableFuture.completedFuture(null);
        }
        byte[] message;
        try {
            message = Wire.encodeRefreshed(nodeId, refreshes);
        } catch (IllegalArgumentException e) {
            log.warn("not publishing a refresh of {} pages: {}", refreshes.size(), e.getMessage());
            return CompletableFuture.failedFuture(e);
        }
        List<String> keys = refreshes.stream().map(Refresh::key).toList();
        return send(message, () -> keepUnsent(keys));
    }

    @Override
    public CompletableFuture<Void> publishRevalidation(Collection<String> paths, Collection<String> tags) {
        if ((paths.isEmpty() && tags.isEmpty()) || closed) {
            return CompletableFuture.completedFuture(null);
        }
        byte[] message;
        try {
            message = Wire.encodeRevalidated(nodeId, paths, tags);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        // not kept to send again: the caller is told, and retries the whole revalidation
        return send(message, () -> {});
    }

    private CompletableFuture<Void> send(byte[] message, Runnable onFailure) {
        RedisClusterAsyncCommands<byte[], byte[]> r = redis;
        if (r == null) {
            onFailure.run();
            return CompletableFuture.failedFuture(new StoreException("redis " + config.display()
                    + " not reached since start: the change is not announced to the other nodes yet"));
        }
        CompletableFuture<Void> sent = new CompletableFuture<>();
        try {
            // the callback settles sent either way
            var unused = r.publish(channel, message)
                    .toCompletableFuture()
                    .orTimeout(awaitMillis, TimeUnit.MILLISECONDS)
                    .whenComplete((receivers, e) -> {
                        if (e == null) {
                            publishWorks();
                            sent.complete(null);
                        } else {
                            onFailure.run();
                            publishFails(e);
                            sent.completeExceptionally(new StoreException(
                                    "redis " + config.display() + ": the change was not announced to the other nodes: "
                                            + RedisStore.describe(e),
                                    e));
                        }
                    });
        } catch (RuntimeException e) {
            onFailure.run();
            publishFails(e);
            sent.completeExceptionally(new StoreException(
                    "redis " + config.display() + ": the change was not announced to the other nodes: "
                            + RedisStore.describe(e),
                    e));
        }
        return sent;
    }

    @Override
    public void subscribe(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Stops the background work and closes both connections; later locks are local. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        probes.shutdownNow();
        try {
            if (pubsub != null) {
                pubsub.close();
            }
            if (commands != null) {
                commands.stateful().close();
            }
        } finally {
            connector.close();
        }
    }

    @Override
    public String toString() {
        return "RedisCluster[" + nodeId + " on " + config.display() + "]";
    }

    // --- state ---------------------------------------------------------------------------------

    private RenderLock localLock(String key) {
        return new RenderLock(key, LOCAL_TOKEN_PREFIX + nodeId + ":" + lockSequence.incrementAndGet());
    }

    private void locksLocal(Throwable e) {
        if (closed) {
            return;
        }
        locksLocalUntil = System.nanoTime() + LOCK_RETRY_NANOS;
        if (locksLocal.compareAndSet(false, true)) {
            if (RedisHealth.outOfMemory(e)) {
                log.warn(
                        "redis {} is over its maxmemory and refuses render locks: renders take local locks "
                                + "(not coordinated across nodes) until it has room",
                        config.display());
            } else {
                log.warn(
                        "redis {}: node {} cannot take render locks there ({}): renders take local locks (not "
                                + "coordinated across nodes) until it can",
                        config.display(),
                        nodeId,
                        RedisStore.describe(e));
            }
        }
    }

    private void locksShared() {
        locksLocalUntil = 0;
        if (locksLocal.compareAndSet(true, false)) {
            log.info("redis {}: node {} takes render locks there again", config.display(), nodeId);
        }
    }

    private void keepUnsent(Collection<String> keys) {
        for (String key : keys) {
            if (unsent.size() >= MAX_UNSENT) {
                unsentOverflow.set(true);
                return;
            }
            unsent.add(key);
        }
    }

    private void publishFails(Throwable e) {
        if (!closed && publishFailing.compareAndSet(false, true)) {
            log.warn(
                    "redis {}: node {} cannot send change messages ({}): they are sent once it can",
                    config.display(),
                    nodeId,
                    RedisStore.describe(e));
        }
    }

    private void publishWorks() {
        if (publishFailing.compareAndSet(true, false)) {
            log.info("redis {}: node {} sends change messages again", config.display(), nodeId);
        }
    }

    private void probeSoon() {
        try {
            probes.execute(this::probe);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    /** Joins if not yet joined, confirms a lost subscription, and sends the changes kept. */
    private void probe() {
        if (closed) {
            return;
        }
        if (redis == null) {
            try {
                join();
                log.debug("redis {} joined by node {}, after starting without it", config.display(), nodeId);
            } catch (RuntimeException e) {
                return; // still unreachable; the next run tries again
            }
        }
        if (subscriptionLost.get()) {
            try {
                await(pubsub.async().subscribe(channel)); // Lettuce resubscribes too; this one we can wait for
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                return; // not yet; the next run tries again
            }
            if (closed || !pubsub.isOpen() || !subscriptionLost.compareAndSet(true, false)) {
                return;
            }
            log.info(
                    "redis {}: node {} is subscribed to change messages again; dropping its copies in memory, "
                            + "since messages may have been missed",
                    config.display(),
                    nodeId);
            for (Listener listener : listeners) {
                try {
                    listener.missedChanges();
                } catch (RuntimeException e) {
                    log.error("a cluster listener failed on missed changes", e);
                }
            }
        }
        resendUnsent();
    }

    private void resendUnsent() {
        if (unsentOverflow.get()) {
            // a failed send was logged by send() and is tried again at the next probe
            var unused = send(Wire.encodeMissed(nodeId), () -> {}).thenRun(() -> {
                // what was kept is covered by "drop everything"
                unsentOverflow.set(false);
                unsent.clear();
            });
            return;
        }
        if (unsent.isEmpty()) {
            return;
        }
        List<String> keys = new ArrayList<>(unsent);
        var unused = send(Wire.encodeChanged(nodeId, keys), () -> {}).thenRun(() -> keys.forEach(unsent::remove));
    }

    private void received(byte[] bytes) {
        Wire.Message message;
        try {
            message = Wire.decodeMessage(bytes);
        } catch (IllegalArgumentException e) {
            log.debug("ignoring a message on {} that is not Regen's: {}", config.display(), e.getMessage());
            return;
        }
        if (message.nodeId().equals(nodeId)) {
            return;
        }
        for (Listener listener : listeners) {
            try {
                switch (message.type()) {
                    case Wire.MISSED -> listener.missedChanges();
                    case Wire.REVALIDATED -> listener.revalidated(message.keys(), message.tags());
                    case Wire.REFRESHED -> listener.refreshed(message.refreshes());
                    default -> listener.changed(message.keys());
                }
            } catch (RuntimeException e) {
                log.error("a cluster listener failed on a change message", e);
            }
        }
    }

    private <T> T await(CompletionStage<T> future) throws InterruptedException, ExecutionException, TimeoutException {
        return future.toCompletableFuture().get(awaitMillis, TimeUnit.MILLISECONDS);
    }
}
