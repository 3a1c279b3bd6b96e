package org.mmuemu.app.serve;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.mmuemu.core.text.TerminalText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control server's log: SLF4J logger {@value #NAME}, one line per connection, run, refusal and
 * error, as {@code what key=value ...} so it can be read and grepped. Values that come from clients
 * are escaped ({@link TerminalText}), since the log goes to a terminal.
 *
 * <p>The logger is created on first use, after {@code mmuemu serve} has set its level ({@code
 * --log-level}). Thread-safe.
 */
final class ServerLog {
  /** The logger's name; {@code -Dorg.slf4j.simpleLogger.log.mmuemu.serve=debug} sets its level. */
  static final String NAME = "mmuemu.serve";

  private ServerLog() {}

  private static final class Holder {
    static final Logger LOG = LoggerFactory.getLogger(NAME);
  }

  static Logger log() {
    return Holder.LOG;
  }

  /** The peer of a channel as {@code host:port}, or {@code -}. */
  static String remote(Channel channel) {
    SocketAddress address = channel == null ? null : channel.remoteAddress();
    if (address instanceof InetSocketAddress inet) {
      return inet.getAddress().getHostAddress() + ":" + inet.getPort();
    }
    return address == null ? "-" : address.toString();
  }

  /** A client-supplied value, quoted and escaped for the log line. */
  static String quoted(String value) {
    return "\"" + TerminalText.escape(value).replace("\"", "\\\"") + "\"";
  }
}
