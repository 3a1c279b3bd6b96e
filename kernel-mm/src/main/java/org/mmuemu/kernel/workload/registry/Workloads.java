package org.mmuemu.kernel.workload.registry;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.mmuemu.kernel.workload.DeviceExclusiveWorkload;
import org.mmuemu.kernel.workload.DontneedTouchWorkload;
import org.mmuemu.kernel.workload.FaultScalingWorkload;
import org.mmuemu.kernel.workload.ForkCowWorkload;
import org.mmuemu.kernel.workload.ForkExitWorkload;
import org.mmuemu.kernel.workload.LaunchStormWorkload;
import org.mmuemu.kernel.workload.MprotectFlipperWorkload;
import org.mmuemu.kernel.workload.MunmapStormWorkload;
import org.mmuemu.kernel.workload.NumaScanWorkload;
import org.mmuemu.kernel.workload.OomReapWorkload;
import org.mmuemu.kernel.workload.StreamWorkload;
import org.mmuemu.kernel.workload.UffdWpPerfWorkload;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadException;
import org.mmuemu.kernel.workload.WritebackWorkload;
import org.mmuemu.kernel.workload.testvmalloc.TestVmallocWorkload;

/**
 * The named workloads {@code mmuemu run --workload} accepts. An explicit registry (no classpath
 * scanning); an unknown name fails with the list of known ones.
 */
public final class Workloads {
  private static final Map<String, Workload> BY_NAME = register();

  private Workloads() {}

  private static Map<String, Workload> register() {
    Map<String, Workload> byName = new LinkedHashMap<>();
    for (Workload workload :
        new Workload[] {
          new StreamWorkload(),
          new MunmapStormWorkload(),
          new TestVmallocWorkload(),
          new DontneedTouchWorkload(),
          new ForkExitWorkload(),
          new OomReapWorkload(),
          new FaultScalingWorkload(),
          new WritebackWorkload(),
          new ForkCowWorkload(),
          new DeviceExclusiveWorkload(),
          new UffdWpPerfWorkload(),
          new LaunchStormWorkload(),
          new MprotectFlipperWorkload(),
          new NumaScanWorkload()
        }) {
      byName.put(workload.name(), workload);
    }
    return Collections.unmodifiableMap(byName);
  }

  /** Every named workload, in registration order. */
  public static Map<String, Workload> all() {
    return BY_NAME;
  }

  /**
   * @throws WorkloadException naming the known workloads
   */
  public static Workload get(String name) throws WorkloadException {
    Workload workload = BY_NAME.get(name);
    if (workload == null) {
      throw new WorkloadException(
          "--workload "
              + name
              + ": unknown workload (expected one of: "
              + String.join(", ", BY_NAME.keySet())
              + ")");
    }
    return workload;
  }
}
