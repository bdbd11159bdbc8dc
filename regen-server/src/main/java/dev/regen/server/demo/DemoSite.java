package dev.regen.server.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.regen.internal.http.Html;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo origin: a small server-rendered blog, slow on purpose, that shows on every page when and
 * how many times it was rendered, so that Regen's caching can be watched. Used by {@code regen demo} and
 * by integration tests as a real origin.
 *
 * <p>Pages: {@code /} lists {@value #POSTS} posts, {@code /posts/1} … {@code /posts/50}, {@code /sitemap.xml}
 * (absolute URLs under {@link #setPublicBase(String) the public base}), anything else a 404 page. Each
 * page takes {@code renderDelay} to render, carries {@code Cache-Tag} ({@code posts, index} or
 * {@code posts, post-N}) and no {@code Cache-Control}, so the proxy's revalidate time applies.
 * {@code GET /__renders} answers {@code {"total":N,"paths":{"/posts/1":2,…}}} and is never cached;
 * {@code /favicon.ico} is Regen's icon. Neither counts as a render.
 *
 * <p>The render counts can be kept in a file ({@link #start(String, int, Duration, Path)}): {@code regen
 * demo} keeps them beside its embedded store, so that after a restart the "Render #" of a page that
 * survived in the store goes on from where it was rather than starting again at 1. The file is written
 * at most twice a second and when the site closes.
 *
 * <p>Requests run on a pool of {@value #THREADS} daemon threads, so concurrent renders don't queue
 * behind each other. Thread-safe.
 */
public final class DemoSite implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DemoSite.class);

    /** Number of blog posts. */
    public static final int POSTS = 50;
    /** The name of the render counts' file, beside the store in {@code regen demo}. */
    public static final String COUNTS_FILE = "demo-renders.txt";
    /** Default for {@link #setPublicBase(String)}. */
    public static final String DEFAULT_PUBLIC_BASE = "http://localhost:8080";

    private static final int THREADS = 16;
    /** A scanner probing random paths must not grow the counters without bound. */
    private static final int MAX_COUNTED_PATHS = 10_000;

    private static final String[] SUBJECTS = {
        "Stale-while-revalidate", "Cache tags", "Single-flight rendering", "The render counter",
        "Incremental static regeneration", "On-demand revalidation", "Cache keys", "The Age header",
        "Soft purges", "Warming a cache"
    };
    private static final String[] ANGLES = {
        "explained in five minutes", "in practice", "without the hype", "and why it matters", "for the impatient"
    };

    private final HttpServer server;
    private final ExecutorService executor;
    private final Duration renderDelay;
    private final ConcurrentHashMap<String, AtomicLong> renders = new ConcurrentHashMap<>();
    private final AtomicLong total = new AtomicLong();
    /** Pages being rendered now (not {@code /__renders}, not the sitemap), and the most there ever were at once. */
    private final AtomicInteger current = new AtomicInteger();

    private final AtomicInteger maxConcurrent = new AtomicInteger();
    private volatile String publicBase = DEFAULT_PUBLIC_BASE;
    /** Where the counts are kept, or null; written by {@link #saver} when {@link #dirty}. */
    private final Path countsFile;

    private final ScheduledExecutorService saver;
    private final AtomicBoolean dirty = new AtomicBoolean();

    private DemoSite(HttpServer server, ExecutorService executor, Duration renderDelay, Path countsFile) {
        this.server = server;
        this.executor = executor;
        this.renderDelay = renderDelay;
        this.countsFile = countsFile;
        if (countsFile == null) {
            this.saver = null;
            return;
        }
        loadCounts();
        this.saver = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "demo-site-counts");
            t.setDaemon(true);
            return t;
        });
        saver.scheduleWithFixedDelay(this::saveIfChanged, 500, 500, TimeUnit.MILLISECONDS);
    }

    /**
     * Starts the site.
     *
     * @param host        address to bind, e.g. {@code 127.0.0.1}
     * @param port        port to bind, 0 for any free port (see {@link #port()})
     * @param renderDelay how long each page takes to render; {@link Duration#ZERO} in tests
     * @throws UncheckedIOException when the address can't be bound
     */
    public static DemoSite start(String host, int port, Duration renderDelay) {
        return start(host, port, renderDelay, null);
    }

    /**
     * Starts the site with its render counts kept in {@code countsFile} (read now if it exists).
     *
     * @param countsFile where the counts live across restarts, or null to keep them in memory only
     * @throws UncheckedIOException when the address can't be bound
     */
    public static DemoSite start(String host, int port, Duration renderDelay, Path countsFile) {
        if (renderDelay == null || renderDelay.isNegative()) {
            throw new IllegalArgumentException("renderDelay must not be negative: " + renderDelay);
        }
        // the JDK server leaves Nagle on by default: +40 ms per render on a keep-alive connection.
        // Read once, when its first server is made.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 128);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "demo-site-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        DemoSite site = new DemoSite(server, executor, renderDelay, countsFile);
        server.createContext("/", site::handle);
        server.setExecutor(executor);
        server.start();
        return site;
    }

    /** The port the site listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /**
     * Sets the base of the absolute URLs in {@code /sitemap.xml}, normally the proxy's URL
     * (default {@value #DEFAULT_PUBLIC_BASE}). A trailing {@code /} is ignored.
     */
    public void setPublicBase(String base) {
        if (base == null || !(base.startsWith("http://") || base.startsWith("https://"))) {
            throw new IllegalArgumentException("publicBase must be an http(s) URL: " + base);
        }
        publicBase = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    /** The base of the sitemap's URLs. */
    public String publicBase() {
        return publicBase;
    }

    /** How many times {@code path} (without query) was rendered since the start or {@link #reset()}. */
    public long renders(String path) {
        AtomicLong c = renders.get(path);
        return c == null ? 0 : c.get();
    }

    /** How many renders in all (every request but {@code /__renders}) since the start or {@link #reset()}. */
    public long totalRenders() {
        return total.get();
    }

    /**
     * The most pages (not {@code /__renders}, not the sitemap) this origin was rendering at the same time,
     * since the start or {@link #reset()}: what {@code regen warm --concurrency N} must keep at N or below.
     */
    public int maxConcurrentRenders() {
        return maxConcurrent.get();
    }

    /** Sets every render counter back to zero. */
    public void reset() {
        renders.clear();
        total.set(0);
        maxConcurrent.set(current.get());
        dirty.set(true);
    }

    /** Stops listening at once and stops the threads, writing out the counts; idempotent. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        if (saver != null) {
            saver.shutdownNow();
            saveIfChanged();
        }
    }

    // -------------------------------------------------------------------------------- kept counts

    /** Reads {@code total N} and {@code N PATH} lines; a file that can't be read is reported and counting starts at 0. */
    private void loadCounts() {
        if (!Files.exists(countsFile)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(countsFile, StandardCharsets.UTF_8)) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int space = line.indexOf(' ');
                if (space < 0) {
                    throw new IOException("not a count: " + line);
                }
                long n = Long.parseLong(line.substring(0, space));
                String path = line.substring(space + 1);
                if (path.equals("total")) {
                    total.set(n);
                } else if (renders.size() < MAX_COUNTED_PATHS) {
                    renders.put(path, new AtomicLong(n));
                }
            }
        } catch (IOException | NumberFormatException e) {
            log.warn("demo render counts in {} unreadable ({}); counting from 0", countsFile, e.getMessage());
            renders.clear();
            total.set(0);
        }
    }

    private void saveIfChanged() {
        if (!dirty.getAndSet(false)) {
            return;
        }
        StringBuilder b = new StringBuilder("# regen demo: renders per page, kept beside the store\n")
                .append(total.get())
                .append(" total\n");
        new TreeMap<>(renders)
                .forEach((p, c) -> b.append(c.get()).append(' ').append(p).append('\n'));
        try {
            Files.createDirectories(countsFile.toAbsolutePath().getParent());
            Path tmp = countsFile.resolveSibling(countsFile.getFileName() + ".tmp");
            Files.writeString(tmp, b, StandardCharsets.UTF_8);
            Files.move(tmp, countsFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn("cannot keep the demo render counts in {}: {}", countsFile, e.toString());
        }
    }

    // --------------------------------------------------------------------------------------- handling

    private void handle(HttpExchange ex) throws IOException {
        try {
            drain(ex.getRequestBody());
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getRawPath();
            if (path == null || path.isEmpty()) {
                path = "/";
            }
            if (path.equals("/__renders")) {
                ex.getResponseHeaders().set("Cache-Control", "no-store");
                respond(ex, 200, "application/json", rendersJson());
                return;
            }
            if (path.equals("/favicon.ico")) {
                ex.getResponseHeaders().set("Cache-Control", "public, max-age=86400");
                respond(ex, 200, "image/x-icon", FAVICON);
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(ex, 405, "text/plain; charset=utf-8", "405 method not allowed\n");
                return;
            }
            long n = count(path);
            if (path.equals("/sitemap.xml")) {
                respond(ex, 200, "application/xml; charset=utf-8", sitemap());
                return;
            }
            maxConcurrent.accumulateAndGet(current.incrementAndGet(), Math::max);
            Page page;
            try {
                page = render(path, n);
            } finally {
                // the render is the work, not the transfer: the client may have the bytes before a write returns
                current.decrementAndGet();
            }
            if (page.tag() != null) {
                ex.getResponseHeaders().set("Cache-Tag", page.tag());
            }
            respond(ex, page.status(), "text/html; charset=utf-8", page.html());
        } finally {
            ex.close();
        }
    }

    private record Page(int status, String tag, String html) {}

    private Page render(String path, long n) {
        sleep(renderDelay);
        long renderedAt = System.currentTimeMillis();
        int post = postNumber(path);
        if (path.equals("/")) {
            return new Page(200, "posts, index", indexPage(n, renderedAt));
        } else if (post > 0) {
            return new Page(200, "posts, post-" + post, postPage(post, n, renderedAt));
        }
        return new Page(404, null, notFoundPage(path, n, renderedAt));
    }

    private long count(String path) {
        dirty.set(true);
        total.incrementAndGet();
        AtomicLong c = renders.get(path);
        if (c == null) {
            c = renders.size() < MAX_COUNTED_PATHS
                    ? renders.computeIfAbsent(path, p -> new AtomicLong())
                    : new AtomicLong();
        }
        return c.incrementAndGet();
    }

    /** 1..50 for {@code /posts/N} written canonically, else 0. */
    static int postNumber(String path) {
        if (!path.startsWith("/posts/")) {
            return 0;
        }
        String digits = path.substring("/posts/".length());
        if (!digits.matches("[1-9]\\d{0,2}")) {
            return 0;
        }
        int n = Integer.parseInt(digits);
        return n <= POSTS ? n : 0;
    }

    static String title(int post) {
        String subject = SUBJECTS[(post - 1) % SUBJECTS.length];
        String angle = ANGLES[((post - 1) / SUBJECTS.length) % ANGLES.length];
        return subject + ", " + angle;
    }

    private static void respond(HttpExchange ex, int status, String contentType, String body) throws IOException {
        respond(ex, status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void respond(HttpExchange ex, int status, String contentType, byte[] bytes) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().set("Content-Length", String.valueOf(bytes.length));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[8192];
        while (in.read(buf) >= 0) {
            // discard
        }
    }

    private static void sleep(Duration d) {
        if (d.isZero()) {
            return;
        }
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------------------------------ pages

    private String rendersJson() {
        Map<String, Long> sorted = new TreeMap<>();
        renders.forEach((p, c) -> sorted.put(p, c.get()));
        StringBuilder b = new StringBuilder("{\"total\":").append(total.get()).append(",\"paths\":{");
        boolean first = true;
        for (Map.Entry<String, Long> e : sorted.entrySet()) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append(jsonString(e.getKey())).append(':').append(e.getValue());
        }
        return b.append("}}").toString();
    }

    private String sitemap() {
        String base = Html.escape(publicBase);
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n")
                .append("  <url><loc>")
                .append(base)
                .append("/</loc></url>\n");
        for (int i = 1; i <= POSTS; i++) {
            b.append("  <url><loc>").append(base).append("/posts/").append(i).append("</loc></url>\n");
        }
        return b.append("</urlset>\n").toString();
    }

    private String indexPage(long n, long renderedAt) {
        StringBuilder list = new StringBuilder("<ol class=\"posts\">\n");
        for (int i = 1; i <= POSTS; i++) {
            list.append("  <li><a href=\"/posts/")
                    .append(i)
                    .append("\">")
                    .append(Html.escape(title(i)))
                    .append("</a></li>\n");
        }
        list.append("</ol>\n");
        return page(
                "The Regen demo blog",
                n,
                renderedAt,
                "<h1>The Regen demo blog</h1>\n"
                        + "<p class=\"lede\">" + POSTS + " posts, rendered on the server, slowly on purpose.</p>\n"
                        + WATCH
                        + list);
    }

    private String postPage(int post, long n, long renderedAt) {
        String title = Html.escape(title(post));
        StringBuilder nav = new StringBuilder("<nav class=\"pager\">");
        nav.append(
                post > 1 ? "<a rel=\"prev\" href=\"/posts/" + (post - 1) + "\">&larr; Previous</a>" : "<span></span>");
        nav.append(
                post < POSTS ? "<a rel=\"next\" href=\"/posts/" + (post + 1) + "\">Next &rarr;</a>" : "<span></span>");
        nav.append("</nav>\n");
        return page(
                title + " — Regen demo",
                n,
                renderedAt,
                "<p class=\"crumbs\"><a href=\"/\">&larr; All posts</a></p>\n"
                        + "<h1>" + title + "</h1>\n"
                        + "<p class=\"lede\">Post " + post + " of " + POSTS + ".</p>\n"
                        + "<p>This page was produced by a server that takes its time: every render costs "
                        + renderDelay.toMillis() + " ms. Put Regen in front of it and visitors stop paying that "
                        + "price: the first request renders and stores the page, the next ones are served from "
                        + "the cache, and once the page is older than the revalidate time the stored copy is "
                        + "still served instantly while a single background render refreshes it.</p>\n"
                        + "<p>Tag <code>post-" + post + "</code> purges only this page; tag <code>posts</code> "
                        + "purges the whole blog.</p>\n"
                        + nav
                        + WATCH);
    }

    private String notFoundPage(String path, long n, long renderedAt) {
        return page(
                "Not found — Regen demo",
                n,
                renderedAt,
                "<h1>Not found</h1>\n<p>There is no page at <code>" + Html.escape(path) + "</code>. "
                        + "<a href=\"/\">Back to all posts</a>.</p>\n"
                        + WATCH);
    }

    private static String page(String title, long n, long renderedAt, String content) {
        String iso =
                Instant.ofEpochMilli(renderedAt).truncatedTo(ChronoUnit.MILLIS).toString();
        return "<!doctype html>\n<html lang=\"en\">\n<head>\n"
                + "<meta charset=\"utf-8\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + "<meta name=\"x-render\" content=\"" + n + ";" + renderedAt + "\">\n"
                + "<title>" + title + "</title>\n"
                + "<link rel=\"icon\" href=\"/favicon.ico\" sizes=\"16x16 32x32\">\n"
                + "<style>\n" + CSS + "</style>\n"
                + "</head>\n<body>\n<main>\n"
                + "<div class=\"render\">Render #" + n + " &middot; rendered at <time datetime=\"" + iso + "\">"
                + iso + "</time> <span id=\"ago\"></span></div>\n"
                + content
                + "</main>\n"
                + "<script>\n" + AGO_SCRIPT + "</script>\n"
                + "</body>\n</html>\n";
    }

    /** Regen's icon at 16 and 32 px (PNG in ICO), made from the dashboard's icon.svg with rsvg-convert. */
    private static final byte[] FAVICON = resource("favicon.ico");

    private static byte[] resource(String name) {
        try (InputStream in = DemoSite.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final String WATCH = """
            <aside class="watch">
              <h2>What to watch</h2>
              <ul>
                <li>Open devtools &rarr; Network, reload, and look at the <code>X-Cache-Status</code> response
                  header: <b>MISS</b> on the first visit (the page is rendered), then <b>HIT</b> (served from the
                  cache, instantly), then <b>STALE</b> once the page is older than the revalidate time (still
                  instant, and one render starts in the background), then <b>HIT</b> again with the fresh page.</li>
                <li>The <b>Render #</b> at the top counts how many times the origin rendered this page. It stays
                  put while the page is served from the cache and goes up by one per revalidation.</li>
                <li>In <code>regen demo</code> pages revalidate every <b>10 s</b>. A STALE response still shows the
                  old render; reload once more to see the new one.</li>
              </ul>
            </aside>
            """;

    private static final String AGO_SCRIPT = """
            (function () {
              var meta = document.querySelector('meta[name="x-render"]');
              var el = document.getElementById('ago');
              if (!meta || !el) return;
              var at = Number(meta.content.split(';')[1]);
              function tick() { el.textContent = '(' + Math.max(0, Math.round((Date.now() - at) / 1000)) + ' s ago)'; }
              tick();
              setInterval(tick, 1000);
            })();
            """;

    private static final String CSS = """
            :root { color-scheme: light dark; --accent: #2563eb; --muted: #6b7280; --box: rgba(37, 99, 235, .08); }
            * { box-sizing: border-box; }
            body { margin: 0; font: 17px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
            main { max-width: 44rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
            h1 { font-size: 2rem; line-height: 1.2; margin: 1rem 0 .5rem; }
            h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
            a { color: var(--accent); text-decoration: none; }
            a:hover { text-decoration: underline; }
            code { font: .9em ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--box); padding: .1em .3em; border-radius: 4px; }
            .render { display: inline-block; font: .85rem ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--muted);
                      border: 1px solid rgba(107, 114, 128, .35); border-radius: 999px; padding: .25rem .75rem; }
            .lede { color: var(--muted); margin-top: 0; }
            .crumbs { margin: 1.5rem 0 0; }
            .posts { padding-left: 1.5rem; }
            .posts li { margin: .2rem 0; }
            .pager { display: flex; justify-content: space-between; margin: 2rem 0; }
            .watch { margin: 1.5rem 0; padding: 1rem 1.25rem; background: var(--box); border-left: 4px solid var(--accent); border-radius: 6px; }
            .watch ul { margin: 0; padding-left: 1.2rem; }
            .watch li { margin: .4rem 0; }
            """;

    private static String jsonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
