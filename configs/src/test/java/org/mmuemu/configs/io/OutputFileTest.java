package org.mmuemu.configs.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An output must never replace what is not a regular file, never turn a link into a file, and never
 * change a file's permissions: the issue found all three ({@code --trace /dev/null} as root
 * replaced /dev/null).
 */
final class OutputFileTest {
  @TempDir Path dir;

  @Test
  void regularFile_replacedAtomically_keepsPermissions_noTemporaryLeft() throws IOException {
    Path target = Files.writeString(dir.resolve("result.json"), "old");
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r-----"));

    try (OutputFile file = OutputFile.open("--out", target)) {
      file.writer().write("new");
      assertThat(Files.readString(target)).isEqualTo("old");
      assertThat(listing())
          .hasSize(2)
          .anyMatch(name -> name.startsWith(".result.json.mmuemu-tmp-"));
      file.commit();
    }

    assertThat(Files.readString(target)).isEqualTo("new");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target)))
        .isEqualTo("rw-r-----");
    assertThat(listing()).containsExactly("result.json");
  }

  @Test
  void symlink_writesTheRealTarget_andStaysALink() throws IOException {
    Path real = Files.writeString(dir.resolve("real.json"), "old");
    Path link = Files.createSymbolicLink(dir.resolve("link.json"), Path.of("real.json"));

    OutputFile.write("--out", link, "new".getBytes(StandardCharsets.UTF_8));

    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(real)).isEqualTo("new");
    assertThat(listing()).containsExactly("link.json", "real.json");
  }

  @Test
  void danglingSymlink_createsItsTarget() throws IOException {
    Path link = Files.createSymbolicLink(dir.resolve("link.json"), Path.of("later.json"));

    OutputFile.write("--out", link, "new".getBytes(StandardCharsets.UTF_8));

    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(dir.resolve("later.json"))).isEqualTo("new");
  }

  @Test
  void fifo_isStreamedTo_notReplaced() throws Exception {
    Path fifo = dir.resolve("events.fifo");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    CompletableFuture<String> reader =
        CompletableFuture.supplyAsync(
            () -> {
              try (InputStream in = Files.newInputStream(fifo)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });

    try (OutputFile file = OutputFile.open("--trace", fifo)) {
      assertThat(file.isStreamed()).isTrue();
      file.writer().write("line\n");
      file.commit();
    }

    assertThat(reader.get(10, TimeUnit.SECONDS)).isEqualTo("line\n");
    assertThat(Files.isRegularFile(fifo)).isFalse();
    assertThat(Files.exists(fifo)).isTrue();
  }

  @Test
  void devNull_staysACharacterDevice() throws Exception {
    Path devNull = Path.of("/dev/null");

    OutputFile.write("--trace", devNull, "x".getBytes(StandardCharsets.UTF_8));

    assertThat(Files.isRegularFile(devNull)).isFalse();
    assertThat(Files.readAttributes(devNull, "unix:mode").get("mode"))
        .satisfies(mode -> assertThat(((Integer) mode) & 0170000).isEqualTo(0020000));
  }

  @Test
  void missingDirectory_failsOnOpen_namingTheFlag() {
    assertThatThrownBy(() -> OutputFile.open("--out", dir.resolve("no/such/result.json")))
        .isInstanceOf(OutputFileException.class)
        .hasMessage(
            "--out "
                + dir.resolve("no/such/result.json")
                + ": no such directory "
                + dir.resolve("no/such"));
  }

  @Test
  void parentIsAFile_failsOnOpen() throws IOException {
    Path file = Files.writeString(dir.resolve("plain"), "x");

    assertThatThrownBy(() -> OutputFile.open("--trace", file.resolve("t.jsonl")))
        .isInstanceOf(OutputFileException.class)
        .hasMessageStartingWith("--trace " + file.resolve("t.jsonl") + ": ");
  }

  @Test
  void directoryTarget_refused() {
    assertThatThrownBy(() -> OutputFile.open("--out", dir))
        .isInstanceOf(OutputFileException.class)
        .hasMessage("--out " + dir + ": is a directory (expected: a file)");
  }

  @Test
  void abort_removesTheTemporaryFile_andLeavesTheTarget() throws IOException {
    Path target = Files.writeString(dir.resolve("t.jsonl"), "old");
    OutputFile file = OutputFile.open("--trace", target);
    file.writer().write("partial");
    assertThat(OutputFile.liveTemporaries()).anyMatch(p -> p.startsWith(dir));

    file.abort();

    assertThat(listing()).containsExactly("t.jsonl");
    assertThat(Files.readString(target)).isEqualTo("old");
    assertThat(OutputFile.liveTemporaries()).noneMatch(p -> p.startsWith(dir));
  }

  @Test
  void twoOutputsToOneName_getDistinctTemporaries() throws IOException {
    Path target = dir.resolve("x");
    try (OutputFile first = OutputFile.open("--out", target);
        OutputFile second = OutputFile.open("--trace", target)) {
      first.writer().write("1");
      second.writer().write("2");
      first.commit();
      second.commit();
    }
    assertThat(Files.readString(target)).isEqualTo("2");
    assertThat(listing()).containsExactly("x");
  }

  private java.util.List<String> listing() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
