package dev.regen.spring;

import dev.regen.store.KvStore;
import dev.regen.store.MemoryStore;
import dev.regen.store.embedded.EmbeddedStore;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Locale;
import org.springframework.util.ClassUtils;
import org.springframework.util.unit.DataSize;

/** Opens the store named by {@code regen.store}. */
final class Stores {
    private static final String EMBEDDED = "dev.regen.store.embedded.EmbeddedStore";

    private Stores() {}

    /** @throws IllegalArgumentException naming {@code regen.store} for a value it cannot open */
    static KvStore open(String spec, long memoryBytes, InstantSource clock) {
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException("regen.memory must be positive: " + memoryBytes + " bytes");
        }
        String v = spec == null ? "" : spec.strip();
        if (v.equals("memory")) {
            return new MemoryStore(memoryBytes, clock);
        }
        if (v.startsWith("embedded:")) {
            String dir = v.substring("embedded:".length()).strip();
            long maxBytes = 0;
            int q = dir.indexOf('?');
            if (q >= 0) {
                maxBytes = maxSize(dir.substring(q + 1));
                dir = dir.substring(0, q).strip();
            }
            if (dir.isEmpty()) {
                throw new IllegalArgumentException("regen.store: embedded: needs a directory, e.g. embedded:./.regen");
            }
            if (!ClassUtils.isPresent(EMBEDDED, Stores.class.getClassLoader())) {
                throw new IllegalArgumentException("regen.store=" + v
                        + " needs the embedded store: add the dependency dev.regen:regen-store-embedded");
            }
            Path path;
            try {
                path = Path.of(dir);
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("regen.store: not a valid directory: \"" + dir + "\"");
            }
            return Embedded.open(path, clock, maxBytes);
        }
        String lower = v.toLowerCase(Locale.ROOT);
        if (lower.startsWith("redis://") || lower.startsWith("rediss://")) {
            throw new IllegalArgumentException("regen.store: for Redis, define a dev.regen.store.KvStore bean "
                    + "(from regen-store-redis) instead of the property");
        }
        throw new IllegalArgumentException("regen.store must be memory or embedded:DIR, got \"" + v + "\"");
    }

    /** {@code max-size=SIZE} after {@code embedded:DIR?}, as {@code regen serve} reads it. */
    private static long maxSize(String query) {
        String hint =
                "regen.store: the one option of embedded:DIR?... is max-size, e.g. embedded:./.regen?max-size=10GB";
        if (!query.startsWith("max-size=") || query.contains("&")) {
            throw new IllegalArgumentException(hint + ", got \"" + query + "\"");
        }
        String size = query.substring("max-size=".length()).strip();
        long bytes;
        try {
            bytes = DataSize.parse(size).toBytes();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "regen.store: max-size must be a size like 500MB or 10GB, got \"" + size + "\"");
        }
        if (bytes < 1024 * 1024) {
            throw new IllegalArgumentException("regen.store: max-size must be at least 1MB, got " + bytes + " bytes");
        }
        return bytes;
    }

    /** Kept apart so that the embedded store's classes load only when it is chosen. */
    private static final class Embedded {
        static KvStore open(Path dir, InstantSource clock, long maxBytes) {
            return maxBytes > 0 ? EmbeddedStore.open(dir, clock, maxBytes) : EmbeddedStore.open(dir, clock);
        }
    }
}
