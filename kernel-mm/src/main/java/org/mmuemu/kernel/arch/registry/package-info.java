/**
 * The explicit, closed registry of arch layers by ISA id ({@code LinuxArchRegistry}): builds the
 * one for a machine, fails fast naming the ids it knows, and runs each arch's config checks. The
 * only place that names every arch package.
 */
package org.mmuemu.kernel.arch.registry;
