package org.mmuemu.app;

import java.io.PrintWriter;
import java.util.Arrays;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.app.version.VersionProvider;
import org.mmuemu.core.config.ByteSize;
import org.mmuemu.core.text.TerminalText;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code mmuemu} command.
 *
 * <p>Exit codes: 0 finished with no violation, 1 finished with violations, 2 bad input (one line
 * per problem on stderr, nothing written), 3 internal error or out of host memory (one line; {@code
 * --debug} adds the stack trace). Every line that echoes user input goes through {@link
 * TerminalText#escape}.
 *
 * <p>{@code mmuemu run --machine arm64-neoverse-n1 --workload stream --out result.json}
 */
@Command(
    name = "mmuemu",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description =
        "Cycle-approximate multi-core MMU emulator: TLBs, page walks, TLB maintenance and Linux mm "
            + "algorithms, per ISA, with an always-on stale-TLB oracle.",
    subcommands = {
      RunCommand.class,
      CompareCommand.class,
      SweepCommand.class,
      ReplayCommand.class,
      ListCommand.class,
      ScenarioCommand.class,
      ExploreCommand.class,
      ValidateCommand.class,
      BenchCommand.class,
      CalibrateCommand.class,
      org.mmuemu.app.serve.ServeCommand.class,
      org.mmuemu.app.attach.AttachCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:finished, no violation",
      "1:finished, the oracle found violations",
      "2:bad input (flags, config, parameters, trace)",
      "3:internal error, or out of host memory"
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * Read from the arguments before parsing (see {@link #execute}); declared so every command
   * accepts it.
   */
  @Option(
      names = "--debug",
      scope = ScopeType.INHERIT,
      description = "Print the stack trace of an internal error or an out-of-memory error.")
  boolean debug;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "a command is required (run, compare, sweep, replay, scenario, explore, bench, calibrate,"
            + " list, validate, serve, attach; see --help)");
  }

  public static void main(String[] args) {
    configureLogging();
    System.exit(
        execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /**
   * The log (slf4j-simple) goes to standard error with ISO-8601 times; libraries log only warnings,
   * so a plain {@code mmuemu run} prints nothing but its own output. A {@code -D} on the command
   * line wins; {@code serve --log-level} sets the server log's own level.
   */
  private static void configureLogging() {
    String prefix = "org.slf4j.simpleLogger.";
    String[][] defaults = {
      {"defaultLogLevel", "warn"},
      {"logFile", "System.err"},
      {"showDateTime", "true"},
      {"dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"},
      {"showThreadName", "false"}
    };
    for (String[] setting : defaults) {
      if (System.getProperty(prefix + setting[0]) == null) {
        System.setProperty(prefix + setting[0], setting[1]);
      }
    }
  }

  /** Runs the command line with the given streams and returns the exit code (for tests). */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    boolean debug =
        Arrays.asList(args).contains("--debug") || System.getenv("MMUEMU_DEBUG") != null;
    CommandLine commandLine = new CommandLine(new Main());
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setParameterExceptionHandler(
        (exception, arguments) -> {
          CommandLine failing = exception.getCommandLine();
          err.println(
              TerminalText.escape(failing.getCommandName() + ": " + exception.getMessage()));
          err.println("Try '" + failing.getCommandSpec().qualifiedName() + " --help' for usage.");
          err.flush();
          return ExitCodes.BAD_INPUT;
        });
    commandLine.setExecutionExceptionHandler(
        (exception, failing, parseResult) -> {
          if (exception instanceof UserInputException input) {
            for (String line : input.lines()) {
              err.println(TerminalText.escape(failing.getCommandName() + ": " + line));
            }
            err.flush();
            return ExitCodes.BAD_INPUT;
          }
          err.println(
              TerminalText.escape(failing.getCommandName() + ": internal error: " + exception));
          if (debug) {
            exception.printStackTrace(err);
          } else {
            err.println("(run with --debug for the stack trace, and please report it)");
          }
          err.flush();
          return ExitCodes.INTERNAL_ERROR;
        });
    try {
      return commandLine.execute(args);
    } catch (OutOfMemoryError e) {
      return outOfMemory(e, debug, err);
    }
  }

  /**
   * The run needed more heap than the JVM has: one line and exit 3. What the run held is
   * unreachable by now, so there is room to say so.
   */
  static int outOfMemory(OutOfMemoryError error, boolean debug, PrintWriter err) {
    err.println(
        "mmuemu: out of host memory ("
            + error.getMessage()
            + ", maximum heap "
            + ByteSize.format(Runtime.getRuntime().maxMemory() & -(1L << 20))
            + "): use a smaller machine or workload, or give Java more heap (MMUEMU_JAVA_OPTS=-Xmx8g ./mmuemu ..., or java -Xmx8g -jar mmuemu.jar ...)");
    if (debug) {
      error.printStackTrace(err);
    }
    err.flush();
    return ExitCodes.INTERNAL_ERROR;
  }
}
