package org.mmuemu.app;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.MachineConfigLoader;
import org.mmuemu.configs.ScenarioLoader;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadParam;
import org.mmuemu.kernel.workload.registry.Workloads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mmuemu list}: what is built in. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description =
        "List the built-in machines, the workloads with their parameters, the ISAs, the event kinds,"
            + " the kernel variants with their values (default first), or the race scenarios.")
final class ListCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  /** What can be listed. */
  enum What {
    machines,
    workloads,
    isas,
    events,
    variants,
    scenarios
  }

  @Parameters(index = "0", paramLabel = "<what>", description = "One of: ${COMPLETION-CANDIDATES}.")
  What what;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    IsaRegistry registry = IsaRegistry.load();
    switch (what) {
      case machines -> {
        MachineConfigLoader loader = new MachineConfigLoader(registry);
        for (String name : loader.builtInMachineNames()) {
          LoadedMachine machine = RunExecutor.loadMachine(registry, name, List.of());
          out.printf(
              Locale.ROOT,
              "%-22s %-6s %3d cores  %s%n",
              name,
              machine.spec().isa(),
              machine.spec().cores(),
              firstSentence(machine.spec().description()));
        }
      }
      case workloads -> {
        for (Workload workload : Workloads.all().values()) {
          printWorkload(out, workload);
        }
        out.println("replay (mmuemu replay --trace-file F)");
        out.println(
            "  replays a valgrind lackey memory trace on core 0; see 'mmuemu replay --help'");
      }
      case isas -> {
        for (String id : registry.ids()) {
          IsaProvider provider = registry.get(id);
          out.printf(Locale.ROOT, "%-8s %s%n", id, provider.description());
        }
      }
      case events -> {
        for (EventKind kind : EventKind.values()) {
          out.println(kind.dottedName());
        }
      }
      case variants -> {
        for (Map.Entry<String, List<String>> variant : KernelConfig.VARIANTS.entrySet()) {
          List<String> values = variant.getValue();
          out.printf(
              Locale.ROOT,
              "%-24s default %-12s values %s%n",
              variant.getKey(),
              values.get(0),
              String.join("|", values));
        }
      }
      case scenarios -> {
        for (String name : ScenarioLoader.builtInNames()) {
          out.printf(Locale.ROOT, "%-30s %s%n", name, ScenarioLoader.builtInDescription(name));
        }
      }
      default -> throw new IllegalStateException(what.toString());
    }
    out.flush();
    return ExitCodes.OK;
  }

  private static void printWorkload(PrintWriter out, Workload workload) {
    out.printf(Locale.ROOT, "%s%n  %s%n", workload.name(), workload.description());
    for (WorkloadParam param : workload.params()) {
      String defaultText = param.defaultValue() == null ? "computed" : param.defaultValue();
      String allowed =
          param.type() == WorkloadParam.Type.CHOICE
              ? " [" + String.join("|", param.choices()) + "]"
              : "";
      out.printf(
          Locale.ROOT,
          "  --param %-18s default %-8s %s%s%n",
          param.name() + "=",
          defaultText,
          param.description(),
          allowed);
    }
  }

  private static String firstSentence(String text) {
    if (text == null) {
      return "";
    }
    int end = text.indexOf(". ");
    return end < 0 ? text : text.substring(0, end + 1);
  }
}
