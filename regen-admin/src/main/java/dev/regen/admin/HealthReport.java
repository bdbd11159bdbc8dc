package dev.regen.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The health of the two things Regen depends on. Overall: {@code ok} when both are up (or not yet
 * checked), {@code degraded} otherwise; the endpoint answers 503 only when the store is down, since
 * without the origin cached pages are still served.
 */
public record HealthReport(Component store, Component origin) {
    public HealthReport {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(origin, "origin");
    }

    /** Nothing checked yet. */
    public static final HealthReport UNKNOWN = new HealthReport(Component.UNKNOWN, Component.UNKNOWN);

    public enum State { UP, DOWN, UNKNOWN }

    /**
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

        public static Component down(String detail, Instant at, Duration latency) {
            return new Component(State.DOWN, detail, at, latency);
        }
    }

    /** {@code ok} or {@code degraded}. */
    public String status() {
        return store.state() == State.DOWN || origin.state() == State.DOWN ? "degraded" : "ok";
    }

    /** Whether the endpoint answers 503: the store, without which nothing can be served or stored, is down. */
    public boolean failing() {
        return store.state() == State.DOWN;
    }
}
