package dev.regen.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regen.internal.http.BaseUrl;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code regen revalidate}: calls a running Regen's revalidation webhook (DESIGN.md, {@code POST
 * /_regen/revalidate}) for some paths and/or tags. Exit 0 when the server confirmed, 1 when it refused or
 * could not be reached, 2 for bad usage (flags, missing secret).
 *
 * <p>The secret is read from {@code $REGEN_SECRET} or from the first line of {@code --secret-file}, never
 * from a flag: a flag's value is visible to every user of the machine in {@code ps}. It is never printed.
 */
@Command(
        name = "revalidate",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Mark cached pages stale (soft, the default) or delete them (--hard) on a running Regen,"
                    + " by path and/or by tag.",
            "The webhook secret is read from the environment variable REGEN_SECRET, or from the first line"
                    + " of --secret-file (which wins when both are set)."
        },
        footer = {
            "",
            "Example:",
            "  REGEN_SECRET=... regen revalidate --url http://127.0.0.1:8080 --path /blog/a --tag posts"
        })
final class RevalidateCommand implements Callable<Integer> {

    static final String SECRET_ENV = "REGEN_SECRET";
    /** The server rejects more than this many paths or tags (DESIGN.md); say so before sending. */
    static final int MAX_ITEMS = 1000;
    /** An error answer is shown trimmed to this many characters. */
    private static final int MAX_SHOWN = 200;
    /** Read no more than this much of an answer: the webhook's answers are small. */
    private static final int MAX_READ = 64 * 1024;

    /** Made on first use, not when picocli loads the command: Jackson takes ~0.1 s to come up. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    @Option(
            names = "--url",
            required = true,
            paramLabel = "URL",
            description = "Base URL of the Regen server, e.g. http://127.0.0.1:8080")
    String url;

    @Option(names = "--path", paramLabel = "PATH", description = "A path to revalidate, starting with / (repeatable)")
    List<String> paths = new ArrayList<>();

    @Option(names = "--tag", paramLabel = "TAG", description = "A cache tag to revalidate (repeatable)")
    List<String> tags = new ArrayList<>();

    @Option(names = "--hard", description = "Delete the entries instead of marking them stale")
    boolean hard;

    @Option(
            names = "--webhook-path",
            paramLabel = "PATH",
            defaultValue = dev.regen.Regen.DEFAULT_WEBHOOK_PATH,
            description = "Path of the webhook on the server (default ${DEFAULT-VALUE})")
    String webhookPath;

    @Option(
            names = "--secret-file",
            paramLabel = "FILE",
            description = "Read the secret from the first line of FILE instead of $" + SECRET_ENV)
    Path secretFile;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "10",
            description = "Give up after this many seconds (default ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        URI endpoint = endpoint();
        List<String> pathList = checkedPaths();
        List<String> tagList = checkedTags();
        if (pathList.isEmpty() && tagList.isEmpty()) {
            throw new Main.UsageError("give at least one --path or --tag");
        }
        if (timeoutSeconds <= 0) {
            throw new Main.UsageError("--timeout must be positive: " + timeoutSeconds);
        }
        String secret = secret();
        String mode = hard ? "hard" : "soft";

        ObjectNode body = Json.MAPPER.createObjectNode();
        if (!pathList.isEmpty()) {
            pathList.forEach(body.putArray("paths")::add);
        }
        if (!tagList.isEmpty()) {
            tagList.forEach(body.putArray("tags")::add);
        }
        body.put("mode", mode);

        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER) // a redirect must not carry the secret elsewhere
                .build();
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(endpoint)
                    .timeout(timeout)
                    .header("Authorization", "Bearer " + secret)
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Json.MAPPER.writeValueAsBytes(body)))
                    .build();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the request: " + e.getOriginalMessage());
        }

        int status;
        String answer;
        try {
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            status = response.statusCode();
            try (InputStream in = response.body()) {
                answer = new String(in.readNBytes(MAX_READ), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            spec.commandLine().getErr().println("regen: cannot reach " + endpoint + ": " + unreachable(e, endpoint));
            return 1;
        }

        JsonNode json = parse(answer);
        if (status == 200
                && json != null
                && json.path("success").asBoolean(false)
                && json.path("invalidated").canConvertToLong()) {
            long n = json.path("invalidated").asLong();
            List<String> shownPaths = listOr(json.get("paths"), pathList);
            List<String> shownTags = listOr(json.get("tags"), tagList);
            spec.commandLine()
                    .getOut()
                    .println("revalidated " + n + (n == 1 ? " entry" : " entries") + " (" + mode + ")"
                            + " for" + (shownPaths.isEmpty() ? "" : " paths " + shownPaths)
                            + (shownTags.isEmpty() ? "" : " tags " + shownTags)
                            + (json.path("queued").asLong() > 0
                                    ? "; " + json.path("queued").asLong() + " with recent traffic re-rendering now"
                                    : ""));
            return 0;
        }
        String why;
        if (json != null && json.path("error").isTextual()) {
            why = clean(json.path("error").asText());
        } else if (answer.isBlank()) {
            why = "(empty answer)";
        } else {
            why = clean(answer);
        }
        if (status == 200) {
            // e.g. no webhook at that path, so the POST went through to the origin, which said 200
            why = "not a webhook answer (wrong --url or --webhook-path?): " + why;
        }
        spec.commandLine().getErr().println("regen: revalidation failed: HTTP " + status + ": " + why);
        if (json != null && json.path("notApplied").isArray()) {
            // 503: part of it was not applied; say what, and that running the command again is the fix
            spec.commandLine()
                    .getErr()
                    .println("regen: " + json.path("invalidated").asLong() + " entries were revalidated;"
                            + " not done:");
            json.path("notApplied").forEach(line -> spec.commandLine().getErr().println("  " + clean(line.asText())));
            spec.commandLine().getErr().println("regen: run the command again once the store answers");
        }
        return 1;
    }

    /** {@code --url} plus {@code --webhook-path}, checked. */
    private URI endpoint() {
        URI base;
        try {
            base = BaseUrl.parse(url);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(
                    "--url " + e.getMessage() + " (the webhook's path is set with --webhook-path, default "
                            + dev.regen.Regen.DEFAULT_WEBHOOK_PATH + ")");
        }
        if (webhookPath == null
                || !webhookPath.startsWith("/")
                || webhookPath.contains("?")
                || webhookPath.contains("#")
                || webhookPath.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
            throw new Main.UsageError("--webhook-path must be a path starting with /, got: " + webhookPath);
        }
        try {
            return new URI(base + webhookPath);
        } catch (URISyntaxException e) {
            throw new Main.UsageError(
                    "--webhook-path is not a valid path: " + webhookPath + " (" + e.getReason() + ")");
        }
    }

    private List<String> checkedPaths() {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String p : paths) {
            if (p == null || !p.startsWith("/")) {
                throw new Main.UsageError("--path must start with /, got: " + p);
            }
            out.add(p);
        }
        if (out.size() > MAX_ITEMS) {
            throw new Main.UsageError("at most " + MAX_ITEMS + " --path per call, got " + out.size());
        }
        return List.copyOf(out);
    }

    private List<String> checkedTags() {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String t : tags) {
            if (t == null || t.isBlank()) {
                throw new Main.UsageError("--tag must not be empty");
            }
            if (t.strip().chars().anyMatch(c -> c == ',' || Character.isWhitespace(c))) {
                throw new Main.UsageError(
                        "--tag takes one tag (no spaces or commas), got: " + t + "; repeat --tag for more");
            }
            out.add(t.strip());
        }
        if (out.size() > MAX_ITEMS) {
            throw new Main.UsageError("at most " + MAX_ITEMS + " --tag per call, got " + out.size());
        }
        return List.copyOf(out);
    }

    /** From {@code --secret-file} if given, else {@code $REGEN_SECRET}. Never shown in a message. */
    private String secret() {
        String secret;
        String source;
        if (secretFile != null) {
            source = "the first line of " + secretFile;
            try (BufferedReader in = Files.newBufferedReader(secretFile, StandardCharsets.UTF_8)) {
                String line = in.readLine();
                secret = line == null ? "" : line.strip();
            } catch (NoSuchFileException e) {
                throw new Main.UsageError("--secret-file " + secretFile + ": not found");
            } catch (IOException e) {
                throw new Main.UsageError("--secret-file " + secretFile + ": cannot be read: " + e.getMessage());
            }
            if (secret.isEmpty()) {
                throw new Main.UsageError("--secret-file " + secretFile + ": the first line is empty");
            }
        } else {
            source = "$" + SECRET_ENV;
            String env = System.getenv(SECRET_ENV);
            secret = env == null ? "" : env.strip();
            if (secret.isEmpty()) {
                throw new Main.UsageError("no webhook secret: set the environment variable " + SECRET_ENV
                        + " (the server's secret) or use --secret-file FILE");
            }
        }
        // HttpClient would reject such a header with a message that quotes the value: the secret
        if (secret.chars().anyMatch(c -> c < 0x20 || c >= 0x7f)) {
            throw new Main.UsageError("the secret in " + source + " must be printable ASCII");
        }
        return secret;
    }

    /** Why the server could not be reached, in a few words, from the exception and its causes. */
    private String unreachable(IOException e, URI endpoint) {
        if (e instanceof HttpConnectTimeoutException) {
            return "connection timed out after " + timeoutSeconds + " s";
        }
        if (e instanceof HttpTimeoutException) {
            return "no answer within " + timeoutSeconds + " s (--timeout)";
        }
        String first = null;
        boolean connect = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return "unknown host " + endpoint.getHost();
            }
            connect |= t instanceof ConnectException;
            String m = t.getMessage();
            if (first == null && m != null && !m.isBlank()) {
                first = m;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        if (first == null && connect) {
            // The JDK's HttpClient reports a refused connection as a ConnectException without a
            // message (JDK 17); a plain socket says why.
            first = probe(endpoint);
        }
        if (first == null) {
            return e.getClass().getSimpleName();
        }
        return clean(first.toLowerCase(Locale.ROOT).contains("refused") ? "connection refused" : first);
    }

    /** Connects a plain socket to the endpoint's host and port: the reason it fails, or null. */
    private String probe(URI endpoint) {
        int port = endpoint.getPort() != -1
                ? endpoint.getPort()
                : endpoint.getScheme().equals("https") ? 443 : 80;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(endpoint.getHost(), port), (int)
                    Math.min(Integer.MAX_VALUE, TimeUnit.SECONDS.toMillis(timeoutSeconds)));
            return "connection failed";
        } catch (IOException probe) {
            return probe.getMessage();
        }
    }

    private static JsonNode parse(String text) {
        try {
            JsonNode n = Json.MAPPER.readTree(text);
            return n != null && n.isObject() ? n : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** The server's echo of what it revalidated, when it sent one; else what was asked. */
    private static List<String> listOr(JsonNode n, List<String> fallback) {
        if (n == null || !n.isArray()) {
            return fallback;
        }
        List<String> out = new ArrayList<>();
        n.forEach(v -> out.add(clean(v.asText())));
        return out;
    }

    /**
     * Text from the server on one line: control characters (a hostile answer could carry terminal
     * escapes) and runs of whitespace become one space; at most {@value #MAX_SHOWN} characters.
     */
    static String clean(String text) {
        String one = text.replaceAll("[\\p{Cntrl}\\s]+", " ").strip();
        return one.length() <= MAX_SHOWN ? one : one.substring(0, MAX_SHOWN) + "…";
    }
}
