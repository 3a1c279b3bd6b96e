package org.mmuemu.kernel.workload;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.trace.LackeyTraceReader;
import org.mmuemu.kernel.trace.MemoryRecord;
import org.mmuemu.kernel.trace.TraceFormatException;

/**
 * Replays a recorded memory trace on one core, in one process whose single anonymous mapping covers
 * the whole user address space above the first page, so every traced address is demand-paged on
 * first touch.
 *
 * <p>Semantics (relied on by tests and users): each record is one access on core 0; an access whose
 * bytes span two 4 KiB pages translates each page in address order; each translation is one lookup
 * in each TLB level it reaches; a miss that faults counts once (the retry after the fault is not
 * another lookup). Fetches use the levels that serve instructions, loads, stores and modifies the
 * levels that serve data; a modify translates once, as a store.
 */
public final class ReplayWorkload implements Workload {
  /** The lowest address the replay mapping covers: page 0 stays unmapped, as on Linux. */
  static final long MAPPING_START_VA = 0x1000L;

  private final Path traceFile;
  private final boolean lenient;
  private final int maxLineBytes;

  /**
   * @param traceFile the lackey trace
   * @param lenient skip and count malformed lines instead of stopping
   */
  public ReplayWorkload(Path traceFile, boolean lenient) {
    this(traceFile, lenient, LackeyTraceReader.DEFAULT_MAX_LINE_BYTES);
  }

  /**
   * @param traceFile the lackey trace
   * @param lenient skip and count malformed and overlong lines instead of stopping
   * @param maxLineBytes the longest trace line accepted, at least 64
   */
  public ReplayWorkload(Path traceFile, boolean lenient, int maxLineBytes) {
    this.traceFile = traceFile;
    this.lenient = lenient;
    this.maxLineBytes = maxLineBytes;
  }

  @Override
  public String name() {
    return "replay";
  }

  @Override
  public String description() {
    return "replays a valgrind lackey memory trace on core 0";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of();
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    BufferedReader reader;
    try {
      reader = Files.newBufferedReader(traceFile, StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      throw new WorkloadException("--trace-file " + traceFile + ": no such file");
    } catch (IOException e) {
      throw new WorkloadException(
          "--trace-file " + traceFile + ": cannot read (" + e.getMessage() + ")");
    }
    Machine machine = kernel.machine();
    long userEnd = 1L << (machine.isa().regime().vaBits() - 1);
    Mm mm = kernel.createMm();
    mm.addVma(new Vma(MAPPING_START_VA, userEnd, PteFlags.WRITE | PteFlags.EXEC, "replay"));
    String fileName =
        traceFile.getFileName() == null ? traceFile.toString() : traceFile.getFileName().toString();
    ReplayProgram program =
        new ReplayProgram(
            kernel, mm, new LackeyTraceReader(reader, fileName, lenient, maxLineBytes));
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    programs[0] = program;
    Map<String, String> effective = new TreeMap<>();
    effective.put("format", "lackey");
    effective.put("lenient", Boolean.toString(lenient));
    effective.put("traceFile", fileName);
    return PreparedWorkload.of(programs, effective, program::finish);
  }

  private static final class ReplayProgram implements CoreProgram {
    private final Kernel kernel;
    private final Mm mm;
    private final Machine machine;
    private final LackeyTraceReader reader;
    private final MemoryRecord record = new MemoryRecord();
    private final long[] countsByKind = new long[4];
    private long pageCrossings;
    private boolean started;
    private WorkloadException failure;

    ReplayProgram(Kernel kernel, Mm mm, LackeyTraceReader reader) {
      this.kernel = kernel;
      this.mm = mm;
      this.machine = kernel.machine();
      this.reader = reader;
    }

    @Override
    public boolean step(int core) {
      if (!started) {
        kernel.switchTo(core, mm);
        started = true;
      }
      try {
        if (!reader.next(record)) {
          return false;
        }
      } catch (TraceFormatException e) {
        failure = new WorkloadException(e.getMessage(), e);
        return false;
      } catch (IOException e) {
        failure =
            new WorkloadException(
                "trace read failed at line " + reader.lineNumber() + ": " + e.getMessage(), e);
        return false;
      }
      countsByKind[record.modify ? 3 : record.kind.ordinal()]++;
      if (((record.va ^ (record.va + record.sizeBytes - 1)) >>> 12) != 0) {
        pageCrossings++;
      }
      machine.access(core, record.va, record.sizeBytes, record.kind);
      return true;
    }

    Map<String, Object> finish() throws WorkloadException {
      try {
        reader.close();
      } catch (IOException e) {
        // The trace was read to its end or to the failure: nothing more can be lost.
      }
      if (failure != null) {
        throw failure;
      }
      Map<String, Object> replay = new LinkedHashMap<>();
      replay.put("lines", reader.lineNumber());
      replay.put("fetches", countsByKind[0]);
      replay.put("loads", countsByKind[1]);
      replay.put("stores", countsByKind[2]);
      replay.put("modifies", countsByKind[3]);
      replay.put("pageCrossings", pageCrossings);
      replay.put("ignoredLines", reader.ignoredLines());
      replay.put("skippedLines", reader.skippedLines());
      replay.put("longLines", reader.longLines());
      return Map.of("replay", replay);
    }
  }
}
