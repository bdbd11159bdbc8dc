package dev.regen.server.config;

/**
 * A bad configuration value, from the config file, a command-line flag or the environment. The CLI
 * reports it and exits with status 2; {@link #getMessage()} is meant to be shown to the user as is
 * (it never contains a secret).
 *
 * <p>{@link #field()} is the path of the offending field as written in the config file, e.g.
 * {@code revalidate}, {@code timeouts.render}, {@code routes[1].revalidat}; {@code config} for
 * problems with the file itself (missing, unreadable, not YAML).
 */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String field;
    private final String problem;

    /**
     * @param field   the field's path, e.g. {@code routes[0].match}
     * @param problem what is wrong, e.g. {@code must be a positive duration, got "-5"}
     */
    public ConfigException(String field, String problem) {
        this(field, problem, "config field '" + field + "': " + problem, null);
    }

    private ConfigException(String field, String problem, String message, Throwable cause) {
        super(message, cause);
        this.field = field;
        this.problem = problem;
    }

    /** A problem with the config file itself; {@link #field()} is {@code config}. */
    static ConfigException file(Object path, String problem, Throwable cause) {
        return new ConfigException("config", problem, "config file " + path + ": " + problem, cause);
    }

    /** A bad command-line option value; {@link #field()} is the config field it stands for. */
    static ConfigException option(String field, String option, String problem) {
        return new ConfigException(field, problem, "option " + option + ": " + problem, null);
    }

    /** What is wrong, without the field: the message is {@code config field 'F': } + this. */
    String problem() {
        return problem;
    }

    /** The path of the offending field, e.g. {@code routes[1].revalidat}, or {@code config}. */
    public String field() {
        return field;
    }
}
