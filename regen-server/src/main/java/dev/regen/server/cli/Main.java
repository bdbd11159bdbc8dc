package dev.regen.server.cli;

import dev.regen.server.config.ConfigLoader;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

/** The {@code regen} command. Exit codes: 0 ok, 1 failure at run time, 2 bad usage or config. */
@Command(
        name = "regen",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Incremental Static Regeneration in front of any server-rendered site.",
        subcommands = {
            ServeCommand.class,
            DemoCommand.class,
            DemoOriginCommand.class,
            RevalidateCommand.class,
            WarmCommand.class,
            StoreCommand.class,
            TrainCommand.class,
            CommandLine.HelpCommand.class
        })
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

    /** Wide enough that no description or example breaks inside a URL. */
    static final int HELP_WIDTH = 100;

    static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setUsageHelpWidth(HELP_WIDTH);
        cli.setUsageHelpLongOptionsMaxWidth(24);
        cli.setParameterExceptionHandler(Main::badUsage);
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

    /**
     * A command line that does not parse: one line saying what is wrong, with a suggestion for a
     * mistyped command or option ({@code regen version} → {@code regen --version}), and where the help
     * is; exit 2.
     */
    private static int badUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        CommandSpec spec = cmd.getCommandSpec();
        PrintWriter err = cmd.getErr();
        String name = spec.qualifiedName();
        if (e instanceof CommandLine.UnmatchedArgumentException u
                && !u.getUnmatched().isEmpty()) {
            String arg = u.getUnmatched().get(0);
            boolean option = arg.startsWith("-");
            Set<String> known = new LinkedHashSet<>();
            if (!option) {
                spec.subcommands().forEach((n, sub) -> {
                    if (!sub.getCommandSpec().usageMessage().hidden()) {
                        known.add(n);
                    }
                });
            }
            spec.options().stream().filter(o -> !o.hidden()).forEach(o -> known.addAll(Arrays.asList(o.names())));
            String suggestion = ConfigLoader.suggest(arg, known);
            String what = option
                    ? "unknown option"
                    : spec.subcommands().isEmpty() ? "unexpected argument" : "unknown command";
            err.println("regen: " + what + " '" + arg + "'"
                    + (suggestion == null ? "" : "; did you mean '" + name + " " + suggestion + "'?"));
        } else {
            err.println("regen: " + e.getMessage());
        }
        err.println("See '" + name + " --help'.");
        err.flush();
        return spec.exitCodeOnInvalidInput();
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
            return new String[] {
                BuildInfo.current().describe(),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
            };
        }
    }
}
