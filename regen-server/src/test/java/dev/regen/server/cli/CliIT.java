package dev.regen.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.regen.server.demo.DemoSite;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code regen} command line, run as a child JVM: exit codes, messages, serving, SIGTERM, and
 * {@code regen revalidate} against a running {@code regen serve}.
 */
class CliIT {
    private static final String SECRET = "cli-it-secret-0123456789abcdef";
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Child> children = new ArrayList<>();
    private final List<DemoSite> origins = new ArrayList<>();
    private final AtomicInteger counter = new AtomicInteger();

    @TempDir
    Path dir;

    /** A child JVM running {@code Main}, its output going to files so it can never block on a full pipe. */
    private record Child(Process process, Path out, Path err) {
        String stdout() {
            return read(out);
        }

        String stderr() {
            return read(err);
        }

        private static String read(Path p) {
            try {
                return Files.readString(p, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(cannot read " + p + ": " + e + ")";
            }
        }

        /** Waits for the exit; fails the test, with the child's output, when it takes longer. */
        int exitWithin(Duration d) throws InterruptedException {
            if (!process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("regen did not exit within " + d + "\nstdout:\n" + stdout() + "\nstderr:\n" + stderr());
            }
            return process.exitValue();
        }

        String describe() {
            return "\nstdout:\n" + stdout() + "\nstderr:\n" + stderr();
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Child c : children) {
            c.process.destroyForcibly();
            c.process.waitFor(5, TimeUnit.SECONDS);
        }
        origins.forEach(DemoSite::close);
    }

    // -------------------------------------------------------------------------------------------- helpers

    /** Starts {@code regen args…} with {@code REGEN_SECRET} set to {@code secret} (null: unset). */
    private Child start(String secret, String... args) throws IOException {
        int n = counter.incrementAndGet();
        List<String> cmd = new ArrayList<>(List.of(JAVA.toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile()) // a stray default store (./.regen) lands in the temp dir
                .redirectOutput(dir.resolve("out-" + n + ".txt").toFile())
                .redirectError(dir.resolve("err-" + n + ".txt").toFile());
        Map<String, String> env = pb.environment();
        env.remove("REGEN_SECRET");
        env.remove("REGEN_BYPASS_TOKEN");
        env.remove("REGEN_JAVA_OPTS");
        if (secret != null) {
            env.put("REGEN_SECRET", secret);
        }
        Child c = new Child(pb.start(), dir.resolve("out-" + n + ".txt"), dir.resolve("err-" + n + ".txt"));
        children.add(c);
        return c;
    }

    /** Runs a command that ends by itself. */
    private Child run(String secret, String... args) throws Exception {
        Child c = start(secret, args);
        c.exitWithin(Duration.ofSeconds(20));
        return c;
    }

    private DemoSite origin(Duration renderDelay) {
        DemoSite site = DemoSite.start("127.0.0.1", 0, renderDelay);
        origins.add(site);
        return site;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** {@code regen serve} in front of {@code origin} on the embedded store, once its port accepts. */
    private Child serve(DemoSite origin, int port, String secret) throws Exception {
        Child c = start(secret, "serve", "--origin", "http://127.0.0.1:" + origin.port(), "--port", String.valueOf(port),
                "--store", "embedded:" + dir.resolve("store-" + port));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            if (!c.process.isAlive()) {
                fail("regen serve exited with " + c.process.exitValue() + c.describe());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return c;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    fail("regen serve did not accept connections on port " + port + " within 20 s" + c.describe());
                }
                Thread.sleep(50);
            }
        }
    }

    private HttpRequest get(int port, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build();
    }

    private HttpResponse<String> send(int port, String path) throws Exception {
        return http.send(get(port, path), HttpResponse.BodyHandlers.ofString());
    }

    private static String cacheStatus(HttpResponse<?> r) {
        return r.headers().firstValue("x-cache-status").orElse("(none)");
    }

    // ------------------------------------------------------------------------------------ usage and config

    @Test
    void serve_unknownConfigField_exits2NamingTheField() throws Exception {
        Path config = Files.writeString(dir.resolve("regen.yaml"), "origin: http://127.0.0.1:4321\nrevalidat: 5\n");

        Child c = run(null, "serve", "--config", config.toString());

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(2);
        assertThat(c.stderr()).contains("revalidat").doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void serve_negativeRevalidate_exits2() throws Exception {
        Child c = run(null, "serve", "--origin", "http://127.0.0.1:4321", "--revalidate", "-5");

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(2);
        assertThat(c.stderr()).contains("revalidate").contains("-5");
    }

    @Test
    void serve_withoutOrigin_exits2NamingOrigin() throws Exception {
        Child c = run(null, "serve");

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(2);
        assertThat(c.stderr()).contains("origin");
    }

    @Test
    void help_exits0ListingTheCommands() throws Exception {
        Child c = run(null, "--help");

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(0);
        assertThat(c.stdout()).contains("serve").contains("demo").contains("revalidate");
    }

    @Test
    void revalidate_badUsage_exits2() throws Exception {
        Child noTarget = start(SECRET, "revalidate", "--url", "http://127.0.0.1:9");
        Child relative = start(SECRET, "revalidate", "--url", "http://127.0.0.1:9", "--path", "p/1");
        Child badUrl = start(SECRET, "revalidate", "--url", "127.0.0.1:9", "--path", "/p/1");

        assertThat(noTarget.exitWithin(Duration.ofSeconds(20))).as(noTarget.describe()).isEqualTo(2);
        assertThat(noTarget.stderr()).contains("--path").contains("--tag");
        assertThat(relative.exitWithin(Duration.ofSeconds(20))).as(relative.describe()).isEqualTo(2);
        assertThat(relative.stderr()).contains("p/1");
        assertThat(badUrl.exitWithin(Duration.ofSeconds(20))).as(badUrl.describe()).isEqualTo(2);
        assertThat(badUrl.stderr()).contains("--url");
    }

    @Test
    void revalidate_withoutSecret_exits2NamingTheVariable() throws Exception {
        Child c = run(null, "revalidate", "--url", "http://127.0.0.1:9", "--path", "/p/1");

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(2);
        assertThat(c.stderr()).contains("REGEN_SECRET");
    }

    @Test
    void revalidate_serverNotRunning_exits1CannotReach() throws Exception {
        int port = freePort();

        Child c = run(SECRET, "revalidate", "--url", "http://127.0.0.1:" + port, "--path", "/p/1");

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(1);
        assertThat(c.stderr()).contains("cannot reach http://127.0.0.1:" + port).contains("connection refused");
    }

    // ------------------------------------------------------------------------------------ serving, SIGTERM

    @Test
    void serve_sigterm_servesThenExits0() throws Exception {
        DemoSite origin = origin(Duration.ZERO);
        int port = freePort();
        Child server = serve(origin, port, null);

        HttpResponse<String> first = send(port, "/posts/1");
        HttpResponse<String> second = send(port, "/posts/1");

        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(first)).isEqualTo("MISS");
        assertThat(cacheStatus(second)).isEqualTo("HIT");
        assertThat(second.body()).isEqualTo(first.body());
        assertThat(origin.renders("/posts/1")).isEqualTo(1);

        server.process.destroy(); // SIGTERM
        assertThat(server.exitWithin(Duration.ofSeconds(15))).as(server.describe()).isEqualTo(0);
        assertThat(server.stderr()).as("no stack trace on a clean stop").doesNotContain("\tat ");
    }

    @Test
    void serve_sigtermDuringARender_finishesTheRequestThenExits0() throws Exception {
        DemoSite origin = origin(Duration.ofMillis(1500));
        int port = freePort();
        Child server = serve(origin, port, null);

        CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(get(port, "/posts/2"),
                HttpResponse.BodyHandlers.ofString());
        // rather than a fixed sleep: wait until the origin has begun the render (it counts, then sleeps)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (origin.renders("/posts/2") == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(origin.renders("/posts/2")).as("the request reached the origin").isEqualTo(1);
        assertThat(inFlight).as("the render takes 1.5 s").isNotDone();
        server.process.destroy(); // SIGTERM while the origin is still rendering

        HttpResponse<String> r = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("</html>");
        assertThat(server.exitWithin(Duration.ofSeconds(15))).as(server.describe()).isEqualTo(0);
        assertThat(server.stderr()).as("no stack trace on a clean stop").doesNotContain("\tat ");
    }

    // ------------------------------------------------------------------- revalidate against a running server

    @Test
    void revalidate_path_exits0AndTheEntryIsStale() throws Exception {
        DemoSite origin = origin(Duration.ZERO);
        int port = freePort();
        serve(origin, port, SECRET);
        assertThat(cacheStatus(send(port, "/posts/1"))).isEqualTo("MISS");
        assertThat(cacheStatus(send(port, "/posts/1"))).isEqualTo("HIT");

        Child c = run(SECRET, "revalidate", "--url", "http://127.0.0.1:" + port, "--path", "/posts/1");

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(0);
        assertThat(c.stdout()).startsWith("revalidated 1 entry (soft) for paths [/posts/1]");
        assertThat(cacheStatus(send(port, "/posts/1"))).isEqualTo("STALE");
    }

    @Test
    void revalidate_hardByTag_exits0AndTheEntriesAreGone() throws Exception {
        DemoSite origin = origin(Duration.ZERO);
        int port = freePort();
        serve(origin, port, SECRET);
        send(port, "/posts/1");
        send(port, "/posts/2");
        Path secretFile = Files.writeString(dir.resolve("secret"), SECRET + "\n");

        // the file wins over a wrong $REGEN_SECRET
        Child c = run("wrong-secret-0123456789abcdef", "revalidate", "--url", "http://127.0.0.1:" + port + "/",
                "--tag", "posts", "--hard", "--secret-file", secretFile.toString());

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(0);
        assertThat(c.stdout()).startsWith("revalidated 2 entries (hard) for tags [posts]");
        assertThat(cacheStatus(send(port, "/posts/1"))).isEqualTo("MISS");
    }

    @Test
    void revalidate_wrongSecret_exits1With401() throws Exception {
        DemoSite origin = origin(Duration.ZERO);
        int port = freePort();
        serve(origin, port, SECRET);
        send(port, "/posts/1");

        Child c = run("wrong-secret-0123456789abcdef", "revalidate", "--url", "http://127.0.0.1:" + port,
                "--path", "/posts/1");

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(1);
        assertThat(c.stderr()).startsWith("regen: revalidation failed: HTTP 401: ").doesNotContain("wrong-secret");
        assertThat(cacheStatus(send(port, "/posts/1"))).as("a rejected call changes nothing").isEqualTo("HIT");
    }
}
