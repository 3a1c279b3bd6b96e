package org.mmuemu.kernel.config;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.config.ConfigSection;

/**
 * The machine config's {@code /kernel/variants}: where Linux changed behaviour to fix a bug, both
 * behaviours exist and the config selects one (the fixed one by default, the first constant of each
 * enum). The config key of each variant is its component name.
 *
 * @param x86Pti x86 page-table isolation (KPTI): {@code on} gives each address space a user/kernel
 *     PCID pair
 * @param x86FreePteTableFlush x86 {@code pmd_free_pte_page}: {@code flush} (fixed, 2018) flushes
 *     before freeing the PTE table a huge mapping replaces; {@code noFlush} frees it while
 *     paging-structure caches may point at it
 * @param vmUnmapAliasesWalk how {@code vm_unmap_aliases} finds dirty vmap blocks
 * @param lazyFreePublishOrder whether a lazily freed area is counted before it is published
 * @param vmapNodes 6.9+ vmap nodes: per-node busy trees with their own locks, and per-node pools of
 *     purged ranges
 * @param vmapContpte arm64 contiguous-PTE huge vmap (64 KiB to 2 MiB)
 * @param lazyMmuBarrierBatching arm64 kernel PTE barriers once per table in lazy MMU mode
 * @param oomReaperGather arm64 + OOM reaper (DOMAIN.md §3.6): {@code perVma} = one gather per VMA,
 *     fullmm never set on a live mm (687cb0884a71, the fix); {@code fullmm} = one whole-space
 *     gather, whose fullmm lets arm64 skip the TLB flush (CVE-2017-18202)
 * @param rmapRemoval mmu_gather and file pages (DOMAIN.md §3.5): {@code delayed} = a dirty file
 *     page's rmap is removed only after the TLB flush (5df397dec7c4, the fix); {@code immediate} =
 *     removed while the PTE is cleared, so folio_mkclean can miss a stale writable TLB entry
 * @param madviseFlushBatching concurrent zaps (DOMAIN.md §3.7): {@code flushNested} =
 *     tlb_finish_mmu flushes the whole mm when another gather is pending on it (99baac21e458, the
 *     fix); {@code noNestedCheck} = a gather that cleared nothing flushes nothing
 * @param tlbFlushWait whether a user TLB flush waits for completion before returning: {@code
 *     complete} (Linux) waits for {@code DSB ISH}, the IPI acknowledgements or {@code TLBSYNC};
 *     {@code none} returns at once, so mmu_gather frees the pages while other cores may still hold
 *     their translations, and waits only after the frees (the bug class the causal time model
 *     exposes)
 * @param unshareScope FAULT_FLAG_UNSHARE (DOMAIN-FAULTS.md §5.3): {@code cowMapping} (6.2+) breaks
 *     COW for anything a R/O long-term pin finds in a COW mapping, page-cache pages included, so
 *     the pin and the process keep using the same page; {@code anonOnly} (before 6.2) unshares only
 *     anonymous pages, so a pinned page-cache page is left behind by the process's next write
 * @param vunmapFlush when vmalloc flushes a freed area's kernel range: {@code lazy} (2.6.28+, the
 *     vmap rewrite db64fe02258f) keeps freed ranges on the lazy list and flushes them together at
 *     the purge; {@code eager} (before 2.6.28) flushes the range on every vunmap/vfree and returns
 *     it to the free space at once
 * @param arm64ReclaimTlbFlush arm64 reclaim unmapping mapped pages ({@code try_to_unmap}): {@code
 *     batched} (6.5+, 43b3dfdd0455, {@code arch_tlbbatch_add_pending}/{@code arch_tlbbatch_flush})
 *     issues each page's TLBI without waiting and one {@code DSB ISH} before the pages are freed;
 *     {@code perPage} flushes each cleared PTE at once ({@code ptep_clear_flush})
 * @param ptdumpSync the software page-table walker (ptdump) against huge vmap freeing page tables
 *     (DOMAIN.md §1.7; "arm64: Enable vmalloc-huge with ptdump", 2025): {@code staticKey} (the fix)
 *     has ptdump enable {@code arm64_ptdump_lock_key} and hold init_mm's mmap lock for write while
 *     it walks, and {@code pmd_free_pte_page}, when the key is on, take and drop that lock for read
 *     after clearing the entry and before freeing the table, so it waits for a running walk; {@code
 *     none} frees the table at once, so a walk that read the entry before it was cleared reads a
 *     freed table ({@code FREED_TABLE_WALK})
 * @param asidRolloverFlush arm64 ASID rollover ({@code flush_context}, DOMAIN.md §4.3): {@code
 *     pending} (Linux) marks a local full TLB flush pending on every CPU, done at each CPU's next
 *     slow-path context switch before a new-generation ASID is installed; {@code none} skips it, so
 *     a process given an ASID number another address space used in the previous generation hits
 *     that space's entries still cached on the CPU (DOMAIN.md §4.6.2)
 * @param deviceExclusiveRef a CPU fault on a device-exclusive entry ({@code
 *     remove_device_exclusive_entry}, DOMAIN-FAULTS.md §6): {@code get} (the 2023 fix) takes a
 *     reference on the page ({@code folio_try_get}) before locking it, and gives up when the page
 *     is already gone; {@code none} locks the page it read from the entry without a reference, so a
 *     concurrent unmap can free the page under the lock ({@code KERNEL_UAF})
 * @param faultLocking how a user page fault locks its VMA (DOMAIN-FAULTS.md §1): {@code perVma}
 *     (6.4+) tries {@code lock_vma_under_rcu} first and handles an anonymous fault holding only
 *     that VMA's read lock, falling back to {@code mmap_lock} on the first fault of a VMA, a
 *     write-locked VMA or a file mapping; {@code mmapLock} (before 6.4) takes {@code mmap_lock} for
 *     read on every fault, so any writer of the mm (mmap, mprotect, munmap) stalls every fault
 * @param numaScanFilter which VMAs NUMA balancing's {@code task_numa_work} makes PROT_NONE
 *     (DOMAIN-FAULTS.md §2.3): {@code accessedPids} (6.4+, {@code vma_is_accessed}) skips, after
 *     the mm's first two full passes, every VMA in which the scanning task took no hinting fault
 *     (by 6 bits of its PID); {@code all} (before 6.4) scans every VMA, so each task's pass makes
 *     the other tasks' memory PROT_NONE too
 * @param vmaRecency reclaim's reference check against {@code madvise} access hints
 *     (DOMAIN-FAULTS.md §6, {@code vma_has_recency}): {@code skipVma} (6.3+) skips every mapping in
 *     a VMA advised {@code MADV_SEQUENTIAL} or {@code MADV_RANDOM} in {@code folio_referenced}'s
 *     rmap walk, so its accessed flag is neither tested nor cleared (no flush) and its references
 *     do not keep the page; {@code legacy} (before 6.3, {@code page_referenced_one}) tests and
 *     clears the accessed flag of every mapping (arm64 flushing each young one) and ignores only
 *     the references through {@code MADV_SEQUENTIAL} mappings
 * @param arm64Contpte arm64 contiguous PTEs for user mappings ({@code CONFIG_ARM64_CONTPTE}, 6.9+):
 *     {@code auto} maps every whole, aligned 64 KiB block of a large anonymous folio with the
 *     contiguous bit (one TLB entry for 16 pages), folds a block whose last PTE completes one, and
 *     unfolds a block (break-before-make and a TLBI of its range) before a change to part of it;
 *     {@code off} (before 6.9) maps every page with its own PTE
 */
public record KernelVariants(
    OnOff x86Pti,
    FreePteTableFlush x86FreePteTableFlush,
    UnmapAliasesWalk vmUnmapAliasesWalk,
    LazyFreePublishOrder lazyFreePublishOrder,
    OnOff vmapNodes,
    OnOff vmapContpte,
    OnOff lazyMmuBarrierBatching,
    OomReaperGather oomReaperGather,
    RmapRemoval rmapRemoval,
    MadviseFlushBatching madviseFlushBatching,
    TlbFlushWait tlbFlushWait,
    UnshareScope unshareScope,
    VunmapFlush vunmapFlush,
    ReclaimTlbFlush arm64ReclaimTlbFlush,
    PtdumpSync ptdumpSync,
    AsidRolloverFlush asidRolloverFlush,
    DeviceExclusiveRef deviceExclusiveRef,
    FaultLocking faultLocking,
    NumaScanFilter numaScanFilter,
    VmaRecency vmaRecency,
    Contpte arm64Contpte) {

  /** Variant names with their allowed values, the default first, in documentation order. */
  public static final Map<String, List<String>> ALLOWED = allowed();

  /** Every variant at its default. */
  public static KernelVariants defaults() {
    return read(ConfigSection.empty("/kernel/variants"));
  }

  /**
   * Reads {@code /kernel/variants}, filling defaults; an unknown name or value is recorded on
   * {@code section} under its JSON pointer ({@code "foo" (expected: one of a, b)}).
   */
  static KernelVariants read(ConfigSection section) {
    section.rejectUnknownKeys(ALLOWED.keySet());
    RecordComponent[] components = KernelVariants.class.getRecordComponents();
    Object[] args = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      types[i] = components[i].getType();
      args[i] = choose(section, components[i].getName(), types[i].getEnumConstants());
    }
    try {
      return KernelVariants.class.getDeclaredConstructor(types).newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Object choose(ConfigSection section, String key, Object[] constants) {
    List<String> names = namesOf(constants);
    String chosen = section.getChoice(key, names.get(0), names);
    return constants[names.indexOf(chosen)];
  }

  private static List<String> namesOf(Object[] constants) {
    List<String> names = new ArrayList<>();
    for (Object constant : constants) {
      names.add(((KernelVariant) constant).configName());
    }
    return names;
  }

  private static Map<String, List<String>> allowed() {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (RecordComponent component : KernelVariants.class.getRecordComponents()) {
      out.put(component.getName(), List.copyOf(namesOf(component.getType().getEnumConstants())));
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * The selected values by variant name, in documentation order (the resolved config shows them).
   */
  public Map<String, String> asMap() {
    Map<String, String> out = new LinkedHashMap<>();
    for (RecordComponent component : KernelVariants.class.getRecordComponents()) {
      try {
        out.put(
            component.getName(),
            ((KernelVariant) component.getAccessor().invoke(this)).configName());
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }

  /** A switch that is off (the default) or on. */
  public enum OnOff implements KernelVariant {
    OFF,
    ON;

    @Override
    public String configName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    public boolean on() {
      return this == ON;
    }
  }

  /** {@link #x86FreePteTableFlush}. */
  public enum FreePteTableFlush implements KernelVariant {
    FLUSH("flush"),
    NO_FLUSH("noFlush");

    private final String configName;

    FreePteTableFlush(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /**
   * {@link #vmUnmapAliasesWalk}: the 6.x xarray of vmap blocks, or the older per-CPU free lists.
   */
  public enum UnmapAliasesWalk implements KernelVariant {
    XARRAY("xarray"),
    FREE_LIST("free-list");

    private final String configName;

    UnmapAliasesWalk(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #lazyFreePublishOrder}. */
  public enum LazyFreePublishOrder implements KernelVariant {
    ORDERED("ordered"),
    RACY("racy");

    private final String configName;

    LazyFreePublishOrder(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #oomReaperGather}. */
  public enum OomReaperGather implements KernelVariant {
    PER_VMA("perVma"),
    FULLMM("fullmm");

    private final String configName;

    OomReaperGather(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #rmapRemoval}. */
  public enum RmapRemoval implements KernelVariant {
    DELAYED("delayed"),
    IMMEDIATE("immediate");

    private final String configName;

    RmapRemoval(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #vunmapFlush}. */
  public enum VunmapFlush implements KernelVariant {
    LAZY("lazy"),
    EAGER("eager");

    private final String configName;

    VunmapFlush(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #arm64ReclaimTlbFlush}. */
  public enum ReclaimTlbFlush implements KernelVariant {
    BATCHED("batched"),
    PER_PAGE("perPage");

    private final String configName;

    ReclaimTlbFlush(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #madviseFlushBatching}. */
  public enum MadviseFlushBatching implements KernelVariant {
    FLUSH_NESTED("flushNested"),
    NO_NESTED_CHECK("noNestedCheck");

    private final String configName;

    MadviseFlushBatching(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #tlbFlushWait}. */
  public enum TlbFlushWait implements KernelVariant {
    COMPLETE("complete"),
    NONE("none");

    private final String configName;

    TlbFlushWait(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }

    public boolean waits() {
      return this == COMPLETE;
    }
  }

  /** {@link #unshareScope}. */
  public enum UnshareScope implements KernelVariant {
    COW_MAPPING("cowMapping"),
    ANON_ONLY("anonOnly");

    private final String configName;

    UnshareScope(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #ptdumpSync}. */
  public enum PtdumpSync implements KernelVariant {
    STATIC_KEY("staticKey"),
    NONE("none");

    private final String configName;

    PtdumpSync(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #asidRolloverFlush}. */
  public enum AsidRolloverFlush implements KernelVariant {
    PENDING("pending"),
    NONE("none");

    private final String configName;

    AsidRolloverFlush(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }

    /** Whether a rollover leaves a local full flush pending on every CPU. */
    public boolean flushes() {
      return this == PENDING;
    }
  }

  /** {@link #deviceExclusiveRef}. */
  public enum DeviceExclusiveRef implements KernelVariant {
    GET("get"),
    NONE("none");

    private final String configName;

    DeviceExclusiveRef(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }

    /** Whether the fault takes a page reference before the folio lock. */
    public boolean takesReference() {
      return this == GET;
    }
  }

  /** {@link #faultLocking}. */
  public enum FaultLocking implements KernelVariant {
    PER_VMA("perVma"),
    MMAP_LOCK("mmapLock");

    private final String configName;

    FaultLocking(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }

    /** Whether faults try the per-VMA lock first. */
    public boolean perVma() {
      return this == PER_VMA;
    }
  }

  /** {@link #numaScanFilter}. */
  public enum NumaScanFilter implements KernelVariant {
    ACCESSED_PIDS("accessedPids"),
    ALL("all");

    private final String configName;

    NumaScanFilter(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #vmaRecency}. */
  public enum VmaRecency implements KernelVariant {
    SKIP_VMA("skipVma"),
    LEGACY("legacy");

    private final String configName;

    VmaRecency(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }

  /** {@link #arm64Contpte}. */
  public enum Contpte implements KernelVariant {
    AUTO("auto"),
    OFF("off");

    private final String configName;

    Contpte(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }

    /** Whether user mappings fold and unfold contiguous blocks. */
    public boolean on() {
      return this == AUTO;
    }
  }
}
