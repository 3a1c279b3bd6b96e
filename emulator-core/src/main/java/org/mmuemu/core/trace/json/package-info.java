/**
 * Renders trace events as JSON objects, the one form the JSON-lines trace writer and the control
 * port share. It sits above both the bus and the machine because it names the machine's
 * enumerations (access kinds, invalidation scopes, frame kinds, violations).
 */
package org.mmuemu.core.trace.json;
