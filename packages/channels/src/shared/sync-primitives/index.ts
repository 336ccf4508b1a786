/** Shared sync primitives: Trio's Event, Lock, Semaphore and CapacityLimiter across threads (README "Synchronization across threads"). */
export { openSharedEvent, openSharedLock, openSharedSemaphore, openSharedCapacityLimiter, releaseSyncOfDeadThread, reviveSync } from './open.js'
export { SharedEvent } from './shared-event.js'
export { SharedLock, type SharedLockStatistics } from './shared-lock.js'
export { SharedSemaphore, SharedCapacityLimiter } from './shared-semaphore.js'
export { SharedSyncHandle, SYNC_DESCRIPTOR } from './handle-base.js'
export { parkedSharedSyncOperations } from './local.js'
