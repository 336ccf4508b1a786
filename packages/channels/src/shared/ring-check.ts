/** The ring invariants R1–R4, R6 and a weak form of R5 (ring.ts), and O1/O3 of the overflow (overflow.ts), as one check, for tests. Call under the channel lock. */
import { checkOverflow } from './overflow.ts'
import { ownerGet } from './owners.ts'
import type { Ring } from './ring.ts'
import {
  B_LENGTH,
  B_OUT_OF_LINE,
  CODEC_BYTES,
  ENTRY_KIND_MASK,
  ENTRY_TOMBSTONE,
  ENTRY_VALUE,
  ENTRY_OWNER_SHIFT,
  ENTRY_WAITER,
  H_BYTES_USED,
  H_COUNT,
  H_HANDOFFS,
  H_HEAD_IDX,
  H_LIVE,
  H_OV_COUNT,
  H_RECV_OPEN,
  H_SEND_WAITING,
  O_SEND_WAITING,
  O_THREAD,
} from './layout.ts'

export function checkRing(r: Ring): string | undefined {
  if (r.fast) {
    // F1-F3 (fast-slots.ts); the locked ring holds only offers (R1 with SLOTS = OVERFLOW_SLOTS).
    const n = r.fastCount()
    const c = r.get(H_COUNT)
    const l = r.get(H_LIVE)
    if (!(n >= 0 && n <= r.capacity)) return `F3: count ${n} of ${r.capacity}`
    if (!(l >= 0 && l <= c && c <= r.slots)) return `R1: offers live ${l} count ${c} slots ${r.slots}`
    if (r.get(H_RECV_OPEN) === 0 && (n !== 0 || c !== 0)) return 'F2/R4'
    if (r.get(H_HANDOFFS) !== 0) return 'R2: handoffs on a buffered channel'
    if ((c > 0 || r.get(H_SEND_WAITING) > 0 || r.get(H_RECV_OPEN) === 0) && !(r.slowSet() && r.tailSlowSet()))
      return 'F1: a sender waits but SLOW is clear'
    // Offers marked ENTRY_WAITER are registered senders: counted in SEND_WAITING
    // and in their thread's entry (R5), so neither can be below the marks.
    if (r.get(H_SEND_WAITING) < 0) return `R5: SEND_WAITING ${r.get(H_SEND_WAITING)}`
    let waiters = 0
    const perThread = new Map<number, number>()
    for (let k = 0; k < c; k++) {
      const m = r.i32[r.meta + ((r.get(H_HEAD_IDX) + k) % r.slots)]!
      if ((m & ENTRY_WAITER) === 0) continue
      waiters++
      const tid = (m >>> ENTRY_OWNER_SHIFT) - 1
      perThread.set(tid, (perThread.get(tid) ?? 0) + 1)
    }
    if (waiters > r.get(H_SEND_WAITING)) return `R5: ${waiters} offers of registered senders, SEND_WAITING ${r.get(H_SEND_WAITING)}`
    for (const [tid, n] of perThread) {
      // A thread without an entry (the table was full) is not counted per thread.
      if (ownerGet(r.i32, tid, O_THREAD) !== tid + 1) continue
      const w = ownerGet(r.i32, tid, O_SEND_WAITING)
      if (n > w) return `R5: ${n} offers of thread ${tid}'s registered senders, its entry counts ${w}`
    }
    if (r.codec === CODEC_BYTES) {
      // R6, as far as the lock sees it: the queued offers' out-of-line bytes,
      // plus those of values in the lock-free buffer (read racily: lock-free
      // receivers take them meanwhile and give their bytes back under the
      // lock, after this check). So BYTES_USED is at least the offers' share.
      let offers = 0
      for (let k = 0; k < c; k++) {
        const slot = (r.get(H_HEAD_IDX) + k) % r.slots
        if ((r.i32[r.meta + slot]! & ENTRY_KIND_MASK) === ENTRY_TOMBSTONE) continue
        const at = slot * r.slotBytes
        if (r.d32[(at >> 2) + B_OUT_OF_LINE] !== 0) offers += r.d32[(at >> 2) + B_LENGTH]!
      }
      const used = r.get(H_BYTES_USED)
      if (used < offers || (r.get(H_RECV_OPEN) === 0 && used !== 0)) return `R6: bytes ${used} < offers' ${offers}`
    }
    return undefined
  }
  const count = r.get(H_COUNT)
  const live = r.get(H_LIVE)
  const ho = r.get(H_HANDOFFS)
  if (!(live >= 0 && live <= count && count <= r.slots)) return `R1: live ${live} count ${count} slots ${r.slots}`
  if (ho > r.plainReceiversLocked() || (r.capacity > 0 && ho !== 0)) return `R2: handoffs ${ho}`
  if (r.get(H_RECV_OPEN) === 0 && count !== 0) return 'R4'
  if (r.zslot) {
    // Z1 and Z3 (zero-slot.ts); the tail's SLOW bit is read by itself (a select's HOLD may set it alone).
    const z = r.zCheck()
    if (z) return z
    if ((count > 0 || r.get(H_RECV_OPEN) === 0) && !(r.slowSet() && r.tailSlowSet())) return 'Z3: an entry is queued but the slot is open'
  }
  const [overflowError, overflowOol] = checkOverflow(r)
  if (overflowError) return overflowError
  const ov = r.get(H_OV_COUNT)
  if (ov > 0 && (!r.overflows || count < r.slots - 1)) return `O3: ${ov} overflow values behind a ring of ${count}/${r.slots}`
  if (ov > 0 && r.get(H_RECV_OPEN) === 0) return 'R4: overflow values with no receiver'
  let ool = overflowOol
  let seenHo = 0
  for (let k = 0; k < count; k++) {
    const slot = (r.get(H_HEAD_IDX) + k) % r.slots
    const kind = r.i32[r.meta + slot]! & ENTRY_KIND_MASK
    if (kind === ENTRY_TOMBSTONE) continue
    if (r.capacity === 0) {
      if (seenHo < ho && kind !== ENTRY_VALUE) return 'R3: an offer before a promised value'
      seenHo++
    }
    if (r.codec === CODEC_BYTES) {
      const at = slot * r.slotBytes
      if (r.d32[(at >> 2) + B_OUT_OF_LINE] !== 0) ool += r.d32[(at >> 2) + B_LENGTH]!
    }
  }
  if (ool !== r.get(H_BYTES_USED)) return `R6: bytes ${ool} != ${r.get(H_BYTES_USED)}`
  return undefined
}
