package dev.regen.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} process on a free loopback port, with no persistence, in its own
 * temporary directory. It can be killed, paused and started again on the same port, for outage
 * tests. Needs {@code redis-server} on the PATH ({@code test.sh} installs it).
 */
public final class RedisServerFixture implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

    private final int port;
    private final Path dir;
    private final List<String> extraArgs;
    private Process process;

    private RedisServerFixture(int port, Path dir, List<String> extraArgs) {
        this.port = port;
        this.dir = dir;
        this.extraArgs = List.copyOf(extraArgs);
    }

    /** Starts a server on a free port with {@code extraArgs} (e.g. "--requirepass", "pw") added. */
    public static RedisServerFixture start(String... extraArgs) {
        return start(Ports.freePort(), List.of(extraArgs));
    }

    public static RedisServerFixture start(int port, List<String> extraArgs) {
        Path dir;
        try {
            dir = Files.createTempDirectory("regen-redis-" + port + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RedisServerFixture fixture = new RedisServerFixture(port, dir, extraArgs);
        fixture.restart();
        return fixture;
    }

    /**
     * A Sentinel on a free port watching the master {@code name} at 127.0.0.1:{@code masterPort}: it
     * calls the master down after {@code downAfterMillis} without an answer (quorum 2).
     */
    public static RedisServerFixture startSentinel(String name, int masterPort, int downAfterMillis) {
        int port = Ports.freePort();
        Path dir;
        try {
            dir = Files.createTempDirectory("regen-sentinel-" + port + "-");
            Files.writeString(
                    dir.resolve("sentinel.conf"),
                    String.join(
                            "\n",
                            "port " + port,
                            "bind 127.0.0.1",
                            "daemonize no",
                            "dir " + dir,
                            "sentinel monitor " + name + " 127.0.0.1 " + masterPort + " 2",
                            "sentinel down-after-milliseconds " + name + " " + downAfterMillis,
                            "sentinel failover-timeout " + name + " " + Math.max(3000, 3 * downAfterMillis),
                            "sentinel parallel-syncs " + name + " 1",
                            ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RedisServerFixture fixture = new RedisServerFixture(port, dir, List.of());
        fixture.restart();
        return fixture;
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}, plus {@code suffix} (a path or query). */
    public URI uri(String suffix) {
        return URI.create("redis://127.0.0.1:" + port + suffix);
    }

    public URI uri() {
        return uri("");
    }

    /** Starts the process (again), on the same port and directory, and waits until it answers. */
    public synchronized void restart() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("redis-server on port " + port + " is running");
        }
        List<String> command = new ArrayList<>(
                Files.exists(dir.resolve("sentinel.conf"))
                        // a Sentinel: its own config file, which it rewrites as it learns the topology
                        ? List.of(
                                executable("redis-server"),
                                dir.resolve("sentinel.conf").toString(),
                                "--sentinel")
                        : List.of(
                                executable("redis-server"),
                                "--port",
                                Integer.toString(port),
                                "--bind",
                                "127.0.0.1",
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--daemonize",
                                "no",
                                "--dir",
                                dir.toString()));
        if (!Files.exists(dir.resolve("sentinel.conf"))) {
            command.addAll(extraArgs);
        }
        try {
            process = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(
                            dir.resolve("redis.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start redis-server: " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        "redis-server on port " + port + " exited with " + process.exitValue() + ":\n" + log());
            }
            try {
                String reply = call("PING");
                if (reply.equals("PONG") || reply.startsWith("-NOAUTH")) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            sleep(20);
        }
        kill();
        throw new IllegalStateException(
                "redis-server on port " + port + " did not answer PING within " + START_TIMEOUT + ":\n" + log());
    }

    /** SIGKILL: a crash, no goodbye to clients. */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            waitForExit();
        }
    }

    /** SIGSTOP: the process hangs with its sockets open, like an overloaded server. */
    public void pause() {
        signal("-STOP");
    }

    /** SIGCONT after {@link #pause}. */
    public void resume() {
        signal("-CONT");
    }

    public boolean running() {
        return process != null && process.isAlive();
    }

    /** Sends one command (over a new connection) and returns the reply as text; errors start with "-". */
    public String call(String... args) throws IOException {
        return call(port, args);
    }

    /** The server's log so far. */
    public String log() {
        try {
            return Files.readString(dir.resolve("redis.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public synchronized void close() {
        kill();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind
        }
    }

    // --- helpers shared with the cluster fixture -----------------------------------------------

    /**
     * A minimal RESP client: sends {@code args} as one command to 127.0.0.1:{@code port}, reads one
     * reply. Simple strings and integers come back as their text, bulk strings as their content
     * (null for nil), arrays as their elements joined by newlines, errors as "-" + message.
     */
    public static String call(int port, String... args) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            StringBuilder command = new StringBuilder("*").append(args.length).append("\r\n");
            for (String arg : args) {
                byte[] b = arg.getBytes(StandardCharsets.UTF_8);
                command.append('$').append(b.length).append("\r\n").append(arg).append("\r\n");
            }
            out.write(command.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            return read(new BufferedInputStream(socket.getInputStream()));
        }
    }

    private static String read(InputStream in) throws IOException {
        String line = line(in);
        char type = line.charAt(0);
        String rest = line.substring(1);
        switch (type) {
            case '+', ':' -> {
                return rest;
            }
            case '-' -> {
                return line;
            }
            case '$' -> {
                int n = Integer.parseInt(rest);
                if (n < 0) {
                    return null;
                }
                byte[] b = in.readNBytes(n + 2);
                return new String(b, 0, n, StandardCharsets.UTF_8);
            }
            case '*' -> {
                int n = Integer.parseInt(rest);
                List<String> items = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    items.add(read(in));
                }
                return String.join("\n", items);
            }
            default -> throw new IOException("unexpected reply: " + line);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            b.write(c);
        }
        in.read(); // \n
        return b.toString(StandardCharsets.UTF_8);
    }

    static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The absolute path of {@code name} on the PATH, with a hint if it is missing. */
    static String executable(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":", -1)) {
            Path p = Path.of(d.isEmpty() ? "." : d, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new IllegalStateException(
                name + " is not installed: run ./test.sh, which installs it, or " + "apt-get install -y redis-server");
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid()))
                    .inheritIO()
                    .start();
            if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill " + signal + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void waitForExit() {
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("redis-server on port " + port + " did not exit");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
