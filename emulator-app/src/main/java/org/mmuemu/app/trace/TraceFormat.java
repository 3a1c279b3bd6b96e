package org.mmuemu.app.trace;

/** The forms {@code --trace} writes ({@code --trace-format}). */
public enum TraceFormat {
  /** One JSON object per line, the objects the control port streams. */
  jsonl,
  /** Chrome trace-event JSON for Perfetto UI and chrome://tracing. */
  chrome
}
