package org.mmuemu.app.serve;

import java.net.InetAddress;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Slows token guessing: after a failed {@code hello} from a remote address, every {@code hello}
 * from that address (on any connection) is refused until a delay has passed, and the delay doubles
 * with each further failure, from {@link #FIRST_DELAY_NANOS} up to {@link #MAX_DELAY_NANOS}. A
 * correct token forgets the address. At most {@link #MAX_ADDRESSES} addresses are remembered (the
 * oldest are forgotten first), so a flood of addresses costs bounded memory. Thread-safe.
 */
final class AuthThrottle {
  static final long FIRST_DELAY_NANOS = 250_000_000L;
  static final long MAX_DELAY_NANOS = 30_000_000_000L;
  static final int MAX_ADDRESSES = 10_000;

  private record Failures(int count, long retryAtNanos) {}

  private final Map<InetAddress, Failures> failures = new LinkedHashMap<>(16, 0.75f, true);

  /** Nanoseconds the address must still wait before its next {@code hello} is considered, or 0. */
  synchronized long waitNanos(InetAddress address, long nowNanos) {
    Failures entry = failures.get(address);
    return entry == null ? 0 : Math.max(0, entry.retryAtNanos - nowNanos);
  }

  /** Records a wrong or missing token; returns the delay now imposed, in nanoseconds. */
  synchronized long failed(InetAddress address, long nowNanos) {
    Failures entry = failures.get(address);
    int count = entry == null ? 1 : entry.count + 1;
    long delay =
        count > 20 ? MAX_DELAY_NANOS : Math.min(MAX_DELAY_NANOS, FIRST_DELAY_NANOS << (count - 1));
    failures.put(address, new Failures(count, nowNanos + delay));
    if (failures.size() > MAX_ADDRESSES) {
      Iterator<InetAddress> eldest = failures.keySet().iterator();
      eldest.next();
      eldest.remove();
    }
    return delay;
  }

  /** The address presented the right token. */
  synchronized void succeeded(InetAddress address) {
    failures.remove(address);
  }
}
