package org.mmuemu.kernel.workload;

/**
 * A workload cannot run as asked: a bad parameter, an unreadable or malformed trace. The message is
 * one line for the user.
 */
public final class WorkloadException extends Exception {
  private static final long serialVersionUID = 1L;

  public WorkloadException(String message) {
    super(message);
  }

  public WorkloadException(String message, Throwable cause) {
    super(message, cause);
  }
}
