package dev.regen.server;

import io.netty.handler.codec.http.HttpResponseStatus;

/** Regen's own endpoints, answered before the cache: everything else is a page. */
final class Routes {
    static final String PREFIX = "/_regen/";

    boolean handle(ProxyHandler.Exchange ex) {
        String uri = ex.request.uri();
        String path = uri.indexOf('?') < 0 ? uri : uri.substring(0, uri.indexOf('?'));
        if (path.equals(PREFIX + "health")) {
            ex.send(HttpResponseStatus.OK, "application/json", "{\"status\":\"ok\"}\n");
            return true;
        }
        return false;
    }
}
