package dev.regen.server;

import dev.regen.admin.AdminApi;
import dev.regen.admin.ApiRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

/** Hands Regen's own endpoints (webhook, admin API, health) to {@link AdminApi}; everything else is a page. */
final class Routes {
    private final AdminApi api;

    Routes(AdminApi api) {
        this.api = api;
    }

    boolean owns(String path) {
        return api.owns(path);
    }

    /** Answers one request for Regen's own endpoints, with its (bounded) body. */
    void handle(ProxyHandler.Exchange ex, byte[] body) {
        ApiRequest request = new ApiRequest(
                ex.request.method().name(),
                dev.regen.internal.http.RequestTarget.originForm(ex.request.uri()),
                ex.request.headers()::get,
                body,
                ex.clientAddress());
        api.handle(request)
                .whenComplete((r, e) -> ex.ctx().executor().execute(() -> {
                    if (e != null) {
                        ex.sendText(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error\n");
                    } else {
                        ex.send(HttpResponseStatus.valueOf(r.status()), r.contentType(), r.headers(), r.body());
                    }
                }));
    }
}
