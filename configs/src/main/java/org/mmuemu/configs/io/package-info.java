/**
 * Command outputs (--out, --trace, attach --out) that never clobber what is at their path: regular
 * files are written to a temporary file and renamed into place on commit, symbolic links are
 * followed, and devices, FIFOs and standard output are streamed to.
 */
package org.mmuemu.configs.io;
