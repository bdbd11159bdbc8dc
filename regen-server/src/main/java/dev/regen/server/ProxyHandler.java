package dev.regen.server;

import dev.regen.CacheStatus;
import dev.regen.CachedPage;
import dev.regen.ClientRequest;
import dev.regen.Header;
import dev.regen.OriginException;
import dev.regen.OriginResponse;
import dev.regen.RegenEngine;
import dev.regen.Reply;
import dev.regen.http.CacheHeaders;
import dev.regen.http.HttpFields;
import dev.regen.http.Html;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Flow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One per connection: asks the engine what to send for each request and writes it. Requests on a
 * connection are answered strictly in order (HTTP/1.1 pipelining), one at a time.
 */
final class ProxyHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);

    private final RegenEngine engine;
    private final HttpOrigin origin;
    private final InstantSource clock;
    private final Routes routes;
    private final java.util.concurrent.atomic.AtomicInteger active;
    private final HttpDate date;
    private final AccessLog accessLog;
    private final PreparedPage.Cache prepared;
    /** Writes through this context skip the response encoder: pre-encoded bytes go out as they are. */
    private ChannelHandlerContext rawCtx;
    private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>();
    private boolean busy;

    ProxyHandler(RegenEngine engine, HttpOrigin origin, InstantSource clock, Routes routes,
                 java.util.concurrent.atomic.AtomicInteger active, AccessLog accessLog, PreparedPage.Cache prepared) {
        this.engine = engine;
        this.origin = origin;
        this.clock = clock;
        this.routes = routes;
        this.active = active;
        this.date = new HttpDate(clock);
        this.accessLog = accessLog;
        this.prepared = prepared;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        rawCtx = ctx.pipeline().context(io.netty.handler.codec.http.HttpResponseEncoder.class);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.handler.timeout.IdleStateEvent && !busy) {
            ctx.close();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        if (busy) {
            waiting.add(request);
            return;
        }
        handle(ctx, request);
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest request) {
        busy = true;
        active.incrementAndGet();
        Exchange exchange = new Exchange(ctx, request);
        if (!request.decoderResult().isSuccess()) {
            exchange.sendText(HttpResponseStatus.BAD_REQUEST, "bad request\n");
            return;
        }
        if (routes.handle(exchange)) {
            return;
        }
        HttpHeaders h = request.headers();
        engine.serve(new ClientRequest(request.method().name(), request.uri(), h::get))
                .whenComplete((reply, error) -> {
                    if (ctx.executor().inEventLoop()) {
                        send(exchange, reply, error);
                    } else {
                        ctx.executor().execute(() -> send(exchange, reply, error));
                    }
                });
    }

    private void send(Exchange ex, Reply reply, Throwable error) {
        if (error != null) {
            log.error("request {} failed inside Regen: {}", ex.request.uri(), error.toString());
            ex.sendError(500, "internal error");
        } else if (reply instanceof Reply.Page p) {
            sendPage(ex, p.page(), p.status());
        } else if (reply instanceof Reply.Rendered r) {
            sendRendered(ex, r.response());
        } else if (reply instanceof Reply.PassThrough p) {
            relay(ex, p.status(), p.fwd());
        } else if (reply instanceof Reply.Failure f) {
            ex.sendError(f.status(), f.reason());
        }
    }

    private void sendPage(Exchange ex, CachedPage page, CacheStatus status) {
        Instant now = clock.instant();
        PreparedPage.Variant v = prepared.of(page).select(ex.request.headers().get(HttpHeaderNames.ACCEPT_ENCODING));
        String cacheStatus = CacheHeaders.forPage(page, status, now);
        boolean notModified = CacheHeaders.noneMatch(ex.request.headers().get(HttpHeaderNames.IF_NONE_MATCH), v.etag());
        if (!notModified) {
            // the hot path: status line and per-request fields, then the prepared fields and body as they are
            StringBuilder perRequest = new StringBuilder(192).append(v.statusLine())
                    .append("Date: ").append(date.now())
                    .append("\r\nAge: ").append(page.ageSeconds(now))
                    .append("\r\nX-Cache-Status: ").append(status.name())
                    .append("\r\nCache-Status: ").append(cacheStatus);
            String connection = ex.connection();
            if (connection != null) {
                perRequest.append("\r\nConnection: ").append(connection);
            }
            perRequest.append("\r\n");
            ex.finishRaw(perRequest, v, ex.request.method() == HttpMethod.HEAD, status);
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(ex.request.protocolVersion(),
                HttpResponseStatus.NOT_MODIFIED, Unpooled.EMPTY_BUFFER, false);
        HttpHeaders h = response.headers();
        for (Header header : v.headers()) {
            if (CacheHeaders.keptOn304(header.name()) || header.is("etag")) {
                h.add(header.name(), header.value());
            }
        }
        h.set(HttpHeaderNames.AGE, page.ageSeconds(now));
        h.set("X-Cache-Status", status.name());
        h.set("Cache-Status", cacheStatus);
        ex.finish(response);
    }

    private void sendRendered(Exchange ex, OriginResponse r) {
        boolean withBody = ex.request.method() != HttpMethod.HEAD && !bodiless(r.status());
        ByteBuf body = withBody ? Unpooled.wrappedBuffer(r.body()) : Unpooled.EMPTY_BUFFER;
        FullHttpResponse response = new DefaultFullHttpResponse(ex.request.protocolVersion(),
                HttpResponseStatus.valueOf(r.status()), body, false);
        HttpHeaders h = response.headers();
        for (Header header : HttpFields.relayable(r.headers())) {
            h.add(header.name(), header.value());
        }
        h.set("X-Cache-Status", CacheStatus.MISS.name());
        h.set("Cache-Status", CacheHeaders.UNSTORED_MISS);
        if (!bodiless(r.status())) {
            HttpUtil.setContentLength(response, r.body().length);
        }
        ex.finish(response);
    }

    /** Forwards the client's own request and streams the origin's answer back. */
    private void relay(Exchange ex, CacheStatus status, String fwd) {
        FullHttpRequest req = ex.request;
        List<Header> headers = new ArrayList<>();
        java.util.Set<String> connection = new java.util.HashSet<>();
        for (String v : req.headers().getAll(HttpHeaderNames.CONNECTION)) {
            for (String t : v.split(",")) {
                connection.add(t.trim().toLowerCase(Locale.ROOT));
            }
        }
        for (var e : req.headers()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (!HttpFields.HOP_BY_HOP.contains(name) && !HttpFields.CLIENT_FORWARDING.contains(name)
                    && !connection.contains(name)) {
                headers.add(new Header(e.getKey(), e.getValue()));
            }
        }
        if (ex.ctx.channel().remoteAddress() instanceof InetSocketAddress client) {
            headers.add(new Header("X-Forwarded-For", client.getAddress().getHostAddress()));
        }
        headers.add(new Header("X-Forwarded-Host", engine.config().host()));
        headers.add(new Header("X-Forwarded-Proto", engine.config().scheme()));
        String target = req.uri().startsWith("/") ? req.uri() : "/";
        byte[] body = ByteBufUtil.getBytes(req.content());
        String cacheStatus = CacheHeaders.forPassThrough(status, fwd);
        origin.relay(req.method().name(), target, headers, body).whenComplete((response, error) ->
                ex.ctx.executor().execute(() -> {
                    if (error != null) {
                        OriginException oe = OriginException.from(error);
                        ex.sendError(oe.kind() == OriginException.Kind.TIMEOUT ? 504 : 502, oe.getMessage());
                        return;
                    }
                    streamBack(ex, response, status, cacheStatus);
                }));
    }

    private void streamBack(Exchange ex, java.net.http.HttpResponse<Flow.Publisher<List<ByteBuffer>>> r,
                            CacheStatus status, String cacheStatus) {
        HttpResponse head = new DefaultHttpResponse(ex.request.protocolVersion(), HttpResponseStatus.valueOf(r.statusCode()));
        HttpHeaders h = head.headers();
        List<Header> originHeaders = HttpOrigin.headers(r.headers().map());
        for (Header header : HttpFields.relayable(originHeaders)) {
            h.add(header.name(), header.value());
        }
        h.set("X-Cache-Status", status.name());
        h.set("Cache-Status", cacheStatus);
        boolean head_ = ex.request.method() == HttpMethod.HEAD || bodiless(r.statusCode());
        String length = HttpFields.first(originHeaders, "content-length");
        if (length != null) {
            h.set(HttpHeaderNames.CONTENT_LENGTH, length);
        } else if (!head_) {
            HttpUtil.setTransferEncodingChunked(head, true);
        }
        ex.start(head);
        r.body().subscribe(new Flow.Subscriber<>() {
            private Flow.Subscription subscription;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                s.request(1);
            }

            @Override
            public void onNext(List<ByteBuffer> buffers) {
                ByteBuf chunk = Unpooled.buffer();
                for (ByteBuffer b : buffers) {
                    chunk.writeBytes(b);
                }
                if (head_) {
                    chunk.release();
                    subscription.request(1);
                    return;
                }
                // ask for more only once the client took this chunk: backpressure from the client's socket
                ex.counted(chunk.readableBytes());
                ex.ctx.writeAndFlush(new DefaultHttpContent(chunk)).addListener(f -> {
                    if (f.isSuccess()) {
                        subscription.request(1);
                    } else {
                        subscription.cancel();
                    }
                });
            }

            @Override
            public void onError(Throwable t) {
                log.warn("relay of {} broke off: {}", ex.request.uri(), t.getMessage());
                ex.ctx.executor().execute(ex::abort);
            }

            @Override
            public void onComplete() {
                ex.ctx.executor().execute(() -> ex.end(LastHttpContent.EMPTY_LAST_CONTENT));
            }
        });
    }

    private static boolean bodiless(int status) {
        return status == 204 || status == 304 || (status >= 100 && status < 200);
    }

    private void next(ChannelHandlerContext ctx) {
        busy = false;
        FullHttpRequest queued = waiting.poll();
        if (queued != null) {
            handle(ctx, queued);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        FullHttpRequest r;
        while ((r = waiting.poll()) != null) {
            r.release();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // resets and broken pipes from clients are expected: one line, no stack trace
        log.debug("connection error: {}", cause.toString());
        ctx.close();
    }

    /** One request and its response on one connection. */
    final class Exchange {
        final ChannelHandlerContext ctx;
        final FullHttpRequest request;
        final boolean keepAlive;
        private final long startedNanos = System.nanoTime();
        /** For the access log. */
        private int status;
        private String cacheStatus = "-";
        private long bytes;

        Exchange(ChannelHandlerContext ctx, FullHttpRequest request) {
            this.ctx = ctx;
            this.request = request;
            this.keepAlive = HttpUtil.isKeepAlive(request);
        }

        String clientAddress() {
            return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "";
        }

        void sendText(HttpResponseStatus status, String text) {
            send(status, "text/plain; charset=utf-8", text);
        }

        void send(HttpResponseStatus status, String contentType, String text) {
            send(status, contentType, java.util.Map.of(), text.getBytes(StandardCharsets.UTF_8));
        }

        void send(HttpResponseStatus status, String contentType, java.util.Map<String, String> headers, byte[] bytes) {
            FullHttpResponse r = new DefaultFullHttpResponse(request.protocolVersion(), status,
                    request.method() == HttpMethod.HEAD ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes), false);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            headers.forEach(r.headers()::set);
            HttpUtil.setContentLength(r, bytes.length);
            finish(r);
        }

        /** Regen's own error page: short, and saying what happened. */
        void sendError(int status, String reason) {
            String title = switch (status) {
                case 400 -> "Bad request";
                case 502 -> "Origin unreachable";
                case 504 -> "Origin timed out";
                default -> "Error";
            };
            String html = Html.errorPage(status, title, reason);
            byte[] bytes = html.getBytes(StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(request.protocolVersion(), HttpResponseStatus.valueOf(status),
                    request.method() == HttpMethod.HEAD ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes), false);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            r.headers().set("X-Cache-Status", status == 400 ? CacheStatus.BYPASS.name() : CacheStatus.MISS.name());
            r.headers().set("Cache-Status", status == 400 ? "regen; fwd=bypass" : "regen; fwd=uri-miss; stored=false");
            HttpUtil.setContentLength(r, bytes.length);
            finish(r);
        }

        /** Writes a prepared page: the status line and per-request fields, then the page's fixed fields and body. */
        void finishRaw(CharSequence perRequest, PreparedPage.Variant v, boolean headOnly, CacheStatus cache) {
            this.status = v.status();
            this.cacheStatus = cache.name();
            this.bytes = headOnly ? 0 : v.body().length;
            ByteBuf tail = v.retainTail(headOnly);
            rawCtx.write(ByteBufUtil.writeAscii(ctx.alloc(), perRequest));
            var future = rawCtx.writeAndFlush(tail != null ? tail : v.copyTail(headOnly));
            if (!keepAlive) {
                future.addListener(ChannelFutureListener.CLOSE);
            }
            done();
        }

        /** Writes a complete response and moves on to the next request of the connection. */
        void finish(FullHttpResponse response) {
            status = response.status().code();
            bytes = response.content().readableBytes();
            stamp(response);
            write(response);
            done();
        }

        void start(HttpResponse head) {
            status = head.status().code();
            stamp(head);
            ctx.writeAndFlush(head);
        }

        void end(LastHttpContent last) {
            write(last);
            done();
        }

        void abort() {
            ctx.close();
            request.release();
            active.decrementAndGet();
        }

        void counted(long n) {
            bytes += n;
        }

        private void stamp(HttpResponse response) {
            String cache = response.headers().get("X-Cache-Status");
            if (cache != null) {
                cacheStatus = cache;
            }
            response.headers().set(HttpHeaderNames.DATE, date.now());
            String connection = connection();
            if (connection != null) {
                response.headers().set(HttpHeaderNames.CONNECTION, connection);
            }
        }

        /** The {@code Connection} field this response needs, or null: close, or keep-alive asked for over HTTP/1.0. */
        String connection() {
            if (!keepAlive) {
                return "close";
            }
            return request.protocolVersion().equals(HttpVersion.HTTP_1_0) ? "keep-alive" : null;
        }

        private void write(Object msg) {
            var future = ctx.writeAndFlush(msg);
            if (!keepAlive) {
                future.addListener(ChannelFutureListener.CLOSE);
            }
        }

        private void done() {
            accessLog.log(request.method().name(), request.uri(), status, cacheStatus, bytes,
                    System.nanoTime() - startedNanos);
            request.release();
            active.decrementAndGet();
            next(ctx);
        }
    }
}
