package org.mmuemu.app;

import java.io.IOException;
import java.nio.file.Path;
import org.mmuemu.configs.ResultJson;

/** Writes the files compare and sweep produce: atomically, a failure reported against its flag. */
final class OutputFiles {
  private OutputFiles() {}

  /**
   * Writes {@code text} to {@code target} atomically (readers see the old file or the whole new
   * one).
   *
   * @param flag the option that named the file, for the error message
   */
  static void write(Path target, String flag, String text) throws UserInputException {
    try {
      ResultJson.writeStringAtomically(text, target);
    } catch (IOException e) {
      throw new UserInputException(flag + " " + target + ": cannot write (" + e.getMessage() + ")");
    }
  }
}
