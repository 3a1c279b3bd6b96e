package org.mmuemu.isa.x86;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * The x86-64 ISA: 4-level paging, 4 KiB / 2 MiB / 1 GiB pages, global pages, PCIDs, hardware
 * accessed/dirty flags with the dirty flag cached in TLB entries, INVLPG / INVPCID / MOV CR3 /
 * CR4.PGE, and (AMD) INVLPGB / TLBSYNC.
 *
 * <p>Config section {@code /x86} (every key optional): {@code pcid} (true: 12-bit PCIDs tag
 * entries), {@code invpcid} (true), {@code invlpgb} (false), {@code invlpgbMaxPages} (8: pages one
 * INVLPGB may cover, CPUID 8000_0008h EDX[15:0] + 1), {@code levels} (4; 5 for 5-level paging with
 * 57-bit addresses), {@code costs} (cycles per instruction, see {@link #COST_DEFAULTS}) and {@code
 * interrupts} (IPI costs). docs/x86.md explains each.
 */
public final class X86IsaProvider implements IsaProvider {
  static final Set<String> KEYS =
      Set.of("pcid", "invpcid", "invlpgb", "invlpgbMaxPages", "levels", "costs", "interrupts");

  /** Every cost key with its default in cycles (TIMINGS.md §2 and §3 4.3). */
  static final Map<String, Long> COST_DEFAULTS = costDefaults();

  /**
   * Defaults: one remote shootdown costs the initiator about 2325 cycles (775 ns at 3 GHz) and each
   * further target about 200 (TIMINGS §3 4.3, derived from a published Haswell measurement): 200
   * send + 950 delivery + 600 handler entry + 250 INVLPG + 325 ack.
   */
  static final InterruptCosts DEFAULT_INTERRUPTS = new InterruptCosts(200, 950, 600, 325);

  private static Map<String, Long> costDefaults() {
    Map<String, Long> d = new LinkedHashMap<>();
    d.put("invlpgCycles", 250L);
    d.put("invpcidAddressCycles", 250L);
    d.put("invpcidContextCycles", 150L);
    d.put("invpcidAllCycles", 300L);
    d.put("cr4PgeToggleCycles", 400L);
    d.put("movCr3Cycles", 100L);
    d.put("movCr3NoflushCycles", 60L);
    d.put("invlpgbCycles", 100L);
    d.put("tlbsyncCycles", 20L);
    d.put("invlpgbCompletionCycles", 1000L);
    return Collections.unmodifiableMap(d);
  }

  @Override
  public String id() {
    return "x86";
  }

  @Override
  public String description() {
    return "x86-64: 4- or 5-level paging, 4 KiB/2 MiB/1 GiB pages, global pages, 12-bit PCIDs, "
        + "INVLPG/INVPCID/MOV CR3, optional INVLPGB";
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
    PageTableFormat format = new X86PageTableFormat(settings.levels);
    TranslationRegime regime =
        new X86Regime(settings.pcid ? 12 : 0, settings.levels == 5 ? 57 : 48);
    Map<String, Long> c = settings.costs;
    X86Maintenance.Costs costs =
        new X86Maintenance.Costs(
            c.get("invlpgCycles"),
            c.get("invpcidAddressCycles"),
            c.get("invpcidContextCycles"),
            c.get("invpcidAllCycles"),
            c.get("cr4PgeToggleCycles"),
            c.get("movCr3Cycles"),
            c.get("movCr3NoflushCycles"),
            c.get("invlpgbCycles"),
            c.get("tlbsyncCycles"),
            c.get("invlpgbCompletionCycles"));
    MaintenanceInstructions maintenance =
        new X86Maintenance(
            settings.pcid, settings.invpcid, settings.invlpgb, settings.invlpgbMaxPages, costs);
    return new AssembledIsa("x86", format, regime, maintenance, settings.interrupts);
  }

  private record Settings(
      int levels,
      boolean pcid,
      boolean invpcid,
      boolean invlpgb,
      int invlpgbMaxPages,
      Map<String, Long> costs,
      InterruptCosts interrupts) {}

  private static Settings read(ConfigSection section) {
    section.rejectUnknownKeys(KEYS);
    boolean pcid = section.getBoolean("pcid", true);
    boolean invpcid = section.getBoolean("invpcid", true);
    boolean invlpgb = section.getBoolean("invlpgb", false);
    int invlpgbMaxPages = section.getInt("invlpgbMaxPages", 8, 1, 65536);
    int levels = section.getInt("levels", 4, 0, 10);
    if (levels != 4 && levels != 5) {
      section.report("levels", levels, "4 or 5");
    }
    if (invlpgb && !pcid) {
      section.report(
          "invlpgb", true, "false when pcid is false (Linux uses INVLPGB only with PCIDs)");
    }
    ConfigSection costs = section.section("costs");
    costs.rejectUnknownKeys(COST_DEFAULTS.keySet());
    Map<String, Long> values = new LinkedHashMap<>();
    COST_DEFAULTS.forEach((key, value) -> values.put(key, costs.getLong(key, value, 0, 1_000_000)));
    return new Settings(
        levels,
        pcid,
        invpcid,
        invlpgb,
        invlpgbMaxPages,
        values,
        InterruptCosts.read(section, DEFAULT_INTERRUPTS));
  }
}
