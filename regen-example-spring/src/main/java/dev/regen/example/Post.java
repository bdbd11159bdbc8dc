package dev.regen.example;

import java.time.Instant;

/** One blog post. */
public record Post(int id, String title, String body, Instant updatedAt) {}
