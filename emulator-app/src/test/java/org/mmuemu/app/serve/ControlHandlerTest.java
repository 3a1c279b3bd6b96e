package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON-lines protocol as a client sees it, on an EmbeddedChannel: framing, malformed lines,
 * unknown ops, oversized lines, authentication, and the checks a {@code run} request passes before
 * it takes a run slot. Runs are handed to a collecting executor and never executed here (the real
 * ones run in ControlServerIT).
 */
final class ControlHandlerTest {
  /** Keeps submitted runs without running them. */
  private static final class CollectingExecutor implements Executor {
    final List<Runnable> submitted = new ArrayList<>();

    @Override
    public void execute(Runnable command) {
      submitted.add(command);
    }
  }

  private final CollectingExecutor executor = new CollectingExecutor();

  private EmbeddedControl connection(ServerSettings settings) {
    return new EmbeddedControl(settings, executor);
  }

  @Test
  void twoRequestsInOneWrite_andOneSplitAcrossWrites_areAnsweredInOrder() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send("{\"id\":1,\"op\":\"hello\"}\n{\"id\":2,\"op\":\"status\"}\n{\"id\":\"th");
    c.send("ree\",\"op\":\"hello\"}\n");

    List<JsonNode> responses = c.responses();

    assertThat(responses).extracting(r -> r.get("id").asText()).containsExactly("1", "2", "three");
    assertThat(responses)
        .extracting(r -> r.get("type").asText())
        .containsExactly("hello", "status", "hello");
    assertThat(responses.get(2).get("id").isTextual()).isTrue();
    assertThat(responses.get(0).get("ops"))
        .extracting(JsonNode::asText)
        .containsExactly("hello", "list", "run", "cancel", "status");
  }

  @Test
  void crlfLineEnds_andBlankLines_areAccepted() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send("\r\n\n{\"id\":7,\"op\":\"hello\"}\r\n");

    assertThat(c.onlyResponse().get("id").asInt()).isEqualTo(7);
  }

  @Test
  void malformedJson_errorWithNullId_andTheConnectionStaysUsable() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send("{\"id\":1,\"op\":\n");

    JsonNode error = c.onlyResponse();
    assertThat(error.get("id").isNull()).isTrue();
    assertThat(error.get("type").asText()).isEqualTo("error");
    assertThat(error.get("code").asText()).isEqualTo(Messages.MALFORMED);
    assertThat(error.get("message").asText()).startsWith("not JSON: ");

    c.send("{\"id\":2,\"op\":\"hello\"}\n");
    assertThat(c.onlyResponse().get("type").asText()).isEqualTo("hello");
    assertThat(c.channel.isActive()).isTrue();
  }

  @Test
  void notAnObject_orTrailingGarbage_isMalformed() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send("[1,2]\n{\"id\":1,\"op\":\"hello\"} x\n");

    assertThat(c.responses())
        .extracting(r -> r.get("code").asText())
        .containsExactly(Messages.MALFORMED, Messages.MALFORMED);
  }

  @Test
  void missingOrNonScalarId_badRequestWithNullId() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send("{\"op\":\"hello\"}\n{\"id\":[1],\"op\":\"hello\"}\n");

    List<JsonNode> responses = c.responses();
    assertThat(responses)
        .extracting(r -> r.get("code").asText())
        .containsExactly(Messages.BAD_REQUEST, Messages.BAD_REQUEST);
    assertThat(responses).allMatch(r -> r.get("id").isNull());
    assertThat(responses.get(0).get("message").asText()).startsWith("/id: missing");
  }

  @Test
  void unknownOp_errorEchoesTheIdAndListsTheOps() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send("{\"id\":5,\"op\":\"reboot\"}\n");

    JsonNode error = c.onlyResponse();
    assertThat(error.get("id").asInt()).isEqualTo(5);
    assertThat(error.get("code").asText()).isEqualTo(Messages.UNKNOWN_OP);
    assertThat(error.get("message").asText())
        .isEqualTo("/op: \"reboot\" (expected one of: hello, list, run, cancel, status)");
  }

  @Test
  void oversizedLine_isReportedOnce_andTheNextLineIsAnswered() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings().withMaxLineBytes(256));
    String huge = "{\"id\":1,\"op\":\"hello\",\"pad\":\"" + "x".repeat(1000) + "\"}\n";
    // Sent in pieces, as a socket would deliver it.
    c.send(huge.substring(0, 300));
    c.send(huge.substring(300, 700));
    c.send(huge.substring(700) + "{\"id\":2,\"op\":\"hello\"}\n");

    List<JsonNode> responses = c.responses();
    assertThat(responses).hasSize(2);
    assertThat(responses.get(0).get("code").asText()).isEqualTo(Messages.LINE_TOO_LONG);
    assertThat(responses.get(0).get("id").isNull()).isTrue();
    assertThat(responses.get(0).get("message").asText()).contains("256 bytes");
    assertThat(responses.get(1).get("id").asInt()).isEqualTo(2);
    assertThat(responses.get(1).get("type").asText()).isEqualTo("hello");
  }

  @Test
  void tokenServer_unauthenticatedClient_canOnlySayHello() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings().withToken("s3cret-s3cret-s3cret"));
    c.send(
        "{\"id\":1,\"op\":\"list\"}\n{\"id\":2,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\","
            + "\"workload\":\"stream\"}\n{\"id\":3,\"op\":\"status\"}\n");

    List<JsonNode> responses = c.responses();
    assertThat(responses)
        .extracting(r -> r.get("code").asText())
        .containsOnly(Messages.UNAUTHORIZED);
    assertThat(responses).extracting(r -> r.get("id").asInt()).containsExactly(1, 2, 3);
    assertThat(executor.submitted).isEmpty();
    assertThat(c.context.runSlots().availablePermits()).isEqualTo(c.context.settings().maxRuns());
  }

  @Test
  void tokenServer_wrongTokenRefused_rightTokenUnlocks() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings().withToken("s3cret-s3cret-s3cret"));
    c.send(
        "{\"id\":1,\"op\":\"hello\",\"token\":\"s3cret-s3cret-s3cre\"}\n{\"id\":2,\"op\":\"list\"}\n");
    assertThat(c.responses())
        .extracting(r -> r.get("code").asText())
        .containsExactly(Messages.UNAUTHORIZED, Messages.UNAUTHORIZED);

    c.send(
        "{\"id\":3,\"op\":\"hello\",\"token\":\"s3cret-s3cret-s3cret\"}\n{\"id\":4,\"op\":\"list\"}\n");
    List<JsonNode> responses = c.responses();
    assertThat(responses).extracting(r -> r.get("type").asText()).containsExactly("hello", "list");
    assertThat(responses.get(1).get("machines"))
        .extracting(m -> m.get("name").asText())
        .contains("arm64-neoverse-n1", "x86-skylake");
  }

  @Test
  void tokenServer_threeWrongTokens_closeTheConnection() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings().withToken("s3cret-s3cret-s3cret"));
    c.send(
        "{\"id\":1,\"op\":\"hello\",\"token\":\"a\"}\n{\"id\":2,\"op\":\"hello\",\"token\":\"b\"}\n");
    assertThat(c.channel.isActive()).isTrue();

    c.send("{\"id\":3,\"op\":\"hello\"}\n");

    assertThat(c.responses())
        .extracting(r -> r.get("code").asText())
        .containsOnly(Messages.UNAUTHORIZED);
    assertThat(c.channel.isActive()).isFalse();
  }

  @Test
  void list_namesMachinesWorkloadsScenariosAndEventKinds() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send("{\"id\":1,\"op\":\"list\"}\n");

    JsonNode list = c.onlyResponse();
    assertThat(list.get("workloads"))
        .extracting(w -> w.get("name").asText())
        .contains("stream", "munmap-storm");
    assertThat(list.get("scenarios").isArray()).isTrue();
    assertThat(list.get("events"))
        .extracting(e -> e.get("kind").asText())
        .contains(
            "tlb.hit",
            "tlb.miss",
            "walk",
            "invalidate",
            "barrier",
            "ipi.send",
            "fault",
            "kernel.call");
    JsonNode walk = null;
    for (JsonNode kind : list.get("events")) {
      if (kind.get("kind").asText().equals("walk")) {
        walk = kind;
      }
    }
    assertThat(walk.get("fields"))
        .extracting(JsonNode::asText)
        .containsExactly("cycle", "core", "va", "pa", "cycles");
  }

  @Test
  void run_withAServerPath_isRefusedWithoutReadingTheFile(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("machine.json");
    Files.writeString(config, "{\"extends\":\"arm64-neoverse-n1\"}");
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send("{\"id\":1,\"op\":\"run\",\"machine\":\"" + config + "\",\"workload\":\"stream\"}\n");

    JsonNode error = c.onlyResponse();
    assertThat(error.get("code").asText()).isEqualTo(Messages.BAD_REQUEST);
    assertThat(error.get("message").asText())
        .startsWith("/machine: " + config + " (expected: a built-in machine");
    assertThat(executor.submitted).isEmpty();
  }

  @Test
  void run_badMembers_areNamedByPointer() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send(
        "{\"id\":1,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\","
            + "\"events\":[\"walk\",\"tlb.hitt\"]}\n");
    c.send("{\"id\":2,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"streem\"}\n");
    c.send(
        "{\"id\":3,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\",\"sample\":0}\n");
    c.send(
        "{\"id\":4,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\",\"evnts\":[]}\n");
    c.send(
        "{\"id\":5,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\","
            + "\"onSlowClient\":\"wait\"}\n");

    List<String> messages = c.responses().stream().map(r -> r.get("message").asText()).toList();

    assertThat(messages.get(0)).startsWith("/events/1: tlb.hitt (expected one of: tlb.hit, ");
    assertThat(messages.get(1))
        .isEqualTo(
            "/workload: streem (expected one of: stream, munmap-storm, test_vmalloc, dontneed-touch, fork-exit, oom-reap, "
                + "fault-scaling, writeback, fork-cow, numa-scan)");
    assertThat(messages.get(2)).isEqualTo("/sample: 0 (expected: an integer >= 1)");
    assertThat(messages.get(3)).startsWith("/evnts: unknown member (expected: ");
    assertThat(messages.get(4))
        .isEqualTo("/onSlowClient: \"wait\" (expected: \"pause\" or \"drop\")");
    assertThat(executor.submitted).isEmpty();
  }

  @Test
  void run_beyondMaxRuns_isRefusedBusy_andTheSlotReturnsWhenARunEnds() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings().withMaxRuns(1));
    String run =
        ",\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\","
            + "\"params\":{\"accesses\":10,\"threads\":1}}\n";
    c.send("{\"id\":1" + run + "{\"id\":2" + run);

    List<JsonNode> responses = c.responses();
    assertThat(responses.get(0).get("type").asText()).isEqualTo("accepted");
    assertThat(responses.get(1).get("code").asText()).isEqualTo(Messages.BUSY);
    assertThat(responses.get(1).get("message").asText()).contains("1 runs in flight");
    assertThat(executor.submitted).hasSize(1);

    // Run the accepted run here, on the test thread, then try again.
    executor.submitted.get(0).run();
    List<JsonNode> afterRun = c.responses();
    assertThat(afterRun.get(afterRun.size() - 1).get("type").asText()).isEqualTo("result");
    c.send("{\"id\":3" + run);
    assertThat(c.responses()).extracting(r -> r.get("type").asText()).containsExactly("accepted");
  }

  @Test
  void run_sameIdAsARunInProgress_isRefused() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    String run =
        "{\"id\":1,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\"}\n";
    c.send(run + run);

    List<JsonNode> responses = c.responses();
    assertThat(responses.get(1).get("code").asText()).isEqualTo(Messages.BAD_REQUEST);
    assertThat(responses.get(1).get("message").asText())
        .startsWith("/id: 1 is a run still in progress");
  }

  @Test
  void cancel_ofAnUnknownRun_isAnError_ofAKnownRun_endsItCancelled() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send("{\"id\":1,\"op\":\"cancel\",\"run\":9}\n");
    assertThat(c.onlyResponse().get("code").asText()).isEqualTo(Messages.UNKNOWN_RUN);

    c.send(
        "{\"id\":\"r\",\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\"}\n"
            + "{\"id\":2,\"op\":\"cancel\",\"run\":\"r\"}\n");
    List<JsonNode> responses = c.responses();
    assertThat(responses)
        .extracting(r -> r.get("type").asText())
        .containsExactly("accepted", "cancelled");

    executor.submitted.get(0).run();
    JsonNode end = c.onlyResponse();
    assertThat(end.get("id").asText()).isEqualTo("r");
    assertThat(end.get("code").asText()).isEqualTo(Messages.CANCELLED);
    assertThat(c.context.runSlots().availablePermits()).isEqualTo(c.context.settings().maxRuns());
    assertThat(c.context.metrics().runsFinished(ServerMetrics.Outcome.cancelled)).isEqualTo(1.0);
  }

  @Test
  void run_inlineConfigWithAProblem_reportsEveryPointer() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send(
        "{\"id\":1,\"op\":\"run\",\"machine\":{\"extends\":\"arm64-neoverse-n1\",\"cores\":0},"
            + "\"workload\":\"stream\"}\n");
    assertThat(c.onlyResponse().get("type").asText()).isEqualTo("accepted");

    executor.submitted.get(0).run();
    JsonNode error = c.onlyResponse();
    assertThat(error.get("code").asText()).isEqualTo(Messages.BAD_INPUT);
    assertThat(error.get("message").asText()).startsWith("/cores: 0");
    assertThat(error.get("problems")).isNotEmpty();
  }

  @Test
  void run_inlineConfigExtendingAFile_isRefused(@TempDir Path dir) throws Exception {
    Path parent = dir.resolve("parent.json");
    Files.writeString(parent, "{\"extends\":\"arm64-neoverse-n1\"}");
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send(
        "{\"id\":1,\"op\":\"run\",\"machine\":{\"extends\":\""
            + parent
            + "\"},\"workload\":\"stream\"}\n");
    c.responses();

    executor.submitted.get(0).run();
    JsonNode error = c.onlyResponse();
    assertThat(error.get("code").asText()).isEqualTo(Messages.BAD_INPUT);
    assertThat(error.get("message").asText())
        .contains("/extends")
        .contains("an inline config cannot extend files");
  }

  @Test
  void disconnect_cancelsTheClientsRuns() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings());
    c.send("{\"id\":1,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\"}\n");
    c.responses();
    assertThat(c.context.metrics().clients()).isEqualTo(1);

    c.channel.close();
    executor.submitted.get(0).run();

    assertThat(c.context.metrics().runsFinished(ServerMetrics.Outcome.cancelled)).isEqualTo(1.0);
    assertThat(c.context.metrics().runsInFlight()).isZero();
    assertThat(c.context.metrics().clients()).isZero();
    assertThat(c.context.sessions()).isEmpty();
  }

  @Test
  void clientSendingFasterThanItReads_stopsBeingRead_untilItsRepliesAreWritten() throws Exception {
    EmbeddedControl c = connection(EmbeddedControl.settings().withQueueEvents(16));
    // Keep the replies queued: the channel refuses writes while its 1-byte buffer is "full".
    c.channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(0, 1));
    byte[] earlier = "{\"id\":0}\n".getBytes(StandardCharsets.UTF_8);
    c.channel
        .unsafe()
        .outboundBuffer()
        .addMessage(Unpooled.wrappedBuffer(earlier), earlier.length, c.channel.newPromise());
    assertThat(c.channel.isWritable()).isFalse();

    c.send("{\"id\":1,\"op\":\"status\"}\n".repeat(OutboundQueue.CONTROL_BACKLOG + 40));

    assertThat(c.channel.config().isAutoRead()).as("reading paused").isFalse();

    c.channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1 << 15, 1 << 16));
    c.channel.flushOutbound();
    List<JsonNode> replies = c.responses();
    assertThat(replies).hasSize(1 + OutboundQueue.CONTROL_BACKLOG + 40);
    assertThat(c.channel.config().isAutoRead()).as("reading resumed").isTrue();
  }
}
