/** Worker tasks of gotrio/lock.ts: SharedLock loops that block their thread (acquireSync). */
import type { SharedLock } from '@gotrio/channels'
import { nowNs } from '../lib/program.ts'

/**
 * Waits for go[0] != 0 (so both threads start together), then `laps` times
 * acquireSync / counter++ / release. Returns [t0, t1] on the monotonic clock.
 */
export function lockLoopSync(lock: SharedLock, counter: Int32Array, go: Int32Array, laps: number): [number, number] {
  while (Atomics.load(go, 0) === 0) {}
  const t0 = nowNs()
  for (let i = 0; i < laps; i++) {
    lock.acquireSync()
    counter[0]!++
    lock.release()
  }
  const t1 = nowNs()
  lock.close()
  return [t0, t1]
}
