package dev.regen;

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
        logger = (Logger) LoggerFactory.getLogger(source);
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
