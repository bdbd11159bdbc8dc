package dev.regen.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A real HTTP origin on a loopback port for integration tests: per-path behaviour, render counts,
 * renders that can be held open, and stop/start on the same port to play an origin that goes down.
 */
final class TestOrigin implements AutoCloseable {
    /** What the origin answers for one render. */
    record Response(int status, List<String[]> headers, byte[] body) {
        static Response html(String text, String... headers) {
            List<String[]> h = new ArrayList<>();
            h.add(new String[] {"Content-Type", "text/html; charset=utf-8"});
            for (int i = 0; i < headers.length; i += 2) {
                h.add(new String[] {headers[i], headers[i + 1]});
            }
            return new Response(200, h, text.getBytes(StandardCharsets.UTF_8));
        }

        Response status(int s) {
            return new Response(s, headers, body);
        }
    }

    /** The request as the origin saw it, passed to handlers. */
    record Seen(String method, String uri, Map<String, List<String>> headers, byte[] body, int render) {
        String header(String name) {
            for (var e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    private final Map<String, Function<Seen, Response>> handlers = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> renders = new ConcurrentHashMap<>();
    private final ExecutorService pool = Executors.newFixedThreadPool(64, r -> {
        Thread t = new Thread(r, "test-origin");
        t.setDaemon(true);
        return t;
    });
    private final int port;
    private volatile HttpServer server;
    private volatile CountDownLatch gate;

    TestOrigin() throws IOException {
        server = bind(0);
        port = server.getAddress().getPort();
    }

    private HttpServer bind(int p) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", p), 256);
        s.setExecutor(pool);
        s.createContext("/", this::handle);
        s.start();
        return s;
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    void on(String path, Function<Seen, Response> handler) {
        handlers.put(path, handler);
    }

    int renders(String path) {
        AtomicInteger n = renders.get(path);
        return n == null ? 0 : n.get();
    }

    /** Renders from now on wait until {@link #release()}. */
    void hold() {
        gate = new CountDownLatch(1);
    }

    void release() {
        CountDownLatch g = gate;
        gate = null;
        if (g != null) {
            g.countDown();
        }
    }

    void stop() {
        server.stop(0);
    }

    void start() throws IOException {
        server = bind(port);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            byte[] requestBody;
            try (InputStream in = ex.getRequestBody()) {
                requestBody = in.readAllBytes();
            }
            int n = renders.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            CountDownLatch g = gate;
            if (g != null) {
                try {
                    g.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Seen seen = new Seen(
                    ex.getRequestMethod(), ex.getRequestURI().toString(), ex.getRequestHeaders(), requestBody, n);
            Function<Seen, Response> h = handlers.get(path);
            Response r = h != null ? h.apply(seen) : Response.html("<p>" + path + " render " + n + "</p>");
            for (String[] header : r.headers()) {
                ex.getResponseHeaders().add(header[0], header[1]);
            }
            boolean noBody = "HEAD".equals(ex.getRequestMethod()) || r.status() == 304 || r.status() == 204;
            ex.sendResponseHeaders(r.status(), noBody ? -1 : (r.body().length == 0 ? -1 : r.body().length));
            if (!noBody && r.body().length > 0) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(r.body());
                }
            }
        }
    }

    @Override
    public void close() {
        release();
        server.stop(0);
        pool.shutdownNow();
    }
}
