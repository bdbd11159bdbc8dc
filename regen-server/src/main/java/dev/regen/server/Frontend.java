package dev.regen.server;

import dev.regen.RegenEngine;
import dev.regen.server.config.Front;
import io.netty.channel.group.ChannelGroup;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every connection of one server shares: the engine, the origin, Regen's own endpoints, and the
 * server's state (connections open, exchanges in flight, draining for shutdown).
 */
final class Frontend {
    final RegenEngine engine;
    final OriginClient origin;
    final Routes routes;
    final AccessLog accessLog;
    final PreparedPage.Cache prepared;
    final HttpDate date;
    final Front front;
    final InstantSource clock;
    /** Exchanges in flight: shutdown waits for them. */
    final AtomicInteger active = new AtomicInteger();
    /** Client connections open, checked against {@link Front#maxConnections()}. */
    final AtomicInteger connections = new AtomicInteger();

    final ChannelGroup channels;
    private volatile boolean draining;

    Frontend(
            RegenEngine engine,
            OriginClient origin,
            Routes routes,
            AccessLog accessLog,
            PreparedPage.Cache prepared,
            InstantSource clock,
            Front front,
            ChannelGroup channels) {
        this.engine = engine;
        this.origin = origin;
        this.routes = routes;
        this.accessLog = accessLog;
        this.prepared = prepared;
        this.clock = clock;
        this.date = new HttpDate(clock);
        this.front = front;
        this.channels = channels;
    }

    /** Shutting down: every response says {@code Connection: close}, idle connections are closed. */
    boolean draining() {
        return draining;
    }

    void drain() {
        draining = true;
    }
}
