package org.mmuemu.app;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps the layering of ARCHITECTURE.md and the determinism rule: emulator-core depends on no
 * other module and no JSON, CLI or network library; ISA modules and kernel-mm never import each
 * other; nothing in a simulation package reads the wall clock or an unseeded random source.
 * The app's test classpath holds every module, so the rules see all main classes.
 */
final class ArchitectureTest {
  private static final String CORE = "org.mmuemu.core..";
  private static final String ARM64 = "org.mmuemu.isa.arm64..";
  private static final String X86 = "org.mmuemu.isa.x86..";
  private static final String KERNEL = "org.mmuemu.kernel..";
  private static final String CONFIGS = "org.mmuemu.configs..";
  private static final String APP = "org.mmuemu.app..";
  private static final String[] SIMULATION = {CORE, "org.mmuemu.isa..", KERNEL};
  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("org.mmuemu");
  }

  @Test
  void core_dependsOnNoOtherModuleAndNoFrameworks() {
    noClasses().that().resideInAPackage(CORE).should().dependOnClassesThat()
        .resideInAnyPackage("org.mmuemu.isa..", KERNEL, CONFIGS, APP, "com.fasterxml..", "io.netty..", "picocli..")
        .check(classes);
  }

  @Test
  void isaModules_dependOnlyOnCore() {
    noClasses().that().resideInAPackage(ARM64).should().dependOnClassesThat()
        .resideInAnyPackage(X86, KERNEL, CONFIGS, APP).check(classes);
    noClasses().that().resideInAPackage(X86).should().dependOnClassesThat()
        .resideInAnyPackage(ARM64, KERNEL, CONFIGS, APP).check(classes);
  }

  @Test
  void kernel_reachesHardwareOnlyThroughCore() {
    noClasses().that().resideInAPackage(KERNEL).should().dependOnClassesThat()
        .resideInAnyPackage("org.mmuemu.isa..", CONFIGS, APP, "com.fasterxml..", "picocli..").check(classes);
  }

  @Test
  void configs_doesNotDependOnTheApp() {
    noClasses().that().resideInAPackage(CONFIGS).should().dependOnClassesThat().resideInAPackage(APP)
        .check(classes);
  }

  @Test
  void simulation_readsNoWallClock() {
    noClasses().that().resideInAnyPackage(SIMULATION).should().callMethod(System.class, "nanoTime")
        .orShould().callMethod(System.class, "currentTimeMillis")
        .orShould().callMethod(Instant.class, "now")
        .orShould().callMethod(LocalDateTime.class, "now")
        .orShould().callMethod(Clock.class, "systemUTC")
        .orShould().callMethod(Clock.class, "systemDefaultZone")
        .check(classes);
  }

  @Test
  void simulation_usesNoUnseededRandomness() {
    noClasses().that().resideInAnyPackage(SIMULATION).should().callConstructor(Random.class)
        .orShould().callConstructor(SplittableRandom.class)
        .orShould().callMethod(Math.class, "random")
        .orShould().callMethod(ThreadLocalRandom.class, "current")
        .check(classes);
  }

  @Test
  void core_isConfinedToOneThread() {
    noClasses().that().resideInAPackage(CORE).should().dependOnClassesThat()
        .resideInAPackage("java.util.concurrent..").check(classes);
  }
}
