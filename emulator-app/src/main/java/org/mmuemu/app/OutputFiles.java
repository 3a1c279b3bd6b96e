package org.mmuemu.app;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.configs.io.OutputFileException;

/** Writes the files compare and sweep produce, through {@link OutputFile} like every output. */
final class OutputFiles {
  private OutputFiles() {}

  /**
   * Writes {@code text} to {@code target}: a file atomically (readers see the old file or the whole
   * new one, permissions kept), a device or FIFO streamed to.
   *
   * @param flag the option that named the file, for the error message
   */
  static void write(Path target, String flag, String text) throws UserInputException {
    try {
      OutputFile.write(flag, target, text.getBytes(StandardCharsets.UTF_8));
    } catch (OutputFileException e) {
      throw new UserInputException(e.getMessage());
    }
  }
}
