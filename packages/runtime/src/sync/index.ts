/** The one-thread synchronization primitives (Trio's): see each file for its invariants. */
export { Event } from './event.ts'
export { Lock } from './lock.ts'
export { Semaphore } from './semaphore.ts'
export { CapacityLimiter } from './capacity-limiter.ts'
export { Condition } from './condition.ts'
