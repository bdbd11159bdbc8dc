package dev.regen.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium, driven through Debian's chromedriver: Selenium is given both paths, so it
 * never downloads a browser or a driver ({@code test.sh} installs the packages). Needs Selenium's
 * chrome driver on the test classpath.
 */
public final class Chromium {
    public static final Path BINARY = Path.of("/usr/bin/chromium");
    public static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    private Chromium() {}

    /**
     * Headless, a fresh profile in {@code profile}, and no network besides this machine's loopback: without
     * the background-networking flags Chromium keeps trying Google's hosts, which this machine refuses.
     */
    public static ChromeOptions options(Path profile) {
        if (!Files.isExecutable(BINARY) || !Files.isExecutable(DRIVER)) {
            throw new IllegalStateException("Debian's chromium and chromium-driver are needed (" + BINARY + ", "
                    + DRIVER + "): run ./test.sh, which installs them, or apt-get install chromium chromium-driver");
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BINARY.toFile());
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-default-apps",
                "--disable-extensions",
                "--window-size=1440,1200",
                "--user-data-dir=" + profile.toAbsolutePath());
        return options;
    }

    /** Starts Chromium with these options, through its own chromedriver on a free loopback port. */
    public static ChromeDriver start(ChromeOptions options) {
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort()
                .build();
        return new ChromeDriver(service, options);
    }

    /** Starts Chromium with {@link #options(Path) the usual options}. */
    public static ChromeDriver start(Path profile) {
        return start(options(profile));
    }
}
