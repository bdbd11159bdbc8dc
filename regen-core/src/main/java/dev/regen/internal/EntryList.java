package dev.regen.internal;

import dev.regen.RegenEngine;
import java.util.List;

/** One page of {@link RegenEngine#entries}; {@code cursor} is null on the last page. */
public record EntryList(List<EntryInfo> entries, String cursor) {}
