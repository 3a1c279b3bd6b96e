package org.mmuemu.app.serve;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * One client's bounded queue of outgoing messages, between the run threads that produce them and
 * the channel's event loop that writes them.
 *
 * <p>Producers (run threads, and the event loop itself for replies) {@link #offerEvent} or {@link
 * #offerControl}; the event loop {@link #drain}s while the channel {@link Channel#isWritable() is
 * writable} and is asked to drain again when it becomes writable. At most {@code capacityEvents}
 * events wait here: a run that finds the queue full either waits for room (pause mode: nothing is
 * lost, the run is slowed to the client's pace) or has its event refused (drop mode: the caller
 * counts the drop). Control messages (replies, progress, results, errors) are never refused and
 * keep their place in the order, so a run's result always follows its last event. {@link #close}
 * (the client went away) empties the queue and wakes every waiting producer.
 *
 * <p>Thread-safe: one lock guards the deque; writes to the channel happen only on its event loop.
 */
final class OutboundQueue {
  /** One queued message: its text (one JSON object, no newline) and whether it is an event. */
  private record Item(String text, boolean event) {}

  /**
   * Replies allowed to wait beyond the event capacity before the client's requests are not read.
   */
  static final int CONTROL_BACKLOG = 256;

  private final Channel channel;
  private final int capacityEvents;
  private final ServerMetrics metrics;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notFull = lock.newCondition();
  private final ArrayDeque<Item> items = new ArrayDeque<>();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final Runnable drainTask = this::drain;
  private int queuedEvents;
  private boolean closed;

  /** Event loop only: close the channel once everything queued has been written. */
  private boolean closeWhenEmpty;

  /**
   * @param channel where the messages go; its pipeline encodes {@code String}s
   * @param capacityEvents events held before producers pause or drop, at least 1
   */
  OutboundQueue(Channel channel, int capacityEvents, ServerMetrics metrics) {
    this.channel = channel;
    this.capacityEvents = capacityEvents;
    this.metrics = metrics;
  }

  /** Queues a control message; never refused, except after {@link #close}. Any thread. */
  void offerControl(String text) {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      items.add(new Item(text, false));
    } finally {
      lock.unlock();
    }
    scheduleDrain();
  }

  /**
   * Queues an event. Never call on the event loop in pause mode (it would wait for itself).
   *
   * @param pauseWhenFull wait for room when the queue is full (else refuse at once)
   * @param stop polled while waiting; true gives up
   * @param onPause called once if this call had to wait
   * @return true when queued; false when refused (queue full in drop mode, closed, or stopped)
   */
  boolean offerEvent(String text, boolean pauseWhenFull, BooleanSupplier stop, Runnable onPause) {
    lock.lock();
    try {
      boolean paused = false;
      while (queuedEvents >= capacityEvents && !closed) {
        if (!pauseWhenFull || stop.getAsBoolean()) {
          return false;
        }
        if (!paused) {
          paused = true;
          onPause.run();
        }
        try {
          // Bounded wait: a cancel request or a close must be noticed even without a signal.
          notFull.await(50, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      if (closed) {
        return false;
      }
      items.add(new Item(text, true));
      queuedEvents++;
    } finally {
      lock.unlock();
    }
    scheduleDrain();
    return true;
  }

  /** Asks the event loop to drain (at most one drain task is pending at a time). Any thread. */
  void scheduleDrain() {
    if (drainScheduled.compareAndSet(false, true)) {
      try {
        channel.eventLoop().execute(drainTask);
      } catch (RejectedExecutionException e) {
        // The event loop has shut down with the server: there is no one left to write to.
        close();
      }
    }
  }

  /** Writes queued messages while the channel is writable, then flushes. Event loop only. */
  void drain() {
    drainScheduled.set(false);
    int written = 0;
    while (channel.isActive() && channel.isWritable()) {
      Item item;
      lock.lock();
      try {
        item = items.poll();
        if (item != null && item.event()) {
          queuedEvents--;
          notFull.signalAll();
        }
      } finally {
        lock.unlock();
      }
      if (item == null) {
        break;
      }
      channel.write(item.text(), channel.voidPromise());
      if (item.event()) {
        metrics.eventStreamed();
      }
      written++;
    }
    if (written > 0) {
      channel.flush();
    }
    if (!channel.config().isAutoRead() && size() <= readResumeSize()) {
      channel.config().setAutoRead(true);
    }
    if (closeWhenEmpty && size() == 0) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /**
   * Closes the channel after everything queued now and later has been written (the client
   * half-closed and its last run ended). Event loop only.
   */
  void closeWhenDrained() {
    closeWhenEmpty = true;
    drain();
  }

  /** Drops everything queued and refuses what comes; wakes waiting producers. Any thread. */
  void close() {
    lock.lock();
    try {
      closed = true;
      items.clear();
      queuedEvents = 0;
      notFull.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops reading requests while this client's queue is long (it sends requests faster than it
   * reads the answers), so replies cannot pile up without bound; {@link #drain} resumes reading
   * once half of the backlog is written. Event loop only.
   */
  void pauseReadingIfBacklogged() {
    if (size() > readPauseSize()) {
      channel.config().setAutoRead(false);
    }
  }

  private int readPauseSize() {
    return capacityEvents + CONTROL_BACKLOG;
  }

  private int readResumeSize() {
    return capacityEvents + CONTROL_BACKLOG / 2;
  }

  /** Messages waiting now. */
  int size() {
    lock.lock();
    try {
      return items.size();
    } finally {
      lock.unlock();
    }
  }
}
