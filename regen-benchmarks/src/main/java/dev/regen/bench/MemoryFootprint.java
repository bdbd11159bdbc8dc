package dev.regen.bench;

import dev.regen.Regen;
import dev.regen.RegenConfig;
import dev.regen.RegenEngine;
import dev.regen.internal.CachedPage;
import dev.regen.internal.Reply;
import dev.regen.store.embedded.EmbeddedStore;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/**
 * How much heap N cached 20 KB pages cost beyond their bodies (identity and gzip variant), with the
 * default L1 budget. The store is the embedded one, which keeps its data off the Java heap, so the
 * heap growth is L1's. Run:
 * {@code java -Xmx2g -cp regen-benchmarks/target/benchmarks.jar dev.regen.bench.MemoryFootprint 10000}.
 */
public final class MemoryFootprint {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        long budget = 256L << 20;
        Path dir = Files.createTempDirectory("regen-footprint");
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        Pages origin = new Pages();
        try (EmbeddedStore store = EmbeddedStore.open(dir, InstantSource.system());
                RegenEngine engine = Regen.newBuilder()
                        .config(RegenConfig.builder()
                                .revalidate(Duration.ofHours(1))
                                .build())
                        .store(store)
                        .memoryBytes(budget)
                        .build()
                        .newEngine(origin)) {
            // warm up classes and pools with pages that are then dropped from the count
            Edge.serve(engine, origin, "/warm");
            long before = usedAfterGc(memory);
            for (int i = 0; i < n; i++) {
                Edge.serve(engine, origin, "/p/" + i);
            }
            long after = usedAfterGc(memory);
            long bodies = 0;
            long gzip = 0;
            List<CachedPage> sample = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Reply r = Edge.serve(engine, origin, "/p/" + i);
                CachedPage p = ((Reply.Page) r).page();
                bodies += p.body().length;
                gzip += p.gzipBody() == null ? 0 : p.gzipBody().length;
                if (i < 10) {
                    sample.add(p);
                }
            }
            int inMemory = (int) engine.memoryEntries();
            long grown = after - before;
            System.out.printf("pages rendered:            %d%n", n);
            System.out.printf("pages held in L1:          %d (budget %d MiB)%n", inMemory, budget >> 20);
            System.out.printf(
                    "identity bodies:           %.1f MiB (%.0f B/page)%n", bodies / 1048576.0, (double) bodies / n);
            System.out.printf(
                    "gzip variants:             %.1f MiB (%.0f B/page)%n", gzip / 1048576.0, (double) gzip / n);
            System.out.printf("heap growth:               %.1f MiB%n", grown / 1048576.0);
            System.out.printf(
                    "overhead beyond bodies:    %.0f B/page%n",
                    (double) (grown - bodies - gzip) / Math.max(1, inMemory));
            System.out.printf("L1 weight (engine's view): %.1f MiB%n", engine.memoryBytes() / 1048576.0);
            if (sample.isEmpty()) {
                throw new IllegalStateException("no page");
            }
        }
    }

    private static long usedAfterGc(MemoryMXBean memory) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
