package dev.regen.bench;

import dev.regen.RegenEngine;
import dev.regen.internal.ClientRequest;
import dev.regen.internal.Forwarding;
import dev.regen.internal.Origin;
import dev.regen.internal.OriginRequest;
import dev.regen.internal.OriginResponse;
import dev.regen.internal.Reply;
import dev.regen.internal.RequestHeaders;
import java.util.List;

/** What an edge does with a reply, in process and whole, to fill the cache before a measurement. */
final class Edge {
    private Edge() {}

    static final String HOST = "bench.example";

    static ClientRequest get(String target) {
        return get(HOST, target);
    }

    static ClientRequest get(String host, String target) {
        return new ClientRequest("GET", target, host, "http", RequestHeaders.of(List.of()), false);
    }

    /** Serves {@code target}; a miss is rendered by {@code origin} and stored before this returns. */
    static Reply serve(RegenEngine engine, Origin origin, String target) {
        return serve(engine, origin, HOST, target);
    }

    /** As {@link #serve(RegenEngine, Origin, String)}, for the public host {@code host}. */
    static Reply serve(RegenEngine engine, Origin origin, String host, String target) {
        Reply reply = engine.serve(get(host, target)).join();
        if (reply instanceof Reply.Forward f) {
            Forwarding fwd = f.forwarding();
            OriginResponse r = origin.fetch(
                            new OriginRequest(fwd.method(), fwd.target(), host, "http", fwd.headers(), Long.MAX_VALUE))
                    .join();
            if (fwd.head(r.status(), r.headers()).buffer()) {
                fwd.complete(r.body()).join();
            }
            return engine.serve(get(host, target)).join();
        }
        return reply;
    }
}
