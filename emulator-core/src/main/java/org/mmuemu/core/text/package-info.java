/**
 * Text that echoes user input (trace lines, config keys, file names) made safe to print on a
 * terminal: control characters and bidirectional overrides are escaped so crafted input cannot send
 * escape sequences to the user's terminal.
 */
package org.mmuemu.core.text;
