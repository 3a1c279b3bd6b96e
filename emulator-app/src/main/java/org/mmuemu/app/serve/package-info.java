/**
 * mmuemu serve: the Netty control port. Clients authenticate, start runs and receive each run's
 * events as a bounded stream over TCP lines or WebSocket; HTTP endpoints expose health and
 * Micrometer host metrics for Prometheus. Binds to loopback unless told otherwise.
 */
package org.mmuemu.app.serve;
