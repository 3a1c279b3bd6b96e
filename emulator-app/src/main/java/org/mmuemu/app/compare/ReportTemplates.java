package org.mmuemu.app.compare;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheFactory;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * Renders report models through the Mustache templates beside this class ({@code *.mustache}
 * resources): HTML with HTML escaping, Markdown as plain text. Templates are compiled once;
 * rendering is thread-safe.
 */
public final class ReportTemplates {
  private static final String ROOT = "org/mmuemu/app/compare";
  private static final MustacheFactory HTML = new DefaultMustacheFactory(ROOT);
  private static final MustacheFactory TEXT =
      new DefaultMustacheFactory(ROOT) {
        @Override
        public void encode(String value, Writer writer) {
          try {
            writer.write(value);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private ReportTemplates() {}

  /** Renders an HTML template ({@code {{x}}} is HTML-escaped). */
  public static String html(String template, Object model) {
    return render(HTML.compile(template), model);
  }

  /** Renders a text template (Markdown, CSV): values are written as they are. */
  public static String text(String template, Object model) {
    return render(TEXT.compile(template), model);
  }

  private static String render(Mustache mustache, Object model) {
    StringWriter out = new StringWriter();
    mustache.execute(out, model);
    return out.toString();
  }
}
