package dev.regen.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.regen.store.KvEntry;
import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real writer process (SIGKILL) at random points while it puts pages, then checks that
 * the store opens, that every entry is whole (the checksum in its metadata matches its value) and
 * that every put the writer had acknowledged is there.
 */
class EmbeddedStoreCrashTest {

    private static final int CYCLES = 5;
    private static final String EOF = "\0eof";

    @TempDir
    Path tmp;

    @Test
    @Timeout(90)
    void kill_whileWriting_leavesOnlyWholeEntriesAndKeepsAcknowledgedPuts() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Path dir = tmp.resolve("store");
        Map<String, Long> lastAcked = new HashMap<>(); // key -> highest acknowledged seq
        long nextSeq = 0;

        for (int cycle = 0; cycle < CYCLES; cycle++) {
            String context = "seed " + seed + ", cycle " + cycle;
            int killAfter = 5 + random.nextInt(60);
            Path errors = tmp.resolve("writer-" + cycle + ".err");
            Process writer = startWriter(dir, nextSeq, errors);
            try {
                BlockingQueue<String> lines = pump(writer);
                expectLine(lines, "ready", errors, context);
                long acked = nextSeq - 1;
                for (int i = 0; i < killAfter; i++) {
                    String line = expectLine(lines, "ack ", errors, context);
                    acked = Long.parseLong(line.substring(4));
                    lastAcked.put(CrashWriter.key(acked), acked);
                }
                LockSupport.parkNanos(random.nextInt(3_000_000)); // land anywhere inside a put
                writer.destroyForcibly();
                assertThat(writer.waitFor(10, TimeUnit.SECONDS))
                        .as("writer died, " + context)
                        .isTrue();
                nextSeq = Math.max(nextSeq, acked + 1);
            } finally {
                writer.destroyForcibly();
            }

            nextSeq = Math.max(nextSeq, verify(dir, lastAcked, context) + 1);
        }
    }

    /** Checks every entry and returns the highest sequence number stored. */
    private static long verify(Path dir, Map<String, Long> lastAcked, String context) throws Exception {
        long maxSeq = -1;
        int count = 0;
        try (EmbeddedStore store = EmbeddedStore.open(dir, InstantSource.system())) {
            String cursor = null;
            do {
                ListPage page = store.list("/page/", cursor, 16);
                for (ListedKey listed : page.keys()) {
                    KvEntry entry = store.get(listed.name());
                    assertThat(entry)
                            .as("%s listed but not found, %s", listed.name(), context)
                            .isNotNull();
                    long seq = Long.parseLong(entry.metadata().get("seq"));
                    assertThat(CrashWriter.key(seq)).as(context).isEqualTo(listed.name());
                    assertThat(CrashWriter.sha256(entry.value()))
                            .as("checksum of %s (seq %d), %s", listed.name(), seq, context)
                            .isEqualTo(entry.metadata().get("sha256"));
                    assertThat(entry.value())
                            .as("value of seq %d, %s", seq, context)
                            .isEqualTo(CrashWriter.value(seq));
                    assertThat(listed.size()).isEqualTo(entry.value().length);
                    maxSeq = Math.max(maxSeq, seq);
                    count++;
                    Long acked = lastAcked.get(listed.name());
                    assertThat(seq)
                            .as("%s lost an acknowledged put, %s", listed.name(), context)
                            .isGreaterThanOrEqualTo(acked == null ? 0 : acked);
                }
                cursor = page.cursor();
            } while (cursor != null);
        }
        assertThat(count)
                .as("entries after the crash, " + context)
                .isGreaterThanOrEqualTo(lastAcked.size())
                .isLessThanOrEqualTo(CrashWriter.KEYS);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(EmbeddedStore.FILE_NAME));
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
            rs.next();
            assertThat(rs.getString(1)).as("integrity, " + context).isEqualTo("ok");
        }
        return maxSeq;
    }

    private static Process startWriter(Path dir, long fromSeq, Path errors) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new ProcessBuilder(
                        java.toString(),
                        "-Xmx256m",
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        System.getProperty("java.class.path"),
                        CrashWriter.class.getName(),
                        dir.toString(),
                        Long.toString(fromSeq))
                .redirectError(errors.toFile())
                .start();
    }

    /** Lines of the writer's stdout, then {@link #EOF}; read on a thread so waits can time out. */
    private static BlockingQueue<String> pump(Process process) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread t = new Thread(
                () -> {
                    try (BufferedReader in = new BufferedReader(
                            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = in.readLine()) != null) {
                            lines.add(line);
                        }
                    } catch (IOException e) {
                        // the process was killed
                    } finally {
                        lines.add(EOF);
                    }
                },
                "crash-writer-stdout");
        t.setDaemon(true);
        t.start();
        return lines;
    }

    private static String expectLine(BlockingQueue<String> lines, String start, Path errors, String context)
            throws Exception {
        String line = lines.poll(20, TimeUnit.SECONDS);
        if (line == null || line.equals(EOF) || !line.startsWith(start)) {
            String stderr = Files.exists(errors) ? Files.readString(errors) : "";
            fail("writer said %s instead of '%s...', %s; its stderr:%n%s", line, start, context, stderr);
        }
        return line;
    }
}
