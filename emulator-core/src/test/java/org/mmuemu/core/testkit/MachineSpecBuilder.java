package org.mmuemu.core.testkit;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.WalkerSpec;

/**
 * Builds a {@link MachineSpec} for tests by named settings instead of the record's positional
 * constructor.
 *
 * <p>Every setting starts at the standard {@link SmallMachines} machine's value (two cores, 1 GHz,
 * 64 MiB, access cost 1, quantum 0, the standard TLBs and walker, empty ISA and kernel sections),
 * so a test names only what it depends on.
 */
public final class MachineSpecBuilder {
  private final String isa;
  private String name;
  private String description = "hand-made test machine";
  private int cores = 2;
  private double frequencyGHz = 1.0;
  private long memoryBytes = SmallMachines.MEMORY_BYTES;
  private int accessCycles = SmallMachines.ACCESS_CYCLES;
  private long quantumCycles;
  private List<TlbLevelSpec> tlbLevels = SmallMachines.standardTlbs();
  private WalkerSpec walker = SmallMachines.standardWalker();
  private ConfigSection isaSection;
  private ConfigSection kernelSection = ConfigSection.empty("/kernel");

  private MachineSpecBuilder(String isa) {
    this.isa = isa;
    this.name = "test-" + isa;
    this.isaSection = ConfigSection.empty("/" + isa);
  }

  /** A builder for a machine of ISA {@code isa} with every other setting at its default. */
  public static MachineSpecBuilder forIsa(String isa) {
    return new MachineSpecBuilder(isa);
  }

  /** A builder that starts from every setting of {@code spec}. */
  public static MachineSpecBuilder from(MachineSpec spec) {
    return forIsa(spec.isa())
        .name(spec.name())
        .description(spec.description())
        .cores(spec.cores())
        .frequencyGHz(spec.frequencyGHz())
        .memoryBytes(spec.memoryBytes())
        .accessCycles(spec.accessCycles())
        .quantumCycles(spec.quantumCycles())
        .tlbLevels(spec.tlbLevels())
        .walker(spec.walker())
        .isaSection(spec.isaSection())
        .kernelSection(spec.kernelSection());
  }

  public MachineSpecBuilder name(String value) {
    this.name = value;
    return this;
  }

  public MachineSpecBuilder description(String value) {
    this.description = value;
    return this;
  }

  public MachineSpecBuilder cores(int value) {
    this.cores = value;
    return this;
  }

  public MachineSpecBuilder frequencyGHz(double value) {
    this.frequencyGHz = value;
    return this;
  }

  public MachineSpecBuilder memoryBytes(long value) {
    this.memoryBytes = value;
    return this;
  }

  public MachineSpecBuilder accessCycles(int value) {
    this.accessCycles = value;
    return this;
  }

  public MachineSpecBuilder quantumCycles(long value) {
    this.quantumCycles = value;
    return this;
  }

  public MachineSpecBuilder tlbLevels(List<TlbLevelSpec> value) {
    this.tlbLevels = value;
    return this;
  }

  public MachineSpecBuilder walker(WalkerSpec value) {
    this.walker = value;
    return this;
  }

  public MachineSpecBuilder isaSection(ConfigSection value) {
    this.isaSection = value;
    return this;
  }

  /** The ISA section at {@code /<isa>} holding {@code values}. */
  public MachineSpecBuilder isaValues(Map<String, Object> values) {
    return isaSection(new ConfigSection("/" + isa, new LinkedHashMap<>(values)));
  }

  public MachineSpecBuilder kernelSection(ConfigSection value) {
    this.kernelSection = value;
    return this;
  }

  /** The {@code /kernel} section holding {@code values}. */
  public MachineSpecBuilder kernelValues(Map<String, Object> values) {
    return kernelSection(new ConfigSection("/kernel", new LinkedHashMap<>(values)));
  }

  public MachineSpec build() {
    return new MachineSpec(
        name,
        description,
        isa,
        cores,
        frequencyGHz,
        memoryBytes,
        accessCycles,
        quantumCycles,
        tlbLevels,
        walker,
        isaSection,
        kernelSection,
        List.of());
  }
}
