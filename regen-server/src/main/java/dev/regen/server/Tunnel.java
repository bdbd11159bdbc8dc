package dev.regen.server;

import dev.regen.internal.Header;
import dev.regen.internal.http.CacheHeaders;
import dev.regen.internal.http.HttpFields;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket upgrade tunnelled to the origin: the client's upgrade request goes to the origin on a
 * connection of its own; if the origin switches protocols (101), both connections drop HTTP and relay
 * bytes both ways as they are, each reading only as fast as the other side writes, until either side
 * closes or both are silent for the idle timeout. Any other answer is relayed as a normal response.
 */
final class Tunnel {
    private final ProxyHandler.Exchange ex;
    private final Frontend fe;
    private Channel originChannel;
    private boolean switched;

    Tunnel(ProxyHandler.Exchange ex, Frontend fe) {
        this.ex = ex;
        this.fe = fe;
    }

    /** {@code GET} with {@code Upgrade: websocket} (RFC 6455 §4.1). */
    static boolean isWebSocket(HttpRequest request) {
        if (!HttpMethod.GET.equals(request.method())) {
            return false;
        }
        String upgrade = request.headers().get(HttpHeaderNames.UPGRADE);
        return upgrade != null && upgrade.toLowerCase(Locale.ROOT).contains("websocket");
    }

    void open() {
        HttpRequest client = ex.request;
        List<Header> headers = new ArrayList<>(HttpFields.forwardable(
                OriginClient.headersOf(client.headers()),
                false,
                fe.engine.config().cookies(),
                true));
        headers.addAll(ex.peer.forwardingFields());
        HttpRequest upgrade = new DefaultHttpRequest(
                HttpVersion.HTTP_1_1,
                HttpMethod.GET,
                dev.regen.internal.http.RequestTarget.originForm(client.uri()),
                false);
        for (Header h : headers) {
            upgrade.headers().add(h.name(), h.value());
        }
        upgrade.headers().set(HttpHeaderNames.HOST, fe.front.preserveHost() ? ex.peer.host() : fe.origin.authority());
        Channel clientChannel = ex.ctx().channel();
        Bootstrap b = fe.origin.tunnelBootstrap(clientChannel.eventLoop(), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                onOrigin(ctx, msg);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                if (!switched) {
                    fail("the origin closed the connection");
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        });
        b.connect().addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                ex.sendError(502, "the origin could not be reached for the WebSocket");
                return;
            }
            originChannel = f.channel();
            if (!clientChannel.isActive()) {
                originChannel.close();
                return;
            }
            originChannel.writeAndFlush(upgrade);
            originChannel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        });
    }

    private void onOrigin(ChannelHandlerContext ctx, Object msg) {
        if (switched) {
            // after the 101 the codec hands over raw bytes: on to the relay
            if (msg instanceof ByteBuf) {
                ctx.fireChannelRead(msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        if (msg instanceof HttpResponse response && response.decoderResult().isSuccess()) {
            if (response.status().code() == 101) {
                switchProtocols(ctx, response);
                return;
            }
            // refused: relay the answer as a plain response and let the exchange end normally
            HttpResponse head = new DefaultHttpResponse(ex.request.protocolVersion(), response.status());
            for (Header h : HttpFields.relayable(OriginClient.headersOf(response.headers()))) {
                head.headers().add(h.name(), h.value());
            }
            head.headers().set(CacheHeaders.X_CACHE_STATUS, "BYPASS");
            head.headers().set(CacheHeaders.CACHE_STATUS, "regen; fwd=bypass; detail=\"websocket\"");
            ex.start(head);
        }
        if (msg instanceof HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            if (content.content().isReadable()) {
                ex.write(content.content().retain());
            }
            content.release();
            if (last) {
                ctx.close();
                ex.end();
            }
            return;
        }
        if (msg instanceof HttpObject o && !o.decoderResult().isSuccess()) {
            ReferenceCountUtil.release(msg);
            fail("the origin answered the upgrade with a malformed response");
        }
    }

    private void switchProtocols(ChannelHandlerContext originCtx, HttpResponse response) {
        switched = true;
        Channel client = ex.ctx().channel();
        Channel origin = originCtx.channel();
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status());
        for (var e : response.headers()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (!name.equals("content-length") && !name.equals("transfer-encoding")) {
                head.headers().add(e.getKey(), e.getValue());
            }
        }
        // from here on both connections carry raw bytes; relays go in before the codecs come out, so
        // that bytes already read past the HTTP head are relayed, not lost
        ChannelPipeline op = origin.pipeline();
        op.addLast("relay", new Pipe(client));
        op.addBefore(
                "relay",
                "idle",
                new IdleStateHandler(0, 0, fe.front.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
        client.writeAndFlush(head).addListener(f -> {
            if (!f.isSuccess()) {
                origin.close();
                return;
            }
            ChannelPipeline cp = client.pipeline();
            cp.addLast("relay", new Pipe(origin));
            cp.addBefore(
                    "relay",
                    "tunnel-idle",
                    new IdleStateHandler(0, 0, fe.front.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
            ex.tunnelled();
            // from the tail back, so that what the decoder holds flows to the relay, not into a removed handler
            for (String name : RegenServer.HTTP1_HANDLERS_TAIL_FIRST) {
                if (cp.get(name) != null) {
                    cp.remove(name);
                }
            }
            client.config().setAutoRead(true);
            if (op.get(HttpClientCodec.class) != null) {
                op.remove(HttpClientCodec.class);
            }
            origin.config().setAutoRead(true);
        });
    }

    private void fail(String why) {
        if (!switched) {
            ex.sendError(502, why);
        }
    }

    void close() {
        if (originChannel != null) {
            originChannel.close();
        }
    }

    /** Relays bytes to {@code other}, reading only while it takes them; a close on one side closes both. */
    private static final class Pipe extends ChannelInboundHandlerAdapter {
        private final Channel other;

        Pipe(Channel other) {
            this.other = other;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            other.writeAndFlush(msg).addListener(f -> {
                if (!f.isSuccess()) {
                    ctx.close();
                }
            });
            if (!other.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // this side drained: the other side may read again
            other.config().setAutoRead(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            other.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
                other.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
