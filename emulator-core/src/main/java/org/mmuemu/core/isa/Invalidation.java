package org.mmuemu.core.isa;

import java.util.Locale;

/**
 * One TLB invalidation operation in ISA-neutral terms: what it removes ({@link #scope}), whether
 * the instruction itself reaches every core ({@link #broadcast}), whether it keeps walk-cache
 * entries ({@link #lastLevelOnly}), whether one instruction covers a range of pages ({@link
 * #range}: arm64 {@code TLBI RVAE1IS}) and the size of the translations it targets ({@link
 * #strideShift}: Linux's {@code stride}, 4 KiB pages or 2 MiB blocks). The addresses and the tag
 * are the operands given when it is issued, not part of the value.
 *
 * <p>Each ISA names and prices the operation ({@link MaintenanceInstructions#name}): {@code
 * local(VA)} is {@code TLBI VAE1} or {@code INVLPG}, {@code broadcast(VA) .withLastLevelOnly(true)}
 * is {@code TLBI VALE1IS}, {@code broadcast(ASID)} is {@code TLBI ASIDE1IS} or {@code INVLPGB
 * PCID}.
 *
 * <p>Immutable. Every value is interned: the factories and withers return shared instances, so
 * issuing an invalidation allocates nothing and values may be compared with {@code ==}.
 *
 * @param scope what the operation removes
 * @param broadcast the instruction reaches every core (arm64 inner-shareable forms, x86 INVLPGB);
 *     otherwise the issuing core only
 * @param lastLevelOnly keep walk-cache entries (arm64 {@code VALE1}); only for by-VA scopes
 * @param range one instruction covers {@code [vaStart, vaEnd)} (FEAT_TLBIRANGE); only for by-VA
 *     scopes
 * @param strideShift log2 of the size of the translations targeted, {@value #MIN_STRIDE_SHIFT} (4
 *     KiB) to {@value #MAX_STRIDE_SHIFT}; an ISA may use it to encode the operand (x86 INVLPGB
 *     counts strides)
 */
public record Invalidation(
    InvalidationScope scope,
    boolean broadcast,
    boolean lastLevelOnly,
    boolean range,
    int strideShift) {
  public static final int MIN_STRIDE_SHIFT = 12;
  public static final int MAX_STRIDE_SHIFT = 47;

  private static final InvalidationScope[] SCOPES = InvalidationScope.values();
  private static final int STRIDES = MAX_STRIDE_SHIFT - MIN_STRIDE_SHIFT + 1;
  private static final Invalidation[] INTERNED = new Invalidation[SCOPES.length * 8 * STRIDES];

  static {
    for (InvalidationScope scope : SCOPES) {
      for (int flags = 0; flags < 8; flags++) {
        boolean byVa = scope.byVa();
        if (!byVa && (flags & 6) != 0) {
          continue; // last-level and range forms exist only by VA
        }
        for (int stride = MIN_STRIDE_SHIFT; stride <= MAX_STRIDE_SHIFT; stride++) {
          INTERNED[index(scope, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, stride)] =
              new Invalidation(scope, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, stride);
        }
      }
    }
  }

  /**
   * @throws IllegalArgumentException when the combination does not exist: a last-level or range
   *     form of an address-space scope, or a stride outside 4 KiB to 2^47
   */
  public Invalidation {
    if (scope == null) {
      throw new IllegalArgumentException("scope: null (expected: an InvalidationScope)");
    }
    if ((lastLevelOnly || range) && !scope.byVa()) {
      throw new IllegalArgumentException(
          scope
              + " invalidation has no "
              + (range ? "range" : "last-level")
              + " form (expected: VA or VA_ALL_ASIDS)");
    }
    if (strideShift < MIN_STRIDE_SHIFT || strideShift > MAX_STRIDE_SHIFT) {
      throw new IllegalArgumentException(
          "strideShift: "
              + strideShift
              + " (expected: "
              + MIN_STRIDE_SHIFT
              + " to "
              + MAX_STRIDE_SHIFT
              + ")");
    }
  }

  private static int index(
      InvalidationScope scope,
      boolean broadcast,
      boolean lastLevelOnly,
      boolean range,
      int strideShift) {
    int flags = (broadcast ? 1 : 0) | (lastLevelOnly ? 2 : 0) | (range ? 4 : 0);
    return (scope.ordinal() * 8 + flags) * STRIDES + (strideShift - MIN_STRIDE_SHIFT);
  }

  /**
   * Returns the interned operation.
   *
   * @throws IllegalArgumentException as the constructor does
   */
  public static Invalidation of(
      InvalidationScope scope,
      boolean broadcast,
      boolean lastLevelOnly,
      boolean range,
      int strideShift) {
    if (scope != null && strideShift >= MIN_STRIDE_SHIFT && strideShift <= MAX_STRIDE_SHIFT) {
      Invalidation interned = INTERNED[index(scope, broadcast, lastLevelOnly, range, strideShift)];
      if (interned != null) {
        return interned;
      }
    }
    return new Invalidation(scope, broadcast, lastLevelOnly, range, strideShift); // throws
  }

  /** The issuing core's invalidation of {@code scope}, 4 KiB stride, walk caches included. */
  public static Invalidation local(InvalidationScope scope) {
    return of(scope, false, false, false, MIN_STRIDE_SHIFT);
  }

  /** The broadcast invalidation of {@code scope}, 4 KiB stride, walk caches included. */
  public static Invalidation broadcast(InvalidationScope scope) {
    return of(scope, true, false, false, MIN_STRIDE_SHIFT);
  }

  public Invalidation withLastLevelOnly(boolean lastLevel) {
    return of(scope, broadcast, lastLevel, range, strideShift);
  }

  public Invalidation withRange(boolean rangeForm) {
    return of(scope, broadcast, lastLevelOnly, rangeForm, strideShift);
  }

  public Invalidation withStrideShift(int shift) {
    return of(scope, broadcast, lastLevelOnly, range, shift);
  }

  /**
   * The same operation removing {@code removed} instead (what an ISA's instruction really does).
   */
  public Invalidation withScope(InvalidationScope removed) {
    return of(
        removed, broadcast, removed.byVa() && lastLevelOnly, removed.byVa() && range, strideShift);
  }

  /** For messages: {@code broadcast VA last-level range stride 2^21}. */
  @Override
  public String toString() {
    return (broadcast ? "broadcast " : "local ")
        + scope.name().toLowerCase(Locale.ROOT).replace('_', '-')
        + (lastLevelOnly ? " last-level" : "")
        + (range ? " range" : "")
        + (strideShift != MIN_STRIDE_SHIFT ? " stride 2^" + strideShift : "");
  }
}
