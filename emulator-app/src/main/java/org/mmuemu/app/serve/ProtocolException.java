package org.mmuemu.app.serve;

/** A request the server answers with an error: its code and one-line message. */
final class ProtocolException extends Exception {
  private static final long serialVersionUID = 1L;
  private final String code;

  ProtocolException(String code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  String code() {
    return code;
  }
}
