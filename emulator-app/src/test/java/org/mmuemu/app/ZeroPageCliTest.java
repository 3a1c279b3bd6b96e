package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The shared zero page and the huge zero page through {@code mmuemu run --workload stream --param
 * readFirst=1}, the path a user takes (docs/faults.md, "The zero page").
 */
final class ZeroPageCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long PAGES_PER_THREAD = 512; // the 2 MiB default working set

  private static JsonNode run(String machine, String... args) throws Exception {
    List<String> all =
        new ArrayList<>(
            List.of(
                "run",
                "--machine",
                machine,
                "--workload",
                "stream",
                "--param",
                "threads=2",
                "--param",
                "accesses=20000",
                "--json",
                "--quiet"));
    all.addAll(List.of(args));
    CliTestSupport.Outcome outcome = CliTestSupport.run(all.toArray(String[]::new));
    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
    JsonNode result = JSON.readTree(outcome.out());
    assertThat(result.path("violationCounts").size()).isZero();
    return result;
  }

  private static long kernel(JsonNode result, String counter) {
    return result.path("kernel").path(counter).asLong();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void aReadOnlyPass_mapsTheZeroPage_andAllocatesNoPage(String machine) throws Exception {
    JsonNode reads = run(machine, "--param", "readFirst=1", "--param", "writeFraction=0");
    JsonNode writes = run(machine, "--param", "writeFraction=1");

    // every data page of both threads and every code page is read first: the zero page
    assertThat(kernel(reads, "zeroPageReadFaults")).isEqualTo(kernel(reads, "pageFaults"));
    assertThat(kernel(reads, "zeroPageReadFaults")).isGreaterThanOrEqualTo(2 * PAGES_PER_THREAD);
    assertThat(kernel(reads, "dataPagesAllocated")).isZero();
    assertThat(kernel(reads, "zeroPageCowFaults")).isZero();
    assertThat(kernel(writes, "dataPagesAllocated")).isEqualTo(2 * PAGES_PER_THREAD);
    assertThat(kernel(writes, "framesInUse") - kernel(reads, "framesInUse"))
        .isEqualTo(2 * PAGES_PER_THREAD);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void storesAfterTheReadPass_breakCowOfTheZeroPage_eachFlushingOnce(String machine)
      throws Exception {
    JsonNode result = run(machine, "--param", "readFirst=1");

    assertThat(kernel(result, "zeroPageCowFaults")).isEqualTo(2 * PAGES_PER_THREAD);
    assertThat(kernel(result, "dataPagesAllocated")).isEqualTo(2 * PAGES_PER_THREAD);
    assertThat(kernel(result, "permissionFaults")).isEqualTo(kernel(result, "zeroPageCowFaults"));
    // the zero page's old entry is flushed from the mm's CPUs before the new page is mapped
    assertThat(result.path("latency").path("flush_tlb_range").path("count").asLong())
        .isEqualTo(kernel(result, "zeroPageCowFaults"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void withThp_theReadPassMapsTheHugeZeroPage_andAStoreReplacesItWithAThp(String machine)
      throws Exception {
    JsonNode huge = run(machine, "--param", "readFirst=1", "--set", "/kernel/tunables/thp=always");
    String[] readPass = {
      "--param", "readFirst=1", "--param", "writeFraction=0", "--set", "/kernel/tunables/thp=always"
    };
    JsonNode readOnly = run(machine, readPass);
    JsonNode noZero =
        run(
            machine,
            Stream.concat(
                    Stream.of(readPass),
                    Stream.of("--set", "/kernel/tunables/thpUseZeroPage=false"))
                .toArray(String[]::new));

    assertThat(kernel(huge, "thpZeroPageAlloc")).isEqualTo(1);
    assertThat(kernel(huge, "hugeZeroPageReadFaults")).isEqualTo(2);
    assertThat(kernel(huge, "hugeZeroPageCowFaults")).isEqualTo(2);
    assertThat(kernel(huge, "thpFaultAlloc")).isEqualTo(2);
    assertThat(kernel(huge, "dataPagesAllocated")).isEqualTo(2 * PAGES_PER_THREAD);
    assertThat(kernel(readOnly, "hugeZeroPageReadFaults")).isEqualTo(2);
    assertThat(kernel(readOnly, "dataPagesAllocated")).isZero();
    // one 2 MiB TLB entry per thread: the whole read pass misses the L1 data TLB about once each
    assertThat(readOnly.path("tlb").path("l1d").path("misses").asLong()).isLessThan(100);
    assertThat(kernel(noZero, "thpZeroPageAlloc")).isZero();
    assertThat(kernel(noZero, "thpFaultAlloc")).isEqualTo(2);
    assertThat(kernel(noZero, "dataPagesAllocated")).isEqualTo(2 * PAGES_PER_THREAD);
  }
}
