package dev.regen.server;

import dev.regen.CacheStatus;
import dev.regen.internal.ClientRequest;
import dev.regen.internal.Header;
import dev.regen.internal.Reply;
import dev.regen.internal.RequestHeaders;
import dev.regen.internal.http.CacheHeaders;
import dev.regen.internal.http.HttpFields;
import dev.regen.internal.http.ResponsePlan;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One per client connection (or HTTP/2 stream): reads one request at a time, asks the engine what to
 * send, and sends it. The connection reads only when it is ready for more (auto-read is off, one
 * decoded message per read), so a pipelining client or a fast upload waits in the socket buffer, not
 * in memory: requests are answered strictly in order, and a request body streams to the origin no
 * faster than the origin takes it.
 *
 * <p>Every exchange ends exactly once — answered, or aborted when the client leaves — and releases
 * what it holds; a connection that breaks the protocol is answered (400, 414, 431) and closed.
 */
final class ProxyHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);
    /** The admin API reads at most this much of a request body (one byte over: 413). */
    private static final int MAX_API_BODY = dev.regen.admin.AdminApi.MAX_WEBHOOK_BODY + 1;

    private final Frontend fe;
    private final boolean secure;
    /** Over the connection cap: only health requests are answered, the rest get 503. */
    private final boolean limited;
    /** Whether the connection carries one HTTP/2 stream (no pre-encoded writes, no keep-alive). */
    private final boolean stream;

    private ChannelHandlerContext ctx;
    /** Writes through this context skip the response encoder: pre-encoded bytes go out as they are. */
    private ChannelHandlerContext rawCtx;

    private Exchange current;
    private boolean inRead;
    private boolean readAgain;
    /** A read was asked for and no message has answered it yet. */
    private boolean wanting;

    private ScheduledFuture<?> timer;
    /** Answered and half-closed: the rest of what the client sends is read and dropped, then the connection closes. */
    private boolean lingering;
    /** Bytes of a request head have arrived since the last exchange ended (see {@link HeadWatch}). */
    private boolean headStarted;

    ProxyHandler(Frontend fe, boolean secure, boolean limited, boolean stream) {
        this.fe = fe;
        this.secure = secure;
        this.limited = limited;
        this.stream = stream;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.rawCtx = ctx.pipeline().context(io.netty.handler.codec.http.HttpResponseEncoder.class);
        if (ctx.channel().isActive()) {
            begin(); // added after the connection opened: past TLS and the protocol choice, or an HTTP/2 stream
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        begin();
        ctx.fireChannelActive();
    }

    private boolean begun;

    private void begin() {
        if (!begun) {
            begun = true;
            waitForRequest();
            read();
        }
    }

    // ------------------------------------------------------------------------------------ reading

    /** Asks for the next message; a message that arrives at once is handled in this loop, not deeper. */
    private void read() {
        wanting = true;
        if (inRead) {
            readAgain = true;
            return;
        }
        inRead = true;
        try {
            do {
                readAgain = false;
                ctx.read();
            } while (readAgain && ctx.channel().isActive());
        } finally {
            inRead = false;
        }
    }

    /** The first bytes of a request head arrived (called by {@link HeadWatch}). */
    void headBytes() {
        if (current == null && !headStarted) {
            headStarted = true;
            arm(fe.front.headerTimeout().toMillis(), true);
        }
    }

    private void waitForRequest() {
        headStarted = false;
        if (!stream) {
            arm(fe.front.keepAliveTimeout().toMillis(), false);
        }
    }

    private void arm(long millis, boolean head) {
        disarm();
        timer = ctx.executor()
                .schedule(
                        () -> {
                            if (current != null) {
                                return;
                            }
                            if (head) {
                                // a request head that never completes (slowloris): answered, and the connection closed
                                log.debug("request head not complete within {} ms from {}; closing", millis, address());
                                FullHttpResponse r = plain(
                                        HttpResponseStatus.REQUEST_TIMEOUT, "request head not received in time\n");
                                r.headers().set(HttpHeaderNames.CONNECTION, "close");
                                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
                            } else {
                                ctx.close();
                            }
                        },
                        millis,
                        TimeUnit.MILLISECONDS);
    }

    private void disarm() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // a read cycle that ended without the message we asked for counts as an answer: ask again
        if (wanting && ctx.channel().isActive()) {
            ctx.read();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        wanting = false;
        if (lingering) {
            io.netty.util.ReferenceCountUtil.release(msg); // what follows an answered error is read and dropped
            return;
        }
        if (msg instanceof HttpRequest request) {
            if (current != null) {
                // a new head while the last request's body was still expected: the framing is lost
                io.netty.util.ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            disarm();
            start(request);
            if (msg instanceof HttpContent c) {
                onContent(c);
            }
            return;
        }
        if (msg instanceof HttpContent content) {
            onContent(content);
            return;
        }
        io.netty.util.ReferenceCountUtil.release(msg);
        read();
    }

    private void onContent(HttpContent content) {
        Exchange ex = current;
        if (ex == null) {
            content.release();
            read();
            return;
        }
        if (!content.decoderResult().isSuccess()) {
            // a broken body (bad chunk framing): what follows can't be told apart from it
            content.release();
            if (ex.relay != null) {
                ex.relay.abandon("the request body is malformed");
            }
            ex.fatal(HttpResponseStatus.BAD_REQUEST, "malformed request body");
            return;
        }
        ex.body(content);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange ex = current;
        if (ex != null && ex.relay != null) {
            ex.relay.clientWritable(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == RegenServer.DRAIN) {
            if (current == null && !headStarted) {
                ctx.close(); // an idle keep-alive connection: nothing is lost
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        disarm();
        Exchange ex = current;
        if (ex != null) {
            ex.abort("the client closed the connection");
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // resets and broken pipes from clients are expected: one line at debug, no stack trace
        log.debug("connection error from {}: {}", address(), cause.toString());
        ctx.close();
    }

    private String address() {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a
                ? a.getAddress().getHostAddress()
                : "";
    }

    // ------------------------------------------------------------------------------------ dispatch

    private void start(HttpRequest request) {
        Exchange ex = new Exchange(request);
        current = ex;
        fe.active.incrementAndGet();
        if (!request.decoderResult().isSuccess()) {
            Throwable cause = request.decoderResult().cause();
            HttpResponseStatus status = cause instanceof TooLongHttpLineException
                    ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : cause instanceof TooLongHttpHeaderException
                            ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                            : HttpResponseStatus.BAD_REQUEST;
            ex.fatal(
                    status,
                    cause instanceof TooLongFrameException
                            ? status.reasonPhrase().toLowerCase(Locale.ROOT)
                            : "malformed request");
            return;
        }
        Peer peer =
                Peer.of(request, ctx.channel().remoteAddress(), ctx.channel().localAddress(), secure, fe.front);
        ex.peer = peer;
        String path = pathOf(request.uri());
        if (limited && !path.startsWith("/_regen/health")) {
            ex.fatal(HttpResponseStatus.SERVICE_UNAVAILABLE, "too many connections; try again");
            return;
        }
        HttpMethod method = request.method();
        if (HttpMethod.CONNECT.equals(method) || HttpMethod.TRACE.equals(method)) {
            ex.fatal(HttpResponseStatus.METHOD_NOT_ALLOWED, method + " is not supported");
            return;
        }
        if (peer.host() == null) {
            ex.fatal(
                    peer.hostProblem() == Peer.HostProblem.UNLISTED
                            ? HttpResponseStatus.MISDIRECTED_REQUEST
                            : HttpResponseStatus.BAD_REQUEST,
                    peer.hostProblem().message());
            return;
        }
        long declared = HttpUtil.getContentLength(request, -1L);
        if (declared > fe.front.maxRequestBody()) {
            ex.fatal(
                    HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                    "request body over the limit of " + fe.front.maxRequestBody() + " bytes");
            return;
        }
        String expect = request.headers().get(HttpHeaderNames.EXPECT);
        if (expect != null) {
            if (!expect.equalsIgnoreCase("100-continue")) {
                ex.fatal(HttpResponseStatus.EXPECTATION_FAILED, "only 100-continue is understood");
                return;
            }
            // the body is welcome (its size was checked): say so before it is sent
            request.headers().remove(HttpHeaderNames.EXPECT);
            ctx.writeAndFlush(new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER, false));
        }
        if (fe.routes.owns(path)) {
            ex.collectForApi();
            return;
        }
        if (Tunnel.isWebSocket(request)) {
            ex.tunnel();
            return;
        }
        boolean hasBody = declared > 0 || HttpUtil.isTransferEncodingChunked(request);
        ClientRequest cr =
                new ClientRequest(method.name(), request.uri(), peer.host(), peer.scheme(), ex.headers, hasBody);
        fe.engine.serve(cr).whenComplete((reply, error) -> {
            if (ctx.executor().inEventLoop()) {
                try {
                    ex.reply(reply, error);
                } catch (RuntimeException e) {
                    // thrown into a future nobody reads: close the connection instead of leaving the client waiting
                    ctx.fireExceptionCaught(e);
                }
            } else {
                ctx.executor().execute(() -> ex.reply(reply, error));
            }
        });
    }

    private static String pathOf(String uri) {
        String u = uri;
        if (!u.startsWith("/")) {
            int scheme = u.indexOf("://");
            int slash = scheme < 0 ? -1 : u.indexOf('/', scheme + 3);
            u = slash < 0 ? "/" : u.substring(slash);
        }
        int q = u.indexOf('?');
        return q < 0 ? u : u.substring(0, q);
    }

    private FullHttpResponse plain(HttpResponseStatus status, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r =
                new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes), false);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        r.headers().set(HttpHeaderNames.DATE, fe.date.now());
        return r;
    }

    /** Netty's request fields seen through the engine's interface, without copying on the hot path. */
    private record NettyHeaders(HttpHeaders h) implements RequestHeaders {
        @Override
        public String get(String name) {
            return h.get(name);
        }

        @Override
        public List<String> getAll(String name) {
            return h.getAll(name);
        }

        @Override
        public List<Header> all() {
            List<Header> out = new ArrayList<>(h.size());
            for (Map.Entry<String, String> e : h) {
                out.add(new Header(e.getKey(), e.getValue()));
            }
            return out;
        }
    }

    // ------------------------------------------------------------------------------------ exchange

    /** One request and its response. Used on the connection's event loop only. */
    final class Exchange {
        final HttpRequest request;
        final NettyHeaders headers;
        final boolean headOnly;
        final long startedNanos = System.nanoTime();
        Peer peer;
        Relay relay;
        Tunnel tunnelling;
        private boolean keepAlive;
        private boolean requestDone;
        private boolean responseStarted;
        private boolean responseDone;
        private boolean ended;
        private long bodyBytes;
        private ByteArrayOutputStream apiBody;
        /** For the access log. */
        private int status;
        /** The X-Cache-Status sent, or null (Regen's own endpoints). */
        private String cacheStatus;

        private long bytes;

        Exchange(HttpRequest request) {
            this.request = request;
            this.headers = new NettyHeaders(request.headers());
            this.headOnly = HttpMethod.HEAD.equals(request.method());
            // after a request that did not parse, the decoder discards the connection's input: close it
            this.keepAlive = !stream && request.decoderResult().isSuccess() && HttpUtil.isKeepAlive(request);
        }

        ChannelHandlerContext ctx() {
            return ctx;
        }

        /** The version to answer in: the request's, or 1.1 for a request that could not be parsed. */
        HttpVersion version() {
            return request.decoderResult().isSuccess() ? request.protocolVersion() : HttpVersion.HTTP_1_1;
        }

        String acceptEncoding() {
            return request.headers().get(HttpHeaderNames.ACCEPT_ENCODING);
        }

        // -------------------------------------------------------------------------- request body

        void body(HttpContent content) {
            if (content.content().isReadable()) {
                bodyBytes += content.content().readableBytes();
                if (bodyBytes > fe.front.maxRequestBody()) {
                    content.release();
                    if (relay != null) {
                        relay.abandon("the request body went over the limit");
                    }
                    fatal(
                            HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                            "request body over the limit of " + fe.front.maxRequestBody() + " bytes");
                    return;
                }
            }
            boolean last = content instanceof LastHttpContent;
            if (apiBody != null) {
                ByteBuf b = content.content();
                int room = MAX_API_BODY - apiBody.size();
                if (room > 0) {
                    byte[] piece = new byte[Math.min(room, b.readableBytes())];
                    b.readBytes(piece);
                    apiBody.writeBytes(piece);
                }
                content.release();
                if (last || apiBody.size() >= MAX_API_BODY) {
                    requestDone = last;
                    byte[] body = apiBody.toByteArray();
                    apiBody = null;
                    if (!last) {
                        keepAlive = false; // the rest of the body is not read
                    }
                    fe.routes.handle(this, body);
                } else {
                    read();
                }
                return;
            }
            if (last) {
                requestDone = true;
            }
            if (relay != null && relay.takesBody()) {
                relay.requestBody(content); // it asks for more when the origin takes it
            } else {
                content.release();
                if (!last) {
                    read();
                }
            }
            if (last && responseDone) {
                next();
            }
        }

        /** The relay took a piece of the body and the origin wants more. */
        void moreBody() {
            if (!requestDone && current == this) {
                read();
            }
        }

        void collectForApi() {
            apiBody = new ByteArrayOutputStream(256);
            read();
        }

        void tunnel() {
            tunnelling = new Tunnel(this, fe);
            tunnelling.open();
        }

        // -------------------------------------------------------------------------- engine replies

        void reply(Reply reply, Throwable error) {
            if (ended) {
                // the client left while the engine decided: a render it was to lead must end, or every
                // request waiting on it would wait the whole wait limit
                if (reply instanceof Reply.Forward f) {
                    f.forwarding().failed(new java.io.IOException("the client closed the connection"));
                }
                return;
            }
            if (error != null) {
                log.error("request {} failed inside Regen", request.uri(), error);
                sendError(500, "internal error");
            } else if (reply instanceof Reply.Page p) {
                sendPage(p);
            } else if (reply instanceof Reply.Rendered r) {
                send(ResponsePlan.rendered(r.response(), r.cacheStatus(), acceptEncoding()));
            } else if (reply instanceof Reply.Forward f) {
                relay = new Relay(this, fe, f.forwarding());
                relay.start();
            } else if (reply instanceof Reply.Failure f) {
                sendError(f.status(), f.reason());
            }
            if (!requestDone && relay == null && !ended) {
                read(); // the rest of the request (its end) before the next one
            }
        }

        private void sendPage(Reply.Page reply) {
            ResponsePlan plan = ResponsePlan.page(reply, request.method().name(), headers);
            if (!plan.wholePage()) {
                send(plan);
                return;
            }
            // the hot path: the page's fixed fields and body prepared once, and the plan's stamp
            PreparedPage.Variant v =
                    fe.prepared.of(reply.page(), reply.loaded()).variant(plan.gzip());
            if (rawCtx == null) {
                // an HTTP/2 stream takes header objects: the prepared list, not the prepared bytes
                FullHttpResponse r = new DefaultFullHttpResponse(
                        version(),
                        HttpResponseStatus.valueOf(v.status()),
                        headOnly ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(v.body()),
                        false);
                HttpHeaders h = r.headers();
                for (Header f : v.headers()) {
                    h.add(f.name(), f.value());
                }
                h.set(HttpHeaderNames.CONTENT_LENGTH, v.body().length);
                h.set(HttpHeaderNames.AGE, reply.age());
                h.set(CacheHeaders.X_CACHE_STATUS, reply.status().name());
                h.set(CacheHeaders.CACHE_STATUS, reply.cacheStatus());
                finish(r);
                return;
            }
            StringBuilder perRequest = new StringBuilder(192)
                    .append(v.statusLine())
                    .append("Date: ")
                    .append(fe.date.now())
                    .append("\r\nAge: ")
                    .append(reply.age())
                    .append("\r\nX-Cache-Status: ")
                    .append(reply.status().name())
                    .append("\r\nCache-Status: ")
                    .append(reply.cacheStatus());
            String connection = connection();
            if (connection != null) {
                perRequest.append("\r\nConnection: ").append(connection);
            }
            perRequest.append("\r\n");
            finishRaw(perRequest, v, headOnly, reply.status());
        }

        /** Writes a plan whole: its status, fields and body (none for HEAD). */
        void send(ResponsePlan plan) {
            int length = plan.contentLength();
            FullHttpResponse r = new DefaultFullHttpResponse(
                    version(),
                    HttpResponseStatus.valueOf(plan.status()),
                    headOnly || length <= 0
                            ? Unpooled.EMPTY_BUFFER
                            : Unpooled.wrappedBuffer(plan.body(), plan.offset(), length),
                    false);
            for (Header h : plan.fields()) {
                r.headers().add(h.name(), h.value());
            }
            if (length >= 0) {
                r.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
            }
            finish(r);
        }

        // -------------------------------------------------------------------------- writing

        void sendText(HttpResponseStatus status, String text) {
            send(status, "text/plain; charset=utf-8", Map.of(), text.getBytes(StandardCharsets.UTF_8));
        }

        void send(HttpResponseStatus status, String contentType, Map<String, String> headers, byte[] body) {
            FullHttpResponse r = new DefaultFullHttpResponse(
                    version(), status, headOnly ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body), false);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            headers.forEach(r.headers()::set);
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
            finish(r);
        }

        /** Regen's own error page. */
        void sendError(int status, String reason) {
            send(ResponsePlan.error(status, reason));
        }

        /** An error after which the connection can't be trusted: answered, then closed. */
        void fatal(HttpResponseStatus status, String reason) {
            keepAlive = false;
            if (responseStarted) {
                abort(reason);
                return;
            }
            sendError(status.code(), reason);
        }

        /** Writes a prepared page: the status line and per-request fields, then the page's fixed fields and body. */
        private void finishRaw(CharSequence perRequest, PreparedPage.Variant v, boolean headOnly, CacheStatus cache) {
            this.status = v.status();
            this.cacheStatus = cache.name();
            this.bytes = headOnly ? 0 : v.body().length;
            ByteBuf tail = v.retainTail(headOnly);
            rawCtx.write(ByteBufUtil.writeAscii(ctx.alloc(), perRequest));
            var future = rawCtx.writeAndFlush(tail != null ? tail : v.copyTail(headOnly));
            if (!keepAlive) {
                closeAfter(future);
            }
            responded();
        }

        /** Writes a complete response. */
        void finish(FullHttpResponse response) {
            status = response.status().code();
            bytes = response.content().readableBytes();
            stamp(response);
            responseStarted = true;
            var future = ctx.writeAndFlush(response);
            if (!keepAlive) {
                closeAfter(future);
            }
            responded();
        }

        /** Starts a streamed response. */
        void start(HttpResponse head) {
            status = head.status().code();
            if (!HttpUtil.isContentLengthSet(head)
                    && !HttpUtil.isTransferEncodingChunked(head)
                    && !headOnly
                    && !HttpFields.bodiless(status)) {
                if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                    keepAlive = false; // the end of the body is the end of the connection
                } else {
                    HttpUtil.setTransferEncodingChunked(head, true);
                }
            }
            if (headOnly) {
                // no body follows, and the encoder must not end one with a chunk terminator
                head.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
            }
            stamp(head);
            responseStarted = true;
            ctx.writeAndFlush(head);
        }

        /** Writes a piece of a streamed body; the future tells when the client's socket took it. */
        io.netty.channel.ChannelFuture write(ByteBuf chunk) {
            bytes += chunk.readableBytes();
            return ctx.writeAndFlush(new DefaultHttpContent(chunk));
        }

        /** Ends a streamed response. */
        void end() {
            var future = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            if (!keepAlive) {
                closeAfter(future);
            }
            responded();
        }

        boolean clientWritable() {
            return ctx.channel().isWritable();
        }

        private void stamp(HttpResponse response) {
            String cache = response.headers().get(CacheHeaders.X_CACHE_STATUS);
            if (cache != null) {
                cacheStatus = cache;
            }
            response.headers().set(HttpHeaderNames.DATE, fe.date.now());
            String connection = connection();
            if (connection != null) {
                response.headers().set(HttpHeaderNames.CONNECTION, connection);
            } else {
                response.headers().remove(HttpHeaderNames.CONNECTION);
            }
        }

        /** The {@code Connection} field this response needs, or null: close, or keep-alive asked for over HTTP/1.0. */
        String connection() {
            if (stream) {
                return null;
            }
            if (fe.draining()) {
                keepAlive = false;
            }
            if (!keepAlive) {
                return "close";
            }
            return request.protocolVersion().equals(HttpVersion.HTTP_1_0) ? "keep-alive" : null;
        }

        /**
         * Closes the connection once {@code written} is out. When the client may still be sending (the request
         * was not read to its end), the output side closes first and the rest is read and dropped for a
         * moment: closing with unread data would reset the connection and lose the answer (lingering close).
         */
        private void closeAfter(io.netty.channel.ChannelFuture written) {
            if (requestDone || stream || !(ctx.channel() instanceof io.netty.channel.socket.DuplexChannel duplex)) {
                written.addListener(ChannelFutureListener.CLOSE);
                return;
            }
            written.addListener(f -> {
                lingering = true;
                duplex.shutdownOutput();
                ctx.channel().config().setAutoRead(true);
                ctx.executor().schedule(() -> ctx.close(), 2, TimeUnit.SECONDS);
            });
        }

        /** The response is written: the exchange ends once the request has been read to its end. */
        private void responded() {
            responseDone = true;
            if (!keepAlive) {
                done();
                return;
            }
            if (requestDone) {
                next();
            } else if (relay == null || relay.finished()) {
                read(); // the rest of the request body, discarded, before the next request
            }
        }

        /** Ends the exchange and reads the next request. */
        private void next() {
            done();
            if (keepAlive && ctx.channel().isActive()) {
                waitForRequest();
                read();
            }
        }

        private void done() {
            if (ended) {
                return;
            }
            ended = true;
            if (current == this) {
                current = null;
            }
            fe.active.decrementAndGet();
            if (fe.accessLog.enabled()) {
                fe.accessLog.log(
                        clientAddress(), request, status, cacheStatus, bytes, System.nanoTime() - startedNanos);
            }
        }

        /** The exchange can't finish (the client left, the origin broke off mid-response): close it all. */
        void abort(String why) {
            if (ended) {
                return;
            }
            log.debug("exchange {} {} aborted: {}", request.method(), request.uri(), why);
            if (relay != null) {
                relay.abandon(why);
            }
            if (tunnelling != null) {
                tunnelling.close();
            }
            keepAlive = false;
            done();
            ctx.close();
        }

        /**
         * The client's address, as far as Regen may believe it (trusted proxies): the one place the access
         * log, the auth throttle and the origin's X-Forwarded-For take it from.
         */
        String clientAddress() {
            return peer != null ? peer.clientAddress() : address();
        }

        /** The connection became a tunnel: the exchange is over as far as HTTP goes. */
        void tunnelled() {
            status = 101;
            cacheStatus = CacheStatus.BYPASS.name();
            keepAlive = false;
            done();
        }
    }
}
