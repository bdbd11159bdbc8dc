package dev.regen;

import java.time.Duration;

/**
 * A config value a constructor of the core's settings ({@link RegenConfig}, {@link RouteRule},
 * {@link QueryPolicy}) rejects. The edges read {@link #field()} to name the setting in their own terms
 * ({@code routes[1].revalidate} in a YAML file, {@code regen.timeouts.render} in Spring) instead of
 * parsing the message. The message is {@code field + " " + reason} and never contains a secret.
 */
public final class InvalidConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String field;
    private final String reason;

    /**
     * @param field  the setting's name in the config file, relative to the record that rejects it:
     *               {@code timeouts.render} for {@link RegenConfig}, {@code match} for a {@link RouteRule}
     * @param reason what is wrong, with the value unless it is a secret, e.g. {@code must be positive, got "-5s"}
     */
    public InvalidConfigException(String field, String reason) {
        super(field + " " + reason);
        this.field = field;
        this.reason = reason;
    }

    public String field() {
        return field;
    }

    public String reason() {
        return reason;
    }

    /** A duration as the config files write it: {@code "90s"}, {@code "500ms"}. */
    static String show(Duration d) {
        return d == null ? "null" : '"' + (d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms") + '"';
    }
}
