package dev.regen.server;

import dev.regen.admin.AdminApi;
import dev.regen.admin.ApiRequest;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpResponseStatus;

/** Hands Regen's own endpoints (webhook, admin API, health) to {@link AdminApi}; everything else is a page. */
final class Routes {
    private final AdminApi api;

    Routes(AdminApi api) {
        this.api = api;
    }

    boolean handle(ProxyHandler.Exchange ex) {
        String uri = ex.request.uri();
        int q = uri.indexOf('?');
        if (!api.owns(q < 0 ? uri : uri.substring(0, q))) {
            return false;
        }
        ApiRequest request = new ApiRequest(ex.request.method().name(), uri, ex.request.headers()::get,
                ByteBufUtil.getBytes(ex.request.content()));
        api.handle(request).whenComplete((r, e) -> ex.ctx.executor().execute(() -> {
            if (e != null) {
                ex.sendText(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error\n");
            } else {
                ex.send(HttpResponseStatus.valueOf(r.status()), r.contentType(), r.headers(), r.body());
            }
        }));
        return true;
    }
}
