package org.mmuemu.app;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code mmuemu} command.
 *
 * <p>Exit codes: 0 finished with no violation, 1 finished with violations, 2 bad input (one
 * line per problem on stderr, nothing written), 3 internal error.
 *
 * {@code mmuemu run --machine arm64-neoverse-n1 --workload stream --out result.json}
 */
@Command(name = "mmuemu", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Cycle-approximate multi-core MMU emulator: TLBs, page walks, TLB maintenance and Linux mm "
        + "algorithms, per ISA, with an always-on stale-TLB oracle.",
    subcommands = {RunCommand.class, CompareCommand.class, SweepCommand.class, ReplayCommand.class, ListCommand.class, ValidateCommand.class, BenchCommand.class,
        org.mmuemu.app.serve.ServeCommand.class, org.mmuemu.app.attach.AttachCommand.class,
        CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:finished, no violation", "1:finished, the oracle found violations",
        "2:bad input (flags, config, parameters, trace)", "3:internal error"})
public final class Main implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (run, compare, sweep, replay, bench, list, validate, serve, attach; see --help)");
  }

  public static void main(String[] args) {
    System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the command line with the given streams and returns the exit code (for tests). */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine commandLine = new CommandLine(new Main());
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setParameterExceptionHandler((exception, arguments) -> {
      CommandLine failing = exception.getCommandLine();
      err.println(failing.getCommandName() + ": " + exception.getMessage());
      err.println("Try '" + failing.getCommandSpec().qualifiedName() + " --help' for usage.");
      err.flush();
      return ExitCodes.BAD_INPUT;
    });
    commandLine.setExecutionExceptionHandler((exception, failing, parseResult) -> {
      if (exception instanceof UserInputException input) {
        for (String line : input.lines()) {
          err.println(failing.getCommandName() + ": " + line);
        }
        err.flush();
        return ExitCodes.BAD_INPUT;
      }
      err.println(failing.getCommandName() + ": internal error: " + exception);
      if (System.getenv("MMUEMU_DEBUG") != null) {
        exception.printStackTrace(err);
      } else {
        err.println("(set MMUEMU_DEBUG=1 for the stack trace, and please report it)");
      }
      err.flush();
      return ExitCodes.INTERNAL_ERROR;
    });
    return commandLine.execute(args);
  }
}
