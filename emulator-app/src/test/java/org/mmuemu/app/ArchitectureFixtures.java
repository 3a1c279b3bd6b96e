package org.mmuemu.app;

/** Where {@link ArchitectureTest} finds its deliberately broken test-only packages. */
final class ArchitectureFixtures {
  /** Two packages, {@code first} and {@code second}, whose classes use each other. */
  static final String CYCLIC_ROOT = "org.mmuemu.app.archfixture.cyclic";

  private ArchitectureFixtures() {}
}
