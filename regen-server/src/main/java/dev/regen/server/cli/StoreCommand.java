package dev.regen.server.cli;

import dev.regen.store.StoreException;
import dev.regen.store.embedded.StoreCheck;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code regen store}: work on a store's files. */
@Command(
        name = "store",
        mixinStandardHelpOptions = true,
        description = "Work on the embedded store's files.",
        subcommands = {StoreCommand.Check.class})
final class StoreCommand {

    /**
     * {@code regen store check DIR}: verifies an embedded store (see {@link StoreCheck}). Exit 0 when
     * nothing is wrong, 1 when something is, 2 when there is no store in DIR.
     */
    @Command(
            name = "check",
            mixinStandardHelpOptions = true,
            description = {
                "Verify an embedded store: SQLite's integrity check of every page, then every entry"
                        + " read back against its checksum. Reads only; safe beside a running Regen.",
                "Exit 0: nothing wrong; 1: corruption found; 2: no store in DIR."
            },
            footer = {"", "Example:", "  regen store check ./.regen"})
    static final class Check implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "The store's directory (embedded:DIR)")
        Path dir;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            StoreCheck.Report r;
            try {
                r = StoreCheck.run(dir);
            } catch (StoreException e) {
                throw new Main.UsageError(e.getMessage());
            }
            out.println("store " + r.file());
            out.println("  SQLite integrity check: " + (r.integrityOk() ? "ok" : "FAILED"));
            out.printf(
                    Locale.ROOT,
                    "  entries: %,d read back (%s of values), %,d corrupt, %,d unreadable%s%n",
                    r.entries(),
                    size(r.bytes()),
                    r.corrupt(),
                    r.unreadable(),
                    r.complete() ? "" : ", walk stopped before the end");
            if (!r.problems().isEmpty()) {
                out.println("  problems:");
                r.problems().forEach(p -> out.println("    " + p));
            }
            if (r.ok()) {
                out.println("ok");
                return 0;
            }
            out.println("CORRUPT: a running Regen removes a corrupt entry when it reads it (a miss, rendered again);"
                    + " to start empty, stop Regen and move " + dir + " away");
            out.flush();
            return 1;
        }

        private static String size(long bytes) {
            return bytes >= 1L << 30
                    ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                    : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
    }
}
