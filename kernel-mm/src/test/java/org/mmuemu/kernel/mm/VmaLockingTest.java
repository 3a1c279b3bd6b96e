package org.mmuemu.kernel.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.pagecache.MappedFile;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * The outcomes of {@code lock_vma_under_rcu} (DOMAIN-FAULTS.md §1.3) and the invariants VL1 to VL4:
 * each check is shown silent on the protocol followed and reporting when a test breaks the protocol
 * on purpose (a change without {@code vma_start_write}, a stray {@code up_read}, {@code
 * mm_lock_seq} advanced without the write lock, a detached VMA handed out).
 */
final class VmaLockingTest {
  private static final long VA = 0x20_0000_0000L;
  private static final long LOCK_CYCLES = 30;

  private Machine machine;
  private VmaLocking locking;
  private Mm mm;
  private Vma vma;

  @BeforeEach
  void setUp() {
    machine = KernelBoot.on("arm64").cores(2).machine();
    locking = new VmaLocking(machine, true, LOCK_CYCLES, 40);
    mm = new Mm(1, 1, -1);
    vma = new Vma(VA, VA + 16 * 4096, PteFlags.WRITE, "anon");
    mm.addVma(vma);
  }

  private Map<String, Object> counters() {
    Map<String, Object> counters = new LinkedHashMap<>();
    locking.addCounters(counters);
    return counters;
  }

  @Test
  void lockVmaUnderRcu_vmaWithAnonVma_isReadLockedAndReturned() {
    mm.anonVmaPrepare(vma);

    assertThat(locking.lockVmaUnderRcu(0, mm, VA + 4096)).isSameAs(vma);
    assertThat(mm.vmaLock(vma).rwsem().readers()).isEqualTo(1);

    locking.vmaEndRead(0);
    assertThat(mm.vmaLock(vma).rwsem().readers()).isZero();
    assertThat(counters()).containsEntry("vmaLockAbort", 0L).containsEntry("vmaLockMiss", 0L);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void lockVmaUnderRcu_firstFault_noAnonVma_abortsAndLeavesTheLockFree() {
    assertThat(locking.lockVmaUnderRcu(0, mm, VA)).isNull();

    assertThat(mm.vmaLock(vma).rwsem().readers()).isZero();
    assertThat(counters()).containsEntry("vmaLockAbort", 1L);
  }

  @Test
  void lockVmaUnderRcu_noVmaOrFileMapping_aborts() {
    Vma file =
        Vma.privateFile(
            VA + (1 << 20), VA + (1 << 20) + 4096, 0, "file", new MappedFile(1, "f", 4096), 0);
    mm.addVma(file);
    mm.anonVmaPrepare(file);

    assertThat(locking.lockVmaUnderRcu(0, mm, VA - 4096)).isNull();
    assertThat(locking.lockVmaUnderRcu(0, mm, file.startVa())).isNull();
    assertThat(counters()).containsEntry("vmaLockAbort", 2L);
  }

  @Test
  void lockVmaUnderRcu_writeLockedVma_abortsUntilTheMmapWriteUnlock() {
    mm.anonVmaPrepare(vma);
    locking.mmapWriteLock(1, mm);
    locking.vmaStartWrite(1, mm, vma);

    assertThat(locking.lockVmaUnderRcu(0, mm, VA)).isNull();
    assertThat(counters()).containsEntry("vmaLockAbort", 1L);

    int seqBefore = mm.mmLockSeq();
    locking.mmapWriteUnlock(1, mm);
    assertThat(mm.mmLockSeq()).isEqualTo(seqBefore + 1);
    assertThat(locking.lockVmaUnderRcu(0, mm, VA)).isSameAs(vma);
    locking.vmaEndRead(0);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void vmaStartWrite_onlyOncePerWriteSection_andNotAtAllWithMmapLockVariant() {
    locking.mmapWriteLock(1, mm);
    locking.vmaStartWrite(1, mm, vma);
    assertThat(mm.vmaLock(vma).vmLockSeq()).isEqualTo(mm.mmLockSeq());
    long before = machine.now(1);
    locking.vmaStartWrite(1, mm, vma);
    assertThat(machine.now(1)).isEqualTo(before); // already locked: no rwsem operation
    locking.mmapWriteUnlock(1, mm);

    VmaLocking mmapLockOnly = new VmaLocking(machine, false, LOCK_CYCLES, 40);
    int seq = mm.mmLockSeq();
    mmapLockOnly.mmapWriteLock(1, mm);
    mmapLockOnly.vmaStartWrite(1, mm, vma);
    mmapLockOnly.mmapWriteUnlock(1, mm);
    assertThat(mm.mmLockSeq()).isEqualTo(seq);
    assertThat(mm.vmaLock(vma).vmLockSeq()).isEqualTo(seq - 1);
  }

  @Test
  void munmapDetachesAndSplitKeepsTheLockOfTheLowerPart() {
    mm.anonVmaPrepare(vma);
    VmaLock lock = mm.vmaLock(vma);
    locking.mmapWriteLock(1, mm);
    locking.vmaStartWrite(1, mm, vma);
    mm.removeRange(VA + 4 * 4096, VA + 8 * 4096);
    locking.mmapWriteDowngrade(1, mm);
    mm.mmapLock().upRead(machine, 1);

    Vma lower = mm.findVma(VA, new int[1]);
    Vma upper = mm.findVma(VA + 8 * 4096, new int[1]);
    assertThat(mm.vmaLock(lower)).isSameAs(lock);
    assertThat(mm.vmaLock(upper)).isNotSameAs(lock);
    assertThat(mm.vmaLock(upper).hasAnonVma()).isTrue();
    assertThat(locking.lockVmaUnderRcu(0, mm, VA + 5 * 4096)).isNull(); // the hole

    locking.mmapWriteLock(1, mm);
    locking.vmaStartWrite(1, mm, upper);
    VmaLock upperLock = mm.vmaLock(upper);
    mm.removeRange(upper.startVa(), upper.endVa());
    locking.mmapWriteUnlock(1, mm);
    assertThat(upperLock.detached()).isTrue();
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void vl1_vmaChangedWithoutVmaStartWriteWhileAFaultHoldsIt_isReported() {
    mm.anonVmaPrepare(vma);
    assertThat(locking.lockVmaUnderRcu(0, mm, VA)).isSameAs(vma);

    locking.mmapWriteLock(1, mm);
    mm.changeFlags(vma, VA, VA + 4096, 0); // the broken writer: no vma_start_write
    locking.mmapWriteUnlock(1, mm);
    locking.vmaEndRead(0);

    assertThat(machine.oracle().count(ViolationKind.VMA_LOCK)).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail()).startsWith("VL1: vma anon");
  }

  @Test
  void vl2_strayUpReadLetsVmaStartWriteReturnWhileAReaderHoldsIt_isReported() {
    mm.anonVmaPrepare(vma);
    assertThat(locking.lockVmaUnderRcu(0, mm, VA)).isSameAs(vma);
    mm.vmaLock(vma).rwsem().upRead(machine, 0); // the broken lock: an unbalanced up_read

    locking.mmapWriteLock(1, mm);
    locking.vmaStartWrite(1, mm, vma);

    assertThat(machine.oracle().count(ViolationKind.VMA_LOCK)).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail())
        .startsWith("VL2: vma_start_write on vma anon")
        .endsWith("while core 0 still holds it for read");
  }

  @Test
  void vl2_aReaderMakesVmaStartWriteWait_outsideARunThatIsAContention() {
    mm.anonVmaPrepare(vma);
    assertThat(locking.lockVmaUnderRcu(0, mm, VA)).isSameAs(vma);
    locking.mmapWriteLock(1, mm);

    // the writer would sleep until the reader's vma_end_read; outside a scheduled run it may not
    assertThatThrownBy(() -> locking.vmaStartWrite(1, mm, vma))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("contended");
  }

  @Test
  void vl3_mmLockSeqAdvancedWithoutTheWriteLock_isReported() {
    mm.mmapLock().downRead(machine, 1, LOCK_CYCLES);

    locking.vmaEndWriteAll(1, mm);

    assertThat(machine.oracle().count(ViolationKind.VMA_LOCK)).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail())
        .isEqualTo(
            "VL3: mm_lock_seq of mm 1 advanced by core 1, which does not hold mmap_lock for write");
  }

  @Test
  void vl4_aDetachedVmaHandedOut_isReported() {
    mm.anonVmaPrepare(vma);
    VmaLock lock = mm.vmaLock(vma);
    locking.mmapWriteLock(1, mm);
    locking.vmaStartWrite(1, mm, vma);
    mm.removeRange(vma.startVa(), vma.endVa());
    locking.mmapWriteUnlock(1, mm);

    locking.checkReturned(0, mm, VA, lock);

    assertThat(machine.oracle().count(ViolationKind.VMA_LOCK)).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail())
        .startsWith("VL4: lock_vma_under_rcu returned vma anon")
        .contains("which is detached");
  }
}
