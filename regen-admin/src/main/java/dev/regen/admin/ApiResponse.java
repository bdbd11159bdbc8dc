package dev.regen.admin;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What an edge sends back for an {@link ApiRequest}. Never cached ({@code Cache-Control: no-store}). */
public record ApiResponse(int status, String contentType, Map<String, String> headers, byte[] body) {
    public ApiResponse {
        headers = Map.copyOf(headers);
    }

    static ApiResponse json(int status, String json, Map<String, String> headers) {
        return new ApiResponse(status, "application/json", headers, (json + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
