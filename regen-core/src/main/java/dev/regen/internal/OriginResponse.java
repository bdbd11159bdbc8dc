package dev.regen.internal;

import dev.regen.internal.http.HttpFields;
import java.util.List;
import java.util.Objects;

/**
 * A whole origin response. The body array is shared, never mutated; it is as the origin sent it (in
 * its {@code Content-Encoding}).
 *
 * @param overflowed the body was longer than the reader's limit and was not kept ({@code body} is empty)
 */
// the body is passed on without a copy; nothing compares responses by equals
@SuppressWarnings("ArrayRecordComponent")
public record OriginResponse(int status, List<Header> headers, byte[] body, boolean overflowed) {
    public OriginResponse {
        headers = List.copyOf(headers);
        Objects.requireNonNull(body, "body");
    }

    public OriginResponse(int status, List<Header> headers, byte[] body) {
        this(status, headers, body, false);
    }

    public String header(String name) {
        return HttpFields.first(headers, name);
    }
}
