/**
 * mmuemu attach: a command-line client of a running mmuemu serve, which starts a run there and
 * streams its events to a file or the terminal, or lists the machines and workloads the server
 * offers.
 */
package org.mmuemu.app.attach;
