package dev.regen.store.redis;

import dev.regen.store.StoreException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.ConnectionDeactivatedEvent;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;

/**
 * One Lettuce client, standalone or cluster, with the options Regen wants everywhere: commands
 * fail after the configured timeout, and fail at once while disconnected (no queueing behind a dead
 * connection), and reconnecting retries at least once a second so a returning Redis is noticed fast.
 */
final class RedisConnector implements AutoCloseable {

    private static final Duration MIN_CONNECT_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration RECONNECT_MIN = Duration.ofMillis(100);
    private static final Duration RECONNECT_MAX = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(RedisStore.class);

    private final RedisConfig config;
    private final ClientResources resources;
    private final AbstractRedisClient client;
    /** Redis servers (by address) whose connection dropped and has not come back. */
    private final Set<String> lost = ConcurrentHashMap.newKeySet();

    private volatile Disposable watch;
    private volatile boolean closing;

    private RedisConnector(RedisConfig config, ClientResources resources, AbstractRedisClient client) {
        this.config = config;
        this.resources = resources;
        this.client = client;
    }

    /**
     * Logs one line when the connection to a Redis server (a master, a replica, a Sentinel) drops, and
     * one when it is back, per server: Lettuce's own reconnect and topology lines are silenced by the
     * server's log setup.
     */
    RedisConnector watchServers() {
        watch = resources.eventBus().get().subscribe(event -> {
            if (closing) {
                return;
            }
            if (event instanceof ConnectionDeactivatedEvent e) {
                String server = address(e.remoteAddress());
                if (lost.add(server)) {
                    log.warn(
                            "redis {}: the server {} is unreachable; Regen retries it every second",
                            config.display(),
                            server);
                }
            } else if (event instanceof ConnectionActivatedEvent e) {
                String server = address(e.remoteAddress());
                if (lost.remove(server)) {
                    log.info("redis {}: the server {} answers again", config.display(), server);
                }
            }
        });
        return this;
    }

    private static String address(java.net.SocketAddress a) {
        if (a instanceof java.net.InetSocketAddress i) {
            return i.getHostString() + ":" + i.getPort();
        }
        return String.valueOf(a);
    }

    /** The commands of one connection, the same interface for standalone and cluster. */
    record Connection(StatefulConnection<byte[], byte[]> stateful, RedisClusterAsyncCommands<byte[], byte[]> async) {}

    static RedisConnector create(RedisConfig config) {
        ClientResources resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(RECONNECT_MIN, RECONNECT_MAX, 2, TimeUnit.MILLISECONDS))
                .build();
        SocketOptions socket = SocketOptions.builder()
                .connectTimeout(RedisConfig.max(config.timeout(), MIN_CONNECT_TIMEOUT))
                .keepAlive(true)
                .build();
        TimeoutOptions timeouts = TimeoutOptions.enabled(config.timeout());
        try {
            if (config.cluster()) {
                RedisClusterClient client = RedisClusterClient.create(resources, config.nodes());
                client.setOptions(ClusterClientOptions.builder()
                        .autoReconnect(true)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .socketOptions(socket)
                        .timeoutOptions(timeouts)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enableAllAdaptiveRefreshTriggers()
                                .enablePeriodicRefresh(Duration.ofSeconds(30))
                                .build())
                        .build());
                return new RedisConnector(config, resources, client);
            }
            RedisClient client = RedisClient.create(resources, config.nodes().get(0));
            client.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .socketOptions(socket)
                    .timeoutOptions(timeouts)
                    .build());
            return new RedisConnector(config, resources, client);
        } catch (RuntimeException e) {
            var unused = resources.shutdown(0, 1, TimeUnit.SECONDS); // not waited for: the start failed anyway
            throw e;
        }
    }

    /** A connection for commands. @throws StoreException when Redis cannot be reached or refuses us */
    Connection connect() {
        try {
            if (client instanceof RedisClusterClient cluster) {
                StatefulRedisClusterConnection<byte[], byte[]> c = cluster.connect(ByteArrayCodec.INSTANCE);
                try {
                    // Lettuce opens node connections lazily, and with REJECT_COMMANDS it fails a command
                    // whose node connection is still opening: open one to every master now.
                    for (RedisClusterNode node : c.getPartitions()) {
                        if (node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
                            c.getConnection(
                                    node.getUri().getHost(), node.getUri().getPort());
                        }
                    }
                } catch (RuntimeException e) {
                    c.close();
                    throw e;
                }
                return new Connection(c, c.async());
            }
            StatefulRedisConnection<byte[], byte[]> c = ((RedisClient) client).connect(ByteArrayCodec.INSTANCE);
            return new Connection(c, c.async());
        } catch (RuntimeException e) {
            throw new StoreException("cannot connect to " + config.display() + ": " + RedisStore.describe(e), e);
        }
    }

    /** A pub/sub connection. @throws StoreException when Redis cannot be reached or refuses us */
    StatefulRedisPubSubConnection<byte[], byte[]> connectPubSub() {
        try {
            if (client instanceof RedisClusterClient cluster) {
                return cluster.connectPubSub(ByteArrayCodec.INSTANCE);
            }
            return ((RedisClient) client).connectPubSub(ByteArrayCodec.INSTANCE);
        } catch (RuntimeException e) {
            throw new StoreException("cannot connect to " + config.display() + ": " + RedisStore.describe(e), e);
        }
    }

    /**
     * Whether a failure to connect means Redis did not answer (down, wrong address, a network
     * fault), rather than answered and refused us (credentials, TLS, protocol).
     */
    static boolean unreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RedisCommandExecutionException || t instanceof javax.net.ssl.SSLException) {
                return false;
            }
        }
        return true;
    }

    /** Closes every connection of the client and stops its threads; waits at most about two seconds. */
    @Override
    public void close() {
        closing = true;
        if (watch != null) {
            watch.dispose();
        }
        try {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        } finally {
            resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        }
    }
}
