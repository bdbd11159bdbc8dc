package dev.regen.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sits before the request decoder and tells the connection's handler when the bytes of a new request
 * begin to arrive, so that a request head that trickles in (slowloris) is timed from its first byte.
 */
final class HeadWatch extends ChannelInboundHandlerAdapter {
    private final ProxyHandler handler;

    HeadWatch(ProxyHandler handler) {
        this.handler = handler;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b && b.isReadable()) {
            handler.headBytes();
        }
        ctx.fireChannelRead(msg);
    }
}
