package org.mmuemu.core.isa;

/**
 * ISA-neutral attribute bits of a leaf translation, as the walker reports them and TLB entries
 * cache them. Each ISA maps its descriptor bits to and from these.
 */
public final class PteFlags {
  private PteFlags() {}

  /** Stores are allowed (arm64: AP[2] clear; x86: R/W set). */
  public static final int WRITE = 1;

  /** User (EL0 / CPL 3) accesses are allowed. */
  public static final int USER = 1 << 1;

  /** Instruction fetches are allowed (arm64: UXN/PXN clear; x86: NX clear). */
  public static final int EXEC = 1 << 2;

  /** Not tagged with an address-space id (arm64: nG clear; x86: G set). */
  public static final int GLOBAL = 1 << 3;

  /** Access flag (arm64 AF; x86 A). */
  public static final int ACCESSED = 1 << 4;

  /** Dirty (arm64: DBM with AP[2] clear; x86: D). */
  public static final int DIRTY = 1 << 5;

  /** Part of an aligned run the hardware may cache as one larger entry (arm64 contiguous bit). */
  public static final int CONTIGUOUS = 1 << 6;

  /** Renders flags as {@code WUXGAD} letters, {@code -} for clear bits, for traces and messages. */
  public static String describe(int flags) {
    char[] letters = {'W', 'U', 'X', 'G', 'A', 'D', 'C'};
    StringBuilder sb = new StringBuilder(letters.length);
    for (int i = 0; i < letters.length; i++) {
      sb.append((flags & (1 << i)) != 0 ? letters[i] : '-');
    }
    return sb.toString();
  }
}
