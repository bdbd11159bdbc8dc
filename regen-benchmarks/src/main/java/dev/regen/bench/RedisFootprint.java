package dev.regen.bench;

import dev.regen.Regen;
import dev.regen.RegenConfig;
import dev.regen.RegenEngine;
import dev.regen.internal.Origin;
import dev.regen.store.redis.RedisStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;

/**
 * How much Redis memory a cached page takes, to size {@code maxmemory}: renders N pages through the
 * engine onto a {@link RedisStore} (each with its metadata, two tags and their index entries) and
 * reads Redis's {@code used_memory} before and after. Run against an empty Redis:
 * {@code java -cp regen-benchmarks/target/benchmarks.jar dev.regen.bench.RedisFootprint redis://127.0.0.1:6379 10000 20480}.
 */
public final class RedisFootprint {
    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args.length > 0 ? args[0] : "redis://127.0.0.1:6379");
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int size = args.length > 2 ? Integer.parseInt(args[2]) : Pages.PAGE_BYTES;
        RedisClient client = RedisClient.create(uri.toString());
        Origin origin = request -> CompletableFuture.completedFuture(Pages.page(request.target(), size));
        try (StatefulRedisConnection<String, String> redis = client.connect();
                RedisStore store = RedisStore.open(uri, InstantSource.system());
                RegenEngine engine = Regen.newBuilder()
                        .config(RegenConfig.builder()
                                .revalidate(Duration.ofHours(1))
                                .build())
                        .store(store)
                        .memoryBytes(1 << 20)
                        .build()
                        .newEngine(origin)) {
            if (redis.sync().dbsize() > 0) {
                throw new IllegalStateException("Redis at " + uri + " is not empty: measure on an empty one");
            }
            long before = usedMemory(redis);
            long bodies = 0;
            for (int i = 0; i < n; i++) {
                dev.regen.internal.Reply reply = Edge.serve(engine, origin, "/p/" + i);
                bodies += ((dev.regen.internal.Reply.Page) reply).page().body().length;
            }
            long grown = usedMemory(redis) - before;
            System.out.printf(
                    "pages stored:          %d of ~%d bytes (%d keys in Redis)%n",
                    n, size, redis.sync().dbsize());
            System.out.printf(
                    "bodies:                %.1f MiB (%.0f B/page)%n", bodies / 1048576.0, (double) bodies / n);
            System.out.printf("used_memory growth:    %.1f MiB%n", grown / 1048576.0);
            System.out.printf(
                    "Redis bytes per page:  %.0f (%.0f beyond the body)%n",
                    (double) grown / n, (double) (grown - bodies) / n);
        } finally {
            client.shutdown();
        }
    }

    private static long usedMemory(StatefulRedisConnection<String, String> redis) {
        for (String line : redis.sync().info("memory").split("\r?\n", -1)) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()).trim());
            }
        }
        throw new IllegalStateException("no used_memory in INFO memory");
    }
}
