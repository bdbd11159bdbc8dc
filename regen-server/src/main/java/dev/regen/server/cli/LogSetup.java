package dev.regen.server.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Regen's logging, set up in code rather than from XML: one line per event on stderr, for operators.
 * Parsing a logback.xml costs ~0.1 s of start-up. {@code REGEN_LOG_LEVEL} sets the level (default
 * INFO); {@code -Dlogback.configurationFile=...} still replaces all of this with the operator's own file.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n");
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        String level = System.getenv("REGEN_LOG_LEVEL");
        root.setLevel(Level.toLevel(level, Level.INFO));
        root.addAppender(stderr);
        context.getLogger("io.netty").setLevel(Level.WARN);
        context.getLogger("jdk.internal.httpclient").setLevel(Level.WARN);
        // Lettuce logs every reconnect attempt; Regen logs one line per change of state itself
        context.getLogger("io.lettuce.core.protocol").setLevel(Level.ERROR);
        // and, while a Redis Cluster node or a Sentinel is down, a topology-refresh warning every few
        // seconds; the Redis store logs one line per server going and one coming back instead
        context.getLogger("io.lettuce.core.cluster.topology").setLevel(Level.ERROR);
        context.getLogger("io.lettuce.core.cluster.ClusterTopologyRefreshScheduler")
                .setLevel(Level.ERROR);
        context.getLogger("io.lettuce.core.sentinel").setLevel(Level.ERROR);
        context.getLogger("io.lettuce.core.masterreplica").setLevel(Level.ERROR);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
