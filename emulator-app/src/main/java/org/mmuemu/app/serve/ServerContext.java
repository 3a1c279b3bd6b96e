package org.mmuemu.app.serve;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import org.mmuemu.configs.MachineConfigLoader;
import org.mmuemu.core.isa.IsaRegistry;

/**
 * What every connection of one server shares: settings, metrics, the ISA registry and config
 * loader, the catalog, the bounded run executor and the run slots. Thread-safe.
 *
 * @param runSlots one permit per run that may be in flight ({@link ServerSettings#maxRuns})
 * @param runExecutor where runs execute: never an event loop
 * @param sessions the connected clients' handlers
 * @param memory the host memory runs in flight have reserved
 * @param authThrottle failed {@code hello}s per remote address
 */
record ServerContext(
    ServerSettings settings,
    ServerMetrics metrics,
    IsaRegistry registry,
    MachineConfigLoader loader,
    Catalog catalog,
    Executor runExecutor,
    Semaphore runSlots,
    Set<ControlHandler> sessions,
    HostMemoryReservations memory,
    AuthThrottle authThrottle) {

  static ServerContext create(ServerSettings settings, Executor runExecutor) {
    IsaRegistry registry = IsaRegistry.load();
    MachineConfigLoader loader = new MachineConfigLoader(registry);
    return new ServerContext(
        settings,
        new ServerMetrics(),
        registry,
        loader,
        new Catalog(loader),
        runExecutor,
        new Semaphore(settings.maxRuns()),
        ConcurrentHashMap.newKeySet(),
        new HostMemoryReservations(settings.memoryBudgetBytes()),
        new AuthThrottle());
  }

  List<String> builtInMachines() {
    return loader.builtInMachineNames();
  }
}
