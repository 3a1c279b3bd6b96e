package org.mmuemu.kernel.scenario;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mmuemu.core.config.ByteSize;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.MappedFile;
import org.mmuemu.kernel.scenario.ScenarioContext.Area;
import org.mmuemu.kernel.writeback.Writeback;

/**
 * Every operation a scenario step may name, in one place: its arguments and what it calls. A new
 * kernel call becomes a scenario step by one {@link #register} line here.
 *
 * <p>Arguments: {@code as} names what the step creates; {@code area}, {@code frames} and {@code
 * process} name what an earlier step created; {@code size} is a size ({@code 4096}, {@code
 * "2MiB"}); {@code pages}, {@code repeat} are counts; {@code offset} is a byte offset into the area
 * or the process's mapping.
 */
public final class ScenarioOps {
  private static final long PAGE = 4096;

  /** What kind of value an argument takes. */
  enum ArgType {
    /** A name: a string of letters, digits, '-', '_' and '.'. */
    NAME,
    /** A size in bytes: an integer or a string such as "4KiB". */
    SIZE,
    /** A positive integer. */
    COUNT
  }

  record Param(String key, ArgType type, boolean required) {}

  @FunctionalInterface
  interface Action {
    /** Runs the step on {@code cpu}; returns what the narrative says it did. */
    String run(ScenarioContext context, int cpu, Args args);
  }

  /** One operation: its name, what it is, its arguments. */
  record Op(String name, String what, List<Param> params, Action action) {}

  private static final Map<String, Op> OPS = new LinkedHashMap<>();

  static {
    register(
        "process",
        "a new process with one anonymous writable mapping of `pages` pages",
        List.of(req("as", ArgType.NAME), req("pages", ArgType.COUNT)),
        (c, cpu, a) -> {
          long pages = mapProcess(c, cpu, a, "anon", null);
          return "process " + a.name("as") + " (" + pages + " pages)";
        });
    register(
        "switch",
        "runs `process` on this CPU (context switch)",
        List.of(req("process", ArgType.NAME)),
        (c, cpu, a) -> {
          c.kernel().switchTo(cpu, a.process(c));
          return "switch to " + a.name("process");
        });
    register(
        "vmalloc",
        "vmalloc(`size`), named `as`",
        List.of(req("as", ArgType.NAME), req("size", ArgType.SIZE)),
        (c, cpu, a) -> mapped(c, a, c.kernel().vmalloc().vmalloc(cpu, a.size("size")), "vmalloc"));
    register(
        "vmalloc_huge",
        "vmalloc_huge(`size`): block mappings where they fit, named `as`",
        List.of(req("as", ArgType.NAME), req("size", ArgType.SIZE)),
        (c, cpu, a) ->
            mapped(c, a, c.kernel().vmalloc().vmallocHuge(cpu, a.size("size")), "vmalloc_huge"));
    register(
        "vfree",
        "vfree(`area`)",
        List.of(req("area", ArgType.NAME)),
        (c, cpu, a) -> {
          Area area = a.takeArea(c);
          c.kernel().vmalloc().vfree(cpu, area.va());
          return "vfree(" + a.name("area") + " " + hex(area.va()) + ")";
        });
    register(
        "alloc_pages",
        "`pages` kernel page frames, named `as`",
        List.of(req("as", ArgType.NAME), req("pages", ArgType.COUNT)),
        (c, cpu, a) -> {
          long[] pfns = new long[(int) a.count("pages")];
          for (int i = 0; i < pfns.length; i++) {
            pfns[i] = c.machine().memory().allocate(FrameKind.KERNEL);
          }
          c.putFrames(a.name("as"), pfns);
          return "alloc_pages "
              + a.name("as")
              + " = pfn "
              + hex(pfns[0])
              + (pfns.length > 1 ? " +" + (pfns.length - 1) : "");
        });
    register(
        "free_pages",
        "frees the page frames `frames` (they may be reused at once)",
        List.of(req("frames", ArgType.NAME)),
        (c, cpu, a) -> {
          long[] pfns = a.takeFrames(c);
          for (long pfn : pfns) {
            c.machine().memory().free(pfn);
          }
          return "free_pages " + a.name("frames") + " (pfn " + hex(pfns[0]) + ")";
        });
    register(
        "vm_map_ram",
        "vm_map_ram of the frames `frames` (or `pages` of them), `repeat` times; the last named `as`",
        List.of(
            opt("as", ArgType.NAME),
            req("frames", ArgType.NAME),
            opt("pages", ArgType.COUNT),
            opt("repeat", ArgType.COUNT)),
        (c, cpu, a) -> {
          long[] pfns = a.frames(c);
          int count = (int) Math.min(pfns.length, a.countOr("pages", pfns.length));
          long repeat = a.countOr("repeat", 1);
          long va = 0;
          for (long i = 0; i < repeat; i++) {
            va = c.kernel().vmalloc().vmMapRam(cpu, pfns, count);
          }
          if (a.has("as")) {
            c.putArea(a.name("as"), new Area(va, count * PAGE, count, false));
          }
          return "vm_map_ram("
              + a.name("frames")
              + ", "
              + count
              + " pages)"
              + (repeat > 1 ? " x" + repeat : "")
              + (a.has("as") ? " = " + a.name("as") + " " + hex(va) : "");
        });
    register(
        "vm_unmap_ram",
        "vm_unmap_ram(`area`)",
        List.of(req("area", ArgType.NAME)),
        (c, cpu, a) -> {
          Area area = a.takeArea(c);
          c.kernel().vmalloc().vmUnmapRam(cpu, area.va(), (int) area.pages());
          return "vm_unmap_ram(" + a.name("area") + " " + hex(area.va()) + ")";
        });
    register(
        "vm_unmap_aliases",
        "vm_unmap_aliases(): flush every lazily unmapped kernel alias",
        List.of(),
        (c, cpu, a) -> {
          c.kernel().vmalloc().vmUnmapAliases(cpu);
          return "vm_unmap_aliases()";
        });
    register(
        "purge_vmap_area_lazy",
        "purge_vmap_area_lazy(): flush and release the lazily freed areas",
        List.of(),
        (c, cpu, a) -> {
          c.kernel().vmalloc().purgeVmapAreaLazy(cpu);
          return "purge_vmap_area_lazy()";
        });
    register(
        "load",
        "an 8-byte load at `offset` in `area` or in `process`'s mapping",
        List.of(
            opt("area", ArgType.NAME), opt("process", ArgType.NAME), opt("offset", ArgType.SIZE)),
        (c, cpu, a) -> access(c, cpu, a, AccessKind.READ));
    register(
        "store",
        "an 8-byte store at `offset` in `area` or in `process`'s mapping",
        List.of(
            opt("area", ArgType.NAME), opt("process", ArgType.NAME), opt("offset", ArgType.SIZE)),
        (c, cpu, a) -> access(c, cpu, a, AccessKind.WRITE));
    register(
        "walk",
        "a speculative page walk at `offset` in `area` (fills walk caches, no access)",
        List.of(req("area", ArgType.NAME), opt("offset", ArgType.SIZE)),
        (c, cpu, a) -> {
          long va = a.va(c);
          c.kernel().speculativeWalk(cpu, va);
          return "speculative walk at " + hex(va);
        });
    registerRange("munmap", "munmap(", ")", Kernel::munmap);
    registerRange("madvise_dontneed", "madvise(", ", MADV_DONTNEED)", Kernel::madviseDontneed);
    registerRange(
        "make_device_exclusive", "make_device_exclusive(", ")", Kernel::makeDeviceExclusive);
    register(
        "file_process",
        "a new process with a shared writable mapping of a `pages`-page file (page-cache pages,"
            + " rmap, writeback)",
        List.of(req("as", ArgType.NAME), req("pages", ArgType.COUNT)),
        (c, cpu, a) -> {
          MappedFile file =
              c.kernel().pageCache().createFile(a.name("as"), a.count("pages") * PAGE);
          long pages = mapProcess(c, cpu, a, "file", file);
          return "file process " + a.name("as") + " (" + pages + " pages, shared)";
        });
    register(
        "writeback",
        "writes back every dirty page-cache page (folio_mkclean, then the I/O)",
        List.of(),
        (c, cpu, a) -> "writeback: " + new Writeback(c.kernel()).writebackAll(cpu) + " pages");
    register(
        "reclaim",
        "drops every clean page-cache page nobody maps (the LOST_WRITE check)",
        List.of(),
        (c, cpu, a) ->
            "reclaim: "
                + new Writeback(c.kernel()).reclaim(cpu, Integer.MAX_VALUE, false)
                + " pages dropped");
    register(
        "ptdump",
        "one ptdump walk of the kernel page tables (reading kernel_page_tables)",
        List.of(),
        (c, cpu, a) -> {
          c.kernel().ptdump(cpu);
          return "ptdump walk";
        });
    register(
        "oom_reap",
        "the OOM reaper unmaps `process`'s memory while its threads may still run",
        List.of(req("process", ArgType.NAME)),
        (c, cpu, a) -> {
          c.kernel().oomReap(cpu, a.process(c));
          return "oom_reap(" + a.name("process") + ")";
        });
    register(
        "short_lived_processes",
        "`count` processes, one after another on this CPU: each is created with one untouched page,"
            + " run (so it takes an address-space id: an ASID on arm64, a PCID slot on x86) and exits",
        List.of(req("count", ArgType.COUNT)),
        (c, cpu, a) -> {
          Kernel kernel = c.kernel();
          long count = a.count("count");
          for (long i = 0; i < count; i++) {
            Mm mm = newProcess(kernel, cpu, 1, "anon", null);
            kernel.switchTo(cpu, mm);
            kernel.exitMmap(cpu, mm);
          }
          return count + " short-lived processes";
        });
    register(
        "exit_mmap",
        "`process` exits: its whole address space is torn down",
        List.of(req("process", ArgType.NAME)),
        (c, cpu, a) -> {
          c.kernel().exitMmap(cpu, a.process(c));
          return "exit_mmap(" + a.name("process") + ")";
        });
  }

  private ScenarioOps() {}

  private static void register(String name, String what, List<Param> params, Action action) {
    OPS.put(name, new Op(name, what, params, action));
  }

  /** A kernel call over a range of a process's mapping. */
  @FunctionalInterface
  private interface RangeCall {
    void call(Kernel kernel, int cpu, Mm mm, long startVa, long endVa);
  }

  /** An operation over {@code size} bytes at {@code offset} in {@code process}'s mapping. */
  private static void registerRange(String name, String prefix, String suffix, RangeCall call) {
    register(
        name,
        prefix + "`size` bytes at `offset` in `process`'s mapping" + suffix,
        List.of(
            req("process", ArgType.NAME), opt("offset", ArgType.SIZE), req("size", ArgType.SIZE)),
        (c, cpu, a) -> {
          long va = ScenarioContext.PROCESS_VA + a.sizeOr("offset", 0);
          long size = a.size("size");
          call.call(c.kernel(), cpu, a.process(c), va, va + size);
          return prefix + hex(va) + ", " + size + suffix;
        });
  }

  /**
   * A new process named {@code as} with one writable mapping of {@code pages} pages at {@link
   * ScenarioContext#PROCESS_VA}: anonymous, or shared of {@code file}.
   *
   * @return the pages mapped
   */
  private static long mapProcess(
      ScenarioContext c, int cpu, Args a, String vmaName, MappedFile file) {
    long pages = a.count("pages");
    c.putProcess(a.name("as"), newProcess(c.kernel(), cpu, pages, vmaName, file));
    return pages;
  }

  /**
   * A new mm with one writable mapping of {@code pages} pages at {@link
   * ScenarioContext#PROCESS_VA}: anonymous, or shared of {@code file}.
   */
  private static Mm newProcess(
      Kernel kernel, int cpu, long pages, String vmaName, MappedFile file) {
    Mm mm = kernel.createMm();
    long start = ScenarioContext.PROCESS_VA;
    kernel.mmap(cpu, mm, new Vma(start, start + pages * PAGE, PteFlags.WRITE, vmaName, file, 0));
    return mm;
  }

  private static Param req(String key, ArgType type) {
    return new Param(key, type, true);
  }

  private static Param opt(String key, ArgType type) {
    return new Param(key, type, false);
  }

  private static String mapped(ScenarioContext c, Args a, long va, String call) {
    long size = a.size("size");
    c.putArea(a.name("as"), new Area(va, size, (size + PAGE - 1) / PAGE, false));
    return call + "(" + size + ") = " + a.name("as") + " " + hex(va);
  }

  private static String access(ScenarioContext c, int cpu, Args a, AccessKind kind) {
    long va = a.va(c);
    boolean ok = c.machine().access(cpu, va, 8, kind);
    return (kind == AccessKind.WRITE ? "store " : "load ")
        + a.target()
        + "+"
        + a.sizeOr("offset", 0)
        + " ("
        + hex(va)
        + ")"
        + (ok ? "" : ": fault not resolved");
  }

  static String hex(long value) {
    return "0x" + Long.toHexString(value);
  }

  /** The operation names, in registration order. */
  public static Set<String> names() {
    return Collections.unmodifiableSet(OPS.keySet());
  }

  /**
   * Every problem of one step: an unknown operation, a missing, unknown or ill-typed argument. Each
   * line starts with a JSON pointer.
   *
   * @param allowCpu whether the step may name its {@code cpu} (setup steps)
   */
  public static List<String> check(ScenarioStep step, boolean allowCpu) {
    List<String> problems = new ArrayList<>();
    Op op = OPS.get(step.op());
    if (op == null) {
      problems.add(
          step.pointer()
              + "/op: \""
              + step.op()
              + "\" (expected one of: "
              + String.join(", ", OPS.keySet())
              + ")");
      return problems;
    }
    for (Param p : op.params()) {
      if (p.required() && !step.args().containsKey(p.key())) {
        problems.add(
            step.pointer()
                + "/"
                + p.key()
                + ": missing (expected: "
                + typeText(p.type())
                + ", required by "
                + op.name()
                + ")");
      }
    }
    for (Map.Entry<String, Object> arg : step.args().entrySet()) {
      String at = step.pointer() + "/" + arg.getKey();
      if (allowCpu && arg.getKey().equals("cpu")) {
        continue;
      }
      Param param =
          op.params().stream().filter(p -> p.key().equals(arg.getKey())).findFirst().orElse(null);
      if (param == null) {
        List<String> keys = new ArrayList<>();
        keys.add("op");
        op.params().forEach(p -> keys.add(p.key()));
        problems.add(
            at
                + ": unknown key for "
                + op.name()
                + " (expected one of: "
                + String.join(", ", keys)
                + ")");
        continue;
      }
      String bad = typeProblem(param.type(), arg.getValue());
      if (bad != null) {
        problems.add(at + ": " + bad);
      }
    }
    if ((op.name().equals("load") || op.name().equals("store"))
        && step.args().containsKey("area") == step.args().containsKey("process")) {
      problems.add(step.pointer() + ": " + op.name() + " needs exactly one of area and process");
    }
    return problems;
  }

  private static String typeText(ArgType type) {
    return switch (type) {
      case NAME -> "a name";
      case SIZE -> "a size such as 4096 or \"4KiB\"";
      case COUNT -> "a positive integer";
    };
  }

  private static String typeProblem(ArgType type, Object value) {
    switch (type) {
      case NAME:
        if (value instanceof String s && !s.isEmpty()) {
          return null;
        }
        break;
      case COUNT:
        if (value instanceof Long n && n > 0 && n <= Integer.MAX_VALUE) {
          return null;
        }
        break;
      case SIZE:
        try {
          if (ByteSize.parse(value) >= 0) {
            return null;
          }
        } catch (RuntimeException e) {
          // reported below
        }
        break;
      default:
        break;
    }
    return describe(value) + " (expected: " + typeText(type) + ")";
  }

  private static String describe(Object value) {
    return value instanceof String s ? "\"" + s + "\"" : String.valueOf(value);
  }

  /**
   * Adds the names {@code step} uses to {@code uses} (each {@code [pointer, key, name]}) and the
   * name it creates to {@code defined} ({@code area:a}, {@code frames:f}, {@code process:p}).
   */
  public static void names(ScenarioStep step, List<String[]> uses, Set<String> defined) {
    for (String key : new String[] {"area", "frames", "process"}) {
      String name = step.text(key);
      if (name != null) {
        uses.add(new String[] {step.pointer() + "/" + key, key, name});
      }
    }
    String as = step.text("as");
    if (as != null) {
      defined.add(
          step.op().equals("process") || step.op().equals("file_process")
              ? "process:" + as
              : step.op().equals("alloc_pages") ? "frames:" + as : "area:" + as);
    }
  }

  /** Whether {@code step} is a user load or store (no kernel code runs unless it faults). */
  static boolean isUserAccess(ScenarioStep step) {
    return step.op().equals("load") || step.op().equals("store");
  }

  /**
   * Runs {@code step} on {@code cpu} and tells the narrative. A step naming an area, frames or a
   * process that no step has created yet (in this schedule) is skipped, and the narrative says so.
   */
  static void run(ScenarioContext context, int cpu, ScenarioStep step) {
    Op op = OPS.get(step.op());
    Args args = new Args(step);
    String missing =
        args.missing(context, op.name().equals("vfree") || op.name().equals("vm_unmap_ram"));
    long start = context.machine().now(cpu);
    if (missing != null) {
      context
          .narrative()
          .add(start, cpu, op.name() + ": skipped, " + missing + " (in this schedule)");
      return;
    }
    context.narrative().add(start, cpu, "begins " + op.name());
    String what = op.action().run(context, cpu, args);
    context.narrative().add(context.machine().now(cpu), cpu, what + " returns");
  }

  /** A step's arguments, typed. */
  static final class Args {
    private final ScenarioStep step;

    Args(ScenarioStep step) {
      this.step = step;
    }

    boolean has(String key) {
      return step.args().containsKey(key);
    }

    String name(String key) {
      return step.text(key);
    }

    long count(String key) {
      return ((Number) step.args().get(key)).longValue();
    }

    long countOr(String key, long absent) {
      return has(key) ? count(key) : absent;
    }

    long size(String key) {
      return ByteSize.parse(step.args().get(key));
    }

    long sizeOr(String key, long absent) {
      return has(key) ? size(key) : absent;
    }

    String target() {
      return has("area") ? name("area") : name("process");
    }

    long va(ScenarioContext c) {
      long base = has("area") ? c.area(name("area")).va() : ScenarioContext.PROCESS_VA;
      return base + sizeOr("offset", 0);
    }

    Mm process(ScenarioContext c) {
      return c.process(name("process"));
    }

    long[] frames(ScenarioContext c) {
      return c.frames(name("frames"));
    }

    Area takeArea(ScenarioContext c) {
      return c.freeArea(name("area"));
    }

    long[] takeFrames(ScenarioContext c) {
      return c.removeFrames(name("frames"));
    }

    /**
     * The first name this step uses that does not exist now, described; or null. A step that frees
     * an area ({@code frees}) also needs it not freed yet.
     */
    String missing(ScenarioContext c, boolean frees) {
      if (has("area") && c.area(name("area")) == null) {
        return "area " + name("area") + " is not mapped yet";
      }
      if (has("area") && frees && c.area(name("area")).freed()) {
        return "area " + name("area") + " was freed already";
      }
      if (has("frames") && c.frames(name("frames")) == null) {
        return "frames " + name("frames") + " are not allocated";
      }
      if (has("process") && c.process(name("process")) == null) {
        return "process " + name("process") + " does not exist";
      }
      return null;
    }
  }
}
