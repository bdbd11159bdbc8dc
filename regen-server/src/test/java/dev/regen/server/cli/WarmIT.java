package dev.regen.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.regen.RegenConfig;
import dev.regen.server.RegenServer;
import dev.regen.server.config.Front;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.server.demo.DemoSite;
import dev.regen.store.MemoryStore;
import dev.regen.testing.Ports;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code regen warm} against a real Regen in front of the demo origin, which counts its renders. */
class WarmIT {
    private DemoSite site;
    private RegenServer server;
    private HttpServer sitemaps;

    @TempDir
    Path dir;

    @BeforeEach
    void start() throws Exception {
        site = DemoSite.start("127.0.0.1", 0, Duration.ofMillis(40));
        // the sitemap lists public URLs on another host: warm must request their paths through --url
        site.setPublicBase("https://www.example.com");
        ServerConfig cfg = new ServerConfig(
                URI.create("http://127.0.0.1:" + site.port()),
                "127.0.0.1",
                0,
                RegenConfig.builder().revalidate(Duration.ofSeconds(3600)).build(),
                null,
                new StoreSpec.Memory(),
                64L << 20,
                Duration.ofSeconds(1),
                "/api/revalidate",
                false,
                ServerConfig.AccessLog.OFF,
                null,
                Front.DEFAULTS);
        server = RegenServer.start(cfg, new MemoryStore(64L << 20, InstantSource.system()), InstantSource.system());
    }

    @AfterEach
    void stop() {
        if (sitemaps != null) {
            sitemaps.stop(0);
        }
        server.close();
        site.close();
    }

    private String proxy() {
        return "http://127.0.0.1:" + server.port();
    }

    private record Run(int exit, String out, String err) {}

    private static Run warm(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("regen: " + e.getMessage());
            return e instanceof Main.UsageError ? 2 : 1;
        });
        String[] all = new String[args.length + 1];
        all[0] = "warm";
        System.arraycopy(args, 0, all, 1, args.length);
        int exit = cli.execute(all);
        // the summary, for whoever reads the test's output
        System.out.println("$ regen " + String.join(" ", all) + "\n" + out + err);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void sitemap_rendersEveryPageOnce_atMostNConcurrently_thenAllFresh() {
        Run first = warm("--url", proxy(), "--sitemap", "/sitemap.xml", "--concurrency", "3");

        assertThat(first.exit()).as(first.out() + first.err()).isZero();
        assertThat(first.out())
                .contains("warming 51 pages through " + proxy() + ", 3 at a time")
                .containsPattern("rendered +51 ")
                .containsPattern("already cached +0 ")
                .containsPattern("failed +0");
        assertThat(site.renders("/")).isEqualTo(1);
        for (int i = 1; i <= DemoSite.POSTS; i++) {
            assertThat(site.renders("/posts/" + i)).as("/posts/" + i).isEqualTo(1);
        }
        assertThat(site.maxConcurrentRenders()).isLessThanOrEqualTo(3).isGreaterThanOrEqualTo(2);

        long before = site.totalRenders();
        Run second = warm("--url", proxy(), "--sitemap", "/sitemap.xml");

        assertThat(second.exit()).isZero();
        assertThat(second.out()).containsPattern("rendered +0").containsPattern("already cached +51 +HIT 51, STALE 0");
        assertThat(site.totalRenders()).isEqualTo(before);
    }

    @Test
    void concurrencyOne_neverTwoRendersAtOnce() {
        Run run = warm("--url", proxy(), "--sitemap", "/sitemap.xml", "--concurrency", "1");

        assertThat(run.exit()).isZero();
        assertThat(site.maxConcurrentRenders()).isEqualTo(1);
    }

    @Test
    void sitemapIndex_followed_childSitemapsReadFromTheIndexHost() throws Exception {
        sitemaps = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        String ns = "http://www.sitemaps.org/schemas/sitemap/0.9";
        serve(
                "/sitemap_index.xml",
                "<?xml version=\"1.0\"?><sitemapindex xmlns=\"" + ns + "\">"
                        + "<sitemap><loc>https://www.example.com/sitemap-1.xml</loc></sitemap>"
                        + "<sitemap><loc>https://www.example.com/sitemap-2.xml</loc></sitemap></sitemapindex>");
        serve(
                "/sitemap-1.xml",
                "<urlset xmlns=\"" + ns + "\"><url><loc>https://www.example.com/posts/1</loc></url>"
                        + "<url><loc>https://www.example.com/posts/2</loc></url></urlset>");
        serve(
                "/sitemap-2.xml",
                "<urlset xmlns=\"" + ns + "\"><url><loc>https://www.example.com/posts/3</loc></url></urlset>");
        sitemaps.start();

        Run run = warm(
                "--url",
                proxy(),
                "--sitemap",
                "http://127.0.0.1:" + sitemaps.getAddress().getPort() + "/sitemap_index.xml");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.err()).contains("read 3 sitemaps");
        assertThat(run.out()).containsPattern("rendered +3 ");
        assertThat(site.renders("/posts/1") + site.renders("/posts/2") + site.renders("/posts/3"))
                .isEqualTo(3);
    }

    private void serve(String path, String xml) {
        sitemaps.createContext(path, ex -> {
            byte[] body = xml.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/xml");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
    }

    @Test
    void pathsFile_failuresListedWithReasons_exit1() throws Exception {
        Path file = dir.resolve("paths.txt");
        Files.writeString(
                file, "# after the deploy\n/\n\n/posts/7\nhttps://www.example.com/posts/8?ref=x\n/nope\n/posts/7\n");

        Run run = warm("--url", proxy(), "--paths-file", file.toString(), "--concurrency", "2");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out())
                .contains("warming 4 pages")
                .containsPattern("rendered +3 ")
                .containsPattern("failed +1")
                .contains("/nope  HTTP 404");
        assertThat(site.renders("/posts/8")).isEqualTo(1);
    }

    @Test
    void unreachableServer_eachPageFailsWithReason_exit1() throws Exception {
        int free = Ports.freePort();
        Path file = dir.resolve("paths.txt");
        Files.writeString(file, "/\n/posts/1\n");

        Run run = warm("--url", "http://127.0.0.1:" + free, "--paths-file", file.toString(), "--timeout", "5");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).containsPattern("failed +2").contains("/posts/1  connection refused");
    }

    @Test
    void badUsage_exit2() throws IOException {
        assertThat(warm("--url", proxy()).exit()).isEqualTo(2);
        assertThat(warm("--url", proxy(), "--sitemap", "/s.xml", "--paths-file", "x")
                        .exit())
                .isEqualTo(2);
        Run run = warm("--url", proxy() + "/base", "--sitemap", "/sitemap.xml");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("--url must be just scheme, host and port");
        assertThat(warm("--url", proxy(), "--sitemap", "/sitemap.xml", "--concurrency", "0")
                        .exit())
                .isEqualTo(2);
        assertThat(warm(
                                "--url",
                                proxy(),
                                "--paths-file",
                                dir.resolve("missing.txt").toString())
                        .exit())
                .isEqualTo(2);
    }
}
