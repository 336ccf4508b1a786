/** Shared sync primitives: Trio's Event, Lock, Semaphore and CapacityLimiter across threads (README "Synchronization across threads"). */
export {
  openSharedEvent,
  openSharedLock,
  openSharedSemaphore,
  openSharedCapacityLimiter,
  releaseSyncOfDeadThread,
  reviveSync,
} from './open.ts'
export { SharedEvent } from './shared-event.ts'
export { SharedLock, type SharedLockStatistics } from './shared-lock.ts'
export { SharedSemaphore, SharedCapacityLimiter } from './shared-semaphore.ts'
export { SharedSyncHandle, SYNC_DESCRIPTOR } from './handle-base.ts'
export { parkedSharedSyncOperations } from './local.ts'
