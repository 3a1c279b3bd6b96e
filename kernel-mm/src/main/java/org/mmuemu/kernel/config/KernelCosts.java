package org.mmuemu.kernel.config;

import java.lang.reflect.RecordComponent;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.mmuemu.core.config.ConfigSection;

/**
 * The machine config's {@code /kernel/costs}: the cost of each unit of kernel work, in cycles
 * unless the name says otherwise. Each component takes the costs it charges from here once, at
 * boot; none looks a cost up by name while it runs.
 *
 * <p>Every cost has a default (an estimate, tagged E in the config reference), so a config may
 * leave the section out. The config key of each cost is its component name.
 */
public record KernelCosts(
    long faultEntryCycles,
    long vmaLookupCycles,
    long pageAllocCycles,
    long pageZeroCycles,
    long pageFreeCycles,
    long tableAllocCycles,
    long pteWriteCycles,
    long lockCycles,
    long contextSwitchCycles,
    long tlbSinglePageFlushCeilingPages,
    long vmapNodeVisitCycles,
    long vmapAreaObjectCycles,
    long vmapBlockCycles,
    long rcuGracePeriodCycles,
    long pcpuAllocCycles,
    long fileReadCycles,
    long writebackPageCycles,
    long pageCopyCycles,
    long tlbFlushCallCycles,
    long tlbFlushCallColdCycles,
    long mmuNotifierCycles) {

  /**
   * The software cost of one user TLB flush call: its instruction path plus its cache misses.
   *
   * <p>{@code // MODEL:} mmuemu has no data cache, so every call pays the misses of a call in a
   * running workload ({@code tlbFlushCallColdCycles}); a calibration run that reproduces a hot loop
   * sets that part to 0.
   */
  public long flushCallCycles() {
    return tlbFlushCallCycles + tlbFlushCallColdCycles;
  }

  /** Largest value any cost may take. */
  static final long MAX = 100_000_000;

  /** Every cost key with its default, in documentation order. */
  public static final Map<String, Long> DEFAULTS = defaults();

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
    d.put(
        "pcpuAllocCycles", 150L); // per-CPU allocator bookkeeping per alloc or free (bitmap search)
    // file pages (page cache, writeback)
    d.put("fileReadCycles", 20_000L); // reading one page from storage into the page cache
    d.put("writebackPageCycles", 2_000L); // submitting one page's writeback I/O
    d.put("pageCopyCycles", 600L); // copying 4 KiB (a COW break, a copy for a pinned page at fork)
    // The software of one user TLB flush call on its initiator (x86 flush_tlb_mm_range, arm64
    // flush_tlb_range/page/mm): generation bump, flush info, cpumask scan, IRQs off and on. 0: not
    // charged; x86-haswell fits it (docs/calibration.md).
    d.put("tlbFlushCallCycles", 0L);
    // What the same call adds in a running workload, where its data (the mm's generation and
    // cpumask, the per-CPU TLB state) is not in the caches as in a loop that repeats it. 0: not
    // charged; x86-haswell fits it (docs/calibration.md).
    d.put("tlbFlushCallColdCycles", 0L);
    // One MMU-notifier invalidation a secondary MMU (a device driver) serves: the driver drops its
    // own mapping of the range and flushes the device's TLB (make_device_exclusive, and the CPU
    // fault that takes a page back from the device).
    d.put("mmuNotifierCycles", 2_000L);
    return Collections.unmodifiableMap(d);
  }

  /** Every cost at its default. */
  public static KernelCosts defaultCosts() {
    return fromMap(DEFAULTS);
  }

  /**
   * Reads {@code /kernel/costs}, filling defaults; an unknown key or a value outside {@code [0,
   * 100000000]} is recorded on {@code section} under its JSON pointer.
   */
  static KernelCosts read(ConfigSection section) {
    section.rejectUnknownKeys(DEFAULTS.keySet());
    Map<String, Long> values = new LinkedHashMap<>();
    DEFAULTS.forEach((key, value) -> values.put(key, section.getLong(key, value, 0, MAX)));
    return fromMap(values);
  }

  private static KernelCosts fromMap(Map<String, Long> values) {
    RecordComponent[] components = KernelCosts.class.getRecordComponents();
    Object[] args = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      args[i] = values.get(components[i].getName());
      types[i] = long.class;
    }
    try {
      return KernelCosts.class.getDeclaredConstructor(types).newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("KernelCosts and its DEFAULTS disagree", e);
    }
  }

  /** The costs by config key, in documentation order (the resolved config shows them). */
  public Map<String, Long> asMap() {
    Map<String, Long> out = new LinkedHashMap<>();
    for (RecordComponent component : KernelCosts.class.getRecordComponents()) {
      try {
        out.put(component.getName(), (Long) component.getAccessor().invoke(this));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }
}
