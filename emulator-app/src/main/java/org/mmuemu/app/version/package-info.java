/**
 * The tool version Maven stamps into the build ({@code version.properties}), for {@code --version},
 * result JSON, reports and the control port's hello.
 */
package org.mmuemu.app.version;
