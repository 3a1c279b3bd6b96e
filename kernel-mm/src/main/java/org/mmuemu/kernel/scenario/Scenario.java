package org.mmuemu.kernel.scenario;

import java.util.List;
import java.util.Map;

/**
 * A race scenario as read from its file ({@code configs/scenarios/<name>.json}): what runs where,
 * and what each variant is expected to show.
 *
 * @param name the scenario's name
 * @param description one line for {@code mmuemu list scenarios}
 * @param machine a built-in machine name or a machine file path, or null when {@code inlineMachine}
 *     is given
 * @param inlineMachine an inline machine config as JSON text, or null
 * @param machineSets {@code --set} overrides every variant applies ({@code /cores=2})
 * @param variantSets per variant ({@code buggy}, {@code fixed}) its {@code --set} overrides
 * @param setup steps run on CPU 0 before the CPUs start, outside the scheduler
 * @param programs one list of steps per CPU (CPU i runs {@code programs.get(i)})
 * @param order the scripted order, possibly empty (then the earliest core runs, as in a run)
 * @param expected per variant the violation kinds expected (empty: none)
 */
public record Scenario(
    String name,
    String description,
    String machine,
    String inlineMachine,
    List<String> machineSets,
    Map<String, List<String>> variantSets,
    List<ScenarioStep> setup,
    List<List<ScenarioStep>> programs,
    List<OrderStep> order,
    Map<String, List<String>> expected) {

  /** The violation kinds the scenario expects for {@code variant}, sorted; empty for none. */
  public List<String> expectedFor(String variant) {
    return expected.getOrDefault(variant, List.of()).stream().sorted().toList();
  }

  /**
   * One step of the scripted order: run {@code cpu} until it reaches {@code until} for the {@code
   * occurrence}-th time. {@code until} is a point name, {@code step} (the end of its current
   * program step) or {@code end} (its program is done).
   */
  public record OrderStep(int cpu, String until, int occurrence) {}
}
