package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * {@code tlb_end_vma} per arch, through {@code mmuemu run}: fault-scaling unmaps a region that is
 * alone in its page tables, so every munmap clears 16 leaves and frees the PTE, PMD and PUD tables.
 * arm64 (no {@code MMU_GATHER_MERGE_VMAS}) flushes the leaves at the end of the VMA, then the freed
 * tables in a separate flush with the table stride; x86 merges both into the one flush of {@code
 * tlb_finish_mmu}.
 */
final class TlbEndVmaCliTest {
  private static final int ROUNDS = 2;

  private static JsonNode faultScaling(String machine) throws Exception {
    return CliTestSupport.runResult(
        machine,
        "fault-scaling",
        "--param",
        "threads=1",
        "--param",
        "rounds=" + ROUNDS,
        "--param",
        "regionBytes=64KiB");
  }

  @Test
  void arm64_flushesTheLeavesAtVmaEnd_thenTheFreedTablesSeparately() throws Exception {
    JsonNode result = faultScaling("arm64-neoverse-n1");

    JsonNode byInstruction = result.at("/maintenance/byInstruction");
    // tlb_end_vma: 16 leaf-only TLBIs per munmap (one merged flush would use non-leaf forms)
    assertThat(byInstruction.get("TLBI VALE1IS").asLong()).isEqualTo(ROUNDS * 16);
    // the table flush: its range starts at the PUD table's 512 GiB-aligned address, so with the
    // 2 MiB table stride it exceeds MAX_TLBI_OPS and becomes an ASID-wide flush
    assertThat(byInstruction.get("TLBI ASIDE1IS").asLong()).isEqualTo(ROUNDS);
    assertThat(byInstruction.get("DSB ISH").asLong()).isEqualTo(ROUNDS * 2); // one per flush
    assertThat(result.at("/kernel/tlbEndVmaFlushes").asLong()).isEqualTo(ROUNDS);
    assertThat(result.at("/kernel/mmuGatherFlushes").asLong()).isEqualTo(ROUNDS * 2);
    assertThat(result.at("/latency/flush_tlb_range/count").asLong()).isEqualTo(ROUNDS * 2);
    assertThat(result.get("violationCounts").size()).isZero();
  }

  @Test
  void x86_mergesTheLeavesAndTheFreedTablesIntoOneFlushPerMunmap() throws Exception {
    JsonNode result = faultScaling("x86-skylake");

    assertThat(result.at("/kernel").has("tlbEndVmaFlushes")).isFalse();
    assertThat(result.at("/kernel/mmuGatherFlushes").asLong()).isEqualTo(ROUNDS);
    assertThat(result.at("/latency/flush_tlb_range/count").asLong()).isEqualTo(ROUNDS);
    assertThat(result.get("violationCounts").size()).isZero();
  }

  private static JsonNode stormOverFourVmas(String machine) throws Exception {
    return CliTestSupport.runResult(
        machine,
        "munmap-storm",
        "--param",
        "threads=2",
        "--param",
        "iterations=5",
        "--param",
        "vmasPerRegion=4");
  }

  /**
   * One munmap over four adjacent VMAs of 4 pages each (no table freed): arm64 flushes at the end
   * of each VMA, four range flushes of 4 pages; x86 merges the VMAs and flushes the 16 pages once.
   */
  @Test
  void munmapOverFourVmas_arm64FlushesPerVma_x86Once() throws Exception {
    long munmaps = 2 * 5;
    JsonNode arm64 = stormOverFourVmas("arm64-neoverse-n1");
    JsonNode x86 = stormOverFourVmas("x86-haswell");

    assertThat(arm64.at("/latency/munmap/count").asLong()).isEqualTo(munmaps);
    assertThat(arm64.at("/latency/flush_tlb_range/count").asLong()).isEqualTo(munmaps * 4);
    assertThat(arm64.at("/kernel/tlbEndVmaFlushes").asLong()).isEqualTo(munmaps * 4);
    assertThat(arm64.at("/maintenance/byInstruction/DSB ISH").asLong()).isEqualTo(munmaps * 4);
    assertThat(arm64.at("/maintenance/byInstruction/TLBI VALE1IS").asLong())
        .isEqualTo(munmaps * 16);

    assertThat(x86.at("/latency/munmap/count").asLong()).isEqualTo(munmaps);
    assertThat(x86.at("/latency/flush_tlb_range/count").asLong()).isEqualTo(munmaps);
    assertThat(x86.at("/kernel").has("tlbEndVmaFlushes")).isFalse();
    assertThat(x86.get("violationCounts").size()).isZero();
  }
}
