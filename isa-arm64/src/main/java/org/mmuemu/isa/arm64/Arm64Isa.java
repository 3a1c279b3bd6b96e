package org.mmuemu.isa.arm64;

import org.mmuemu.core.isa.InterruptCosts;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.MaintenanceInstructions;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.TableUpdateChecker;
import org.mmuemu.core.isa.TranslationRegime;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.Oracle;

/**
 * The configured AArch64 ISA: its parts, plus the break-before-make checker every machine built
 * with it runs (unless the config turns it off).
 */
record Arm64Isa(
    PageTableFormat pageTableFormat,
    TranslationRegime regime,
    MaintenanceInstructions maintenance,
    InterruptCosts interrupts,
    boolean checkBreakBeforeMake)
    implements Isa {

  @Override
  public String id() {
    return "arm64";
  }

  @Override
  public TableUpdateChecker newTableUpdateChecker(PhysicalMemory memory, Oracle oracle, int cores) {
    return checkBreakBeforeMake ? new Arm64BreakBeforeMakeChecker(memory, oracle, cores) : null;
  }
}
