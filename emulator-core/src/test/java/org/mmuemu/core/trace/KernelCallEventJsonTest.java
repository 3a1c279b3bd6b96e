package org.mmuemu.core.trace;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.trace.json.EventJson;

/** The JSON form of {@code kernel.call} events: phase and operation by name, va in hex. */
final class KernelCallEventJsonTest {

  private static String render(long phase, long va, long operation) {
    StringBuilder out = new StringBuilder();
    EventJson.append(out, EventKind.KERNEL_CALL, 2, 1500, phase, va, operation, List.of());
    return out.toString();
  }

  @Test
  void beginAndEnd_nameThePhaseAndTheOperation() {
    int vmalloc = NameTable.KERNEL_OPERATIONS.idOf("vmalloc");

    assertThat(render(0, 0, vmalloc))
        .isEqualTo(
            "{\"cycle\":1500,\"core\":2,\"kind\":\"kernel.call\",\"phase\":\"begin\",\"va\":\"0x0\",\"operation\":\"vmalloc\"}");
    assertThat(render(1, 0xffffc90000001000L, vmalloc))
        .contains("\"phase\":\"end\"")
        .contains("\"va\":\"0xffffc90000001000\"")
        .contains("\"operation\":\"vmalloc\"");
  }

  @Test
  void operationNames_areStableIds() {
    int munmap = NameTable.KERNEL_OPERATIONS.idOf("munmap");

    assertThat(NameTable.KERNEL_OPERATIONS.idOf("munmap")).isEqualTo(munmap);
    assertThat(NameTable.KERNEL_OPERATIONS.nameOf(munmap)).isEqualTo("munmap");
    assertThat(NameTable.KERNEL_OPERATIONS.nameOf(-1)).isNull();
    assertThat(render(1, 0, 1_000_000)).contains("\"operation\":\"1000000\"");
  }
}
