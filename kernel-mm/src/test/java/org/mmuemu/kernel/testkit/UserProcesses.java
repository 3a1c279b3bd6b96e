package org.mmuemu.kernel.testkit;

import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;

/** User processes for kernel tests: one writable anonymous mapping at a fixed user address. */
public final class UserProcesses {
  /** Where {@link #anonymous} maps (a user address both ISAs map with 4 levels). */
  public static final long USER_VA = 0x10_0000_0000L;

  private UserProcesses() {}

  /**
   * A new process with one writable anonymous VMA of {@code pages} 4 KiB pages at {@link #USER_VA}.
   */
  public static Mm anonymous(Kernel kernel, long pages) {
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + (pages << 12), PteFlags.WRITE, "anon"));
    return mm;
  }
}
