/**
 * A futex mutex on one Int32 word of shared memory (Drepper, "Futexes are
 * tricky", mutex #2), used as Go's `hchan.lock`: every shared-channel state
 * change happens inside a short critical section with no allocation and no
 * user code in it.
 *
 * Word values: 0 free, 1 held, 2 held and a thread may sleep in `Atomics.wait`.
 * Invariant: only the holder stores 0 (unlock); a thread that stores 2 by
 * `exchange` and read 0 holds the lock.
 *
 * Blocking on the main thread: Node allows `Atomics.wait` there. The critical
 * sections are a few dozen instructions, so the main thread waits only when
 * the holder thread is descheduled inside one (bounded by the OS quantum), as
 * a Go program's goroutines do on hchan.lock.
 *
 * Termination gate. A worker thread terminated (`worker.terminate()`) while it
 * holds a lock, or halfway through a change of shared state, would leave the
 * lock held forever or the ring half-written. So every worker thread has a
 * gate word in the arena (arena.ts, gate table), and every critical section
 * (each `lock` to its `unlock`, and any lock-free section bracketed by
 * `criticalEnter`/`criticalLeave`) counts itself in it:
 *
 * | bits  | meaning                                                          |
 * |-------|------------------------------------------------------------------|
 * | 0..29 | depth: critical sections this thread is inside (nesting allowed) |
 * | 30    | CLOSING: the pool is about to terminate this thread              |
 *
 * Protocol: the thread enters with one `Atomics.add(+1)`; if the old value was
 * exactly CLOSING (closing, and not nested inside a section it already holds),
 * it does not enter: it undoes the add and parks forever in `Atomics.wait`
 * (the termination ends it there, holding nothing). It leaves with
 * `Atomics.sub(1)`. The terminating thread sets CLOSING with `Atomics.or` and
 * polls until the depth is 0 (`quiesceThread`, arena.ts; a section lasts
 * microseconds, so no notify is needed and none is paid on the leave path). Both sides update the one word with
 * read-modify-writes, so they are totally ordered: either the enter came
 * first (the closer sees depth > 0 and waits for the leave), or the close came
 * first (the enterer sees CLOSING and parks). Sections are short and bounded,
 * so the wait is too. The main thread has no gate: it is never terminated.
 */

const SPINS = 100

export const GATE_CLOSING = 1 << 30
export const GATE_DEPTH_MASK = GATE_CLOSING - 1

/** This thread's gate: a fixed-length view of the arena's gate table and the index of its word (null: no gate). */
let gate: Int32Array | null = null
let gateAt = 0

/** Installs this worker thread's gate word (arena.ts, at bootstrap). */
export function setThreadGate(view: Int32Array, at: number): void {
  gate = view
  gateAt = at
}

/** Enters a critical section of this thread (see the gate protocol above). */
export function criticalEnter(): void {
  if (gate === null) return
  if (Atomics.add(gate, gateAt, 1) === GATE_CLOSING) parkForTermination(gate)
}

/** Leaves a critical section entered with `criticalEnter` (or `lock`). */
export function criticalLeave(): void {
  if (gate !== null) Atomics.sub(gate, gateAt, 1)
}

function parkForTermination(g: Int32Array): never {
  criticalLeave()
  // The entry's thread word (gateAt - 1) changes only after this thread has exited.
  const tidWord = Atomics.load(g, gateAt - 1)
  for (;;) Atomics.wait(g, gateAt - 1, tidWord)
}

export function lock(i32: Int32Array, index: number): void {
  criticalEnter()
  if (Atomics.compareExchange(i32, index, 0, 1) === 0) return
  lockSlow(i32, index)
}

function lockSlow(i32: Int32Array, index: number): void {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(i32, index) === 0 && Atomics.compareExchange(i32, index, 0, 1) === 0) return
  }
  // Announce a sleeper (2) before sleeping; whoever unlocks sees 2 and notifies.
  while (Atomics.exchange(i32, index, 2) !== 0) {
    Atomics.wait(i32, index, 2)
  }
}

export function unlock(i32: Int32Array, index: number): void {
  // 1 -> 0 with no sleeper; 2 -> store 0 then wake one sleeper.
  if (Atomics.sub(i32, index, 1) !== 1) {
    Atomics.store(i32, index, 0)
    Atomics.notify(i32, index, 1)
  }
  criticalLeave()
}
