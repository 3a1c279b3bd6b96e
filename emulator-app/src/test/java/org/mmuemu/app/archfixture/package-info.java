/**
 * Test-only classes that break the architecture rules on purpose, so that ArchitectureTest can show
 * each rule reports a real violation. Never imported by the main-code checks (they skip test
 * classes).
 */
package org.mmuemu.app.archfixture;
