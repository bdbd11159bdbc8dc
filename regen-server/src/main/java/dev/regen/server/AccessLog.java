package dev.regen.server;

import dev.regen.server.config.ServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One line per request (logger {@code regen.access}), off by default; text or JSON. */
final class AccessLog {
    private static final Logger log = LoggerFactory.getLogger("regen.access");
    private final ServerConfig.AccessLog format;

    AccessLog(ServerConfig.AccessLog format) {
        this.format = format;
    }

    void log(String method, String uri, int status, String cache, long bytes, long nanos) {
        if (format == ServerConfig.AccessLog.OFF) {
            return;
        }
        double ms = nanos / 1_000_000.0;
        if (format == ServerConfig.AccessLog.JSON) {
            log.info("{\"method\":\"{}\",\"path\":\"{}\",\"status\":{},\"cache\":\"{}\",\"ms\":{},\"bytes\":{}}",
                    json(method), json(uri), status, json(cache), String.format(java.util.Locale.ROOT, "%.3f", ms), bytes);
        } else {
            log.info("{} {} {} {} {} ms {} B", method, uri, status, cache, String.format(java.util.Locale.ROOT, "%.3f", ms), bytes);
        }
    }

    /** JSON string escaping: a request target may carry quotes, backslashes and control characters. */
    static String json(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : null;
            if (esc != null && out == null) {
                out = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (out != null) {
                if (esc != null) {
                    out.append(esc);
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? s : out.toString();
    }
}
