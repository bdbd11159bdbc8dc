package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.RegenConfig;
import dev.regen.server.config.Front;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 and TLS with real clients: curl ({@code --http2-prior-knowledge}, {@code --http2} over TLS)
 * and the JDK client, which negotiates h2 by ALPN. Same cache behaviour and fields as HTTP/1.1.
 */
class TlsHttp2IT {
    private final FakeClock clock = new FakeClock();
    private TestOrigin origin;
    private RegenServer server;

    @TempDir
    Path dir;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        origin.close();
    }

    private void serve(Front front) throws Exception {
        ServerConfig cfg = new ServerConfig(
                URI.create(origin.url()),
                "127.0.0.1",
                0,
                RegenConfig.builder().revalidate(Duration.ofSeconds(60)).build(),
                null,
                new StoreSpec.Memory(),
                16L << 20,
                Duration.ofSeconds(1),
                "/api/revalidate",
                false,
                ServerConfig.AccessLog.OFF,
                null,
                front);
        server = RegenServer.start(cfg, new MemoryStore(16L << 20, clock), clock);
    }

    /** A self-signed certificate for localhost, made by openssl. */
    private Front.Tls certificate(String name) throws Exception {
        Path cert = dir.resolve(name + "-cert.pem");
        Path key = dir.resolve(name + "-key.pem");
        Process p = new ProcessBuilder(
                        "openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:P-256",
                        "-nodes",
                        "-keyout",
                        key.toString(),
                        "-out",
                        cert.toString(),
                        "-subj",
                        "/CN=" + name,
                        "-days",
                        "2",
                        "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return new Front.Tls(cert, key);
    }

    /** curl's status line, protocol and the fields asked for, e.g. "2 200 HIT". */
    private String curl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "--max-time",
                "10",
                "-w",
                "%{http_version} %{http_code} %header{x-cache-status}|%header{cache-status}"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(20, TimeUnit.SECONDS);
        return out;
    }

    @Test
    void cleartextH2_priorKnowledge_missThenHitLikeHttp11() throws Exception {
        serve(Front.DEFAULTS);
        String url = "http://127.0.0.1:" + server.port() + "/p/h2c";
        assertThat(curl("--http2-prior-knowledge", url)).isEqualTo("2 200 MISS|regen; fwd=uri-miss; stored=true");
        assertThat(curl("--http2-prior-knowledge", url)).startsWith("2 200 HIT|regen; hit; ttl=");
        assertThat(curl("--http1.1", url)).startsWith("1.1 200 HIT|");
        assertThat(origin.renders("/p/h2c")).isEqualTo(1);
    }

    @Test
    void tls_h2AndHttp11_byAlpn_sameCacheBehaviour() throws Exception {
        serve(Front.DEFAULTS.withTls(certificate("localhost")));
        String url = "https://localhost:" + server.port() + "/p/tls";
        assertThat(curl("-k", "--http2", url)).isEqualTo("2 200 MISS|regen; fwd=uri-miss; stored=true");
        assertThat(curl("-k", "--http1.1", url)).startsWith("1.1 200 HIT|");
        // the certificate names localhost; trusting it is all this client needs (and it keeps its own ALPN)
        HttpClient jdk = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_2)
                .sslContext(trustAll())
                .build();
        HttpResponse<String> r =
                jdk.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(r.headers().firstValue("x-cache-status")).hasValue("HIT");
        assertThat(r.body()).isEqualTo("<p>/p/tls render 1</p>");
        assertThat(origin.renders("/p/tls")).isEqualTo(1);
    }

    @Test
    void tls_certificateReplaced_newConnectionsGetTheNewOne_withoutARestart() throws Exception {
        Front.Tls first = certificate("first.example");
        serve(Front.DEFAULTS.withTls(first));
        assertThat(servedName()).contains("first.example");
        Front.Tls second = certificate("second.example");
        Files.copy(second.certificate(), first.certificate(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(second.key(), first.key(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TlsContext.CHECK_SECONDS * 3);
        while (!servedName().contains("second.example") && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(servedName()).contains("second.example");
    }

    private String servedName() throws Exception {
        SSLContext ctx = trustAll();
        try (var socket = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", server.port())) {
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0])
                    .getSubjectX500Principal()
                    .getName();
        }
    }

    private static SSLContext trustAll() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(
                null,
                new TrustManager[] {
                    new X509TrustManager() {
                        @Override
                        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                        @Override
                        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                        @Override
                        public X509Certificate[] getAcceptedIssuers() {
                            return new X509Certificate[0];
                        }
                    }
                },
                new SecureRandom());
        return ctx;
    }
}
