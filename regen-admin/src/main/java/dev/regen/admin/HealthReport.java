package dev.regen.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The health of the two things Regen depends on. Overall: {@code ok} when both are up (or not yet
 * checked), {@code degraded} otherwise. Whether Regen can serve pages at all ({@link #canServe}) is
 * another matter: with the store down, pages held in memory and fresh renders are still served; with
 * the origin down, cached pages are.
 */
public record HealthReport(Component store, Component origin) {
    public HealthReport {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(origin, "origin");
    }

    /** Nothing checked yet. */
    public static final HealthReport UNKNOWN = new HealthReport(Component.UNKNOWN, Component.UNKNOWN);

    /** DEGRADED: it answers, but something fails (writes refused, a disk full, corruption found). */
    public enum State {
        UP,
        DEGRADED,
        DOWN,
        UNKNOWN
    }

    /**
     * One component as its last probe saw it.
     *
     * @param detail    a few words: what the probe saw ("HTTP 200", "connection refused")
     * @param checkedAt when the probe finished, or null if never
     * @param latency   how long the probe took, or null
     */
    public record Component(State state, String detail, Instant checkedAt, Duration latency) {
        public static final Component UNKNOWN = new Component(State.UNKNOWN, "not checked yet", null, null);

        public Component {
            Objects.requireNonNull(state, "state");
            detail = detail == null ? "" : detail;
        }

        public static Component up(String detail, Instant at, Duration latency) {
            return new Component(State.UP, detail, at, latency);
        }

        public static Component degraded(String detail, Instant at, Duration latency) {
            return new Component(State.DEGRADED, detail, at, latency);
        }

        public static Component down(String detail, Instant at, Duration latency) {
            return new Component(State.DOWN, detail, at, latency);
        }
    }

    /** {@code ok} or {@code degraded}. */
    public String status() {
        return healthy(store) && healthy(origin) ? "ok" : "degraded";
    }

    /**
     * Whether pages can be served: the origin can render them, or the store or memory holds them.
     * False only when the origin and the store are both down and memory holds no page: then, and only
     * then, a load balancer should send traffic elsewhere. (A store down alone is not a reason: every
     * node shares it, and taking them all out at once serves no one.)
     *
     * @param pagesInMemory pages held in this process's memory (L1)
     */
    public boolean canServe(long pagesInMemory) {
        return origin.state() != State.DOWN || store.state() != State.DOWN || pagesInMemory > 0;
    }

    /** Why pages cannot be served, when {@link #canServe} is false. */
    public String whyNot(long pagesInMemory) {
        List<String> why = new ArrayList<>();
        if (origin.state() == State.DOWN) {
            why.add("the origin is down (" + origin.detail() + ")");
        }
        if (store.state() == State.DOWN) {
            why.add("the store is down (" + store.detail() + ")");
        }
        if (pagesInMemory == 0) {
            why.add("no page is held in memory");
        }
        return String.join(", ", why);
    }

    private static boolean healthy(Component c) {
        return c.state() == State.UP || c.state() == State.UNKNOWN;
    }

    static String name(State state) {
        return state.name().toLowerCase(Locale.ROOT);
    }
}
