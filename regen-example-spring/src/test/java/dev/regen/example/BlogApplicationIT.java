package dev.regen.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The example started the way {@code spring-boot:run} starts it: {@code BlogApplication}'s own
 * {@code SpringApplication}, not {@code @SpringBootTest}, which turns metrics export off and so hid a
 * Prometheus library mix that stopped the app at start-up. Uses only APIs that Spring Boot 3 and 4
 * share: the Boot 4 build of the example runs this same class.
 */
class BlogApplicationIT {
    private static final String SECRET = "test-secret-0123456789";

    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void startedLikeSpringBootRun_metricsExportOn_servesCachedPagesAndPrometheusText() throws Exception {
        try (ConfigurableApplicationContext app = SpringApplication.run(
                BlogApplication.class,
                "--server.address=127.0.0.1",
                "--server.port=0",
                "--regen.secret=" + SECRET,
                "--blog.render-delay=0ms",
                "--management.endpoints.web.exposure.include=health,prometheus")) {
            String base = "http://127.0.0.1:" + app.getEnvironment().getRequiredProperty("local.server.port");

            HttpResponse<String> miss = get(base + "/posts/1");
            assertThat(miss.statusCode()).isEqualTo(200);
            assertThat(miss.headers().firstValue("X-Cache-Status")).hasValue("MISS");
            assertThat(get(base + "/posts/1").headers().firstValue("X-Cache-Status"))
                    .hasValue("HIT");

            HttpResponse<String> scrape = get(base + "/actuator/prometheus");
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
            assertThat(scrape.body())
                    .containsPattern("(?m)^regen_requests_total\\{[^}]*status=\"hit\"[^}]*\\} [1-9]")
                    .containsPattern("(?m)^regen_render_duration_seconds_count\\{[^}]*outcome=\"ok\"[^}]*\\} [1-9]");
            assertThat(get(base + "/actuator/health").body()).contains("\"status\":\"UP\"");
        }
    }

    private HttpResponse<String> get(String url) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
