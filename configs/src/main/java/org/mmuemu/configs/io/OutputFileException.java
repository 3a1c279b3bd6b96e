package org.mmuemu.configs.io;

import java.io.IOException;
import java.nio.file.Path;

/** An output path that cannot be written: one line naming the flag, the path and why. */
public final class OutputFileException extends IOException {
  private static final long serialVersionUID = 1L;

  public OutputFileException(String flag, Path path, String reason) {
    super(flag + " " + path + ": " + reason);
  }
}
