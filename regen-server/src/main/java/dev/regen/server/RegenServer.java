package dev.regen.server;

import dev.regen.Regen;
import dev.regen.RegenEngine;
import dev.regen.admin.AdminApi;
import dev.regen.admin.HealthMonitor;
import dev.regen.admin.RegenMetrics;
import dev.regen.cluster.Cluster;
import dev.regen.server.config.Front;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.KvStore;
import dev.regen.store.MemoryStore;
import dev.regen.store.embedded.EmbeddedStore;
import dev.regen.store.redis.RedisCluster;
import dev.regen.store.redis.RedisStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import java.net.InetSocketAddress;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
    /** Told to every connection when shutdown begins: idle ones close, busy ones finish with {@code Connection: close}. */
    static final Object DRAIN = new Object();
    /** The HTTP/1.1 handlers of a connection, from the tail: what a tunnel removes, in that order. */
    static final java.util.List<String> HTTP1_HANDLERS_TAIL_FIRST =
            java.util.List.of("proxy", "flow", "encoder", "decoder", "headwatch");

    private final ServerConfig config;
    private final KvStore store;
    private final RegenEngine engine;
    private final HealthMonitor health;
    private final Cluster cluster;
    private final EventLoopGroup group;
    private final PreparedPage.Cache prepared;
    private final AccessLog accessLog;
    private final Channel channel;
    private final Frontend frontend;
    private final OriginClient origin;
    private final TlsContext tls;
    private volatile boolean closed;

    /** The parts that need neither the store nor the cluster, so they can come up while those open. */
    private record Parts(RegenMetrics metrics) {
        static Parts of() {
            // metrics use the system clock: the dashboard's chart shows real time even under a test's fake clock
            return new Parts(new RegenMetrics());
        }
    }

    private RegenServer(ServerConfig config, KvStore store, Cluster cluster, InstantSource clock, Parts parts)
            throws InterruptedException {
        this.config = config;
        this.store = store;
        this.cluster = cluster;
        this.accessLog = AccessLog.open(config, clock); // first: a file it can't open stops the start
        RegenMetrics metrics = parts.metrics();
        boolean epoll = Epoll.isAvailable();
        // one event loop per core, not Netty's default of two: nothing blocks a loop, and two loops
        // time-sliced on one core add a scheduler quantum to the tail latency of half the connections
        this.group = new MultiThreadIoEventLoopGroup(
                Runtime.getRuntime().availableProcessors(),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Front front = config.front();
        this.origin = new OriginClient(
                config.origin(),
                config.connectTimeout(),
                config.engine().renderTimeout(),
                front.idleTimeout(),
                group,
                front.preserveHost());
        Regen regen = Regen.newBuilder()
                .config(config.engine())
                .store(metrics.instrument(store))
                .clock(clock)
                .memoryBytes(config.memoryBytes())
                .listener(metrics)
                .cluster(cluster)
                .secret(config.secret())
                .webhookPath(config.webhookPath())
                .metricsPublic(config.metricsPublic())
                .secureCookie(front.tls() != null)
                .siteName(front.hosts().isEmpty() ? config.origin().toString() : String.join(", ", front.hosts()))
                .origin(config.origin())
                .connectTimeout(config.connectTimeout())
                .build();
        this.engine = regen.newEngine(origin);
        metrics.bind(engine);
        this.health = OriginHealth.monitor(store, config.origin(), config.connectTimeout());
        Class<? extends ServerChannel> channelType =
                epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        // off-heap copies of the hottest pages, ready to write: a quarter of the L1 budget
        this.prepared = new PreparedPage.Cache(config.memoryBytes() / 4, UnpooledByteBufAllocator.DEFAULT);
        Routes routes = new Routes(new AdminApi(regen, engine, metrics, health));
        this.tls = front.tls() == null ? null : new TlsContext(front.tls(), group.next());
        this.frontend = new Frontend(
                engine,
                origin,
                routes,
                accessLog,
                prepared,
                clock,
                front,
                new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE));
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .handler(new AcceptErrors(frontend))
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        int open = frontend.connections.incrementAndGet();
                        ch.closeFuture().addListener(f -> frontend.connections.decrementAndGet());
                        frontend.channels.add(ch);
                        boolean limited = open > front.maxConnections();
                        ChannelPipeline p = ch.pipeline();
                        if (tls != null) {
                            p.addLast("tls", tls.context().newHandler(ch.alloc()));
                            p.addLast(
                                    "alpn",
                                    new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
                                        @Override
                                        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                                            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                                                http2(ctx.pipeline(), true);
                                            } else {
                                                http1(ctx.pipeline(), true, limited);
                                            }
                                        }
                                    });
                            ch.config().setAutoRead(true); // for the handshake; the chosen protocol decides after it
                        } else if (front.h2c()) {
                            p.addLast("sniff", new PriorKnowledge(limited));
                        } else {
                            http1(p, false, limited);
                        }
                    }
                });
        try {
            this.channel = bootstrap
                    .bind(config.listenHost(), config.listenPort())
                    .sync()
                    .channel();
        } catch (Throwable e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            accessLog.close();
            prepared.close();
            engine.close();
            health.close();
            // Netty rethrows the bind's IOException unchecked: port in use, not ours to take, no such address
            if (e instanceof java.io.IOException) {
                throw new IllegalStateException(cannotListen(config.listenHost(), config.listenPort(), e.getMessage()));
            }
            throw e;
        }
    }

    /**
     * HTTP/2 (RFC 9113): each stream becomes a channel of its own with the HTTP/1.1 objects the proxy
     * handler reads, so both protocols take the same path. Shutdown sends GOAWAY and lets streams finish.
     */
    private void http2(ChannelPipeline p, boolean secure) {
        Front front = config.front();
        p.addLast(
                "h2",
                Http2FrameCodecBuilder.forServer()
                        .initialSettings(Http2Settings.defaultSettings()
                                .maxConcurrentStreams(128)
                                .maxHeaderListSize(front.maxHeaderBlock()))
                        .gracefulShutdownTimeoutMillis(10_000)
                        .build());
        p.addLast("h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                stream.config().setAutoRead(false);
                stream.pipeline()
                        .addLast("h2-http", new Http2StreamFrameToHttpObjectCodec(true, true))
                        .addLast("flow", new io.netty.handler.flow.FlowControlHandler())
                        .addLast("proxy", new ProxyHandler(frontend, secure, false, true));
            }
        }));
        p.addLast("h2-drain", new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt == DRAIN) {
                    ctx.close(); // graceful: GOAWAY, then the streams under way finish
                } else {
                    ctx.fireUserEventTriggered(evt);
                }
            }
        });
        p.channel().config().setAutoRead(true);
    }

    /**
     * Cleartext connections: HTTP/2 when they open with its preface (prior knowledge, RFC 9113 §3.3),
     * else HTTP/1.1. Decides on the first bytes, then steps aside.
     */
    private final class PriorKnowledge extends io.netty.handler.codec.ByteToMessageDecoder {
        private final boolean limited;

        PriorKnowledge(boolean limited) {
            this.limited = limited;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            super.channelActive(ctx);
            ctx.read();
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, io.netty.buffer.ByteBuf in, java.util.List<Object> out) {
            io.netty.buffer.ByteBuf preface = io.netty.handler.codec.http2.Http2CodecUtil.connectionPrefaceBuf();
            try {
                int n = Math.min(in.readableBytes(), preface.readableBytes());
                // the next handlers go in first: what this decoder holds flows on to them when it leaves
                if (!io.netty.buffer.ByteBufUtil.equals(in, in.readerIndex(), preface, 0, n)) {
                    http1(ctx.pipeline(), false, limited);
                    ctx.pipeline().remove(this);
                } else if (n == preface.readableBytes()) {
                    http2(ctx.pipeline(), false);
                    ctx.pipeline().remove(this);
                }
            } finally {
                preface.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
            super.channelReadComplete(ctx);
            if (ctx.pipeline().context(this) != null) {
                ctx.read(); // not enough bytes to tell yet
            }
        }
    }

    /** The HTTP/1.1 handlers: each request read whole-head first, answered in order, bodies streamed. */
    private void http1(ChannelPipeline p, boolean secure, boolean limited) {
        Front front = config.front();
        // before the handlers go in: the proxy handler asks for its first read as soon as it is added
        p.channel().config().setAutoRead(false);
        ProxyHandler proxy = new ProxyHandler(frontend, secure, limited, false);
        p.addLast("headwatch", new HeadWatch(proxy))
                .addLast(
                        "decoder",
                        new HttpRequestDecoder(new io.netty.handler.codec.http.HttpDecoderConfig()
                                .setMaxInitialLineLength(front.maxRequestLine())
                                .setMaxHeaderSize(front.maxHeaderBlock())
                                .setMaxChunkSize(64 * 1024)))
                // decoder and encoder apart (not HttpServerCodec): pre-encoded hits bypass the encoder,
                // which must then not expect one response per request it saw
                .addLast("encoder", new HttpResponseEncoder())
                // one decoded message per read: a pipelining client waits in its socket, not in memory
                .addLast("flow", new io.netty.handler.flow.FlowControlHandler())
                .addLast("proxy", proxy);
    }

    /**
     * Accept failures (at the file-descriptor limit, every accept fails at once): one log line per
     * incident, not a stack trace per attempt. Netty pauses accepting for a second on its own.
     */
    private static final class AcceptErrors extends io.netty.channel.ChannelInboundHandlerAdapter {
        private final Frontend frontend;
        private long lastLogged;

        AcceptErrors(Frontend frontend) {
            this.frontend = frontend;
        }

        @Override
        public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
            long now = System.nanoTime();
            if (now - lastLogged > TimeUnit.SECONDS.toNanos(10)) {
                lastLogged = now;
                log.warn(
                        "cannot accept connections: {} ({} open); retrying",
                        cause.getMessage(),
                        frontend.connections.get());
            }
        }
    }

    /**
     * One line for a failed bind, with the address and what to do, instead of the OS's words alone
     * ({@code bind(..) failed with error(-98): Address already in use}).
     */
    static String cannotListen(String host, int port, String message) {
        String reason =
                message == null ? "unknown error" : message.replaceFirst("^.*failed with error\\(-?\\d+\\): ", "");
        String lower = reason.toLowerCase(java.util.Locale.ROOT);
        String hint = lower.contains("in use")
                ? "the address is already in use: another process listens there (another Regen?); stop it or choose another port with --port (or listen: in the config)"
                : lower.contains("permission denied") || lower.contains("access denied")
                        ? "permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port above 1024 with --port"
                        : lower.contains("assign requested address")
                                ? host
                                        + " is not an address of this machine; listen on 0.0.0.0 (every address) or one of its own"
                                : reason;
        String address = host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
        return "cannot listen on " + address + ": " + hint;
    }

    /** Opens the configured store (and, on Redis, joins the cluster of nodes sharing it) and starts serving. */
    public static RegenServer start(ServerConfig config) throws InterruptedException {
        InstantSource clock = InstantSource.system();
        // On a cold JVM the store (SQLite's native library, a Redis connection) and the origin's HTTP
        // client with the metrics registry each take a few hundred ms to come up: side by side, then.
        CompletableFuture<Parts> parts = CompletableFuture.supplyAsync(Parts::of, task -> {
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
    public static RegenServer start(ServerConfig config, KvStore store, InstantSource clock)
            throws InterruptedException {
        return start(config, store, Cluster.LOCAL, clock);
    }

    /** Starts one node of a cluster over a shared store; the server closes both. */
    public static RegenServer start(ServerConfig config, KvStore store, Cluster cluster, InstantSource clock)
            throws InterruptedException {
        return start(config, store, cluster, clock, Parts::of);
    }

    private static RegenServer start(
            ServerConfig config, KvStore store, Cluster cluster, InstantSource clock, Supplier<Parts> parts)
            throws InterruptedException {
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
            String nodeId = host + ":" + config.listenPort() + ":"
                    + ProcessHandle.current().pid();
            return r.strict() ? RedisCluster.open(r.uri(), nodeId) : RedisCluster.openInBackground(r.uri(), nodeId);
        }
        return Cluster.LOCAL;
    }

    public static KvStore openStore(StoreSpec spec, long memoryBytes, InstantSource clock) {
        if (spec instanceof StoreSpec.Memory) {
            return new MemoryStore(memoryBytes, clock);
        }
        if (spec instanceof StoreSpec.Embedded e) {
            return e.maxSize() == null
                    ? EmbeddedStore.open(e.dir(), clock)
                    : EmbeddedStore.open(e.dir(), clock, e.maxSize());
        }
        if (spec instanceof StoreSpec.Redis r) {
            return r.strict() ? RedisStore.open(r.uri(), clock) : RedisStore.openInBackground(r.uri(), clock);
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
        // requests in flight keep their connections and finish with Connection: close; idle ones close now
        frontend.drain();
        frontend.channels.forEach(ch -> ch.pipeline().fireUserEventTriggered(DRAIN));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        AtomicInteger active = frontend.active;
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
        origin.close();
        if (tls != null) {
            tls.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        accessLog.close();
        prepared.close();
        engine.close();
        health.close();
        cluster.close();
        store.close();
        log.info("stopped");
    }
}
