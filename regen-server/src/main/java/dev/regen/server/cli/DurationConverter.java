package dev.regen.server.cli;

import dev.regen.server.config.ConfigLoader;
import java.time.Duration;
import picocli.CommandLine;

/** A duration flag read like the config file reads one: {@code 90}, {@code 500ms}, {@code 5m}, {@code 1h}. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        try {
            return ConfigLoader.duration(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
