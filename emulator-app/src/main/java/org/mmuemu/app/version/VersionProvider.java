package org.mmuemu.app.version;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The version Maven stamped into the build. */
public final class VersionProvider implements IVersionProvider {
  /** Returns the version, or {@code unknown} when run from unpackaged classes without resources. */
  public static String version() {
    try (InputStream in = VersionProvider.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  @Override
  public String[] getVersion() {
    return new String[] {"mmuemu " + version(), "Java " + System.getProperty("java.version")};
  }
}
