package dev.regen;

/** What the cache holds under a key: a page, or the marker of a URL whose pages vary. */
sealed interface Cached permits CachedPage, VaryMarker {}
