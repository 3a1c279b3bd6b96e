package org.mmuemu.core.isa;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The ISAs available at run time, found through {@link ServiceLoader} and indexed by lower-case id.
 * Duplicate ids fail at construction; an unknown id fails with the list of known ones. Immutable
 * after construction.
 */
public final class IsaRegistry {
  private final Map<String, IsaProvider> providersById;

  private IsaRegistry(Iterable<IsaProvider> providers) {
    Map<String, IsaProvider> byId = new TreeMap<>();
    for (IsaProvider provider : providers) {
      String id = provider.id().toLowerCase(Locale.ROOT);
      IsaProvider previous = byId.putIfAbsent(id, provider);
      if (previous != null) {
        throw new IllegalStateException(
            "ISA id "
                + id
                + " is provided twice: by "
                + previous.getClass().getName()
                + " and "
                + provider.getClass().getName());
      }
    }
    this.providersById = Collections.unmodifiableMap(byId);
  }

  /** Loads every provider visible to this class's class loader. */
  public static IsaRegistry load() {
    return new IsaRegistry(
        ServiceLoader.load(IsaProvider.class, IsaRegistry.class.getClassLoader()));
  }

  /** Builds a registry from explicit providers (tests). */
  public static IsaRegistry of(IsaProvider... providers) {
    return new IsaRegistry(java.util.List.of(providers));
  }

  /** The known ids, sorted. */
  public java.util.Set<String> ids() {
    return providersById.keySet();
  }

  public boolean contains(String id) {
    return id != null && providersById.containsKey(id.toLowerCase(Locale.ROOT));
  }

  /**
   * Returns the provider for {@code id}.
   *
   * @throws IllegalArgumentException naming the known ids when there is none
   */
  public IsaProvider get(String id) {
    IsaProvider provider = id == null ? null : providersById.get(id.toLowerCase(Locale.ROOT));
    if (provider == null) {
      throw new IllegalArgumentException(
          "isa: " + id + " (expected one of: " + String.join(", ", ids()) + ")");
    }
    return provider;
  }
}
