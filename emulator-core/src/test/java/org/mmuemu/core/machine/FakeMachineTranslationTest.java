package org.mmuemu.core.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.testkit.FakeIsa;

/**
 * Runs the {@link MachineTranslationContract} on the test-only fake ISA, which has every neutral
 * operation in both local and broadcast forms: the contract's machinery is exercised in
 * emulator-core itself, independent of either real ISA.
 */
final class FakeMachineTranslationTest extends MachineTranslationContract {
  @Override
  protected IsaProvider provider() {
    return new FakeIsa.Provider();
  }

  @Override
  protected Map<String, Object> isaConfig() {
    return Map.of();
  }

  @Override
  protected List<Integer> expectedLeafLevels() {
    return List.of(1, 2, 3);
  }

  @Override
  protected List<NamedInstruction> localInstructions() {
    return instructions(false);
  }

  @Override
  protected List<NamedInstruction> broadcastInstructions() {
    return instructions(true);
  }

  private static List<NamedInstruction> instructions(boolean broadcast) {
    List<NamedInstruction> all = new ArrayList<>();
    for (InvalidationScope scope : InvalidationScope.values()) {
      for (boolean last : scope.byVa() ? new boolean[] {false, true} : new boolean[] {false}) {
        all.add(
            new NamedInstruction(
                scope,
                last,
                "FAKE " + scope + (last ? " LAST" : "") + (broadcast ? " BCAST" : "")));
      }
    }
    return all;
  }

  @Override
  protected long expectedIssueCycles(InvalidationScope scope, boolean broadcast) {
    return scope == InvalidationScope.VA || scope == InvalidationScope.VA_ALL_ASIDS ? 3 : 9;
  }

  @Override
  protected boolean hasLastLevelOnlyInvalidation() {
    return true;
  }
}
