package org.mmuemu.kernel.mm;

/**
 * Non-present leaf entries the kernel writes into PTE slots (Linux's swap-type entries): the
 * hardware sees an invalid descriptor and faults; the fault path decodes what the kernel left
 * there. Two kinds are modelled:
 *
 * <ul>
 *   <li>a <b>device-exclusive</b> entry ({@code make_device_exclusive}): the frame a device now
 *       owns for atomics, and whether the PTE it replaced was writable;
 *   <li>a <b>pte marker</b> (Linux 5.19+): no page, only a bit mask, here {@link #MARKER_UFFD_WP}
 *       ("this empty slot is write-protected", DOMAIN-FAULTS.md §4.3).
 * </ul>
 *
 * <p>The encoding keeps bit 0 clear, which both ISAs read as invalid (arm64 VALID, x86 PRESENT);
 * the kind is in bits 2-4, the writable bit of a device-exclusive entry in bit 5, and the frame or
 * the marker bits from bit 12. Bits 1 and 6 to 11 stay clear, which tells these entries apart from
 * a NUMA-balancing PROT_NONE leaf (a leaf with its valid bit cleared: arm64 keeps the page
 * descriptor's bit 1 and its access flag, bit 10; x86 sets the Global bit position, bit 8). {@code
 * // MODEL:} one encoding for both ISAs (Linux has a per-arch swap-entry layout); no real swap
 * entries exist (nothing is swapped out).
 */
public final class SwapPte {
  private static final long KIND_MASK = 0b111L << 2;
  private static final long KIND_DEVICE_EXCLUSIVE = 1L << 2;
  private static final long KIND_MARKER = 2L << 2;
  private static final long WRITE = 1L << 5;
  private static final int PAYLOAD_SHIFT = 12;
  // bit 0 (valid/present), bit 1 and bits 6-11: clear in every entry here, set in a PROT_NONE leaf
  private static final long CLEAR_BITS = 0b1111_1100_0011L;

  /** Marker bit: the empty slot is write-protected by userfaultfd ({@code PTE_MARKER_UFFD_WP}). */
  public static final long MARKER_UFFD_WP = 1;

  private SwapPte() {}

  /** A device-exclusive entry for frame {@code pfn}; {@code writable}: the PTE it replaced was. */
  public static long deviceExclusive(long pfn, boolean writable) {
    return (pfn << PAYLOAD_SHIFT) | KIND_DEVICE_EXCLUSIVE | (writable ? WRITE : 0);
  }

  public static boolean isDeviceExclusive(long entry) {
    return (entry & CLEAR_BITS) == 0 && (entry & KIND_MASK) == KIND_DEVICE_EXCLUSIVE;
  }

  /** The frame of a device-exclusive entry. */
  public static long pfn(long entry) {
    return entry >>> PAYLOAD_SHIFT;
  }

  /** Whether the PTE a device-exclusive entry replaced was writable. */
  public static boolean writable(long entry) {
    return (entry & WRITE) != 0;
  }

  /** A pte marker with {@code bits} (for example {@link #MARKER_UFFD_WP}). */
  public static long marker(long bits) {
    return (bits << PAYLOAD_SHIFT) | KIND_MARKER;
  }

  public static boolean isMarker(long entry) {
    return (entry & CLEAR_BITS) == 0 && (entry & KIND_MASK) == KIND_MARKER;
  }

  /** The bits of a pte marker. */
  public static long markerBits(long entry) {
    return entry >>> PAYLOAD_SHIFT;
  }
}
