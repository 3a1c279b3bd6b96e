package org.mmuemu.core.isa;

/**
 * An ISA's names and issue costs for the neutral invalidation operations ({@link Invalidation}).
 * Immutable.
 *
 * <p>The kernel asks for an invalidation as an {@link Invalidation} value; the machine applies it
 * to the TLBs and walk caches and counts it under the name returned here, so results and traces
 * speak the ISA's own language.
 */
public interface MaintenanceInstructions {

  /**
   * Returns the instruction that performs {@code op}, as it appears in results.
   *
   * @param currentTag the operation's tag is the one loaded on the issuing core: x86 invalidates a
   *     VA of the current PCID with {@code INVLPG} and of another PCID with {@code INVPCID type 0};
   *     always true for a broadcast
   * @throws IllegalStateException when {@link #supports} is false for the request
   */
  String name(Invalidation op, boolean currentTag);

  /** Returns the cycles the issuing core pays for the instruction {@link #name} names. */
  long issueCycles(Invalidation op, boolean currentTag);

  /**
   * Returns whether the ISA has broadcast invalidation instructions (arm64 yes; x86 only with
   * INVLPGB).
   */
  boolean hasBroadcast();

  /**
   * Returns whether the ISA has an instruction for the request. By default: broadcast forms when
   * {@link #hasBroadcast}, no range forms. x86 without INVPCID has no local invalidation by PCID,
   * nor of a VA in a PCID other than the current one; arm64 has range forms only with
   * FEAT_TLBIRANGE.
   */
  default boolean supports(Invalidation op, boolean currentTag) {
    return (!op.broadcast() || hasBroadcast()) && !op.range();
  }

  /**
   * Returns whether one instruction can cover exactly {@code [vaStart, vaEnd)} for a by-VA {@code
   * op}: a range form's operand limits which lengths and alignments exist (arm64 SCALE and NUM),
   * and x86 INVLPGB counts at most {@link #broadcastRangeMaxPages} strides. By default every extent
   * is accepted for the single-page forms and none for range forms.
   */
  default boolean isEncodable(Invalidation op, long vaStart, long vaEnd) {
    return !op.range();
  }

  /**
   * Returns what the instruction for {@code op} really removes, where the ISA has no exact form:
   * arm64 has no "all but global" operation, so {@code VMALLE1} removes global entries too; x86
   * cannot reach other PCIDs by address with INVLPG, so it covers the current PCID and global
   * entries only, while INVLPGB can name a VA in every PCID.
   */
  default InvalidationScope effectiveScope(Invalidation op) {
    return op.scope();
  }

  /**
   * Returns whether the instruction for {@code op} leaves walk-cache entries alone: a
   * last-level-only request on an ISA that has such a form (arm64 {@code VALE1}, x86 INVLPGB's
   * final-translation-only form); where it has none (x86 INVLPG), walk-cache entries go too.
   */
  default boolean keepsWalkCaches(Invalidation op) {
    return op.lastLevelOnly();
  }

  /**
   * Returns whether an invalidation by VA also removes global entries for that VA. True for arm64
   * TLBIs by VA and x86 {@code INVLPG}; false for x86 {@code INVPCID type 0}, which names a PCID
   * other than the current one.
   */
  default boolean byVaRemovesGlobal(boolean currentTag) {
    return true;
  }

  /**
   * Returns whether an invalidation by VA drops every walk-cache entry of the address space rather
   * than only those covering the range: x86 {@code INVLPG} and {@code INVPCID type 0} invalidate
   * all paging-structure-cache entries of the PCID, whatever their linear address (Intel SDM Vol. 3
   * §4.10.4.1).
   */
  default boolean byVaDropsAllWalkCacheEntriesOfTheSpace() {
    return false;
  }

  /**
   * Returns how many cycles after its issue a broadcast invalidation has completed on every one of
   * {@code cores} cores: what a {@link BarrierKind#BROADCAST_COMPLETE} barrier waits for.
   */
  default long broadcastCompletionCycles(int cores) {
    return 0;
  }

  /**
   * Returns how many cycles one broadcast invalidation occupies the interconnect: broadcasts from
   * all cores enter it one after another at this interval, so a burst of them (many cores unmapping
   * at once) completes later. 0 means no contention is modelled.
   */
  default long broadcastIntervalCycles() {
    return 0;
  }

  /**
   * Returns how many strides one broadcast invalidation by VA may cover (x86 INVLPGB's count, from
   * CPUID); a kernel splits larger ranges into that many per instruction. Default 1.
   */
  default int broadcastRangeMaxPages() {
    return 1;
  }

  /**
   * Returns the barrier instruction of {@code kind}, as results name it, or null when the ISA needs
   * none (x86 invalidations are synchronous).
   */
  default String barrierName(BarrierKind kind) {
    return null;
  }

  /** Returns the cycles a barrier of {@code kind} costs the issuing core, before any wait. */
  default long barrierCycles(BarrierKind kind) {
    return 0;
  }

  /**
   * Returns the name of a write of the translation-context register that loads a root and a tag, as
   * results count it ({@code MOV CR3}), or null where such a write is not maintenance (an arm64
   * TTBR write never invalidates anything). See {@code Machine.writeContext}.
   *
   * @param flushTag the write also removes the new tag's non-global entries (x86: a MOV CR3 without
   *     bit 63, or any MOV CR3 when PCIDs are off)
   * @throws IllegalArgumentException when the ISA cannot write the register that way (x86 without
   *     PCIDs always flushes)
   */
  default String contextWriteName(boolean flushTag) {
    return null;
  }

  /**
   * Returns the cost of the context write {@link #contextWriteName} names, 0 where it names none.
   */
  default long contextWriteCycles(boolean flushTag) {
    return 0;
  }
}
