package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The uffd-wp-perf test program through {@code mmuemu run --workload uffd-wp-perf} on an 8 MiB
 * region (2,048 pages, 4 PTE tables): each mode does its own work (no pre-fault; a user read fault
 * per page; a GUP fault per page; tables and a marker per empty slot), the order of the modes'
 * times follows from it, the stores after the protect are userfaults the monitor resolves, and the
 * oracle (UW1 to UW3) stays silent.
 */
final class UffdWpPerfCliTest {
  private static final long PAGES = 2048;

  private static JsonNode run(String machine, String mode, String thp) throws Exception {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            machine,
            "--workload",
            "uffd-wp-perf",
            "--param",
            "mode=" + mode,
            "--param",
            "regionBytes=8MiB",
            "--param",
            "thp=" + thp,
            "--json",
            "--quiet");
    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
    JsonNode result = new ObjectMapper().readTree(outcome.out());
    assertThat(result.at("/violationCounts").size()).isZero();
    return result.get("kernel");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void eachModeDoesItsWork_andTheOrderFollows(String machine) throws Exception {
    Map<String, JsonNode> modes = new LinkedHashMap<>();
    for (String mode : new String[] {"default", "pre-read", "madvise", "wp-unpopulated"}) {
      modes.put(mode, run(machine, mode, "off"));
    }

    JsonNode none = modes.get("default");
    assertThat(none.get("uffdWpProtectedPtes").asLong()).isZero();
    assertThat(none.get("uffdWpMarkersInstalled").asLong()).isZero();
    assertThat(none.get("uffdWpFaults").asLong()).isZero(); // holes are not protected
    for (String prefault : new String[] {"pre-read", "madvise"}) {
      JsonNode k = modes.get(prefault);
      assertThat(k.get("pageFaults").asLong()).isEqualTo(PAGES);
      assertThat(k.get("uffdWpProtectedPtes").asLong()).isEqualTo(PAGES);
      assertThat(k.get("uffdWpFaults").asLong()).isPositive();
      assertThat(k.get("uffdWpResolved").asLong()).isEqualTo(k.get("uffdWpFaults").asLong());
    }
    JsonNode markers = modes.get("wp-unpopulated");
    assertThat(markers.get("pageFaults").asLong()).isZero();
    assertThat(markers.get("uffdWpMarkersInstalled").asLong()).isEqualTo(PAGES);
    assertThat(markers.get("uffdWpTablesAllocated").asLong()).isEqualTo(4 + 1 + 1); // PTE, PMD, PUD
    assertThat(markers.get("uffdWpMarkerFaults").asLong()).isPositive();

    long[] total = new long[4];
    int i = 0;
    for (String mode : new String[] {"default", "wp-unpopulated", "madvise", "pre-read"}) {
      total[i++] = modes.get(mode).get("uffdPerfTotalCycles").asLong();
    }
    assertThat(total).isSorted();
    assertThat(total[0]).isLessThan(total[1]);
    assertThat(total[2]).isLessThan(total[3]); // GUP saves each page's exception entry
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void thpOn_faultsAndProtectsPerTwoMiB_butMarkersStayAtPteLevel(String machine) throws Exception {
    JsonNode preRead = run(machine, "pre-read", "on");
    assertThat(preRead.get("pageFaults").asLong()).isEqualTo(4);
    assertThat(preRead.get("uffdWpProtectedPmds").asLong()).isEqualTo(4);
    assertThat(preRead.get("uffdWpProtectedPtes").asLong()).isZero();

    JsonNode markers = run(machine, "wp-unpopulated", "on");
    assertThat(markers.get("uffdWpMarkersInstalled").asLong()).isEqualTo(PAGES);
    assertThat(markers.get("thpFaultAlloc")).isNull(); // the marked range's faults map PTEs
  }
}
