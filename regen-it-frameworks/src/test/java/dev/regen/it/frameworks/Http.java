package dev.regen.it.frameworks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A plain HTTP client, as a script or another visitor would be: HTTP/1.1, no cookies, no redirects followed,
 * and no headers but those a test names.
 */
final class Http {
    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private Http() {}

    /** GET with the given headers as name, value pairs. */
    static HttpResponse<String> get(String url, String... headers) {
        return send(request(url, headers).GET().build());
    }

    /** POST of a form ({@code application/x-www-form-urlencoded}) with the given headers. */
    static HttpResponse<String> postForm(String url, String form, String... headers) {
        return send(request(url, headers)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build());
    }

    static HttpRequest.Builder request(String url, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b;
    }

    static HttpResponse<String> send(HttpRequest request) {
        try {
            return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError(request.method() + " " + request.uri() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Regen's {@code X-Cache-Status}, or {@code (none)} (always so for an app reached directly). */
    static String cacheStatus(HttpResponse<?> r) {
        return r.headers().firstValue("x-cache-status").orElse("(none)");
    }

    static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }
}
