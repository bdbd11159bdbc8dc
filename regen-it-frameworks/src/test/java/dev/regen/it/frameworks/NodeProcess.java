package dev.regen.it.frameworks;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A fixture app's server process; {@link #close()} stops it and every process it started. */
final class NodeProcess implements AutoCloseable {
    /** HTTP/1.1: Next.js closes, unanswered, a connection whose request offers h2c, as the JDK client does by default. */
    private static final HttpClient PROBE = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1))
            .build();

    private final String name;
    private final Process process;
    private final int port;
    private final Path logFile;

    NodeProcess(String name, Process process, int port, Path logFile) {
        this.name = name;
        this.process = process;
        this.port = port;
        this.logFile = logFile;
    }

    int port() {
        return port;
    }

    /** {@code http://127.0.0.1:PORT}, no trailing slash. */
    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Waits until the app answers any HTTP status on {@code /}. */
    void awaitAnswering(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpRequest probe = HttpRequest.newBuilder(URI.create(url() + "/"))
                .timeout(Duration.ofSeconds(5))
                .build();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("fixture " + name + " exited with " + process.exitValue()
                        + " before answering on port " + port + "; its output:\n" + tail(logFile));
            }
            try {
                PROBE.send(probe, HttpResponse.BodyHandlers.discarding());
                return;
            } catch (ConnectException e) {
                // not listening yet
            } catch (IOException e) {
                // listening but not answering yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("fixture " + name + " did not answer on port " + port + " within "
                        + timeout.toSeconds() + " s; its output:\n" + tail(logFile));
            }
            Pause.millis(100);
        }
    }

    @Override
    public void close() {
        destroyTree(process.toHandle());
    }

    /** SIGTERM to a process and its descendants (listed first: once it is gone they are re-parented), then SIGKILL. */
    static void destroyTree(ProcessHandle root) {
        List<ProcessHandle> all = new java.util.ArrayList<>(root.descendants().toList());
        all.add(0, root);
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle p : all) {
            try {
                p.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        }
    }

    /** The last lines of a log, for a failure message. */
    static String tail(Path logFile) {
        try {
            List<String> lines = new String(Files.readAllBytes(logFile), StandardCharsets.UTF_8)
                    .lines()
                    .toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }
}
