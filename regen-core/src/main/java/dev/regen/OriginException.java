package dev.regen;

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

    public Kind kind() {
        return kind;
    }
}
