package org.mmuemu.configs;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.config.MachineSpec;

/**
 * A machine config after {@code extends} merging, {@code --set} overrides, validation and binding.
 * Immutable.
 *
 * @param spec the bound machine, as the simulation consumes it
 * @param source where the config came from: a built-in name ({@code arm64-neoverse-n1}), the file
 *     path as given, or {@code inline config}
 * @param configSha256 SHA-256, lower-case hex, of the canonical form of {@link #resolvedJson} (keys
 *     sorted, no whitespace); equal for configs that mean the same machine
 * @param resolvedJson the resolved config, pretty-printed and deterministic: parents merged,
 *     overrides applied, {@code extends} dropped, defaults filled in (top level, walker, TLB
 *     replacement, kernel costs); worth writing beside every result as {@code config.resolved.json}
 * @param provenance the resolved {@code /provenance} entries: JSON pointer to a tagged source
 *     string ({@code "D A76-TRM §A5.2.1"}), sorted by pointer
 */
public record LoadedMachine(
    MachineSpec spec,
    String source,
    String configSha256,
    String resolvedJson,
    Map<String, String> provenance) {

  public LoadedMachine {
    provenance = Collections.unmodifiableMap(new TreeMap<>(provenance));
  }

  /**
   * Returns the provenance that applies to a value: the entry of its own pointer, else of the
   * nearest enclosing object or array, else null.
   *
   * @param pointer JSON pointer of a value in the resolved config ({@code /tlb/levels/2/ways})
   */
  public String provenanceOf(String pointer) {
    String p = pointer;
    while (true) {
      String entry = provenance.get(p);
      int slash = p.lastIndexOf('/');
      if (entry != null || slash < 0) {
        return entry;
      }
      p = p.substring(0, slash);
    }
  }
}
