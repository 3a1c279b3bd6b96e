package org.mmuemu.kernel.workload.testvmalloc;

/** The resolved parameters of one run. */
record Settings(
    int mask,
    int threads,
    int repeats,
    long loops,
    int nrPages,
    boolean useHuge,
    boolean sequential,
    int pcpuObjects,
    int speculativeWalk,
    long unmapAliasesEvery,
    int vmMapRamLive) {}
