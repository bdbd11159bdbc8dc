package dev.regen.servlet;

import dev.regen.internal.Header;
import dev.regen.internal.RequestHeaders;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * A servlet request's fields seen through the engine's interface: read where they are (nothing is
 * copied for a hit), until {@link #detach()} copies them for an engine that will read them after the
 * request's own dispatch has returned. A container may recycle a request once it completes (a client
 * that left, a timeout), and the engine must not read another request's fields then. Thread-safe.
 */
final class ServletHeaders implements RequestHeaders {
    private final HttpServletRequest request;
    private volatile RequestHeaders copy;

    ServletHeaders(HttpServletRequest request) {
        this.request = request;
    }

    /** Copies the fields, read from the copy from now on. Call it while the request is still the container's. */
    void detach() {
        if (copy == null) {
            copy = RequestHeaders.of(read(request));
        }
    }

    @Override
    public String get(String name) {
        RequestHeaders c = copy;
        return c != null ? c.get(name) : request.getHeader(name);
    }

    @Override
    public List<String> getAll(String name) {
        RequestHeaders c = copy;
        if (c != null) {
            return c.getAll(name);
        }
        Enumeration<String> values = request.getHeaders(name);
        return values == null ? List.of() : Collections.list(values);
    }

    @Override
    public List<Header> all() {
        RequestHeaders c = copy;
        return c != null ? c.all() : read(request);
    }

    /** Every field of {@code request}, in order. */
    static List<Header> read(HttpServletRequest request) {
        List<Header> out = new ArrayList<>();
        Enumeration<String> names = request.getHeaderNames();
        while (names != null && names.hasMoreElements()) {
            String name = names.nextElement();
            Enumeration<String> values = request.getHeaders(name);
            while (values != null && values.hasMoreElements()) {
                out.add(new Header(name, values.nextElement()));
            }
        }
        return out;
    }
}
