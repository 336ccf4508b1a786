/** The one-thread synchronization primitives (Trio's): see each file for its invariants. */
export { Event } from './event.js'
export { Lock } from './lock.js'
export { Semaphore } from './semaphore.js'
export { CapacityLimiter } from './capacity-limiter.js'
export { Condition } from './condition.js'
