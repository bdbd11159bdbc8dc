package dev.regen.admin;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What an edge sends back for an {@link ApiRequest}. Never cached ({@code Cache-Control: no-store}). */
// the body is handed over without a copy; responses are never compared by equals
@SuppressWarnings("ArrayRecordComponent")
public record ApiResponse(int status, String contentType, Map<String, String> headers, byte[] body) {
    public ApiResponse {
        headers = Map.copyOf(headers);
    }

    static ApiResponse json(int status, String json, Map<String, String> headers) {
        return new ApiResponse(status, "application/json", headers, (json + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** {@code {"success":false,"error":reason}}: every JSON refusal and failure has this shape. */
    static ApiResponse error(int status, String reason, Map<String, String> headers) {
        ObjectNode out =
                JsonNodeFactory.instance.objectNode().put("success", false).put("error", reason);
        return json(status, out.toString(), headers);
    }

    static ApiResponse error(int status, String reason) {
        return error(status, reason, Map.of());
    }

    /** 405 for a read-only endpoint called with another method. */
    static ApiResponse useGet() {
        return error(405, "use GET", Map.of("Allow", "GET, HEAD"));
    }

    static boolean isRead(ApiRequest request) {
        return request.method().equals("GET") || request.method().equals("HEAD");
    }
}
