package dev.regen.server;

import dev.regen.RegenEngine;
import dev.regen.cluster.Cluster;
import dev.regen.store.redis.RedisCluster;
import dev.regen.store.redis.RedisStore;
import dev.regen.admin.AdminApi;
import dev.regen.admin.HealthMonitor;
import dev.regen.admin.RegenMetrics;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.KvStore;
import dev.regen.store.MemoryStore;
import dev.regen.store.embedded.EmbeddedStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reverse proxy: a Netty HTTP/1.1 server in front of one origin, with the engine and its store.
 * {@link #close()} stops accepting, lets requests in flight finish (at most 10 s), then closes the
 * engine and the store.
 */
public final class RegenServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegenServer.class);
    /** Request bodies of pass-through requests are buffered up to this size; larger ones get 413. */
    static final int MAX_REQUEST_BODY = 16 * 1024 * 1024;

    private final ServerConfig config;
    private final KvStore store;
    private final RegenEngine engine;
    private final HealthMonitor health;
    private final Cluster cluster;
    private final EventLoopGroup group;
    private final PreparedPage.Cache prepared;
    private final Channel channel;
    private final java.util.concurrent.atomic.AtomicInteger active = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;

    /** The parts that need neither the store nor the cluster, so they can come up while those open. */
    private record Parts(HttpOrigin origin, RegenMetrics metrics) {
        static Parts of(ServerConfig config) {
            // metrics use the system clock: the dashboard's chart shows real time even under a test's fake clock
            return new Parts(new HttpOrigin(config.origin(), config.connectTimeout(), config.engine().renderTimeout(), null),
                    new RegenMetrics());
        }
    }

    private RegenServer(ServerConfig config, KvStore store, Cluster cluster, InstantSource clock, Parts parts)
            throws InterruptedException {
        this.config = config;
        this.store = store;
        this.cluster = cluster;
        HttpOrigin origin = parts.origin();
        RegenMetrics metrics = parts.metrics();
        this.engine = RegenEngine.builder().config(config.engine()).origin(origin).store(metrics.instrument(store))
                .clock(clock).memoryBytes(config.memoryBytes()).listener(metrics).cluster(cluster).build();
        metrics.bind(engine);
        this.health = OriginHealth.monitor(store, config.origin(), config.connectTimeout());
        boolean epoll = Epoll.isAvailable();
        // one event loop per core, not Netty's default of two: nothing blocks a loop, and two loops
        // time-sliced on one core add a scheduler quantum to the tail latency of half the connections
        this.group = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        AccessLog accessLog = new AccessLog(config.accessLog());
        // off-heap copies of the hottest pages, ready to write: a quarter of the L1 budget
        this.prepared = new PreparedPage.Cache(config.memoryBytes() / 4, UnpooledByteBufAllocator.DEFAULT);
        Routes routes = new Routes(AdminApi.builder(engine).secret(config.secret()).webhookPath(config.webhookPath())
                .metrics(metrics).metricsPublic(config.metricsPublic()).health(health).build());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new IdleStateHandler(0, 0, 75, TimeUnit.SECONDS))
                                // decoder and encoder apart (not HttpServerCodec): pre-encoded hits bypass the
                                // encoder, which must then not expect one response per request it saw
                                .addLast(new HttpRequestDecoder())
                                .addLast(new HttpResponseEncoder())
                                .addLast(new HttpServerExpectContinueHandler())
                                .addLast(new HttpObjectAggregator(MAX_REQUEST_BODY))
                                .addLast(new ProxyHandler(engine, origin, clock, routes, active, accessLog, prepared));
                    }
                });
        try {
            this.channel = bootstrap.bind(config.listenHost(), config.listenPort()).sync().channel();
        } catch (Throwable e) {
            // includes a BindException Netty rethrows unchecked: port in use
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            prepared.close();
            engine.close();
            health.close();
            throw e;
        }
    }

    /** Opens the configured store (and, on Redis, joins the cluster of nodes sharing it) and starts serving. */
    public static RegenServer start(ServerConfig config) throws InterruptedException {
        InstantSource clock = InstantSource.system();
        // On a cold JVM the store (SQLite's native library, a Redis connection) and the origin's HTTP
        // client with the metrics registry each take a few hundred ms to come up: side by side, then.
        CompletableFuture<Parts> parts = CompletableFuture.supplyAsync(() -> Parts.of(config), task -> {
            Thread t = new Thread(task, "regen-start");
            t.setDaemon(true);
            t.start();
        });
        KvStore store = openStore(config.store(), config.memoryBytes(), clock);
        Cluster cluster;
        try {
            cluster = openCluster(config);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        return start(config, store, cluster, clock, () -> {
            try {
                return parts.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        });
    }

    /** Starts serving over a store the caller opened; the server closes it. */
    public static RegenServer start(ServerConfig config, KvStore store, InstantSource clock) throws InterruptedException {
        return start(config, store, Cluster.LOCAL, clock);
    }

    /** Starts one node of a cluster over a shared store; the server closes both. */
    public static RegenServer start(ServerConfig config, KvStore store, Cluster cluster, InstantSource clock)
            throws InterruptedException {
        return start(config, store, cluster, clock, () -> Parts.of(config));
    }

    private static RegenServer start(ServerConfig config, KvStore store, Cluster cluster, InstantSource clock,
                                     Supplier<Parts> parts) throws InterruptedException {
        try {
            return new RegenServer(config, store, cluster, clock, parts.get());
        } catch (Throwable e) {
            cluster.close();
            store.close();
            throw e;
        }
    }

    private static Cluster openCluster(ServerConfig config) {
        if (config.store() instanceof StoreSpec.Redis r) {
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                host = "node";
            }
            return RedisCluster.open(r.uri(), host + ":" + config.listenPort() + ":" + ProcessHandle.current().pid());
        }
        return Cluster.LOCAL;
    }

    public static KvStore openStore(StoreSpec spec, long memoryBytes, InstantSource clock) {
        if (spec instanceof StoreSpec.Memory) {
            return new MemoryStore(memoryBytes, clock);
        }
        if (spec instanceof StoreSpec.Embedded e) {
            return EmbeddedStore.open(e.dir(), clock);
        }
        if (spec instanceof StoreSpec.Redis r) {
            return RedisStore.open(r.uri(), clock);
        }
        throw new IllegalArgumentException("unknown store " + spec);
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    public RegenEngine engine() {
        return engine;
    }

    public ServerConfig config() {
        return config;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        channel.close().syncUninterruptibly();
        // requests in flight keep their connections and finish: wait for them, at most 10 s
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (active.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (active.get() > 0) {
            log.warn("{} requests still in flight after 10 s; closing anyway", active.get());
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        prepared.close();
        engine.close();
        health.close();
        cluster.close();
        store.close();
        log.info("stopped");
    }
}
