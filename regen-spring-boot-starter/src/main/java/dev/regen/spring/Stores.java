package dev.regen.spring;

import dev.regen.store.KvStore;
import dev.regen.store.MemoryStore;
import dev.regen.store.embedded.EmbeddedStore;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Locale;
import org.springframework.util.ClassUtils;

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
            return Embedded.open(path, clock);
        }
        String lower = v.toLowerCase(Locale.ROOT);
        if (lower.startsWith("redis://") || lower.startsWith("rediss://")) {
            throw new IllegalArgumentException("regen.store: for Redis, define a dev.regen.store.KvStore bean "
                    + "(from regen-store-redis) instead of the property");
        }
        throw new IllegalArgumentException("regen.store must be memory or embedded:DIR, got \"" + v + "\"");
    }

    /** Kept apart so that the embedded store's classes load only when it is chosen. */
    private static final class Embedded {
        static KvStore open(Path dir, InstantSource clock) {
            return EmbeddedStore.open(dir, clock);
        }
    }
}
