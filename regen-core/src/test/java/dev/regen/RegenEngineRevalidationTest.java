package dev.regen;

import static dev.regen.TestEdge.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.regen.internal.Header;
import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.MemoryStore;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.testing.FakeClock;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Revalidation is acknowledged only for what happened; a lost store or index does not make it a no-op. */
class RegenEngineRevalidationTest {
    private final FakeClock clock = new FakeClock();
    private final FakeOrigin origin =
            new FakeOrigin().respondWith(r -> FakeOrigin.page("page " + r.target(), new Header("Cache-Tag", "posts")));
    private final FaultyStore store = new FaultyStore(new MemoryStore(64L << 20, clock));
    private final RegenEngine engine = Regen.newBuilder()
            .config(RegenConfig.builder().revalidate(Duration.ofSeconds(60)).build())
            .store(store)
            .clock(clock)
            // store I/O and background renders run in the call that starts them: nothing to wait for
            .executor(Runnable::run)
            .build()
            .newEngine(origin);
    private final TestEdge edge = new TestEdge(engine, origin);

    @AfterEach
    void close() {
        engine.close();
        store.close();
    }

    private TestEdge.Served serve(String target) throws Exception {
        return edge.serve(get(target)).get(10, TimeUnit.SECONDS);
    }

    @Test
    void invalidate_storeRefusesTheWrite_failsNamingTheKeyAndCountsOnlyWhatWasDone() throws Exception {
        serve("/a");
        serve("/b");
        store.failWritesOf = "page:/b ";
        Throwable t = catchThrowable(() -> engine.invalidate(java.util.List.of("/a", "/b"), java.util.List.of(), true)
                .join());
        assertThat(t).isInstanceOf(CompletionException.class).hasCauseInstanceOf(RevalidationException.class);
        RevalidationException e = (RevalidationException) t.getCause();
        assertThat(e.applied()).isEqualTo(1);
        assertThat(e.notApplied())
                .singleElement()
                .asString()
                .startsWith("/b @example.com: ")
                .contains("refused");
        store.failWritesOf = null;
        assertThat(serve("/a").cacheStatus()).isEqualTo(CacheStatus.MISS);
        assertThat(engine.invalidate(java.util.List.of("/b"), java.util.List.of(), true)
                        .join())
                .isEqualTo(1);
    }

    @Test
    void invalidate_storeCannotList_failsAndSaysWhat() throws Exception {
        serve("/a");
        store.failLists = true;
        Throwable t = catchThrowable(() -> engine.invalidate(java.util.List.of("/a"), java.util.List.of("posts"), false)
                .join());
        RevalidationException e = (RevalidationException) t.getCause();
        assertThat(e.notApplied())
                .anyMatch(l -> l.startsWith("listing the pages under /a: "))
                .anyMatch(l -> l.startsWith("listing the pages tagged posts: "));
    }

    @Test
    void invalidate_storeFlushed_pagesInMemoryAreStillRevalidatedByPathAndTag() throws Exception {
        serve("/a");
        serve("/t");
        store.flush();
        assertThat(engine.invalidate(java.util.List.of("/a"), java.util.List.of(), false)
                        .join())
                .isEqualTo(1);
        assertThat(serve("/a").cacheStatus()).isEqualTo(CacheStatus.MISS);
        // /a again from the store (rendered since, tag index and all), /t from memory only
        assertThat(engine.invalidate(java.util.List.of(), java.util.List.of("posts"), true)
                        .join())
                .isEqualTo(2);
        assertThat(serve("/t").cacheStatus()).isEqualTo(CacheStatus.MISS);
    }

    @Test
    void render_tagIndexLost_theNextRenderWritesItAgainAndAnUnchangedOneIsNotRewritten() throws Exception {
        serve("/a");
        assertThat(store.get("tag:posts /a @example.com")).isNotNull();
        store.delete("tag:posts /a @example.com");
        clock.advance(Duration.ofSeconds(61));
        serve("/a"); // stale: one background render, tags unchanged
        awaitTagEntry();
        int writes = store.tagWrites.get();
        clock.advance(Duration.ofSeconds(61));
        serve("/a");
        assertThat(origin.calls()).isEqualTo(3);
        assertThat(store.tagWrites.get())
                .as("an index entry still there is not written again")
                .isEqualTo(writes);
        assertThat(engine.invalidate(java.util.List.of(), java.util.List.of("posts"), true)
                        .join())
                .isEqualTo(1);
    }

    private void awaitTagEntry() {
        assertThat(store.get("tag:posts /a @example.com"))
                .as("the index entry is back")
                .isNotNull();
    }

    /** A store that refuses writes of some keys or every listing when told to. */
    static final class FaultyStore implements KvStore {
        private final MemoryStore inner;
        volatile String failWritesOf;
        volatile boolean failLists;
        final AtomicInteger tagWrites = new AtomicInteger();

        FaultyStore(MemoryStore inner) {
            this.inner = inner;
        }

        void flush() {
            for (var k : inner.list("", null, 1000).keys()) {
                inner.delete(k.name());
            }
        }

        @Override
        public KvEntry get(String key) {
            return inner.get(key);
        }

        @Override
        public void put(String key, byte[] value, PutOptions options) {
            refuse(key);
            if (key.startsWith("tag:")) {
                tagWrites.incrementAndGet();
            }
            inner.put(key, value, options);
        }

        @Override
        public boolean replaceMetadata(String key, PutOptions options) {
            refuse(key);
            if (key.startsWith("tag:")) {
                tagWrites.incrementAndGet();
            }
            return inner.replaceMetadata(key, options);
        }

        @Override
        public boolean delete(String key) {
            refuse(key);
            return inner.delete(key);
        }

        @Override
        public ListPage list(String prefix, String cursor, int limit) {
            if (failLists) {
                throw new StoreException("listing refused");
            }
            return inner.list(prefix, cursor, limit);
        }

        @Override
        public void close() {
            inner.close();
        }

        private void refuse(String key) {
            String f = failWritesOf;
            if (f != null && key.startsWith(f)) {
                throw new StoreException("write of " + key + " refused");
            }
        }
    }
}
