package dev.regen.internal;

/** No usable response came from the origin. */
public class OriginException extends RuntimeException {
    public enum Kind {
        /** Connection refused, reset, DNS: the client gets 502 on a miss. */
        UNREACHABLE,
        /** No complete response in time: 504 on a miss. */
        TIMEOUT
    }

    private final Kind kind;

    public OriginException(Kind kind, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
    }

    public OriginException(Kind kind, String message) {
        this(kind, message, null);
    }

    /**
     * The kind of failure behind an HTTP client's exception (java.net.http): a connect timeout or a
     * refused or broken connection is UNREACHABLE, a response that did not come in time is TIMEOUT.
     */
    public static OriginException from(Throwable e) {
        Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        if (t instanceof OriginException oe) {
            return oe;
        }
        if (t instanceof java.net.http.HttpConnectTimeoutException) {
            return new OriginException(Kind.UNREACHABLE, "connect timed out", t);
        }
        if (t instanceof java.net.http.HttpTimeoutException) {
            return new OriginException(Kind.TIMEOUT, "the origin did not answer in time", t);
        }
        if (t instanceof java.net.ConnectException) {
            return new OriginException(Kind.UNREACHABLE, "connection refused", t);
        }
        if (t instanceof java.io.IOException) {
            String m = t.getMessage();
            return new OriginException(
                    Kind.UNREACHABLE, m == null ? t.getClass().getSimpleName() : m, t);
        }
        return new OriginException(Kind.UNREACHABLE, String.valueOf(t), t);
    }

    public Kind kind() {
        return kind;
    }
}
