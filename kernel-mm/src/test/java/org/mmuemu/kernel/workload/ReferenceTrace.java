package org.mmuemu.kernel.workload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

/**
 * A valgrind lackey trace as the replay tests read it, with their own deliberately plain parser (a
 * regular expression per line), so that the expected counts never depend on {@link
 * org.mmuemu.kernel.trace.LackeyTraceReader}, the class under test.
 *
 * <p>Lines starting with {@code ==} and blank lines are ignored; every other line must be a record,
 * or is counted as malformed.
 */
final class ReferenceTrace {
  private static final Pattern RECORD =
      Pattern.compile("(I | L| S| M) +([0-9a-fA-F]{1,16}),([0-9]{1,6})\\s*");

  /** One record: {@code fetch} for {@code I}; {@code write} for {@code S} and {@code M}. */
  record Access(char kind, long va, int sizeBytes) {
    boolean fetch() {
      return kind == 'I';
    }

    long firstVpn() {
      return va >>> 12;
    }

    long lastVpn() {
      return (va + sizeBytes - 1) >>> 12;
    }
  }

  private final List<Access> accesses;
  private final long ignoredLines;
  private final List<Long> malformedLineNumbers;

  private ReferenceTrace(
      List<Access> accesses, long ignoredLines, List<Long> malformedLineNumbers) {
    this.accesses = List.copyOf(accesses);
    this.ignoredLines = ignoredLines;
    this.malformedLineNumbers = List.copyOf(malformedLineNumbers);
  }

  static ReferenceTrace read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Access> accesses = new ArrayList<>(lines.size());
    List<Long> malformed = new ArrayList<>();
    long ignored = 0;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.startsWith("==") || line.isBlank()) {
        ignored++;
        continue;
      }
      Matcher m = RECORD.matcher(line);
      if (!m.matches() || Integer.parseInt(m.group(3)) == 0) {
        malformed.add(i + 1L);
        continue;
      }
      char kind = m.group(1).trim().charAt(0);
      accesses.add(
          new Access(kind, Long.parseUnsignedLong(m.group(2), 16), Integer.parseInt(m.group(3))));
    }
    return new ReferenceTrace(accesses, ignored, malformed);
  }

  List<Access> accesses() {
    return accesses;
  }

  long ignoredLines() {
    return ignoredLines;
  }

  /** 1-based numbers of the lines that are neither ignored nor records. */
  List<Long> malformedLineNumbers() {
    return malformedLineNumbers;
  }

  long count(char kind) {
    return accesses.stream().filter(a -> a.kind() == kind).count();
  }

  long pageCrossings() {
    return accesses.stream().filter(a -> a.firstVpn() != a.lastVpn()).count();
  }

  /** Distinct 4 KiB pages the trace touches: each is demand-faulted exactly once. */
  long distinctPages() {
    return accesses.stream()
        .flatMap(a -> LongStream.rangeClosed(a.firstVpn(), a.lastVpn()).boxed())
        .distinct()
        .count();
  }
}
