package dev.regen.store;

import java.util.List;

/**
 * One page of {@link KvStore#list}.
 *
 * @param keys     the keys of this page, in ascending order
 * @param cursor   pass to the next call to continue, or null when {@code complete}
 * @param complete true when no key with the prefix follows this page
 */
public record ListPage(List<ListedKey> keys, String cursor, boolean complete) {
    public ListPage {
        keys = List.copyOf(keys);
        if (complete != (cursor == null)) {
            throw new IllegalArgumentException("cursor must be null exactly when the listing is complete");
        }
    }
}
