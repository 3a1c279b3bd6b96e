package org.mmuemu.isa.arm64;

import java.util.List;
import java.util.Set;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.isa.InterruptCosts;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.TranslationRegime;

/**
 * The AArch64 ISA: VMSAv8-64, 4 KiB granule, 48-bit VA, ASID-tagged TTBR0 and global TTBR1.
 *
 * <p>Config section {@code /arm64}: {@code asidBits} (8 or 16, default 16), {@code vaBits} (48),
 * {@code tlbiRange} (FEAT_TLBIRANGE: the {@code TLBI RVA*} forms, default false), {@code
 * breakBeforeMakeCheck} (the break-before-make oracle, default true), {@code costs} (TLBI issue
 * costs, broadcast completion, barriers; see docs/config-reference.md) and {@code interrupts} (IPI
 * costs).
 */
public final class Arm64IsaProvider implements IsaProvider {
  static final Set<String> KEYS =
      Set.of("asidBits", "vaBits", "tlbiRange", "breakBeforeMakeCheck", "costs", "interrupts");
  static final Set<String> COST_KEYS =
      Set.of(
          "tlbiCycles",
          "tlbiAllCycles",
          "broadcastCompletionBaseCycles",
          "broadcastCompletionPerCoreCycles",
          "dvmIntervalCycles",
          "dsbIshCycles",
          "dsbIshstCycles",
          "dsbNshCycles",
          "isbCycles");

  /** Defaults: a GIC SGI round trip of about 1 us at 3 GHz (TIMINGS §3, estimate). */
  static final InterruptCosts DEFAULT_INTERRUPTS = new InterruptCosts(100, 1500, 800, 600);

  @Override
  public String id() {
    return "arm64";
  }

  @Override
  public String description() {
    return "AArch64 VMSAv8-64: 4 KiB granule, 4 levels, 48-bit VA, ASIDs, TTBR0/TTBR1, TLBI";
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
    PageTableFormat format = new Arm64PageTableFormat();
    TranslationRegime regime = new Arm64Regime(settings.vaBits, settings.asidBits);
    return new Arm64Isa(
        format, regime, settings.maintenance, settings.interrupts, settings.checkBreakBeforeMake);
  }

  private record Settings(
      int asidBits,
      int vaBits,
      Arm64Maintenance maintenance,
      InterruptCosts interrupts,
      boolean checkBreakBeforeMake) {}

  private static Settings read(ConfigSection section) {
    section.rejectUnknownKeys(KEYS);
    int asidBits = section.getInt("asidBits", 16, 0, 16);
    if (section.has("asidBits") && asidBits != 8 && asidBits != 16) {
      section.report("asidBits", asidBits, "8 or 16");
    }
    int vaBits = section.getInt("vaBits", 48, 0, 64);
    if (vaBits != 48) {
      section.report("vaBits", vaBits, "48 (4 KiB granule, 4 levels)");
    }
    boolean tlbiRange = section.getBoolean("tlbiRange", false);
    boolean checkBreakBeforeMake = section.getBoolean("breakBeforeMakeCheck", true);
    ConfigSection costs = section.section("costs");
    costs.rejectUnknownKeys(COST_KEYS);
    long limit = 100_000_000;
    long dvmInterval = costs.getLong("dvmIntervalCycles", 0, 0, limit);
    Arm64Maintenance maintenance =
        new Arm64Maintenance(
            tlbiRange,
            dvmInterval,
            costs.getLong("tlbiCycles", 10, 0, limit),
            costs.getLong("tlbiAllCycles", 50, 0, limit),
            costs.getLong("broadcastCompletionBaseCycles", 600, 0, limit),
            costs.getLong("broadcastCompletionPerCoreCycles", 150, 0, limit),
            costs.getLong("dsbIshCycles", 20, 0, limit),
            costs.getLong("dsbIshstCycles", 20, 0, limit),
            costs.getLong("dsbNshCycles", 10, 0, limit),
            costs.getLong("isbCycles", 15, 0, limit));
    return new Settings(
        asidBits,
        vaBits,
        maintenance,
        InterruptCosts.read(section, DEFAULT_INTERRUPTS),
        checkBreakBeforeMake);
  }
}
