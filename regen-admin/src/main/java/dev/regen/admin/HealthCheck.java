package dev.regen.admin;

/**
 * What {@code /_regen/health} (and {@code /health/ready}) report: the edge's view of its store and origin. Implementations answer
 * from what they last observed and never block (the endpoint is public and must stay cheap); see
 * {@link HealthMonitor} for one that probes in the background.
 */
@FunctionalInterface
public interface HealthCheck {

    /** The latest known state. Fast, never blocks, never throws. */
    HealthReport report();
}
