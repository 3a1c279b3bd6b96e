package org.mmuemu.app;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mmuemu.kernel.workload.WorkloadException;
import org.mmuemu.kernel.workload.registry.Workloads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mmuemu run}: one workload on one machine. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Run a workload on a machine and report TLB, walk, maintenance and latency figures.",
    footer = {
      "",
      "Example:",
      "  mmuemu run --machine arm64-neoverse-n1 --workload stream --param workingSetBytes=8MiB"
    })
final class RunCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--workload",
      required = true,
      paramLabel = "<name>",
      description = "The workload (see 'mmuemu list workloads').")
  String workload;

  @Option(
      names = "--param",
      paramLabel = "name=value",
      description = "A workload parameter (see 'mmuemu list workloads'). Repeatable.")
  Map<String, String> params = new LinkedHashMap<>();

  @Mixin RunOptions options;

  @Override
  public Integer call() throws Exception {
    try {
      return new RunExecutor(spec.commandLine().getOut(), spec.commandLine().getErr(), options)
          .execute(Workloads.get(workload), params);
    } catch (WorkloadException e) {
      throw new UserInputException(e.getMessage());
    }
  }
}
