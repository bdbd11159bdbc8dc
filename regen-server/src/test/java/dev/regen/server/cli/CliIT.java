package dev.regen.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.regen.server.demo.DemoSite;
import dev.regen.store.PutOptions;
import dev.regen.store.embedded.EmbeddedStore;
import dev.regen.testing.Ports;
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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.InstantSource;
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

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
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
        List<String> cmd = new ArrayList<>(List.of(
                JAVA.toString(),
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName()));
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

    /** {@code regen serve} in front of {@code origin} on the embedded store, once its port accepts. */
    private Child serve(DemoSite origin, int port, String secret) throws Exception {
        Child c = start(
                secret,
                "serve",
                "--origin",
                "http://127.0.0.1:" + origin.port(),
                "--port",
                String.valueOf(port),
                "--store",
                "embedded:" + dir.resolve("store-" + port));
        awaitListening(c, port);
        return c;
    }

    private HttpRequest get(int port, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .build();
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

    /** An embedded store in {@code name} with 20 pages of 5,000 bytes. */
    private Path storeOf20Pages(String name) {
        Path store = dir.resolve(name);
        try (EmbeddedStore s = EmbeddedStore.open(store, InstantSource.system())) {
            for (int i = 0; i < 20; i++) {
                s.put("page:/p/" + i, new byte[5000], PutOptions.NONE);
            }
        }
        return store;
    }

    @Test
    void storeCheck_cleanStore_exits0() throws Exception {
        Path store = storeOf20Pages("clean");

        Child c = run(null, "store", "check", store.toString());

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(0);
        assertThat(c.stdout())
                .contains("integrity check: ok")
                .contains("entries: 20 read back")
                .endsWith("ok\n");
    }

    @Test
    void storeCheck_damagedValue_exits1NamingTheEntry() throws Exception {
        Path store = storeOf20Pages("damaged");
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + store.resolve("regen.db"));
                Statement st = db.createStatement()) {
            st.execute("UPDATE bodies SET value = zeroblob(4999) || x'01'"
                    + " WHERE id = (SELECT id FROM entries WHERE key = 'page:/p/7')");
        }

        Child c = run(null, "store", "check", store.toString());

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(1);
        assertThat(c.stdout())
                .contains("1 corrupt")
                .contains("entry page:/p/7: a value that does not match its checksum")
                .contains("CORRUPT");
    }

    @Test
    void storeCheck_noStore_exits2() throws Exception {
        Child c = run(null, "store", "check", dir.resolve("nothing").toString());

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(2);
        assertThat(c.stderr()).contains("no embedded store in");
    }

    @Test
    void revalidate_badUsage_exits2() throws Exception {
        Child noTarget = start(SECRET, "revalidate", "--url", "http://127.0.0.1:9");
        Child relative = start(SECRET, "revalidate", "--url", "http://127.0.0.1:9", "--path", "p/1");
        Child badUrl = start(SECRET, "revalidate", "--url", "127.0.0.1:9", "--path", "/p/1");

        assertThat(noTarget.exitWithin(Duration.ofSeconds(20)))
                .as(noTarget.describe())
                .isEqualTo(2);
        assertThat(noTarget.stderr()).contains("--path").contains("--tag");
        assertThat(relative.exitWithin(Duration.ofSeconds(20)))
                .as(relative.describe())
                .isEqualTo(2);
        assertThat(relative.stderr()).contains("p/1");
        assertThat(badUrl.exitWithin(Duration.ofSeconds(20)))
                .as(badUrl.describe())
                .isEqualTo(2);
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
        int port = Ports.freePort();

        Child c = run(SECRET, "revalidate", "--url", "http://127.0.0.1:" + port, "--path", "/p/1");

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(1);
        assertThat(c.stderr()).contains("cannot reach http://127.0.0.1:" + port).contains("connection refused");
    }

    // ------------------------------------------------------------------------------------ serving, SIGTERM

    @Test
    void serve_sigterm_servesThenExits0() throws Exception {
        DemoSite origin = origin(Duration.ZERO);
        int port = Ports.freePort();
        Child server = serve(origin, port, null);

        HttpResponse<String> first = send(port, "/posts/1");
        HttpResponse<String> second = send(port, "/posts/1");

        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(first)).isEqualTo("MISS");
        assertThat(cacheStatus(second)).isEqualTo("HIT");
        assertThat(second.body()).isEqualTo(first.body());
        assertThat(origin.renders("/posts/1")).isEqualTo(1);

        server.process.destroy(); // SIGTERM
        assertThat(server.exitWithin(Duration.ofSeconds(15)))
                .as(server.describe())
                .isEqualTo(0);
        assertThat(server.stderr()).as("no stack trace on a clean stop").doesNotContain("\tat ");
    }

    @Test
    void demoOrigin_regenServeInFrontOfIt_cachesItsPages_bothExit0OnSigterm() throws Exception {
        int originPort = Ports.freePort();
        Child demoOrigin = start(null, "demo-origin", "--port", String.valueOf(originPort), "--render-delay", "0");
        awaitListening(demoOrigin, originPort);
        int port = Ports.freePort();
        Path config = Files.writeString(dir.resolve("loopback.yaml"), "listen: 127.0.0.1:" + port + "\n");
        Child server = start(
                null,
                "serve",
                "--origin",
                "http://127.0.0.1:" + originPort,
                "--config",
                config.toString(),
                "--store",
                "memory");
        awaitListening(server, port);

        HttpResponse<String> first = send(port, "/posts/1");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(first)).isEqualTo("MISS");
        assertThat(first.body()).contains("Render #");
        assertThat(cacheStatus(send(port, "/posts/1"))).isEqualTo("HIT");

        server.process.destroy();
        demoOrigin.process.destroy();
        assertThat(server.exitWithin(Duration.ofSeconds(15)))
                .as(server.describe())
                .isEqualTo(0);
        assertThat(demoOrigin.exitWithin(Duration.ofSeconds(15)))
                .as(demoOrigin.describe())
                .isEqualTo(0);
        assertThat(demoOrigin.stderr()).contains("demo origin listening on http://127.0.0.1:" + originPort);
    }

    private static void awaitListening(Child c, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            if (!c.process.isAlive()) {
                fail("exited with " + c.process.exitValue() + c.describe());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    fail("nothing accepted connections on port " + port + " within 20 s" + c.describe());
                }
                Thread.sleep(50);
            }
        }
    }

    @Test
    void serve_sigtermDuringARender_finishesTheRequestThenExits0() throws Exception {
        DemoSite origin = origin(Duration.ofMillis(1500));
        int port = Ports.freePort();
        Child server = serve(origin, port, null);

        CompletableFuture<HttpResponse<String>> inFlight =
                http.sendAsync(get(port, "/posts/2"), HttpResponse.BodyHandlers.ofString());
        // rather than a fixed sleep: wait until the origin has begun the render (it counts, then sleeps)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (origin.renders("/posts/2") == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(origin.renders("/posts/2"))
                .as("the request reached the origin")
                .isEqualTo(1);
        assertThat(inFlight).as("the render takes 1.5 s").isNotDone();
        server.process.destroy(); // SIGTERM while the origin is still rendering

        HttpResponse<String> r = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("</html>");
        assertThat(server.exitWithin(Duration.ofSeconds(15)))
                .as(server.describe())
                .isEqualTo(0);
        assertThat(server.stderr()).as("no stack trace on a clean stop").doesNotContain("\tat ");
    }

    // ------------------------------------------------------------------- revalidate against a running server

    @Test
    void revalidate_path_exits0AndTheEntryIsStale() throws Exception {
        DemoSite origin = origin(Duration.ZERO);
        int port = Ports.freePort();
        serve(origin, port, SECRET);
        assertThat(cacheStatus(send(port, "/posts/1"))).isEqualTo("MISS");
        assertThat(cacheStatus(send(port, "/posts/1"))).isEqualTo("HIT");

        Child c = run(SECRET, "revalidate", "--url", "http://127.0.0.1:" + port, "--path", "/posts/1");

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(0);
        // read since its render: re-rendered at once (eager revalidation)
        assertThat(c.stdout())
                .startsWith(
                        "revalidated 1 entry (soft) for paths [/posts/1]; 1 with recent traffic " + "re-rendering now");
        assertThat(cacheStatus(send(port, "/posts/1"))).isIn("STALE", "HIT");
    }

    @Test
    void revalidate_hardByTag_exits0AndTheEntriesAreGone() throws Exception {
        DemoSite origin = origin(Duration.ZERO);
        int port = Ports.freePort();
        serve(origin, port, SECRET);
        send(port, "/posts/1");
        send(port, "/posts/2");
        Path secretFile = Files.writeString(dir.resolve("secret"), SECRET + "\n");

        // the file wins over a wrong $REGEN_SECRET
        Child c = run(
                "wrong-secret-0123456789abcdef",
                "revalidate",
                "--url",
                "http://127.0.0.1:" + port + "/",
                "--tag",
                "posts",
                "--hard",
                "--secret-file",
                secretFile.toString());

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(0);
        assertThat(c.stdout()).startsWith("revalidated 2 entries (hard) for tags [posts]");
        assertThat(cacheStatus(send(port, "/posts/1"))).isEqualTo("MISS");
    }

    @Test
    void revalidate_wrongSecret_exits1With401() throws Exception {
        DemoSite origin = origin(Duration.ZERO);
        int port = Ports.freePort();
        serve(origin, port, SECRET);
        send(port, "/posts/1");

        Child c = run(
                "wrong-secret-0123456789abcdef",
                "revalidate",
                "--url",
                "http://127.0.0.1:" + port,
                "--path",
                "/posts/1");

        assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(1);
        assertThat(c.stderr())
                .startsWith("regen: revalidation failed: HTTP 401: ")
                .doesNotContain("wrong-secret");
        assertThat(cacheStatus(send(port, "/posts/1")))
                .as("a rejected call changes nothing")
                .isEqualTo("HIT");
    }

    // ------------------------------------------------------------------------ start-up errors and notes

    @Test
    void unknownCommand_suggestsWhatWasMeant_exits2() throws Exception {
        Child version = start(null, "version");
        Child typo = start(null, "serv");
        Child option = start(null, "serve", "--revalidte", "5");

        assertThat(version.exitWithin(Duration.ofSeconds(20)))
                .as(version.describe())
                .isEqualTo(2);
        assertThat(version.stderr())
                .isEqualTo("regen: unknown command 'version'; did you mean 'regen --version'?\n"
                        + "See 'regen --help'.\n");
        assertThat(typo.exitWithin(Duration.ofSeconds(20))).isEqualTo(2);
        assertThat(typo.stderr()).startsWith("regen: unknown command 'serv'; did you mean 'regen serve'?\n");
        assertThat(option.exitWithin(Duration.ofSeconds(20))).isEqualTo(2);
        assertThat(option.stderr())
                .startsWith("regen: unknown option '--revalidte'; did you mean 'regen serve --revalidate'?\n");
    }

    @Test
    void help_noLineOver100Columns_noUrlBrokenAcrossLines() throws Exception {
        for (String command : new String[] {"serve", "demo", "revalidate", "warm"}) {
            Child c = run(null, command, "--help");

            assertThat(c.process.exitValue()).isEqualTo(0);
            String[] lines = c.stdout().split("\n");
            for (int i = 0; i < lines.length; i++) {
                assertThat(lines[i].length()).as(command + ": " + lines[i]).isLessThanOrEqualTo(Main.HELP_WIDTH);
                assertThat(lines[i])
                        .as(command + ": a URL ends the line and goes on in the next")
                        .doesNotMatch(".*https?://\\S*[.:/]$");
            }
        }
    }

    @Test
    void serve_portInUse_oneLineWithTheAddress_exits1() throws Exception {
        DemoSite origin = origin(Duration.ZERO);
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            Path config = Files.writeString(
                    dir.resolve("taken.yaml"),
                    "listen: 127.0.0.1:" + taken.getLocalPort() + "\nstore: memory\norigin: http://127.0.0.1:"
                            + origin.port() + "\n");

            Child c = run(null, "serve", "--config", config.toString());

            assertThat(c.process.exitValue()).as(c.describe()).isEqualTo(1);
            assertThat(c.stderr())
                    .isEqualTo("regen: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                            + ": the address is already in use: another process listens there (another Regen?); stop it or"
                            + " choose another port with --port (or listen: in the config)\n");
        }
    }

    @Test
    void serve_revalidateAsDuration_unreachableOriginWarns_noSecretNotes_keepsServing() throws Exception {
        int port = Ports.freePort();
        int deadOrigin = Ports.freePort();
        Path config = Files.writeString(dir.resolve("notes.yaml"), "listen: 127.0.0.1:" + port + "\nstore: memory\n");

        Child c = start(
                null,
                "serve",
                "--config",
                config.toString(),
                "--origin",
                "http://127.0.0.1:" + deadOrigin,
                "--revalidate",
                "5m");

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!(c.stderr().contains("unreachable") && c.stderr().contains("no secret set"))) {
            if (!c.process.isAlive() || System.nanoTime() > deadline) {
                fail("no start-up warnings" + c.describe());
            }
            Thread.sleep(50);
        }
        assertThat(c.stderr())
                .contains("(store memory, revalidate 5 min)")
                .contains("WARN  OriginHealth - the origin http://127.0.0.1:" + deadOrigin
                        + " is unreachable (connection to" + " 127.0.0.1:" + deadOrigin
                        + " refused); starting anyway: pages not cached yet get 502 until it is up")
                .contains(
                        "INFO  regen - no secret set: the revalidation webhook, the admin API and the dashboard are off"
                                + " (they answer 503); set REGEN_SECRET (or secret: in the config) to turn them on");
        assertThat(send(port, "/posts/1").statusCode()).isEqualTo(502);
        c.process.destroy();
        assertThat(c.exitWithin(Duration.ofSeconds(15))).isEqualTo(0);
    }

    @Test
    void serve_accessLogJson_stdoutCarriesOnlyJsonLines_theLogStaysOnStderr() throws Exception {
        DemoSite origin = origin(Duration.ZERO);
        int port = Ports.freePort();
        Path config = Files.writeString(
                dir.resolve("access.yaml"),
                "listen: 127.0.0.1:" + port + "\nstore: memory\naccess-log: json\norigin: http://127.0.0.1:"
                        + origin.port() + "\n");
        Child c = start(SECRET, "serve", "--config", config.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.stderr().contains("listening on")) {
            if (!c.process.isAlive() || System.nanoTime() > deadline) {
                fail("did not start" + c.describe());
            }
            Thread.sleep(50);
        }

        send(port, "/posts/1");
        send(port, "/posts/1");
        send(port, "/_regen/health");
        c.process.destroy();
        assertThat(c.exitWithin(Duration.ofSeconds(15))).isEqualTo(0);

        String[] lines = c.stdout().split("\n");
        assertThat(lines).hasSize(3);
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertThat(json.readTree(lines[0]).get("cache").asText()).isEqualTo("MISS");
        assertThat(json.readTree(lines[1]).get("cache").asText()).isEqualTo("HIT");
        assertThat(json.readTree(lines[2]).get("target").asText()).isEqualTo("/_regen/health");
        assertThat(c.stderr()).doesNotContain("\"target\"");
    }
}
