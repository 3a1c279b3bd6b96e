package org.mmuemu.kernel.workload.testvmalloc;

/** The test cases, in mask-bit order. */
enum TestVmallocCase {
  FIX_SIZE_ALLOC("fix_size_alloc_test", false),
  FULL_FIT_ALLOC("full_fit_alloc_test", false),
  LONG_BUSY_LIST_ALLOC("long_busy_list_alloc_test", false),
  RANDOM_SIZE_ALLOC("random_size_alloc_test", false),
  FIX_ALIGN_ALLOC("fix_align_alloc_test", false),
  RANDOM_SIZE_ALIGN_ALLOC("random_size_align_alloc_test", false),
  ALIGN_SHIFT_ALLOC("align_shift_alloc_test", true),
  PCPU_ALLOC("pcpu_alloc_test", false),
  KVFREE_RCU_1_ARG("kvfree_rcu_1_arg_vmalloc_test", false),
  KVFREE_RCU_2_ARG("kvfree_rcu_2_arg_vmalloc_test", false),
  VM_MAP_RAM("vm_map_ram_test", false);

  final String testName;
  final boolean xfail;

  TestVmallocCase(String testName, boolean xfail) {
    this.testName = testName;
    this.xfail = xfail;
  }

  int mask() {
    return 1 << ordinal();
  }
}
