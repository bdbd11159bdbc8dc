package dev.regen.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code regen} command. Exit codes: 0 ok, 1 failure at run time, 2 bad usage or config. */
@Command(name = "regen", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Incremental Static Regeneration in front of any server-rendered site.",
        subcommands = {ServeCommand.class, DemoCommand.class, RevalidateCommand.class, WarmCommand.class, TrainCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        // Netty's sampled leak tracking records a stack trace every ~128 buffers: a few % of a busy
        // server's CPU. Tests keep it on; -Dio.netty.leakDetection.level=simple turns it back on here.
        System.getProperties().putIfAbsent("io.netty.leakDetection.level", "disabled");
        // Netty's allocator events register with JFR on the first request: ~0.15 s of start-up
        System.getProperties().putIfAbsent("io.netty.jfr.enabled", "false");
        Preload.start(args);
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof UsageError u) {
                cmd.getErr().println("regen: " + u.getMessage());
                return 2;
            }
            cmd.getErr().println("regen: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        });
        return cli.execute(args);
    }

    /** Bad flags, config or environment: exit 2 with the message alone. */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"regen " + (v == null ? "dev" : v)};
        }
    }
}
