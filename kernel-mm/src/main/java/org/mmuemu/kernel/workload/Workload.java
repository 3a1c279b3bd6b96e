package org.mmuemu.kernel.workload;

import java.util.List;
import java.util.Map;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;

/**
 * Something to run on a simulated machine: sets up processes through the {@link Kernel}, then gives
 * each core a program of steps.
 *
 * <p>Implementations are stateless factories; {@link #prepare} returns the run's own state.
 */
public interface Workload {

  /** The name users pass to {@code --workload}. */
  String name();

  /** One line for {@code mmuemu list workloads}. */
  String description();

  /** The parameters, with defaults and meanings. */
  List<WorkloadParam> params();

  /**
   * Sets the workload up on a booted kernel.
   *
   * @param params every parameter, normalized, defaults filled in (see {@link
   *     WorkloadArgs#resolve})
   * @param seed the run's seed; the workload's only source of randomness
   * @return one program per core (null for a core with nothing to run)
   * @throws WorkloadException when the parameters do not fit the machine
   */
  PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed) throws WorkloadException;

  /** A workload set up for one run. */
  interface PreparedWorkload {
    /** One program per core; null entries idle. */
    CoreProgram[] programs();

    /** The parameters as run, computed defaults filled in; reported in the result. */
    Map<String, String> effectiveParams();

    /**
     * Workload-specific counters for the result's {@code kernel} section, read after the run.
     *
     * @throws WorkloadException when the run failed in a way the user must hear about (a malformed
     *     trace line)
     */
    Map<String, Object> counters() throws WorkloadException;

    /** A prepared workload whose counters are computed after the run by {@code counters}. */
    static PreparedWorkload of(
        CoreProgram[] programs, Map<String, String> effectiveParams, Counters counters) {
      return new PreparedWorkload() {
        @Override
        public CoreProgram[] programs() {
          return programs;
        }

        @Override
        public Map<String, String> effectiveParams() {
          return effectiveParams;
        }

        @Override
        public Map<String, Object> counters() throws WorkloadException {
          return counters.read();
        }
      };
    }
  }

  /** Reads a workload's counters after its run. */
  @FunctionalInterface
  interface Counters {
    Map<String, Object> read() throws WorkloadException;
  }
}
