package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which Java the {@code ./mmuemu} launcher runs: {@code MMUEMU_JAVA} when set; otherwise {@code
 * JAVA_HOME} or the PATH's, unless that is older than 21 and a newer JDK is installed, then the
 * newest one. Fake JDKs (shell scripts that say their version and which one ran) stand in for real
 * ones, so the test needs none installed.
 */
final class LauncherIT {
  private static final Path LAUNCHER = Paths.get("..", "mmuemu").toAbsolutePath().normalize();

  @TempDir Path dir;
  private Path jvms;

  @BeforeEach
  void fakeJdks() throws IOException {
    assumeTrue(Files.isExecutable(Paths.get("/bin/bash")), "the launcher is a bash script");
    assumeTrue(Files.isRegularFile(Paths.get("target", "mmuemu.jar")), "the jar is built");
    jvms = dir.resolve("jvm");
    fakeJdk(jvms.resolve("jdk-21"), "21.0.4");
    fakeJdk(jvms.resolve("jdk-22"), "22.0.1");
    fakeJdk(dir.resolve("old/jdk-17"), "17.0.15");
    fakeJdk(dir.resolve("older/jdk-11"), "11.0.2");
  }

  // A JDK home whose bin/java prints its version for -version and otherwise names itself.
  private static void fakeJdk(Path home, String version) throws IOException {
    Path java = home.resolve("bin/java");
    Files.createDirectories(java.getParent());
    Files.writeString(home.resolve("release"), "JAVA_VERSION=\"" + version + "\"\n");
    Files.writeString(
        java,
        "#!/bin/bash\n"
            + "if [[ \"$1\" == -version ]]; then echo 'openjdk version \""
            + version
            + "\"' >&2; exit 0; fi\n"
            + "echo \"ran "
            + home.getFileName()
            + "\"\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private record Outcome(int exit, String stdout, String stderr) {}

  private Outcome launch(Map<String, String> env) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(LAUNCHER.toString(), "--version");
    builder.environment().remove("JAVA_HOME");
    builder.environment().remove("MMUEMU_JAVA");
    builder.environment().put("PATH", "/usr/bin:/bin");
    builder.environment().put("MMUEMU_JVM_DIRS", jvms.toString());
    builder.environment().putAll(env);
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Outcome(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8).strip(),
        Files.readString(err, StandardCharsets.UTF_8).strip());
  }

  private String onPath(String jdk) {
    return dir.resolve(jdk).resolve("bin") + ":/usr/bin:/bin";
  }

  @Test
  void java17OnThePath_andNewerOnesInstalled_runsTheNewest() throws Exception {
    assertThat(launch(Map.of("PATH", onPath("old/jdk-17"))).stdout()).isEqualTo("ran jdk-22");
  }

  @Test
  void java17InJavaHome_andNothingNewerInstalled_runsIt() throws Exception {
    Outcome outcome =
        launch(
            Map.of(
                "JAVA_HOME",
                dir.resolve("old/jdk-17").toString(),
                "MMUEMU_JVM_DIRS",
                dir.resolve("none").toString()));
    assertThat(outcome.stdout()).isEqualTo("ran jdk-17");
  }

  @Test
  void java21InJavaHome_isKept_thoughANewerOneIsInstalled() throws Exception {
    Outcome outcome = launch(Map.of("JAVA_HOME", jvms.resolve("jdk-21").toString()));
    assertThat(outcome.stdout()).isEqualTo("ran jdk-21");
  }

  @Test
  void mmuemuJava_winsOverEverything() throws Exception {
    Outcome outcome =
        launch(
            Map.of(
                "MMUEMU_JAVA",
                dir.resolve("old/jdk-17/bin/java").toString(),
                "JAVA_HOME",
                jvms.resolve("jdk-21").toString()));
    assertThat(outcome.stdout()).isEqualTo("ran jdk-17");
  }

  @Test
  void mmuemuJava_thatIsNoBinary_isAOneLineError() throws Exception {
    Outcome outcome = launch(Map.of("MMUEMU_JAVA", dir.resolve("nope").toString()));
    assertThat(outcome.exit()).isEqualTo(2);
    assertThat(outcome.stdout()).isEmpty();
    assertThat(outcome.stderr())
        .isEqualTo(
            "mmuemu: MMUEMU_JAVA=" + dir.resolve("nope") + " is not an executable java binary");
  }

  @Test
  void onlyJava11_isRefused() throws Exception {
    Outcome outcome =
        launch(
            Map.of(
                "PATH", onPath("older/jdk-11"), "MMUEMU_JVM_DIRS", dir.resolve("none").toString()));
    assertThat(outcome.exit()).isEqualTo(2);
    assertThat(outcome.stderr()).contains("is Java 11").contains("needs Java 17 or newer");
  }
}
