package org.mmuemu.kernel.config;

/**
 * One value of a kernel behaviour variant ({@code /kernel/variants/<name>}): implemented by one
 * enum per variant, whose first constant is the default (the fixed behaviour).
 */
public interface KernelVariant {
  /** The value as the config spells it. */
  String configName();
}
