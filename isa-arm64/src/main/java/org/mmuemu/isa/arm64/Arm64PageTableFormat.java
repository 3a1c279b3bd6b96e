package org.mmuemu.isa.arm64;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;

/**
 * VMSAv8-64 stage-1 descriptors with the 4 KiB granule and 4 levels (48-bit VA): levels 0-2 hold
 * table or block descriptors (blocks only at levels 1 and 2: 1 GiB and 2 MiB), level 3 holds page
 * descriptors.
 *
 * <p>Bits used (Arm ARM D8.3): [0] valid, [1] table/page (1) or block (0), [6] AP[1] (EL0 access),
 * [7] AP[2] (read-only), [10] AF, [11] nG, [47:12] output address, [51] DBM, [52] contiguous, [53]
 * PXN, [54] UXN, [55] software dirty.
 *
 * <p>Write permission and dirtiness follow Linux with hardware dirty-bit management (FEAT_HAFDBS):
 * a writable entry has DBM set (Linux's PTE_WRITE); it is clean while AP[2] (read-only) is also
 * set, and the hardware clears AP[2] on the first store, which makes it dirty ({@link
 * #setsDirtyInHardware}). A read-only entry keeps its dirtiness in the software bit 55 (PTE_DIRTY),
 * as Linux's {@code pte_wrprotect} does.
 *
 * <p>The access flag is managed by hardware too (FEAT_HAFDBS with TCR_EL1.HA, which Linux enables
 * where the CPU has it): the kernel writes AF when it maps, and a walk that finds AF clear (after
 * {@code ptep_test_and_clear_young}, or in a PTE fork made old) sets it ({@link
 * #setsAccessedInHardware}); a TLB hit does not. {@code // MODEL:} every arm64 machine has
 * FEAT_HAFDBS (no access-flag faults). Immutable; allocates nothing.
 */
public final class Arm64PageTableFormat implements PageTableFormat {
  static final long VALID = 1L;
  static final long TABLE_OR_PAGE = 1L << 1;
  static final long AP_EL0 = 1L << 6;
  static final long AP_READ_ONLY = 1L << 7;
  static final long ACCESS_FLAG = 1L << 10;
  static final long NOT_GLOBAL = 1L << 11;
  static final long DBM = 1L << 51;
  static final long CONTIGUOUS = 1L << 52;
  static final long PXN = 1L << 53;
  static final long UXN = 1L << 54;
  static final long SW_DIRTY = 1L << 55;

  /**
   * Linux's software bit marking an invalid entry as PROT_NONE ({@code PTE_PROT_NONE}, bit 58
   * before 6.10; later kernels reuse nG as {@code PTE_PRESENT_INVALID} for the same purpose).
   */
  static final long PROT_NONE = 1L << 58;

  static final long OUTPUT_MASK = 0x0000_FFFF_FFFF_F000L;

  /** Memory attributes: AttrIndx [4:2] (MAIR index) and SH [9:8] (shareability). */
  static final long MEMORY_ATTRIBUTES = (0b111L << 2) | (0b11L << 8);

  /** log2 of the entries in a contiguous run with the 4 KiB granule (16). */
  static final int CONTIGUOUS_SHIFT = 4;

  static final int LEVELS = 4;

  @Override
  public int levels() {
    return LEVELS;
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
    if ((descriptor & VALID) == 0) {
      return false;
    }
    // A block descriptor where blocks are not allowed (level 0), or bit[1] clear at level 3,
    // is reserved: it translates as a fault.
    return (descriptor & TABLE_OR_PAGE) != 0 || allowsBlock(level);
  }

  @Override
  public boolean isLeaf(long descriptor, int level) {
    return level == LEVELS - 1 || (descriptor & TABLE_OR_PAGE) == 0;
  }

  @Override
  public boolean allowsLeaf(int level) {
    return level == LEVELS - 1 || allowsBlock(level);
  }

  private static boolean allowsBlock(int level) {
    return level == 1 || level == 2;
  }

  /**
   * {@inheritDoc}
   *
   * <p>With the 4 KiB granule a contiguous run is 16 entries at every level: 16 pages (64 KiB) at
   * level 3, 16 blocks (32 MiB) at level 2, 16 blocks (16 GiB) at level 1 (Arm ARM D8.6.1).
   */
  @Override
  public int contiguousShift(long descriptor, int level) {
    return (descriptor & CONTIGUOUS) != 0 && isLeaf(descriptor, level) ? CONTIGUOUS_SHIFT : 0;
  }

  /** Returns whether the descriptor is a valid table descriptor at {@code level}. */
  static boolean isTable(long descriptor, int level) {
    return level < LEVELS - 1 && (descriptor & (VALID | TABLE_OR_PAGE)) == (VALID | TABLE_OR_PAGE);
  }

  /** {@inheritDoc} With DBM set, the hardware clears AP[2] on the first store (FEAT_HAFDBS). */
  @Override
  public boolean setsDirtyInHardware() {
    return true;
  }

  /** {@inheritDoc} FEAT_HAFDBS: the walk sets AF. */
  @Override
  public boolean setsAccessedInHardware() {
    return true;
  }

  @Override
  public long outputPa(long descriptor, int level) {
    return descriptor & OUTPUT_MASK;
  }

  @Override
  public int flags(long descriptor, int level) {
    int flags = 0;
    boolean user = (descriptor & AP_EL0) != 0;
    boolean readOnly = (descriptor & AP_READ_ONLY) != 0;
    if (!readOnly || (descriptor & DBM) != 0) {
      flags |= PteFlags.WRITE;
    }
    if (user) {
      flags |= PteFlags.USER;
    }
    if ((descriptor & (user ? UXN : PXN)) == 0) {
      flags |= PteFlags.EXEC;
    }
    if ((descriptor & NOT_GLOBAL) == 0) {
      flags |= PteFlags.GLOBAL;
    }
    if ((descriptor & ACCESS_FLAG) != 0) {
      flags |= PteFlags.ACCESSED;
    }
    if ((descriptor & SW_DIRTY) != 0 || !readOnly) {
      flags |= PteFlags.DIRTY;
    }
    if ((descriptor & CONTIGUOUS) != 0) {
      flags |= PteFlags.CONTIGUOUS;
    }
    return flags;
  }

  @Override
  public long encodeTable(long tablePa, int level) {
    if (level >= LEVELS - 1) {
      throw new IllegalArgumentException(
          "level: " + level + " (expected: 0 to " + (LEVELS - 2) + " for a table)");
    }
    return (tablePa & OUTPUT_MASK) | TABLE_OR_PAGE | VALID;
  }

  @Override
  public long encodeLeaf(long pa, int level, int flags) {
    if (!allowsLeaf(level)) {
      throw new IllegalArgumentException(
          "level: " + level + " (expected: 1, 2 or 3 for a block or page)");
    }
    long alignment = 1L << levelShift(level);
    if ((pa & (alignment - 1)) != 0) {
      throw new IllegalArgumentException(
          "pa: 0x" + Long.toHexString(pa) + " (expected: aligned to " + alignment + ")");
    }
    long descriptor = (pa & OUTPUT_MASK) | VALID;
    if (level == LEVELS - 1) {
      descriptor |= TABLE_OR_PAGE;
    }
    return withFlags(descriptor, level, flags);
  }

  @Override
  public long withFlags(long descriptor, int level, int flags) {
    long d =
        descriptor
            & ~(AP_EL0
                | AP_READ_ONLY
                | ACCESS_FLAG
                | NOT_GLOBAL
                | DBM
                | CONTIGUOUS
                | PXN
                | UXN
                | SW_DIRTY);
    boolean write = (flags & PteFlags.WRITE) != 0;
    boolean dirty = (flags & PteFlags.DIRTY) != 0;
    if (write) {
      d |= DBM;
    }
    if (!(write && dirty)) {
      d |= AP_READ_ONLY; // read-only, or writable and still clean
    }
    if ((flags & PteFlags.USER) != 0) {
      d |= AP_EL0;
    }
    if ((flags & PteFlags.EXEC) == 0) {
      d |= PXN | UXN;
    } else {
      // Linux never lets the kernel execute user memory, nor the user execute kernel memory.
      d |= (flags & PteFlags.USER) != 0 ? PXN : UXN;
    }
    if ((flags & PteFlags.GLOBAL) == 0) {
      d |= NOT_GLOBAL;
    }
    if ((flags & PteFlags.ACCESSED) != 0) {
      d |= ACCESS_FLAG;
    }
    if (dirty && !write) {
      d |= SW_DIRTY;
    }
    if ((flags & PteFlags.CONTIGUOUS) != 0) {
      d |= CONTIGUOUS;
    }
    return d;
  }

  @Override
  public long protNone(long leaf, int level) {
    return (leaf & ~VALID) | PROT_NONE;
  }

  @Override
  public boolean isProtNone(long descriptor, int level) {
    return (descriptor & (VALID | PROT_NONE)) == PROT_NONE;
  }

  @Override
  public long restoreProtNone(long descriptor, int level) {
    return (descriptor & ~PROT_NONE) | VALID;
  }
}
