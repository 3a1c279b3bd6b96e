/**
 * Half of a deliberate package cycle, test-only, that ArchitectureTest's no-cycle rule must report.
 */
package org.mmuemu.app.archfixture.cyclic.first;
