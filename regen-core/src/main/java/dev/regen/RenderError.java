package dev.regen;

import java.time.Instant;

/** A render that failed, as the dashboard lists it. */
public record RenderError(Instant at, String key, String reason) {
}
