package org.mmuemu.core.isa;

/**
 * An ISA's names and issue costs for the neutral invalidation operations. Immutable.
 *
 * <p>The kernel asks for an invalidation by scope; the machine applies it to the TLBs and walk
 * caches and counts it under the name returned here, so results and traces speak the ISA's own
 * language.
 */
public interface MaintenanceInstructions {

  /**
   * Returns the instruction that performs the operation, as it appears in results.
   *
   * @param scope what is removed
   * @param lastLevelOnly keep walk-cache entries (arm64 {@code VALE1}; x86 has no such form)
   * @param broadcast the instruction itself reaches every core (arm64 inner-shareable forms);
   *     {@code false} means this core only
   */
  String name(InvalidationScope scope, boolean lastLevelOnly, boolean broadcast);

  /** Returns the cycles the issuing core pays for the instruction itself. */
  long issueCycles(InvalidationScope scope, boolean broadcast);

  /** Returns whether the ISA has broadcast invalidation instructions (arm64 yes; x86 only with INVLPGB). */
  boolean hasBroadcast();

  /**
   * Returns whether the ISA has last-level-only forms that keep walk-cache entries (arm64
   * {@code VALE1}); where it has none (x86), every invalidation also drops walk-cache entries.
   */
  default boolean hasLastLevelOnly() {
    return true;
  }

  /**
   * Returns what the instruction for {@code requested} really removes, where the ISA has no
   * exact form: arm64 has no "all but global" operation, so {@code VMALLE1} removes global
   * entries too; x86 cannot reach other PCIDs by address, so INVLPG covers the current PCID and
   * global entries only.
   */
  default InvalidationScope effectiveScope(InvalidationScope requested) {
    return requested;
  }

  /**
   * Returns how many cycles after its issue a broadcast invalidation has completed on every one
   * of {@code cores} cores: what a {@link BarrierKind#BROADCAST_COMPLETE} barrier waits for.
   */
  default long broadcastCompletionCycles(int cores) {
    return 0;
  }

  /**
   * Returns how many cycles one broadcast invalidation occupies the interconnect: broadcasts
   * from all cores enter it one after another at this interval, so a burst of them (many
   * cores unmapping at once) completes later. 0 means no contention is modelled.
   */
  default long broadcastIntervalCycles() {
    return 0;
  }

  /**
   * Returns the barrier instruction of {@code kind}, as results name it, or null when the ISA
   * needs none (x86 invalidations are synchronous).
   */
  default String barrierName(BarrierKind kind) {
    return null;
  }

  /** Returns the cycles a barrier of {@code kind} costs the issuing core, before any wait. */
  default long barrierCycles(BarrierKind kind) {
    return 0;
  }

  /**
   * Returns the range instruction for {@code scope} (arm64 {@code TLBI RVAE1IS} with
   * FEAT_TLBIRANGE), or null when the ISA (as configured) has none. Only the by-VA scopes have
   * range forms.
   */
  default String rangeName(InvalidationScope scope, boolean lastLevelOnly, boolean broadcast) {
    return null;
  }

  /**
   * Returns whether one range instruction can cover exactly {@code [vaStart, vaEnd)}: the
   * operand encoding limits which lengths and alignments exist.
   */
  default boolean isEncodableRange(long vaStart, long vaEnd) {
    return false;
  }
}
