package org.mmuemu.kernel.arch;

/**
 * A {@link LinuxArch} made of its parts, as each arch's {@code create} assembles it.
 *
 * @param isaId the ISA id the parts serve
 */
public record AssembledLinuxArch(
    String isaId,
    ArchTlbPolicy tlb,
    KernelLayout layout,
    ArchKernelMappings kernelMappings,
    ArchUserPtes userPtes)
    implements LinuxArch {}
