package org.mmuemu.app;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.text.TerminalText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mmuemu validate}: check machine configs without running them. */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description =
        "Check machine configs: every problem is reported, one line each with its JSON pointer.")
final class ValidateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      arity = "1..*",
      paramLabel = "<config>",
      description = "Config files or built-in machine names.")
  List<String> configs;

  @Option(
      names = "--set",
      paramLabel = "/pointer=value",
      description = "Override one value before checking.")
  List<String> overrides = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    IsaRegistry registry = IsaRegistry.load();
    int exitCode = ExitCodes.OK;
    for (String config : configs) {
      try {
        LoadedMachine machine = RunExecutor.loadMachine(registry, config, overrides);
        out.println(
            TerminalText.escape(
                String.format(
                    "%s: ok (%s, %s, %d cores, sha256 %s)",
                    config,
                    machine.spec().name(),
                    machine.spec().isa(),
                    machine.spec().cores(),
                    machine.configSha256().substring(0, 12))));
      } catch (UserInputException e) {
        for (String line : e.lines()) {
          err.println(TerminalText.escape(config + ": " + line));
        }
        exitCode = ExitCodes.BAD_INPUT;
      }
    }
    out.flush();
    err.flush();
    return exitCode;
  }
}
