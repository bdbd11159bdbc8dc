package dev.regen.internal;

import java.util.Objects;

/** One HTTP header field as received or replayed. Names keep the origin's spelling; compare them ignoring case. */
public record Header(String name, String value) {
    public Header {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }

    public boolean is(String other) {
        return name.equalsIgnoreCase(other);
    }
}
