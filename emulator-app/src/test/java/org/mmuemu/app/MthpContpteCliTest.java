package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * mTHP ({@code /kernel/tunables/mthp/<size>}) and arm64's contiguous PTEs for user memory ({@code
 * arm64Contpte}) through {@code mmuemu run}. In {@code stream} with stores only, 64 KiB folios cut
 * the faults to a sixteenth on both ISAs; only on arm64 with contpte does each folio become one TLB
 * entry, so dTLB misses fall as well (user TLB reach ×16), while x86 and arm64 with {@code off}
 * miss as often as with base pages. In {@code mprotect-flipper} every read-only flip refolds the
 * flipped block and every write to it unfolds it again, each a break-before-make with a TLBI of the
 * block. The oracle stays silent throughout; a bad size or value is a one-line config error.
 */
final class MthpContpteCliTest {
  private static final List<String> STREAM =
      List.of("threads=2", "accesses=20000", "writeFraction=1");
  private static final String MTHP_64K = "/kernel/tunables/mthp/64KiB=always";

  private static CliTestSupport.VariantRun run(
      String machine, String workload, String contpte, List<String> params, String... sets)
      throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(machine, workload, "arm64Contpte", contpte, params, sets);
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/violationCounts").size()).isZero();
    return run;
  }

  private static long at(CliTestSupport.VariantRun run, String pointer) {
    JsonNode value = run.result().at(pointer);
    return value.isMissingNode() ? 0 : value.asLong();
  }

  @ParameterizedTest
  @ValueSource(strings = {"auto", "off"})
  void stream_on_arm64_mthpCutsFaultsToASixteenth_contpteCutsDtlbMisses(String contpte)
      throws Exception {
    CliTestSupport.VariantRun base = run("arm64-neoverse-n1", "stream", contpte, STREAM);
    CliTestSupport.VariantRun mthp = run("arm64-neoverse-n1", "stream", contpte, STREAM, MTHP_64K);

    long baseFaults = at(base, "/kernel/pageFaults");
    assertThat(at(mthp, "/kernel/mthpFaultAlloc64KiB")).isEqualTo(2 * 2048 / 64);
    assertThat(at(mthp, "/kernel/pageFaults") * 15).isLessThan(baseFaults);
    assertThat(base.result().at("/kernel").has("mthpFaultAlloc")).isFalse();
    long baseMisses = at(base, "/tlb/l1d/misses");
    long mthpMisses = at(mthp, "/tlb/l1d/misses");
    if (contpte.equals("auto")) {
      assertThat(at(mthp, "/kernel/contpteFolds")).isEqualTo(2 * 2048 / 64);
      assertThat(mthpMisses * 20).isLessThan(baseMisses);
      assertThat(at(mthp, "/walks/count") * 2).isLessThan(at(base, "/walks/count"));
    } else {
      assertThat(mthp.result().at("/kernel").has("contpteFolds")).isFalse();
      assertThat(mthpMisses).isEqualTo(baseMisses);
    }
  }

  @Test
  void stream_on_x86_mthpCutsFaults_butNotTlbMisses() throws Exception {
    JsonNode base = runX86Stream();
    JsonNode mthp = runX86Stream("--set", MTHP_64K);

    assertThat(mthp.at("/kernel/pageFaults").asLong() * 15)
        .isLessThan(base.at("/kernel/pageFaults").asLong());
    assertThat(mthp.at("/tlb/l1d/misses").asLong()).isEqualTo(base.at("/tlb/l1d/misses").asLong());
    assertThat(mthp.at("/kernel").has("contpteFolds")).isFalse();
  }

  private static JsonNode runX86Stream(String... sets) throws Exception {
    List<String> args = new ArrayList<>();
    for (String param : STREAM) {
      args.addAll(List.of("--param", param));
    }
    args.addAll(List.of(sets));
    JsonNode result =
        CliTestSupport.runResult("x86-skylake", "stream", args.toArray(String[]::new));
    assertThat(result.at("/violationCounts").size()).isZero();
    return result;
  }

  @Test
  void mprotectFlipper_contpteRefoldsOnEachReadOnlyFlip_andUnfoldsOnEachWrite() throws Exception {
    List<String> params = List.of("threads=2", "regionBytes=256KiB");
    CliTestSupport.VariantRun auto =
        run("arm64-neoverse-n1", "mprotect-flipper", "auto", params, MTHP_64K);
    CliTestSupport.VariantRun off =
        run("arm64-neoverse-n1", "mprotect-flipper", "off", params, MTHP_64K);

    long unfolds = at(auto, "/kernel/contpteUnfolds");
    assertThat(unfolds).isGreaterThan(10);
    assertThat(at(auto, "/kernel/contpteRefolds")).isBetween(unfolds - 1, unfolds);
    assertThat(off.result().at("/kernel").has("contpteUnfolds")).isFalse();
    // each fold or unfold flushes its block: 16 TLBI VALE1IS on the N1 (no range TLBIs)
    long autoTlbis = at(auto, "/maintenance/byInstruction/TLBI VALE1IS");
    long offTlbis = at(off, "/maintenance/byInstruction/TLBI VALE1IS");
    assertThat(autoTlbis - 16 * (unfolds + at(auto, "/kernel/contpteRefolds")))
        .isLessThanOrEqualTo(offTlbis);
    assertThat(autoTlbis).isGreaterThan(5 * offTlbis);
  }

  @Test
  void badMthpSizeOrValue_isAOneLineConfigError() {
    CliTestSupport.Outcome size =
        runStream("arm64-neoverse-n1", "/kernel/tunables/mthp/48KiB=always");
    CliTestSupport.Outcome value =
        runStream("arm64-neoverse-n1", "/kernel/tunables/mthp/64KiB=sometimes");
    CliTestSupport.Outcome x86 = runStream("x86-skylake", "/kernel/variants/arm64Contpte=off");

    assertThat(size.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(size.err()).contains("/kernel/tunables/mthp/48KiB").contains("64KiB");
    assertThat(value.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(value.err()).contains("/kernel/tunables/mthp/64KiB").contains("inherit");
    assertThat(x86.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(x86.err()).contains("/kernel/variants/arm64Contpte").contains("arm64 only");
  }

  private static CliTestSupport.Outcome runStream(String machine, String set) {
    return CliTestSupport.run("run", "--machine", machine, "--workload", "stream", "--set", set);
  }
}
