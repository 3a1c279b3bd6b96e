/**
 * The machine config's {@code /kernel} section, typed: {@code KernelCosts} (a record of costs),
 * {@code KernelVariants} (one enum per behaviour variant), read and validated once at load with
 * JSON-pointer problems ({@code KernelConfig}). Components take their own part from it.
 */
package org.mmuemu.kernel.config;
