package org.mmuemu.kernel.workload.testvmalloc;

import java.util.List;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;

/**
 * A task that reads {@code /sys/kernel/debug/kernel_page_tables} over and over while the test
 * workers run: one ptdump walk of the kernel page tables per step ({@link Kernel#ptdump}), until
 * every worker has finished. With {@code use_huge} it races the walks against {@code
 * pmd_free_pte_page} (the {@code ptdumpSync} variant).
 */
final class PtdumpReader implements CoreProgram {
  private final Kernel kernel;
  private final List<Worker> workers;
  private boolean started;

  PtdumpReader(Kernel kernel, List<Worker> workers) {
    this.kernel = kernel;
    this.workers = workers;
  }

  @Override
  public boolean step(int core) {
    if (!started) {
      kernel.switchToKernelThread(core);
      started = true;
    }
    for (Worker worker : workers) {
      if (!worker.done) {
        kernel.ptdump(core);
        return true;
      }
    }
    return false;
  }
}
