package dev.regen.server.cli;

import dev.regen.internal.http.BaseUrl;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code regen warm}: requests every page of a sitemap (or a list of paths) through a running Regen, so
 * that it renders and stores them before visitors ask: the "static" in incremental static
 * regeneration, after a deploy or a purge.
 *
 * <p>Pages are requested as path and query against {@code --url}, whatever host the sitemap names: a
 * sitemap lists public URLs ({@code https://www.example.com/posts/1}) while warming goes through the
 * proxy, whose cache key uses its configured public host anyway. At most {@code --concurrency}
 * requests are under way at once, so warming can't stampede the origin.
 *
 * <p>Exit 0 when every page answered, 1 when any failed (or the sitemap could not be read), 2 for bad
 * usage.
 */
@Command(
        name = "warm",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Render every page of a sitemap (or a list of paths) through a running Regen, so it is cached"
                    + " before visitors ask.",
            "Sitemap indexes are followed; pages are requested as path and query against --url."
        },
        footer = {
            "",
            "Examples:",
            "  regen warm --url http://127.0.0.1:8080 --sitemap /sitemap.xml",
            "  regen warm --url http://127.0.0.1:8080 --concurrency 8 \\",
            "             --sitemap https://www.example.com/sitemap.xml",
            "  regen warm --url http://127.0.0.1:8080 --paths-file paths.txt"
        })
final class WarmCommand implements Callable<Integer> {
    static final int MAX_CONCURRENCY = 64;
    private static final int MAX_FAILURES_SHOWN = 20;
    private static final String USER_AGENT = "Regen/0.1 (+warm)";

    @Option(
            names = "--url",
            required = true,
            paramLabel = "URL",
            description = "Base URL of the Regen server, e.g. http://127.0.0.1:8080")
    String url;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(
                names = "--sitemap",
                paramLabel = "URL",
                required = true,
                description = "Sitemap or sitemap index: a URL, or a path read through --url (e.g. /sitemap.xml)")
        String sitemap;

        @Option(
                names = "--paths-file",
                paramLabel = "FILE",
                required = true,
                description = "A file with one path (or URL) per line; blank lines and # comments are skipped")
        Path pathsFile;
    }

    @Option(
            names = "--concurrency",
            paramLabel = "N",
            defaultValue = "4",
            description = "Requests under way at once, 1.." + MAX_CONCURRENCY + " (default ${DEFAULT-VALUE})")
    int concurrency;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "60",
            description = "Give up on one page after this many seconds (default ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Spec
    CommandSpec spec;

    /** How one page went. */
    enum Kind {
        RENDERED,
        FRESH,
        STALE,
        NOT_CACHEABLE,
        FAILED
    }

    record Outcome(String target, Kind kind, String detail, long nanos) {}

    @Override
    public Integer call() throws InterruptedException {
        URI base = base();
        if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
            throw new Main.UsageError("--concurrency must be 1.." + MAX_CONCURRENCY + ", got " + concurrency);
        }
        if (timeoutSeconds <= 0) {
            throw new Main.UsageError("--timeout must be positive: " + timeoutSeconds);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(Math.min(10, timeoutSeconds)))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();

        List<String> targets;
        try {
            targets = source.sitemap != null ? fromSitemap(client, base, timeout, err) : fromFile(source.pathsFile);
        } catch (IOException e) {
            err.println("regen: " + RevalidateCommand.clean(e.getMessage()));
            return 1;
        }
        if (targets.isEmpty()) {
            err.println("regen: no pages to warm in " + (source.sitemap != null ? source.sitemap : source.pathsFile));
            return 1;
        }
        out.println("warming " + targets.size() + (targets.size() == 1 ? " page" : " pages") + " through " + base + ", "
                + concurrency + " at a time");
        out.flush();

        Progress progress = new Progress(targets.size(), interactive(), err);
        ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>(targets);
        List<Outcome> outcomes = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger n = new AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(Math.min(concurrency, targets.size()), r -> {
            Thread t = new Thread(r, "regen-warm-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        long started = System.nanoTime();
        progress.start();
        try {
            for (int i = 0; i < Math.min(concurrency, targets.size()); i++) {
                workers.execute(() -> {
                    String target;
                    while ((target = queue.poll()) != null) {
                        Outcome o = warm(client, base, target, timeout);
                        outcomes.add(o);
                        progress.done(o.kind() == Kind.FAILED);
                    }
                });
            }
            workers.shutdown();
            while (!workers.awaitTermination(1, TimeUnit.DAYS)) {
                // keep waiting: each request has its own timeout
            }
        } finally {
            workers.shutdownNow();
            progress.stop();
        }
        long tookNanos = System.nanoTime() - started;
        return summary(out, outcomes, tookNanos);
    }

    // ---------------------------------------------------------------- what to warm

    private URI base() {
        try {
            return BaseUrl.parse(url);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--url " + e.getMessage());
        }
    }

    private List<String> fromSitemap(HttpClient client, URI base, Duration timeout, PrintWriter err)
            throws IOException {
        URI start;
        String s = source.sitemap.strip();
        try {
            start = s.startsWith("/") ? URI.create(base + s) : new URI(s);
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new Main.UsageError("--sitemap is not a valid URL or path: " + s);
        }
        String scheme = start.getScheme() == null ? "" : start.getScheme().toLowerCase(Locale.ROOT);
        if ((!scheme.equals("http") && !scheme.equals("https")) || start.getHost() == null) {
            throw new Main.UsageError("--sitemap must be an http(s) URL or a path starting with /, got: " + s);
        }
        HttpClient sitemapClient = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(client.connectTimeout().orElse(Duration.ofSeconds(10)))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        Sitemaps.Found found = Sitemaps.collect(start, uri -> fetch(sitemapClient, uri, timeout));
        if (found.sitemaps() > 1) {
            err.println("read " + found.sitemaps() + " sitemaps");
        }
        LinkedHashSet<String> targets = new LinkedHashSet<>();
        for (URI page : found.pages()) {
            targets.add(target(page));
        }
        return List.copyOf(targets);
    }

    /**
     * Whether a person watches (the progress bar redraws one line) or output goes to a file or pipe
     * (a line every few seconds). From JDK 22, System.console() is there even when redirected, and
     * Console.isTerminal() tells.
     */
    @SuppressWarnings("SystemConsoleNull") // null still means no terminal on the JDK 17 Regen targets
    private static boolean interactive() {
        java.io.Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true; // before JDK 22, a console is a terminal
        }
    }

    private static byte[] fetch(HttpClient client, URI uri, Duration timeout) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("User-Agent", USER_AGENT)
                .header("Accept", "application/xml, text/xml, */*")
                .GET()
                .build();
        HttpResponse<InputStream> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (IOException e) {
            throw new IOException(why(e, Duration.ofSeconds(timeout.toSeconds())));
        }
        try (InputStream in = response.body()) {
            if (response.statusCode() != 200) {
                throw new IOException("answered HTTP " + response.statusCode());
            }
            byte[] body = in.readNBytes((int) Sitemaps.MAX_BYTES + 1);
            if (body.length > Sitemaps.MAX_BYTES) {
                throw new IOException("is over " + Sitemaps.MAX_BYTES / (1024 * 1024) + " MiB");
            }
            return body;
        }
    }

    /** Path and query of a page's URL: what is requested through --url. */
    static String target(URI page) {
        String path = page.getRawPath() == null || page.getRawPath().isEmpty() ? "/" : page.getRawPath();
        return page.getRawQuery() == null ? path : path + "?" + page.getRawQuery();
    }

    private static List<String> fromFile(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new Main.UsageError("--paths-file " + file + ": not found");
        } catch (IOException e) {
            throw new Main.UsageError("--paths-file " + file + ": cannot be read: " + e.getMessage());
        }
        LinkedHashSet<String> targets = new LinkedHashSet<>();
        int lineNo = 0;
        for (String line : lines) {
            lineNo++;
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            if (l.startsWith("/")) {
                if (l.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
                    throw new Main.UsageError(
                            "--paths-file " + file + " line " + lineNo + ": a path must not contain spaces: " + l);
                }
                targets.add(l);
                continue;
            }
            try {
                URI u = new URI(l);
                if (u.getScheme() == null || u.getHost() == null) {
                    throw new URISyntaxException(l, "not absolute");
                }
                targets.add(target(u));
            } catch (URISyntaxException e) {
                throw new Main.UsageError("--paths-file " + file + " line " + lineNo
                        + ": expected a path starting with / or an http(s) URL, got: " + RevalidateCommand.clean(l));
            }
        }
        return List.copyOf(targets);
    }

    // ---------------------------------------------------------------- warming one page

    private static Outcome warm(HttpClient client, URI base, String target, Duration timeout) {
        long start = System.nanoTime();
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(URI.create(base + target))
                    .timeout(timeout)
                    .header("User-Agent", USER_AGENT)
                    // behind visitors' misses in the render budget
                    .header("X-Regen-Priority", "background")
                    .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
                    .GET()
                    .build();
        } catch (IllegalArgumentException e) {
            return new Outcome(target, Kind.FAILED, "not a valid path", 0);
        }
        try {
            HttpResponse<Void> r = client.send(request, HttpResponse.BodyHandlers.discarding());
            long took = System.nanoTime() - start;
            return classify(
                    target,
                    r.statusCode(),
                    r.headers().firstValue("x-cache-status").orElse(null),
                    r.headers().firstValue("cache-status").orElse(""),
                    took);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(target, Kind.FAILED, "interrupted", System.nanoTime() - start);
        } catch (IOException e) {
            return new Outcome(target, Kind.FAILED, why(e, timeout), System.nanoTime() - start);
        }
    }

    static Outcome classify(String target, int status, String cacheStatus, String rfcCacheStatus, long nanos) {
        if (status >= 400) {
            return new Outcome(target, Kind.FAILED, "HTTP " + status, nanos);
        }
        if (cacheStatus == null) {
            return new Outcome(
                    target, Kind.FAILED, "HTTP " + status + " without X-Cache-Status: is --url a Regen server?", nanos);
        }
        return switch (cacheStatus.strip().toUpperCase(Locale.ROOT)) {
            case "HIT" -> new Outcome(target, Kind.FRESH, "HIT", nanos);
            case "STALE" -> new Outcome(target, Kind.STALE, "STALE", nanos);
            case "MISS" ->
                rfcCacheStatus.contains("stored=false")
                        ? new Outcome(target, Kind.NOT_CACHEABLE, "HTTP " + status + ", not stored", nanos)
                        : new Outcome(target, Kind.RENDERED, "MISS", nanos);
            case "BYPASS" -> new Outcome(target, Kind.NOT_CACHEABLE, "BYPASS (not cached by a route or rule)", nanos);
            default ->
                new Outcome(
                        target, Kind.FAILED, "unknown X-Cache-Status " + RevalidateCommand.clean(cacheStatus), nanos);
        };
    }

    private static String why(IOException e, Duration timeout) {
        if (e instanceof HttpConnectTimeoutException) {
            return "connect timed out";
        }
        if (e instanceof HttpTimeoutException) {
            return "no answer within " + timeout.toSeconds() + " s";
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return "connection refused";
            }
            if (t instanceof java.nio.channels.UnresolvedAddressException
                    || t instanceof java.net.UnknownHostException) {
                return "unknown host";
            }
            if (t.getCause() == t) {
                break;
            }
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : RevalidateCommand.clean(m);
    }

    // ---------------------------------------------------------------- the summary

    private static int summary(PrintWriter out, List<Outcome> outcomes, long tookNanos) {
        Map<Kind, Integer> counts = new LinkedHashMap<>();
        for (Kind k : Kind.values()) {
            counts.put(k, 0);
        }
        long renderNanos = 0;
        List<Outcome> failed = new ArrayList<>();
        List<Outcome> notCacheable = new ArrayList<>();
        synchronized (outcomes) {
            for (Outcome o : outcomes) {
                counts.merge(o.kind(), 1, Integer::sum);
                if (o.kind() == Kind.RENDERED) {
                    renderNanos += o.nanos();
                } else if (o.kind() == Kind.FAILED) {
                    failed.add(o);
                } else if (o.kind() == Kind.NOT_CACHEABLE) {
                    notCacheable.add(o);
                }
            }
        }
        int total = outcomes.size();
        double seconds = tookNanos / 1e9;
        out.printf(
                Locale.ROOT,
                "warmed %d %s in %s (%.1f pages/s)%n",
                total,
                total == 1 ? "page" : "pages",
                Progress.duration(seconds),
                seconds > 0 ? total / seconds : 0.0);
        int rendered = counts.get(Kind.RENDERED);
        out.printf(
                Locale.ROOT,
                "  rendered        %6d   MISS: rendered by the origin and stored%s%n",
                rendered,
                rendered == 0 ? "" : String.format(Locale.ROOT, " (avg %d ms)", renderNanos / rendered / 1_000_000));
        int fresh = counts.get(Kind.FRESH);
        int stale = counts.get(Kind.STALE);
        out.printf(
                Locale.ROOT,
                "  already cached  %6d   HIT %d, STALE %d%s%n",
                fresh + stale,
                fresh,
                stale,
                stale == 0 ? "" : " (a background render refreshes each stale one)");
        out.printf(
                Locale.ROOT,
                "  not cacheable   %6d%s%n",
                notCacheable.size(),
                notCacheable.isEmpty() ? "" : "   answered but not stored (Set-Cookie, private, status, route rule)");
        showSome(out, notCacheable);
        out.printf(Locale.ROOT, "  failed          %6d%n", failed.size());
        showSome(out, failed);
        out.flush();
        return failed.isEmpty() ? 0 : 1;
    }

    private static void showSome(PrintWriter out, List<Outcome> list) {
        list.sort(java.util.Comparator.comparing(Outcome::target));
        for (int i = 0; i < Math.min(list.size(), MAX_FAILURES_SHOWN); i++) {
            out.println("      " + RevalidateCommand.clean(list.get(i).target()) + "  "
                    + list.get(i).detail());
        }
        if (list.size() > MAX_FAILURES_SHOWN) {
            out.println("      … and " + (list.size() - MAX_FAILURES_SHOWN) + " more");
        }
    }

    // ---------------------------------------------------------------- progress

    /**
     * A progress bar with rate and ETA redrawn in place on a terminal; plain lines every 5 s
     * otherwise (logs, CI), so the output stays readable where {@code \r} is not.
     */
    static final class Progress {
        private static final int WIDTH = 28;
        private final int total;
        private final boolean terminal;
        private final PrintWriter err;
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicInteger failed = new AtomicInteger();
        private final AtomicLong startedNanos = new AtomicLong();
        private java.util.concurrent.ScheduledExecutorService ticker;
        private int lastWidth;

        Progress(int total, boolean terminal, PrintWriter err) {
            this.total = total;
            this.terminal = terminal;
            this.err = err;
        }

        void start() {
            startedNanos.set(System.nanoTime());
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "regen-warm-progress");
                t.setDaemon(true);
                return t;
            });
            long every = terminal ? 100 : 5000;
            ticker.scheduleAtFixedRate(this::draw, terminal ? 0 : every, every, TimeUnit.MILLISECONDS);
        }

        void done(boolean fail) {
            done.incrementAndGet();
            if (fail) {
                failed.incrementAndGet();
            }
        }

        void stop() {
            ticker.shutdownNow();
            try {
                ticker.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (terminal) {
                draw();
                synchronized (this) {
                    err.println();
                    err.flush();
                }
            }
        }

        synchronized void draw() {
            int d = done.get();
            double elapsed = (System.nanoTime() - startedNanos.get()) / 1e9;
            double rate = elapsed > 0 ? d / elapsed : 0;
            String eta = d == total ? "done" : rate > 0 ? "ETA " + duration((total - d) / rate) : "ETA …";
            int pct = total == 0 ? 100 : (int) (100L * d / total);
            String fails = failed.get() == 0 ? "" : "  " + failed.get() + " failed";
            if (terminal) {
                int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * d / total);
                String bar = "=".repeat(filled) + (filled < WIDTH ? ">" + " ".repeat(WIDTH - filled - 1) : "");
                String line = String.format(
                        Locale.ROOT, "  [%s] %d/%d %3d%%  %.1f pages/s  %s%s", bar, d, total, pct, rate, eta, fails);
                String pad = line.length() < lastWidth ? " ".repeat(lastWidth - line.length()) : "";
                lastWidth = line.length();
                err.print("\r" + line + pad);
            } else {
                err.printf(Locale.ROOT, "warm: %d/%d (%d%%), %.1f pages/s, %s%s%n", d, total, pct, rate, eta, fails);
            }
            err.flush();
        }

        static String duration(double seconds) {
            if (seconds < 10) {
                return String.format(Locale.ROOT, "%.1f s", seconds);
            }
            long s = Math.round(seconds);
            if (s < 120) {
                return s + " s";
            }
            if (s < 7200) {
                return s / 60 + " min " + s % 60 + " s";
            }
            return s / 3600 + " h " + s / 60 % 60 + " min";
        }
    }
}
