package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.string.LineEncoder;
import io.netty.handler.codec.string.LineSeparator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The per-client queue between run threads and the event loop: bounded in events, control messages
 * never refused and kept in order, drains only while the channel is writable, a producer in pause
 * mode waits for room and is woken by a drain or a close.
 */
final class OutboundQueueTest {
  private final EmbeddedChannel channel =
      new EmbeddedChannel(new LineEncoder(LineSeparator.UNIX, StandardCharsets.UTF_8));
  private final ServerMetrics metrics = new ServerMetrics();

  private List<String> written() {
    channel.runPendingTasks();
    List<String> lines = new ArrayList<>();
    for (Object message = channel.readOutbound();
        message != null;
        message = channel.readOutbound()) {
      ByteBuf buf = (ByteBuf) message;
      lines.add(buf.toString(StandardCharsets.UTF_8).strip());
      buf.release();
    }
    return lines;
  }

  @Test
  void dropMode_refusesEventsBeyondCapacity_butNeverControlMessages() {
    OutboundQueue queue = new OutboundQueue(channel, 2, metrics);
    boolean[] accepted = new boolean[3];
    for (int i = 0; i < 3; i++) {
      accepted[i] = queue.offerEvent("e" + i, false, () -> false, () -> {});
    }
    queue.offerControl("result");

    assertThat(accepted).containsExactly(true, true, false);
    assertThat(written()).containsExactly("e0", "e1", "result");
    assertThat(queue.offerEvent("e3", false, () -> false, () -> {}))
        .as("room again after a drain")
        .isTrue();
  }

  @Test
  void drain_stopsWhileTheChannelIsUnwritable_andResumesLater() {
    channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1, 2));
    OutboundQueue queue = new OutboundQueue(channel, 10, metrics);
    for (int i = 0; i < 5; i++) {
      queue.offerControl("message-" + i);
    }

    queue.drain();
    assertThat(written()).as("one write fills the 2-byte buffer, then the drain stops").hasSize(1);
    assertThat(queue.size()).isEqualTo(4);

    channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1 << 15, 1 << 16));
    queue.drain();
    assertThat(written()).containsExactly("message-1", "message-2", "message-3", "message-4");
  }

  @Test
  void pauseMode_producerWaitsForRoom_andLosesNothing() throws Exception {
    OutboundQueue queue = new OutboundQueue(channel, 1, metrics);
    assertThat(queue.offerEvent("first", true, () -> false, () -> {})).isTrue();
    AtomicInteger pauses = new AtomicInteger();
    AtomicBoolean secondAccepted = new AtomicBoolean();
    Thread producer =
        new Thread(
            () ->
                secondAccepted.set(
                    queue.offerEvent("second", true, () -> false, pauses::incrementAndGet)));
    producer.start();
    while (pauses.get() == 0) {
      Thread.onSpinWait();
    }
    assertThat(producer.isAlive()).as("waiting for room").isTrue();

    queue.drain();
    producer.join(5000);

    assertThat(producer.isAlive()).isFalse();
    assertThat(secondAccepted).isTrue();
    assertThat(pauses.get()).isEqualTo(1);
    assertThat(written()).containsExactly("first", "second");
  }

  @Test
  void close_wakesAWaitingProducer_andEmptiesTheQueue() throws Exception {
    OutboundQueue queue = new OutboundQueue(channel, 1, metrics);
    queue.offerEvent("first", true, () -> false, () -> {});
    AtomicBoolean accepted = new AtomicBoolean(true);
    AtomicInteger pauses = new AtomicInteger();
    Thread producer =
        new Thread(
            () ->
                accepted.set(
                    queue.offerEvent("second", true, () -> false, pauses::incrementAndGet)));
    producer.start();
    while (pauses.get() == 0) {
      Thread.onSpinWait();
    }

    queue.close();
    producer.join(5000);

    assertThat(producer.isAlive()).isFalse();
    assertThat(accepted).isFalse();
    assertThat(queue.size()).isZero();
    queue.offerControl("late");
    assertThat(queue.size()).as("nothing is queued after close").isZero();
  }

  @Test
  void pauseMode_stopRequested_givesUpWaiting() throws Exception {
    OutboundQueue queue = new OutboundQueue(channel, 1, metrics);
    queue.offerEvent("first", true, () -> false, () -> {});
    AtomicBoolean stop = new AtomicBoolean();
    AtomicBoolean accepted = new AtomicBoolean(true);
    Thread producer =
        new Thread(() -> accepted.set(queue.offerEvent("second", true, stop::get, () -> {})));
    producer.start();
    stop.set(true);
    producer.join(5000);

    assertThat(producer.isAlive()).isFalse();
    assertThat(accepted).isFalse();
  }
}
