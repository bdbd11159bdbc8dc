package dev.regen.it.frameworks;

/** What the Next.js fixture's pages show, for the tests that browse them. */
final class NextPages {
    private NextPages() {}

    /**
     * Waits until React has hydrated the page (the root layout's client component sets
     * {@code data-hydrated} on {@code <html>} to its build version) and returns that version.
     */
    static String awaitHydrated(Browser b) {
        b.awaitTrue("document.documentElement.dataset.hydrated", "React hydrated the page (html[data-hydrated])");
        return (String) b.js("return document.documentElement.dataset.hydrated;");
    }

    /** Clicks the layout's counter and waits until it counts the click: the page is interactive. */
    static void awaitInteractive(Browser b) {
        String before = b.text("#counter");
        int clicks = Integer.parseInt(before.replaceAll("^clicked (\\d+).*$", "$1"));
        b.click("#counter");
        b.awaitTextMatches("#counter", "clicked " + (clicks + 1) + " .*");
    }
}
