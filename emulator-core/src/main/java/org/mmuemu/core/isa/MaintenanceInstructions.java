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

  // ---------------------------------------------------------------------------------------
  // Refinements an ISA may declare; the defaults keep the behaviour of the methods above.

  /**
   * Returns the instruction for a request, knowing whether it names the issuing core's current
   * address space: x86 invalidates a VA of the current PCID with {@code INVLPG} and of another
   * PCID with {@code INVPCID type 0}.
   *
   * @param currentTag the request's tag is the one loaded on the issuing core
   */
  default String name(InvalidationScope scope, boolean lastLevelOnly, boolean broadcast, boolean currentTag) {
    return name(scope, lastLevelOnly, broadcast);
  }

  /** Returns the issue cost of the instruction {@link #name(InvalidationScope, boolean, boolean, boolean)} names. */
  default long issueCycles(InvalidationScope scope, boolean broadcast, boolean currentTag) {
    return issueCycles(scope, broadcast);
  }

  /**
   * Returns what a local or broadcast instruction for {@code requested} really removes; where
   * broadcast forms can do more than local ones (x86 INVLPGB reaches a VA in every PCID, INVLPG
   * cannot), an ISA overrides this.
   */
  default InvalidationScope effectiveScope(InvalidationScope requested, boolean broadcast) {
    return effectiveScope(requested);
  }

  /**
   * Returns whether an invalidation by VA also removes global entries for that VA. True for
   * arm64 TLBIs by VA and x86 {@code INVLPG}; false for x86 {@code INVPCID type 0}, which names
   * a PCID other than the current one.
   */
  default boolean byVaRemovesGlobal(boolean currentTag) {
    return true;
  }

  /**
   * Returns whether an invalidation by VA drops every walk-cache entry of the address space
   * rather than only those covering the range: x86 {@code INVLPG} and {@code INVPCID type 0}
   * invalidate all paging-structure-cache entries of the PCID, whatever their linear address
   * (Intel SDM Vol. 3 §4.10.4.1).
   */
  default boolean byVaDropsAllWalkCacheEntriesOfTheSpace() {
    return false;
  }

  /** Returns whether the local ({@code broadcast} false) or broadcast forms have a last-level-only variant. */
  default boolean hasLastLevelOnly(boolean broadcast) {
    return hasLastLevelOnly();
  }

  /**
   * Returns the name of a write of the translation-context register that loads a root and a
   * tag, as results count it ({@code MOV CR3}), or null where such a write is not maintenance
   * (an arm64 TTBR write never invalidates anything). See {@code Machine.writeContext}.
   *
   * @param flushTag the write also removes the new tag's non-global entries (x86: a MOV CR3
   *     without bit 63, or any MOV CR3 when PCIDs are off)
   * @throws IllegalArgumentException when the ISA cannot write the register that way (x86
   *     without PCIDs always flushes)
   */
  default String contextWriteName(boolean flushTag) {
    return null;
  }

  /** Returns the cost of the context write {@link #contextWriteName} names, 0 where it names none. */
  default long contextWriteCycles(boolean flushTag) {
    return 0;
  }

  /**
   * Returns whether the ISA has an instruction for the request: x86 without INVPCID has no
   * local invalidation by PCID, nor of a VA in a PCID other than the current one. Default true.
   */
  default boolean supports(InvalidationScope scope, boolean broadcast, boolean currentTag) {
    return true;
  }

  /**
   * Returns how many base pages one broadcast invalidation by VA may cover (x86 INVLPGB's
   * count, from CPUID); a kernel splits larger ranges into that many pages per instruction.
   * Default 1.
   */
  default int broadcastRangeMaxPages() {
    return 1;
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
