/**
 * Kernel locks held over real intervals of simulated time: spinlocks and mutexes ({@code SimLock})
 * and reader-writer semaphores ({@code RwSemaphore}, as {@code mmap_lock} is). Taking one is an
 * interleaving point of the scheduler; waiters queue in arrival order and block until the holder
 * hands the lock over at its release time.
 */
package org.mmuemu.kernel.lock;
