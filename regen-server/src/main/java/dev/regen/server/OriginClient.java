package dev.regen.server;

import dev.regen.internal.Header;
import dev.regen.internal.Origin;
import dev.regen.internal.OriginException;
import dev.regen.internal.OriginRequest;
import dev.regen.internal.OriginResponse;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The origin behind the proxy, spoken to over Netty on the proxy's own event loops: keep-alive
 * connections pooled per event loop (so an exchange never changes thread), bodies streamed both ways
 * with backpressure, and the response head checked strictly (a malformed or ambiguous response is a
 * 502, never relayed or stored).
 *
 * <p>Every exchange has two limits: the response head must arrive within the render timeout; after
 * that, the connection may be silent for at most the idle timeout (a stream that keeps sending, like
 * server-sent events, runs as long as it keeps sending). Redirects that point at the origin's own
 * address are rewritten to path-absolute form, so the public host never sees it.
 */
final class OriginClient implements Origin, AutoCloseable {
    /** Idle pooled connections are closed after this, before the origin's own keep-alive would. */
    private static final int POOL_IDLE_SECONDS = 30;

    private static final int MAX_IDLE_PER_LOOP = 64;

    private final URI base;
    private final String authority;
    private final String baseUrl;
    private final boolean tls;
    private final Bootstrap bootstrap;
    private final EventLoopGroup group;
    private final Duration headTimeout;
    private final Duration idleTimeout;
    private final boolean preserveHost;
    private final Map<EventLoop, ArrayDeque<Channel>> idle = new ConcurrentHashMap<>();

    OriginClient(
            URI base,
            Duration connectTimeout,
            Duration headTimeout,
            Duration idleTimeout,
            EventLoopGroup group,
            boolean preserveHost) {
        String b = base.toString();
        this.base = URI.create(b.endsWith("/") ? b.substring(0, b.length() - 1) : b);
        this.tls = "https".equalsIgnoreCase(this.base.getScheme());
        int port = this.base.getPort() > 0 ? this.base.getPort() : tls ? 443 : 80;
        this.authority = this.base.getRawAuthority();
        this.baseUrl = this.base.getScheme().toLowerCase(Locale.ROOT) + "://" + authority;
        this.group = group;
        this.headTimeout = headTimeout;
        this.idleTimeout = idleTimeout;
        this.preserveHost = preserveHost;
        SslContext ssl = tls ? clientSsl() : null;
        String host = this.base.getHost();
        this.bootstrap = new Bootstrap()
                .channel(Epoll.isAvailable() ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .remoteAddress(host, port)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), host, port));
                        }
                        // strict: a response with conflicting Content-Length values or bad header lines fails to decode
                        ch.pipeline().addLast("codec", new HttpClientCodec(8192, 64 * 1024, 16 * 1024, true));
                        // reader idle: a response that stalls; all idle: a pooled connection nobody uses
                        ch.pipeline()
                                .addLast(
                                        "idle",
                                        new IdleStateHandler(
                                                idleTimeout.toMillis(),
                                                0,
                                                TimeUnit.SECONDS.toMillis(POOL_IDLE_SECONDS),
                                                TimeUnit.MILLISECONDS));
                        ch.pipeline().addLast("exchange", new ExchangeHandler());
                    }
                });
    }

    private static SslContext clientSsl() {
        try {
            return SslContextBuilder.forClient().build();
        } catch (SSLException e) {
            throw new IllegalStateException("no TLS client for an https origin: " + e.getMessage(), e);
        }
    }

    /** A connection for a tunnel: the HTTP codec for the upgrade, then {@code handler}; never pooled. */
    Bootstrap tunnelBootstrap(EventLoop loop, io.netty.channel.ChannelHandler handler) {
        String host = base.getHost();
        int port = base.getPort() > 0 ? base.getPort() : tls ? 443 : 80;
        SslContext ssl = tls ? clientSsl() : null;
        return bootstrap.clone(loop).handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                if (ssl != null) {
                    ch.pipeline().addLast(ssl.newHandler(ch.alloc(), host, port));
                }
                ch.pipeline().addLast(new HttpClientCodec(8192, 64 * 1024, 16 * 1024, true));
                ch.pipeline().addLast(handler);
            }
        });
    }

    URI base() {
        return base;
    }

    /** What the {@code Host} field sent to the origin is when the public host is not preserved. */
    String authority() {
        return authority;
    }

    /** Receives one exchange's response, on the exchange's event loop. */
    interface Listener {
        /** The head: after {@link Location rewriting}. Return false to stop reading (the exchange is dropped). */
        void head(HttpResponse response);

        /** A piece of the body; the listener releases it. */
        void content(ByteBuf chunk);

        /** The body ended; the connection went back to the pool (or was closed). */
        void end();

        /** The exchange broke: {@link OriginException} before the head, anything after it. */
        void failed(Throwable cause);
    }

    /**
     * One request/response on a connection of its own (taken from the pool or opened). The request
     * head goes at once; a body, if any, through {@link #write} (its last piece a {@link LastHttpContent});
     * the response reaches the listener on {@code loop}. Not thread-safe: used on {@code loop} only.
     */
    final class Exchange {
        private final EventLoop loop;
        private final Listener listener;
        private Channel channel;
        private HttpResponse head;
        private boolean requestDone;
        private boolean responseDone;
        private boolean closed;
        private ScheduledFuture<?> headTimer;
        private final ArrayDeque<HttpContent> pending = new ArrayDeque<>(2);
        private Runnable whenWritable;

        private Exchange(EventLoop loop, Listener listener) {
            this.loop = loop;
            this.listener = listener;
        }

        /** Sends a piece of the request body (released here); the last piece is a {@link LastHttpContent}. */
        void write(HttpContent chunk) {
            if (closed) {
                chunk.release();
                return;
            }
            if (channel == null) {
                pending.add(chunk);
                return;
            }
            boolean last = chunk instanceof LastHttpContent;
            channel.writeAndFlush(chunk).addListener(f -> {
                if (!f.isSuccess()) {
                    fail(new java.io.IOException("the request body could not be sent: " + f.cause(), f.cause()));
                }
            });
            if (last) {
                requestDone = true;
                armHeadTimer();
            }
        }

        /** Whether the origin connection takes more request body now. */
        boolean writable() {
            return channel != null && channel.isWritable();
        }

        /** Runs {@code task} once the origin connection can take more of the request body. */
        void whenWritable(Runnable task) {
            if (writable()) {
                task.run();
            } else {
                whenWritable = task;
            }
        }

        /** Pauses (false) or resumes reading the response: backpressure from the client's socket. */
        void reading(boolean on) {
            if (channel != null && !closed) {
                channel.config().setAutoRead(on);
            }
        }

        /** Drops the exchange: the client went away. The connection is closed, never reused half-read. */
        void cancel() {
            shut();
        }

        /** Closes the exchange once; false when it already was. */
        private boolean shut() {
            if (closed) {
                return false;
            }
            closed = true;
            cancelHeadTimer();
            releasePending();
            if (channel != null) {
                channel.close();
            }
            return true;
        }

        private void start(HttpRequest request, boolean bodyFollows) {
            acquire(loop).addListener(f -> {
                if (!f.isSuccess()) {
                    fail(new OriginException(OriginException.Kind.UNREACHABLE, describeConnect(f.cause()), f.cause()));
                    return;
                }
                Channel ch = (Channel) f.getNow();
                if (closed) {
                    release(ch, false);
                    return;
                }
                channel = ch;
                ch.pipeline().get(ExchangeHandler.class).exchange = this;
                ch.config().setAutoRead(true);
                ch.writeAndFlush(request).addListener(w -> {
                    if (!w.isSuccess()) {
                        fail(new OriginException(
                                OriginException.Kind.UNREACHABLE,
                                "the request could not be sent: " + w.cause(),
                                w.cause()));
                    }
                });
                if (!bodyFollows) {
                    requestDone = true;
                    armHeadTimer();
                }
                HttpContent queued;
                while ((queued = pending.poll()) != null) {
                    write(queued);
                }
                onWritable();
            });
        }

        private void releasePending() {
            HttpContent c;
            while ((c = pending.poll()) != null) {
                c.release();
            }
        }

        private void armHeadTimer() {
            if (headTimer == null && head == null && !closed) {
                headTimer = loop.schedule(
                        () -> {
                            if (head == null && !closed) {
                                fail(new OriginException(
                                        OriginException.Kind.TIMEOUT,
                                        "the origin did not answer within " + seconds(headTimeout)));
                            }
                        },
                        headTimeout.toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        }

        private void cancelHeadTimer() {
            if (headTimer != null) {
                headTimer.cancel(false);
            }
        }

        private void onResponse(HttpObject msg) {
            if (closed) {
                io.netty.util.ReferenceCountUtil.release(msg);
                return;
            }
            if (!msg.decoderResult().isSuccess()) {
                io.netty.util.ReferenceCountUtil.release(msg);
                Throwable cause = msg.decoderResult().cause();
                String why = "the origin sent a malformed response (" + cause.getMessage() + ")";
                fail(
                        head == null
                                ? new OriginException(OriginException.Kind.UNREACHABLE, why)
                                : new java.io.IOException(why));
                return;
            }
            if (msg instanceof HttpResponse response) {
                if (response.status().code() == 100) {
                    return; // 100 Continue: the final head follows
                }
                head = response;
                cancelHeadTimer();
                rewriteRedirects(response.headers());
                listener.head(response);
            }
            if (msg instanceof HttpContent content) {
                boolean last = content instanceof LastHttpContent;
                if (content.content().isReadable() && !closed) {
                    listener.content(content.content().retain());
                }
                content.release();
                if (last && !closed) {
                    responseDone = true;
                    closed = true;
                    release(channel, requestDone && HttpUtil.isKeepAlive(head));
                    listener.end();
                }
            }
        }

        private void fail(Throwable cause) {
            if (!shut()) {
                return;
            }
            listener.failed(cause);
        }

        private void onWritable() {
            Runnable task = whenWritable;
            if (task != null && writable()) {
                whenWritable = null;
                task.run();
            }
        }

        private void onInactive() {
            if (!responseDone) {
                fail(
                        head != null
                                ? new java.io.IOException("the origin closed the connection mid-response")
                                : new OriginException(
                                        OriginException.Kind.UNREACHABLE, "the origin closed the connection"));
            }
        }

        /** Nothing read for the idle timeout: a stalled body is a broken exchange; waiting for a head is the head timer's. */
        private void onReaderIdle() {
            if (head != null && !responseDone) {
                fail(new java.io.IOException("the origin sent nothing for " + seconds(idleTimeout)));
            }
        }
    }

    /**
     * Starts an exchange on {@code loop}. {@code headers} are the fields to send besides {@code Host},
     * which this client sets (the public host when it is preserved, else the origin's authority).
     */
    Exchange send(
            EventLoop loop,
            String method,
            String target,
            String publicHost,
            List<Header> headers,
            BodyFraming body,
            Listener listener) {
        HttpMethod m = HttpMethod.valueOf(method);
        HttpRequest head = body == BodyFraming.NONE
                ? new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, m, target, Unpooled.EMPTY_BUFFER, false)
                : new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, target, false);
        HttpHeaders h = head.headers();
        for (Header header : headers) {
            h.add(header.name(), header.value());
        }
        h.set(HttpHeaderNames.HOST, preserveHost && publicHost != null ? publicHost : authority);
        body.apply(h);
        Exchange exchange = new Exchange(loop, listener);
        exchange.start(head, body != BodyFraming.NONE);
        return exchange;
    }

    /** How a request body is framed towards the origin. */
    static final class BodyFraming {
        static final BodyFraming NONE = new BodyFraming(-1, false);
        static final BodyFraming CHUNKED = new BodyFraming(-1, true);
        private final long length;
        private final boolean chunked;

        private BodyFraming(long length, boolean chunked) {
            this.length = length;
            this.chunked = chunked;
        }

        static BodyFraming length(long n) {
            return new BodyFraming(n, false);
        }

        void apply(HttpHeaders h) {
            if (chunked) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
            } else if (length >= 0) {
                h.set(HttpHeaderNames.CONTENT_LENGTH, length);
            } else {
                h.set(HttpHeaderNames.CONTENT_LENGTH, 0);
            }
        }
    }

    /** Background renders: the whole response, read up to the request's limit. */
    @Override
    public CompletableFuture<OriginResponse> fetch(OriginRequest request) {
        CompletableFuture<OriginResponse> result = new CompletableFuture<>();
        EventLoop loop = group.next();
        List<Header> headers = new ArrayList<>(request.headers());
        headers.add(new Header("X-Forwarded-Host", request.host()));
        headers.add(new Header("X-Forwarded-Proto", request.scheme()));
        loop.execute(() -> send(
                loop, request.method(), request.target(), request.host(), headers, BodyFraming.NONE, new Listener() {
                    private HttpResponse head;
                    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
                    private boolean overflowed;

                    @Override
                    public void head(HttpResponse response) {
                        head = response;
                    }

                    @Override
                    public void content(ByteBuf chunk) {
                        try {
                            if (!overflowed && body.size() + (long) chunk.readableBytes() <= request.maxBodyBytes()) {
                                chunk.readBytes(body, chunk.readableBytes());
                            } else {
                                overflowed = true;
                            }
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        } finally {
                            chunk.release();
                        }
                    }

                    @Override
                    public void end() {
                        result.complete(new OriginResponse(
                                head.status().code(),
                                headersOf(head.headers()),
                                overflowed ? new byte[0] : body.toByteArray(),
                                overflowed));
                    }

                    @Override
                    public void failed(Throwable cause) {
                        result.completeExceptionally(cause);
                    }
                }));
        return result;
    }

    static List<Header> headersOf(HttpHeaders headers) {
        List<Header> out = new ArrayList<>(headers.size());
        for (Map.Entry<String, String> e : headers) {
            out.add(new Header(e.getKey(), e.getValue()));
        }
        return out;
    }

    /** {@code Location}, {@code Content-Location} and {@code Refresh} pointing at the origin become path-absolute. */
    void rewriteRedirects(HttpHeaders h) {
        for (String name : new String[] {"location", "content-location"}) {
            String v = h.get(name);
            if (v != null) {
                String rewritten = pathOf(v);
                if (rewritten != null) {
                    h.set(name, rewritten);
                }
            }
        }
        String refresh = h.get("refresh");
        if (refresh != null) {
            int url = refresh.toLowerCase(Locale.ROOT).indexOf("url=");
            if (url >= 0) {
                String rewritten = pathOf(refresh.substring(url + 4).trim());
                if (rewritten != null) {
                    h.set("refresh", refresh.substring(0, url + 4) + rewritten);
                }
            }
        }
    }

    /** The path-absolute form of a URL on the origin's own address, or null for any other URL. */
    String pathOf(String url) {
        if (url.length() < baseUrl.length() || !url.regionMatches(true, 0, baseUrl, 0, baseUrl.length())) {
            return null;
        }
        String rest = url.substring(baseUrl.length());
        if (rest.isEmpty()) {
            return "/";
        }
        char c = rest.charAt(0);
        if (c == '/') {
            return rest;
        }
        if (c == '?' || c == '#') {
            return "/" + rest;
        }
        return null; // another host that merely starts like ours, e.g. :43210
    }

    private io.netty.util.concurrent.Future<Channel> acquire(EventLoop loop) {
        ArrayDeque<Channel> pool = idle.get(loop);
        if (pool != null) {
            Channel ch;
            while ((ch = pool.pollLast()) != null) {
                if (ch.isActive()) {
                    return loop.newSucceededFuture(ch);
                }
            }
        }
        io.netty.util.concurrent.Promise<Channel> promise = loop.newPromise();
        ChannelFuture connect = bootstrap.clone(loop).connect();
        connect.addListener(f -> {
            if (f.isSuccess()) {
                promise.setSuccess(connect.channel());
            } else {
                promise.setFailure(f.cause());
            }
        });
        return promise;
    }

    private void release(Channel ch, boolean reuse) {
        ExchangeHandler handler = ch.pipeline().get(ExchangeHandler.class);
        if (handler != null) {
            handler.exchange = null;
        }
        if (!reuse || !ch.isActive() || group.isShuttingDown()) {
            ch.close();
            return;
        }
        ch.config().setAutoRead(true);
        ArrayDeque<Channel> pool = idle.computeIfAbsent(ch.eventLoop(), l -> new ArrayDeque<>());
        if (pool.size() >= MAX_IDLE_PER_LOOP) {
            ch.close();
        } else {
            pool.addLast(ch);
        }
    }

    private static String describeConnect(Throwable t) {
        if (t instanceof java.net.ConnectException || t instanceof io.netty.channel.ConnectTimeoutException) {
            String m = t.getMessage();
            return m != null && m.toLowerCase(Locale.ROOT).contains("timed out")
                    ? "connect timed out"
                    : "connection refused";
        }
        return t == null ? "connect failed" : String.valueOf(t.getMessage());
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
    }

    /** Routes a connection's events to the exchange using it; an idle pooled connection has none. */
    private final class ExchangeHandler extends ChannelInboundHandlerAdapter {
        volatile Exchange exchange;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Exchange ex = exchange;
            if (ex == null || !(msg instanceof HttpObject o)) {
                io.netty.util.ReferenceCountUtil.release(msg);
                if (ex == null) {
                    ctx.close(); // nothing was asked of a pooled connection
                }
                return;
            }
            ex.onResponse(o);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            Exchange ex = exchange;
            if (ex != null) {
                ex.onWritable();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            ArrayDeque<Channel> pool = idle.get(ctx.channel().eventLoop());
            if (pool != null) {
                pool.remove(ctx.channel());
            }
            Exchange ex = exchange;
            if (ex != null) {
                ex.onInactive();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent idleEvent) {
                Exchange ex = exchange;
                if (ex == null) {
                    if (idleEvent.state() == io.netty.handler.timeout.IdleState.ALL_IDLE) {
                        ctx.close();
                    }
                } else if (idleEvent.state() == io.netty.handler.timeout.IdleState.READER_IDLE) {
                    ex.onReaderIdle();
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Exchange ex = exchange;
            if (ex != null) {
                ex.fail(
                        ex.head != null
                                ? cause
                                : new OriginException(
                                        OriginException.Kind.UNREACHABLE, String.valueOf(cause.getMessage()), cause));
            } else {
                ctx.close();
            }
        }
    }

    @Override
    public void close() {
        for (ArrayDeque<Channel> pool : idle.values()) {
            for (Channel ch : pool) {
                ch.close();
            }
        }
    }
}
