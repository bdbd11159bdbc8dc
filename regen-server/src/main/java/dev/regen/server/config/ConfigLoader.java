package dev.regen.server.config;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.type.TypeFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.regen.InvalidConfigException;
import dev.regen.Preset;
import dev.regen.QueryPolicy;
import dev.regen.Regen;
import dev.regen.RegenConfig;
import dev.regen.RouteRule;
import dev.regen.internal.http.CookieRules;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.commons.text.StringSubstitutor;
import org.apache.commons.text.similarity.LevenshteinDistance;

/**
 * Reads the config file (YAML), the command-line flags and the environment into one checked
 * {@link ServerConfig}. Flags win over the file; the file wins over the environment fallbacks
 * ({@code REGEN_SECRET}, {@code REGEN_BYPASS_TOKEN}).
 *
 * <p>Jackson binds the YAML to the records below, strictly: an unknown field, a duplicate or a wrong type
 * is an error naming its path, e.g. {@code routes[1].revalidat}. The values are then checked once, by the
 * records they end up in ({@link RegenConfig}, {@link RouteRule}, {@link QueryPolicy}, {@link ServerConfig},
 * {@link Front}); whichever complains, the problem is thrown as a {@link ConfigException} naming the field
 * and the value (secrets excepted).
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
 *   <li>a field set to {@code null} (or left empty) is the same as a field not written.</li>
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class ConfigLoader {

    /** Environment variable read when the file sets no {@code secret}. */
    public static final String SECRET_ENV = "REGEN_SECRET";
    /** Environment variable read when the file sets no {@code bypass-token}. */
    public static final String BYPASS_TOKEN_ENV = "REGEN_BYPASS_TOKEN";

    private static final String DURATION = "a duration (seconds, or like 500ms, 2s, 5m, 1h)";
    private static final String SIZE = "a size (bytes, or like 64KiB, 256MB, 1GB)";
    private static final Pattern LISTEN =
            Pattern.compile("(?:(\\[[0-9A-Fa-f:.%a-z]+]|[\\w.-]*[A-Za-z._-][\\w.-]*)?:)?(\\d{1,5})");
    private static final Pattern PUBLIC_HOST =
            Pattern.compile("(?i)(?:(https?)://)?((?:\\[[0-9a-f:.]+]|[\\w.-]+)(?::(\\d{1,5}))?)/?");

    /** Made when first used: the mapper takes ~0.1 s to come up. */
    private static final class Yaml {
        static final ObjectMapper MAPPER = YAMLMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
                // a string written unquoted as a number or boolean may not be what YAML reads back
                .withCoercionConfig(
                        LogicalType.Textual,
                        c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
                .addModule(new SimpleModule()
                        .addDeserializer(Duration.class, new Scalar<>(DURATION, Values::duration))
                        .addDeserializer(
                                ServerConfig.AccessLog.class,
                                new Scalar<>("off, combined or json", ConfigLoader::accessLog)))
                .build();
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
            throw new IllegalArgumentException("must be " + DURATION + ", got " + Values.quote(String.valueOf(text)));
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

        /** The config fields these flags set, with the flag's name. */
        Map<String, String> fields() {
            Map<String, String> given = new HashMap<>();
            if (origin != null) {
                given.put("origin", "--origin");
            }
            if (port != null) {
                given.put("listen", "--port");
            }
            if (store != null) {
                given.put("store", "--store");
            }
            if (revalidate != null) {
                given.put("revalidate", "--revalidate");
            }
            return given;
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
        JsonNode tree = configFileOrNull == null
                ? JsonNodeFactory.instance.objectNode()
                : substitute(read(configFileOrNull), "", e);
        FileConfig file;
        try {
            file = Yaml.MAPPER.treeToValue(tree, FileConfig.class);
        } catch (JsonMappingException ex) {
            throw problem(ex);
        } catch (JsonProcessingException ex) {
            throw ConfigException.file(configFileOrNull, "cannot be read: " + ex.getOriginalMessage(), ex);
        }
        String field;
        String problem;
        try {
            return assemble(file, f, e);
        } catch (InvalidConfigException ex) {
            field = ex.field();
            problem = ex.reason();
        } catch (ConfigException ex) {
            field = ex.field();
            problem = ex.problem();
        }
        // Said in the terms of where the bad value came from: a flag, the environment or the file.
        String flag = f.fields().get(field);
        if (flag != null) {
            throw ConfigException.option(field, flag, problem);
        }
        String variable = field.equals("secret") && file.secret() == null
                ? SECRET_ENV
                : field.equals("bypass-token") && file.bypassToken() == null ? BYPASS_TOKEN_ENV : null;
        throw new ConfigException(
                field, variable == null ? problem : problem + " (from environment variable " + variable + ")");
    }

    // ---------------------------------------------------------------------------------------------- file

    private static JsonNode read(Path file) {
        if (Files.isDirectory(file)) {
            throw ConfigException.file(file, "is a directory, not a YAML file", null);
        }
        JsonNode tree;
        try (InputStream in = Files.newInputStream(file)) {
            tree = Yaml.MAPPER.readTree(in);
        } catch (NoSuchFileException ex) {
            throw ConfigException.file(file, "not found", ex);
        } catch (JsonProcessingException ex) {
            // SnakeYAML's sentences on one line, then where: "mapping values are not allowed here (line 1, column 5)"
            String said = String.valueOf(ex.getOriginalMessage())
                    .lines()
                    .filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0)))
                    .collect(Collectors.joining("; "));
            var at = ex.getLocation();
            String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            throw ConfigException.file(file, "not valid YAML: " + said + where, ex);
        } catch (IOException ex) {
            throw ConfigException.file(file, "cannot be read: " + ex, ex);
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            return JsonNodeFactory.instance.objectNode(); // an empty file: all defaults
        }
        if (!tree.isObject()) {
            throw ConfigException.file(
                    file, "must be a YAML map of fields (origin: …, revalidate: …), got a list", null);
        }
        return tree;
    }

    /** Replaces {@code ${…}} in every string of the tree; {@code path} names the field in errors. */
    private static JsonNode substitute(JsonNode n, String path, Map<String, String> env) {
        if (n.isTextual()) {
            return TextNode.valueOf(substitute(n.textValue(), path, env));
        }
        if (n instanceof ObjectNode o) {
            o.properties()
                    .forEach(e -> e.setValue(
                            substitute(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), env)));
        }
        if (n instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                a.set(i, substitute(a.get(i), path + "[" + i + "]", env));
            }
        }
        return n;
    }

    /** {@code ${VAR:-default}} falls back when VAR is unset or empty (as in a shell), hence the lookup. */
    private static String substitute(String text, String field, Map<String, String> env) {
        String[] unset = {null};
        StringSubstitutor substitutor = new StringSubstitutor(key -> {
            int sep = key.indexOf(":-");
            String value = env.get(sep < 0 ? key : key.substring(0, sep));
            if (sep >= 0 && (value == null || value.isEmpty())) {
                return key.substring(sep + 2);
            }
            unset[0] = key;
            return value;
        });
        substitutor.setValueDelimiterMatcher(null); // the lookup reads the default itself
        substitutor.setDisableSubstitutionInValues(true);
        substitutor.setEnableUndefinedVariableException(true);
        try {
            return substitutor.replace(text);
        } catch (IllegalArgumentException ex) {
            throw new ConfigException(
                    field,
                    "environment variable " + unset[0] + " is not set (write ${" + unset[0]
                            + ":-} to make it optional)");
        }
    }

    // ------------------------------------------------------------------------------------ the file's shape

    /** The file as written; null: not written. */
    private record FileConfig(
            String origin,
            @JsonDeserialize(using = ListenValue.class) Listen listen,
            String host,
            List<String> hosts,
            String unlistedHost,
            String scheme,
            List<String> trustedProxies,
            Boolean preserveHost,
            String secret,
            Duration revalidate,
            @JsonDeserialize(using = ExpireValue.class) Optional<Duration> expire,
            Duration errorRevalidate,
            String store,
            Boolean storeStrict,
            @JsonDeserialize(using = SizeValue.class) Long memory,
            @JsonDeserialize(using = QueryValue.class) QueryPolicy query,
            String preset,
            Set<String> unkeyedQuery,
            Set<String> unkeyedVary,
            List<String> ignoreCookies,
            Integer maxVariants,
            Duration hitForPass,
            String bypassToken,
            Timeouts timeouts,
            Limits limits,
            Renders renders,
            Tls tls,
            Boolean h2c,
            List<Route> routes,
            Set<Integer> cacheableStatuses,
            @JsonDeserialize(using = SizeValue.class) Long maxBody,
            String webhookPath,
            Boolean metricsPublic,
            ServerConfig.AccessLog accessLog,
            String accessLogFile) {
        @SuppressWarnings("UnusedMethod") // Jackson calls it
        FileConfig {
            timeouts = requireNonNullElse(timeouts, new Timeouts(null, null, null, null, null, null));
            limits = requireNonNullElse(limits, new Limits(null, null, null, null));
            renders = requireNonNullElse(renders, new Renders(null, null, null, null));
        }
    }

    private record Listen(String host, int port) {}

    private record Timeouts(
            Duration connect, Duration render, Duration lockWait, Duration header, Duration idle, Duration keepAlive) {}

    private record Limits(
            Integer connections,
            @JsonDeserialize(using = SizeValue.class) Long requestBody,
            @JsonDeserialize(using = SizeValue.class) Long requestLine,
            @JsonDeserialize(using = SizeValue.class) Long headerBlock) {}

    private record Renders(
            @JsonDeserialize(using = BudgetValue.class) Integer budget,
            Integer backgroundQueue,
            @JsonDeserialize(using = FractionValue.class) Double refreshAhead,
            Duration eagerWindow) {}

    private record Tls(String certificate, String key) {}

    private record Route(String match, Duration revalidate, List<String> tags, Boolean cache) {}

    /**
     * A value written as a YAML scalar (string or number) in the syntax {@code parse} reads; null from
     * {@code parse}: not in it. Jackson adds the field's path to the exception.
     */
    private static class Scalar<T> extends JsonDeserializer<T> {
        private final String expected;
        private final Function<String, T> parse;

        Scalar(String expected, Function<String, T> parse) {
            this.expected = expected;
            this.parse = parse;
        }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            T v = p.currentToken().isScalarValue() ? parse.apply(p.getText().strip()) : null;
            if (v == null) {
                throw new InvalidConfigException("", "must be " + expected + ", got " + got(p));
            }
            return v;
        }
    }

    private static final class SizeValue extends Scalar<Long> {
        SizeValue() {
            super(SIZE, Values::size);
        }
    }

    private static final class ListenValue extends Scalar<Listen> {
        ListenValue() {
            super("HOST:PORT, :PORT or PORT (port 0..65535)", text -> {
                Matcher m = LISTEN.matcher(text);
                return m.matches() && Integer.parseInt(m.group(2)) <= 65535
                        ? new Listen(
                                m.group(1) == null ? null : m.group(1).replaceAll("^\\[|]$", ""),
                                Integer.parseInt(m.group(2)))
                        : null;
            });
        }
    }

    private static final class ExpireValue extends Scalar<Optional<Duration>> {
        ExpireValue() {
            super(
                    "never or " + DURATION,
                    text -> text.equals("never")
                            ? Optional.empty()
                            : Optional.ofNullable(Values.duration(text))
                                    .map(Optional::of)
                                    .orElse(null));
        }
    }

    private static final class BudgetValue extends Scalar<Integer> {
        BudgetValue() {
            super(
                    "auto or a positive whole number",
                    text -> text.equalsIgnoreCase("auto")
                            ? Integer.valueOf(0)
                            : text.matches("0*[1-9]\\d{0,8}") ? Integer.valueOf(text) : null);
        }
    }

    private static final class FractionValue extends Scalar<Double> {
        FractionValue() {
            super(
                    "a fraction from 0 to below 1 (like 0.2) or a percentage (like 20%)",
                    text -> {
                        try {
                            return text.endsWith("%")
                                    ? Double.parseDouble(text.substring(0, text.length() - 1)) / 100
                                    : Double.parseDouble(text);
                        } catch (NumberFormatException e) {
                            return null;
                        }
                    });
        }
    }

    /** {@code all}, {@code none}, {@code ignore-tracking} or a list of the parameters to keep. */
    private static final class QueryValue extends JsonDeserializer<QueryPolicy> {
        private static final JavaType NAMES =
                TypeFactory.defaultInstance().constructCollectionType(List.class, String.class);

        @Override
        public QueryPolicy deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.isExpectedStartArrayToken()) {
                return QueryPolicy.allowOnly(ctxt.readValue(p, NAMES));
            }
            return switch (p.currentToken().isScalarValue() ? p.getText().strip() : "") {
                case "all" -> QueryPolicy.ALL;
                case "none" -> QueryPolicy.NONE;
                case "ignore-tracking" -> QueryPolicy.IGNORE_TRACKING;
                default ->
                    throw new InvalidConfigException(
                            "", "must be all, none, ignore-tracking or a list of parameter names, got " + got(p));
            };
        }
    }

    private static ServerConfig.AccessLog accessLog(String text) {
        return switch (text) {
            case "true", "combined", "text" -> ServerConfig.AccessLog.COMBINED; // text: the older name
            case "false", "off" -> ServerConfig.AccessLog.OFF;
            case "json" -> ServerConfig.AccessLog.JSON;
            default -> null;
        };
    }

    /** Jackson's problem as the field's: its path, what was expected and what was found (never a secret). */
    private static ConfigException problem(JsonMappingException ex) {
        StringBuilder field = new StringBuilder();
        for (JsonMappingException.Reference r : ex.getPath()) {
            if (r.getIndex() >= 0) {
                field.append('[').append(r.getIndex()).append(']');
            } else {
                field.append(field.length() == 0 ? "" : ".").append(r.getFieldName());
            }
        }
        String path = field.toString();
        if (ex instanceof UnrecognizedPropertyException u) {
            List<String> known = u.getKnownPropertyIds().stream()
                    .map(String::valueOf)
                    .sorted()
                    .toList();
            String suggestion = suggest(u.getPropertyName(), known);
            return new ConfigException(
                    path,
                    "unknown field"
                            + (suggestion != null
                                    ? " (did you mean '" + suggestion + "'?)"
                                    : "; known fields: " + String.join(", ", known)));
        }
        if (ex.getCause() instanceof InvalidConfigException c) { // from the deserializers above
            return new ConfigException(path, c.reason());
        }
        Class<?> type = ex instanceof MismatchedInputException m ? m.getTargetType() : null;
        String expected = type == String.class
                ? "a string"
                : type == Boolean.class
                        ? "true or false"
                        : type == Integer.class
                                ? "a whole number"
                                : type != null && Collection.class.isAssignableFrom(type)
                                        ? "a list"
                                        : "a map of fields";
        if (!(ex.getProcessor() instanceof JsonParser p) || p.currentToken() == null) {
            return new ConfigException(path, "must be " + expected);
        }
        boolean scalar = p.currentToken().isScalarValue();
        boolean secret = path.equals("secret") || path.equals("bypass-token");
        return new ConfigException(
                path,
                "must be " + expected + ", got " + (secret && scalar ? "a number or boolean" : got(p))
                        + (type == String.class && scalar ? " (quote it)" : ""));
    }

    private static String got(JsonParser p) {
        JsonToken t = p.currentToken();
        return t == JsonToken.START_ARRAY ? "a list" : t == JsonToken.START_OBJECT ? "a map" : quoteText(p);
    }

    private static String quoteText(JsonParser p) {
        try {
            return Values.quote(p.getText());
        } catch (IOException e) {
            return "another value";
        }
    }

    /**
     * The known name closest to a misspelt one, if close enough, else null: case, {@code -} and
     * {@code _} aside, or a few letters off. Also what the command line suggests for a mistyped command.
     */
    public static String suggest(String name, Collection<String> known) {
        Function<String, String> plain =
                s -> s.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        LevenshteinDistance distance = new LevenshteinDistance(Math.max(1, Math.min(3, name.length() / 3)));
        ToIntFunction<String> off = k -> {
            if (plain.apply(k).equals(plain.apply(name))) {
                return 0; // bypass_token, bypassToken, BYPASS-TOKEN …
            }
            int d = distance.apply(name.toLowerCase(Locale.ROOT), k); // -1: past the threshold
            return d < 0 ? Integer.MAX_VALUE : d;
        };
        return known.stream()
                .filter(k -> off.applyAsInt(k) < Integer.MAX_VALUE)
                .min(Comparator.comparingInt(off))
                .orElse(null);
    }

    // ------------------------------------------------------------------------------------- the values

    /** The file, the flags and the environment as the records' values; they check them. */
    private static ServerConfig assemble(FileConfig f, Overrides flags, Map<String, String> env) {
        RegenConfig.Builder engine = RegenConfig.builder();
        set(flags.revalidate() != null ? flags.revalidate() : f.revalidate(), engine::revalidate);
        set(f.expire(), v -> engine.expire(v.orElse(null)));
        set(f.errorRevalidate(), engine::errorRevalidate);
        set(f.query(), engine::query);
        set(f.cacheableStatuses(), engine::cacheableStatuses);
        set(f.maxBody(), engine::maxBodyBytes);
        set(f.maxVariants(), engine::maxVariants);
        set(f.hitForPass(), engine::hitForPass);
        set(f.ignoreCookies(), v -> engine.cookies(new CookieRules(v)));
        set(f.unkeyedQuery(), engine::unkeyedParams);
        set(f.unkeyedVary(), engine::unkeyedVary);
        set(f.preset(), v -> engine.preset(preset(v)));
        set(f.timeouts().render(), engine::renderTimeout);
        set(f.timeouts().lockWait(), engine::lockWait);
        set(f.renders().budget(), engine::renderBudget);
        set(f.renders().backgroundQueue(), engine::backgroundQueue);
        set(f.renders().refreshAhead(), engine::refreshAhead);
        set(f.renders().eagerWindow(), engine::eagerWindow);
        set(f.routes(), v -> engine.routes(routes(v)));
        engine.bypassToken(f.bypassToken() != null ? f.bypassToken() : env.get(BYPASS_TOKEN_ENV));

        Listen listen = requireNonNullElse(f.listen(), new Listen(null, ServerConfig.DEFAULT_LISTEN_PORT));
        StoreSpec store = flags.store() != null
                ? StoreSpec.parse(flags.store())
                : f.store() != null ? StoreSpec.parse(f.store()) : StoreSpec.Embedded.DEFAULT;
        if (Boolean.TRUE.equals(flags.strictStore()) || Boolean.TRUE.equals(f.storeStrict())) {
            store = store.requiredAtStart();
        }
        String secret = f.secret() != null ? f.secret() : env.get(SECRET_ENV);
        return new ServerConfig(
                ServerConfig.origin(flags.origin() != null ? flags.origin() : f.origin()),
                requireNonNullElse(listen.host(), ServerConfig.DEFAULT_LISTEN_HOST),
                flags.port() != null ? flags.port() : listen.port(),
                engine.build(),
                secret == null || secret.isEmpty() ? null : secret,
                store,
                requireNonNullElse(f.memory(), Regen.DEFAULT_MEMORY_BYTES),
                requireNonNullElse(f.timeouts().connect(), Regen.DEFAULT_CONNECT_TIMEOUT),
                requireNonNullElse(f.webhookPath(), Regen.DEFAULT_WEBHOOK_PATH),
                Boolean.TRUE.equals(f.metricsPublic()),
                requireNonNullElse(f.accessLog(), ServerConfig.AccessLog.OFF),
                f.accessLogFile() == null ? null : Path.of(f.accessLogFile()),
                front(f));
    }

    private static <T> void set(T value, Consumer<T> setter) {
        if (value != null) {
            setter.accept(value);
        }
    }

    /** Public hosts, trusted proxies, limits and TLS. */
    private static Front front(FileConfig f) {
        if (f.host() != null && f.hosts() != null) {
            throw new ConfigException("hosts", "set either host (one public host) or hosts (several), not both");
        }
        List<String> written = f.host() != null ? List.of(f.host()) : requireNonNullElse(f.hosts(), List.of());
        List<String> hosts = new ArrayList<>();
        String scheme = null;
        for (int i = 0; i < written.size(); i++) {
            Matcher m = publicHost(written.get(i), f.host() != null ? "host" : "hosts[" + i + "]");
            hosts.add(m.group(2));
            scheme = m.group(1) == null ? scheme : m.group(1).toLowerCase(Locale.ROOT);
        }
        if (f.scheme() != null && scheme != null && !scheme.equals(f.scheme())) {
            throw new ConfigException(
                    "scheme", "is " + f.scheme() + " but host says " + scheme + "://; keep one of them");
        }
        TrustedProxies trusted;
        try {
            trusted = TrustedProxies.parse(requireNonNullElse(f.trustedProxies(), List.of()));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("trusted-proxies", e.getMessage());
        }
        Front d = Front.DEFAULTS;
        Limits l = f.limits();
        Timeouts t = f.timeouts();
        return new Front(
                hosts,
                f.unlistedHost() == null
                        ? null
                        : publicHost(f.unlistedHost(), "unlisted-host").group(2),
                trusted,
                Boolean.TRUE.equals(f.preserveHost()),
                f.scheme() != null ? f.scheme() : scheme,
                requireNonNullElse(l.connections(), d.maxConnections()),
                requireNonNullElse(l.requestBody(), d.maxRequestBody()),
                (int) Math.min(Integer.MAX_VALUE, requireNonNullElse(l.requestLine(), (long) d.maxRequestLine())),
                (int) Math.min(Integer.MAX_VALUE, requireNonNullElse(l.headerBlock(), (long) d.maxHeaderBlock())),
                requireNonNullElse(t.header(), d.headerTimeout()),
                requireNonNullElse(t.idle(), d.idleTimeout()),
                requireNonNullElse(t.keepAlive(), d.keepAliveTimeout()),
                f.tls() == null
                        ? null
                        : new Front.Tls(
                                readable(f.tls().certificate(), "tls.certificate"),
                                readable(f.tls().key(), "tls.key")),
                requireNonNullElse(f.h2c(), d.h2c()));
    }

    /** {@code host[:port]} (group 2), optionally written as a URL whose scheme (group 1) then counts. */
    private static Matcher publicHost(String text, String field) {
        Matcher m = PUBLIC_HOST.matcher(text.strip());
        if (!m.matches()
                || (m.group(3) != null && (Integer.parseInt(m.group(3)) < 1 || Integer.parseInt(m.group(3)) > 65535))) {
            throw new ConfigException(
                    field,
                    "must be the public host name (with an optional :port), e.g. www.example.com, got "
                            + Values.quote(text));
        }
        return m;
    }

    private static Path readable(String file, String field) {
        if (file == null) {
            throw new ConfigException(field, "is required with tls:");
        }
        if (!Files.isReadable(Path.of(file))) {
            throw new ConfigException(field, "cannot be read: " + Values.quote(file));
        }
        return Path.of(file);
    }

    private static Preset preset(String name) {
        Preset preset = Preset.of(name.strip());
        if (preset == null) {
            throw new ConfigException(
                    "preset",
                    "must be one of "
                            + Arrays.stream(Preset.values())
                                    .map(Preset::configName)
                                    .toList()
                            + ", got " + Values.quote(name));
        }
        return preset;
    }

    private static List<RouteRule> routes(List<Route> routes) {
        List<RouteRule> rules = new ArrayList<>();
        for (int i = 0; i < routes.size(); i++) {
            Route r = requireNonNullElse(routes.get(i), new Route(null, null, null, null));
            try {
                rules.add(new RouteRule(r.match(), r.revalidate(), r.tags(), r.cache() == null || r.cache()));
            } catch (InvalidConfigException e) {
                throw new ConfigException("routes[" + i + "]." + e.field(), e.reason());
            }
        }
        return rules;
    }
}
