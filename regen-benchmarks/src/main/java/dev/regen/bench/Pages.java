package dev.regen.bench;

import dev.regen.internal.Header;
import dev.regen.internal.Origin;
import dev.regen.internal.OriginRequest;
import dev.regen.internal.OriginResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** An in-process origin of realistic ~20 KB HTML pages, each different, as the peer harness's origin serves. */
final class Pages implements Origin {
    static final int PAGE_BYTES = 20 * 1024;

    @Override
    public CompletableFuture<OriginResponse> fetch(OriginRequest request) {
        return CompletableFuture.completedFuture(page(request.target()));
    }

    static OriginResponse page(String path) {
        return page(path, PAGE_BYTES);
    }

    /** A page of about {@code bytes} bytes. */
    static OriginResponse page(String path, int bytes) {
        StringBuilder sb = new StringBuilder(bytes + 256)
                .append("<!doctype html><html><head><meta charset=\"utf-8\"><title>")
                .append(path)
                .append("</title></head><body><main>");
        int n = 0;
        while (sb.length() < bytes - 64) {
            sb.append("<p>Paragraph ")
                    .append(n++)
                    .append(" of ")
                    .append(path)
                    .append(": server-rendered text that changes from page to page.</p>\n");
        }
        sb.append("</main></body></html>\n");
        return new OriginResponse(
                200,
                List.of(
                        new Header("Content-Type", "text/html; charset=utf-8"),
                        new Header("Cache-Tag", "posts, post-" + path.hashCode()),
                        new Header("X-Powered-By", "bench")),
                sb.toString().getBytes(StandardCharsets.UTF_8));
    }
}
