package org.mmuemu.isa.x86;

import java.util.List;
import java.util.Set;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.isa.AssembledIsa;
import org.mmuemu.core.isa.InterruptCosts;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.isa.MaintenanceInstructions;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.TranslationRegime;

/**
 * The x86-64 ISA: 4-level paging, 4 KiB / 2 MiB / 1 GiB pages, global pages, PCIDs.
 *
 * <p>Config section {@code /x86}: {@code pcid} (default true: 12-bit PCIDs tag entries),
 * {@code levels} (4), {@code costs.invlpgCycles} (250), {@code costs.invpcidContextCycles}
 * (150), {@code costs.invpcidAllCycles} (300), and {@code interrupts} (IPI costs).
 */
public final class X86IsaProvider implements IsaProvider {
  static final Set<String> KEYS = Set.of("pcid", "levels", "costs", "interrupts");
  static final Set<String> COST_KEYS = Set.of("invlpgCycles", "invpcidContextCycles", "invpcidAllCycles");
  /**
   * Defaults: one remote shootdown costs the initiator about 2325 cycles (775 ns at 3 GHz) and
   * each further target about 200 (TIMINGS §3 4.3, derived from a published Haswell
   * measurement): 200 send + 950 delivery + 600 handler entry + 250 INVLPG + 325 ack.
   */
  static final InterruptCosts DEFAULT_INTERRUPTS = new InterruptCosts(200, 950, 600, 325);

  @Override
  public String id() {
    return "x86";
  }

  @Override
  public String description() {
    return "x86-64: 4-level paging, 4 KiB/2 MiB/1 GiB pages, global pages, 12-bit PCIDs, INVLPG/INVPCID";
  }

  @Override
  public List<ConfigProblem> validate(ConfigSection section) {
    read(section);
    return section.problems();
  }

  @Override
  public Isa create(ConfigSection section) {
    Settings settings = read(section);
    if (!section.problems().isEmpty()) {
      throw new IllegalArgumentException(section.problems().get(0).toString());
    }
    PageTableFormat format = new X86PageTableFormat();
    TranslationRegime regime = new X86Regime(settings.pcid ? 12 : 0);
    MaintenanceInstructions maintenance = new X86Maintenance(settings.invlpgCycles, settings.invpcidContextCycles,
        settings.invpcidAllCycles);
    return new AssembledIsa("x86", format, regime, maintenance, settings.interrupts);
  }

  private record Settings(boolean pcid, long invlpgCycles, long invpcidContextCycles, long invpcidAllCycles,
      InterruptCosts interrupts) {}

  private static Settings read(ConfigSection section) {
    section.rejectUnknownKeys(KEYS);
    boolean pcid = section.getBoolean("pcid", true);
    int levels = section.getInt("levels", 4, 0, 10);
    if (levels != 4) {
      section.report("levels", levels, "4");
    }
    ConfigSection costs = section.section("costs");
    costs.rejectUnknownKeys(COST_KEYS);
    long invlpg = costs.getLong("invlpgCycles", 250, 0, 1_000_000);
    long context = costs.getLong("invpcidContextCycles", 150, 0, 1_000_000);
    long all = costs.getLong("invpcidAllCycles", 300, 0, 1_000_000);
    return new Settings(pcid, invlpg, context, all, InterruptCosts.read(section, DEFAULT_INTERRUPTS));
  }
}
