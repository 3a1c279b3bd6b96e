/**
 * Machine configs as files: loads built-in or user JSON machine configs, resolves extends and --set
 * overrides, validates them against the JSON Schema and each ISA's own checks with one
 * JSON-pointer-addressed problem per line, binds them to MachineSpec, and writes and reads result
 * JSON deterministically and atomically.
 */
package org.mmuemu.configs;
