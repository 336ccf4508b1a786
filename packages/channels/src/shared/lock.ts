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
 */

const SPINS = 100

export function lock(i32: Int32Array, index: number): void {
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
}
