package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.testkit.PageTableWriter;
import org.mmuemu.core.tlb.SetAssociativeTlb;

/**
 * A TLB entry caches the descriptor's state as it was at the walk (AP read-only, AF, dirty, XN,
 * nG): a later descriptor change is invisible to a core until a TLBI removes its entry. These tests
 * pin that down, since every Linux flush exists because of it.
 */
final class Arm64TlbEntryStateTest {
  private static final long VA = 0x0000_0000_4000_0000L;
  private static final int USER = PteFlags.USER | PteFlags.ACCESSED;

  private Machine machine;
  private PageTableWriter tables;
  private long root;
  private long pa;

  @BeforeEach
  void build() {
    machine = Arm64TestMachines.build(1, Map.of("asidBits", 8));
    tables = new PageTableWriter(machine);
    root = tables.newTable();
    machine.core(0).context().setUser(root << PhysicalMemory.FRAME_SHIFT, 1);
    pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
  }

  @Test
  void writableDirtyEntry_staysWritableAfterTheDescriptorIsMadeReadOnly_untilATlbi() {
    tables.map(root, VA, pa, 3, USER | PteFlags.WRITE | PteFlags.DIRTY);
    assertThat(machine.translate(0, VA, AccessKind.WRITE)).isEqualTo(pa);

    tables.map(root, VA, pa, 3, USER);
    assertThat(machine.translate(0, VA, AccessKind.WRITE)).isEqualTo(pa);
    SetAssociativeTlb l1d = machine.core(0).tlb("l1d");
    assertThat(l1d.flagsOf(l1d.probe(VA, 1)) & (PteFlags.WRITE | PteFlags.DIRTY))
        .isEqualTo(PteFlags.WRITE | PteFlags.DIRTY);

    machine.invalidate(
        0, Invalidation.local(InvalidationScope.VA).withLastLevelOnly(true), VA, VA + 0x1000, 1);

    assertThat(machine.translate(0, VA, AccessKind.WRITE))
        .isEqualTo(-1); // permission fault, no kernel
    assertThat(machine.translate(0, VA, AccessKind.READ)).isEqualTo(pa);
  }

  @Test
  void nonGlobalEntry_missesUnderAnotherAsid_globalEntryHits() {
    long globalVa = VA + 0x1000;
    tables.map(root, VA, pa, 3, USER);
    tables.map(root, globalVa, pa, 3, USER | PteFlags.GLOBAL);
    machine.translate(0, VA, AccessKind.READ);
    machine.translate(0, globalVa, AccessKind.READ);

    machine.core(0).context().setUser(root << PhysicalMemory.FRAME_SHIFT, 2);
    long walks = machine.stats().walks();
    machine.translate(0, globalVa, AccessKind.READ);
    assertThat(machine.stats().walks()).isEqualTo(walks);
    machine.translate(0, VA, AccessKind.READ);
    assertThat(machine.stats().walks()).isEqualTo(walks + 1);
  }

  @Test
  void executeNeverAndAccessFlag_areCachedWithTheEntry() {
    tables.map(root, VA, pa, 3, USER | PteFlags.EXEC);
    machine.translate(0, VA, AccessKind.FETCH);
    SetAssociativeTlb l1i = machine.core(0).tlb("l1i");

    assertThat(
            l1i.flagsOf(l1i.probe(VA, 1)) & (PteFlags.EXEC | PteFlags.ACCESSED | PteFlags.GLOBAL))
        .isEqualTo(PteFlags.EXEC | PteFlags.ACCESSED);
  }

  @Test
  void executeNever_isCachedUntilATlbi_andFaultsAFetchAfterIt() {
    tables.map(root, VA, pa, 3, USER | PteFlags.EXEC);
    assertThat(machine.translate(0, VA, AccessKind.FETCH)).isEqualTo(pa);

    tables.map(
        root, VA, pa, 3, USER); // UXN set: a permission change, safe without break-before-make
    assertThat(machine.translate(0, VA, AccessKind.FETCH)).isEqualTo(pa);

    machine.invalidate(
        0, Invalidation.local(InvalidationScope.VA).withLastLevelOnly(true), VA, VA + 0x1000, 1);
    assertThat(machine.translate(0, VA, AccessKind.FETCH)).isEqualTo(-1);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void storeThroughAWritableCleanEntry_makesTheHardwareMarkTheDescriptorDirty_once() {
    tables.map(root, VA, pa, 3, USER | PteFlags.WRITE);
    machine.translate(0, VA, AccessKind.READ);
    long walks = machine.stats().walks();

    assertThat(machine.translate(0, VA, AccessKind.WRITE)).isEqualTo(pa);

    assertThat(machine.stats().walks())
        .isEqualTo(walks + 1); // the hardware walks to the descriptor
    assertThat(machine.stats().hardwareDirtyUpdates()).isEqualTo(1);
    assertThat(machine.stats().faults()).isZero();
    long table = tables.tableAt(root, VA, 3, false);
    long descriptor = machine.memory().readDescriptor(table, machine.format().index(VA, 3));
    assertThat(descriptor & Arm64PageTableFormat.AP_READ_ONLY).isZero();
    SetAssociativeTlb l1d = machine.core(0).tlb("l1d");
    assertThat(l1d.flagsOf(l1d.probe(VA, 1)) & PteFlags.DIRTY).isEqualTo(PteFlags.DIRTY);

    machine.translate(0, VA, AccessKind.WRITE);
    assertThat(machine.stats().walks()).isEqualTo(walks + 1);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void asidWidth_comesFromTheConfig() {
    assertThat(machine.isa().regime().asidBits()).isEqualTo(8);
    assertThat(Arm64TestMachines.build(1, Map.of()).isa().regime().asidBits()).isEqualTo(16);
  }
}
