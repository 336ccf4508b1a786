/**
 * Adaptive spinning before parking: how long an operation that would wait
 * reads shared memory (no lock, no writes) hoping the other side acts first.
 *
 * Why: parking costs a registration under the lock, a futex bump and notify
 * by the other side, and a wake-up (an event-loop turn for `Atomics.waitAsync`,
 * a futex syscall for `Atomics.wait`): microseconds, tens of them on a busy
 * machine. A value crossing between two running threads costs a round trip of
 * a cache line, ~0.1-1 µs. When the partner thread is active, a short spin
 * turns a park and a wake into that round trip.
 *
 * Rules:
 *  - Never on a one-core machine (`os.availableParallelism() === 1`): the
 *    partner cannot run while we spin, so every spin is lost time. Nor while
 *    the machine is oversubscribed (`spinAllowed`: load average > cores + 1).
 *  - Only when a handle of the other side is held in another thread (or is in
 *    flight): a partner in this thread cannot act while this thread spins
 *    (ring.ts `partnerElsewhere`).
 *  - Bounded: at most SPIN_MAX reads (tens of µs), then the operation parks
 *    as before. A main thread that spins therefore delays its timers and I/O
 *    by at most one bound per operation, and every completed async operation
 *    still yields a macrotask when the fairness rule says so (`yieldDue`).
 *  - Adaptive, per thread, channel and side (a new channel's budget starts
 *    where this thread's last budget of that side moved: `recentBudget`), to
 *    whether recent spins paid off: a spin that ends because the awaited
 *    change happened doubles the next budget (up to SPIN_MAX). One that runs
 *    out decides nothing yet: the operation parks, and when it completes, the
 *    time it was parked says whether a longer spin would have caught it.
 *    Parked for less than
 *    GROW_BELOW_MS (the partner came soon after): double. Longer (the partner
 *    was idle): halve, down to SPIN_MIN. Why not halve at once: two threads
 *    that hand values back and forth while both park pay a wake-up per value,
 *    and each one's partner then always arrives "a wake-up late", so a spin
 *    shorter than a wake-up always loses; halving on every loss locks such a
 *    pair into parking (measured: a size-0 hand-off stuck at two wake-ups per
 *    value). A spin long enough to cover one wake-up breaks the cycle, after
 *    which both sides are awake and every spin is short. But when a spin of
 *    SPIN_MAX lost and the park was still short, the partner was not running
 *    (more runnable threads than cores: parking gave it the core), and no
 *    spin helps: back to SPIN_MIN for a cooldown of 4 parks, doubled (up to
 *    64) each time this repeats before a spin of at least SPIN_MAX / 2 wins
 *    again. Why not 64 at once: a partner that was briefly descheduled (a
 *    V8 helper thread, another process) or sleeping in `sendSync`'s timed
 *    polls looks the same once, and 64 parks, each a wake-up on both sides,
 *    cost more than the spins they save (measured, int32 `sendSync` against a
 *    main thread `receiveMany(64)`: a few such misreads per run, then ~300
 *    parks at the minimum spin; 0.76x the time with this and the two spin
 *    changes of ring.ts, one A/B run). An idle partner (long parks) halves
 *    the budget down to SPIN_MIN reads per park.
 */
import { availableParallelism, loadavg } from 'node:os'

/**
 * Budgets count loop iterations of one or two `Atomics.load`s each; measured
 * on the 2-core VM under load, ~15-40 ns per iteration (V8 does not make an
 * Atomics.load loop as cheap as a plain one).
 */
/** The smallest budget: ~0.5-1 µs (~4 µs with `spinPause`), cheap enough to pay on every park. */
export const SPIN_MIN = 32
/** The largest budget: ~30-80 µs (~270 µs with `spinPause`), about one event-loop wake-up of the main thread. */
export const SPIN_MAX = 2048
const SPIN_START = 256

/**
 * False on a one-core machine: nothing else can run while this thread spins.
 * `GOTRIO_SHARED_SPIN=0` in the environment turns spinning off too (for
 * bisecting, and for comparing with and without it in one measurement run).
 */
export const CAN_SPIN = availableParallelism() > 1 && process.env.GOTRIO_SHARED_SPIN !== '0'

const CORES = availableParallelism()
/** How often (ms) `spinAllowed` re-reads the load average. */
const LOAD_CHECK_MS = 500
let nextLoadCheck = 0
let busy = false
/** Calls of `spinAllowed` between two reads of the clock (the first call reads it). */
const LOAD_CHECK_CALLS = 32
let callsToCheck = 1

/**
 * False while the machine is oversubscribed: the 1-minute load average is
 * above the number of cores plus one (read at most every 500 ms, and at most
 * every LOAD_CHECK_CALLS calls). Not "at
 * least the number of cores": two threads handing values to each other on a
 * 2-core machine are themselves a load of 2, and that is exactly the case
 * spinning is for; one more runnable thread than cores is tolerated, since the
 * average lags. Go's
 * scheduler spins only while some processor is idle, for the same reason:
 * with more runnable threads than cores, the partner we would wait for is
 * likely not running, and our spin takes the core it needs (measured on the
 * 2-core VM at load average ~20: a size-0 hand-off 1.7-3x slower with
 * spinning than without).
 */
export function spinAllowed(): boolean {
  if (!CAN_SPIN) return false
  // The clock only every LOAD_CHECK_CALLS calls: performance.now() costs ~48 ns
  // here, and a size-0 hand-off calls this on both sides of every value.
  if (--callsToCheck > 0) return !busy
  callsToCheck = LOAD_CHECK_CALLS
  const now = performance.now()
  if (now >= nextLoadCheck) {
    nextLoadCheck = now + LOAD_CHECK_MS
    // GOTRIO_SHARED_SPIN=1: whatever the load average (tests that must
    // exercise the spinning paths, such as the size-0 lock-free slot, on a
    // busy CI machine). Read here, so a thread started after it is set sees it
    // on its first operation.
    busy = process.env.GOTRIO_SHARED_SPIN !== '1' && loadavg()[0]! > CORES + 1
  }
  return !busy
}

/**
 * The budget this thread's budgets of each side (0 send, 1 receive) last
 * moved to: a new channel's budget starts there, not at SPIN_START. Why: a
 * thread that hands values over through one channel after another (the
 * seed's channel of channels: a new size-0 channel, and a new worker
 * producer, every 1,000 values) otherwise starts each channel cold, and two
 * cold budgets lose their spins to each other's wake-ups for several values
 * before they have grown (measured: 200 channels of 1,000 values cost
 * 1.9-2.3 us a value, 20 of 10,000 1.21-1.24 us).
 */
const recentBudget = [SPIN_START, SPIN_START]

export class SpinBudget {
  /** Reads the next spin may take (0: never spin). */
  n: number
  private readonly side: number

  /**
   * `useful`: false for a channel where spinning does not pay (ring.ts
   * `sendSpin`): never spin. `side`: 0 send, 1 receive; the budget starts
   * where this thread's last budget of that side was (`recentBudget`).
   */
  constructor(useful = true, side = 0) {
    this.side = side
    this.n = CAN_SPIN && useful ? recentBudget[side]! : 0
  }

  /** The awaited change came while spinning. */
  won(): void {
    if (this.n >= SPIN_MAX / 2) this.nextCooldown = COOLDOWN_MIN // long spins pay off: not oversubscribed
    if (this.n !== 0 && this.n < SPIN_MAX) {
      this.n <<= 1
      recentBudget[this.side] = this.n
    }
  }

  /** The cooldown the next lost full-length spin starts (COOLDOWN_MIN..COOLDOWN_MAX). */
  private nextCooldown = COOLDOWN_MIN

  /** Parks to wait out before growing on short parks again (after a full-length spin lost). */
  private cooldown = 0

  /** An operation of this side that spun and then parked completed after `ms` parked. */
  parked(ms: number): void {
    if (this.n === 0) return
    if (ms >= GROW_BELOW_MS) {
      if (this.n > SPIN_MIN) this.n >>= 1
    } else if (this.cooldown > 0) this.cooldown--
    else if (this.n < SPIN_MAX) this.n <<= 1
    else {
      // A full-length spin lost, yet the partner came soon after we parked:
      // it was not running meanwhile (more runnable threads than cores;
      // parking is what gave it the core). Spinning cannot help here: back
      // off to the minimum for a while.
      this.n = SPIN_MIN
      this.cooldown = this.nextCooldown
      if (this.nextCooldown < COOLDOWN_MAX) this.nextCooldown <<= 1
    }
    recentBudget[this.side] = this.n
  }
}

/** The first cooldown after a lost full-length spin, and the longest (parks at SPIN_MIN). */
export const COOLDOWN_MIN = 4
export const COOLDOWN_MAX = 64

/**
 * A park shorter than this (ms) would have been caught by a longer spin: grow.
 * It must exceed the wake-up itself, or every park looks long and the budget
 * only shrinks: measured on the 2-core VM (Node 24, 2026-12-02), a main thread
 * parked in `Atomics.waitAsync` resumes 130 / 170 / 258 µs (p10 / p50 / p90)
 * after the notify; a worker in `Atomics.wait` 11 / 17 / 120 µs. At 0.1 ms a
 * size-0 hand-off whose main side parked once stayed parked on every value
 * (both sides' parks were all "long", so both budgets sat at SPIN_MIN).
 */
export const GROW_BELOW_MS = 0.5

/**
 * Between two reads of shared memory a spin executes PAUSES `Atomics.pause()`
 * (x86 PAUSE, ~25 ns each here; Node 24+, absent on Node 22, where the loop
 * reads back to back). Why: the words a spinner reads share a cache line with
 * the lock and the counters the other thread writes in its critical section;
 * every read pulls that line back to the spinner's core, so the writer misses
 * on each of its next stores, and a critical section of a dozen stores took
 * microseconds. Reading every ~100 ns instead of every ~15 ns lets the writer
 * finish (crossbeam's Backoff spins with `spin_loop` hints for the same reason).
 * Measured on the seed's size-0 hand-off, worker producer to main, quiet
 * 2-core VM: 6.0-9.0 µs per value with pauses against 11.8-12.5 µs without.
 */
export const PAUSES = 4

const atomicsPause = (Atomics as unknown as { pause?: () => void }).pause
/** One spin step's pause (a no-op where `Atomics.pause` does not exist). */
export const spinPause: () => void =
  typeof atomicsPause === 'function'
    ? () => {
        for (let q = 0; q < PAUSES; q++) atomicsPause.call(Atomics)
      }
    : () => {}

/**
 * A spinner on a *locked* channel (size 0, or GOTRIO_SHARED_FAST=0) reads the
 * lock's own cache line (H_LIVE, H_HEAD_SEQ), which the partner writes a dozen
 * times inside each critical section, so it pauses LOCKED_SLOWER times as long
 * between reads, and its budget counts LOCKED_SLOWER times fewer reads (the same
 * time bound). Measured (ab.ts, 7 rounds interleaved, the seed's size-0
 * hand-off, worker producer to main): 0.83-0.84x the time of reading every
 * PAUSES pauses. 1 where `Atomics.pause` does not exist (Node 22). Fast
 * channels' spinners read a stamp or their own side's position, lines the
 * partner writes once per value: PAUSES suffices there.
 */
export const LOCKED_SLOWER = typeof atomicsPause === 'function' ? 4 : 1

/** One spin step on a locked channel: LOCKED_SLOWER times `spinPause` (see LOCKED_SLOWER). */
export const spinPauseLocked: () => void =
  typeof atomicsPause === 'function'
    ? () => {
        for (let q = 0; q < PAUSES * LOCKED_SLOWER; q++) atomicsPause.call(Atomics)
      }
    : () => {}
