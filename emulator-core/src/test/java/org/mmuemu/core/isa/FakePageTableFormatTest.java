package org.mmuemu.core.isa;

import java.util.Set;
import org.mmuemu.core.testkit.FakeIsa;

/**
 * Runs the {@link PageTableFormatContract} against the test-only fake format, so the contract
 * itself is exercised in emulator-core and the fake ISA that core's machine tests rely on is known
 * to be a well-behaved format.
 */
final class FakePageTableFormatTest extends PageTableFormatContract {
  @Override
  protected PageTableFormat format() {
    return new FakeIsa.FakePageTableFormat();
  }

  @Override
  protected int expectedLevels() {
    return 4;
  }

  @Override
  protected Set<Integer> expectedLeafLevels() {
    return Set.of(1, 2, 3);
  }
}
