package org.mmuemu.core.mem;

/**
 * Told of every page-table descriptor write, after it happened, with the value it replaced: the
 * hook an ISA's table-update checker (arm64 break-before-make) uses.
 */
@FunctionalInterface
public interface DescriptorWriteListener {
  void descriptorWritten(long tablePfn, int index, long previousDescriptor, long newDescriptor);
}
