package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.RegenConfig;
import dev.regen.server.config.Front;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.MemoryStore;
import dev.regen.testing.Chromium;
import dev.regen.testing.FakeClock;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser ({@link Chromium}: Debian's headless Chromium and chromedriver), in
 * front of a real Regen server and origin. Screenshots go to {@code target/screenshots/}.
 */
class DashboardIT {
    private static final String SECRET = "dashboard-it-secret-0123456789";
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    private final FakeClock clock = new FakeClock(java.time.Instant.now());
    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private TestOrigin origin;
    private RegenServer server;
    private WebDriver browser;

    @TempDir
    Path profile;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        for (String p : List.of("/", "/blog/hello", "/blog/world", "/about")) {
            origin.on(
                    p,
                    s -> TestOrigin.Response.html(
                            "<h1>" + p + "</h1>", "Cache-Tag", p.startsWith("/blog") ? "blog, posts" : "pages"));
        }
        origin.on("/broken", s -> TestOrigin.Response.html("down").status(503));
        ServerConfig cfg = new ServerConfig(
                URI.create(origin.url()),
                "127.0.0.1",
                0,
                // no eager re-render: the rows a revalidation marks must stay stale for the browser to see
                RegenConfig.builder()
                        .revalidate(Duration.ofSeconds(3600))
                        .eagerWindow(Duration.ZERO)
                        .build(),
                SECRET,
                new StoreSpec.Memory(),
                64L << 20,
                Duration.ofSeconds(1),
                "/api/revalidate",
                false,
                ServerConfig.AccessLog.OFF,
                null,
                Front.DEFAULTS);
        server = RegenServer.start(cfg, new MemoryStore(64L << 20, clock), clock);
        browser = Chromium.start(profile);
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url(path)))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private WebDriverWait waiting() {
        return new WebDriverWait(browser, Duration.ofSeconds(15));
    }

    private void screenshot(String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    /** The state badge of a row: the table is redrawn as data arrives, so look it up afresh each time. */
    private String badge(String path) {
        return waiting()
                .ignoring(StaleElementReferenceException.class)
                .until(d -> d.findElement(By.cssSelector("#entries-body tr[data-path='" + path + "'] .badge"))
                        .getText());
    }

    private void click(String css) {
        waiting().ignoring(StaleElementReferenceException.class).until(d -> {
            d.findElement(By.cssSelector(css)).click();
            return true;
        });
    }

    private void signIn(String secret) {
        WebElement field = waiting().until(ExpectedConditions.visibilityOfElementLocated(By.id("secret")));
        field.clear();
        field.sendKeys(secret);
        browser.findElement(By.id("login-submit")).click();
    }

    @Test
    void login_wrongSecret_clearErrorAndNoCookie() throws Exception {
        browser.get(url("/_regen/"));
        waiting().until(ExpectedConditions.urlToBe(url("/_regen/login")));

        signIn("this-is-not-the-secret");

        WebElement error = waiting().until(ExpectedConditions.visibilityOfElementLocated(By.id("login-error")));
        assertThat(error.getText()).contains("Wrong secret");
        assertThat(browser.manage().getCookies()).isEmpty();
        assertThat(browser.findElements(By.id("chart"))).isEmpty();
        screenshot("login-wrong-secret.png");
    }

    @Test
    void dashboard_showsChartAndEntries_rowSoftRevalidateTurnsEntryStale() throws Exception {
        // traffic for the chart and the table: misses, hits, a bypass, a failing page
        for (String p : List.of("/", "/blog/hello", "/blog/world", "/about")) {
            assertThat(get(p).headers().firstValue("x-cache-status")).hasValue("MISS");
        }
        for (int i = 0; i < 12; i++) {
            get("/blog/hello");
            get("/");
        }
        get("/broken");
        http.send(
                HttpRequest.newBuilder(URI.create(url("/about")))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.discarding());

        browser.get(url("/_regen/"));
        waiting().until(ExpectedConditions.urlToBe(url("/_regen/login")));
        signIn(SECRET);
        waiting().until(ExpectedConditions.urlToBe(url("/_regen/")));

        Cookie session = browser.manage().getCookieNamed("regen_session");
        assertThat(session).isNotNull();
        assertThat(session.isHttpOnly()).isTrue();
        assertThat(session.getSameSite()).isEqualTo("Strict");
        assertThat(session.getPath()).isEqualTo("/_regen/");
        assertThat(session.getValue()).doesNotContain(SECRET);

        // the chart: bars for hits and misses in the newest buckets
        waiting().until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#chart svg rect.s-hit")));
        assertThat(browser.findElements(By.cssSelector("#chart svg rect.s-miss")))
                .isNotEmpty();
        assertThat(browser.findElement(By.cssSelector("#chart svg")).getAttribute("data-buckets"))
                .isEqualTo("90");
        waiting().until(d -> !d.findElement(By.id("kpi-hit")).getText().equals("—"));
        assertThat(browser.findElement(By.id("kpi-hit")).getText()).endsWith("%");
        assertThat(browser.findElement(By.id("kpi-p50")).getText()).endsWith("ms");

        // the table: every cached page, fresh
        By row = By.cssSelector("#entries-body tr[data-path='/blog/hello']");
        waiting().until(ExpectedConditions.presenceOfElementLocated(row));
        assertThat(browser.findElements(By.cssSelector("#entries-body tr"))).hasSize(4);
        assertThat(badge("/blog/hello")).isEqualTo("fresh");
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("errors"), "/broken"));
        screenshot("dashboard.png");

        click("#entries-body tr[data-path='/blog/hello'] button[data-mode='soft']");

        waiting().until(d -> badge("/blog/hello").equals("stale"));
        assertThat(browser.findElement(By.id("toast")).getText()).contains("/blog/hello");
        assertThat(badge("/blog/world")).isEqualTo("fresh");
        HttpResponse<String> after = get("/blog/hello");
        assertThat(after.headers().firstValue("x-cache-status")).hasValue("STALE");
        screenshot("dashboard-after-revalidate.png");

        // search by tag, then revalidate the tag from the form
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("search-kind"))).selectByValue("tag");
        browser.findElement(By.id("search-q")).sendKeys("pages");
        browser.findElement(By.cssSelector("#search button")).click();
        waiting().until(d -> d.findElements(By.cssSelector("#entries-body tr")).size() == 2);
        browser.findElement(By.id("tag-input")).sendKeys("pages");
        browser.findElement(By.id("tag-submit")).click();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("toast"), "2 pages tagged \"pages\""));
        waiting()
                .until(d -> d.findElements(By.cssSelector("#entries-body .badge.stale"))
                                .size()
                        == 2);

        // sign out: back to the login page, the session no longer opens the API
        browser.findElement(By.id("logout")).click();
        waiting().until(ExpectedConditions.urlToBe(url("/_regen/login")));
        assertThat(browser.manage().getCookieNamed("regen_session")).isNull();
        HttpResponse<String> reuse = http.send(
                HttpRequest.newBuilder(URI.create(url("/_regen/api/stats")))
                        .header("Cookie", "regen_session=" + session.getValue())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(reuse.statusCode()).isEqualTo(401);
    }

    /**
     * The widest figures each card can show, as the page's own setFigure renders them: a number, then
     * its unit in a span.
     */
    private static final String WORST_CASE_FIGURES = """
            var f = function (id, n, unit) {
              var e = document.getElementById(id); e.textContent = n;
              if (unit) { var u = document.createElement('span'); u.className = 'kpi-unit'; u.textContent = unit; e.appendChild(u); }
            };
            f('kpi-hit', '99.95', '%'); f('kpi-rps', '12,345.6'); f('kpi-p50', '999', ' ms'); f('kpi-p99', '999', ' ms');
            f('kpi-err', '12.5', '%'); f('kpi-mem', '12,345', ' pages');
            """;

    /** Every KPI label and value whose text is wider than its box, and whether the page scrolls sideways. */
    private static final String OVERFLOWS = """
            var out = [];
            document.querySelectorAll('.kpi .kpi-label, .kpi .kpi-value').forEach(function (e) {
              if (e.scrollWidth > e.clientWidth) { out.push((e.id || e.className) + ' "' + e.textContent + '" ' + e.scrollWidth + ' > ' + e.clientWidth); }
            });
            var d = document.documentElement;
            if (d.scrollWidth > d.clientWidth) { out.push('the page scrolls sideways: ' + d.scrollWidth + ' > ' + d.clientWidth); }
            return out;
            """;

    @SuppressWarnings("unchecked")
    private List<String> overflows(String before) {
        return (List<String>) ((JavascriptExecutor) browser).executeScript(before + OVERFLOWS);
    }

    /** The viewport as a laptop's or a phone's, exactly (a headless window has a minimum width). */
    private void viewport(int width, int height, boolean mobile) {
        ((ChromeDriver) browser)
                .executeCdpCommand(
                        "Emulation.setDeviceMetricsOverride",
                        Map.of("width", width, "height", height, "deviceScaleFactor", 1, "mobile", mobile));
    }

    /** The whole page, not just the viewport. */
    private void fullPageScreenshot(String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        Map<String, Object> shot = ((ChromeDriver) browser)
                .executeCdpCommand("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true));
        Files.write(SCREENSHOTS.resolve(name), Base64.getDecoder().decode((String) shot.get("data")));
    }

    @Test
    void layout_laptopAndPhone_noCardValueCutOff_pagesInNaturalOrder_screenshots() throws Exception {
        for (String p : List.of("/posts/1", "/posts/2", "/posts/10", "/posts/11", "/about", "/blog/hello")) {
            get(p);
            get(p);
        }
        get("/broken");
        browser.get(url("/_regen/"));
        waiting().until(ExpectedConditions.urlToBe(url("/_regen/login")));
        signIn(SECRET);
        waiting().until(ExpectedConditions.urlToBe(url("/_regen/")));

        for (int[] size : new int[][] {{1280, 900}, {390, 844}}) {
            viewport(size[0], size[1], size[0] < 600);
            browser.navigate().refresh();
            waiting()
                    .until(d -> !d.findElement(By.id("kpi-mem")).getText().equals("—")
                            && !d.findElement(By.id("kpi-p50")).getText().equals("—"));
            waiting()
                    .until(ExpectedConditions.presenceOfElementLocated(
                            By.cssSelector("#entries-body tr[data-path='/posts/10']")));

            assertThat(overflows(""))
                    .as("at %d px, with this run's figures", size[0])
                    .isEmpty();
            fullPageScreenshot("dashboard-" + size[0] + ".png");
            assertThat(overflows(WORST_CASE_FIGURES))
                    .as("at %d px, with the widest figures", size[0])
                    .isEmpty();
            fullPageScreenshot("dashboard-" + size[0] + "-widest-figures.png");
        }

        List<String> paths = browser.findElements(By.cssSelector("#entries-body tr")).stream()
                .map(tr -> tr.getAttribute("data-path"))
                .toList();
        assertThat(paths).containsSubsequence("/posts/1", "/posts/2", "/posts/10", "/posts/11");
    }
}
