package dev.regen.store.redis;

import dev.regen.store.StoreHealth;
import io.lettuce.core.RedisCommandExecutionException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Redis store's health from the outcome of its commands: down from a failed command until one
 * succeeds (the cluster coordination logs those changes, so this class does not), degraded from a put
 * Redis refused for being over {@code maxmemory} until a put is accepted again or Redis reports room,
 * with one log line each way.
 */
final class RedisHealth {
    private static final Logger log = LoggerFactory.getLogger(RedisStore.class);
    private static final long RECHECK_NANOS = 1_000_000_000L;

    private final String name;
    private final AtomicReference<String> down = new AtomicReference<>();
    private final AtomicBoolean full = new AtomicBoolean();
    private final AtomicBoolean rechecking = new AtomicBoolean();
    private final AtomicLong lastRecheck = new AtomicLong(System.nanoTime());

    RedisHealth(String name) {
        this.name = name;
    }

    /** Whether {@code e} (from a command) is Redis refusing a write for being over {@code maxmemory}. */
    static boolean outOfMemory(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof RedisCommandExecutionException
                && t.getMessage() != null
                && t.getMessage().startsWith("OOM");
    }

    void succeeded(boolean write) {
        down.set(null);
        if (write && full.compareAndSet(true, false)) {
            log.info("redis store {}: Redis has room again, pages are stored", name);
        }
    }

    void failed(Throwable e, String reason) {
        if (outOfMemory(e)) {
            down.set(null);
            if (full.compareAndSet(false, true)) {
                log.warn(
                        "redis store {}: Redis is over its maxmemory and refuses writes: pages are served but not "
                                + "stored until it has room (see the README on sizing Redis)",
                        name);
            }
        } else {
            down.set(reason);
        }
    }

    /**
     * The state; while writes are refused, asks Redis (at most once a second, without waiting for the
     * answer) whether it has room again, so health recovers even when no page is being stored.
     *
     * @param memory an INFO memory call
     */
    StoreHealth current(Supplier<CompletionStage<String>> memory) {
        String d = down.get();
        if (d != null) {
            return StoreHealth.down(d);
        }
        if (!full.get()) {
            return StoreHealth.UP;
        }
        long now = System.nanoTime();
        long last = lastRecheck.get();
        if (now - last > RECHECK_NANOS
                && lastRecheck.compareAndSet(last, now)
                && rechecking.compareAndSet(false, true)) {
            try {
                memory.get().whenComplete((info, e) -> {
                    rechecking.set(false);
                    if (info != null && hasRoom(info)) {
                        succeeded(true);
                    }
                });
            } catch (RuntimeException e) {
                rechecking.set(false);
            }
        }
        return StoreHealth.degraded("writes refused: Redis is over its maxmemory");
    }

    /** From INFO memory: no limit, or used memory under it. */
    static boolean hasRoom(String info) {
        long used = field(info, "used_memory:");
        long max = field(info, "maxmemory:");
        return used >= 0 && max >= 0 && (max == 0 || used < max);
    }

    private static long field(String info, String name) {
        for (String line : info.split("\r?\n", -1)) {
            if (line.startsWith(name)) {
                try {
                    return Long.parseLong(line.substring(name.length()).trim());
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
