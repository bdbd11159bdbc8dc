package dev.regen.server.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.regen.QueryPolicy;
import dev.regen.RegenConfig;
import dev.regen.RouteRule;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the config file (YAML), the command-line flags and the environment into one checked
 * {@link ServerConfig}. Flags win over the file; the file wins over the environment fallbacks
 * ({@code REGEN_SECRET}, {@code REGEN_BYPASS_TOKEN}).
 *
 * <p>The YAML is read into a tree and walked by hand so that every problem is reported precisely: an
 * unknown field (at the top level, in {@code timeouts}, in a route) is an error naming its path, e.g.
 * {@code routes[1].revalidat}; a wrong type or a bad value is an error naming the field and the value
 * (secrets excepted). The first problem found is thrown as a {@link ConfigException}.
 *
 * <p>Value syntax:
 * <ul>
 *   <li>durations — a bare integer is seconds; or {@code 500ms}, {@code 2s}, {@code 5m}, {@code 1h},
 *       {@code 1d};</li>
 *   <li>sizes — a bare integer is bytes; or {@code 64KiB}, {@code 256MB}, {@code 1GiB}… (KB/MB/GB are
 *       1024-based too: {@code 1MB} = {@code 1MiB});</li>
 *   <li>{@code ${VAR}} in any string value is replaced by the environment variable {@code VAR} (unset:
 *       an error naming the field and the variable); {@code ${VAR:-default}} uses {@code default} when
 *       {@code VAR} is unset or empty; <code>$${</code> is a literal <code>${</code>;</li>
 *   <li>a field set to {@code null} (or left empty) is the same as a field not written, except
 *       {@code expire: null}, which is its default anyway: never.</li>
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class ConfigLoader {

    /** Environment variable read when the file sets no {@code secret}. */
    public static final String SECRET_ENV = "REGEN_SECRET";
    /** Environment variable read when the file sets no {@code bypass-token}. */
    public static final String BYPASS_TOKEN_ENV = "REGEN_BYPASS_TOKEN";

    private static final Set<String> TOP_LEVEL = orderedSet(
            "origin",
            "listen",
            "host",
            "hosts",
            "unlisted-host",
            "scheme",
            "trusted-proxies",
            "preserve-host",
            "secret",
            "revalidate",
            "expire",
            "error-revalidate",
            "store",
            "store-strict",
            "memory",
            "query",
            "preset",
            "unkeyed-query",
            "unkeyed-vary",
            "ignore-cookies",
            "max-variants",
            "hit-for-pass",
            "bypass-token",
            "timeouts",
            "limits",
            "renders",
            "tls",
            "h2c",
            "routes",
            "cacheable-statuses",
            "max-body",
            "webhook-path",
            "metrics-public",
            "access-log",
            "access-log-file");
    private static final Set<String> TIMEOUTS =
            orderedSet("connect", "render", "lock-wait", "header", "idle", "keep-alive");
    private static final Set<String> LIMITS = orderedSet("connections", "request-body", "request-line", "header-block");
    private static final Set<String> TLS = orderedSet("certificate", "key");
    private static final Set<String> RENDERS =
            orderedSet("budget", "background-queue", "refresh-ahead", "eager-window");
    private static final Set<String> ROUTE = orderedSet("match", "revalidate", "tags", "cache");

    private static final Pattern VAR_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern PUBLIC_HOST =
            Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+)(?::(\\d{1,5}))?");
    private static final Pattern TAG = Pattern.compile("[^\\s,]+");
    private static final Pattern PARAM = Pattern.compile("[^\\s&=#]+");

    /** Made when a file is read: the mapper takes ~0.1 s to come up, and flags alone need no parser. */
    private static final class Yaml {
        static final ObjectMapper MAPPER =
                new ObjectMapper(new YAMLFactory()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    private ConfigLoader() {}

    /**
     * A duration in the config file's syntax, for a flag that takes the same values: a bare number is
     * seconds; or {@code 500ms}, {@code 2s}, {@code 5m}, {@code 1h}, {@code 1d}.
     *
     * @throws IllegalArgumentException saying what is expected, when {@code text} is not one
     */
    public static Duration duration(String text) {
        Duration d = text == null ? null : Values.duration(text);
        if (d == null) {
            throw new IllegalArgumentException("must be a duration (seconds, or like 500ms, 2s, 5m, 1h), got "
                    + Values.quote(String.valueOf(text)));
        }
        return d;
    }

    /**
     * Command-line flags that override the file; each component is null when the flag was not given.
     *
     * @param origin     {@code --origin URL}
     * @param port       {@code --port N}: replaces only the port of {@code listen}
     * @param store      {@code --store memory | embedded:DIR | redis://HOST:PORT}
     * @param revalidate {@code --revalidate DURATION}
     * @param strictStore {@code --strict-store}: do not start without the store
     */
    public record Overrides(String origin, Integer port, String store, Duration revalidate, Boolean strictStore) {

        /** No flags given. */
        public static final Overrides NONE = new Overrides(null, null, null, null, null);

        /** Without {@code --strict-store}. */
        public Overrides(String origin, Integer port, String store, Duration revalidate) {
            this(origin, port, store, revalidate, null);
        }
    }

    /**
     * Loads the configuration.
     *
     * @param configFileOrNull the YAML file, or null for none (defaults plus flags plus environment)
     * @param flags            command-line overrides, or null for none
     * @param env              the environment (usually {@link System#getenv()}), or null for none
     * @return the checked configuration
     * @throws ConfigException naming the first bad field ({@code config} when the file is missing,
     *                         unreadable or not YAML)
     */
    public static ServerConfig load(Path configFileOrNull, Overrides flags, Map<String, String> env) {
        Overrides f = flags == null ? Overrides.NONE : flags;
        Map<String, String> e = env == null ? Map.of() : env;
        ObjectNode root = configFileOrNull == null ? JsonNodeFactory.instance.objectNode() : read(configFileOrNull);
        return new Reader(e).read(root, f);
    }

    // ---------------------------------------------------------------------------------------------- file

    private static ObjectNode read(Path file) {
        if (Files.isDirectory(file)) {
            throw ConfigException.file(file, "is a directory, not a YAML file", null);
        }
        JsonNode tree;
        try (InputStream in = Files.newInputStream(file)) {
            tree = Yaml.MAPPER.readTree(in);
        } catch (NoSuchFileException ex) {
            throw ConfigException.file(file, "not found", ex);
        } catch (JsonProcessingException ex) {
            throw ConfigException.file(file, "not valid YAML: " + describe(ex), ex);
        } catch (IOException ex) {
            throw ConfigException.file(file, "cannot be read: " + ex, ex);
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            return JsonNodeFactory.instance.objectNode(); // an empty file: all defaults
        }
        if (!tree.isObject()) {
            throw ConfigException.file(
                    file, "must be a YAML map of fields (origin: …, revalidate: …), got " + kind(tree), null);
        }
        return (ObjectNode) tree;
    }

    /**
     * SnakeYAML's message on one line: its sentences joined, then where the problem is, e.g.
     * {@code mapping values are not allowed here (line 1, column 5)}.
     */
    private static String describe(JsonProcessingException ex) {
        String original = ex.getOriginalMessage() == null ? ex.getClass().getSimpleName() : ex.getOriginalMessage();
        List<String> sentences = new ArrayList<>();
        String where = null;
        Matcher at =
                Pattern.compile("^\\s*in '[^']*', (line \\d+, column \\d+):").matcher("");
        for (String line : original.split("\\R")) {
            if (at.reset(line).find()) {
                where = at.group(1);
            } else if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
                sentences.add(line.strip());
            }
        }
        JsonLocation loc = ex.getLocation();
        if (where == null && loc != null && loc.getLineNr() > 0) {
            where = "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
        }
        return String.join("; ", sentences) + (where == null ? "" : " (" + where + ")");
    }

    // ------------------------------------------------------------------------------------------- walker

    /** One load: the environment plus the tree walk. */
    private static final class Reader {
        private final Map<String, String> env;

        Reader(Map<String, String> env) {
            this.env = env;
        }

        ServerConfig read(ObjectNode root, Overrides flags) {
            requireKnownFields(root, "", TOP_LEVEL);

            // origin ------------------------------------------------------------------------------
            URI origin = null;
            JsonNode n = field(root, "origin");
            if (n != null) {
                origin = parseOrigin(text(n, "origin"), "origin");
            }
            if (flags.origin() != null) {
                origin = asOption("--origin", () -> parseOrigin(flags.origin(), "origin"));
            }
            if (origin == null) {
                throw new ConfigException(
                        "origin", "is required: set 'origin' in the config file or pass --origin http://HOST:PORT");
            }

            // listen ------------------------------------------------------------------------------
            String listenHost = ServerConfig.DEFAULT_LISTEN_HOST;
            int listenPort = ServerConfig.DEFAULT_LISTEN_PORT;
            n = field(root, "listen");
            if (n != null) {
                String[] hp = parseListen(n);
                if (hp[0] != null) {
                    listenHost = hp[0];
                }
                listenPort = Integer.parseInt(hp[1]);
            }
            if (flags.port() != null) {
                if (flags.port() < 0 || flags.port() > 65535) {
                    throw ConfigException.option("listen", "--port", "must be 0..65535, got \"" + flags.port() + "\"");
                }
                listenPort = flags.port();
            }

            // engine ------------------------------------------------------------------------------
            RegenConfig.Builder engine = RegenConfig.builder();
            n = field(root, "revalidate");
            if (n != null) {
                engine.revalidate(positiveDuration(n, "revalidate"));
            }
            if (flags.revalidate() != null) {
                Duration d = flags.revalidate();
                if (d.isNegative() || d.isZero()) {
                    throw ConfigException.option(
                            "revalidate", "--revalidate", "must be a positive duration, got \"" + d.toSeconds() + "\"");
                }
                engine.revalidate(d);
            }
            n = field(root, "expire");
            if (n != null
                    && !(n.isTextual()
                            && interpolate(n.textValue(), "expire").strip().equals("never"))) {
                engine.expire(positiveDuration(n, "expire"));
            }
            n = field(root, "query");
            if (n != null) {
                engine.query(parseQuery(n));
            }
            n = field(root, "cacheable-statuses");
            if (n != null) {
                engine.cacheableStatuses(parseStatuses(n));
            }
            n = field(root, "max-body");
            if (n != null) {
                engine.maxBodyBytes(positiveSize(n, "max-body"));
            }
            engine.bypassToken(bypassToken(field(root, "bypass-token")));
            n = field(root, "error-revalidate");
            if (n != null) {
                engine.errorRevalidate(positiveDuration(n, "error-revalidate"));
            }
            n = field(root, "hit-for-pass");
            if (n != null) {
                engine.hitForPass(positiveDuration(n, "hit-for-pass"));
            }
            n = field(root, "max-variants");
            if (n != null) {
                engine.maxVariants(positiveInt(n, "max-variants"));
            }
            n = field(root, "ignore-cookies");
            if (n != null) {
                List<String> patterns = names(n, "ignore-cookies", "a list of cookie names or prefixes ending in *");
                try {
                    engine.cookies(new dev.regen.internal.http.CookieRules(patterns));
                } catch (IllegalArgumentException ex) {
                    throw new ConfigException("ignore-cookies", ex.getMessage().replaceFirst("^ignore-cookies: ", ""));
                }
            }
            n = field(root, "unkeyed-query");
            if (n != null) {
                engine.unkeyedParams(new LinkedHashSet<>(names(n, "unkeyed-query", "a list of query parameter names")));
            }
            n = field(root, "unkeyed-vary");
            if (n != null) {
                engine.unkeyedVary(new LinkedHashSet<>(names(n, "unkeyed-vary", "a list of request field names")));
            }
            n = field(root, "preset");
            if (n != null) {
                String name = text(n, "preset").strip();
                dev.regen.Preset preset = dev.regen.Preset.of(name);
                if (preset == null) {
                    throw new ConfigException(
                            "preset",
                            "must be one of "
                                    + java.util.Arrays.stream(dev.regen.Preset.values())
                                            .map(dev.regen.Preset::configName)
                                            .toList()
                                    + ", got " + Values.quote(name));
                }
                engine.preset(preset);
            }

            Duration connectTimeout = ServerConfig.DEFAULT_CONNECT_TIMEOUT;
            Front front = Front.DEFAULTS;
            n = field(root, "renders");
            if (n != null) {
                ObjectNode r = object(n, "renders", "{budget: auto, refresh-ahead: 0.2, eager-window: 10m}");
                requireKnownFields(r, "renders.", RENDERS);
                JsonNode v = field(r, "budget");
                if (v != null) {
                    String text = v.isIntegralNumber()
                            ? v.asText()
                            : text(v, "renders.budget").strip();
                    engine.renderBudget(text.equalsIgnoreCase("auto") ? 0 : positiveInt(v, "renders.budget"));
                }
                v = field(r, "background-queue");
                if (v != null) {
                    String text = v.isIntegralNumber()
                            ? v.asText()
                            : text(v, "renders.background-queue").strip();
                    engine.backgroundQueue(text.equals("0") ? 0 : positiveInt(v, "renders.background-queue"));
                }
                v = field(r, "refresh-ahead");
                if (v != null) {
                    engine.refreshAhead(fraction(v, "renders.refresh-ahead"));
                }
                v = field(r, "eager-window");
                if (v != null) {
                    boolean off = v.isIntegralNumber()
                            ? v.asLong() == 0
                            : v.isTextual() && v.textValue().strip().matches("0+(ms|s|m|h|d)?");
                    engine.eagerWindow(off ? Duration.ZERO : positiveDuration(v, "renders.eager-window"));
                }
            }
            n = field(root, "timeouts");
            if (n != null) {
                ObjectNode t = object(
                        n,
                        "timeouts",
                        "{connect: 2s, render: 30s, lock-wait: 5s, header: 10s, idle: 60s, keep-alive: 75s}");
                requireKnownFields(t, "timeouts.", TIMEOUTS);
                JsonNode c = field(t, "connect");
                if (c != null) {
                    connectTimeout = positiveDuration(c, "timeouts.connect");
                }
                JsonNode r = field(t, "render");
                if (r != null) {
                    engine.renderTimeout(positiveDuration(r, "timeouts.render"));
                }
                JsonNode w = field(t, "lock-wait");
                if (w != null) {
                    engine.lockWait(positiveDuration(w, "timeouts.lock-wait"));
                }
                JsonNode header = field(t, "header");
                JsonNode idle = field(t, "idle");
                JsonNode keepAlive = field(t, "keep-alive");
                front = front.withTimeouts(
                        header == null ? front.headerTimeout() : positiveDuration(header, "timeouts.header"),
                        idle == null ? front.idleTimeout() : positiveDuration(idle, "timeouts.idle"),
                        keepAlive == null
                                ? front.keepAliveTimeout()
                                : positiveDuration(keepAlive, "timeouts.keep-alive"));
            }
            front = readFront(root, front);
            n = field(root, "routes");
            if (n != null) {
                engine.routes(parseRoutes(n));
            }
            RegenConfig engineConfig;
            try {
                engineConfig = engine.build();
            } catch (IllegalArgumentException ex) {
                throw fromCore(ex, "config");
            }

            // the rest ----------------------------------------------------------------------------
            String secret = secret(field(root, "secret"));

            StoreSpec store = StoreSpec.DEFAULT;
            n = field(root, "store");
            if (n != null) {
                store = StoreSpec.parse(text(n, "store"));
            }
            if (flags.store() != null) {
                store = asOption("--store", () -> StoreSpec.parse(flags.store()));
            }
            n = field(root, "store-strict");
            if (Boolean.TRUE.equals(flags.strictStore()) || (n != null && bool(n, "store-strict"))) {
                store = store.requiredAtStart();
            }

            long memory = ServerConfig.DEFAULT_MEMORY_BYTES;
            n = field(root, "memory");
            if (n != null) {
                memory = positiveSize(n, "memory");
            }

            String webhookPath = ServerConfig.DEFAULT_WEBHOOK_PATH;
            n = field(root, "webhook-path");
            if (n != null) {
                webhookPath = parseWebhookPath(text(n, "webhook-path"));
            }

            boolean metricsPublic = false;
            n = field(root, "metrics-public");
            if (n != null) {
                metricsPublic = bool(n, "metrics-public");
            }
            ServerConfig.AccessLog accessLog = ServerConfig.AccessLog.OFF;
            n = field(root, "access-log");
            if (n != null) {
                accessLog = accessLog(n);
            }
            Path accessLogFile = null;
            n = field(root, "access-log-file");
            if (n != null) {
                String path = text(n, "access-log-file").strip();
                if (path.isEmpty()) {
                    throw new ConfigException("access-log-file", "must be a file path, got \"\"");
                }
                accessLogFile = Path.of(path);
            }

            return new ServerConfig(
                    origin,
                    listenHost,
                    listenPort,
                    engineConfig,
                    secret,
                    store,
                    memory,
                    connectTimeout,
                    webhookPath,
                    metricsPublic,
                    accessLog,
                    accessLogFile,
                    front);
        }

        /** Public hosts, trusted proxies, limits and TLS. */
        private Front readFront(ObjectNode root, Front front) {
            List<String> hosts = new ArrayList<>();
            String scheme = null;
            JsonNode n = field(root, "host");
            JsonNode list = field(root, "hosts");
            if (n != null && list != null) {
                throw new ConfigException("hosts", "set either host (one public host) or hosts (several), not both");
            }
            if (n != null) {
                String[] hostAndScheme = parsePublicHost(text(n, "host"), "host");
                hosts.add(hostAndScheme[0]);
                scheme = hostAndScheme[1];
            }
            if (list != null) {
                if (!list.isArray() || list.isEmpty()) {
                    throw new ConfigException(
                            "hosts",
                            "must be a list of public host names, e.g. [www.example.com, " + "example.com], got "
                                    + describe(list));
                }
                for (int i = 0; i < list.size(); i++) {
                    String[] hostAndScheme = parsePublicHost(text(list.get(i), "hosts[" + i + "]"), "hosts[" + i + "]");
                    hosts.add(hostAndScheme[0]);
                    if (hostAndScheme[1] != null) {
                        scheme = hostAndScheme[1];
                    }
                }
            }
            n = field(root, "scheme");
            if (n != null) {
                String s = text(n, "scheme");
                if (!s.equals("http") && !s.equals("https")) {
                    throw new ConfigException("scheme", "must be http or https, got " + Values.quote(s));
                }
                if (scheme != null && !scheme.equals(s)) {
                    throw new ConfigException(
                            "scheme", "is " + s + " but host says " + scheme + "://; keep one of them");
                }
                scheme = s;
            }
            String unlisted = null;
            n = field(root, "unlisted-host");
            if (n != null) {
                if (hosts.isEmpty()) {
                    throw new ConfigException("unlisted-host", "needs hosts: to say which hosts are listed");
                }
                unlisted = parsePublicHost(text(n, "unlisted-host"), "unlisted-host")[0];
            }
            TrustedProxies trusted = TrustedProxies.NONE;
            n = field(root, "trusted-proxies");
            if (n != null) {
                List<String> entries =
                        names(n, "trusted-proxies", "a list of addresses or CIDR ranges, e.g. [10.0.0.0/8]");
                for (int i = 0; i < entries.size(); i++) {
                    try {
                        TrustedProxies.parse(List.of(entries.get(i)));
                    } catch (IllegalArgumentException ex) {
                        throw new ConfigException("trusted-proxies[" + i + "]", ex.getMessage());
                    }
                }
                trusted = TrustedProxies.parse(entries);
            }
            boolean preserveHost = false;
            n = field(root, "preserve-host");
            if (n != null) {
                preserveHost = bool(n, "preserve-host");
            }
            int connections = front.maxConnections();
            long requestBody = front.maxRequestBody();
            int requestLine = front.maxRequestLine();
            int headerBlock = front.maxHeaderBlock();
            n = field(root, "limits");
            if (n != null) {
                ObjectNode l = object(n, "limits", "{connections: 10000, request-body: 4GiB}");
                requireKnownFields(l, "limits.", LIMITS);
                JsonNode v = field(l, "connections");
                if (v != null) {
                    connections = positiveInt(v, "limits.connections");
                }
                v = field(l, "request-body");
                if (v != null) {
                    requestBody = positiveSize(v, "limits.request-body");
                }
                v = field(l, "request-line");
                if (v != null) {
                    requestLine = (int) Math.min(Integer.MAX_VALUE, positiveSize(v, "limits.request-line"));
                }
                v = field(l, "header-block");
                if (v != null) {
                    headerBlock = (int) Math.min(Integer.MAX_VALUE, positiveSize(v, "limits.header-block"));
                }
            }
            Front.Tls tls = null;
            n = field(root, "tls");
            if (n != null) {
                ObjectNode t = object(n, "tls", "{certificate: /etc/regen/cert.pem, key: /etc/regen/key.pem}");
                requireKnownFields(t, "tls.", TLS);
                tls = new Front.Tls(
                        readableFile(field(t, "certificate"), "tls.certificate"),
                        readableFile(field(t, "key"), "tls.key"));
            }
            boolean h2c = front.h2c();
            n = field(root, "h2c");
            if (n != null) {
                h2c = bool(n, "h2c");
            }
            return new Front(
                    hosts,
                    unlisted,
                    trusted,
                    preserveHost,
                    scheme,
                    connections,
                    requestBody,
                    requestLine,
                    headerBlock,
                    front.headerTimeout(),
                    front.idleTimeout(),
                    front.keepAliveTimeout(),
                    tls,
                    h2c);
        }

        private java.nio.file.Path readableFile(JsonNode n, String field) {
            if (n == null) {
                throw new ConfigException(field, "is required with tls:");
            }
            java.nio.file.Path p = java.nio.file.Path.of(text(n, field));
            if (!Files.isReadable(p)) {
                throw new ConfigException(field, "cannot be read: " + Values.quote(p.toString()));
            }
            return p;
        }

        /** A list of non-empty strings. */
        private List<String> names(JsonNode n, String field, String what) {
            if (!n.isArray()) {
                throw new ConfigException(field, "must be " + what + ", got " + describe(n));
            }
            List<String> out = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) {
                String v = text(n.get(i), field + "[" + i + "]").strip();
                if (v.isEmpty() || v.contains(" ")) {
                    throw new ConfigException(
                            field + "[" + i + "]", "must be one name without spaces, got " + Values.quote(v));
                }
                out.add(v);
            }
            return out;
        }

        /** A fraction from 0 to below 1, as a number ({@code 0.2}) or a percentage ({@code 20%}). */
        private double fraction(JsonNode n, String field) {
            String text = n.isNumber() ? n.asText() : text(n, field).strip();
            String hint = "must be a fraction from 0 to below 1 (like 0.2) or a percentage (like 20%), got "
                    + Values.quote(text);
            double v;
            try {
                v = text.endsWith("%")
                        ? Double.parseDouble(
                                        text.substring(0, text.length() - 1).strip())
                                / 100
                        : Double.parseDouble(text);
            } catch (NumberFormatException e) {
                throw new ConfigException(field, hint);
            }
            if (!(v >= 0 && v < 1)) {
                throw new ConfigException(field, hint);
            }
            return v;
        }

        private int positiveInt(JsonNode n, String field) {
            String text = n.isIntegralNumber() ? n.asText() : text(n, field).strip();
            if (!text.matches("\\d{1,9}") || Integer.parseInt(text) < 1) {
                throw new ConfigException(field, "must be a positive whole number, got " + Values.quote(text));
            }
            return Integer.parseInt(text);
        }

        // ---------------------------------------------------------------------------- fields

        private URI parseOrigin(String text, String field) {
            String hint = "must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:4321, got "
                    + Values.quote(text);
            URI uri;
            try {
                uri = new URI(text.strip());
            } catch (URISyntaxException ex) {
                throw new ConfigException(field, hint);
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")
                    || uri.getHost() == null
                    || uri.getHost().isEmpty()) {
                throw new ConfigException(field, hint);
            }
            if (uri.getRawUserInfo() != null) {
                throw new ConfigException(field, "must not contain user:password@, got a URL with credentials");
            }
            // The proxy maps request paths 1:1 onto the origin; a base path would be silently ignored.
            if (uri.getRawPath() != null
                            && !uri.getRawPath().isEmpty()
                            && !uri.getRawPath().equals("/")
                    || uri.getRawQuery() != null
                    || uri.getRawFragment() != null) {
                throw new ConfigException(
                        field,
                        "must be scheme://host[:port] without a path, query or fragment, got " + Values.quote(text));
            }
            return URI.create(scheme + "://" + uri.getRawAuthority());
        }

        /** {HOST or null, PORT} from {@code HOST:PORT}, {@code :PORT} or {@code PORT}. */
        private String[] parseListen(JsonNode n) {
            String text;
            if (n.isIntegralNumber()) {
                text = n.asText();
            } else if (n.isTextual()) {
                text = interpolate(n.textValue(), "listen").strip();
            } else {
                throw new ConfigException(
                        "listen", "must be HOST:PORT, :PORT or PORT (port 0..65535), got " + describe(n));
            }
            String bad = "must be HOST:PORT, :PORT or PORT (port 0..65535), got " + Values.quote(text);
            String host;
            String port;
            if (text.matches("\\d+")) {
                host = null;
                port = text;
            } else if (text.startsWith("[")) { // [::1]:8080
                int close = text.indexOf("]:");
                if (close < 0) {
                    throw new ConfigException("listen", bad);
                }
                host = text.substring(1, close);
                port = text.substring(close + 2);
            } else {
                int colon = text.lastIndexOf(':');
                if (colon < 0 || text.indexOf(':') != colon) {
                    throw new ConfigException("listen", bad);
                }
                host = colon == 0 ? null : text.substring(0, colon);
                port = text.substring(colon + 1);
            }
            // A host name or IPv4 address (not all digits: "8080:80" is a mistake), or an IPv6 address.
            if (host != null
                    && !host.matches("[A-Za-z0-9._-]*[A-Za-z._-][A-Za-z0-9._-]*")
                    && !(text.startsWith("[") && host.matches("[0-9A-Fa-f:.%a-z]+"))) {
                throw new ConfigException("listen", bad);
            }
            if (!port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
                throw new ConfigException("listen", bad);
            }
            return new String[] {host, String.valueOf(Integer.parseInt(port))};
        }

        /** {host[:port] lower-cased, scheme or null} from {@code host} or {@code https://host}. */
        private String[] parsePublicHost(String text, String field) {
            String t = text.strip();
            String scheme = null;
            String lower = t.toLowerCase(Locale.ROOT);
            for (String s : new String[] {"http", "https"}) {
                if (lower.startsWith(s + "://")) {
                    scheme = s;
                    t = t.substring(s.length() + 3);
                    if (t.endsWith("/")) {
                        t = t.substring(0, t.length() - 1);
                    }
                }
            }
            Matcher m = PUBLIC_HOST.matcher(t);
            if (!m.matches()
                    || m.group(2) != null
                            && (Integer.parseInt(m.group(2)) < 1 || Integer.parseInt(m.group(2)) > 65535)) {
                throw new ConfigException(
                        field,
                        "must be the public host name (with an optional :port), e.g. " + "www.example.com, got "
                                + Values.quote(text));
            }
            return new String[] {t.toLowerCase(Locale.ROOT), scheme};
        }

        private QueryPolicy parseQuery(JsonNode n) {
            String bad = "must be all, none, ignore-tracking or a list of parameter names, got ";
            if (n.isArray()) {
                List<String> names = new ArrayList<>();
                for (int i = 0; i < n.size(); i++) {
                    String f = "query[" + i + "]";
                    String name = text(n.get(i), f).strip();
                    if (!PARAM.matcher(name).matches()) {
                        throw new ConfigException(f, "must be a query parameter name, got " + Values.quote(name));
                    }
                    names.add(name);
                }
                if (names.isEmpty()) {
                    throw new ConfigException("query", bad + "an empty list (use none to ignore every parameter)");
                }
                return QueryPolicy.allowOnly(names);
            }
            if (!n.isTextual()) {
                throw new ConfigException("query", bad + describe(n));
            }
            String v = interpolate(n.textValue(), "query").strip();
            return switch (v) {
                case "all" -> QueryPolicy.ALL;
                case "none" -> QueryPolicy.NONE;
                case "ignore-tracking" -> QueryPolicy.IGNORE_TRACKING;
                default -> throw new ConfigException("query", bad + Values.quote(v));
            };
        }

        private Set<Integer> parseStatuses(JsonNode n) {
            if (!n.isArray()) {
                throw new ConfigException(
                        "cacheable-statuses", "must be a list of HTTP statuses like [200, 404], got " + describe(n));
            }
            Set<Integer> statuses = new LinkedHashSet<>();
            for (int i = 0; i < n.size(); i++) {
                String f = "cacheable-statuses[" + i + "]";
                JsonNode s = n.get(i);
                String text = s.isIntegralNumber() ? s.asText() : text(s, f).strip();
                if (!text.matches("\\d{3}") || Integer.parseInt(text) < 200) {
                    throw new ConfigException(f, "must be an HTTP status 200..599, got " + Values.quote(text));
                }
                statuses.add(Integer.parseInt(text));
            }
            if (statuses.isEmpty()) {
                throw new ConfigException(
                        "cacheable-statuses",
                        "must list at least one status (use a route with cache: false to stop caching)");
            }
            return statuses;
        }

        private List<RouteRule> parseRoutes(JsonNode n) {
            if (!n.isArray()) {
                throw new ConfigException("routes", "must be a list of rules (- match: /blog/**), got " + describe(n));
            }
            List<RouteRule> rules = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) {
                String p = "routes[" + i + "]";
                ObjectNode r = object(n.get(i), p, "{match: /blog/**, revalidate: 300}");
                requireKnownFields(r, p + ".", ROUTE);
                JsonNode m = field(r, "match");
                if (m == null) {
                    throw new ConfigException(
                            p + ".match", "is required: the path glob this rule applies to, e.g. /blog/**");
                }
                String match = text(m, p + ".match").strip();
                if (!match.startsWith("/")) {
                    throw new ConfigException(
                            p + ".match", "must be a path glob starting with /, got " + Values.quote(match));
                }
                JsonNode rv = field(r, "revalidate");
                Duration revalidate = rv == null ? null : positiveDuration(rv, p + ".revalidate");
                List<String> tags = new ArrayList<>();
                JsonNode t = field(r, "tags");
                if (t != null) {
                    if (!t.isArray()) {
                        throw new ConfigException(
                                p + ".tags", "must be a list of tags like [blog], got " + describe(t));
                    }
                    for (int j = 0; j < t.size(); j++) {
                        String tf = p + ".tags[" + j + "]";
                        String tag = text(t.get(j), tf).strip();
                        // Tags arrive comma/space separated in Cache-Tag: such a tag could never match.
                        if (!TAG.matcher(tag).matches()) {
                            throw new ConfigException(
                                    tf, "must be a tag without spaces or commas, got " + Values.quote(tag));
                        }
                        tags.add(tag);
                    }
                }
                JsonNode c = field(r, "cache");
                boolean cache = c == null || bool(c, p + ".cache");
                try {
                    rules.add(new RouteRule(match, revalidate, tags, cache));
                } catch (IllegalArgumentException ex) {
                    throw fromCore(ex, p);
                }
            }
            return rules;
        }

        private String parseWebhookPath(String text) {
            String v = text.strip();
            if (!v.startsWith("/") || !v.matches("/[^\\s?#]*")) {
                throw new ConfigException(
                        "webhook-path", "must be a path starting with / (no spaces, ? or #), got " + Values.quote(v));
            }
            if ((v.equals("/_regen") || v.startsWith("/_regen/")) && !v.equals(ServerConfig.DEFAULT_WEBHOOK_PATH)) {
                throw new ConfigException(
                        "webhook-path",
                        "must be " + ServerConfig.DEFAULT_WEBHOOK_PATH
                                + " or a path outside /_regen/ (Regen's own pages), got " + Values.quote(v));
            }
            return v;
        }

        /** The file's {@code secret}, else {@code $REGEN_SECRET}; empty means none. Never shown in messages. */
        private String secret(JsonNode n) {
            String source;
            String value;
            if (n != null) {
                source = "";
                value = secretText(n, "secret");
            } else {
                source = " (from environment variable " + SECRET_ENV + ")";
                value = env.get(SECRET_ENV);
            }
            if (value == null || value.isEmpty()) {
                return null;
            }
            if (!value.equals(value.strip())) {
                throw new ConfigException(
                        "secret",
                        "must not start or end with whitespace" + source + " (a trailing newline from a secret file?)");
            }
            if (value.length() < ServerConfig.MIN_SECRET_LENGTH) {
                throw new ConfigException(
                        "secret",
                        "must be at least " + ServerConfig.MIN_SECRET_LENGTH + " characters, got " + value.length()
                                + source + "; generate one with: openssl rand -hex 32");
            }
            return value;
        }

        /** The file's {@code bypass-token}, else {@code $REGEN_BYPASS_TOKEN}; empty means none. Never shown. */
        private String bypassToken(JsonNode n) {
            String source;
            String value;
            if (n != null) {
                source = "";
                value = secretText(n, "bypass-token");
            } else {
                source = " (from environment variable " + BYPASS_TOKEN_ENV + ")";
                value = env.get(BYPASS_TOKEN_ENV);
            }
            if (value == null || value.isEmpty()) {
                return null;
            }
            // It travels as a header value and as a cookie value (RFC 6265 cookie-octet).
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\') {
                    throw new ConfigException(
                            "bypass-token",
                            "may only contain visible ASCII characters other than " + "\" , ; \\" + source);
                }
            }
            return value;
        }

        // ---------------------------------------------------------------------------- typed values

        /** A string value, interpolated; a number or boolean is refused (unquoted YAML may change it). */
        private String text(JsonNode n, String field) {
            if (!n.isTextual()) {
                String hint = n.isValueNode() ? " (quote it: \"" + Values.shorten(n.asText()) + "\")" : "";
                throw new ConfigException(field, "must be a string, got " + describe(n) + hint);
            }
            return interpolate(n.textValue(), field);
        }

        /** Like {@link #text} but never echoes the value. */
        private String secretText(JsonNode n, String field) {
            if (!n.isTextual()) {
                throw new ConfigException(field, "must be a string (quote it in YAML), got " + kind(n));
            }
            return interpolate(n.textValue(), field);
        }

        private Duration positiveDuration(JsonNode n, String field) {
            String text;
            Duration d;
            if (n.isIntegralNumber()) {
                text = n.asText();
                d = n.canConvertToLong() ? Duration.ofSeconds(n.longValue()) : null;
            } else if (n.isTextual()) {
                text = interpolate(n.textValue(), field).strip();
                d = Values.duration(text);
            } else if (n.isNumber()) {
                throw new ConfigException(
                        field,
                        "must be a duration in whole seconds, or a string like 500ms, got " + Values.quote(n.asText()));
            } else {
                throw new ConfigException(
                        field, "must be a duration (seconds, or like 500ms, 2s, 5m, 1h), got " + describe(n));
            }
            if (d == null) {
                throw new ConfigException(
                        field, "must be a duration (seconds, or like 500ms, 2s, 5m, 1h), got " + Values.quote(text));
            }
            if (d.isNegative() || d.isZero()) {
                throw new ConfigException(field, "must be a positive duration, got " + Values.quote(text));
            }
            return d;
        }

        private long positiveSize(JsonNode n, String field) {
            String text;
            Long bytes;
            if (n.isIntegralNumber()) {
                text = n.asText();
                bytes = n.canConvertToLong() ? n.longValue() : null;
            } else if (n.isTextual()) {
                text = interpolate(n.textValue(), field).strip();
                bytes = Values.size(text);
            } else {
                throw new ConfigException(
                        field, "must be a size (bytes, or like 64KiB, 256MB, 1GB), got " + describe(n));
            }
            if (bytes == null) {
                throw new ConfigException(
                        field, "must be a size (bytes, or like 64KiB, 256MB, 1GB), got " + Values.quote(text));
            }
            if (bytes <= 0) {
                throw new ConfigException(field, "must be a positive size, got " + Values.quote(text));
            }
            return bytes;
        }

        /** The format's name, or {@code true}/{@code false}; {@code text} is the older name of combined. */
        private ServerConfig.AccessLog accessLog(JsonNode n) {
            String field = "access-log";
            if (n.isBoolean()) {
                return n.booleanValue() ? ServerConfig.AccessLog.COMBINED : ServerConfig.AccessLog.OFF;
            }
            if (n.isTextual()) {
                String v = interpolate(n.textValue(), field).strip();
                switch (v) {
                    case "true", "combined", "text" -> {
                        return ServerConfig.AccessLog.COMBINED;
                    }
                    case "false", "off" -> {
                        return ServerConfig.AccessLog.OFF;
                    }
                    case "json" -> {
                        return ServerConfig.AccessLog.JSON;
                    }
                    default -> {}
                }
                throw new ConfigException(field, "must be off, combined or json, got " + Values.quote(v));
            }
            throw new ConfigException(field, "must be off, combined or json, got " + describe(n));
        }

        private boolean bool(JsonNode n, String field) {
            if (n.isBoolean()) {
                return n.booleanValue();
            }
            if (n.isTextual()) {
                String v = interpolate(n.textValue(), field).strip();
                if (v.equals("true") || v.equals("false")) {
                    return Boolean.parseBoolean(v);
                }
                throw new ConfigException(field, "must be true or false, got " + Values.quote(v));
            }
            throw new ConfigException(field, "must be true or false, got " + describe(n));
        }

        private ObjectNode object(JsonNode n, String field, String example) {
            if (!n.isObject()) {
                throw new ConfigException(field, "must be a map like " + example + ", got " + describe(n));
            }
            return (ObjectNode) n;
        }

        /** Replaces {@code ${VAR}} and {@code ${VAR:-default}}; {@code $${} stays a literal {@code ${}. */
        private String interpolate(String s, String field) {
            if (s.indexOf('$') < 0) {
                return s;
            }
            StringBuilder out = new StringBuilder();
            int i = 0;
            while (i < s.length()) {
                if (s.startsWith("$${", i)) {
                    out.append("${");
                    i += 3;
                } else if (s.startsWith("${", i)) {
                    int end = s.indexOf('}', i + 2);
                    if (end < 0) {
                        throw new ConfigException(field, "has ${ without a closing }: " + Values.quote(s));
                    }
                    String expr = s.substring(i + 2, end);
                    int sep = expr.indexOf(":-");
                    String name = sep < 0 ? expr : expr.substring(0, sep);
                    String fallback = sep < 0 ? null : expr.substring(sep + 2);
                    if (!VAR_NAME.matcher(name).matches()) {
                        throw new ConfigException(
                                field,
                                "has a bad variable name in ${" + Values.shorten(expr)
                                        + "}; write ${NAME} or ${NAME:-default}");
                    }
                    String value = env.get(name);
                    if (value == null || fallback != null && value.isEmpty()) {
                        if (fallback == null) {
                            throw new ConfigException(
                                    field,
                                    "environment variable " + name + " is not set (write ${" + name
                                            + ":-} to make it optional)");
                        }
                        value = fallback;
                    }
                    out.append(value);
                    i = end + 1;
                } else {
                    out.append(s.charAt(i));
                    i++;
                }
            }
            return out.toString();
        }
    }

    // ---------------------------------------------------------------------------------------- helpers

    /** The field's node, or null when absent or {@code null}. */
    private static JsonNode field(ObjectNode node, String name) {
        JsonNode n = node.get(name);
        return n == null || n.isNull() ? null : n;
    }

    private static void requireKnownFields(ObjectNode node, String prefix, Set<String> known) {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                String suggestion = suggest(name, known);
                throw new ConfigException(
                        prefix + name,
                        "unknown field"
                                + (suggestion != null
                                        ? " (did you mean '" + suggestion + "'?)"
                                        : "; known fields: " + String.join(", ", known)));
            }
        }
    }

    /**
     * The known name closest to a misspelt one, if close enough, else null: case, {@code -} and
     * {@code _} aside, or a few letters off. Also what the command line suggests for a mistyped command.
     */
    public static String suggest(String name, Set<String> known) {
        String norm = name.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            if (k.replace("-", "").equals(norm)) {
                return k; // bypass_token, bypassToken, BYPASS-TOKEN …
            }
            int d = distance(name.toLowerCase(Locale.ROOT), k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return bestDistance <= Math.max(1, Math.min(3, name.length() / 3)) ? best : null;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** A value for a message: scalars quoted, containers by kind. */
    private static String describe(JsonNode n) {
        return n.isValueNode() ? Values.quote(n.asText()) : kind(n);
    }

    private static String kind(JsonNode n) {
        if (n.isArray()) {
            return "a list";
        }
        if (n.isObject()) {
            return "a map";
        }
        if (n.isBoolean()) {
            return "a boolean";
        }
        if (n.isNumber()) {
            return "a number";
        }
        return "a " + n.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    /** Runs a flag's parser and reports its problem as the flag's, not the file field's. */
    private static <T> T asOption(String option, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (ConfigException ex) {
            throw ConfigException.option(ex.field(), option, ex.problem());
        }
    }

    /**
     * The core's constructors name their field in the message ({@code "timeouts.render must be …"});
     * this maps it back to the config field so that even a check we missed names the right field.
     */
    private static ConfigException fromCore(IllegalArgumentException ex, String fallbackField) {
        String msg = String.valueOf(ex.getMessage());
        String[][] prefixes = {
            {"revalidate", "revalidate"},
            {"expire", "expire"},
            {"error-revalidate", "error-revalidate"},
            {"hit-for-pass", "hit-for-pass"},
            {"max-variants", "max-variants"},
            {"cacheable-statuses", "cacheable-statuses"},
            {"max-body", "max-body"},
            {"timeouts.render", "timeouts.render"},
            {"query", "query"},
            {"routes[].match", ".match"},
            {"routes[].revalidate", ".revalidate"}
        };
        for (String[] p : prefixes) {
            if (msg.startsWith(p[0])) {
                String field = p[1].startsWith(".") ? fallbackField + p[1] : p[1];
                String problem = msg.substring(p[0].length()).replaceFirst("^[:\\s]+", "");
                return new ConfigException(field, problem.isEmpty() ? msg : problem);
            }
        }
        return new ConfigException(fallbackField, msg);
    }

    private static Set<String> orderedSet(String... names) {
        return Collections.unmodifiableSet(new LinkedHashSet<>(List.of(names)));
    }
}
