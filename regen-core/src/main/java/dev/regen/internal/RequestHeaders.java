package dev.regen.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * A client request's header fields as an edge holds them, read without copying on the hot path. Names
 * compare ignoring case.
 */
public interface RequestHeaders {
    /** The first value of {@code name}, or null. */
    String get(String name);

    /** Every value of {@code name}, in order; empty when absent. */
    List<String> getAll(String name);

    /** Every field, in order (read only when the request is forwarded). */
    List<Header> all();

    /** Fields held in a list (tests, and edges that have one anyway). */
    static RequestHeaders of(List<Header> headers) {
        List<Header> copy = List.copyOf(headers);
        return new RequestHeaders() {
            @Override
            public String get(String name) {
                for (Header h : copy) {
                    if (h.is(name)) {
                        return h.value();
                    }
                }
                return null;
            }

            @Override
            public List<String> getAll(String name) {
                List<String> out = new ArrayList<>(1);
                for (Header h : copy) {
                    if (h.is(name)) {
                        out.add(h.value());
                    }
                }
                return out;
            }

            @Override
            public List<Header> all() {
                return copy;
            }
        };
    }
}
