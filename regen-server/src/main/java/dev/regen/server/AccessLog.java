package dev.regen.server;

import dev.regen.server.config.ServerConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request, apart from the operator log (which goes to stderr): on stdout, or appended to
 * a file. Two formats that log tools read as they are:
 * <ul>
 *   <li>JSON lines: {@code {"time":"2026-11-26T15:09:21.123Z","client":"203.0.113.7","method":"GET",
 *       "target":"/blog/a?page=2","protocol":"HTTP/1.1","status":200,"bytes":5120,"duration_ms":0.412,
 *       "cache":"HIT","host":"www.example.com","referer":null,"user_agent":"curl/8.5.0"}}; {@code cache}
 *       is null for Regen's own endpoints; absent headers are null.</li>
 *   <li>{@code combined}, Apache's and nginx's: {@code 203.0.113.7 - - [26/Nov/2026:15:09:21 +0000]
 *       "GET /blog/a?page=2 HTTP/1.1" 200 5120 "-" "curl/8.5.0"}.</li>
 * </ul>
 * Times are UTC, when the request arrived. Whatever a client sends (quotes, control characters, bytes
 * that are not UTF-8) is escaped so that every line stays one valid line of its format.
 *
 * <p>The serving threads only format the line and hand it over: one writer thread writes, so a slow
 * disk or a full pipe never holds up a request. If the writer falls {@value #QUEUE} lines behind, lines
 * are dropped, and counted in one operator log line a minute. Thread-safe.
 */
final class AccessLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    static final int QUEUE = 65_536;
    private static final DateTimeFormatter ISO =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter CLF =
            DateTimeFormatter.ofPattern("dd/MMM/uuuu:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    /** The no-op log of {@code access-log: off}. */
    static final AccessLog OFF = new AccessLog(ServerConfig.AccessLog.OFF, null, null, false, null);

    /** The second of the latest line, formatted once for every line in it (formatting costs more than the rest). */
    private record Second(long epochSecond, String iso, String clf) {
        static Second of(Instant t) {
            return new Second(t.getEpochSecond(), ISO.format(t), CLF.format(t));
        }
    }

    private static volatile Second second = Second.of(Instant.EPOCH);

    private static Second second(Instant t) {
        Second s = second;
        if (s.epochSecond() != t.getEpochSecond()) {
            s = Second.of(t);
            second = s;
        }
        return s;
    }

    private final ServerConfig.AccessLog format;
    private final InstantSource clock;
    private final OutputStream out;
    /** False for stdout, which is not Regen's to close. */
    private final boolean ownsOut;

    private final BlockingQueue<String> queue;
    private final AtomicLong dropped = new AtomicLong();
    private final Thread writer;
    private volatile boolean closing;

    private AccessLog(
            ServerConfig.AccessLog format, InstantSource clock, OutputStream out, boolean ownsOut, String where) {
        this.format = format;
        this.clock = clock;
        this.out = out == null ? null : new BufferedOutputStream(out, 64 * 1024);
        this.ownsOut = ownsOut;
        if (out == null) {
            this.queue = null;
            this.writer = null;
            return;
        }
        this.queue = new ArrayBlockingQueue<>(QUEUE);
        this.writer = new Thread(this::write, "regen-access-log");
        writer.setDaemon(true);
        writer.start();
        log.debug("access log ({}) to {}", format.name().toLowerCase(Locale.ROOT), where);
    }

    /**
     * The access log {@code config} asks for, on stdout or appended to its file.
     *
     * @throws IllegalArgumentException when the file can't be opened for appending
     */
    static AccessLog open(ServerConfig config, InstantSource clock) {
        if (config.accessLog() == ServerConfig.AccessLog.OFF) {
            return OFF;
        }
        Path file = config.accessLogFile();
        if (file == null) {
            return new AccessLog(config.accessLog(), clock, new FileOutputStream(FileDescriptor.out), false, "stdout");
        }
        try {
            OutputStream o = Files.newOutputStream(
                    file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            return new AccessLog(config.accessLog(), clock, o, true, file.toString());
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException("access-log-file: cannot append to " + file + ": " + reason(e));
        }
    }

    /** Whether lines are written: callers skip working out what they would log when not. */
    boolean enabled() {
        return queue != null;
    }

    /**
     * Logs one finished request.
     *
     * @param client the client's address, as the proxy resolved it
     * @param cache  the X-Cache-Status sent, or null (Regen's own endpoints)
     * @param bytes  body bytes sent
     * @param nanos  from the request's arrival to its last byte handed to the socket
     */
    void log(String client, HttpRequest request, int status, String cache, long bytes, long nanos) {
        if (queue == null) {
            return;
        }
        Instant arrived = clock.instant().minusNanos(nanos);
        String line = format == ServerConfig.AccessLog.JSON
                ? json(arrived, client, request, status, cache, bytes, nanos)
                : combined(arrived, client, request, status, bytes);
        if (!queue.offer(line)) {
            dropped.incrementAndGet();
        }
    }

    static String json(
            Instant arrived, String client, HttpRequest request, int status, String cache, long bytes, long nanos) {
        StringBuilder b = new StringBuilder(320)
                .append("{\"time\":\"")
                .append(second(arrived).iso())
                .append('.');
        threeDigits(b, arrived.get(ChronoField.MILLI_OF_SECOND)).append("Z\",\"client\":");
        jsonString(b, client);
        b.append(",\"method\":");
        jsonString(b, request.method().name());
        b.append(",\"target\":");
        jsonString(b, request.uri());
        b.append(",\"protocol\":");
        jsonString(b, request.protocolVersion().text());
        b.append(",\"status\":")
                .append(status)
                .append(",\"bytes\":")
                .append(bytes)
                .append(",\"duration_ms\":")
                .append(nanos / 1_000_000)
                .append('.');
        threeDigits(b, nanos / 1000 % 1000);
        b.append(",\"cache\":");
        jsonString(b, cache);
        b.append(",\"host\":");
        jsonString(b, request.headers().get(HttpHeaderNames.HOST));
        b.append(",\"referer\":");
        jsonString(b, request.headers().get(HttpHeaderNames.REFERER));
        b.append(",\"user_agent\":");
        jsonString(b, request.headers().get(HttpHeaderNames.USER_AGENT));
        return b.append("}\n").toString();
    }

    private static StringBuilder threeDigits(StringBuilder b, long n) {
        return b.append(n < 100 ? n < 10 ? "00" : "0" : "").append(n);
    }

    static String combined(Instant arrived, String client, HttpRequest request, int status, long bytes) {
        StringBuilder b = new StringBuilder(256);
        clfField(b, client == null || client.isEmpty() ? "-" : client);
        b.append(" - - [").append(second(arrived).clf()).append("] \"");
        clfField(b, request.method().name());
        b.append(' ');
        clfField(b, request.uri());
        b.append(' ');
        clfField(b, request.protocolVersion().text());
        b.append("\" ").append(status).append(' ');
        if (bytes > 0) {
            b.append(bytes);
        } else {
            b.append('-');
        }
        b.append(" \"");
        clfField(b, orDash(request.headers().get(HttpHeaderNames.REFERER)));
        b.append("\" \"");
        clfField(b, orDash(request.headers().get(HttpHeaderNames.USER_AGENT)));
        return b.append("\"\n").toString();
    }

    /**
     * A JSON string (or null). HTTP/1.1 fields arrive as bytes, one char each: when they are UTF-8 (a
     * browser's non-ASCII path or User-Agent), they are logged as the text they spell.
     */
    static void jsonString(StringBuilder b, String raw) {
        if (raw == null) {
            b.append("null");
            return;
        }
        String s = asUtf8(raw);
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (Character.isHighSurrogate(c)
                            && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1))) {
                        b.append(c).append(s.charAt(++i));
                    } else if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029 || Character.isSurrogate(c)) {
                        // control characters, DEL, the line separators some readers take for newlines, and
                        // a lone surrogate, which UTF-8 can't encode
                        b.append("\\u")
                                .append(HEX[c >> 12])
                                .append(HEX[(c >> 8) & 15])
                                .append(HEX[(c >> 4) & 15])
                                .append(HEX[c & 15]);
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /**
     * A field inside the combined format's quotes, escaped as Apache escapes it: {@code "} and
     * {@code \} with a backslash, every byte outside printable ASCII as {@code \xHH}.
     */
    static void clfField(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7f) {
                b.append(c);
            } else if (c < 0x100) {
                hexByte(b, c);
            } else {
                for (byte x : String.valueOf(c).getBytes(StandardCharsets.UTF_8)) {
                    hexByte(b, x & 0xff);
                }
            }
        }
    }

    private static void hexByte(StringBuilder b, int v) {
        b.append("\\x").append(HEX[v >> 4]).append(HEX[v & 15]);
    }

    /** The text of {@code raw}'s bytes (one per char) when they are valid UTF-8, else {@code raw}. */
    static String asUtf8(String raw) {
        boolean high = false;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c > 0xff) {
                return raw; // not bytes: already text
            }
            high |= c >= 0x80;
        }
        if (!high) {
            return raw;
        }
        try {
            CharBuffer text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw.getBytes(StandardCharsets.ISO_8859_1)));
            return text.toString();
        } catch (CharacterCodingException e) {
            return raw;
        }
    }

    private static String orDash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }

    /** The writer thread: writes what is queued, flushes whenever it catches up. */
    private void write() {
        long droppedLoggedAt = System.nanoTime();
        boolean failed = false;
        while (true) {
            String line;
            try {
                line = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                line = null;
            }
            try {
                while (line != null) {
                    if (!failed) {
                        out.write(line.getBytes(StandardCharsets.UTF_8));
                    }
                    line = queue.poll();
                }
                if (!failed) {
                    out.flush();
                }
            } catch (IOException e) {
                failed = true;
                log.error("access log: cannot write any more, lines are dropped from now on: {}", reason(e));
            }
            if (System.nanoTime() - droppedLoggedAt > TimeUnit.MINUTES.toNanos(1) && dropped.get() > 0) {
                droppedLoggedAt = System.nanoTime();
                log.warn(
                        "access log: {} lines dropped in the last minute: its output does not keep up",
                        dropped.getAndSet(0));
            }
            if (closing && queue.isEmpty()) {
                return;
            }
        }
    }

    /** Writes out what is queued (waiting at most 2 s), then closes a file (never stdout). */
    @Override
    public void close() {
        if (writer == null || closing) {
            return;
        }
        closing = true;
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (dropped.get() > 0) {
            log.warn("access log: {} lines dropped: its output did not keep up", dropped.get());
        }
        try {
            if (ownsOut) {
                out.close();
            } else {
                out.flush();
            }
        } catch (IOException e) {
            log.warn("access log: closing failed: {}", reason(e));
        }
    }

    private static String reason(Exception e) {
        return e instanceof java.nio.file.NoSuchFileException
                ? "no such directory"
                : e instanceof java.nio.file.AccessDeniedException
                        ? "permission denied"
                        : e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
