package org.mmuemu.app.runner;

/** The exit codes of every mmuemu command. */
public final class ExitCodes {
  private ExitCodes() {}

  /** The run finished and the oracle found no violation. */
  public static final int OK = 0;

  /** The run finished and the oracle found violations. */
  public static final int VIOLATIONS = 1;

  /** {@code calibrate}: a gated target's model figure is outside its tolerance. */
  public static final int OUTSIDE_TOLERANCE = 1;

  /**
   * Bad input: flags, config, workload parameters, trace. No result was written; a trace only when
   * the error came during the run (it ends with a marker saying the run failed).
   */
  public static final int BAD_INPUT = 2;

  /** A bug in mmuemu. */
  public static final int INTERNAL_ERROR = 3;

  /** Stopped by Ctrl-C (128 + SIGINT, as shells report it); no result was written. */
  public static final int INTERRUPTED = 130;
}
