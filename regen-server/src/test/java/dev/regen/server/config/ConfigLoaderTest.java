package dev.regen.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.regen.QueryPolicy;
import dev.regen.RouteRule;
import dev.regen.server.config.ConfigLoader.Overrides;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {

    private static final String SECRET = "0123456789abcdef0123";
    private static final String TOKEN = "preview-token-42";

    /** The example from DESIGN.md, verbatim. */
    private static final String DESIGN_EXAMPLE = """
            origin: http://127.0.0.1:4321
            listen: 0.0.0.0:8080
            host: www.example.com     # public host: in every cache key, sent to the origin as X-Forwarded-Host
            secret: ${REGEN_SECRET}
            revalidate: 60            # seconds, default for pages without a rule or origin header
            expire: null              # seconds after which a stale page is no longer served; null = never
            store: embedded:./.regen  # memory | embedded:DIR | redis://host:6379
            memory: 256MB             # L1 budget
            query: ignore-tracking    # all | none | ignore-tracking | [allowed, params]
            bypass-token: ${REGEN_BYPASS_TOKEN}   # X-Regen-Bypass header or regen_bypass cookie: fetch uncached
            timeouts: {connect: 2s, render: 30s}
            routes:
              - match: /blog/**
                revalidate: 300
                tags: [blog]
              - match: /account/**
                cache: false
            """;

    private static final String ORIGIN = "origin: http://127.0.0.1:4321\n";

    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("regen.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private ServerConfig load(String yaml) throws IOException {
        return ConfigLoader.load(write(yaml), Overrides.NONE, Map.of());
    }

    private ConfigException failure(String yaml) throws IOException {
        return failure(yaml, Map.of());
    }

    private ConfigException failure(String yaml, Map<String, String> env) throws IOException {
        Path file = write(yaml);
        return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, Overrides.NONE, env));
    }

    // ------------------------------------------------------------------------------------- good files

    @Test
    void load_designExample_givesEveryValue() throws IOException {
        ServerConfig c = ConfigLoader.load(
                write(DESIGN_EXAMPLE), Overrides.NONE, Map.of("REGEN_SECRET", SECRET, "REGEN_BYPASS_TOKEN", TOKEN));

        assertThat(c.origin()).isEqualTo(URI.create("http://127.0.0.1:4321"));
        assertThat(c.listenHost()).isEqualTo("0.0.0.0");
        assertThat(c.listenPort()).isEqualTo(8080);
        assertThat(c.secret()).isEqualTo(SECRET);
        assertThat(c.store()).isEqualTo(new StoreSpec.Embedded(Path.of("./.regen")));
        assertThat(c.memoryBytes()).isEqualTo(256L * 1024 * 1024);
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.webhookPath()).isEqualTo("/_regen/revalidate");
        assertThat(c.metricsPublic()).isFalse();
        assertThat(c.accessLog()).isEqualTo(ServerConfig.AccessLog.OFF);
        assertThat(c.front().hosts()).containsExactly("www.example.com");
        assertThat(c.front().scheme()).isNull();

        var e = c.engine();
        assertThat(e.revalidate()).isEqualTo(Duration.ofSeconds(60));
        assertThat(e.expire()).isNull();
        assertThat(e.query()).isEqualTo(QueryPolicy.IGNORE_TRACKING);
        assertThat(e.bypassToken()).isEqualTo(TOKEN);
        assertThat(e.renderTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(e.cacheableStatuses()).containsExactlyInAnyOrder(200, 203, 204, 300, 301, 308, 404, 410);
        assertThat(e.maxBodyBytes()).isEqualTo(8L * 1024 * 1024);
        assertThat(e.routes())
                .containsExactly(
                        new RouteRule("/blog/**", Duration.ofSeconds(300), List.of("blog"), true),
                        new RouteRule("/account/**", null, List.of(), false));
    }

    @Test
    void load_noFile_givesDefaults() {
        ServerConfig c = ConfigLoader.load(null, new Overrides("http://127.0.0.1:4321", null, null, null), Map.of());

        assertThat(c.origin()).isEqualTo(URI.create("http://127.0.0.1:4321"));
        assertThat(c.listenHost()).isEqualTo("0.0.0.0");
        assertThat(c.listenPort()).isEqualTo(8080);
        assertThat(c.secret()).isNull();
        assertThat(c.hasSecret()).isFalse();
        assertThat(c.store()).isEqualTo(new StoreSpec.Embedded(Path.of("./.regen")));
        assertThat(c.memoryBytes()).isEqualTo(256L << 20);
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.webhookPath()).isEqualTo("/_regen/revalidate");
        assertThat(c.metricsPublic()).isFalse();
        assertThat(c.accessLog()).isEqualTo(ServerConfig.AccessLog.OFF);
        assertThat(c.front()).isEqualTo(dev.regen.server.config.Front.DEFAULTS);
        assertThat(c.engine().revalidate()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.engine().expire()).isNull();
        assertThat(c.engine().query()).isEqualTo(QueryPolicy.IGNORE_TRACKING);
        assertThat(c.engine().cacheableStatuses()).containsExactlyInAnyOrder(200, 203, 204, 300, 301, 308, 404, 410);
        assertThat(c.engine().maxBodyBytes()).isEqualTo(8L << 20);
        assertThat(c.engine().routes()).isEmpty();
        assertThat(c.engine().bypassToken()).isNull();
    }

    @Test
    void load_emptyFile_givesDefaults() throws IOException {
        ServerConfig c = ConfigLoader.load(
                write("# nothing here\n"), new Overrides("http://o.test", null, null, null), Map.of());

        assertThat(c.listenPort()).isEqualTo(8080);
        assertThat(c.engine().revalidate()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void renders_readsEachField_andDefaults() throws IOException {
        ServerConfig c =
                load(ORIGIN + "renders: {budget: 8, background-queue: 50, refresh-ahead: 25%, eager-window: 30m}\n");
        assertThat(c.engine().renderBudget()).isEqualTo(8);
        assertThat(c.engine().backgroundQueue()).isEqualTo(50);
        assertThat(c.engine().refreshAhead()).isEqualTo(0.25);
        assertThat(c.engine().eagerWindow()).isEqualTo(Duration.ofMinutes(30));

        ServerConfig off = load(ORIGIN + "renders: {budget: auto, refresh-ahead: 0, eager-window: 0}\n");
        assertThat(off.engine().renderBudget()).isZero();
        assertThat(off.engine().refreshAhead()).isZero();
        assertThat(off.engine().eagerWindow()).isZero();

        ServerConfig defaults = load(ORIGIN);
        assertThat(defaults.engine().renderBudget()).isZero();
        assertThat(defaults.engine().refreshAhead()).isEqualTo(0.2);
        assertThat(defaults.engine().eagerWindow()).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void renders_badValues_nameTheField() throws IOException {
        assertThat(failure(ORIGIN + "renders: {refresh-ahead: 1.5}\n").field()).isEqualTo("renders.refresh-ahead");
        assertThat(failure(ORIGIN + "renders: {budget: lots}\n").field()).isEqualTo("renders.budget");
        assertThat(failure(ORIGIN + "renders: {eager-window: soon}\n").field()).isEqualTo("renders.eager-window");
        assertThat(failure(ORIGIN + "renders: {budgte: 4}\n").field()).isEqualTo("renders.budgte");
    }

    @Test
    void load_everyOtherField_isRead() throws IOException {
        ServerConfig c = load(ORIGIN + """
                scheme: https
                host: WWW.Example.com:8443
                expire: 1h
                store: redis://cache.internal:6380/2
                memory: 64KiB
                query: [page, q]
                cacheable-statuses: [200, 404]
                max-body: 1GB
                webhook-path: /hooks/regen
                metrics-public: true
                access-log: "true"
                access-log-file: /var/log/regen/access.log
                timeouts: {connect: 500ms, render: 5m}
                """);

        assertThat(c.front().scheme()).isEqualTo("https");
        assertThat(c.front().hosts()).containsExactly("www.example.com:8443");
        assertThat(c.engine().expire()).isEqualTo(Duration.ofHours(1));
        assertThat(c.store()).isEqualTo(new StoreSpec.Redis(URI.create("redis://cache.internal:6380/2")));
        assertThat(c.memoryBytes()).isEqualTo(64 * 1024);
        assertThat(c.engine().query()).isEqualTo(QueryPolicy.allowOnly(List.of("page", "q")));
        assertThat(c.engine().cacheableStatuses()).containsExactlyInAnyOrder(200, 404);
        assertThat(c.engine().maxBodyBytes()).isEqualTo(1L << 30);
        assertThat(c.webhookPath()).isEqualTo("/hooks/regen");
        assertThat(c.metricsPublic()).isTrue();
        assertThat(c.accessLog()).isEqualTo(ServerConfig.AccessLog.COMBINED);
        assertThat(c.accessLogFile()).isEqualTo(java.nio.file.Path.of("/var/log/regen/access.log"));
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.engine().renderTimeout()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void load_hostWithScheme_setsScheme() throws IOException {
        ServerConfig c = load(ORIGIN + "host: https://www.example.com/\n");

        assertThat(c.front().hosts()).containsExactly("www.example.com");
        assertThat(c.front().scheme()).isEqualTo("https");
    }

    @Test
    void load_hostSchemeContradictsScheme_namesScheme() throws IOException {
        assertThat(failure(ORIGIN + "host: https://www.example.com\nscheme: http\n")
                        .field())
                .isEqualTo("scheme");
    }

    @ParameterizedTest
    @CsvSource({
        "30,        PT30S",
        "'\"45\"',  PT45S",
        "500ms,     PT0.5S",
        "2s,        PT2S",
        "5m,        PT5M",
        "1h,        PT1H",
        "1d,        PT24H"
    })
    void load_durationSyntax_isParsed(String yaml, Duration expected) throws IOException {
        assertThat(load(ORIGIN + "revalidate: " + yaml + "\n").engine().revalidate())
                .isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({
        "1024,   1024",
        "64KiB,  65536",
        "64KB,   65536",
        "256MB,  268435456",
        "2MiB,   2097152",
        "1GB,    1073741824",
        "1GiB,   1073741824",
        "'10 MB', 10485760"
    })
    void load_sizeSyntax_is1024Based(String yaml, long expected) throws IOException {
        assertThat(load(ORIGIN + "memory: " + yaml + "\n").memoryBytes()).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({
        "'0.0.0.0:9000', 0.0.0.0,   9000",
        "'127.0.0.1:0',  127.0.0.1, 0",
        "':9001',        0.0.0.0,   9001",
        "9002,           0.0.0.0,   9002",
        "'\"9003\"',     0.0.0.0,   9003",
        "'\"[::1]:9004\"', ::1,     9004"
    })
    void load_listenForms_areParsed(String yaml, String host, int port) throws IOException {
        ServerConfig c = load(ORIGIN + "listen: " + yaml + "\n");

        assertThat(c.listenHost()).isEqualTo(host);
        assertThat(c.listenPort()).isEqualTo(port);
    }

    @Test
    void load_expireNever_isNull() throws IOException {
        assertThat(load(ORIGIN + "expire: never\n").engine().expire()).isNull();
        assertThat(load(ORIGIN + "expire:\n").engine().expire()).isNull();
    }

    @Test
    void load_queryWords_areParsed() throws IOException {
        assertThat(load(ORIGIN + "query: all\n").engine().query()).isEqualTo(QueryPolicy.ALL);
        assertThat(load(ORIGIN + "query: none\n").engine().query()).isEqualTo(QueryPolicy.NONE);
        assertThat(load(ORIGIN + "query: ignore-tracking\n").engine().query()).isEqualTo(QueryPolicy.IGNORE_TRACKING);
    }

    @Test
    void load_originWithTrailingSlash_isNormalised() throws IOException {
        assertThat(load("origin: HTTP://127.0.0.1:4321/\n").origin()).isEqualTo(URI.create("http://127.0.0.1:4321"));
    }

    // ----------------------------------------------------------------------------------- environment

    @Test
    void load_envVariables_areSubstitutedWithDefaults() throws IOException {
        Path file = write("""
                origin: http://${ORIGIN_HOST}:${ORIGIN_PORT:-4321}
                host: ${PUBLIC_HOST:-www.example.com}
                revalidate: ${REVALIDATE}
                webhook-path: /hook/$${literal}
                """);

        ServerConfig c = ConfigLoader.load(
                file, Overrides.NONE, Map.of("ORIGIN_HOST", "app", "REVALIDATE", "15", "PUBLIC_HOST", ""));

        assertThat(c.origin()).isEqualTo(URI.create("http://app:4321"));
        assertThat(c.front().hosts()).containsExactly("www.example.com");
        assertThat(c.engine().revalidate()).isEqualTo(Duration.ofSeconds(15));
        assertThat(c.webhookPath()).isEqualTo("/hook/${literal}");
    }

    @Test
    void load_missingEnvVariable_namesFieldAndVariable() throws IOException {
        ConfigException e = failure(DESIGN_EXAMPLE, Map.of("REGEN_SECRET", SECRET));

        assertThat(e.field()).isEqualTo("bypass-token");
        assertThat(e.getMessage()).contains("REGEN_BYPASS_TOKEN").contains("not set");
    }

    @Test
    void load_missingEnvVariableInRoute_namesRouteField() throws IOException {
        ConfigException e = failure(ORIGIN + "routes:\n  - match: /a/**\n    revalidate: ${ROUTE_TTL}\n");

        assertThat(e.field()).isEqualTo("routes[0].revalidate");
        assertThat(e.getMessage()).contains("ROUTE_TTL");
    }

    @Test
    void load_secretNotInFile_fallsBackToEnv() throws IOException {
        ServerConfig c = ConfigLoader.load(
                write(ORIGIN), Overrides.NONE, Map.of("REGEN_SECRET", SECRET, "REGEN_BYPASS_TOKEN", TOKEN));

        assertThat(c.secret()).isEqualTo(SECRET);
        assertThat(c.engine().bypassToken()).isEqualTo(TOKEN);
    }

    @Test
    void load_secretInFile_winsOverEnv() throws IOException {
        ServerConfig c = ConfigLoader.load(
                write(ORIGIN + "secret: file-secret-0123456789\n"), Overrides.NONE, Map.of("REGEN_SECRET", SECRET));

        assertThat(c.secret()).isEqualTo("file-secret-0123456789");
    }

    @Test
    void load_optionalEmptySecret_meansNone() throws IOException {
        assertThat(load(ORIGIN + "secret: ${REGEN_SECRET:-}\n").secret()).isNull();
    }

    @Test
    void load_shortSecret_isRejectedWithoutShowingIt() throws IOException {
        ConfigException e = failure(ORIGIN + "secret: hunter2\n");

        assertThat(e.field()).isEqualTo("secret");
        assertThat(e.getMessage()).contains("16").doesNotContain("hunter2");
    }

    @Test
    void load_shortSecretFromEnv_isRejected() throws IOException {
        ConfigException e = failure(ORIGIN, Map.of("REGEN_SECRET", "changeme"));

        assertThat(e.field()).isEqualTo("secret");
        assertThat(e.getMessage()).contains("REGEN_SECRET").doesNotContain("changeme");
    }

    @Test
    void load_secretWithTrailingNewline_isRejected() throws IOException {
        ConfigException e = failure(ORIGIN, Map.of("REGEN_SECRET", SECRET + "\n"));

        assertThat(e.field()).isEqualTo("secret");
        assertThat(e.getMessage()).contains("whitespace");
    }

    @Test
    void toString_hidesSecretAndBypassToken() throws IOException {
        ServerConfig c = ConfigLoader.load(
                write(ORIGIN), Overrides.NONE, Map.of("REGEN_SECRET", SECRET, "REGEN_BYPASS_TOKEN", TOKEN));

        assertThat(c.toString()).doesNotContain(SECRET).doesNotContain(TOKEN).contains("***");
    }

    // ------------------------------------------------------------------------------------------ flags

    @Test
    void load_flags_overrideFile() throws IOException {
        Path file = write("""
                origin: http://127.0.0.1:4321
                listen: 127.0.0.1:8080
                store: memory
                revalidate: 60
                """);

        ServerConfig c = ConfigLoader.load(
                file,
                new Overrides("https://origin.test:8443", 9090, "embedded:/var/lib/regen", Duration.ofSeconds(5)),
                Map.of());

        assertThat(c.origin()).isEqualTo(URI.create("https://origin.test:8443"));
        assertThat(c.listenHost()).isEqualTo("127.0.0.1"); // --port replaces only the port
        assertThat(c.listenPort()).isEqualTo(9090);
        assertThat(c.store()).isEqualTo(new StoreSpec.Embedded(Path.of("/var/lib/regen")));
        assertThat(c.engine().revalidate()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void load_badFlags_nameTheOption() {
        ConfigException origin = catchThrowableOfType(
                ConfigException.class,
                () -> ConfigLoader.load(null, new Overrides("ftp://x", null, null, null), Map.of()));
        ConfigException port = catchThrowableOfType(
                ConfigException.class,
                () -> ConfigLoader.load(null, new Overrides("http://x", 70000, null, null), Map.of()));
        ConfigException store = catchThrowableOfType(
                ConfigException.class,
                () -> ConfigLoader.load(null, new Overrides("http://x", null, "disk", null), Map.of()));
        ConfigException revalidate = catchThrowableOfType(
                ConfigException.class,
                () -> ConfigLoader.load(null, new Overrides("http://x", null, null, Duration.ofSeconds(-1)), Map.of()));

        assertThat(origin.field()).isEqualTo("origin");
        assertThat(origin.getMessage()).startsWith("option --origin:").contains("\"ftp://x\"");
        assertThat(port.field()).isEqualTo("listen");
        assertThat(port.getMessage()).startsWith("option --port:").contains("70000");
        assertThat(store.field()).isEqualTo("store");
        assertThat(store.getMessage()).startsWith("option --store:").contains("\"disk\"");
        assertThat(revalidate.field()).isEqualTo("revalidate");
        assertThat(revalidate.getMessage()).startsWith("option --revalidate:");
    }

    // ------------------------------------------------------------------------------------ bad fields

    @Test
    void load_unknownTopLevelField_namesItAndSuggests() throws IOException {
        ConfigException e = failure(ORIGIN + "revalidat: 30\n");

        assertThat(e.field()).isEqualTo("revalidat");
        assertThat(e.getMessage()).isEqualTo("config field 'revalidat': unknown field (did you mean 'revalidate'?)");
    }

    @Test
    void load_unknownFieldFarFromAny_listsKnownFields() throws IOException {
        ConfigException e = failure(ORIGIN + "colour: blue\n");

        assertThat(e.field()).isEqualTo("colour");
        assertThat(e.getMessage()).contains("unknown field").contains("origin").contains("routes");
    }

    @Test
    void load_snakeCaseField_suggestsKebabCase() throws IOException {
        ConfigException e = failure(ORIGIN + "bypass_token: x\n");

        assertThat(e.getMessage()).contains("did you mean 'bypass-token'");
    }

    @Test
    void load_unknownRouteField_namesItsPath() throws IOException {
        ConfigException e = failure(ORIGIN + """
                routes:
                  - match: /blog/**
                    revalidate: 300
                  - match: /news/**
                    revalidat: 30
                """);

        assertThat(e.field()).isEqualTo("routes[1].revalidat");
        assertThat(e.getMessage()).contains("routes[1].revalidat").contains("did you mean 'revalidate'");
    }

    @Test
    void load_unknownTimeoutsField_namesItsPath() throws IOException {
        assertThat(failure(ORIGIN + "timeouts: {read: 5s}\n").field()).isEqualTo("timeouts.read");
    }

    @Test
    void load_negativeRevalidate_namesFieldAndValue() throws IOException {
        ConfigException e = failure(ORIGIN + "revalidate: -5\n");

        assertThat(e.field()).isEqualTo("revalidate");
        assertThat(e.getMessage()).isEqualTo("config field 'revalidate': must be positive, got \"-5s\"");
    }

    @Test
    void load_zeroRouteRevalidate_namesRouteField() throws IOException {
        ConfigException e = failure(ORIGIN + "routes:\n  - match: /a\n    revalidate: 0s\n");

        assertThat(e.field()).isEqualTo("routes[0].revalidate");
        assertThat(e.getMessage()).contains("\"0s\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10x", "'5 minutes'", "1.5", "'1.5s'", "[1]", "true", "'99999999999999999999'"})
    void load_badDuration_namesFieldAndValue(String yaml) throws IOException {
        ConfigException e = failure(ORIGIN + "timeouts: {render: " + yaml + "}\n");

        assertThat(e.field()).isEqualTo("timeouts.render");
        assertThat(e.getMessage()).contains("duration").containsAnyOf("seconds", "500ms");
    }

    @Test
    void load_badSize_namesFieldAndValue() throws IOException {
        ConfigException e = failure(ORIGIN + "max-body: 8 megabytes\n");

        assertThat(e.field()).isEqualTo("max-body");
        assertThat(e.getMessage()).contains("\"8 megabytes\"");
        assertThat(failure(ORIGIN + "memory: 0\n").field()).isEqualTo("memory");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "disk",
                "embedded:",
                "redis://",
                "redis://host:99999",
                "redis://host/notanumber",
                "http://host:6379",
                "memory:",
                "embedded:./c?max-size=lots",
                "embedded:./c?max-size=10KB",
                "embedded:./c?size=10GB",
                "embedded:?max-size=10GB"
            })
    void load_badStore_namesStore(String store) throws IOException {
        ConfigException e = failure(ORIGIN + "store: \"" + store + "\"\n");

        assertThat(e.field()).isEqualTo("store");
    }

    @Test
    void load_badQuery_namesQuery() throws IOException {
        ConfigException word = failure(ORIGIN + "query: some\n");
        ConfigException empty = failure(ORIGIN + "query: []\n");
        ConfigException item = failure(ORIGIN + "query: [page, {a: b}]\n");

        assertThat(word.field()).isEqualTo("query");
        assertThat(word.getMessage()).contains("\"some\"").contains("ignore-tracking");
        assertThat(empty.field()).isEqualTo("query");
        assertThat(item.field()).isEqualTo("query[1]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"'host:'", "'localhost'", "'8080:80'", "70000", "'0.0.0.0:http'", "'a:b:c'", "[8080]"})
    void load_badListen_namesListen(String yaml) throws IOException {
        ConfigException e = failure(ORIGIN + "listen: " + yaml + "\n");

        assertThat(e.field()).isEqualTo("listen");
        assertThat(e.getMessage()).contains("HOST:PORT");
    }

    @Test
    void load_originMissing_namesOrigin() throws IOException {
        ConfigException e = failure("revalidate: 30\n");

        assertThat(e.field()).isEqualTo("origin");
        assertThat(e.getMessage()).contains("--origin");
        assertThat(catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(null, null, null))
                        .field())
                .isEqualTo("origin");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "127.0.0.1:4321",
                "ftp://host",
                "http://",
                "http://host/base",
                "http://host?x=1",
                "http://user:pw@host"
            })
    void load_badOrigin_namesOrigin(String origin) throws IOException {
        assertThat(failure("origin: \"" + origin + "\"\n").field()).isEqualTo("origin");
    }

    @Test
    void load_wrongTypes_nameFieldAndValue() throws IOException {
        ConfigException bool = failure(ORIGIN + "metrics-public: maybe\n");
        ConfigException routes = failure(ORIGIN + "routes: {match: /a}\n");
        ConfigException route = failure(ORIGIN + "routes: [/a]\n");
        ConfigException match = failure(ORIGIN + "routes:\n  - revalidate: 5\n");
        ConfigException globNoSlash = failure(ORIGIN + "routes:\n  - match: blog/**\n");
        ConfigException tag = failure(ORIGIN + "routes:\n  - match: /a\n    tags: [ok, 'two words']\n");
        ConfigException host = failure(ORIGIN + "host: 42\n");
        ConfigException status = failure(ORIGIN + "cacheable-statuses: [200, 99]\n");
        ConfigException timeouts = failure(ORIGIN + "timeouts: 5s\n");
        ConfigException hook = failure(ORIGIN + "webhook-path: api/revalidate\n");
        ConfigException reserved = failure(ORIGIN + "webhook-path: /_regen/hook\n");
        ConfigException scheme = failure(ORIGIN + "scheme: ftp\n");

        assertThat(bool.field()).isEqualTo("metrics-public");
        assertThat(bool.getMessage()).contains("\"maybe\"");
        assertThat(routes.field()).isEqualTo("routes");
        assertThat(route.field()).isEqualTo("routes[0]");
        assertThat(match.field()).isEqualTo("routes[0].match");
        assertThat(globNoSlash.field()).isEqualTo("routes[0].match");
        assertThat(globNoSlash.getMessage()).contains("\"blog/**\"");
        assertThat(tag.field()).isEqualTo("routes[0].tags");
        assertThat(tag.getMessage()).contains("\"two words\"");
        assertThat(host.field()).isEqualTo("host");
        assertThat(host.getMessage()).contains("quote it");
        assertThat(status.field()).isEqualTo("cacheable-statuses");
        assertThat(status.getMessage()).contains("\"99\"");
        assertThat(timeouts.field()).isEqualTo("timeouts");
        assertThat(hook.field()).isEqualTo("webhook-path");
        assertThat(reserved.field()).isEqualTo("webhook-path");
        assertThat(scheme.field()).isEqualTo("scheme");
    }

    // ----------------------------------------------------------------------------------- the file

    @Test
    void load_fileMissing_namesConfig() {
        Path missing = dir.resolve("nope.yaml");

        assertThatThrownBy(() -> ConfigLoader.load(missing, Overrides.NONE, Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.field()).isEqualTo("config");
                    assertThat(e.getMessage()).contains("nope.yaml").contains("not found");
                });
    }

    @Test
    void load_invalidYaml_namesConfigAndLine() throws IOException {
        ConfigException e = failure(ORIGIN + "routes: [\n  - match: /a\n");

        assertThat(e.field()).isEqualTo("config");
        assertThat(e.getMessage()).contains("not valid YAML").contains("line");
    }

    @Test
    void load_duplicateField_namesConfig() throws IOException {
        ConfigException e = failure(ORIGIN + "revalidate: 5\nrevalidate: 6\n");

        assertThat(e.field()).isEqualTo("config");
        assertThat(e.getMessage()).contains("revalidate");
    }

    @Test
    void load_notAMap_namesConfig() throws IOException {
        assertThat(failure("- origin: http://x\n").field()).isEqualTo("config");
    }

    // ---------------------------------------------------------------------------------- StoreSpec

    @Test
    void storeSpec_parse_acceptsEveryForm() {
        assertThat(StoreSpec.parse("memory")).isEqualTo(new StoreSpec.Memory());
        assertThat(StoreSpec.parse("embedded:data/regen")).isEqualTo(new StoreSpec.Embedded(Path.of("data/regen")));
        assertThat(StoreSpec.parse("embedded:data/regen?max-size=10GB"))
                .isEqualTo(new StoreSpec.Embedded(Path.of("data/regen"), 10L << 30));
        assertThat(StoreSpec.parse("redis://127.0.0.1:6379"))
                .isEqualTo(new StoreSpec.Redis(URI.create("redis://127.0.0.1:6379")));
        assertThat(StoreSpec.parse("redis://redis_cache:6379/1")).isInstanceOf(StoreSpec.Redis.class);
        assertThat(StoreSpec.parse("rediss://:pw@cache.example.com")).isInstanceOf(StoreSpec.Redis.class);
        // the README's forms: a Redis Cluster by its seed nodes, a Sentinel set by its master's name
        assertThat(StoreSpec.parse("redis://10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000"))
                .isEqualTo(new StoreSpec.Redis(URI.create("redis://10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000")));
        assertThat(StoreSpec.parse("redis-sentinel://s1:26379,s2:26379?sentinelMasterId=main"))
                .isInstanceOf(StoreSpec.Redis.class);
        assertThat(StoreSpec.parse("redis-sentinel://s1:26379#main")).isInstanceOf(StoreSpec.Redis.class);
    }

    @Test
    void load_storeStrict_requiresTheStoreAtStart() throws IOException {
        ServerConfig file = load(ORIGIN + "store: redis://cache:6379\nstore-strict: true\n");
        ServerConfig flag = ConfigLoader.load(
                write(ORIGIN + "store: redis://cache:6379\n"),
                new ConfigLoader.Overrides(null, null, null, null, true),
                Map.of());
        ServerConfig neither = load(ORIGIN + "store: redis://cache:6379\n");

        assertThat(file.store()).isEqualTo(new StoreSpec.Redis(URI.create("redis://cache:6379"), true));
        assertThat(flag.store()).isEqualTo(file.store());
        assertThat(neither.store()).isEqualTo(new StoreSpec.Redis(URI.create("redis://cache:6379"), false));
        assertThat(failure(ORIGIN + "store-strict: maybe\n").field()).isEqualTo("store-strict");
    }

    @Test
    void storeSpec_toString_hidesRedisPassword() {
        StoreSpec s = StoreSpec.parse("redis://user:s3cret@cache:6379/0");

        assertThat(s.toString()).doesNotContain("s3cret").isEqualTo("redis://***@cache:6379/0");
    }

    @Test
    void storeSpec_badRedisPort_doesNotShowPassword() {
        ConfigException e =
                catchThrowableOfType(ConfigException.class, () -> StoreSpec.parse("redis://:s3cret@cache:0"));

        assertThat(e.field()).isEqualTo("store");
        assertThat(e.getMessage()).doesNotContain("s3cret");
    }

    @Test
    void values_size_overflowIsRejected() {
        assertThat(Values.size("9999999999TB")).isNull();
        assertThat(Values.size("1TiB")).isEqualTo(1L << 40);
        assertThat(Values.duration("90")).isEqualTo(Duration.ofSeconds(90));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
        "true, COMBINED",
        "false, OFF",
        "text, COMBINED",
        "combined, COMBINED",
        "json, JSON",
        "off, OFF"
    })
    void load_accessLogFormats(String value, ServerConfig.AccessLog expected) throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("regen", ".yaml");
        java.nio.file.Files.writeString(f, "origin: http://127.0.0.1:4321\naccess-log: " + value + "\n");
        assertThat(ConfigLoader.load(f, null, java.util.Map.of()).accessLog()).isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    void load_accessLogUnknownFormat_namesField() throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("regen", ".yaml");
        java.nio.file.Files.writeString(f, "origin: http://127.0.0.1:4321\naccess-log: xml\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigLoader.load(f, null, java.util.Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("access-log")
                .hasMessageContaining("json");
    }

    @org.junit.jupiter.api.Test
    void load_accessLogFileWithoutFormat_namesBothFields() throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("regen", ".yaml");
        java.nio.file.Files.writeString(f, "origin: http://127.0.0.1:4321\naccess-log-file: /tmp/a.log\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigLoader.load(f, null, java.util.Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("access-log-file")
                .hasMessageContaining("access-log is off");
    }
}
