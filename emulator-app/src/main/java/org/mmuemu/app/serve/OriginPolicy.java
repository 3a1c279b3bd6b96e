package org.mmuemu.app.serve;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which browser pages may open the WebSocket: a page's {@code Origin} must name this host ({@code
 * localhost}, {@code 127.0.0.1}, {@code [::1]}, the address the server is bound to, or the address
 * the connection arrived on) at the server's port, or be one of the operator's {@code
 * --allow-origin}s. This stops cross-site WebSocket hijacking: any page a user visits could
 * otherwise drive a token-less local server. The request's {@code Host} header is not trusted (DNS
 * rebinding makes it agree with a hostile origin). A request without {@code Origin} is not from a
 * browser page and is allowed. Immutable.
 */
final class OriginPolicy {
  private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]");

  private final String boundHost;
  private final int boundPort;
  private final List<String> allowedOrigins;

  /**
   * @param boundPort the port the server listens on, used when a connection's own address is not an
   *     IP socket address
   */
  OriginPolicy(String boundHost, int boundPort, List<String> allowedOrigins) {
    this.boundHost = hostForUri(boundHost);
    this.boundPort = boundPort;
    this.allowedOrigins = allowedOrigins.stream().map(OriginPolicy::normalise).toList();
  }

  /**
   * Whether a handshake with this {@code Origin} header (null when absent) may proceed, on a
   * connection that arrived at {@code local}.
   */
  boolean allows(String origin, SocketAddress local) {
    if (origin == null) {
      return true;
    }
    String normalised = normalise(origin);
    if (allowedOrigins.contains(normalised)) {
      return true;
    }
    URI uri;
    try {
      uri = new URI(normalised);
    } catch (URISyntaxException e) {
      return false;
    }
    String scheme = uri.getScheme();
    if (uri.getHost() == null || !("http".equals(scheme) || "https".equals(scheme))) {
      return false;
    }
    int port = uri.getPort() != -1 ? uri.getPort() : "https".equals(scheme) ? 443 : 80;
    InetSocketAddress inet = local instanceof InetSocketAddress address ? address : null;
    if (port != (inet != null ? inet.getPort() : boundPort)) {
      return false;
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    return LOOPBACK_NAMES.contains(host)
        || host.equals(boundHost)
        || (inet != null && host.equals(hostForUri(inet.getAddress().getHostAddress())));
  }

  private static String normalise(String origin) {
    String lower = origin.strip().toLowerCase(Locale.ROOT);
    return lower.endsWith("/") ? lower.substring(0, lower.length() - 1) : lower;
  }

  /** An IPv6 address as a URI shows it ({@code [::1]}); names and IPv4 addresses as they are. */
  private static String hostForUri(String host) {
    String lower = host.toLowerCase(Locale.ROOT);
    return lower.contains(":") && !lower.startsWith("[") ? "[" + lower + "]" : lower;
  }
}
