package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.regen.RegenConfig;
import dev.regen.server.config.Front;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** A client that leaves before the engine decides must not leave a render no one ends. */
class DroppedForwardIT {

    @Test
    void clientLeavesWhileWaiting_itsForwardIsEnded_laterRequestsDoNotWait() throws Exception {
        FakeClock clock = new FakeClock();
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (TestOrigin origin = new TestOrigin()) {
            origin.on(
                    "/v",
                    seen -> TestOrigin.Response.html(
                            "fr".equals(seen.header("Accept-Language")) ? "bonjour" : "hello",
                            "Vary",
                            "Accept-Language"));
            ServerConfig cfg = new ServerConfig(
                    URI.create(origin.url()),
                    "127.0.0.1",
                    0,
                    RegenConfig.builder().renderTimeout(Duration.ofSeconds(2)).build(),
                    null,
                    new StoreSpec.Memory(),
                    64L << 20,
                    Duration.ofSeconds(1),
                    "/api/revalidate",
                    false,
                    ServerConfig.AccessLog.OFF,
                    null,
                    Front.DEFAULTS);
            RegenServer server = RegenServer.start(cfg, new MemoryStore(64L << 20, clock), clock);
            try {
                URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v");
                origin.hold();
                var fr = client.sendAsync(
                        HttpRequest.newBuilder(uri)
                                .header("Accept-Language", "fr")
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                await(() -> origin.renders("/v") == 1);
                long misses = server.engine().stats().misses();
                // another variant waits on the French render, then its client hangs up
                try (Socket en = new Socket("127.0.0.1", server.port())) {
                    en.getOutputStream()
                            .write(("GET /v HTTP/1.1\r\nHost: 127.0.0.1:" + server.port()
                                            + "\r\nAccept-Language: en\r\n\r\n")
                                    .getBytes(StandardCharsets.ISO_8859_1));
                    await(() -> server.engine().stats().misses() > misses);
                }
                Thread.sleep(200);
                origin.release();
                assertThat(fr.get(10, TimeUnit.SECONDS).body()).isEqualTo("bonjour");
                long start = System.nanoTime();
                var next = client.send(
                        HttpRequest.newBuilder(uri)
                                .header("Accept-Language", "en")
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(next.body()).isEqualTo("hello");
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                        .isLessThan(1500);
            } finally {
                server.close();
            }
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within 5 s");
            }
            Thread.sleep(5);
        }
    }
}
