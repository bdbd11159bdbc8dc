package dev.regen.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Records what one class logs, for tests that count log lines (needs logback-classic on the test classpath). */
public final class LogCapture implements AutoCloseable {

    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    public LogCapture(Class<?> source) {
        this(source.getName());
    }

    /** For a logger whose class the test cannot name (package-private in another module). */
    public LogCapture(String loggerName) {
        logger = (Logger) LoggerFactory.getLogger(loggerName);
        appender.start();
        logger.addAppender(appender);
    }

    /** The formatted messages logged so far that contain {@code text}. */
    public List<String> lines(String text) {
        synchronized (appender) { // AppenderBase.doAppend holds the appender's lock
            return appender.list.stream()
                    .map(ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.contains(text))
                    .toList();
        }
    }

    public List<String> all() {
        return lines("");
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
