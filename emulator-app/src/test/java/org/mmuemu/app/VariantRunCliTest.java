package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Kernel variants shown through {@code mmuemu run}, the path a user takes: each variant changes
 * what a run does.
 */
final class VariantRunCliTest {

  /**
   * arm64 kernel PTE publishing: without batching every kernel PTE write of vmap is followed by its
   * own {@code DSB ISHST; ISB}; with {@code lazyMmuBarrierBatching=on} one pair ends each lazy-MMU
   * section (one per PTE table written, here two per 600-page vmalloc).
   */
  @Test
  void lazyMmuBarrierBatching_on_publishesAPteTableWithOneBarrierPair() throws Exception {
    String[] params = {
      "--param", "run_test_mask=1",
      "--param", "test_loop_count=2",
      "--param", "nr_pages=600",
      "--param", "nr_threads=1"
    };
    JsonNode off =
        runWithVariant("arm64-neoverse-n1", "test_vmalloc", "lazyMmuBarrierBatching=off", params);
    JsonNode on =
        runWithVariant("arm64-neoverse-n1", "test_vmalloc", "lazyMmuBarrierBatching=on", params);

    long pages = off.at("/kernel/vmapPagesMapped").asLong();
    assertThat(pages).isEqualTo(2 * 600);
    assertThat(off.at("/maintenance/byInstruction/DSB ISHST").asLong()).isEqualTo(pages);
    assertThat(on.at("/kernel/vmapPagesMapped").asLong()).isEqualTo(pages);
    assertThat(on.at("/maintenance/byInstruction/DSB ISHST").asLong()).isEqualTo(2 * 2);
    assertThat(on.at("/maintenance/byInstruction/ISB").asLong()).isEqualTo(2 * 2);
  }

  /**
   * x86 page-table isolation: with PTI every user flush also drops the user half's PCID ({@code
   * INVPCID} type 0 beside each {@code INVLPG}) and kernel entries switch CR3; without it the same
   * flushes are {@code INVLPG} alone, and the run is shorter.
   */
  @Test
  void x86Pti_off_dropsTheUserPcidFlushes() throws Exception {
    String[] params = {"--param", "iterations=2", "--param", "threads=2"};
    JsonNode on = runWithVariant("x86-skylake", "munmap-storm", "x86Pti=on", params);
    JsonNode off = runWithVariant("x86-skylake", "munmap-storm", "x86Pti=off", params);

    long invlpg = on.at("/maintenance/byInstruction/INVLPG").asLong();
    assertThat(invlpg).isPositive();
    assertThat(on.at("/maintenance/byInstruction/INVPCID type 0").asLong()).isEqualTo(invlpg);
    assertThat(off.at("/maintenance/byInstruction/INVLPG").asLong()).isEqualTo(invlpg);
    assertThat(off.at("/maintenance/byInstruction").has("INVPCID type 0")).isFalse();
    assertThat(off.at("/cycles/total").asLong()).isLessThan(on.at("/cycles/total").asLong());
  }

  /** {@link CliTestSupport#runResult} with {@code --set /kernel/variants/<variant>}. */
  private static JsonNode runWithVariant(
      String machine, String workload, String variant, String... params) throws Exception {
    List<String> args = new ArrayList<>(List.of("--set", "/kernel/variants/" + variant));
    args.addAll(List.of(params));
    return CliTestSupport.runResult(machine, workload, args.toArray(String[]::new));
  }

  private static JsonNode fixSizeOnX86(String vunmapFlush) throws Exception {
    return runWithVariant(
        "x86-skylake",
        "test_vmalloc",
        "vunmapFlush=" + vunmapFlush,
        "--param",
        "run_test_mask=1",
        "--param",
        "test_loop_count=20");
  }

  private static JsonNode hugeVmallocOnN1(String vmapContpte) throws Exception {
    return runWithVariant(
        "arm64-neoverse-n1",
        "test_vmalloc",
        "vmapContpte=" + vmapContpte,
        "--param",
        "run_test_mask=1",
        "--param",
        "test_loop_count=5",
        "--param",
        "use_huge=1",
        "--param",
        "nr_pages=256");
  }

  private static JsonNode reclaimOnN1(String reclaimTlbFlush) throws Exception {
    return runWithVariant(
        "arm64-neoverse-n1",
        "writeback",
        "arm64ReclaimTlbFlush=" + reclaimTlbFlush,
        "--param",
        "reclaimMapped=1",
        "--param",
        "advice=random", // no reference check: every clean mapped page is unmapped each pass
        "--param",
        "writes=300",
        "--param",
        "threads=4",
        "--set",
        "/cores=4");
  }

  /**
   * Why lazy purging exists (2.6.28): the pre-2.6.28 kernel flushed every vfree's range at once, on
   * x86 with an IPI to every other CPU; the lazy kernel leaves the ranges on the lazy list (160
   * small areas stay far below lazy_max_pages, so nothing is flushed at all).
   */
  @Test
  void vunmapFlush_eager_flushesTheKernelRangeOnEveryVfree_whereLazyFlushesNone() throws Exception {
    JsonNode lazy = fixSizeOnX86("lazy");
    JsonNode eager = fixSizeOnX86("eager");

    long vfrees = eager.at("/latency/vfree/count").asLong();
    assertThat(vfrees).isEqualTo(8 * 20); // one worker per core, 20 loops each
    assertThat(eager.at("/kernel/vmapEagerFlushes").asLong()).isEqualTo(vfrees);
    assertThat(eager.at("/latency/flush_tlb_kernel_range/count").asLong()).isEqualTo(vfrees);
    assertThat(eager.at("/maintenance/ipis").asLong()).isEqualTo(vfrees * 7);
    assertThat(eager.at("/kernel/vmapPurges").asLong()).isZero();
    assertThat(eager.path("violationCounts").size()).isZero();

    assertThat(lazy.at("/kernel/vmapEagerFlushes").asLong()).isZero();
    assertThat(lazy.at("/latency").has("flush_tlb_kernel_range")).isFalse();
    assertThat(lazy.at("/maintenance/ipis").asLong()).isZero();
    assertThat(lazy.at("/latency/vfree/mean").asDouble())
        .isLessThan(eager.at("/latency/vfree/mean").asDouble() / 5);
  }

  /**
   * arm64 contpte vmap (6.16): {@code set_huge_pte_at} writes a 64 KiB block's 16 PTEs and then
   * publishes them with one {@code DSB ISHST; ISB}, where page-by-page vmap pays the pair per PTE.
   */
  @Test
  void vmapContpte_on_paysOneBarrierPairPerContiguousBlock_offOnePerPte() throws Exception {
    JsonNode contpte = hugeVmallocOnN1("on");
    JsonNode pages = hugeVmallocOnN1("off");

    long allocations = 8 * 5; // one worker per core, 5 loops, 1 MiB each
    assertThat(contpte.at("/kernel/vmapContpteBlocks").asLong()).isEqualTo(allocations * 16);
    assertThat(contpte.at("/kernel/vmapPteSyncs").asLong()).isEqualTo(allocations * 16);
    assertThat(pages.at("/kernel/vmapPteSyncs").asLong()).isEqualTo(allocations * 256);
    assertThat(pages.at("/kernel").has("vmapContpteBlocks")).isFalse();
    // the syncs are the run's only barriers (40 MiB freed stays below lazy_max_pages: no purge)
    assertThat(contpte.at("/maintenance/byInstruction/DSB ISHST").asLong())
        .isEqualTo(allocations * 16);
    assertThat(contpte.at("/maintenance/byInstruction/ISB").asLong()).isEqualTo(allocations * 16);
    assertThat(pages.at("/maintenance/byInstruction/DSB ISHST").asLong())
        .isEqualTo(allocations * 256);
  }

  /**
   * arm64 batched unmap flushing in reclaim (6.5+): each unmapped page gets its TLBI without a
   * wait, and one DSB ISH per reclaim pass completes them before the pages are freed; per page,
   * every unmapped PTE pays a full flush_tlb_page (DSB ISHST; TLBI; DSB ISH).
   */
  @Test
  void arm64ReclaimTlbFlush_batched_waitsOncePerPass_perPageWaitsPerPage() throws Exception {
    JsonNode batched = reclaimOnN1("batched");
    JsonNode perPage = reclaimOnN1("perPage");

    long unmapped = batched.at("/kernel/reclaimUnmappedPtes").asLong();
    assertThat(unmapped).isGreaterThan(100);
    assertThat(batched.at("/kernel/arm64TlbBatchPending").asLong()).isEqualTo(unmapped);
    long batches = batched.at("/kernel/arm64TlbBatchFlushes").asLong();
    assertThat(batches)
        .isPositive()
        .isLessThanOrEqualTo(batched.at("/latency/reclaim/count").asLong());
    assertThat(batched.at("/latency/arch_tlbbatch_flush/count").asLong()).isEqualTo(batches);
    assertThat(batched.at("/latency").has("flush_tlb_page")).isFalse();
    assertThat(batched.path("violationCounts").size()).isZero();

    long perPageUnmapped = perPage.at("/kernel/reclaimUnmappedPtes").asLong();
    assertThat(perPageUnmapped).isGreaterThan(100);
    assertThat(perPage.at("/latency/flush_tlb_page/count").asLong()).isEqualTo(perPageUnmapped);
    assertThat(perPage.at("/kernel").has("arm64TlbBatchPending")).isFalse();
    assertThat(perPage.path("violationCounts").size()).isZero();
    assertThat(batched.at("/latency/reclaim/mean").asDouble())
        .isLessThan(perPage.at("/latency/reclaim/mean").asDouble() / 2);
  }

  /**
   * vmap nodes (6.9+): besides the per-node pools, each node keeps its own busy tree under its own
   * lock, so the workers' inserts and unlinks (long_busy_list: 15,000 live areas each) mostly take
   * different locks where 6.5-6.8 serialises them all on vmap_area_lock.
   */
  @Test
  void vmapNodes_on_splitsTheBusyTreeAndItsLockPerNode() throws Exception {
    String[] longBusyList = {
      "--param", "run_test_mask=4", "--param", "test_loop_count=1", "--param", "nr_threads=4"
    };
    JsonNode single =
        runWithVariant("arm64-neoverse-n1", "test_vmalloc", "vmapNodes=off", longBusyList);
    JsonNode nodes =
        runWithVariant("arm64-neoverse-n1", "test_vmalloc", "vmapNodes=on", longBusyList);

    long singleContended = single.at("/kernel/vmapBusyLockContended").asLong();
    assertThat(singleContended).isGreaterThan(10_000);
    assertThat(nodes.at("/kernel/vmapBusyLockContended").asLong()).isLessThan(singleContended / 2);
    assertThat(nodes.at("/kernel/vmapBusyAreas").asLong())
        .isEqualTo(single.at("/kernel/vmapBusyAreas").asLong());
    assertThat(nodes.path("violationCounts").size()).isZero();
  }
}
