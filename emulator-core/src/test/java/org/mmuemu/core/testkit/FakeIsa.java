package org.mmuemu.core.testkit;

import java.util.List;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.isa.MaintenanceInstructions;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.TranslationContext;
import org.mmuemu.core.isa.TranslationRegime;

/**
 * A tiny ISA for emulator-core's own tests, so that the machine, the walker and the oracle can be
 * tested without either real ISA module (which depend on core, not the other way round).
 *
 * <p>Four levels of 512 descriptors over 4 KiB pages (48-bit VA), leaves allowed at levels 1-3.
 * Descriptor: bit 0 valid, bit 1 leaf (implied at the last level), bits [51:12] output address,
 * bits [62:56] the {@link org.mmuemu.core.isa.PteFlags} verbatim. User VAs go through the user
 * root, kernel (negative) VAs through the kernel root; 16-bit ASIDs. Invalidation instructions are
 * named {@code FAKE <scope>[ LAST][ BCAST]}; by-VA forms cost {@link #VA_ISSUE_CYCLES}, the others
 * {@link #SPACE_ISSUE_CYCLES}; broadcast is supported.
 */
public final class FakeIsa implements Isa {
  public static final String ID = "fake";
  public static final long VA_ISSUE_CYCLES = 3;
  public static final long SPACE_ISSUE_CYCLES = 9;

  private final PageTableFormat format = new FakePageTableFormat();
  private final TranslationRegime regime = new FakeRegime();
  private final MaintenanceInstructions maintenance = new FakeMaintenance();

  @Override
  public String id() {
    return ID;
  }

  @Override
  public PageTableFormat pageTableFormat() {
    return format;
  }

  @Override
  public TranslationRegime regime() {
    return regime;
  }

  @Override
  public MaintenanceInstructions maintenance() {
    return maintenance;
  }

  /**
   * Interrupt costs of the fake machine: send 7 per target, delivery 100, handler entry 50, ack 20.
   */
  @Override
  public org.mmuemu.core.isa.InterruptCosts interrupts() {
    return new org.mmuemu.core.isa.InterruptCosts(7, 100, 50, 20);
  }

  /**
   * A provider for {@link FakeIsa}; accepts an empty section only. Deliberately not registered with
   * ServiceLoader.
   */
  public static final class Provider implements IsaProvider {
    @Override
    public String id() {
      return ID;
    }

    @Override
    public String description() {
      return "test-only ISA";
    }

    @Override
    public List<ConfigProblem> validate(ConfigSection isaSection) {
      isaSection.rejectUnknownKeys(java.util.Set.of());
      return isaSection.problems();
    }

    @Override
    public Isa create(ConfigSection isaSection) {
      return new FakeIsa();
    }
  }

  /** The fake descriptor format. */
  public static final class FakePageTableFormat implements PageTableFormat {
    static final long VALID = 1L;
    static final long LEAF = 1L << 1;
    static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;
    static final int FLAGS_SHIFT = 56;
    static final long FLAGS_MASK = 0x7FL << FLAGS_SHIFT;

    @Override
    public int levels() {
      return 4;
    }

    @Override
    public int pageShift() {
      return 12;
    }

    @Override
    public int indexBits() {
      return 9;
    }

    @Override
    public boolean isValid(long descriptor, int level) {
      return (descriptor & VALID) != 0 && ((descriptor & LEAF) == 0 || allowsLeaf(level));
    }

    @Override
    public boolean isLeaf(long descriptor, int level) {
      return level == levels() - 1 || (descriptor & LEAF) != 0;
    }

    @Override
    public boolean allowsLeaf(int level) {
      return level >= 1 && level < levels();
    }

    @Override
    public long outputPa(long descriptor, int level) {
      return descriptor & ADDRESS_MASK;
    }

    @Override
    public int flags(long descriptor, int level) {
      return (int) ((descriptor & FLAGS_MASK) >>> FLAGS_SHIFT);
    }

    @Override
    public long encodeTable(long tablePa, int level) {
      if (level < 0 || level >= levels() - 1) {
        throw new IllegalArgumentException("level: " + level + " (expected: 0 to 2 for a table)");
      }
      return (tablePa & ADDRESS_MASK) | VALID;
    }

    @Override
    public long encodeLeaf(long pa, int level, int flags) {
      if (!allowsLeaf(level)) {
        throw new IllegalArgumentException("level: " + level + " (expected: 1 to 3 for a leaf)");
      }
      if ((pa & ((1L << levelShift(level)) - 1)) != 0) {
        throw new IllegalArgumentException(
            "pa: 0x" + Long.toHexString(pa) + " (expected: aligned)");
      }
      return withFlags((pa & ADDRESS_MASK) | LEAF | VALID, level, flags);
    }

    @Override
    public long withFlags(long descriptor, int level, int flags) {
      return (descriptor & ~FLAGS_MASK) | (((long) flags << FLAGS_SHIFT) & FLAGS_MASK);
    }
  }

  private static final class FakeRegime implements TranslationRegime {
    @Override
    public int vaBits() {
      return 48;
    }

    @Override
    public int asidBits() {
      return 16;
    }

    @Override
    public long rootPa(long va, TranslationContext context) {
      return va < 0 ? context.kernelRootPa() : context.userRootPa();
    }
  }

  private static final class FakeMaintenance implements MaintenanceInstructions {
    @Override
    public String name(Invalidation op, boolean currentTag) {
      return "FAKE "
          + op.scope()
          + (op.lastLevelOnly() ? " LAST" : "")
          + (op.broadcast() ? " BCAST" : "");
    }

    @Override
    public long issueCycles(Invalidation op, boolean currentTag) {
      return op.scope().byVa() ? VA_ISSUE_CYCLES : SPACE_ISSUE_CYCLES;
    }

    @Override
    public boolean hasBroadcast() {
      return true;
    }
  }
}
