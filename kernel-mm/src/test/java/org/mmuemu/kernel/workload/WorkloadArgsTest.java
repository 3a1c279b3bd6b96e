package org.mmuemu.kernel.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.kernel.workload.registry.Workloads;

/** Workload parameters resolved once from their declarations and read back typed. */
final class WorkloadArgsTest {
  private final Workload stream = Workloads.all().get("stream");

  @Test
  void resolve_fillsDefaults_andReadsEachTypeBack() throws Exception {
    WorkloadArgs args =
        WorkloadArgs.resolve(stream, Map.of("workingSetBytes", "8MiB", "pattern", "STRIDE"));

    assertThat(args.bytes("workingSetBytes")).isEqualTo(8L << 20);
    assertThat(args.choice("pattern")).isEqualTo("stride");
    assertThat(args.integer("accesses")).isEqualTo(100_000);
    assertThat(args.fraction("writeFraction")).isEqualTo(0.3);
    assertThat(args.has("threads")).isFalse();
    assertThat(args.asMap()).containsEntry("workingSetBytes", Long.toString(8L << 20));
  }

  @Test
  void aBadValue_isTheUsersError_namingTheParam() {
    assertThatThrownBy(() -> WorkloadArgs.resolve(stream, Map.of("accesses", "many")))
        .isInstanceOf(WorkloadException.class)
        .hasMessageStartingWith("--param accesses=many: expected");
    assertThatThrownBy(() -> WorkloadArgs.resolve(stream, Map.of("nosuch", "1")))
        .isInstanceOf(WorkloadException.class)
        .hasMessageContaining("--param nosuch=1")
        .hasMessageContaining("accesses");
  }

  @Test
  void readingAParamAsAnotherType_isTheWorkloadsBug() throws Exception {
    WorkloadArgs args = WorkloadArgs.resolve(stream, Map.of());

    assertThatThrownBy(() -> args.integer("workingSetBytes"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("SIZE");
    assertThatThrownBy(() -> args.integer("threads"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no value");
  }
}
