package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.FakeClock;
import dev.regen.RegenConfig;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.MemoryStore;
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
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser: Debian's headless Chromium driven through Debian's chromedriver
 * (Selenium is given both paths, so it never downloads anything), in front of a real Regen server and
 * origin. Screenshots go to {@code target/screenshots/}.
 */
class DashboardIT {
    private static final String SECRET = "dashboard-it-secret-0123456789";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    private final FakeClock clock = new FakeClock(java.time.Instant.now());
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private TestOrigin origin;
    private RegenServer server;
    private WebDriver browser;

    @TempDir
    Path profile;

    @BeforeEach
    void start() throws Exception {
        assertThat(CHROMIUM).as("Debian's chromium (test.sh installs it)").isExecutable();
        assertThat(CHROMEDRIVER).as("Debian's chromium-driver (test.sh installs it)").isExecutable();
        origin = new TestOrigin();
        for (String p : List.of("/", "/blog/hello", "/blog/world", "/about")) {
            origin.on(p, s -> TestOrigin.Response.html("<h1>" + p + "</h1>",
                    "Cache-Tag", p.startsWith("/blog") ? "blog, posts" : "pages"));
        }
        origin.on("/broken", s -> TestOrigin.Response.html("down").status(503));
        ServerConfig cfg = new ServerConfig(URI.create(origin.url()), "127.0.0.1", 0,
                RegenConfig.builder().host("www.example.com").revalidate(Duration.ofSeconds(3600)).build(),
                SECRET, new StoreSpec.Memory(), 64L << 20, Duration.ofSeconds(1), "/api/revalidate", false, false);
        server = RegenServer.start(cfg, new MemoryStore(64L << 20, clock), clock);
        browser = chromium(profile);
    }

    /** Headless Chromium with a fresh profile; no network besides this machine's loopback. */
    static WebDriver chromium(Path profile) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-default-apps", "--disable-extensions", "--window-size=1440,1200",
                "--user-data-dir=" + profile.toAbsolutePath());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        return new ChromeDriver(service, options);
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
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(20)).build(),
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
        return waiting().ignoring(StaleElementReferenceException.class).until(d ->
                d.findElement(By.cssSelector("#entries-body tr[data-path='" + path + "'] .badge")).getText());
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
        http.send(HttpRequest.newBuilder(URI.create(url("/about"))).POST(HttpRequest.BodyPublishers.noBody()).build(),
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
        assertThat(browser.findElements(By.cssSelector("#chart svg rect.s-miss"))).isNotEmpty();
        assertThat(browser.findElement(By.cssSelector("#chart svg")).getAttribute("data-buckets")).isEqualTo("90");
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
        waiting().until(d -> d.findElements(By.cssSelector("#entries-body .badge.stale")).size() == 2);

        // sign out: back to the login page, the session no longer opens the API
        browser.findElement(By.id("logout")).click();
        waiting().until(ExpectedConditions.urlToBe(url("/_regen/login")));
        assertThat(browser.manage().getCookieNamed("regen_session")).isNull();
        HttpResponse<String> reuse = http.send(HttpRequest.newBuilder(URI.create(url("/_regen/api/stats")))
                .header("Cookie", "regen_session=" + session.getValue()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(reuse.statusCode()).isEqualTo(401);
    }
}
