package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regen.RegenConfig;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The access log of a real server, for real requests, read back from its file. */
class AccessLogIT {
    /** Apache's combined format, as log tools parse it. */
    private static final Pattern COMBINED = Pattern.compile(
            "(\\S+) - - \\[(\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} \\+0000)] \"((?:[^\"\\\\]|\\\\.)*)\" (\\d{3}) (\\d+|-) "
                    + "\"((?:[^\"\\\\]|\\\\.)*)\" \"((?:[^\"\\\\]|\\\\.)*)\"");
    /** Strict JSON: one object per line, nothing after it. */
    private final ObjectMapper json = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final FakeClock clock = new FakeClock(Instant.parse("2026-11-26T15:09:30Z"));
    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private TestOrigin origin;
    private RegenServer server;

    @TempDir
    Path dir;

    @BeforeEach
    void origin() throws Exception {
        origin = new TestOrigin();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        origin.close();
    }

    private Path start(ServerConfig.AccessLog format) throws Exception {
        Path file = dir.resolve("logs").resolve("access.log");
        Files.createDirectories(file.getParent());
        ServerConfig cfg = new ServerConfig(
                URI.create(origin.url()),
                "127.0.0.1",
                0,
                RegenConfig.builder().revalidate(Duration.ofSeconds(60)).build(),
                "access-log-it-secret-0123456789",
                new StoreSpec.Memory(),
                16L << 20,
                Duration.ofSeconds(1),
                "/api/revalidate",
                false,
                format,
                file,
                dev.regen.server.config.Front.DEFAULTS);
        server = RegenServer.start(cfg, new MemoryStore(16L << 20, clock), clock);
        return file;
    }

    private HttpResponse<String> get(String target, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + target))
                .timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends {@code request} byte for byte on its own connection; returns the status (0 if the server just closed). */
    private int raw(byte[] request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request);
            out.flush();
            InputStream in = s.getInputStream();
            String head = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            return head.startsWith("HTTP/1.1 ") ? Integer.parseInt(head.substring(9, 12)) : 0;
        }
    }

    private static byte[] bytes(String latin1Head, byte... tail) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(latin1Head.getBytes(StandardCharsets.ISO_8859_1));
        b.writeBytes(tail);
        return b.toByteArray();
    }

    /** The requests every test sends: ordinary ones, then hostile targets and headers. */
    private List<Integer> traffic() throws Exception {
        List<Integer> statuses = new ArrayList<>();
        statuses.add(get("/blog/a?page=2").statusCode());
        statuses.add(get(
                        "/blog/a?page=2",
                        "User-Agent",
                        "Mozilla/5.0 (X11) \"quoted\" \\ back",
                        "Referer",
                        "https://example.com/from?x=\"1\"")
                .statusCode());
        statuses.add(http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/form"))
                                .POST(HttpRequest.BodyPublishers.ofString("a=1"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .statusCode());
        statuses.add(get("/_regen/health").statusCode());
        // quotes, a backslash, a raw UTF-8 "é" and U+2028 in the target; bytes that are not UTF-8 in a header
        statuses.add(raw(bytes("GET /p/\"q\"\\x/caf\u00c3\u00a9?s=\u00e2\u0080\u00a8 HTTP/1.1\r\nHost: h\r\n"
                + "User-Agent: bot\u00ff\u00fe \u00e2\u0082\u00ac\r\nConnection: close\r\n\r\n")));
        // control characters in a header and in the request line: bad requests, logged all the same
        statuses.add(raw(bytes("GET /p/ctl HTTP/1.1\r\nHost: h\r\nReferer: a\u0001b\r\nConnection: close\r\n\r\n")));
        statuses.add(raw(bytes("GET /x\u0001y\u001b[31m HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")));
        return statuses;
    }

    private List<String> lines(Path file) throws Exception {
        server.close(); // writes out what is queued
        server = null;
        byte[] all = Files.readAllBytes(file);
        String text = new String(all, StandardCharsets.UTF_8);
        assertThat(text.getBytes(StandardCharsets.UTF_8))
                .as("the file is valid UTF-8")
                .isEqualTo(all);
        assertThat(text).endsWith("\n");
        return List.of(text.split("\n"));
    }

    @Test
    void json_realRequests_oneStrictJsonObjectPerLine_withEveryField() throws Exception {
        Path file = start(ServerConfig.AccessLog.JSON);

        List<Integer> statuses = traffic();

        List<String> lines = lines(file);
        assertThat(lines).hasSize(statuses.size());
        List<JsonNode> records = new ArrayList<>();
        for (String line : lines) {
            records.add(json.readTree(line));
        }
        for (int i = 0; i < records.size(); i++) {
            JsonNode r = records.get(i);
            assertThat(r.fieldNames())
                    .toIterable()
                    .containsExactly(
                            "time",
                            "client",
                            "method",
                            "target",
                            "protocol",
                            "status",
                            "bytes",
                            "duration_ms",
                            "cache",
                            "host",
                            "referer",
                            "user_agent");
            // when the request arrived: the (fake) clock's now less the request's real duration
            assertThat(r.get("time").asText()).matches("2026-11-26T15:09:[0-2]\\d\\.\\d{3}Z");
            assertThat(r.get("client").asText()).isEqualTo("127.0.0.1");
            assertThat(r.get("status").asInt()).isEqualTo(statuses.get(i));
            assertThat(r.get("duration_ms").isNumber()).isTrue();
        }
        JsonNode miss = records.get(0);
        assertThat(miss.get("method").asText()).isEqualTo("GET");
        assertThat(miss.get("target").asText()).isEqualTo("/blog/a?page=2");
        assertThat(miss.get("protocol").asText()).isEqualTo("HTTP/1.1");
        assertThat(miss.get("cache").asText()).isEqualTo("MISS");
        assertThat(miss.get("bytes").asLong()).isEqualTo("<p>/blog/a render 1</p>".length());
        assertThat(miss.get("host").asText()).isEqualTo("127.0.0.1:" + serverPortOf(miss));
        assertThat(miss.get("referer").isNull()).isTrue();
        JsonNode hit = records.get(1);
        assertThat(hit.get("cache").asText()).isEqualTo("HIT");
        assertThat(hit.get("user_agent").asText()).isEqualTo("Mozilla/5.0 (X11) \"quoted\" \\ back");
        assertThat(hit.get("referer").asText()).isEqualTo("https://example.com/from?x=\"1\"");
        assertThat(records.get(2).get("method").asText()).isEqualTo("POST");
        assertThat(records.get(2).get("cache").asText()).isEqualTo("BYPASS");
        assertThat(records.get(3).get("target").asText()).isEqualTo("/_regen/health");
        assertThat(records.get(3).get("cache").isNull()).isTrue();
        JsonNode hostile = records.get(4);
        assertThat(hostile.get("target").asText()).isEqualTo("/p/\"q\"\\x/café?s=\u2028");
        assertThat(hostile.get("user_agent").asText()).isEqualTo("bot\u00ff\u00fe \u00e2\u0082\u00ac");
        assertThat(lines.get(4)).contains("\\u2028").doesNotContain("\u2028");
        assertThat(records.get(5).get("status").asInt()).isEqualTo(400);
        assertThat(records.get(6).get("status").asInt()).isEqualTo(400);
    }

    private static String serverPortOf(JsonNode r) {
        String host = r.get("host").asText();
        return host.substring(host.indexOf(':') + 1);
    }

    @Test
    void combined_realRequests_everyLineInTheFormat_hostileBytesEscaped() throws Exception {
        Path file = start(ServerConfig.AccessLog.COMBINED);

        List<Integer> statuses = traffic();

        List<String> lines = lines(file);
        assertThat(lines).hasSize(statuses.size());
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = COMBINED.matcher(lines.get(i));
            assertThat(m.matches()).as(lines.get(i)).isTrue();
            assertThat(m.group(1)).isEqualTo("127.0.0.1");
            assertThat(m.group(2)).matches("26/Nov/2026:15:09:[0-2]\\d \\+0000");
            assertThat(Integer.parseInt(m.group(4))).isEqualTo(statuses.get(i));
            assertThat(lines.get(i)).matches("[\\x20-\\x7e]+"); // printable ASCII only
        }
        assertThat(lines.get(0))
                .endsWith("\"GET /blog/a?page=2 HTTP/1.1\" 200 23 \"-\" \"Java-http-client/"
                        + System.getProperty("java.version") + "\"");
        assertThat(lines.get(1))
                .endsWith("\"https://example.com/from?x=\\\"1\\\"\" \"Mozilla/5.0 (X11) \\\"quoted\\\" \\\\ back\"");
        assertThat(lines.get(4))
                .contains("\"GET /p/\\\"q\\\"\\\\x/caf\\xc3\\xa9?s=\\xe2\\x80\\xa8 HTTP/1.1\"")
                .endsWith("\"bot\\xff\\xfe \\xe2\\x82\\xac\"");
    }

    @Test
    void file_cannotBeOpened_startFailsNamingIt() {
        Path file = dir.resolve("no-such-dir").resolve("access.log");
        ServerConfig cfg = new ServerConfig(
                URI.create(origin.url()),
                "127.0.0.1",
                0,
                RegenConfig.builder().build(),
                null,
                new StoreSpec.Memory(),
                16L << 20,
                Duration.ofSeconds(1),
                "/api/revalidate",
                false,
                ServerConfig.AccessLog.JSON,
                file,
                dev.regen.server.config.Front.DEFAULTS);

        assertThatThrownBy(() -> RegenServer.start(cfg, new MemoryStore(16L << 20, clock), clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("access-log-file: cannot append to " + file + ": no such directory");
    }
}
