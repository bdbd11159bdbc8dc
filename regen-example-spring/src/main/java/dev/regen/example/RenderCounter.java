package dev.regen.example;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Counts the renders of each page, so a page can show "Render #n", and makes each render take
 * {@code blog.render-delay} (a stand-in for a slow database), so a cache hit can be told from a render.
 */
@Component
public class RenderCounter {
    private final ConcurrentMap<String, AtomicInteger> renders = new ConcurrentHashMap<>();
    private final Duration delay;

    public RenderCounter(@Value("${blog.render-delay:150ms}") Duration delay) {
        this.delay = delay;
    }

    /** One more render of {@code page}: waits the render delay and returns what to show. */
    public Render render(String page) {
        int n = renders.computeIfAbsent(page, p -> new AtomicInteger()).incrementAndGet();
        if (!delay.isZero()) {
            try {
                Thread.sleep(delay.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new Render(n, Instant.now());
    }

    /** How many times {@code page} was rendered. */
    public int count(String page) {
        AtomicInteger n = renders.get(page);
        return n == null ? 0 : n.get();
    }

    /** What a page shows about its own render. */
    public record Render(int number, Instant at) {}
}
