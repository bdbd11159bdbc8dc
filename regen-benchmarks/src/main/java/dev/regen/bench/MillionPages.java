package dev.regen.bench;

import dev.regen.Regen;
import dev.regen.RegenConfig;
import dev.regen.RegenEngine;
import dev.regen.internal.Header;
import dev.regen.internal.Origin;
import dev.regen.internal.OriginResponse;
import dev.regen.store.embedded.EmbeddedStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * Fills an embedded store with N pages rendered through the engine, as {@code regen serve} would
 * store them: page {@code i} is {@code /c<i % 100>/p<i>} (100 subtrees of N/100 pages), about
 * {@code bytes} bytes of HTML, with {@code Cache-Tag: t<i % 97>} (97 tags of ~N/97 pages each) and the
 * tag index entries that go with it, for the public host {@code HOST} (the {@code Host} the requests
 * that read them will carry). Prints the time taken and the store's size on disk per page. Run:
 * {@code java -cp regen-benchmarks/target/benchmarks.jar dev.regen.bench.MillionPages DIR 1000000 3072 127.0.0.1:18410}.
 */
public final class MillionPages {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int bytes = args.length > 2 ? Integer.parseInt(args[2]) : 3072;
        String host = args.length > 3 ? args[3] : "localhost";
        Origin origin = request -> CompletableFuture.completedFuture(page(request.target(), bytes));
        long start = System.nanoTime();
        try (EmbeddedStore store = EmbeddedStore.open(dir, InstantSource.system(), 64L << 30);
                RegenEngine engine = Regen.newBuilder()
                        .config(RegenConfig.builder()
                                .revalidate(Duration.ofDays(30))
                                .build())
                        .store(store)
                        .memoryBytes(16L << 20)
                        .build()
                        .newEngine(origin)) {
            for (int i = 0; i < n; i++) {
                Edge.serve(engine, origin, host, path(i));
                if (i % 100_000 == 0 && i > 0) {
                    System.out.printf("%,d pages, %.0f s%n", i, (System.nanoTime() - start) / 1e9);
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long disk = size(dir);
        System.out.printf("stored %,d pages of ~%d bytes in %.0f s (%.0f pages/s)%n", n, bytes, seconds, n / seconds);
        System.out.printf(
                "on disk: %.1f MiB, %.0f bytes per page (%.2f x the body)%n",
                disk / 1048576.0, (double) disk / n, (double) disk / n / bytes);
    }

    static String path(int i) {
        return "/c" + (i % 100) + "/p" + i;
    }

    static OriginResponse page(String path, int bytes) {
        OriginResponse page = Pages.page(path, bytes);
        int i = Integer.parseInt(path.substring(path.lastIndexOf('p') + 1));
        List<Header> headers = new ArrayList<>(List.of(
                new Header("Content-Type", "text/html; charset=utf-8"), new Header("Cache-Tag", "t" + (i % 97))));
        return new OriginResponse(200, headers, page.body());
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
