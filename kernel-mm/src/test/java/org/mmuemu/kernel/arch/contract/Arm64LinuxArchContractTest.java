package org.mmuemu.kernel.arch.contract;

/** arm64's arch layer passes the {@link LinuxArchContractTest} contract. */
final class Arm64LinuxArchContractTest extends LinuxArchContractTest {
  @Override
  String isa() {
    return "arm64";
  }
}
