package dev.regen.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * An origin for the front-door tests, on Netty so it can do what they need: bodies of any size made
 * on the fly and sent no faster than the peer reads them, server-sent events, a streamed page, an
 * upload sink, a WebSocket echo, and deliberately malformed answers.
 *
 * <ul>
 *   <li>{@code GET /big?bytes=N} — N bytes, chunked, generated as they are sent</li>
 *   <li>{@code GET /events} — one event every 50 ms, ids counting up, until the peer leaves</li>
 *   <li>{@code GET /stream} — the first piece at once, the rest a second later</li>
 *   <li>{@code POST /upload} — reads the body and answers its length and CRC32</li>
 *   <li>{@code GET /ws} — WebSocket echo of text frames</li>
 *   <li>{@code GET /two-lengths} — two different Content-Length fields</li>
 *   <li>anything else — echoes the request line, Host and forwarding fields</li>
 * </ul>
 */
final class StreamingOrigin implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final Channel server;
    /** Event streams open right now. */
    final AtomicInteger openStreams = new AtomicInteger();
    /** Requests per path. */
    final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    /** Bytes of request bodies read, over all uploads. */
    final AtomicLong uploaded = new AtomicLong();

    StreamingOrigin() throws InterruptedException {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("codec", new HttpServerCodec()).addLast("handler", new Handler());
                    }
                })
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    String url() {
        return "http://127.0.0.1:" + port();
    }

    int hits(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    private final class Handler extends SimpleChannelInboundHandler<HttpObject> {
        private final CRC32 crc = new CRC32();
        private long received;
        private boolean uploading;

        Handler() {
            super(true);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpRequest req) {
                String uri = req.uri();
                String path = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
                hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
                switch (path) {
                    case "/big" -> big(ctx, Long.parseLong(uri.substring(uri.indexOf("bytes=") + 6)));
                    case "/events" -> events(ctx);
                    case "/stream" -> stream(ctx);
                    case "/upload" -> {
                        uploading = true;
                        received = 0;
                        crc.reset();
                    }
                    case "/ws" -> websocket(ctx, req);
                    case "/two-lengths" ->
                        ctx.writeAndFlush(Unpooled.copiedBuffer(
                                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
                                        StandardCharsets.US_ASCII))
                                .addListener(ChannelFutureListener.CLOSE);
                    default -> echo(ctx, req);
                }
                return;
            }
            if (uploading && msg instanceof HttpContent c) {
                ByteBuf b = c.content();
                received += b.readableBytes();
                uploaded.addAndGet(b.readableBytes());
                if (b.hasArray()) {
                    crc.update(b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes());
                } else {
                    crc.update(b.nioBuffer());
                }
                if (c instanceof LastHttpContent) {
                    uploading = false;
                    send(ctx, 200, "text/plain", received + " " + Long.toHexString(crc.getValue()));
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static void send(ChannelHandlerContext ctx, int status, String type, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type).set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        ctx.writeAndFlush(r);
    }

    private static void echo(ChannelHandlerContext ctx, HttpRequest req) {
        send(
                ctx,
                200,
                "text/plain",
                req.method() + " " + req.uri() + " host=" + req.headers().get("host") + " xfh="
                        + req.headers().get("x-forwarded-host") + " xff="
                        + req.headers().get("x-forwarded-for"));
    }

    /** N bytes, written only as fast as the socket drains. */
    private static void big(ChannelHandlerContext ctx, long total) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
        HttpUtil.setTransferEncodingChunked(head, true);
        ctx.writeAndFlush(head);
        ByteBuf block =
                Unpooled.unreleasableBuffer(Unpooled.directBuffer(64 * 1024).writeZero(64 * 1024));
        new Runnable() {
            long sent;

            @Override
            public void run() {
                Channel ch = ctx.channel();
                while (sent < total && ch.isWritable()) {
                    int n = (int) Math.min(block.capacity(), total - sent);
                    sent += n;
                    ch.write(new DefaultHttpContent(block.retainedSlice(0, n)));
                }
                ch.flush();
                if (sent >= total) {
                    ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                } else if (ch.isActive()) {
                    // wait for the socket to drain, then go on
                    ch.eventLoop().schedule(this, 1, TimeUnit.MILLISECONDS);
                }
            }
        }.run();
    }

    private void events(ChannelHandlerContext ctx) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        HttpUtil.setTransferEncodingChunked(head, true);
        ctx.writeAndFlush(head);
        openStreams.incrementAndGet();
        ctx.channel().closeFuture().addListener(f -> openStreams.decrementAndGet());
        AtomicInteger id = new AtomicInteger();
        var task = ctx.executor()
                .scheduleAtFixedRate(
                        () -> {
                            int n = id.incrementAndGet();
                            ctx.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(
                                    "id: " + n + "\ndata: " + System.nanoTime() + "\n\n", StandardCharsets.UTF_8)));
                        },
                        0,
                        50,
                        TimeUnit.MILLISECONDS);
        ctx.channel().closeFuture().addListener(f -> task.cancel(false));
    }

    private static void stream(ChannelHandlerContext ctx) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
        HttpUtil.setTransferEncodingChunked(head, true);
        ctx.writeAndFlush(head);
        ctx.writeAndFlush(
                new DefaultHttpContent(Unpooled.copiedBuffer("<html><body><p>shell</p>", StandardCharsets.UTF_8)));
        ctx.executor()
                .schedule(
                        () -> {
                            ctx.write(new DefaultHttpContent(
                                    Unpooled.copiedBuffer("<p>the rest</p></body></html>", StandardCharsets.UTF_8)));
                            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                        },
                        1,
                        TimeUnit.SECONDS);
    }

    private static void websocket(ChannelHandlerContext ctx, HttpRequest req) {
        ChannelPipeline p = ctx.pipeline();
        p.addAfter("codec", "aggregator", new HttpObjectAggregator(65536));
        p.addAfter("aggregator", "ws", new WebSocketServerProtocolHandler("/ws"));
        p.addAfter("ws", "echo", new SimpleChannelInboundHandler<TextWebSocketFrame>() {
            @Override
            protected void channelRead0(ChannelHandlerContext c, TextWebSocketFrame frame) {
                c.writeAndFlush(new TextWebSocketFrame("echo: " + frame.text()));
            }
        });
        p.remove("handler");
        // the upgrade request goes through the handlers just added
        p.context("codec").fireChannelRead(io.netty.util.ReferenceCountUtil.retain(req));
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
