package org.mmuemu.app;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.EvaluationResult;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import com.tngtech.archunit.library.dependencies.SliceRule;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps the layering of ARCHITECTURE.md and the determinism rule: emulator-core depends on no other
 * module and no JSON, CLI or network library; ISA modules and kernel-mm never import each other;
 * nothing in a simulation package reads the wall clock or an unseeded random source; no two
 * packages depend on each other, directly or around a loop. The app's test classpath holds every
 * module but the benchmarks (one package, which depends only on the others), so the rules see all
 * main classes.
 */
final class ArchitectureTest {
  private static final String CORE = "org.mmuemu.core..";
  private static final String ARM64 = "org.mmuemu.isa.arm64..";
  private static final String X86 = "org.mmuemu.isa.x86..";
  private static final String KERNEL = "org.mmuemu.kernel..";
  private static final String CONFIGS = "org.mmuemu.configs..";
  private static final String APP = "org.mmuemu.app..";
  private static final String[] SIMULATION = {CORE, "org.mmuemu.isa..", KERNEL};
  private static final String ROOT = "org.mmuemu";
  private static JavaClasses classes;

  /**
   * One slice per package. (A {@code "org.mmuemu.(**)"} pattern is not used: it groups nested
   * packages in a way that let a real two-package cycle, core.machine and core.trace, go
   * unreported.)
   */
  private static SliceAssignment packagesUnder(String prefix) {
    return new SliceAssignment() {
      @Override
      public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
        String pkg = javaClass.getPackageName();
        return pkg.equals(prefix) || pkg.startsWith(prefix + ".")
            ? SliceIdentifier.of(pkg)
            : SliceIdentifier.ignore();
      }

      @Override
      public String getDescription() {
        return "packages under " + prefix;
      }
    };
  }

  private static SliceAssignment packagesOutsideKernelMm() {
    SliceAssignment all = packagesUnder(ROOT);
    return new SliceAssignment() {
      @Override
      public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
        return javaClass.getPackageName().startsWith("org.mmuemu.kernel")
            ? SliceIdentifier.ignore()
            : all.getIdentifierOf(javaClass);
      }

      @Override
      public String getDescription() {
        return "packages of every module but kernel-mm";
      }
    };
  }

  private static SliceRule noCycleAmong(SliceAssignment packages) {
    return slices().assignedFrom(packages).should().beFreeOfCycles();
  }

  @BeforeAll
  static void importClasses() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.mmuemu");
  }

  @Test
  void core_dependsOnNoOtherModuleAndNoFrameworks() {
    noClasses()
        .that()
        .resideInAPackage(CORE)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "org.mmuemu.isa..", KERNEL, CONFIGS, APP, "com.fasterxml..", "io.netty..", "picocli..")
        .check(classes);
  }

  @Test
  void isaModules_dependOnlyOnCore() {
    noClasses()
        .that()
        .resideInAPackage(ARM64)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(X86, KERNEL, CONFIGS, APP)
        .check(classes);
    noClasses()
        .that()
        .resideInAPackage(X86)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(ARM64, KERNEL, CONFIGS, APP)
        .check(classes);
  }

  @Test
  void kernel_reachesHardwareOnlyThroughCore() {
    noClasses()
        .that()
        .resideInAPackage(KERNEL)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("org.mmuemu.isa..", CONFIGS, APP, "com.fasterxml..", "picocli..")
        .check(classes);
  }

  @Test
  void configs_doesNotDependOnTheApp() {
    noClasses()
        .that()
        .resideInAPackage(CONFIGS)
        .should()
        .dependOnClassesThat()
        .resideInAPackage(APP)
        .check(classes);
  }

  @Test
  void simulation_readsNoWallClock() {
    noClasses()
        .that()
        .resideInAnyPackage(SIMULATION)
        .should()
        .callMethod(System.class, "nanoTime")
        .orShould()
        .callMethod(System.class, "currentTimeMillis")
        .orShould()
        .callMethod(Instant.class, "now")
        .orShould()
        .callMethod(LocalDateTime.class, "now")
        .orShould()
        .callMethod(Clock.class, "systemUTC")
        .orShould()
        .callMethod(Clock.class, "systemDefaultZone")
        .check(classes);
  }

  @Test
  void simulation_usesNoUnseededRandomness() {
    noClasses()
        .that()
        .resideInAnyPackage(SIMULATION)
        .should()
        .callConstructor(Random.class)
        .orShould()
        .callConstructor(SplittableRandom.class)
        .orShould()
        .callMethod(Math.class, "random")
        .orShould()
        .callMethod(ThreadLocalRandom.class, "current")
        .check(classes);
  }

  /**
   * No package cycle in emulator-core, the ISA modules, configs and the app. What the command line
   * ({@code app}) and the control port ({@code app.serve}) share lives in {@code app.runner} and
   * {@code app.version}, so neither depends on the other's package.
   */
  @Test
  void packages_outsideKernelMm_formNoCycle() {
    noCycleAmong(packagesOutsideKernelMm()).check(classes);
  }

  /**
   * No package cycle in kernel-mm either (the arch layer, vmalloc and the kernel split broke the
   * old ones).
   */
  @Test
  void kernelMmPackages_formNoCycle() {
    noCycleAmong(packagesUnder("org.mmuemu.kernel")).check(classes);
  }

  /** The cycle rule is not vacuous: two test-only packages that import each other fail it. */
  @Test
  void cycleRule_reportsADeliberateCycle() {
    JavaClasses fixture = new ClassFileImporter().importPackages(ArchitectureFixtures.CYCLIC_ROOT);

    EvaluationResult result =
        noCycleAmong(packagesUnder(ArchitectureFixtures.CYCLIC_ROOT)).evaluate(fixture);

    assertThat(result.hasViolation()).isTrue();
    assertThat(result.getFailureReport().toString())
        .contains("Cycle detected")
        .contains(ArchitectureFixtures.CYCLIC_ROOT + ".first")
        .contains(ArchitectureFixtures.CYCLIC_ROOT + ".second");
  }

  /**
   * Simulation code runs on one thread at a time. The exception is the scheduler's baton ({@code
   * core.time.Baton}), which pauses and hands over the workers that carry interleaved kernel calls
   * (host threads where the JDK has no continuations for us); nothing else in emulator-core may use
   * java.util.concurrent.
   */
  @Test
  void core_isConfinedToOneThread() {
    noClasses()
        .that()
        .resideInAPackage(CORE)
        .and()
        .doNotHaveFullyQualifiedName("org.mmuemu.core.time.Baton")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("java.util.concurrent..")
        .check(classes);
  }
}
