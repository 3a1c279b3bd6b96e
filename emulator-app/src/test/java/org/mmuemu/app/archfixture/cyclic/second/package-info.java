/** The other half of the deliberate test-only package cycle. */
package org.mmuemu.app.archfixture.cyclic.second;
