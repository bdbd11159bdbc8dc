package dev.regen;

import dev.regen.http.HttpFields;
import java.util.List;
import java.util.Objects;

/** A complete origin response. The body array is shared, never mutated. */
public record OriginResponse(int status, List<Header> headers, byte[] body) {
    public OriginResponse {
        headers = List.copyOf(headers);
        Objects.requireNonNull(body, "body");
    }

    public String header(String name) {
        return HttpFields.first(headers, name);
    }
}
