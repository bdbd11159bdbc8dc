package dev.regen.store.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real, small filesystem for disk-full tests: a {@code tmpfs} of a fixed size mounted on a
 * directory. Mounting needs root (or CAP_SYS_ADMIN); {@link #mount} returns null where the test
 * process may not mount, and the caller falls back to SQLite's own page limit.
 */
final class SmallDisk implements AutoCloseable {
    private final Path dir;

    private SmallDisk(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code bytes} on {@code dir} (created if needed), or returns null if this process cannot. */
    static SmallDisk mount(Path dir, long bytes) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        if (run(List.of("mount", "-t", "tmpfs", "-o", "size=" + bytes + ",mode=0700", "tmpfs", dir.toString())) != 0) {
            return null;
        }
        return new SmallDisk(dir);
    }

    Path dir() {
        return dir;
    }

    /** Bytes still free for files on this filesystem. */
    long free() throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (run(List.of("umount", "-l", dir.toString())) != 0) {
            throw new IOException("umount " + dir + " failed");
        }
    }

    private static int run(List<String> command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            return -1; // no such command
        }
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
