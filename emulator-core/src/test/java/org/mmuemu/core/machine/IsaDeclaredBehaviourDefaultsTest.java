package org.mmuemu.core.machine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.testkit.PageTableWriter;
import org.mmuemu.core.testkit.SmallMachines;

/**
 * The behaviours an ISA opts into (hardware accessed/dirty flags with dirty-bit caching,
 * context-register writes as maintenance) stay off for an ISA that declares nothing, as arm64 does:
 * a store through a clean entry neither walks nor writes the descriptor, and a context write only
 * loads the registers.
 */
final class IsaDeclaredBehaviourDefaultsTest {
  private static final long VA = 0x0000_0000_0060_0000L;
  private Machine machine;
  private PageTableWriter tables;
  private long root;

  @BeforeEach
  void build() {
    machine = SmallMachines.standardFake();
    machine.actOn(0);
    tables = new PageTableWriter(machine);
    root = tables.newRootOnAllCores(1);
  }

  @Test
  void storeThroughAnEntryWithDirtyClear_neitherWalksNorSetsDirty() {
    long pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(root, VA, pa, 3, PteFlags.WRITE | PteFlags.USER);
    long leafTable = tables.tableAt(root, VA, 3, false);
    long before = machine.memory().readDescriptor(leafTable, machine.format().index(VA, 3));
    machine.translate(0, VA, AccessKind.READ);
    long walks = machine.stats().walks();

    assertThat(machine.translate(0, VA, AccessKind.WRITE)).isEqualTo(pa);

    assertThat(machine.stats().walks()).isEqualTo(walks);
    assertThat(machine.memory().readDescriptor(leafTable, machine.format().index(VA, 3)))
        .isEqualTo(before);
  }

  @Test
  void contextWrite_loadsTheRegistersOnly() {
    long pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(
        root, VA, pa, 3, PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED | PteFlags.DIRTY);
    machine.translate(0, VA, AccessKind.READ);
    long now = machine.now(0);
    long walks = machine.stats().walks();

    machine.writeContext(0, root << PhysicalMemory.FRAME_SHIFT, 1, true);

    assertThat(machine.now(0)).isEqualTo(now);
    assertThat(machine.stats().instructionCounts()).isEmpty();
    assertThat(machine.translate(0, VA, AccessKind.READ)).isEqualTo(pa);
    assertThat(machine.stats().walks()).as("nothing was flushed").isEqualTo(walks);
  }
}
