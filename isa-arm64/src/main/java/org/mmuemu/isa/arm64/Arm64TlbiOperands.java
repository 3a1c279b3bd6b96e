package org.mmuemu.isa.arm64;

/**
 * The 64-bit operands of the AArch64 by-VA and range TLBI instructions, with the 4 KiB granule.
 *
 * <p>By-VA operand ({@code TLBI VAE1IS, Xt}): bits [63:48] ASID, [47:44] TTL (level hint, 0 =
 * none), [43:0] VA[55:12].
 *
 * <p>Range operand (FEAT_TLBIRANGE, {@code TLBI RVAE1IS, Xt}): bits [63:48] ASID, [47:46] TG
 * (granule: 1 = 4 KiB), [45:44] SCALE, [43:39] NUM, [38:37] TTL, [36:0] BADDR (the first page
 * number, VA[48:12]). One operand covers {@code (NUM + 1) * 2^(5 * SCALE + 1)} pages from BADDR:
 * from 2 pages (SCALE 0, NUM 0) to {@code 32 * 2^16 = 2^21} pages (SCALE 3, NUM 31). A range of an
 * odd number of pages has no encoding.
 *
 * @see "Arm ARM D8.10 and C5.5.x (TLBI RVAE1IS: range operand layout)"
 */
public final class Arm64TlbiOperands {
  /** TG field value for the 4 KiB granule. */
  public static final int TG_4K = 1;

  /** The most pages one range operand covers: SCALE 3, NUM 31. */
  public static final long MAX_RANGE_PAGES = rangePages(3, 31);

  private static final int PAGE_SHIFT = 12;
  private static final long BADDR_MASK = (1L << 37) - 1;
  private static final long VA_FIELD_MASK = (1L << 44) - 1;

  private Arm64TlbiOperands() {}

  /** Returns the pages one range operand with {@code scale} and {@code num} covers. */
  public static long rangePages(int scale, int num) {
    checkScaleNum(scale, num);
    return (long) (num + 1) << (5 * scale + 1);
  }

  /**
   * Encodes a range operand.
   *
   * @param asid 0 to 65535
   * @param scale 0 to 3
   * @param num 0 to 31
   * @param ttl level hint 0 to 3 (0: none)
   * @param va the first VA of the range; page aligned
   */
  public static long encodeRange(int asid, int scale, int num, int ttl, long va) {
    checkScaleNum(scale, num);
    if (asid < 0 || asid > 0xFFFF) {
      throw new IllegalArgumentException("asid: " + asid + " (expected: 0 to 65535)");
    }
    if (ttl < 0 || ttl > 3) {
      throw new IllegalArgumentException("ttl: " + ttl + " (expected: 0 to 3)");
    }
    if ((va & ((1L << PAGE_SHIFT) - 1)) != 0) {
      throw new IllegalArgumentException(
          "va: 0x" + Long.toHexString(va) + " (expected: 4 KiB aligned)");
    }
    return ((long) asid << 48)
        | ((long) TG_4K << 46)
        | ((long) scale << 44)
        | ((long) num << 39)
        | ((long) ttl << 37)
        | ((va >>> PAGE_SHIFT) & BADDR_MASK);
  }

  public static int asid(long operand) {
    return (int) (operand >>> 48);
  }

  public static int rangeTg(long operand) {
    return (int) ((operand >>> 46) & 0b11);
  }

  public static int rangeScale(long operand) {
    return (int) ((operand >>> 44) & 0b11);
  }

  public static int rangeNum(long operand) {
    return (int) ((operand >>> 39) & 0b11111);
  }

  public static int rangeTtl(long operand) {
    return (int) ((operand >>> 37) & 0b11);
  }

  /** Returns the first VA of a range operand: BADDR is VA[48:12], sign-extended from bit 48. */
  public static long rangeStartVa(long operand) {
    return ((operand & BADDR_MASK) << (64 - 37)) >> (64 - 37 - PAGE_SHIFT);
  }

  /** Returns the end (exclusive) of the range a range operand covers. */
  public static long rangeEndVa(long operand) {
    return rangeStartVa(operand)
        + (rangePages(rangeScale(operand), rangeNum(operand)) << PAGE_SHIFT);
  }

  /**
   * Finds the encoding of a range of {@code pages} pages: the smallest SCALE with a NUM such that
   * {@code (NUM + 1) << (5 * SCALE + 1) == pages}.
   *
   * @return {@code scale << 5 | num}, or -1 when no single operand covers exactly that many
   */
  public static int scaleNumFor(long pages) {
    for (int scale = 0; scale <= 3; scale++) {
      int unitShift = 5 * scale + 1;
      if (pages > 0 && (pages & ((1L << unitShift) - 1)) == 0) {
        long units = pages >>> unitShift;
        if (units >= 1 && units <= 32) {
          return scale << 5 | (int) (units - 1);
        }
      }
    }
    return -1;
  }

  /**
   * Encodes a by-VA operand ({@code VAE1}, {@code VALE1}, {@code VAAE1}, ...): VA[55:12], TTL,
   * ASID.
   */
  public static long encodeVa(int asid, int ttl, long va) {
    if (ttl < 0 || ttl > 15) {
      throw new IllegalArgumentException("ttl: " + ttl + " (expected: 0 to 15)");
    }
    return ((long) (asid & 0xFFFF) << 48)
        | ((long) ttl << 44)
        | ((va >>> PAGE_SHIFT) & VA_FIELD_MASK);
  }

  /** Returns the page VA of a by-VA operand, sign-extended from VA bit 55. */
  public static long vaOf(long operand) {
    return ((operand & VA_FIELD_MASK) << (64 - 44)) >> (64 - 44 - PAGE_SHIFT);
  }

  private static void checkScaleNum(int scale, int num) {
    if (scale < 0 || scale > 3) {
      throw new IllegalArgumentException("scale: " + scale + " (expected: 0 to 3)");
    }
    if (num < 0 || num > 31) {
      throw new IllegalArgumentException("num: " + num + " (expected: 0 to 31)");
    }
  }
}
