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
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
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
 * {@link Cluster} on Redis or Valkey (standalone or Redis Cluster), for nodes that share a
 * {@link RedisStore}. Opened from the same URI as the store; see {@link RedisStore} for its syntax.
 *
 * <ul>
 *   <li><b>Render lock</b>: {@code SET <prefix>lock:<key> <token> NX PX <ttl>}, the token naming this
 *       node; released by a Lua compare-and-delete, so only the holder releases it and a lock that
 *       expired and was taken by another node is left alone.
 *   <li><b>Changes</b>: {@code PUBLISH <prefix>changes}, a binary message with this node's id and the
 *       keys; a node ignores its own messages. In Redis Cluster a plain PUBLISH reaches every node.
 *   <li><b>Redis down</b>: when a command fails or the pub/sub connection drops, this node turns to
 *       local mode and logs one warning: {@link #tryLock} grants local locks (token
 *       {@code local:...}) at once, {@link #unlock} of those does nothing, {@link #publish} drops the
 *       message. A background check (every 250 ms, and at once when the connection comes back)
 *       returns to normal when Redis answers and the channel is subscribed again, logs one line, and
 *       then: if the pub/sub connection had dropped, calls {@link Listener#missedChanges()}; if this
 *       node dropped messages meanwhile, tells the other nodes to drop their L1 too.
 * </ul>
 *
 * <p>Threading: every method is thread-safe and never throws because of Redis. {@link #tryLock}
 * blocks for one round trip (at most the URI's timeout, 500 ms by default) while Redis is up and not
 * at all while it is down; {@link #unlock} and {@link #publish} never block. Listeners are called on
 * Lettuce's I/O thread (messages) or on this object's own thread (missed changes), and must not block.
 */
public final class RedisCluster implements Cluster {

    /** Prefix of the tokens of locks granted while Redis is unreachable. */
    public static final String LOCAL_TOKEN_PREFIX = "local:";

    static final Duration PROBE_INTERVAL = Duration.ofMillis(250);

    private static final Logger log = LoggerFactory.getLogger(RedisCluster.class);

    private static final Script UNLOCK = new Script("""
            if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
            return 0
            """);

    private final RedisConfig config;
    private final KeyLayout layout;
    private final String nodeId;
    private final byte[] channel;
    private final RedisConnector connector;
    private final RedisConnector.Connection commands;
    private final RedisClusterAsyncCommands<byte[], byte[]> redis;
    private final StatefulRedisPubSubConnection<byte[], byte[]> pubsub;
    private final ScheduledExecutorService probes;
    private final long awaitMillis;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong lockSequence = new AtomicLong();
    /** Longer than any render holds a lock (render timeout + 5 s with the defaults). */
    private static final long INVALIDATED_MARK_TTL_MS = 120_000;
    private final AtomicBoolean up = new AtomicBoolean(true);
    /** The pub/sub connection dropped since the last time we were up: messages may have been lost. */
    private final AtomicBoolean pubsubInterrupted = new AtomicBoolean();
    private final AtomicLong droppedPublishes = new AtomicLong();
    private volatile boolean closed;

    private RedisCluster(RedisConfig config, String nodeId, RedisConnector connector) {
        this.config = config;
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
                    pubsubInterrupted.set(true);
                    markDown("the pub/sub connection was lost");
                }
            });
            await(ps.async().subscribe(channel));
        } catch (Exception e) {
            probes.shutdownNow();
            if (ps != null) {
                ps.close();
            }
            if (connection != null) {
                connection.stateful().close();
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e instanceof StoreException se ? se
                    : new StoreException("cannot subscribe to " + config.display() + ": " + RedisStore.describe(e), e);
        }
        this.commands = connection;
        this.redis = connection.async();
        this.pubsub = ps;
        long every = PROBE_INTERVAL.toMillis();
        probes.scheduleWithFixedDelay(this::probe, every, every, TimeUnit.MILLISECONDS);
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
        Objects.requireNonNull(nodeId, "nodeId");
        if (nodeId.isEmpty() || nodeId.startsWith(LOCAL_TOKEN_PREFIX)) {
            throw new IllegalArgumentException("nodeId must be non-empty and not start with "
                    + LOCAL_TOKEN_PREFIX + ": '" + nodeId + "'");
        }
        Wire.utf8("nodeId", nodeId);
        RedisConfig config = RedisConfig.parse(uri);
        RedisConnector connector = RedisConnector.create(config);
        try {
            return new RedisCluster(config, nodeId, connector);
        } catch (RuntimeException e) {
            connector.close();
            throw e;
        }
    }

    /** This node's id, as in its lock tokens and messages. */
    public String nodeId() {
        return nodeId;
    }

    /** Whether Redis is reachable as far as this node knows; false means locks are local and publishes dropped. */
    public boolean connected() {
        return up.get() && !closed;
    }

    /**
     * The render lock of {@code key}, null when another node holds it. While Redis is unreachable (or
     * after {@link #close}) a local lock, token {@value #LOCAL_TOKEN_PREFIX}..., is granted at once.
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
        if (!connected()) {
            return localLock(key);
        }
        String token = nodeId + ":" + lockSequence.incrementAndGet();
        try {
            SetArgs nxPx = SetArgs.Builder.nx().px(ttl.toMillis());
            String reply = await(redis.set(layout.lock(k), Wire.utf8("token", token), nxPx));
            return "OK".equals(reply) ? new RenderLock(key, token) : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            release(new RenderLock(key, token));
            return localLock(key);
        } catch (Exception e) {
            markDown("taking a render lock failed: " + RedisStore.describe(e));
            // A slow Redis may still run the SET: release it right behind, on the same connection,
            // rather than block other nodes until the ttl.
            release(new RenderLock(key, token));
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
        if (!connected() || closed) {
            return;
        }
        byte[] k = Wire.utf8("key", key);
        try {
            Long held = await(redis.exists(layout.lock(k)));
            if (held != null && held > 0) {
                await(redis.set(layout.invalidatedMark(k), new byte[] {1}, SetArgs.Builder.px(INVALIDATED_MARK_TTL_MS)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            markDown("marking an invalidation failed: " + RedisStore.describe(e));
        }
    }

    @Override
    public boolean takeInvalidated(RenderLock lock) {
        if (lock == null || lock.token().startsWith(LOCAL_TOKEN_PREFIX) || !connected() || closed) {
            return false;
        }
        try {
            return await(redis.getdel(layout.invalidatedMark(Wire.utf8("key", lock.key())))) != null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            markDown("reading an invalidation mark failed: " + RedisStore.describe(e));
            return false;
        }
    }

    /** Releases {@code lock} if this node still holds it, without waiting for the answer. */
    @Override
    public void unlock(RenderLock lock) {
        if (lock == null || lock.token().startsWith(LOCAL_TOKEN_PREFIX) || closed) {
            return;
        }
        release(lock);
    }

    private void release(RenderLock lock) {
        try {
            byte[][] keys = {layout.lock(Wire.utf8("key", lock.key()))};
            UNLOCK.run(redis, ScriptOutputType.INTEGER, keys, Wire.utf8("token", lock.token()))
                    .whenComplete((released, e) -> {
                        if (e != null && !closed) {
                            markDown("releasing a render lock failed: " + RedisStore.describe(e));
                        }
                    });
        } catch (RuntimeException e) {
            // The lock expires by itself; a fault here must not reach the engine.
            markDown("releasing a render lock failed: " + RedisStore.describe(e));
        }
    }

    /** Publishes {@code keys} to the other nodes without waiting; dropped while Redis is unreachable. */
    @Override
    public void publish(Collection<String> keys) {
        if (keys == null || keys.isEmpty() || closed) {
            return;
        }
        if (!up.get()) {
            droppedPublishes.incrementAndGet();
            return;
        }
        byte[] message;
        try {
            message = Wire.encodeChanged(nodeId, keys);
        } catch (IllegalArgumentException e) {
            log.warn("not publishing a change of {} keys: {}", keys.size(), e.getMessage());
            return;
        }
        try {
            redis.publish(channel, message).whenComplete((receivers, e) -> {
                if (e != null && !closed) {
                    droppedPublishes.incrementAndGet();
                    markDown("publishing a change failed: " + RedisStore.describe(e));
                }
            });
        } catch (RuntimeException e) {
            droppedPublishes.incrementAndGet();
            markDown("publishing a change failed: " + RedisStore.describe(e));
        }
    }

    @Override
    public void subscribe(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Stops the background check and closes both connections; later locks are local. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        probes.shutdownNow();
        try {
            pubsub.close();
            commands.stateful().close();
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

    private void markDown(String reason) {
        if (!closed && up.compareAndSet(true, false)) {
            log.warn("redis {} unreachable from node {} ({}): render locks are local and changes are not published "
                    + "until it is back", config.display(), nodeId, reason);
        }
    }

    private void probeSoon() {
        try {
            probes.execute(this::probe);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    /** While down: back up once Redis answers on the command connection and the channel is subscribed. */
    private void probe() {
        if (closed || up.get()) {
            return;
        }
        try {
            await(redis.ping());
            await(pubsub.async().subscribe(channel)); // Lettuce resubscribes too; this one we can wait for
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            return; // still down; the next run tries again
        }
        if (closed || !up.compareAndSet(false, true)) {
            return;
        }
        if (!pubsub.isOpen()) {
            // Dropped again between the SUBSCRIBE and now: stay down, quietly, for the next run.
            pubsubInterrupted.set(true);
            up.set(false);
            return;
        }
        boolean missed = pubsubInterrupted.getAndSet(false);
        long dropped = droppedPublishes.getAndSet(0);
        log.info("redis {} is back for node {}: render locks and change messages are shared again{}", config.display(),
                nodeId, missed ? "; dropping every local copy, since messages may have been missed" : "");
        if (dropped > 0) {
            // Other nodes may have stayed connected and never learnt of our changes.
            redis.publish(channel, Wire.encodeMissed(nodeId));
        }
        if (missed) {
            for (Listener listener : listeners) {
                try {
                    listener.missedChanges();
                } catch (RuntimeException e) {
                    log.warn("a cluster listener failed on missed changes: {}", e.toString());
                }
            }
        }
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
                if (message.type() == Wire.MISSED) {
                    listener.missedChanges();
                } else {
                    listener.changed(message.keys());
                }
            } catch (RuntimeException e) {
                log.warn("a cluster listener failed on a change message: {}", e.toString());
            }
        }
    }

    private <T> T await(CompletionStage<T> future) throws InterruptedException, ExecutionException, TimeoutException {
        return future.toCompletableFuture().get(awaitMillis, TimeUnit.MILLISECONDS);
    }
}
