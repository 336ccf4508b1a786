/**
 * The owner table of a channel header (layout.ts, H_OWNERS): per thread, how
 * many handles of each side it holds and how many of its operations are
 * registered as waiting (plain waiters, and select watchers apart). It lets `closeHandlesOfDeadThread` close what a dead
 * thread held and forget its waiters. Every function runs under the channel
 * lock; `i32` is the channel's header view (header at index 0).
 */
import { H_OWNERS, O_THREAD, OWNER_ENTRIES, OWNER_FIELDS } from './layout.ts'

/** Adds `delta` to field `f` of thread `tid`'s entry (made if needed; freed when all zero). */
export function ownerAdd(i: Int32Array, tid: number, f: number, delta: number): void {
  let freeEntry = -1
  for (let e = 0; e < OWNER_ENTRIES; e++) {
    const at = H_OWNERS + e * OWNER_FIELDS
    const t = i[at + O_THREAD]!
    if (t === tid + 1) {
      i[at + f] = i[at + f]! + delta
      if (i[at + 1] === 0 && i[at + 2] === 0 && i[at + 3] === 0 && i[at + 4] === 0 && i[at + 5] === 0) i[at + O_THREAD] = 0
      return
    }
    if (t === 0 && freeEntry < 0) freeEntry = at
  }
  if (freeEntry >= 0 && delta > 0) {
    i.fill(0, freeEntry, freeEntry + OWNER_FIELDS)
    i[freeEntry + O_THREAD] = tid + 1
    i[freeEntry + f] = delta
  }
  // Otherwise: more than OWNER_ENTRIES threads hold this channel; the extra
  // thread's handles work but cannot be closed for it if it dies (README).
}

/** Removes thread `tid`'s entry and returns [sendHandles, recvHandles, sendWaiting, recvWaiting, selects]. */
export function ownerTake(i: Int32Array, tid: number): number[] | undefined {
  for (let e = 0; e < OWNER_ENTRIES; e++) {
    const at = H_OWNERS + e * OWNER_FIELDS
    if (i[at + O_THREAD] === tid + 1) {
      const r = [i[at + 1]!, i[at + 2]!, i[at + 3]!, i[at + 4]!, i[at + 5]!]
      i.fill(0, at, at + OWNER_FIELDS)
      return r
    }
  }
  return undefined
}

/** Field `f` of thread `tid`'s entry (0 if it has none). */
export function ownerGet(i: Int32Array, tid: number, f: number): number {
  for (let e = 0; e < OWNER_ENTRIES; e++) {
    const at = H_OWNERS + e * OWNER_FIELDS
    if (i[at + O_THREAD] === tid + 1) return i[at + f]!
  }
  return 0
}
