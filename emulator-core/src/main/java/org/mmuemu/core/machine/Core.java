package org.mmuemu.core.machine;

import java.util.List;
import org.mmuemu.core.isa.TranslationContext;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.core.walk.WalkCache;
import org.mmuemu.core.walk.WalkResult;

/**
 * One simulated core's MMU state: its translation registers, its TLB levels (with the lookup path
 * for instruction fetches and for data accesses), its walk caches, and a reusable walk result.
 * Confined to the simulation thread.
 */
public final class Core {
  private final int id;
  private final TranslationContext context = new TranslationContext();
  private final SetAssociativeTlb[] tlbLevels;
  private final SetAssociativeTlb[] instructionPath;
  private final SetAssociativeTlb[] dataPath;
  private final WalkCache[] walkCaches;
  final WalkResult walkResult = new WalkResult();

  Core(int id, List<SetAssociativeTlb> tlbLevels, WalkCache[] walkCaches) {
    this.id = id;
    this.tlbLevels = tlbLevels.toArray(new SetAssociativeTlb[0]);
    this.instructionPath =
        tlbLevels.stream().filter(t -> t.serves().serves(true)).toArray(SetAssociativeTlb[]::new);
    this.dataPath =
        tlbLevels.stream().filter(t -> t.serves().serves(false)).toArray(SetAssociativeTlb[]::new);
    this.walkCaches = walkCaches;
  }

  public int id() {
    return id;
  }

  public TranslationContext context() {
    return context;
  }

  /** Every TLB level, in config order. */
  public SetAssociativeTlb[] tlbLevels() {
    return tlbLevels;
  }

  SetAssociativeTlb[] path(boolean instructionFetch) {
    return instructionFetch ? instructionPath : dataPath;
  }

  /** Walk caches by table level; null where a level has none. */
  public WalkCache[] walkCaches() {
    return walkCaches;
  }

  /** Finds the TLB level named {@code name}, or null. */
  public SetAssociativeTlb tlb(String name) {
    for (SetAssociativeTlb tlb : tlbLevels) {
      if (tlb.name().equals(name)) {
        return tlb;
      }
    }
    return null;
  }
}
