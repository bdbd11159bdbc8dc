package dev.regen.it.frameworks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regen.testing.Chromium;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * One visitor: headless Chromium with its own fresh profile ({@link Chromium}), recording every network
 * exchange (from Chromium's performance log) and every console error.
 */
final class Browser implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final ChromeDriver driver;
    private final List<Exchange> exchanges = new ArrayList<>();
    private final Map<String, Exchange.Builder> pending = new HashMap<>();
    /** Headers as sent (cookies included), by request id: Chromium may log them before the request itself. */
    private final Map<String, Map<String, String>> sentHeaders = new HashMap<>();

    private final List<String> consoleErrors = new ArrayList<>();

    /** What went over the network for one request: the request as sent and the response as received. */
    record Exchange(
            String method,
            String url,
            Map<String, String> requestHeaders,
            int status,
            String mimeType,
            Map<String, String> responseHeaders) {

        /** A request header by name, any case; null when absent. */
        String requestHeader(String name) {
            return requestHeaders.get(name.toLowerCase(Locale.ROOT));
        }

        String responseHeader(String name) {
            return responseHeaders.get(name.toLowerCase(Locale.ROOT));
        }

        /** A React Server Components request of the Next.js router: a navigation or a prefetch. */
        boolean isRsc() {
            return "1".equals(requestHeader("rsc"));
        }

        boolean isPrefetch() {
            return requestHeader("next-router-prefetch") != null;
        }

        @Override
        public String toString() {
            return method + " " + url
                    + (isRsc()
                            ? (isPrefetch()
                                    ? " [RSC prefetch " + requestHeader("next-router-segment-prefetch") + "]"
                                    : " [RSC]")
                            : "")
                    + " -> " + status + " " + mimeType + " " + responseHeader("x-cache-status");
        }

        private static final class Builder {
            final String method;
            final String url;
            final Map<String, String> requestHeaders = new LinkedHashMap<>();

            Builder(String method, String url) {
                this.method = method;
                this.url = url;
            }

            Exchange complete(JsonNode response) {
                return new Exchange(
                        method,
                        url,
                        Map.copyOf(requestHeaders),
                        response.path("status").asInt(),
                        response.path("mimeType").asText(),
                        lowerCase(response.path("headers")));
            }
        }
    }

    private Browser(Path profile) {
        ChromeOptions options = Chromium.options(profile);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.PERFORMANCE, Level.ALL);
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
        options.setExperimentalOption("perfLoggingPrefs", Map.of("enableNetwork", true, "enablePage", false));
        driver = Chromium.start(options);
    }

    /** A new visitor with a fresh profile in {@code profile} (an empty directory). */
    static Browser open(Path profile) {
        return new Browser(profile);
    }

    void get(String url) {
        driver.get(url);
    }

    String currentUrl() {
        return driver.getCurrentUrl();
    }

    /** The text of the element, once it exists. */
    String text(String css) {
        return waiting()
                .ignoring(WebDriverException.class)
                .until(d -> d.findElement(By.cssSelector(css)).getText());
    }

    /** Waits until the element's text is {@code expected}; fails with the text it had. */
    void awaitText(String css, String expected) {
        awaitText(css, text -> text.equals(expected), "read \"" + expected + "\"");
    }

    /** Waits until the element's text matches {@code regex}; fails with the text it had. */
    void awaitTextMatches(String css, String regex) {
        awaitText(css, text -> text.matches(regex), "match /" + regex + "/");
    }

    private void awaitText(String css, java.util.function.Predicate<String> ok, String what) {
        try {
            // ignoring what a page being replaced (a full navigation) makes element lookups throw
            waiting().ignoring(WebDriverException.class).until(d -> {
                var found = d.findElements(By.cssSelector(css));
                return !found.isEmpty() && ok.test(found.get(0).getText().strip());
            });
        } catch (TimeoutException e) {
            var found = driver.findElements(By.cssSelector(css));
            String actual = found.isEmpty()
                    ? "is not on the page, which says: " + pageText()
                    : "reads \"" + found.get(0).getText() + "\"";
            throw new AssertionError("expected " + css + " to " + what + " on " + driver.getCurrentUrl() + ", but it "
                    + actual + " after " + WAIT.toSeconds() + " s");
        }
    }

    /** Waits until the JavaScript expression is truthy; fails with {@code what}. */
    void awaitTrue(String expression, String what) {
        try {
            waiting().until(d -> Boolean.TRUE.equals(js("return !!(" + expression + ");")));
        } catch (TimeoutException e) {
            throw new AssertionError("not true after " + WAIT.toSeconds() + " s on " + driver.getCurrentUrl() + ": "
                    + what + "; console errors: " + consoleErrors());
        }
    }

    /** The page's visible text, shortened: for failure messages. */
    private String pageText() {
        String text = String.valueOf(js("return document.body ? document.body.innerText : '(no body)';"))
                .strip();
        return "\"" + (text.length() > 300 ? text.substring(0, 300) + "…" : text) + "\"";
    }

    void click(String css) {
        waiting().ignoring(StaleElementReferenceException.class).until(d -> {
            d.findElement(By.cssSelector(css)).click();
            return true;
        });
    }

    void type(String css, String text) {
        var field = waiting().until(d -> d.findElement(By.cssSelector(css)));
        field.clear();
        field.sendKeys(text);
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Sets a cookie for the host of the page now open (as a login would). */
    void setCookie(String name, String value) {
        driver.manage().addCookie(new Cookie(name, value, "/"));
    }

    /** Every network exchange so far, in the order the responses came. */
    List<Exchange> exchanges() {
        drainPerformanceLog();
        return List.copyOf(exchanges);
    }

    /** Console messages of level error so far (failed loads, uncaught exceptions). */
    List<String> consoleErrors() {
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
            if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
                consoleErrors.add(e.getMessage());
            }
        }
        return List.copyOf(consoleErrors);
    }

    private void drainPerformanceLog() {
        for (LogEntry entry : driver.manage().logs().get(LogType.PERFORMANCE)) {
            JsonNode message;
            try {
                message = JSON.readTree(entry.getMessage()).path("message");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            JsonNode params = message.path("params");
            String id = params.path("requestId").asText();
            switch (message.path("method").asText()) {
                case "Network.requestWillBeSent" -> {
                    Exchange.Builder before = pending.remove(id);
                    if (before != null && params.has("redirectResponse")) {
                        before.requestHeaders.putAll(sentHeaders.getOrDefault(id, Map.of()));
                        exchanges.add(before.complete(params.path("redirectResponse")));
                    }
                    JsonNode request = params.path("request");
                    Exchange.Builder b = new Exchange.Builder(
                            request.path("method").asText(), request.path("url").asText());
                    b.requestHeaders.putAll(lowerCase(request.path("headers")));
                    pending.put(id, b);
                }
                case "Network.requestWillBeSentExtraInfo" ->
                    sentHeaders
                            .computeIfAbsent(id, k -> new LinkedHashMap<>())
                            .putAll(lowerCase(params.path("headers")));
                case "Network.responseReceived" -> {
                    Exchange.Builder b = pending.remove(id);
                    if (b != null) {
                        b.requestHeaders.putAll(sentHeaders.getOrDefault(id, Map.of()));
                        sentHeaders.remove(id);
                        exchanges.add(b.complete(params.path("response")));
                    }
                }
                default -> {}
            }
        }
    }

    private static Map<String, String> lowerCase(JsonNode headers) {
        Map<String, String> out = new LinkedHashMap<>();
        headers.fields()
                .forEachRemaining(f -> out.put(
                        f.getKey().toLowerCase(Locale.ROOT), f.getValue().asText()));
        return out;
    }

    private WebDriverWait waiting() {
        return new WebDriverWait(driver, WAIT);
    }

    @Override
    public void close() {
        driver.quit();
    }
}
