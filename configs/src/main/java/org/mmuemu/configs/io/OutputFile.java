package org.mmuemu.configs.io;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One output of a command ({@code --out}, {@code --trace}, {@code attach --out}) that never
 * clobbers what is at its path.
 *
 * <ul>
 *   <li>A regular file, or a path where nothing exists yet, is written atomically: to a temporary
 *       file next to the real target ({@code .<name>.mmuemu-tmp-<pid>}), forced to disk and renamed
 *       over the target by {@link #commit}. Readers see the old file or the whole new one. An
 *       existing file keeps its permissions (and, where allowed, its owner).
 *   <li>A symbolic link is followed to its real target, which is replaced; the link stays a link.
 *   <li>Anything else (a character device such as {@code /dev/null}, a FIFO, a socket) and {@code
 *       -} (standard output) is streamed to directly: it is never replaced.
 * </ul>
 *
 * <p>{@link #open} is also the early check: commands open every output before a run starts, so a
 * wrong directory fails at once ({@link OutputFileException}, one line naming the flag). A
 * temporary file is removed by {@link #abort}, and by a shutdown hook when the process is
 * interrupted (Ctrl-C, SIGTERM) before commit or abort. An output marked {@link #finishOnInterrupt}
 * (a trace, which stays valid when a run stops early) is instead left to its owner for a bounded
 * time to end and commit it; only what is still unfinished then is removed. A {@code kill -9} runs
 * no hook: it can leave the named temporary file behind.
 *
 * <p>Typical use: {@code try (OutputFile file = OutputFile.open("--out", path)) { write to
 * file.stream(); file.commit(); }} ({@link #close} aborts what was not committed). One thread uses
 * an instance.
 */
public final class OutputFile implements Closeable {
  /** The part of a temporary file's name that says what it is. */
  public static final String TEMPORARY_MARKER = ".mmuemu-tmp-";

  /**
   * How long the shutdown hook waits for outputs marked {@link #finishOnInterrupt} to be committed
   * or aborted by their owner before it removes them.
   */
  static final long FINISH_ON_INTERRUPT_SECONDS = 10;

  private static final Set<Path> LIVE_TEMPORARIES = ConcurrentHashMap.newKeySet();
  private static final Set<Path> FINISHED_BY_OWNER = ConcurrentHashMap.newKeySet();
  private static final Object FINISHED_SIGNAL = new Object();
  private static volatile boolean hookInstalled;

  private final String flag;
  private final Path shownPath;
  private final Path target;
  private final Path temporary;
  private final FileChannel channel;
  private final OutputStream stream;
  private Writer writer;
  private boolean finished;

  private OutputFile(
      String flag,
      Path shownPath,
      Path target,
      Path temporary,
      FileChannel channel,
      OutputStream stream) {
    this.flag = flag;
    this.shownPath = shownPath;
    this.target = target;
    this.temporary = temporary;
    this.channel = channel;
    this.stream = stream;
  }

  /**
   * Opens the output for {@code path}: creates the temporary file beside a regular target, or opens
   * a device, FIFO or standard output ({@code -}) for streaming.
   *
   * @param flag the option the path came from, for messages ({@code --out})
   * @throws OutputFileException naming the flag and the path when it cannot be written
   */
  public static OutputFile open(String flag, Path path) throws OutputFileException {
    if (path.toString().equals("-")) {
      return new OutputFile(
          flag, path, null, null, null, new NonClosing(new FileOutputStream(FileDescriptor.out)));
    }
    try {
      Path target = realTarget(path);
      if (Files.exists(target) && !Files.isRegularFile(target)) {
        if (Files.isDirectory(target)) {
          throw new OutputFileException(flag, path, "is a directory (expected: a file)");
        }
        // A device or FIFO: written in place, never replaced. Opening a FIFO waits for a reader.
        return new OutputFile(
            flag, path, null, null, null, Files.newOutputStream(target, StandardOpenOption.WRITE));
      }
      Path temporary = createTemporary(target);
      try {
        copyAttributes(target, temporary);
        FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE);
        return new OutputFile(
            flag, path, target, temporary, channel, Channels.newOutputStream(channel));
      } catch (IOException | RuntimeException e) {
        forget(temporary);
        throw e;
      }
    } catch (OutputFileException e) {
      throw e;
    } catch (NoSuchFileException | NotDirectoryException e) {
      throw new OutputFileException(flag, path, "no such directory " + parentOf(path));
    } catch (AccessDeniedException e) {
      throw new OutputFileException(flag, path, "permission denied");
    } catch (IOException e) {
      throw new OutputFileException(flag, path, "cannot write (" + e.getMessage() + ")");
    }
  }

  /**
   * Writes {@code bytes} to {@code path} with the guarantees of {@link #open}: atomically for a
   * regular file, streamed to a device or FIFO.
   */
  public static void write(String flag, Path path, byte[] bytes) throws OutputFileException {
    try (OutputFile file = open(flag, path)) {
      try {
        file.stream().write(bytes);
      } catch (IOException e) {
        throw file.failure(e);
      }
      file.commit();
    }
  }

  /** Where to write; unbuffered for a file (wrap it), owned by this object. */
  public OutputStream stream() {
    return stream;
  }

  /** A buffered UTF-8 writer over {@link #stream()}; the same one on every call. */
  public Writer writer() {
    if (writer == null) {
      writer = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), 1 << 16);
    }
    return writer;
  }

  /**
   * Marks this output as one its owner finishes when the process is interrupted: the shutdown hook
   * leaves its temporary file alone for up to {@link #FINISH_ON_INTERRUPT_SECONDS} while the owner
   * ends it (for a trace: a last event saying the run was interrupted) and commits or aborts it,
   * and removes it only if that has not happened by then. The owner must be told of the interrupt
   * some other way (the run's cancellation check). Nothing to do for a streamed output.
   */
  public void finishOnInterrupt() {
    if (temporary != null && !finished) {
      FINISHED_BY_OWNER.add(temporary);
    }
  }

  /** Whether the output is written in place (a device, FIFO or standard output). */
  public boolean isStreamed() {
    return temporary == null;
  }

  /**
   * Flushes everything written and, for a file, forces it to disk and renames it over the target.
   * After a failure the target is as it was and no temporary file remains.
   *
   * @throws OutputFileException naming the flag when the data cannot be written
   */
  public void commit() throws OutputFileException {
    if (finished) {
      throw new IllegalStateException(flag + ": already committed or aborted");
    }
    try {
      if (writer != null) {
        writer.flush();
      }
      stream.flush();
      if (temporary == null) {
        finished = true;
        stream.close();
        return;
      }
      channel.force(true);
      stream.close();
      try {
        Files.move(
            temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        // Same directory, so a plain rename; only file systems without atomic rename get here.
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
      }
      finished = true;
      LIVE_TEMPORARIES.remove(temporary);
      releaseFromHook(temporary);
    } catch (IOException e) {
      throw failure(e);
    }
  }

  /** Drops what was written: the temporary file is removed, the target untouched. Idempotent. */
  public void abort() {
    if (finished) {
      return;
    }
    finished = true;
    try {
      stream.close();
    } catch (IOException e) {
      // Nothing of it is kept.
    }
    if (temporary != null) {
      forget(temporary);
    }
  }

  /** Aborts unless committed. */
  @Override
  public void close() {
    abort();
  }

  /** An I/O failure while writing, as the one-line error of this output (and aborts it). */
  public OutputFileException failure(IOException cause) {
    abort();
    return new OutputFileException(flag, shownPath, "cannot write (" + cause.getMessage() + ")");
  }

  /** Temporary files not yet committed or aborted (for tests and the shutdown hook). */
  static Set<Path> liveTemporaries() {
    return Set.copyOf(LIVE_TEMPORARIES);
  }

  /** The path to replace: a symbolic link's final target (so the link survives), else the path. */
  private static Path realTarget(Path path) throws IOException {
    Path current = path.toAbsolutePath();
    for (int hops = 0; hops < 40 && Files.isSymbolicLink(current); hops++) {
      Path link = Files.readSymbolicLink(current);
      current = current.getParent().resolve(link).normalize();
    }
    if (Files.isSymbolicLink(current)) {
      throw new IOException("too many levels of symbolic links");
    }
    return current;
  }

  private static Path createTemporary(Path target) throws IOException {
    installHook();
    Path directory = target.getParent();
    String base = "." + target.getFileName() + TEMPORARY_MARKER + ProcessHandle.current().pid();
    for (int attempt = 0; ; attempt++) {
      Path temporary = directory.resolve(attempt == 0 ? base : base + "-" + attempt);
      try {
        // Registered before it exists, so an interrupt between the two never leaves it behind.
        LIVE_TEMPORARIES.add(temporary);
        return Files.createFile(temporary);
      } catch (FileAlreadyExistsException e) {
        LIVE_TEMPORARIES.remove(temporary);
        // Another output of this process to the same name, or a leftover: take the next name.
      } catch (IOException | RuntimeException e) {
        LIVE_TEMPORARIES.remove(temporary);
        throw e;
      }
    }
  }

  /** Gives the temporary file the existing target's permissions and, where allowed, owner. */
  private static void copyAttributes(Path target, Path temporary) throws IOException {
    if (!Files.isRegularFile(target)) {
      return;
    }
    PosixFileAttributeView view =
        Files.getFileAttributeView(
            temporary, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    if (view == null) {
      return;
    }
    PosixFileAttributes existing = Files.readAttributes(target, PosixFileAttributes.class);
    view.setPermissions(existing.permissions());
    try {
      view.setGroup(existing.group());
      view.setOwner(existing.owner());
    } catch (IOException e) {
      // Only root may give a file away; for everyone else the writer owns the new file.
    }
  }

  private static void forget(Path temporary) {
    try {
      Files.deleteIfExists(temporary);
    } catch (IOException e) {
      // Left for the shutdown hook; the target was never touched.
      releaseFromHook(temporary);
      return;
    }
    LIVE_TEMPORARIES.remove(temporary);
    releaseFromHook(temporary);
  }

  /** The owner is done with {@code temporary}: a hook waiting for it may go on. */
  private static void releaseFromHook(Path temporary) {
    if (FINISHED_BY_OWNER.remove(temporary)) {
      synchronized (FINISHED_SIGNAL) {
        FINISHED_SIGNAL.notifyAll();
      }
    }
  }

  /**
   * The shutdown hook: removes unmarked temporary files at once, gives the owners of marked ones a
   * bounded time to finish them, then removes whatever is left.
   */
  private static void removeTemporariesOnExit() {
    removeLive(temporary -> !FINISHED_BY_OWNER.contains(temporary));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FINISH_ON_INTERRUPT_SECONDS);
    synchronized (FINISHED_SIGNAL) {
      long remaining;
      while (!FINISHED_BY_OWNER.isEmpty() && (remaining = deadline - System.nanoTime()) > 0) {
        try {
          FINISHED_SIGNAL.wait(Math.max(1, remaining / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    removeLive(temporary -> true);
  }

  private static void removeLive(Predicate<Path> which) {
    for (Path temporary : LIVE_TEMPORARIES) {
      if (which.test(temporary)) {
        try {
          Files.deleteIfExists(temporary);
        } catch (IOException e) {
          // Best effort while the process ends.
        }
      }
    }
  }

  private static void installHook() {
    if (hookInstalled) {
      return;
    }
    synchronized (OutputFile.class) {
      if (hookInstalled) {
        return;
      }
      try {
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(OutputFile::removeTemporariesOnExit, "mmuemu-remove-temporary-files"));
      } catch (IllegalStateException e) {
        // Already shutting down: the caller's abort removes its file.
      }
      hookInstalled = true;
    }
  }

  private static Path parentOf(Path path) {
    Path parent = path.toAbsolutePath().getParent();
    return parent == null ? path : parent;
  }

  /** Standard output: flushed, never closed. */
  private static final class NonClosing extends FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      out.write(bytes, offset, length);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
