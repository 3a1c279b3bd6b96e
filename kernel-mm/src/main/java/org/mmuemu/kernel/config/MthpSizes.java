package org.mmuemu.kernel.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.mmuemu.core.config.ConfigSection;

/**
 * The tunable {@code /kernel/tunables/mthp}: Linux's per-size multi-size THP controls for anonymous
 * memory ({@code /sys/kernel/mm/transparent_hugepage/hugepages-<size>kB/enabled}, Linux 6.8+), one
 * key per folio size below the PMD size, from {@code 16KiB} (order 2) to {@code 1024KiB} (order 8)
 * with 4 KiB pages. Each is {@code always}, {@code inherit} (follow the top-level {@code thp}),
 * {@code madvise} (only in VMAs advised with {@code MADV_HUGEPAGE}) or {@code never}, Linux's
 * default for every size but the PMD one (which the {@code thp} tunable controls).
 *
 * <p>Immutable.
 */
public final class MthpSizes {
  /** The smallest anonymous mTHP order Linux allows (order 1 is never used for anon memory). */
  public static final int MIN_ORDER = 2;

  /** The largest order below the PMD order (9 with 4 KiB pages). */
  public static final int MAX_ORDER = 8;

  /** One size's setting. */
  public enum Enabled {
    ALWAYS,
    INHERIT,
    MADVISE,
    NEVER;

    /** The value as the config spells it. */
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final List<String> CHOICES = List.of("always", "inherit", "madvise", "never");

  private final Enabled[] byOrder;

  private MthpSizes(Enabled[] byOrder) {
    this.byOrder = byOrder;
  }

  /** Every size {@code never}. */
  public static MthpSizes defaults() {
    Enabled[] byOrder = new Enabled[MAX_ORDER + 1];
    java.util.Arrays.fill(byOrder, Enabled.NEVER);
    return new MthpSizes(byOrder);
  }

  /** The config key of {@code order}'s size ({@code 64KiB} for order 4). */
  public static String key(int order) {
    return (4L << order) + "KiB";
  }

  /** Every key, smallest size first. */
  public static List<String> keys() {
    List<String> keys = new ArrayList<>();
    for (int order = MIN_ORDER; order <= MAX_ORDER; order++) {
      keys.add(key(order));
    }
    return Collections.unmodifiableList(keys);
  }

  /** Every size at its default, by key (the documented defaults). */
  public static Map<String, Object> defaultMap() {
    return Collections.unmodifiableMap(defaults().asMap());
  }

  /**
   * Reads {@code /kernel/tunables/mthp}; an unknown size or a bad value is recorded on {@code
   * section} under its JSON pointer.
   */
  static MthpSizes read(ConfigSection section) {
    section.rejectUnknownKeys(java.util.Set.copyOf(keys()));
    Enabled[] byOrder = new Enabled[MAX_ORDER + 1];
    java.util.Arrays.fill(byOrder, Enabled.NEVER);
    for (int order = MIN_ORDER; order <= MAX_ORDER; order++) {
      String value = section.getChoice(key(order), "never", CHOICES);
      byOrder[order] = Enabled.valueOf(value.toUpperCase(Locale.ROOT));
    }
    return new MthpSizes(byOrder);
  }

  /** The setting of {@code order} ({@link #MIN_ORDER} to {@link #MAX_ORDER}). */
  public Enabled enabled(int order) {
    return byOrder[order];
  }

  /**
   * Whether an anonymous fault in a VMA may use a folio of {@code order} ({@code
   * thp_vma_allowable_orders}): {@code always}, {@code madvise} in an advised VMA, or {@code
   * inherit} with the top-level {@code thp} saying so.
   */
  public boolean allows(int order, KernelTunables.Thp thp, boolean hugepageAdvised) {
    Enabled enabled = byOrder[order];
    if (enabled == Enabled.INHERIT) {
      return thp == KernelTunables.Thp.ALWAYS
          || (thp == KernelTunables.Thp.MADVISE && hugepageAdvised);
    }
    return enabled == Enabled.ALWAYS || (enabled == Enabled.MADVISE && hugepageAdvised);
  }

  /** Whether some size is not {@code never}. */
  public boolean anyEnabled() {
    for (int order = MIN_ORDER; order <= MAX_ORDER; order++) {
      if (byOrder[order] != Enabled.NEVER) {
        return true;
      }
    }
    return false;
  }

  /** The settings by key, smallest size first (the resolved config shows them). */
  public Map<String, Object> asMap() {
    Map<String, Object> out = new LinkedHashMap<>();
    for (int order = MIN_ORDER; order <= MAX_ORDER; order++) {
      out.put(key(order), byOrder[order].configName());
    }
    return out;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof MthpSizes sizes && java.util.Arrays.equals(byOrder, sizes.byOrder);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(byOrder);
  }

  @Override
  public String toString() {
    return asMap().toString();
  }
}
