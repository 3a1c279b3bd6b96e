package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The HTML reports in a real browser: Debian's Chromium, headless, loads the compare and sweep
 * reports through the DevTools protocol (loopback only); the test asserts that the page logged no
 * console error or exception and that every chart has a non-empty bounding box, and keeps a
 * screenshot in {@code target/browser-check/}. Without Chromium the test is skipped with a message
 * naming the package to install (CI installs it: {@code .ci/run}).
 */
final class ReportBrowserIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");
  private static final Path SCREENSHOTS = Path.of("target/browser-check");

  @TempDir Path dir;

  @Test
  void compareReport_loadsWithoutConsoleErrorsAndEveryChartIsDrawn() throws Exception {
    Path html = dir.resolve("report.html");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            Stream.concat("compare", CompareCommandTest.TINY, "--report", html.toString(), "-q"));
    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
    checkInBrowser(html, "compare-report.png", 10);
  }

  @Test
  void sweepReport_loadsWithoutConsoleErrorsAndEveryChartIsDrawn() throws Exception {
    Files.writeString(
        dir.resolve("grid.json"),
        """
        {"machines": ["arm64-neoverse-n1", "x86-skylake"], "workload": "munmap-storm",
         "params": {"threads": [1, 2], "iterations": [2]}, "sets": {"/cores": [2]}}
        """);
    Path plan = dir.resolve("plan.json");
    assertThat(
            CliTestSupport.run(
                    "sweep",
                    "expand",
                    "--grid",
                    dir.resolve("grid.json").toString(),
                    "--plan",
                    plan.toString())
                .exitCode())
        .isEqualTo(ExitCodes.OK);
    assertThat(
            CliTestSupport.run(
                    "sweep",
                    "run",
                    "--plan",
                    plan.toString(),
                    "--all",
                    "--out-dir",
                    dir.resolve("r").toString(),
                    "-q")
                .exitCode())
        .isEqualTo(ExitCodes.OK);
    Path html = dir.resolve("sweep.html");
    assertThat(
            CliTestSupport.run(
                    "sweep",
                    "aggregate",
                    "--plan",
                    plan.toString(),
                    "--out-dir",
                    dir.resolve("r").toString(),
                    "--report",
                    html.toString())
                .exitCode())
        .isEqualTo(ExitCodes.OK);
    checkInBrowser(html, "sweep-report.png", 3);
  }

  @Test
  void brokenPage_consoleErrorAndEmptyChartAreCaught() throws Exception {
    Path html = dir.resolve("broken.html");
    Files.writeString(
        html,
        "<!DOCTYPE html><html><body><svg class=\"chart\" id=\"empty\" width=\"0\" "
            + "height=\"0\"></svg><script>console.error('broken on purpose');</script></body></html>");
    Findings findings = load(html, "broken.png");
    assertThat(findings.errors())
        .anySatisfy(error -> assertThat(error).contains("broken on purpose"));
    assertThat(findings.charts().get(0).get("width").asDouble()).isZero();
  }

  /** What the browser saw: each chart's id and box, and the console errors and exceptions. */
  private record Findings(List<JsonNode> charts, List<String> errors) {}

  private void checkInBrowser(Path html, String screenshotName, int minimumCharts)
      throws Exception {
    Findings findings = load(html, screenshotName);
    assertThat(findings.charts().size())
        .as("charts in %s", html)
        .isGreaterThanOrEqualTo(minimumCharts);
    for (JsonNode chart : findings.charts()) {
      assertThat(chart.get("width").asDouble())
          .as("width of chart %s", chart.get("id"))
          .isPositive();
      assertThat(chart.get("height").asDouble())
          .as("height of chart %s", chart.get("id"))
          .isPositive();
    }
    assertThat(findings.errors()).as("console errors and exceptions of %s", html).isEmpty();
  }

  private Findings load(Path html, String screenshotName) throws Exception {
    String chromium = findChromium();
    Assumptions.assumeTrue(
        chromium != null,
        "skipped: Chromium is not installed; install Debian's package "
            + "'chromium' (apt-get install -y chromium) to run the browser check of the HTML reports");
    Process browser =
        new ProcessBuilder(
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--user-data-dir=" + dir.resolve("profile"),
                "--window-size=1400,1800",
                "about:blank")
            .redirectErrorStream(true)
            .start();
    try {
      String browserUrl = devToolsUrl(browser);
      URI browserUri = URI.create(browserUrl);
      HttpClient http = HttpClient.newHttpClient();
      String list =
          http.send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://"
                                  + browserUri.getHost()
                                  + ":"
                                  + browserUri.getPort()
                                  + "/json/list"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      String pageUrl = null;
      for (JsonNode target : JSON.readTree(list)) {
        if (target.path("type").asText().equals("page")) {
          pageUrl = target.get("webSocketDebuggerUrl").asText();
          break;
        }
      }
      assertThat(pageUrl).as("a page target in %s", list).isNotNull();
      try (DevTools devTools = new DevTools(http, URI.create(pageUrl))) {
        devTools.call("Runtime.enable", Map.of());
        devTools.call("Log.enable", Map.of());
        devTools.call("Page.enable", Map.of());
        devTools.clearEvents();
        devTools.call("Page.navigate", Map.of("url", html.toUri().toString()));
        devTools.awaitEvent("Page.loadEventFired");
        JsonNode boxes =
            devTools.call(
                "Runtime.evaluate",
                Map.of(
                    "returnByValue",
                    true,
                    "expression",
                    "JSON.stringify([...document.querySelectorAll('svg.chart')].map(e => { const r = "
                        + "e.getBoundingClientRect(); return {id: e.id, width: r.width, height: r.height}; }))"));
        List<JsonNode> charts = new ArrayList<>();
        JSON.readTree(boxes.get("result").get("value").asText()).forEach(charts::add);
        JsonNode shot =
            devTools.call(
                "Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true));
        Files.createDirectories(SCREENSHOTS);
        Files.write(
            SCREENSHOTS.resolve(screenshotName),
            Base64.getDecoder().decode(shot.get("data").asText()));
        // Console messages can trail the load event by a moment.
        Thread.sleep(200);
        return new Findings(charts, devTools.errors());
      }
    } finally {
      // Chromium's helper processes (renderer, GPU, zygote) outlive a stopped parent.
      List<ProcessHandle> family = new ArrayList<>(browser.descendants().toList());
      browser.destroy();
      family.forEach(ProcessHandle::destroy);
      if (!browser.waitFor(10, TimeUnit.SECONDS)) {
        browser.destroyForcibly();
      }
      for (ProcessHandle child : family) {
        try {
          child.onExit().get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          child.destroyForcibly();
        }
      }
    }
  }

  private static String findChromium() {
    for (String candidate : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    return null;
  }

  private static String devToolsUrl(Process browser) throws Exception {
    CompletableFuture<String> url =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                BufferedReader reader =
                    new BufferedReader(
                        new InputStreamReader(browser.getInputStream(), StandardCharsets.UTF_8));
                StringBuilder seen = new StringBuilder();
                for (String line; (line = reader.readLine()) != null; ) {
                  Matcher matcher = DEVTOOLS.matcher(line);
                  if (matcher.find()) {
                    // Keep draining the browser's output so it never blocks on a full pipe.
                    Thread drain =
                        new Thread(
                            () -> {
                              try {
                                reader.transferTo(java.io.Writer.nullWriter());
                              } catch (IOException e) {
                                // The browser was stopped.
                              }
                            });
                    drain.setDaemon(true);
                    drain.start();
                    return matcher.group(1);
                  }
                  seen.append(line).append('\n');
                }
                throw new IllegalStateException(
                    "Chromium exited without a DevTools endpoint:\n" + seen);
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    return url.get(60, TimeUnit.SECONDS);
  }

  /** A minimal DevTools protocol client: numbered calls, collected events and errors. */
  private static final class DevTools implements WebSocket.Listener, AutoCloseable {
    private final WebSocket socket;
    private final AtomicInteger nextId = new AtomicInteger(1);
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<JsonNode> events = new CopyOnWriteArrayList<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final StringBuilder partial = new StringBuilder();

    DevTools(HttpClient http, URI page) throws Exception {
      socket = http.newWebSocketBuilder().buildAsync(page, this).get(30, TimeUnit.SECONDS);
    }

    JsonNode call(String method, Map<String, Object> params) throws Exception {
      int id = nextId.getAndIncrement();
      CompletableFuture<JsonNode> reply = new CompletableFuture<>();
      pending.put(id, reply);
      ObjectNode message = JSON.createObjectNode();
      message.put("id", id);
      message.put("method", method);
      message.set("params", JSON.valueToTree(params));
      socket.sendText(JSON.writeValueAsString(message), true).get(30, TimeUnit.SECONDS);
      JsonNode response = reply.get(60, TimeUnit.SECONDS);
      assertThat(response.has("error")).as("%s: %s", method, response).isFalse();
      return response.get("result");
    }

    void clearEvents() {
      events.clear();
    }

    void awaitEvent(String method) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        for (JsonNode event : events) {
          if (event.path("method").asText().equals(method)) {
            return;
          }
        }
        Thread.sleep(20);
      }
      throw new AssertionError("no " + method + " within 60 s");
    }

    List<String> errors() {
      return new ArrayList<>(errors);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String text = partial.toString();
        partial.setLength(0);
        try {
          JsonNode message = JSON.readTree(text);
          if (message.has("id")) {
            CompletableFuture<JsonNode> reply = pending.remove(message.get("id").asInt());
            if (reply != null) {
              reply.complete(message);
            }
          } else {
            events.add(message);
            recordError(message);
          }
        } catch (IOException e) {
          errors.add("unreadable DevTools message: " + text);
        }
      }
      webSocket.request(1);
      return null;
    }

    private void recordError(JsonNode message) {
      String method = message.path("method").asText();
      JsonNode params = message.path("params");
      if (method.equals("Runtime.exceptionThrown")) {
        errors.add("exception: " + params.path("exceptionDetails"));
      } else if (method.equals("Runtime.consoleAPICalled")
          && params.path("type").asText().equals("error")) {
        errors.add("console.error: " + params.path("args"));
      } else if (method.equals("Log.entryAdded")
          && params.path("entry").path("level").asText().equals("error")) {
        errors.add("log: " + params.path("entry"));
      }
    }

    @Override
    public void close() {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
    }
  }

  /** Joins a first argument, an array and more arguments. */
  private static final class Stream {
    static String[] concat(String first, String[] middle, String... rest) {
      List<String> args = new ArrayList<>();
      args.add(first);
      args.addAll(List.of(middle));
      args.addAll(List.of(rest));
      return args.toArray(String[]::new);
    }
  }
}
