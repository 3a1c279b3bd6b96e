package org.mmuemu.isa.x86;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;

/**
 * x86-64 4-level paging (PML4, PDPT, PD, PT), or 5-level paging (a PML5 above them, 57-bit linear
 * addresses, CR4.LA57), with 4 KiB pages, 2 MiB pages (PS in a PDE) and 1 GiB pages (PS in a
 * PDPTE).
 *
 * <p>Bits used (Intel SDM Vol. 3 §4.5, Tables 4-15 to 4-20): [0] P, [1] R/W, [2] U/S, [5] A, [6] D,
 * [7] PS (levels 1 and 2), [8] G, [51:12] address, [63] XD. Table entries are written present,
 * writable and user, as Linux does, so that the leaf alone decides permissions. Immutable;
 * allocates nothing.
 */
public final class X86PageTableFormat implements PageTableFormat {
  static final long PRESENT = 1L;
  static final long READ_WRITE = 1L << 1;
  static final long USER = 1L << 2;
  static final long ACCESSED = 1L << 5;
  static final long DIRTY = 1L << 6;
  static final long PAGE_SIZE = 1L << 7;
  static final long GLOBAL = 1L << 8;
  static final long EXECUTE_DISABLE = 1L << 63;
  static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;
  private final int levels;

  /** 4-level paging. */
  public X86PageTableFormat() {
    this(4);
  }

  /**
   * @param levels 4, or 5 for 5-level paging
   */
  public X86PageTableFormat(int levels) {
    if (levels != 4 && levels != 5) {
      throw new IllegalArgumentException("levels: " + levels + " (expected: 4 or 5)");
    }
    this.levels = levels;
  }

  @Override
  public int levels() {
    return levels;
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
    // PS in a PML4E (and a PML5E) is reserved: such an entry faults.
    return (descriptor & PRESENT) != 0 && !(level < levels - 3 && (descriptor & PAGE_SIZE) != 0);
  }

  @Override
  public boolean isLeaf(long descriptor, int level) {
    return level == levels - 1
        || ((level == levels - 3 || level == levels - 2) && (descriptor & PAGE_SIZE) != 0);
  }

  @Override
  public boolean allowsLeaf(int level) {
    return level >= levels - 3;
  }

  @Override
  public long outputPa(long descriptor, int level) {
    long pa = descriptor & ADDRESS_MASK;
    if (level != levels - 1 && (descriptor & PAGE_SIZE) != 0) {
      pa &= ~(1L << 12); // bit 12 of a large-page entry is PAT, not address
    }
    return pa;
  }

  @Override
  public int flags(long descriptor, int level) {
    int flags = 0;
    if ((descriptor & READ_WRITE) != 0) {
      flags |= PteFlags.WRITE;
    }
    if ((descriptor & USER) != 0) {
      flags |= PteFlags.USER;
    }
    if ((descriptor & EXECUTE_DISABLE) == 0) {
      flags |= PteFlags.EXEC;
    }
    if ((descriptor & GLOBAL) != 0) {
      flags |= PteFlags.GLOBAL;
    }
    if ((descriptor & ACCESSED) != 0) {
      flags |= PteFlags.ACCESSED;
    }
    if ((descriptor & DIRTY) != 0) {
      flags |= PteFlags.DIRTY;
    }
    return flags;
  }

  @Override
  public long encodeTable(long tablePa, int level) {
    if (level >= levels - 1) {
      throw new IllegalArgumentException(
          "level: " + level + " (expected: 0 to " + (levels - 2) + " for a table)");
    }
    return (tablePa & ADDRESS_MASK) | PRESENT | READ_WRITE | USER | ACCESSED;
  }

  @Override
  public long encodeLeaf(long pa, int level, int flags) {
    if (!allowsLeaf(level)) {
      throw new IllegalArgumentException(
          "level: "
              + level
              + " (expected: "
              + (levels - 3)
              + " to "
              + (levels - 1)
              + " for a page)");
    }
    long alignment = 1L << levelShift(level);
    if ((pa & (alignment - 1)) != 0) {
      throw new IllegalArgumentException(
          "pa: 0x" + Long.toHexString(pa) + " (expected: aligned to " + alignment + ")");
    }
    long descriptor = (pa & ADDRESS_MASK) | PRESENT;
    if (level != levels - 1) {
      descriptor |= PAGE_SIZE;
    }
    return withFlags(descriptor, level, flags);
  }

  @Override
  public long withFlags(long descriptor, int level, int flags) {
    long d = descriptor & ~(READ_WRITE | USER | ACCESSED | DIRTY | GLOBAL | EXECUTE_DISABLE);
    if ((flags & PteFlags.WRITE) != 0) {
      d |= READ_WRITE;
    }
    if ((flags & PteFlags.USER) != 0) {
      d |= USER;
    }
    if ((flags & PteFlags.EXEC) == 0) {
      d |= EXECUTE_DISABLE;
    }
    if ((flags & PteFlags.GLOBAL) != 0) {
      d |= GLOBAL;
    }
    if ((flags & PteFlags.ACCESSED) != 0) {
      d |= ACCESSED;
    }
    if ((flags & PteFlags.DIRTY) != 0) {
      d |= DIRTY;
    }
    return d;
  }

  /** x86 walkers set A and D, and TLB entries cache D (Intel SDM Vol. 3 §4.8). */
  @Override
  public boolean hardwareUpdatesAccessedDirty() {
    return true;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Linux's {@code _PAGE_PROTNONE}: Present cleared and the Global bit position set, which means
   * PROT_NONE only while Present is clear (user leaves are never global).
   */
  @Override
  public long protNone(long leaf, int level) {
    if ((leaf & GLOBAL) != 0) {
      throw new IllegalArgumentException("a global leaf cannot be made PROT_NONE");
    }
    return (leaf & ~PRESENT) | GLOBAL;
  }

  @Override
  public boolean isProtNone(long descriptor, int level) {
    return (descriptor & (PRESENT | GLOBAL)) == GLOBAL;
  }

  @Override
  public long restoreProtNone(long descriptor, int level) {
    return (descriptor & ~GLOBAL) | PRESENT;
  }
}
