package org.mmuemu.kernel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.config.ConfigSection;

/**
 * The machine config's {@code /kernel} section: the cost of each unit of kernel work, in
 * cycles, and the selected behaviour variants.
 *
 * <p>Costs follow the work: a fault pays its entry cost, then each page it allocates and zeroes,
 * each table it allocates and each descriptor it writes. Every cost has a default (an estimate,
 * tagged E in the config reference) so a config may leave the section out.
 *
 * @param costs cycles per unit of work, by name (see {@link #COST_DEFAULTS})
 * @param variants selected behaviour per variant name (see {@link #VARIANTS})
 */
public record KernelConfig(Map<String, Long> costs, Map<String, String> variants) {

  /** Every cost key with its default, in cycles. */
  public static final Map<String, Long> COST_DEFAULTS = defaults();

  /** Variant names with their allowed values; the first value is the default. */
  public static final Map<String, List<String>> VARIANTS = variantDefaults();

  private static Map<String, List<String>> variantDefaults() {
    Map<String, List<String>> v = new LinkedHashMap<>();
    // x86 page-table isolation (KPTI): "on" gives each address space a user/kernel PCID pair.
    v.put("x86Pti", List.of("off", "on"));
    // x86 pmd_free_pte_page: "flush" (fixed, 2018) flushes before freeing the PTE table a
    // huge mapping replaces; "noFlush" frees it while paging-structure caches may point at it.
    v.put("x86FreePteTableFlush", List.of("flush", "noFlush"));
    // vmalloc (kernel.vmalloc): the fixed behaviour first
    v.put("vmUnmapAliasesWalk", List.of("xarray", "free-list"));
    v.put("lazyFreePublishOrder", List.of("ordered", "racy"));
    v.put("vmapNodes", List.of("off", "on")); // 6.9+ per-node pools of purged ranges
    v.put("vmapContpte", List.of("off", "on")); // arm64 contiguous-PTE huge vmap (64 KiB to 2 MiB)
    v.put("lazyMmuBarrierBatching", List.of("off", "on")); // kernel PTE barriers once per table in lazy MMU mode
    // arm64 + OOM reaper (DOMAIN.md §3.6): perVma = one gather per VMA, fullmm never set on a
    // live mm (687cb0884a71, the fix); fullmm = one whole-space gather, whose fullmm lets arm64
    // skip the TLB flush (the 2017 use-after-free, CVE-2017-18202).
    v.put("oomReaperGather", List.of("perVma", "fullmm"));
    // mmu_gather and file pages (DOMAIN.md §3.5): delayed = a dirty file page's rmap is removed
    // only after the TLB flush (5df397dec7c4, 6.2, the fix); immediate = removed while the PTE
    // is cleared, so folio_mkclean can miss a stale writable TLB entry (lost write).
    v.put("rmapRemoval", List.of("delayed", "immediate"));
    // Concurrent zaps (DOMAIN.md §3.7): flushNested = tlb_finish_mmu flushes the whole mm when
    // another gather is pending on it (99baac21e458, 4.13, the fix); noNestedCheck = a gather
    // that cleared nothing flushes nothing (the 2017 MADV_DONTNEED stale-TLB bug).
    v.put("madviseFlushBatching", List.of("flushNested", "noNestedCheck"));
    return java.util.Collections.unmodifiableMap(v);
  }

  private static Map<String, Long> defaults() {
    Map<String, Long> d = new LinkedHashMap<>();
    d.put("faultEntryCycles", 500L); // exception entry + exit, handler dispatch
    d.put("vmaLookupCycles", 40L); // per VMA tree node visited
    d.put("pageAllocCycles", 250L); // buddy / per-CPU list allocation of one page
    d.put("pageZeroCycles", 400L); // clearing 4 KiB
    d.put("pageFreeCycles", 150L);
    d.put("tableAllocCycles", 650L); // a page-table page: allocate and zero
    d.put("pteWriteCycles", 5L); // one descriptor store
    d.put("lockCycles", 30L); // uncontended lock + unlock
    d.put("contextSwitchCycles", 2000L);
    // Not cycles: Linux x86 tlb_single_page_flush_ceiling, pages flushed one by one before a
    // range flush becomes a full flush (tunable in debugfs; 33 since 2014).
    d.put("tlbSinglePageFlushCeilingPages", 33L);
    // vmalloc (kernel.vmalloc)
    d.put("vmapNodeVisitCycles", 15L); // per vmap_area tree node visited (free, busy, lazy)
    d.put("vmapAreaObjectCycles", 80L); // allocating or freeing a vmap_area / vm_struct object
    d.put("vmapBlockCycles", 40L); // per vmap block inspected or updated (bitmap and counters)
    d.put("rcuGracePeriodCycles", 3_000_000L); // kvfree_rcu: queueing to the deferred vfree
    d.put("pcpuAllocCycles", 150L);
    // file pages (page cache, writeback)
    d.put("fileReadCycles", 20_000L); // reading one page from storage into the page cache
    d.put("writebackPageCycles", 2_000L); // submitting one page's writeback I/O
    // Not cycles: Linux fault_around_bytes (debugfs; 64 KiB default), the window of cached file
    // pages a read fault maps around itself; 4096 turns fault-around off.
    d.put("faultAroundBytes", 65_536L); // per-CPU allocator bookkeeping per alloc or free (bitmap search)
    return java.util.Collections.unmodifiableMap(d);
  }

  /** Returns a cost in cycles. */
  public long cost(String key) {
    Long value = costs.get(key);
    if (value == null) {
      throw new IllegalArgumentException("kernel cost: " + key + " (expected one of: " + COST_DEFAULTS.keySet() + ")");
    }
    return value;
  }

  /** Reads the section, filling defaults; problems are recorded on {@code section}. */
  public static KernelConfig read(ConfigSection section) {
    section.rejectUnknownKeys(Set.of("costs", "variants"));
    ConfigSection costSection = section.section("costs");
    costSection.rejectUnknownKeys(COST_DEFAULTS.keySet());
    Map<String, Long> costs = new java.util.TreeMap<>();
    COST_DEFAULTS.forEach((key, value) -> costs.put(key, costSection.getLong(key, value, 0, 100_000_000)));
    ConfigSection variantSection = section.section("variants");
    variantSection.rejectUnknownKeys(VARIANTS.keySet());
    Map<String, String> variants = new java.util.TreeMap<>();
    VARIANTS.forEach((key, allowed) -> variants.put(key, variantSection.getChoice(key, allowed.get(0), allowed)));
    return new KernelConfig(java.util.Collections.unmodifiableMap(costs),
        java.util.Collections.unmodifiableMap(variants));
  }

  /** Checks the section and returns every problem. */
  public static List<ConfigProblem> validate(ConfigSection section) {
    read(section);
    return section.problems();
  }
}
