package org.mmuemu.app.compare;

import java.util.List;
import java.util.Map;

/**
 * One column of a comparison: a labelled run of the comparison's workload.
 *
 * @param label the column's name in reports and trace file names
 * @param machine a built-in machine name or a config file
 * @param sets {@code --set}-style overrides ({@code /pointer=value}), applied in order
 * @param params workload parameters, over the comparison's shared ones
 */
public record Column(String label, String machine, List<String> sets, Map<String, String> params) {
  public Column {
    sets = List.copyOf(sets);
    params = Map.copyOf(params);
  }
}
