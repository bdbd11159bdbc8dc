package dev.regen.internal;

/** What the cache holds under a key: a page, or the marker of a URL whose pages vary. */
public sealed interface Cached permits CachedPage, VaryMarker {}
